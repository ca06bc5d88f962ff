"""report.html: one self-contained page per run or workspace, drawn from the ledger. Per tool: the score
distribution with its decision threshold, approved vs rejected findings, and the 10 most certain findings per
issue with their evidence (label probabilities, word diffs, highlighted overlaps); for the data: class balance
before and after (with rows added), duplicate cluster sizes, and contamination by benchmark.

Plots are matplotlib figures inlined as SVG: static, no JavaScript and no network (the page's CSP forbids any
request), small, and readable in any browser or mail client. Every row text is HTML-escaped.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from pathlib import Path
from typing import Any

from copilot.core.control_chars import visible
from copilot.ledger import Ledger
from copilot.review.evidence import Block, Display, evidence_blocks
from curation_tools.atomic_files import write_text_atomic
from curation_tools.registry import available_tools
from curation_tools.schema import ActionType, Finding

TOP = 10
MAX_BARS = 30  # classes in the balance chart; beyond, the most changed
TAGS = {"mark": "mark", "del": "del", "ins": "ins", "b": "b", "dim": "small"}
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 20px 60px;color:#222}
h1{margin-top:28px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:16px}.plots svg{max-width:100%;height:auto}
.finding{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:10px 0}
.block{margin:4px 0;white-space:pre-wrap}.title{color:#666;font-size:13px}
.outcome{font-weight:600;color:#2a5d9f}mark{background:#ffe27a}del{background:#fbd0d0}ins{background:#cdf3cd;text-decoration:none}small{color:#777}
"""


def escape(text: str) -> str:
    """Untrusted text as HTML: markup escaped, control characters and bidirectional overrides shown as symbols."""
    return html.escape(visible(text))


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # without the XML prolog and doctype


def _figure(title: str, width: float = 5.2):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(width, 3.0))
    axes.set_title(title, fontsize=11)
    return figure, axes


def _score_plot(tool: str, scores: list[float], threshold: float | None) -> str:
    figure, axes = _figure(f"{tool}: finding scores")
    axes.hist(scores, bins=20, range=(0, 1), color="#4c78a8")
    if threshold is not None:
        axes.axvline(threshold, color="#d62728", linestyle="--", label=f"threshold {threshold:g}")
        axes.legend(fontsize=9)
    axes.set_xlabel("score")
    axes.set_ylabel("findings")
    return _svg(figure)


def _bars(title: str, counts: dict[str, list[int]], series: list[str], xlabel: str = "") -> str:
    figure, axes = _figure(title, max(5.2, 0.28 * len(counts) * len(series) ** 0.5))
    names = list(counts)
    shown = [visible(str(name)) for name in names]  # class names are data: no control character in a chart
    width = 0.8 / len(series)
    for k, name in enumerate(series):
        axes.bar([i + k * width for i in range(len(names))], [counts[n][k] for n in names], width, label=name)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(names))], shown, rotation=45, ha="right")
    axes.tick_params(axis="x", labelsize=8)
    axes.set_xlabel(xlabel)
    if len(series) > 1:
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _svg(figure)


def _html_blocks(blocks: list[Block]) -> str:
    out = []
    for block in blocks:
        joiner = " " if block.words else ""  # a word diff's parts are words: spaced as the page spaces them
        parts = joiner.join(
            f"<{TAGS[p.style]}>{escape(p.text)}</{TAGS[p.style]}>" if p.style in TAGS else escape(p.text)
            for p in block.parts
        )
        out.append(f'<div class="block"><div class="title">{escape(block.title)}</div>{parts}</div>')
    return "".join(out)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _guidance_html(ledger: Ledger) -> str:
    rows = [
        [constraint, rule.source, rule.words, rule.parser]
        for rule in ledger.guidance_rules()
        for constraint in rule.guidance.describe()
    ]
    if not rows:
        return ""
    return "<h2>Guidance in force</h2>" + _table(["constraint", "from", "words", "read by"], rows)


