"""LLM helpers the tools call through their protocols: label and contamination judges, the text generator."""

from __future__ import annotations

import logging
from functools import cache, cached_property
from typing import Literal

import openai
from pydantic import BaseModel, Field

from copilot.core.prompts import load_prompt
from copilot.core.resources import resource_dir
from copilot.core.yaml_files import read_yaml_mapping
from copilot.llm.client import InvalidLLMOutput, LLMClient, Usage
from curation_tools.context import (
    ContaminationQuestion,
    ContaminationVerdict,
    GenerationRequest,
    LabelQuestion,
    LabelVerdict,
)

PROMPTS = ("label_judge_direct", "label_judge_stepwise")
log = logging.getLogger(__name__)


class _LabelProbe(BaseModel):
    text: str
    given: str
    suggested: str
    right: Literal["given", "suggested"]


class _ContaminationProbe(BaseModel):
    train: str
    benchmark: str
    contaminated: bool


class _Probes(BaseModel):
    version: int
    labels: list[_LabelProbe]
    contamination: list[_ContaminationProbe]


@cache
def load_probes() -> _Probes:
    """prompts/judge_probes.yaml: questions with known answers that a judge must get right before it may act."""
    return _Probes.model_validate(read_yaml_mapping(resource_dir("prompts") / "judge_probes.yaml", "judge probes"))


def _probe_gate(judge: str, right: list[bool], usage: Usage) -> str:
    """'' when every probe was answered right; else why the judge's verdicts may not act (also in the usage)."""
    wrong = right.count(False)
    if not wrong:
        usage.judge_probes[judge] = f"passed {len(right)} of {len(right)}"
        return ""
    note = (
        f"the {judge.replace('_', ' ')} got {wrong} of {len(right)} probe questions with known answers wrong, "
        "so no row was sent to it and nothing it said changes a finding"
    )
    usage.judge_probes[judge] = f"failed {wrong} of {len(right)}: not used"
    log.warning("%s", note)
    return note


class _Answer(BaseModel):
    choice: Literal["A", "B", "neither", "unsure"]
    confidence: float = Field(ge=0, le=1)


class LLMLabelJudge:
    """Which of two labels fits a row? The model never learns which label is the data's and which the tool's
    (they are options A and B), and each prompt puts them in the other order: a model that favours a position,
    or the word "suggested", answers both ways and its verdict is "unsure". Only a verdict both prompts agree on
    counts, and only from a judge that first answers the probe questions (prompts/judge_probes.yaml) right."""

    def __init__(self, client: LLMClient, prompts: tuple[str, ...] = PROMPTS) -> None:
        self.client = client
        self.prompts = [load_prompt(p) for p in prompts]

    @property
    def prompt_versions(self) -> dict[str, int]:
        return {p.name: p.version for p in self.prompts}

    def _ask(self, prompt, question: LabelQuestion, given_first: bool) -> tuple[str, float]:
        first, second = (
            (question.given_label, question.suggested_label)
            if given_first
            else (question.suggested_label, question.given_label)
        )
        system, user = prompt.render(text=question.text, a=first, b=second)
        try:
            answer = self.client.chat_json(system, user, _Answer, purpose="label_judge")
        except (InvalidLLMOutput, openai.APIError):
            return "unsure", 0.0
        if answer.choice in ("A", "B"):
            given = (answer.choice == "A") == given_first
            return ("given" if given else "suggested"), answer.confidence
        return ("other" if answer.choice == "neither" else "unsure"), answer.confidence

    def verdict(self, question: LabelQuestion) -> LabelVerdict:
        answers = [self._ask(p, question, given_first=i % 2 == 0) for i, p in enumerate(self.prompts)]
        votes = [verdict for verdict, _ in answers]
        agreed = len(set(votes)) == 1
        return LabelVerdict(
            row_id=question.row_id,
            verdict=votes[0] if agreed else "unsure",
            confidence=round(min(c for _, c in answers), 4) if agreed else 0.0,
            votes=votes,
        )

    @cached_property
    def refusal(self) -> str:
        """Asked once, before the first real question: '' if the judge answers every label probe right."""
        right = [
            self.verdict(
                LabelQuestion(row_id="probe", text=p.text, given_label=p.given, suggested_label=p.suggested)
            ).verdict
            == p.right
            for p in load_probes().labels
        ]
        return _probe_gate("label_judge", right, self.client.usage)

    def judge_labels(self, questions: list[LabelQuestion]) -> list[LabelVerdict]:
        if questions and self.refusal:
            return [
                LabelVerdict(row_id=q.row_id, verdict="unsure", confidence=0.0, note=self.refusal) for q in questions
            ]
        return [self.verdict(q) for q in questions]


