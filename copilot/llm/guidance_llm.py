"""Words to guidance with an LLM, in two small questions a small model can answer.

1. Each sentence gets one kind, an enum of the kinds this data can have plus `no_instruction` (a sentence that
   only describes the data or gives a reason).
2. The names the kind needs (classes, tools, a column's value, a benchmark file) are read from the sentence where
   it spells them out exactly once; otherwise the model picks them from enums of this run's names.

The answer becomes a `Guidance` checked like the offline parser's. A sentence the model calls `no_instruction` but
that holds instruction words ("must", "never", "only", ...) is refused, as are words with no constraint at all:
never dropped.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from copilot.core.guidance import Guidance
from copilot.core.prompts import load_prompt
from copilot.llm.client import InvalidLLMOutput
from copilot.review.guidance_words import (
    NEGATION,
    TOOL_WORDS,
    GuidanceParser,
    GuidanceVocabulary,
    ParsedGuidance,
    clauses,
    scope_guidance,
)

KINDS = {  # kind -> what it means, with ways people say it
    "never_relabel": "no label may be changed on any row ('do not change labels', 'the labels are final')",
    "flag_only": "the data must not change at all, only a report of problems ('read-only audit', 'just show me')",
    "protect_classes": "the rows of one or more named classes must not change ('X rows are verified', 'leave X "
    "alone', 'X tickets were checked by hand')",
    "distinct_classes": "two named classes differ on purpose: never merged, never moved from one to the other",
    "keep_near_duplicates": "near duplicates, paraphrases or reworded copies are intended and stay",
    "keep_exact_duplicates": "identical repeated rows are intended and stay",
    "tools_off": "do not run these tools ('no augmentation')",
    "tools_only": "run only these tools ('just deduplicate')",
    "only_rows": "changes are allowed only on rows whose column has one value ('only fix the web rows')",
    "never_rows": "rows whose column has one value must never change ('rows from legal stay as they are')",
    "benchmark_only": "this benchmark file is the evaluation set to check contamination against",
    "benchmark_skip": "this benchmark file is not an evaluation set: do not check contamination against it",
    "no_instruction": "the sentence only describes the data or gives a reason; it asks for nothing",
}
NEEDS = {
    "protect_classes": "classes",
    "distinct_classes": "classes",
    "tools_off": "tools",
    "tools_only": "tools",
    "only_rows": "rows",
    "never_rows": "rows",
    "benchmark_only": "benchmark",
    "benchmark_skip": "benchmark",
}
# A sentence holding one of these asks for something: it may not be waved through as a description.
INSTRUCTING = re.compile(
    rf"\b(?:{NEGATION}|please|must|should|keep|leave|only|ignore|avoid|stop|remove|drop|change|edit|touch)\b", re.I
)


def instruction_clauses(words: str) -> list[str]:
    """Sentences (';' does not end one: "X rows are gold; keep them"), cut into the offline parser's clauses only
    where each piece holds an instruction word: "The X tickets are gold, keep them as they are" stays one clause,
    "never relabel and keep the near duplicates" is two."""
    out: list[str] = []
    for sentence in clauses(words, stops=".!?", split_joined=False):
        pieces: list[str] = []
        for piece in clauses(sentence, stops=""):
            if pieces and not INSTRUCTING.search(pieces[-1]):
                pieces[-1] = f"{pieces[-1]}, {piece}"
            else:
                pieces.append(piece)
        if len(pieces) > 1 and not INSTRUCTING.search(pieces[-1]):
            pieces[-2:] = [f"{pieces[-2]}, {pieces[-1]}"]
        out += pieces
    return out


def kinds_for(vocab: GuidanceVocabulary) -> list[str]:
    """The kinds this data can have: no row scope without a column to scope by, no benchmark without files."""
    drop = set()
    if not vocab.columns:
        drop |= {"only_rows", "never_rows"}
    if not vocab.benchmarks:
        drop |= {"benchmark_only", "benchmark_skip"}
    if len(vocab.benchmarks) < 2:
        drop.add("benchmark_skip")  # skipping the only file is turning decontam off
    if not vocab.classes:
        drop |= {"protect_classes", "distinct_classes", "never_relabel"}
    return [k for k in KINDS if k not in drop]


def _name(spec: str) -> str:
    from curation_tools.benchmark_files import parse_spec

    return parse_spec(spec)[0].stem


def _enum(values: list[str]) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


class GuidanceReader:
    """Reads one person's words against this run's names."""

    def __init__(self, client: Any, vocab: GuidanceVocabulary) -> None:
        self.client, self.vocab = client, vocab
        self.kinds = kinds_for(vocab)
        self.files = [_name(b) for b in vocab.benchmarks]
        self.names = GuidanceParser(vocab)

    def read(self, words: str) -> ParsedGuidance:
        parsed = ParsedGuidance(Guidance())
        for sentence in instruction_clauses(words):
            try:
                kind = self._kind(words, sentence)
                if kind == "no_instruction":
                    if INSTRUCTING.search(sentence):
                        parsed.refused.append((sentence, "the model found no constraint in an instruction"))
                    continue
                part = self._constraint(kind, words, sentence)
            except (ValueError, InvalidLLMOutput) as error:
                parsed.refused.append((sentence, str(error)))
                continue
            parsed.guidance = parsed.guidance.merged(part)
            parsed.understood.append((sentence, part.describe()))
        if not parsed.understood and not parsed.refused and words.strip():
            parsed.refused.append((words, "the model found no constraint in it"))
        return parsed

    def _ask(
        self, part: str, schema: type[BaseModel], check: Any = None, kinds: tuple[str, ...] = (), **values: str
    ) -> BaseModel:
        system, user = load_prompt(part).render(
            classes=", ".join(self.vocab.classes) or "(no label column)",
            columns="; ".join(f"{c}: {', '.join(v[:12])}" for c, v in self.vocab.columns.items()) or "(none)",
            benchmarks=", ".join(self.files) or "(none)",
            **values,
        )
        listed = "\n".join(f"- {k}: {KINDS[k]}" for k in kinds)
        system = system.replace("{kinds}", listed).replace("{kind}", values.get("kind", ""))
        return self.client.chat_json(system, user, schema, repairs=2, purpose="guidance", check=check)

    def _spelled_in(self, words: str, names: list[str]) -> list[str]:
        return [n for n in names if re.search(rf"(?<![\w-]){re.escape(n.lower())}(?![\w-])", words.lower())]

    def _kind(self, words: str, sentence: str) -> str:
        """The sentence's kind, from the kinds whose names the words can fill: a row scope only where the words
        spell one of a column's values, a benchmark only where they spell a file's name."""
        values = [v for vs in self.vocab.columns.values() for v in vs]
        offered = [
            k
            for k in self.kinds
            if (NEEDS.get(k) != "rows" or self._spelled_in(words, values))
            and (NEEDS.get(k) != "benchmark" or self._spelled_in(words, self.files))
        ]
        schema = create_model("SentenceKind", kind=(_enum(offered), ...))
        answer = self._ask("guidance", schema, kinds=tuple(offered), words=words, sentence=sentence)
        return answer.model_dump()["kind"]

    def _constraint(self, kind: str, words: str, sentence: str) -> Guidance:
        if kind == "never_relabel":
            return Guidance(never_relabel=True)
        if kind == "flag_only":
            return Guidance(flag_only=True)
        if kind in ("keep_near_duplicates", "keep_exact_duplicates"):
            near = kind == "keep_near_duplicates"
            return Guidance(keep_issues=["near_duplicate", "semantic_duplicate"] if near else ["exact_duplicate"])
        names = self._spelled(kind, sentence)
        if names is None:
            schema = self._names_model(kind)
            answer = self._ask(
                "guidance_names",
                schema,
                check=lambda a: self._from_names(kind, a.model_dump()),
                words=words,
                sentence=sentence,
                kind=f"{kind}: {KINDS[kind]}",
            )
            names = answer.model_dump()
        return self._from_names(kind, names)

    def _spelled(self, kind: str, sentence: str) -> dict[str, Any] | None:
        """The names a sentence spells out, when they are exactly what the kind needs."""
        text, need = sentence.lower(), NEEDS[kind]
        if need == "classes":
            found = self.names.classes_in(text)
            wanted = len(found) == 2 if kind == "distinct_classes" else len(found) >= 1
            return {"classes": found} if wanted else None
        if need == "tools":
            tools = [
                t for t, forms in TOOL_WORDS.items() if any(re.search(rf"\b{re.escape(f)}\b", text) for f in forms)
            ]
            return {"tools": tools} if tools else None
        if need == "rows":
            hits = [
                (column, value)
                for column, values in self.vocab.columns.items()
                for value in values
                if re.search(rf"\b{re.escape(value.lower())}\b", text)
            ]
            return {"column": hits[0][0], "value": hits[0][1]} if len(hits) == 1 else None
        files = [f for f in self.files if re.search(rf"\b{re.escape(f.lower())}\b", text)]
        return {"benchmark": files[0]} if len(files) == 1 else None

    def _names_model(self, kind: str) -> type[BaseModel]:
        need = NEEDS[kind]
        if need == "classes":
            fields: dict[str, Any] = {"classes": (list[_enum(self.vocab.classes)], Field(default_factory=list))}
        elif need == "tools":
            fields = {"tools": (list[_enum(list(TOOL_WORDS))], Field(default_factory=list))}
        elif need == "rows":
            fields = {"column": (_enum(list(self.vocab.columns)), ...), "value": (str, ...)}  # checked in _from_names
        else:
            fields = {"benchmark": (_enum(self.files), ...)}
        return create_model("Names", **fields)

    def _from_names(self, kind: str, names: dict[str, Any]) -> Guidance:
        """The constraint; a name list that does not fit the kind is a ValueError (sent back to the model)."""
        if kind in ("protect_classes", "distinct_classes"):
            classes = list(dict.fromkeys(names.get("classes") or []))
            if kind == "distinct_classes":
                if len(classes) != 2:
                    raise ValueError("distinct_classes needs exactly two classes")
                return Guidance(distinct=[(classes[0], classes[1])])
            if not classes:
                raise ValueError("protect_classes needs the classes")
            return Guidance(protected_classes=classes)
        if kind in ("tools_off", "tools_only"):
            if not names.get("tools"):
                raise ValueError(f"{kind} needs the tools")
            return Guidance(**{kind: names["tools"]})
        if kind in ("only_rows", "never_rows"):
            column, value = names.get("column") or "", str(names.get("value") or "")
            known = {v.lower(): v for v in self.vocab.columns.get(column, [])}
            if value.lower() not in known:
                raise ValueError(f"{kind} needs one of column {column!r}'s values: {list(known.values())}")
            return scope_guidance(
                column, [known[value.lower()]], "never" if kind == "never_rows" else "only", self.vocab
            )
        chosen = names["benchmark"]
        if kind == "benchmark_skip":
            return Guidance(benchmarks=[f for f in self.files if f != chosen])
        return Guidance(benchmarks=[chosen])


def parse_with_llm(client: Any, words: str, vocab: GuidanceVocabulary) -> ParsedGuidance:
    return GuidanceReader(client, vocab).read(words)
