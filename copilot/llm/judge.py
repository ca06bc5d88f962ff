"""LLM helpers the tools call through their protocols: label and contamination judges, the text generator."""

from __future__ import annotations

from typing import Literal

import openai
from pydantic import BaseModel, Field

from copilot.llm.client import InvalidLLMOutput, LLMClient
from copilot.prompts import load_prompt
from curation_tools.context import (
    ContaminationQuestion,
    ContaminationVerdict,
    GenerationRequest,
    LabelQuestion,
    LabelVerdict,
)

PROMPTS = ("label_judge_direct", "label_judge_stepwise")


class _Answer(BaseModel):
    choice: Literal["A", "B", "neither", "unsure"]
    confidence: float = Field(ge=0, le=1)


class LLMLabelJudge:
    """Which of two labels fits a row? The model never learns which label is the data's and which the tool's
    (they are options A and B), and each prompt puts them in the other order: a small model that favours a
    position, or the word "suggested", answers both ways and its verdict is "unsure". Only a verdict both
    prompts agree on counts."""

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

    def judge_labels(self, questions: list[LabelQuestion]) -> list[LabelVerdict]:
        verdicts = []
        for question in questions:
            answers = [self._ask(p, question, given_first=i % 2 == 0) for i, p in enumerate(self.prompts)]
            votes = [verdict for verdict, _ in answers]
            agreed = len(set(votes)) == 1
            verdicts.append(
                LabelVerdict(
                    row_id=question.row_id,
                    verdict=votes[0] if agreed else "unsure",
                    confidence=round(min(c for _, c in answers), 4) if agreed else 0.0,
                    votes=votes,
                )
            )
        return verdicts


class _ContaminationAnswer(BaseModel):
    contaminated: bool
    confidence: float = Field(ge=0, le=1)


class LLMContaminationJudge:
    """Is a training text a copy or rewording of a benchmark item? One call per borderline pair."""

    def __init__(self, client: LLMClient, prompt: str = "contamination_judge") -> None:
        self.client = client
        self.prompt = load_prompt(prompt)

    @property
    def prompt_versions(self) -> dict[str, int]:
        return {self.prompt.name: self.prompt.version}

    def judge_contamination(self, questions: list[ContaminationQuestion]) -> list[ContaminationVerdict]:
        verdicts = []
        for question in questions:
            system, user = self.prompt.render(train=question.train_text, benchmark=question.benchmark_text)
            try:
                answer = self.client.chat_json(system, user, _ContaminationAnswer, purpose="decontam_judge")
            except (InvalidLLMOutput, openai.APIError):
                continue  # no verdict: the pair keeps its offline score
            verdicts.append(
                ContaminationVerdict(
                    pair_id=question.pair_id,
                    contaminated=answer.contaminated,
                    confidence=answer.confidence,
                    votes=[answer.contaminated],
                )
            )
        return verdicts


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
