"""One view of a finding's evidence for every screen: blocks of styled text parts, built from what the tool declares
(its spec's `evidence` view and `evidence_fields`), drawn by the TUI (rich styles), the review page and report.html
(HTML tags) and flattened into words by the review sheet. No renderer knows a tool: a new tool's findings show
everywhere through its declaration."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from copilot.review.marks import diff_parts, overlap_ranges
from curation_tools.label_names import named_label
from curation_tools.schema import Evidence, EvidenceField, EvidenceView

NEIGHBOUR_TEXT = 160
DIFF_STYLE = {"same": "", "removed": "del", "added": "ins"}

Style = Literal["", "mark", "del", "ins", "dim", "b"]


class Part(BaseModel):
    style: Style = ""
    text: str


class Block(BaseModel):
    title: str
    parts: list[Part]
    words: bool = Field(False, description="the parts are a word diff's runs of words: drawn with spaces between")

    def plain(self) -> str:
        return (" " if self.words else "").join(p.text for p in self.parts)


class Display(BaseModel):
    """How a tool's findings are shown: its spec's view and its own evidence fields."""

    view: EvidenceView = "text"
    fields: list[EvidenceField] = Field(default_factory=list)


def _label(value: Any, names: dict[str, str], name: Any = None) -> str:
    return "" if value is None else named_label(value, names.get(str(value), name))


def _marked(text: str, ranges: list[tuple[int, int]]) -> list[Part]:
    parts, at = [], 0
    for start, end in ranges:
        if start < at:
            continue
        if start > at:
            parts.append(Part(text=text[at:start]))
        parts.append(Part(style="mark", text=text[start:end]))
        at = end
    if at < len(text):
        parts.append(Part(text=text[at:]))
    return parts


def _diff(before: str, after: str) -> list[Part]:
    return [Part(style=DIFF_STYLE[kind], text=words) for kind, words in diff_parts(before, after)]  # type: ignore[arg-type]


def _label_blocks(e: Evidence, names: dict[str, str], texts: dict[str, str]) -> list[Block]:
    confidence = f"  {e.suggested_confidence:.0%}" if e.suggested_confidence is not None else ""
    blocks = [
        Block(
            title="given label → suggested label",
            parts=[
                Part(style="b", text=_label(e.given_label, names, e.given_label_name)),
                Part(text="  →  "),
                Part(style="b", text=_label(e.suggested_label, names, e.suggested_label_name)),
                Part(style="dim", text=confidence),
            ],
        )
    ]
    if e.top_classes:
        listed = ", ".join(f"{_label(c.label, names)} {c.probability:.0%}" for c in e.top_classes)
        blocks.append(Block(title="the model's top classes", parts=[Part(text=listed)]))
    lines: list[Part] = []
    for n in e.neighbours or []:
        text = texts.get(n.row_id, "")
        text = text[:NEIGHBOUR_TEXT] + ("…" if len(text) > NEIGHBOUR_TEXT else "")
        lines += [
            Part(style="dim", text=f"{n.row_id} · {_label(n.label, names)} · {n.similarity:.2f}   "),
            Part(text=text + "\n"),
        ]
    if lines:
        blocks.append(Block(title="nearest rows (id · label · similarity)", parts=lines))
    return blocks


def _view_blocks(
    view: EvidenceView, e: Evidence, text: str, names: dict[str, str], texts: dict[str, str]
) -> list[Block]:
    this_row = Block(title="this row", parts=[Part(text=text)])
    if view == "duplicates" and e.kept_text is not None:
        return [
            Block(title=f"kept row {e.duplicate_of}", parts=[Part(text=e.kept_text)]),
            this_row,
            Block(title="what differs (kept → this row)", parts=_diff(e.kept_text, text), words=True),
        ]
    if view == "overlap" and e.benchmark_text is not None:
        spans = e.overlapping_spans or []
        return [
            Block(
                title=f"benchmark {e.benchmark} · item {e.benchmark_item}",
                parts=_marked(e.benchmark_text, overlap_ranges(e.benchmark_text, spans)),
            ),
            Block(title="this row", parts=_marked(text, overlap_ranges(text, spans))),
        ]
    if view == "edit" and e.after is not None:
        before = e.before if e.before is not None else text
        return [
            Block(title="before", parts=[Part(text=before)]),
            Block(title="after", parts=[Part(text=e.after)]),
            Block(title="what changes (before → after)", parts=_diff(before, e.after), words=True),
        ]
    if view == "labels" or e.suggested_label is not None:
        return [this_row, *_label_blocks(e, names, texts)]
    return [this_row]


def _field_text(value: Any, field: EvidenceField, names: dict[str, str]) -> str:
    if field.kind == "label":
        return _label(value, names)
    if field.kind == "list" and isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if field.kind == "number" and isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def evidence_blocks(
    display: Display, evidence: Evidence, text: str, names: dict[str, str], texts: dict[str, str]
) -> list[Block]:
    """A finding's evidence as blocks: the tool's view (`display.view`) of its row's `text`, then each of the tool's
    own declared fields the evidence holds. `names` names coded labels; `texts` holds other rows' texts (the
    nearest rows of a label finding)."""
    blocks = _view_blocks(display.view, evidence, text, names, texts)
    extra = evidence.model_extra or {}
    for field in display.fields:
        value = extra.get(field.name, getattr(evidence, field.name, None))
        if value is not None:
            blocks.append(Block(title=field.title, parts=[Part(text=_field_text(value, field, names))]))
    return blocks
