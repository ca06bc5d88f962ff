"""The review screen: one proposal at a time, findings by score, evidence for the selected one, one key per
decision. It returns {finding_id: FindingDecision} (made by "human") for the findings of all proposals.

Given a `save` callback it keeps the review as a draft after every answer and cursor move (the Session stores
it), and opens again where the draft left off: quitting half-way through 500 findings loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.widgets.data_table import CellDoesNotExist

from copilot.core.control_chars import visible
from copilot.core.decisions import HUMAN, FindingDecision, ReviewDraft, as_decision
from copilot.review.evidence import Block, Display, evidence_blocks
from copilot.review.learning import RuleSuggestion, queue_of
from copilot.tui.label_picker import LabelPicker
from copilot.tui.plain import inert, plain
from copilot.tui.prompt import Ask, Confirm
from curation_tools.schema import Finding, Proposal
from curation_tools.text import natural_key

Answer = str | dict[str, Any]  # while reviewing: "approve" | "reject" | {"approve": True, "new_label": X}


@dataclass
class ReviewGuide:
    """What the review screen may ask of the session about guidance (the TUI's client calls, nothing else):
    put a learned rule in force (its rule id), take it back, and the pending findings guidance now settles."""

    add: Callable[[RuleSuggestion], int]
    remove: Callable[[int], None]
    settled: Callable[[], dict[str, FindingDecision]]


@dataclass
class LearnedRule:
    rule_id: int
    suggestion: RuleSuggestion
    before: dict[str, Answer] = field(default_factory=dict)  # the answers it replaced, restored by undo


RICH_STYLES = {"": "", "mark": "reverse", "del": "bold red strike", "ins": "bold green", "dim": "dim", "b": "bold"}


def render_blocks(blocks: list[Block]) -> Text:
    """The evidence view's blocks (`copilot.review.evidence`) in rich styles: a title line, then the parts."""
    out = Text()
    for block in blocks:
        out.append(block.title + "\n", style="dim")
        for n, part in enumerate(block.parts):
            out.append(
                part.text + (" " if block.words and n < len(block.parts) - 1 else ""), style=RICH_STYLES[part.style]
            )
        out.append("\n\n")
    return out


def evidence_text(
    finding: Finding,
    row_text: str,
    display: Display | None = None,
    texts: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> Text:
    """What a reviewer needs to judge one finding: its issue, score and message, then the evidence view its tool
    declares (`display`); `texts` holds other rows' texts (the nearest rows'), `names` the label column's class
    names where a column names coded labels."""
    out = Text()
    out.append(f"{finding.issue} · row {finding.row_id} · score {finding.score:.2f}\n", style="bold")
    out.append((finding.message or "") + "\n\n")
    blocks = evidence_blocks(display or Display(), finding.evidence, row_text, names or {}, texts or {})
    out.append(render_blocks(blocks))
    return inert(out)


PRESET = "pre-set: drops and relabels ✓, flags ✗ · nothing changes before enter"


class ReviewScreen(Screen[dict[str, FindingDecision]]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("a", "approve_all", "all"),
        ("x", "reject_all", "none"),
        Binding("shift+down", "scroll_evidence(1)", "evidence ↓", show=False),
        Binding("shift+up", "scroll_evidence(-1)", "evidence ↑", show=False),
        ("space", "toggle", "toggle"),
        ("l", "label", "label"),
        ("s", "above", "≥ score"),
        Binding("o", "sort", "sort", show=False),  # in the help screen; the footer keeps to what fits 80 columns
        Binding("f", "filter", "filter", show=False),
        Binding("g", "accept_rule", "accept rule", show=False),
        Binding("n", "decline_rule", "decline rule", show=False),
        Binding("G", "undo_rule", "undo rule", show=False),
        Binding("enter", "confirm", "confirm", priority=True),  # the table would take enter for itself
        ("escape", "back", "back"),
    ]

    def __init__(
        self,
        proposals: list[Proposal],
        row_texts: dict[str, str],
        pending_ids: set[str],
        displays: dict[str, Display],
        classes: list[str] | None = None,
        names: dict[str, str] | None = None,
        draft: ReviewDraft | None = None,
        save: Callable[[ReviewDraft], None] | None = None,
        guide: ReviewGuide | None = None,
    ) -> None:
        super().__init__()
        self.proposals = proposals
        # the label column's classes (a new label is one of them) and their names; `classes` is a widget's CSS
        self.label_classes = classes or []
        self.label_names = names or {}
        self.row_texts = row_texts
        self.displays = displays  # tool -> how its evidence is shown, from the tool specs
        self.answers: dict[str, Answer] = {}
        for proposal in proposals:
            for f in proposal.findings:
                if f.finding_id in pending_ids:
                    self.answers[f.finding_id] = "approve" if f.action.type.value != "flag" else "reject"
        self.initial_answers = dict(self.answers)
        draft = draft or ReviewDraft()
        self.answers.update({fid: a for fid, a in draft.answers.items() if fid in self.answers})
        self.index = min(max(draft.proposal, 0), len(proposals) - 1)
        self.resume_at = draft.at
        self.save_draft = save
        self.sort_by_score = True
        self.issue_filter: str | None = None
        # the queue that learns: each answer a person gives re-ranks the findings still untouched
        self.guide = guide
        pending = [(p.tool, f) for p in proposals for f in p.findings if f.finding_id in self.answers]
        self.queue = queue_of(pending)
        self.touched: list[str] = []  # findings the person answered, in the order answered
        self.suggested: RuleSuggestion | None = None
        self.learned: list[LearnedRule] = []
        self.by_guidance: dict[str, str] = {}  # finding -> the reason guidance decided it
        # the table's order while the person works down it (a resumed review: as it was left)
        self.shown_order: list[str] | None = [fid for fid in draft.order if fid in self.answers] or None
        for fid, answer in self.answers.items():  # what a resumed draft holds was taught to the queue before
            if answer != self.initial_answers[fid]:
                self.queue.decide(fid, answer != "reject")
                self.touched.append(fid)
        self.ready = False  # set once mounted: the table filled and the cursor where the draft left it

    @property
    def proposal(self) -> Proposal:
        return self.proposals[self.index]

    def compose(self) -> ComposeResult:
        yield Static(id="summary")
        with Horizontal():
            yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="evidence-box"):
                yield Static(id="evidence")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#findings", DataTable)
        self.mark_column, *_, self.action_column = table.add_columns("", "row", "issue", "score", "action")
        self._fill()
        if self.resume_at is not None and self.resume_at in table.rows:
            table.move_cursor(row=table.get_row_index(self.resume_at))
        self.ready = True

    def _shown(self) -> list[Finding]:
        """This proposal's findings under the filter, in no particular order."""
        findings = [f for f in self.proposal.findings if f.finding_id in self.answers]
        return [f for f in findings if f.issue == self.issue_filter] if self.issue_filter else findings

    def _visible(self) -> list[Finding]:
        findings = self._shown()
        if self.sort_by_score:  # the order on screen; else answered first, then as the queue ranks the rest
            order = self.shown_order or [*self.touched, *self.queue.order()]
            rank = {fid: n for n, fid in enumerate(order)}
            return sorted(findings, key=lambda f: (rank.get(f.finding_id, len(rank)), -f.score))
        return sorted(findings, key=lambda f: natural_key(f.row_id))  # T103 before T1003

    def _named(self, label: Any) -> str:
        return self.label_names.get(str(label), str(label))

    def _mark(self, finding: Finding) -> str:
        mark = "✗" if self.answers[finding.finding_id] == "reject" else "✓"  # a label of yours: the action says it
        return mark + ("g" if finding.finding_id in self.by_guidance else "")

    def _answer_text(self, finding: Finding) -> str:
        if finding.finding_id in self.by_guidance:
            return f"decided by guidance: {self.by_guidance[finding.finding_id]} (G takes the rule back)"
        if self.answers[finding.finding_id] == "reject":
            return "✗ reject (the row stays as it is)"
        return f"✓ {self._action_text(finding)}"

    def _action_text(self, finding: Finding) -> str:
        answer = self.answers[finding.finding_id]
        if isinstance(answer, dict) and answer.get("as_flag"):
            return "flag (guidance)"
        if isinstance(answer, dict):
            return f"relabel → {self._named(answer['new_label'])}"
        a = finding.action
        return f"relabel → {self._named(a.new_label)}" if a.type.value == "relabel" else a.type.value

    def _fill(self, keep_row: int = 0) -> None:
        table = self.query_one("#findings", DataTable)
        table.clear()
        for f in self._visible():
            cells = (self._mark(f), f.row_id, f.issue, f"{f.score:.2f}", self._action_text(f))
            table.add_row(*map(plain, cells), key=f.finding_id)  # rows, labels: plain text, never markup
        if table.row_count:
            table.move_cursor(row=min(keep_row, table.row_count - 1))
        self._summarise()
        self._show_evidence()
        self._save()

    def _changed(self, finding: Finding) -> None:
        """One answer changed: redraw its row (not the whole table: 500 rows per key press would lag) and save."""
        table = self.query_one("#findings", DataTable)
        table.update_cell(finding.finding_id, self.mark_column, plain(self._mark(finding)), update_width=True)
        table.update_cell(finding.finding_id, self.action_column, plain(self._action_text(finding)), update_width=True)
        self._summarise()
        self._show_evidence()
        self._save()

    def _save(self) -> None:
        if self.save_draft is not None:
            selected = self._selected()
            at = selected.finding_id if selected else None
            order = self.shown_order or []
            self.save_draft(ReviewDraft(answers=self.answers, proposal=self.index, at=at, order=order))

    def _summarise(self) -> None:
        approved = sum(
            self.answers[f.finding_id] != "reject" for f in self.proposal.findings if f.finding_id in self.answers
        )
        shown = len(self._shown())  # counted on every key press: no sort
        decided = len([f for f in self.proposal.findings if f.finding_id in self.answers])
        self.query_one("#summary", Static).update(  # the counts first: they must never be the part cut off
            inert(
                Text.assemble(
                    (f"{self.proposal.tool} ({self.index + 1}/{len(self.proposals)})", "bold"),
                    f" · {approved} of {decided} approved · {shown} shown"
                    f"{f' · filter: {self.issue_filter}' if self.issue_filter else ''}\n{self.proposal.summary}"
                    f"\n{PRESET}",
                    *self._rule_lines(),
                )
            )
        )

    def _rule_lines(self) -> list[tuple[str, str] | str]:
        lines: list[tuple[str, str] | str] = []
        if self.suggested is not None:
            lines.append((f"\nsuggested rule: {self.suggested.text} (g: yes · n: no)", "bold yellow"))
        if self.learned:
            rules = "; ".join(" ".join(r.suggestion.guidance.describe()) for r in self.learned)
            lines.append(f"\nlearned: {rules} (G: undo the last)")
        return lines

    def _selected(self) -> Finding | None:
        table = self.query_one("#findings", DataTable)
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # empty, or being refilled
            return None
        return next((f for f in self.proposal.findings if f.finding_id == key), None)

    def _show_evidence(self) -> None:
        finding = self._selected()
        display = self.displays.get(self.proposal.tool, Display())
        text = (
            Text.assemble(
                (f"your answer: {self._answer_text(finding)}\n", "bold"),
                evidence_text(
                    finding, self.row_texts.get(finding.row_id, ""), display, self.row_texts, self.label_names
                ),
            )
            if finding
            else Text("no findings")
        )
        self.query_one("#evidence", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_evidence()
        self._save()  # where the person is: a resumed review opens there

    def _cursor(self) -> int:
        return self.query_one("#findings", DataTable).cursor_row

    def _set_all(self, value: str) -> None:
        shown = self._shown()

        def done(yes: bool | None) -> None:
            if yes:
                for f in shown:
                    self.answers[f.finding_id] = value
                self._fill(self._cursor())

        verb = "Approve" if value == "approve" else "Reject"
        self.app.push_screen(Confirm(f"{verb} all {len(shown)} shown finding(s) of {self.proposal.tool}?"), done)

    def action_approve_all(self) -> None:
        self._set_all("approve")

    def action_reject_all(self) -> None:
        self._set_all("reject")

    def action_scroll_evidence(self, step: int) -> None:
        box = self.query_one("#evidence-box", VerticalScroll)
        box.scroll_relative(y=step * max(box.size.height - 2, 1), animate=False)

    def action_toggle(self) -> None:
        finding = self._selected()
        if finding is None:
            return
        if finding.finding_id in self.by_guidance:
            self.notify("Guidance decided this finding; G takes the rule back.", severity="warning")
            return
        self.answers[finding.finding_id] = "reject" if self.answers[finding.finding_id] != "reject" else "approve"
        self._learn(finding)

    def _learn(self, finding: Finding) -> None:
        """A person's answer: the queue learns from it, the untouched findings are ranked again, and a run of like
        rejections may suggest a rule."""
        fid = finding.finding_id
        self.queue.decide(fid, self.answers[fid] != "reject")
        if fid not in self.touched:
            self.touched.append(fid)
        if self.guide is not None and self.suggested is None:
            self.suggested = self.queue.suggestion()
        if self.sort_by_score:
            self._rerank_below_cursor(finding)
        else:
            self._changed(finding)

    def _rerank_below_cursor(self, finding: Finding) -> None:
        """The rows from the cursor up stay where the person saw them; the rows below it take the queue's order,
        likeliest approval first, so `down` goes to the one most worth a look."""
        table = self.query_one("#findings", DataTable)
        current = [str(row.key.value) for row in table.ordered_rows]
        cut = self._cursor() + 1
        rank = {fid: n for n, fid in enumerate(self.queue.order())}
        tail = sorted(current[cut:], key=lambda fid: rank.get(fid, len(rank)))
        if tail == current[cut:]:
            self._changed(finding)
            return
        self.shown_order = current[:cut] + tail
        self._fill(self._cursor())

    def action_accept_rule(self) -> None:
        if self.suggested is None or self.guide is None:
            return
        suggestion, self.suggested = self.suggested, None
        rule = LearnedRule(rule_id=self.guide.add(suggestion), suggestion=suggestion)
        for fid, decision in self.guide.settled().items():
            if fid in self.answers and fid not in self.by_guidance:
                rule.before[fid] = self.answers[fid]
                approved = "approve" if decision.approve else "reject"
                self.answers[fid] = {"approve": True, "as_flag": True} if decision.as_flag else approved
                self.by_guidance[fid] = decision.reason
        self.learned.append(rule)
        said = visible(f"Rule in force: {'; '.join(suggestion.guidance.describe())}. {len(rule.before)} decided.")
        self.notify(said, markup=False)  # class names are data
        self._fill(self._cursor())

    def action_decline_rule(self) -> None:
        if self.suggested is not None:
            self.queue.declined.add(self.suggested.key)
            self.suggested = None
            self._summarise()

    def action_undo_rule(self) -> None:
        if not self.learned or self.guide is None:
            return
        rule = self.learned.pop()
        self.guide.remove(rule.rule_id)
        for fid, answer in rule.before.items():
            self.answers[fid] = answer
            self.by_guidance.pop(fid, None)
        self.suggested = rule.suggestion  # back to before it was accepted: g takes it again, n declines it
        self.notify(visible(f"Rule taken back: {'; '.join(rule.suggestion.guidance.describe())}."), markup=False)
        self._fill(self._cursor())

    def action_label(self) -> None:
        finding = self._selected()
        if finding is None or finding.issue != "label_error":
            self.notify("Only label findings take a new label.", severity="warning")
            return

        def done(value: str | None) -> None:
            if value:
                self.answers[finding.finding_id] = {"approve": True, "new_label": value}
                self._learn(finding)

        question, suggested = f"New label for row {finding.row_id}:", str(finding.evidence.suggested_label)
        self.app.push_screen(LabelPicker(question, self.label_classes, suggested, self.label_names), done)

    def action_above(self) -> None:
        def done(value: str | None) -> None:
            try:
                cut = float(value) if value else None
            except ValueError:
                cut = None
            if cut is None:
                return
            for f in self._shown():  # the score as the table shows it: 0.895 shows and counts as 0.90
                self.answers[f.finding_id] = "approve" if float(f"{f.score:.2f}") >= cut else "reject"
            self._fill(self._cursor())

        self.app.push_screen(Ask("Approve findings with a score of at least:", "0.9"), done)

    def action_sort(self) -> None:
        self.sort_by_score = not self.sort_by_score
        self.shown_order = None
        self._fill()

    def action_filter(self) -> None:
        issues = sorted({f.issue for f in self.proposal.findings})
        order = [None, *issues]
        self.issue_filter = order[(order.index(self.issue_filter) + 1) % len(order)]
        self.shown_order = None
        self._fill()

    def action_confirm(self) -> None:
        if self.index + 1 < len(self.proposals):
            self.index += 1
            self.issue_filter = None
            self.shown_order = None
            self._fill()
            return
        self.dismiss({fid: as_decision(fid, answer, HUMAN) for fid, answer in self.answers.items()})

    def action_back(self) -> None:
        if self.index > 0:
            self.index -= 1
            self.shown_order = None
            self._fill()
            return
        changed = sum(self.answers[f] != self.initial_answers[f] for f in self.answers)
        if not changed or self.save_draft is not None:  # a saved draft keeps the changes for next time
            self.dismiss(None)
            return

        def leave(answer: str | None) -> None:
            if answer and answer.lower() in ("y", "yes"):
                self.dismiss(None)

        question = f"Leave the review? Your {changed} change(s) here will be lost. Type y and Enter to leave."
        self.app.push_screen(Ask(question), leave)