def report_html(ledger: Ledger, title: str) -> str:
    first, current = ledger.dataset(1), ledger.dataset()
    texts = {**first.texts().to_dict(), **current.texts().to_dict()} if first.roles.text else {}
    label = ledger.roles.label
    names = ledger.label_names(1)
    specs = available_tools()
    displays = {name: Display(view=spec.evidence, fields=spec.evidence_fields) for name, spec in specs.items()}
    sections, decisions_rows, plots = [], [], []
    by_tool: dict[str, list[tuple[Finding, bool]]] = {}
    outcome: dict[str, str] = {}
    added: Counter[str] = Counter()
    thresholds: dict[str, float] = {}
    for info in ledger.decisions():
        proposal = ledger.proposal(info.proposal_id)
        approvals = ledger.approvals(info.decision_id)
        decisions_rows.append([info.decision_id, info.tool, info.decided_by, info.approved, info.rejected, info.status])
        by_tool.setdefault(info.tool, []).extend((f, approvals.get(f.finding_id, False)) for f in proposal.findings)
        outcome.update(ledger.outcomes(info, names))
        if info.status == "applied":
            for edit in ledger.edits_of(info.decision_id):
                if edit.action == ActionType.add_rows and label and isinstance(edit.new_value, dict):
                    added[str(edit.new_value.get(label))] += 1
        threshold_name = specs[info.tool].threshold if info.tool in specs else None  # the tool says which
        if threshold_name and proposal.params.get(threshold_name) is not None:
            thresholds[info.tool] = float(proposal.params[threshold_name])
    for tool, items in by_tool.items():
        approved = Counter(f.issue for f, ok in items if ok)
        rejected = Counter(f.issue for f, ok in items if not ok)
        issues = sorted(set(approved) | set(rejected))
        tool_plots = [_score_plot(tool, [f.score for f, _ in items], thresholds.get(tool))]
        tool_plots.append(
            _bars(f"{tool}: decisions", {i: [approved[i], rejected[i]] for i in issues}, ["approved", "rejected"])
        )
        cards = []
        for issue in issues:
            top = sorted((f for f, _ in items if f.issue == issue), key=lambda f: -f.score)[:TOP]
            cards.append(f"<h3>{escape(issue)}: the {len(top)} most certain</h3>")
            for finding in top:
                text = texts.get(finding.row_id, "")
                blocks = evidence_blocks(displays.get(tool, Display()), finding.evidence, text, names, texts)
                became = outcome.get(finding.finding_id, "not decided")
                cards.append(
                    f'<div class="finding"><b>{escape(finding.row_id)}</b> <small>score {finding.score:.2f}</small> '
                    f'<span class="outcome">{escape(became)}</span> '
                    f"{escape(finding.message)}{_html_blocks(blocks)}</div>"
                )
        sections.append(f"<h2>{escape(tool)}</h2><div class='plots'>{''.join(tool_plots)}</div>{''.join(cards)}")
    if label:
        before = first.labels().astype(str).value_counts()
        after = current.labels().astype(str).value_counts()
        classes = sorted(set(before.index) | set(after.index))
        counts = {c: [int(before.get(c, 0)), int(after.get(c, 0)), added[c]] for c in classes}
        chart = "class balance"
        if len(classes) > MAX_BARS:  # 151 classes of bars are unreadable: the ones that changed most
            changed = sorted(classes, key=lambda c: (-abs(counts[c][1] - counts[c][0]) - counts[c][2], c))
            classes = sorted(changed[:MAX_BARS])
            chart = f"class balance: the {MAX_BARS} of {len(counts)} classes that changed most"
        shown = {names.get(c, c)[:24]: counts[c] for c in classes}
        plots.append(_bars(chart, shown, ["before", "after", "added rows"]))

    def finding(kind: str) -> list[tuple[Finding, bool]]:  # the findings of tools that declare they find `kind`
        return [
            item for tool, items in by_tool.items() if tool in specs and specs[tool].finds == kind for item in items
        ]

    clusters = Counter(f.evidence.duplicate_of for f, ok in finding("duplicate") if f.evidence.duplicate_of)
    if clusters:
        sizes = Counter(n + 1 for n in clusters.values())  # the kept row and its copies
        plots.append(
            _bars(
                "duplicate clusters",
                {str(k): [v] for k, v in sorted(sizes.items())},
                ["clusters"],
                xlabel="rows in the cluster",
            )
        )
    leaks = Counter(str(f.evidence.benchmark) for f, ok in finding("leak") if ok and f.evidence.benchmark)
    if leaks:
        plots.append(_bars("contamination removed, by benchmark", {k: [v] for k, v in leaks.items()}, ["rows"]))
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>{ledger.n_rows(1)} rows in, {ledger.n_rows()} rows in v{ledger.head()}; source sha256 "
        f"<code>{escape(ledger.source.sha256)}</code></p>"
        + _guidance_html(ledger)
        + _table(["#", "tool", "decided by", "approved", "rejected", "status"], decisions_rows)
        + f"<h2>The data</h2><div class='plots'>{''.join(plots)}</div>"
        + "".join(sections)
        + "</body></html>"
    )


def write_report_html(ledger: Ledger, path: Path, title: str) -> Path:
    write_text_atomic(path, report_html(ledger, title))
    return path
