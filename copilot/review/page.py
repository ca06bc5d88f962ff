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
from copilot.core.decisions import PendingDetail
from copilot.review.evidence import Block, Display, evidence_blocks
from curation_tools.atomic_files import write_text_atomic
from curation_tools.label_names import named_label


def _label(value: Any, names: dict[str, str]) -> str:
    return "" if value is None else named_label(value, names.get(str(value)))


def _proposed(detail: PendingDetail, names: dict[str, str]) -> str:
    kind = detail.action.type.value
    return f"{kind} → {_label(detail.action.new_label, names)}" if detail.action.new_label is not None else kind


def block_json(block: Block) -> dict[str, Any]:
    """A block as the page's script draws it: {"title", "parts": [[style, text], ...], "words"}."""
    return {"title": block.title, "parts": [[p.style, p.text] for p in block.parts], "words": block.words}


def page_data(
    details: list[PendingDetail],
    *,
    run_dir: Path,
    texts: dict[str, str],
    displays: dict[str, Display],
    classes: list[str],
    names: dict[str, str],
    label_column: str | None,
) -> dict[str, Any]:
    """What the page shows, as JSON: one entry per pending finding (Session.pending_details), the label
    column's classes with their names (a new label is one of them), and the command to resume with."""
    findings = []
    for item in details:
        text = texts.get(item.row_id, "") if item.row is not None else ""
        display = displays.get(item.tool, Display())
        new_label = item.action.new_label
        findings.append(
            {
                "id": item.finding_id,
                "tool": item.tool,
                "issue": item.issue,
                "score": f"{item.score:.2f}",
                "row_id": item.row_id,
                "proposed": _proposed(item, names),
                "flag": item.action.type.value == "flag",
                "message": item.message,
                "removed": item.row is None,
                "fields": [
                    [str(k), "" if v is None else str(v)] for k, v in (item.row or {}).items() if str(v) != text
                ],
                "blocks": [block_json(b) for b in evidence_blocks(display, item.evidence, text, names, texts)],
                "relabel": bool(classes) and (display.view == "labels" or new_label is not None),
                "suggested": None if new_label is None else str(new_label),
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
