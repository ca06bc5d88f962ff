"""A review page: a waiting run's pending findings as one self-contained HTML file a person opens in a browser,
decides with the mouse or the keyboard, and exports as decisions.json for `curate run --resume DIR --decisions`.

Python decides what each finding shows (blocks of text parts: plain, overlap marks, removed and added words);
the page's script only draws them with textContent, keeps the choices (also in the browser's localStorage, so a
reload loses nothing) and writes the export. Row text is untrusted: it reaches the page as JSON inside a script
element with every <, > and & escaped, and a Content-Security-Policy forbids the page any network request.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from copilot.core.control_chars import visible
from copilot.review.marks import diff_parts, overlap_ranges
from curation_tools.atomic_files import write_text_atomic
from curation_tools.label_names import named_label

Part = list[str]  # [style, text]: style is "" | "mark" | "del" | "ins" | "dim" | "b"
Block = dict[str, Any]  # {"title": str, "parts": [Part, ...]}
NEIGHBOUR_TEXT = 160


def _label(value: Any, names: dict[str, str]) -> str:
    return "" if value is None else named_label(value, names.get(str(value)))


def _marked(text: str, ranges: list[tuple[int, int]]) -> list[Part]:
    parts, at = [], 0
    for start, end in ranges:
        if start < at:
            continue
        if start > at:
            parts.append(["", text[at:start]])
        parts.append(["mark", text[start:end]])
        at = end
    if at < len(text):
        parts.append(["", text[at:]])
    return parts


def _label_blocks(evidence: dict[str, Any], names: dict[str, str], texts: dict[str, str]) -> list[Block]:
    confidence = evidence.get("suggested_confidence")
    blocks: list[Block] = [
        {
            "title": "given label → suggested label",
            "parts": [
                ["b", _label(evidence.get("given_label"), names)],
                ["", "  →  "],
                ["b", _label(evidence.get("suggested_label"), names)],
                ["dim", f"  {confidence:.0%}" if confidence is not None else ""],
            ],
        }
    ]
    if evidence.get("top_classes"):
        listed = ", ".join(f"{_label(c['label'], names)} {c['probability']:.0%}" for c in evidence["top_classes"])
        blocks.append({"title": "the model's top classes", "parts": [["", listed]]})
    lines: list[Part] = []
    for n in evidence.get("neighbours") or []:
        text = texts.get(n["row_id"], "")
        text = text[:NEIGHBOUR_TEXT] + ("…" if len(text) > NEIGHBOUR_TEXT else "")
        label = _label(n.get("label"), names)
        lines += [["dim", f"{n['row_id']} · {label} · {n['similarity']:.2f}   "], ["", text + "\n"]]
    if lines:
        blocks.append({"title": "nearest rows (id · label · similarity)", "parts": lines})
    return blocks


def evidence_blocks(view: str, evidence: dict[str, Any], text: str, names: dict[str, str], texts: dict[str, str]):
    if view == "duplicates" and evidence.get("kept_text") is not None:
        kept = evidence["kept_text"]
        diff = [[{"same": "", "removed": "del", "added": "ins"}[kind], words] for kind, words in diff_parts(kept, text)]
        return [
            {"title": f"kept row {evidence.get('duplicate_of')}", "parts": [["", kept]]},
            {"title": "this row", "parts": [["", text]]},
            {"title": "what differs (kept → this row)", "parts": diff, "words": True},
        ]
    if view == "overlap" and evidence.get("benchmark_text") is not None:
        spans = evidence.get("overlapping_spans") or []
        bench = evidence["benchmark_text"]
        return [
            {
                "title": f"benchmark {evidence.get('benchmark')} · item {evidence.get('benchmark_item')}",
                "parts": _marked(bench, overlap_ranges(bench, spans)),
            },
            {"title": "this row", "parts": _marked(text, overlap_ranges(text, spans))},
        ]
    blocks = [{"title": "this row", "parts": [["", text]]}]
    if view == "labels" or evidence.get("suggested_label") is not None:
        return blocks + _label_blocks(evidence, names, texts)
    return blocks


def _proposed(action: dict[str, Any], names: dict[str, str]) -> str:
    kind = action.get("type", "")
    return f"{kind} → {_label(action['new_label'], names)}" if action.get("new_label") is not None else kind


def page_data(
    details: list[dict[str, Any]],
    *,
    run_dir: Path,
    texts: dict[str, str],
    views: dict[str, str],
    classes: list[str],
    names: dict[str, str],
    label_column: str | None,
) -> dict[str, Any]:
    """What the page shows, as JSON: one entry per pending finding (Session.pending_details), the label
    column's classes with their names (a new label is one of them), and the command to resume with."""
    findings = []
    for item in details:
        evidence = item.get("evidence") or {}
        row = item.get("row")
        text = texts.get(item.get("row_id") or "", "") if row is not None else ""
        view = views.get(item.get("tool") or "", "text")
        action = item.get("action") or {}
        findings.append(
            {
                "id": item["finding_id"],
                "tool": item.get("tool") or "",
                "issue": item.get("issue") or "",
                "score": f"{float(item.get('score', 0)):.2f}",
                "row_id": item.get("row_id") or "",
                "proposed": _proposed(action, names),
                "flag": action.get("type") == "flag",
                "message": item.get("message") or "",
                "removed": row is None,
                "fields": [[str(k), "" if v is None else str(v)] for k, v in (row or {}).items() if str(v) != text],
                "blocks": evidence_blocks(view, evidence, text, names, texts),
                "relabel": bool(classes) and (view == "labels" or action.get("new_label") is not None),
                "suggested": None if action.get("new_label") is None else str(action["new_label"]),
            }
        )
    ids = "\n".join(sorted(f["id"] for f in findings))
    return {
        "run": str(run_dir),
        "sheet_id": hashlib.sha256(f"{run_dir}\n{ids}".encode()).hexdigest()[:16],
        "label_column": label_column,
        "classes": [[c, _label(c, names)] for c in classes],
        "findings": findings,
    }


def script_json(data: Any) -> str:
    """JSON that cannot end the <script> element holding it, whatever the rows say; C1 controls and bidirectional
    overrides (which JSON leaves as they are) shown as symbols."""
    return (
        visible(json.dumps(data, ensure_ascii=False))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def write_review_html(data: dict[str, Any], path: Path) -> Path:
    template = files("copilot.review").joinpath("page.html").read_text(encoding="utf-8")
    write_text_atomic(path, template.replace("__REVIEW_DATA__", script_json(data), 1))
    return path