class _ContaminationAnswer(BaseModel):
    contaminated: bool
    confidence: float = Field(ge=0, le=1)


class _IndependenceAnswer(BaseModel):
    independent: bool
    confidence: float = Field(ge=0, le=1)


class LLMContaminationJudge:
    """Is a training text a copy or rewording of a benchmark item? Each borderline pair is asked twice, with the
    question turned around ("contaminated?" and "independent?"): a model that answers the same word whatever it
    reads contradicts itself, and its verdict has confidence 0. Only answers that agree count, and only from a
    judge that first answers the probe questions right: the local 0.5B agreed with itself on "not
    contaminated" for rewrites and look-alikes alike (benchmarks/README.md)."""

    def __init__(
        self, client: LLMClient, prompts: tuple[str, str] = ("contamination_judge", "contamination_judge_inverse")
    ) -> None:
        self.client = client
        self.prompts = [load_prompt(p) for p in prompts]

    @property
    def prompt_versions(self) -> dict[str, int]:
        return {p.name: p.version for p in self.prompts}

    def verdict(self, question: ContaminationQuestion) -> ContaminationVerdict | None:
        answers: list[tuple[bool, float]] = []
        for prompt, schema in zip(self.prompts, (_ContaminationAnswer, _IndependenceAnswer), strict=True):
            system, user = prompt.render(train=question.train_text, benchmark=question.benchmark_text)
            try:
                answer = self.client.chat_json(system, user, schema, purpose="decontam_judge")
            except (InvalidLLMOutput, openai.APIError):
                continue
            contaminated = answer.contaminated if isinstance(answer, _ContaminationAnswer) else not answer.independent
            answers.append((contaminated, answer.confidence))
        if not answers:
            return None  # no verdict: the pair keeps its offline score
        votes = [contaminated for contaminated, _ in answers]
        agreed = len(answers) == len(self.prompts) and len(set(votes)) == 1
        return ContaminationVerdict(
            pair_id=question.pair_id,
            contaminated=votes[0],
            confidence=round(min(c for _, c in answers), 4) if agreed else 0.0,
            votes=votes,
        )

    @cached_property
    def refusal(self) -> str:
        """Asked once, before the first real question: '' if the judge answers every contamination probe right."""
        right = []
        for p in load_probes().contamination:
            verdict = self.verdict(
                ContaminationQuestion(pair_id="probe", train_text=p.train, benchmark_text=p.benchmark)
            )
            right.append(verdict is not None and verdict.confidence > 0 and verdict.contaminated == p.contaminated)
        return _probe_gate("decontam_judge", right, self.client.usage)

    def judge_contamination(self, questions: list[ContaminationQuestion]) -> list[ContaminationVerdict]:
        if questions and self.refusal:
            return [
                ContaminationVerdict(pair_id=q.pair_id, contaminated=False, confidence=0.0, note=self.refusal)
                for q in questions
            ]
        return [v for v in map(self.verdict, questions) if v is not None]


class _Generated(BaseModel):
    examples: list[str]


class LLMTextGenerator:
    """New rows for a thin class from real exemplars (the tools' TextGenerator), one call per class and batch."""

    def __init__(self, client: LLMClient, prompt: str = "augment_generate", batch: int = 20) -> None:
        self.client = client
        self.prompt_file = load_prompt(prompt)
        self.model = client.model
        self.prompt_version = self.prompt_file.version
        self.batch = batch

    def generate(self, request: GenerationRequest) -> list[str]:
        rows: list[str] = []
        while len(rows) < request.n:
            n = min(self.batch, request.n - len(rows))
            system, user = self.prompt_file.render(
                label=request.label, exemplars="\n".join(f"- {e}" for e in request.exemplars), n=str(n)
            )
            try:
                answer = self.client.chat_json(system, user, _Generated, purpose="augment")
            except (InvalidLLMOutput, openai.APIError):
                break  # what was generated so far still goes through the filters
            if not answer.examples:
                break
            rows += answer.examples[:n]
        return rows
