"""What the architecture promises and a grep can check: the renderers name no tool (a tool's findings show through
what its spec declares), and the review payload is typed from the graph to the screen."""

from __future__ import annotations

import re

from curation_tools.registry import available_tools

from .conftest import REPO

RENDERERS = [
    "copilot/outputs/report_html.py",
    "copilot/outputs/card.py",
    "copilot/review/evidence.py",
    "copilot/review/page.py",
    "copilot/review/sheet.py",
    "copilot/tui/review.py",
]


def test_no_renderer_names_a_tool():
    names = sorted(available_tools())
    for module in RENDERERS:
        text = (REPO / module).read_text()
        named = [n for n in names if re.search(rf"[\"']{re.escape(n)}[\"']", text)]
        assert not named, f"{module} names {named}: read what the tool's spec declares instead"


def test_the_review_payload_is_read_by_attribute_not_by_string_key():
    readers = [*RENDERERS, "copilot/cli/app.py", "copilot/cli/run.py", "copilot/tui/app.py", "copilot/run/session.py"]
    keys = ("finding_id", "proposal_id", "row_id", "evidence", "action")
    for module in readers:
        text = (REPO / module).read_text()
        # a pending finding or its detail (item, p, d, detail): not a row a file reader read (a sheet's CSV row)
        reads = [k for k in keys if re.search(rf"\b(item|p|d|detail)(\[\"{k}\"\]|\.get\(\"{k}\")", text)]
        assert not reads, f"{module} reads a pending finding's {reads} by string key"
