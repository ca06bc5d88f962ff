"""Words to guidance, offline: a deterministic parser for the phrasings the README lists.

The text is cut into clauses (sentences, and clauses joined by ", and" / "but" that start a new instruction). Each
clause must become a constraint, or the purpose of the data ("an intent classifier for support tickets"); a clause
that is neither is returned in `refused` with its words, never dropped. Names are checked against the run: a class
must be one of the label column's classes, a column one of the data's, a benchmark one of the run's files, a
parameter one of the tool's with a value inside its bounds.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from copilot.core.guidance import Guidance, RowScope, benchmark_matches
from curation_tools.registry import available_tools

TOOL_WORDS = {
    "dedup": [
        "deduplication",
        "deduplicate",
        "dedupe",
        "dedup",
        "duplicate detection",
        "look for duplicates",
        "find duplicates",
        "duplicate checks",
        "duplicate check",
    ],
    "label-errors": [
        "label errors",
        "label error detection",
        "label-errors",
        "label checks",
        "mislabel detection",
        "look for label errors",
    ],
    "decontam": ["decontamination", "decontaminate", "decontam", "contamination checks", "contamination check"],
    "augment": ["augmentation", "augment", "synthetic rows", "synthetic data", "synthetic examples"],
}
DUPLICATE_WORDS = r"(?:near[- ]?)?(?:duplicates?|dups?|dupes?|paraphrases?|copies|rewordings?)"
CHANGE_VERBS = r"(?:change|touch|modify|edit|alter|fix|relabel|drop|remove|delete)"
NEGATION = r"(?:don'?t|do not|never|must not|mustn'?t|should not|shouldn'?t|no one should|nothing should)"
UNKNOWN = "not a phrasing curate knows"
# Every word a constraint's clause may hold besides the run's own names (classes, columns and their values, tools,
# issues, parameters, benchmark files) and numbers: a clause with any other word is refused, so "never touch rows
# labelled X and make them shine" is not read as its first half.
_READ_WORDS = """
don't dont do not never must mustn't should shouldn't no one nothing any anything the a an all every each of
to in on for from by with as is are be been was were it its they them their these those this that there
please just only also and or but so ever change changed changes touch modify edit alter fix relabel
relabelled relabeled relabeling relabelling relabels drop remove delete flip label labels labelled labeled
class classes intent intents row rows id ids keep kept leave alone protect protected hands off limits
verified correct right final fine trusted stay different distinct differ same separate purpose merge merged
confuse mix swap apart near duplicate duplicates dup dups dupe dupes paraphrase paraphrases copies copy
rewording rewordings exact semantic fuzzy similar intended intentional deliberate deliberately wanted flag
flags report list show dry read anything skip without run use bother dedup deduplication deduplicate dedupe
errors error detection checks check mislabel decontamination decontaminate decontam contamination
augmentation augment synthetic data examples against benchmark eval evaluation set test compare look leaks at
true false where whose equals team source curate we our my i you are split leak conflicting
"""
READ_WORDS = frozenset(_READ_WORDS.split())


class GuidanceVocabulary(BaseModel):
    """What the words may name in this run."""

    classes: list[str] = Field(default_factory=list)
    class_names: dict[str, str] = Field(default_factory=dict, description="class -> its name (coded labels)")
    columns: dict[str, list[str]] = Field(default_factory=dict, description="column -> its distinct values (few)")
    label_column: str | None = Field(None, description="the column of `classes`: rows scoped by it are a class")
    row_ids: list[str] = Field(default_factory=list)
    benchmarks: list[str] = Field(default_factory=list)


def scope_guidance(
    column: str, values: list[str], mode: Literal["only", "never"], vocab: GuidanceVocabulary
) -> Guidance:
    """Rows chosen by a column's values; on the label column, rows that never change are their classes protected
    (as "never touch rows labelled X" reads): a scope alone would still let other rows be relabelled into them."""
    if mode == "never" and column == vocab.label_column and values and set(values) <= set(vocab.classes):
        return Guidance(protected_classes=values)
    return Guidance(scope=[RowScope(column=column, values=values, mode=mode)])


@dataclass
class ParsedGuidance:
    guidance: Guidance
    understood: list[tuple[str, list[str]]] = field(default_factory=list)  # clause -> what it became
    refused: list[tuple[str, str]] = field(default_factory=list)  # clause -> why not

    @property
    def ok(self) -> bool:
        return not self.refused


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[\"`“”]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _loose(name: str) -> str:
    """A name as words: `card_arrival` reads 'card arrival'."""
    return re.sub(r"[\s_\-/]+", " ", name.lower()).strip()


def clauses(text: str, stops: str = ".;!?", split_joined: bool = True) -> list[str]:
    """Sentences (a full stop before a space or the end: 'bank_eval.jsonl' and '0.9' stay whole; any of `stops`; a
    new line), and (`split_joined`) clauses joined by ',', 'and' or 'but' that start a new instruction ('never
    relabel and leave X alone')."""
    out = []
    starts = rf"(?:{NEGATION}|keep|only|just|skip|protect|leave|check|use|set|run|treat|but)\b"
    ends = rf"[{re.escape(stops)}]+(?=\s|$)|\n+" if stops else r"\n+"
    joins = rf",\s*(?:and\s+|but\s+)?(?={starts})|\s+(?:and|but)\s+(?={starts})" if split_joined else r"(?!)"
    for part in re.split(ends, text):
        for piece in re.split(joins, part):
            if piece.strip(" ,"):
                out.append(piece.strip(" ,"))
    return out


class GuidanceParser:
    def __init__(self, vocabulary: GuidanceVocabulary) -> None:
        self.vocab = vocabulary
        names = {c: [c] for c in vocabulary.classes}
        for code, name in vocabulary.class_names.items():
            names.setdefault(code, [code]).append(name)
        # longest first: 'card_delivery_estimate' before 'card'
        self.class_forms = sorted(
            ((_loose(form), cls) for cls, forms in names.items() for form in forms), key=lambda p: -len(p[0])
        )

    def parse(self, text: str) -> ParsedGuidance:
        result = ParsedGuidance(Guidance())
        for clause in clauses(text):
            try:
                found = self.clause(_norm(clause))
            except ValueError as error:
                result.refused.append((clause, str(error)))
                continue
            if found is None:
                result.refused.append((clause, self._unknown(clause)))
                continue
            if found.model_copy(update={"purpose": ""}) != Guidance() and (left := self._unread(clause)):
                result.refused.append((clause, f"has words curate did not read: {', '.join(left[:6])}"))
                continue
            result.guidance = result.guidance.merged(found)
            result.understood.append((clause, found.describe() or [f"purpose: {found.purpose}"]))
        return result

    def _unknown(self, clause: str) -> str:
        """Why a clause is no phrasing: often a class name the data does not hold (a typo, another dataset)."""
        words = re.findall(r"[a-z][a-z0-9_\-]*", _norm(clause))
        classes = [c.lower() for c in self.vocab.classes]
        for word in words:
            if word in READ_WORDS or word in classes:
                continue
            near = difflib.get_close_matches(word, classes, n=1, cutoff=0.75)
            if near or "_" in word:
                hint = f" (did you mean {near[0]}?)" if near else ""
                return f"'{word}' is not a class of the label column{hint}"
        return UNKNOWN

    def _unread(self, clause: str) -> list[str]:
        """The clause's words that are neither phrasing words, nor the run's names, nor numbers."""
        names = {w for c in self.vocab.classes for w in (c.lower(), *_loose(c).split())}
        names |= {w for name in self.vocab.class_names.values() for w in _loose(name).split()}
        names |= {
            w
            for col, values in self.vocab.columns.items()
            for v in [col, *values]
            for w in (v.lower(), *_loose(v).split())
        }
        names |= {w for b in self.vocab.benchmarks for w in re.split(r"[^a-z0-9]+", _loose(b)) if w}
        names |= {
            n
            for b in self.vocab.benchmarks
            for n in (Path(b.split(":")[0]).stem.lower(), Path(b.split(":")[0]).name.lower())
        }
        names |= {w for i in self.vocab.row_ids for w in _loose(i).split()}
        for tool, spec in available_tools().items():
            names |= {tool, *tool.split("-")}
            names |= {w for t in spec.issue_types for w in (t, *t.split("_"))}
            names |= {w for p in spec.params_model.model_fields for w in (p, *p.split("_"))}
        words = re.findall(r"[a-z][a-z0-9_'\-]*", _norm(clause))
        return [w for w in words if w not in READ_WORDS and w not in names and w.strip("'") not in READ_WORDS]

    # ---- one clause --------------------------------------------------------------------------------------------
    def clause(self, c: str) -> Guidance | None:
        for reader in (
            self._flag_only,
            self._scope,
            self._classes,
            self._never_relabel,
            self._keep_issues,
            self._tools,
            self._benchmarks,
            self._params,
            self._rows,
            self._purpose,
        ):
            found = reader(c)
            if found is not None:
                return found
        return None

    def classes_in(self, c: str) -> list[str]:
        text = f" {_loose(c)} "
        found: list[str] = []
        for form, cls in self.class_forms:
            if f" {form} " in text and cls not in found:
                found.append(cls)
                text = text.replace(f" {form} ", " # ")
        return found

    def _flag_only(self, c: str) -> Guidance | None:
        if re.search(
            r"\b(?:only|just)\s+(?:flag|report|list|show)\b|\b(?:flag|report)\s+only\b|\bchange nothing\b"
            rf"|\b{NEGATION}\s+(?:change|touch|modify|edit|alter)\s+anything\b|\bread[- ]only\b|\bno changes\b"
            r"|\bdry[- ]run\b",
            c,
        ) and not self.classes_in(c):
            return Guidance(flag_only=True)
        return None

    def _classes(self, c: str) -> Guidance | None:
        found = self.classes_in(c)
        if not found:
            named = re.search(r"\b(?:labell?ed|class(?:es)?|intents?)\s+(?:as\s+)?(?P<name>[\w\-]+)", c)
            instructs = re.search(rf"\b{NEGATION}\b|\bprotect|\bleave\b|\bdiffer|\bdistinct\b|\bmerge\b", c)
            if named and instructs and self.vocab.classes and named.group("name") not in ("as", "and", "or"):
                shown = ", ".join(self.vocab.classes[:12]) + (", ..." if len(self.vocab.classes) > 12 else "")
                raise ValueError(f"names a class '{named.group('name')}' the label column does not hold ({shown})")
            return None
        if len(found) >= 2 and re.search(
            r"\b(?:differ|different|distinct|not the same|separate|on purpose|never merge|not merge|don'?t merge"
            r"|do not merge|confuse|mix)\w*",
            c,
        ):
            pairs = [(found[i], found[j]) for i in range(len(found)) for j in range(i + 1, len(found))]
            return Guidance(distinct=pairs)
        if re.search(
            rf"\b{NEGATION}\s+(?:ever\s+)?{CHANGE_VERBS}\b|\bprotect\w*\b|\bleave\b.*\balone\b|\bhands off\b"
            r"|\bkeep\b.*\bas (?:they are|it is|is)\b|\bare (?:correct|right|verified|final)\b|\boff[- ]limits\b",
            c,
        ):
            return Guidance(protected_classes=found)
        raise ValueError(
            f"names the class(es) {', '.join(found)} but says neither to protect them nor that they differ"
        )

    def _never_relabel(self, c: str) -> Guidance | None:
        if re.search(
            rf"\b{NEGATION}\s+(?:ever\s+)?(?:change|touch|modify|edit|alter|fix|flip)\s+(?:any\s+|the\s+|a\s+)?labels?\b"
            r"|\bno relabel\w*|\b(?:never|don'?t|do not)\s+relabel\b|\bkeep (?:all |the |every )?labels?\b"
            r"|\blabels? (?:are|is) (?:correct|right|fine|final|verified|trusted)\b|\blabels? stay\b",
            c,
        ):
            return Guidance(never_relabel=True)
        return None

    def _keep_issues(self, c: str) -> Guidance | None:
        keeps = re.search(
            rf"\bkeep\b.*\b{DUPLICATE_WORDS}|\b{NEGATION}\s+(?:drop|remove|delete|dedup\w*)\b.*\b{DUPLICATE_WORDS}"
            rf"|\b{DUPLICATE_WORDS}\b.*\b(?:are|were)\b.*\b(?:intended|intentional|on purpose|wanted|deliberate|fine)",
            c,
        )
        if not keeps:
            issue_names = {t: _loose(t) for spec in available_tools().values() for t in spec.issue_types}
            named = [t for t, words in issue_names.items() if words in _loose(c) and t != "augmentation"]
            if named and re.search(rf"\bkeep\b|\b{NEGATION}\s+(?:drop|remove|delete|fix)\b", c):
                return Guidance(keep_issues=named)
            return None
        if "exact" in c:
            issues = ["exact_duplicate"]
        elif "semantic" in c:
            issues = ["semantic_duplicate"]
        elif re.search(r"near|paraphras|reword|fuzzy|similar", c):
            issues = ["near_duplicate", "semantic_duplicate"]
        else:
            issues = ["exact_duplicate", "near_duplicate", "semantic_duplicate"]
        return Guidance(keep_issues=issues)

    def _tools_in(self, c: str) -> list[str]:
        return [tool for tool, words in TOOL_WORDS.items() if any(re.search(rf"\b{re.escape(w)}\b", c) for w in words)]

    def _tools(self, c: str) -> Guidance | None:
        tools = self._tools_in(c)
        if not tools:
            return None
        if re.search(r"\b(?:only|just)\b", c):
            return Guidance(tools_only=tools)
        if re.search(rf"\b(?:skip|without|no|{NEGATION}\s+(?:run|do|use|bother with))\b", c):
            return Guidance(tools_off=tools)
        return None

    def _benchmarks(self, c: str) -> Guidance | None:
        m = re.search(
            r"\b(?:check|decontaminate|test|compare|look for (?:leaks|contamination|copies))\b.*?"
            r"\b(?:against|with|in|of)\s+"
            r"(?:the\s+)?(?P<a>[\w\-. ]+?)(?:\s+(?:only|benchmark|eval(?:uation)? set|test set))?$"
            r"|\b(?:the\s+)?(?:benchmark|eval(?:uation)? set)\s+is\s+(?:the\s+)?(?P<b>[\w\- ]+)$"
            r"|^(?:the\s+)?(?P<c>[\w\- ]+?)\s+is\s+(?:the|our)\s+(?:benchmark|eval(?:uation)? set|test set)$",
            c,
        )
        if not m:
            return None
        name = re.sub(r"\s+only$", "", (m.group("a") or m.group("b") or m.group("c")).strip())
        files = [b for b in self.vocab.benchmarks if benchmark_matches(name, b)]
        if not files:
            known = ", ".join(self.vocab.benchmarks) or "none (pass --benchmark FILE)"
            raise ValueError(f"names a benchmark '{name}' that is none of this run's benchmark files ({known})")
        return Guidance(benchmarks=[name])

    def _params(self, c: str) -> Guidance | None:
        m = re.search(
            r"\b(?:(?P<tool>dedup|decontam|label-errors|augment)(?:'s)?\s+)?(?P<name>[a-z]+_[a-z_]+|folds|ratio|ngram|rule)"
            r"\s*(?:=|to|at|of)\s*(?P<value>-?\d+(?:\.\d+)?|true|false)\b",
            c,
        )
        if not m:
            return None
        wanted = m.group("name").replace(" ", "_")
        params = [
            (tool, param, info)
            for tool, spec in available_tools().items()
            for param, info in spec.params_model.model_fields.items()
            if param not in spec.run_owned
        ]
        hits = [p for p in params if p[1] == wanted and m.group("tool") in (None, p[0])]
        if not hits:
            return None
        tool, param, info = hits[0]
        raw = m.group("value")
        value: float | int | bool = (
            raw == "true" if raw in ("true", "false") else (float(raw) if "." in raw else int(raw))
        )
        try:
            TypeAdapter(Annotated[info.annotation, info]).validate_python(value)
        except ValidationError as error:
            raise ValueError(f"sets {tool}'s {param} to {raw}: {error.errors()[0]['msg']}") from None
        return Guidance(params={tool: {param: value}})

    def _scope(self, c: str) -> Guidance | None:
        m = re.search(
            r"\brows?\s+(?:where|whose|with)\s+(?:the\s+)?(?P<col>[\w\- ]+?)\s+(?:is|=|==|equals|in)\s+(?P<vals>.+)$", c
        )
        by_value = re.search(
            r"\brows?\s+(?:from|by|of)\s+(?:the\s+)?(?P<vals>[\w\- ]+?)(?:\s+team|\s+source)?(?:\s+alone)?$", c
        )
        if not m and not by_value:
            return None
        mode = "never" if re.search(rf"\b{NEGATION}\b|\bleave\b|\bprotect\w*\b|\bexcept\b|\bexclude\b", c) else "only"
        if m:
            column = next((col for col in self.vocab.columns if _loose(col) == _loose(m.group("col"))), None)
            if column is None:
                raise ValueError(
                    f"names a column '{m.group('col')}' the data does not have ({', '.join(self.vocab.columns)})"
                )
            wanted = [
                v.strip() for v in re.split(r"\s*(?:,|\bor\b|\band\b)\s*", re.sub(r"\s+alone$", "", m.group("vals")))
            ]
            return scope_guidance(column, self._values(column, [w for w in wanted if w]), mode, self.vocab)
        assert by_value is not None
        word = by_value.group("vals").strip()
        for column in self.vocab.columns:
            hits = [v for v in self.vocab.columns[column] if _loose(v) == _loose(word)]
            if hits:
                return scope_guidance(column, hits, mode, self.vocab)
        return None

    def _values(self, column: str, wanted: list[str]) -> list[str]:
        known = self.vocab.columns[column]
        out = []
        for w in wanted:
            hit = next((v for v in known if _loose(v) == _loose(w)), None)
            if hit is None:
                shown = ", ".join(known[:12])
                raise ValueError(f"names a value '{w}' that column {column} does not hold ({shown})")
            out.append(hit)
        return out

    def _rows(self, c: str) -> Guidance | None:
        m = re.search(
            rf"\b(?:{NEGATION}\s+{CHANGE_VERBS}|protect|leave)\b.*\brows?\s+(?:ids?\s+)?(?P<ids>[\w\-]+(?:\s*(?:,|and)\s*[\w\-]+)*)",
            c,
        )
        if not m:
            return None
        ids = [i for i in re.split(r"\s*(?:,|\band\b)\s*", m.group("ids")) if i]
        known = {i.lower(): i for i in self.vocab.row_ids}  # the clause is read lower-cased; ids keep their case
        missing = [i for i in ids if i.lower() not in known]
        if missing:
            raise ValueError(f"names row(s) {', '.join(missing[:5])} the data does not have")
        return Guidance(protected_rows=[known[i.lower()] for i in ids])

    def _purpose(self, c: str) -> Guidance | None:
        if re.search(
            r"\b(?:classifier|model|dataset|data set|corpus|assistant|chatbot|bot|benchmark|training data"
            r"|fine-?tun\w*)\b",
            c,
        ) and not re.search(rf"\b{NEGATION}\b|\bkeep\b|\bonly\b", c):
            return Guidance(purpose=c)
        return None
