"""Words to guidance with an LLM: the model fills a small JSON object whose names are enums of this run's classes,
columns, tools and benchmark files (a local endpoint constrains the answer to that schema); the answer becomes a
`Guidance` checked like the offline parser's. Parts the model lists as `not_understood`, or an answer with no
constraint for non-empty words, are refused, never dropped."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from copilot.core.guidance import Guidance, RowScope
from copilot.core.prompts import load_prompt
from copilot.review.guidance_words import TOOL_WORDS, GuidanceVocabulary, ParsedGuidance

KINDS = {  # kind -> what it means, with two ways people say it
    "never_relabel": "labels must not be changed ('do not change labels', 'the labels are final')",
    "flag_only": "change nothing at all, only report ('just show me the problems', 'read-only audit')",
    "protect_classes": "rows of these classes must never be touched ('X rows are verified', 'leave X alone')",
    "distinct_classes": "two classes differ on purpose, never merged or swapped ('X and Y are not the same')",
    "keep_near_duplicates": "near duplicates or paraphrases are intended ('the paraphrases are on purpose')",
    "keep_exact_duplicates": "exact duplicates are intended ('repeated rows are wanted')",
    "tools_off": "do not run these tools ('no augmentation')",
    "tools_only": "run only these tools ('just deduplicate')",
    "only_rows": "only rows whose column has this value may change ('only fix the web rows')",
    "never_rows": "rows whose column has this value must never change ('rows from legal stay as they are')",
    "benchmark_only": "check contamination only against this benchmark file ('our eval set is the X file')",
}


def kinds_for(vocab: GuidanceVocabulary) -> list[str]:
    """The kinds this data can have: no row scope without a column to scope by, no benchmark without files."""
    drop = set()
    if not vocab.columns:
        drop |= {"only_rows", "never_rows"}
    if not vocab.benchmarks:
        drop.add("benchmark_only")
    if not vocab.classes:
        drop |= {"protect_classes", "distinct_classes", "never_relabel"}
    return [k for k in KINDS if k not in drop]


def _enum(values: list[str]) -> Any:
    return Literal[tuple(values)] if values else None  # type: ignore[return-value]


def answer_model(vocab: GuidanceVocabulary) -> type[BaseModel]:
    """One item per instruction: its kind (an enum) and the names it needs, each an enum of this run's names."""
    names: dict[str, Any] = {"kind": (Literal[tuple(kinds_for(vocab))], ...)}  # type: ignore[valid-type]
    if (classes := _enum(vocab.classes)) is not None:
        names["classes"] = (list[classes], Field(default_factory=list))
    names["tools"] = (list[Literal[tuple(TOOL_WORDS)]], Field(default_factory=list))  # type: ignore[valid-type]
    if (columns := _enum(list(vocab.columns))) is not None:
        names["column"] = (columns | None, None)
        names["value"] = (str | None, None)
    if (files := _enum([_name(b) for b in vocab.benchmarks])) is not None:
        names["benchmark"] = (files | None, None)
    item = create_model("Instruction", **names)
    return create_model(
        "GuidanceAnswer",
        instructions=(list[item], Field(default_factory=list)),
        not_understood=(list[str], Field(default_factory=list)),
    )


def _name(spec: str) -> str:
    from curation_tools.benchmark_files import parse_spec

    return parse_spec(spec)[0].stem


def to_guidance(answer: BaseModel, vocab: GuidanceVocabulary) -> Guidance:
    """The model's answer as Guidance; an instruction missing what its kind needs, or a row value the column does
    not hold, is a ValueError (sent back to the model to repair)."""
    out = Guidance()
    for item in answer.model_dump()["instructions"]:
        kind, classes = item["kind"], list(dict.fromkeys(item.get("classes") or []))
        if kind == "never_relabel":
            part = Guidance(never_relabel=True)
        elif kind == "flag_only":
            part = Guidance(flag_only=True)
        elif kind == "protect_classes":
            if not classes:
                raise ValueError("protect_classes needs the classes")
            part = Guidance(protected_classes=classes)
        elif kind == "distinct_classes":
            if len(classes) != 2:
                raise ValueError("distinct_classes needs exactly two classes")
            part = Guidance(distinct=[(classes[0], classes[1])])
        elif kind in ("keep_near_duplicates", "keep_exact_duplicates"):
            near = kind == "keep_near_duplicates"
            part = Guidance(keep_issues=["near_duplicate", "semantic_duplicate"] if near else ["exact_duplicate"])
        elif kind in ("tools_off", "tools_only"):
            if not item["tools"]:
                raise ValueError(f"{kind} needs the tools")
            part = Guidance(**{kind: item["tools"]})
        elif kind in ("only_rows", "never_rows"):
            column, value = item.get("column"), str(item.get("value") or "")
            known = {v.lower(): v for v in vocab.columns.get(column or "", [])}
            if value.lower() not in known:
                raise ValueError(
                    f"{kind} needs a column and one of its values (column {column!r}: {list(known.values())})"
                )
            part = Guidance(scope=[RowScope(column=column, values=[known[value.lower()]], mode=kind.split("_")[0])])
        else:
            if not item.get("benchmark"):
                raise ValueError("benchmark_only needs the benchmark")
            part = Guidance(benchmarks=[item["benchmark"]])
        out = out.merged(part)
    return out


def parse_with_llm(client: Any, words: str, vocab: GuidanceVocabulary) -> ParsedGuidance:
    prompt = load_prompt("guidance")
    system, user = prompt.render(
        classes=", ".join(vocab.classes) or "(no label column)",
        columns="; ".join(f"{c}: {', '.join(v[:12])}" for c, v in vocab.columns.items()) or "(none)",
        benchmarks=", ".join(_name(b) for b in vocab.benchmarks) or "(none)",
        words=words,
    )
    system = system.replace("{kinds}", "\n".join(f"- {kind}: {KINDS[kind]}" for kind in kinds_for(vocab)))
    model = answer_model(vocab)
    answer = client.chat_json(system, user, model, repairs=2, purpose="guidance", check=lambda a: to_guidance(a, vocab))
    guidance = to_guidance(answer, vocab)
    parsed = ParsedGuidance(guidance)
    left = [w for w in answer.model_dump()["not_understood"] if w.strip() and w.strip() != words.strip()]
    if not answer.model_dump()["instructions"] and words.strip():
        left = left or [words]
    if left:
        parsed.refused += [(w, "the model could not express it as a constraint") for w in left]
    elif guidance.is_empty():
        parsed.refused.append((words, "the model found no constraint in it"))
    else:
        parsed.understood.append((words, guidance.describe()))
    return parsed
