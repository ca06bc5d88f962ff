"""A run's guidance from words: a goal (`curate run --goal`), a policy's `guidance:` block, a chat line. The words
are read by the offline parser, or by the LLM (`parser="llm"`, or `auto` when the offline parser refuses a clause
and an endpoint is configured); what neither can turn into constraints is refused with the words quoted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from copilot.core.guidance import Guidance, GuidanceRule
from copilot.review.guidance_words import GuidanceParser, GuidanceVocabulary, ParsedGuidance
from curation_tools.dataset import Dataset
from curation_tools.errors import UserInputError
from curation_tools.label_names import class_values
from curation_tools.text import natural_key

ParserChoice = Literal["offline", "llm", "auto"]
SCOPE_VALUES = 50  # a column with more distinct values than this is not a row scope people name in words


class GuidanceRefused(UserInputError):
    """Words that could not all be turned into constraints: nothing runs on a half-understood instruction."""

    def __init__(self, words: str, parsed: ParsedGuidance) -> None:
        self.parsed = parsed
        quoted = "; ".join(f'"{clause}" ({why})' for clause, why in parsed.refused)
        super().__init__(
            f"curate could not turn these words into constraints, so nothing ran: {quoted}. Reword them with the "
            f'phrasings in the README (Guidance), or leave them out. The whole text was: "{words}"'
        )


def vocabulary(data: Dataset, benchmarks: list[str]) -> GuidanceVocabulary:
    frame, roles = data.frame, data.roles
    label = roles.label
    classes = sorted(class_values(frame[label]) or {}, key=natural_key) if label else []
    skip = set(roles.text or [])  # the label column may scope rows too ("only rows where intent is X")
    columns = {}
    for column in frame.columns:
        if column in skip:
            continue
        values = frame[column].dropna().astype(str).unique()
        if 0 < len(values) <= SCOPE_VALUES:
            columns[str(column)] = sorted(values, key=natural_key)
    return GuidanceVocabulary(
        classes=classes, columns=columns, label_column=label, row_ids=data.row_ids, benchmarks=list(benchmarks)
    )


def parse_words(
    words: str,
    vocab: GuidanceVocabulary,
    parser: ParserChoice = "auto",
    llm: Callable[[], Any] | None = None,
) -> tuple[ParsedGuidance, str]:
    """(what the words became, which parser read them)."""
    if parser != "llm":
        parsed = GuidanceParser(vocab).parse(words)
        if parsed.ok or parser == "offline" or llm is None:
            return parsed, "offline"
    if llm is None:
        raise UserInputError("--guidance-parser llm needs an LLM endpoint: set OPENAI_BASE_URL.")
    from copilot.llm.guidance_llm import parse_with_llm  # lazy: the openai SDK

    client = llm()
    made_by = f"llm:{client.settings.model}"
    try:
        return parse_with_llm(client, words, vocab), made_by
    except Exception as error:
        import openai

        from copilot.llm.client import InvalidLLMOutput

        if not isinstance(error, InvalidLLMOutput | openai.APIError):
            raise
        failed = ParsedGuidance(Guidance(), refused=[(words, f"the model gave no usable answer ({error})")])
        return failed, made_by


def rule_from_words(
    words: str,
    source: Literal["goal", "policy", "chat"],
    data: Dataset,
    benchmarks: list[str],
    by: str,
    parser: ParserChoice = "auto",
    llm: Callable[[], Any] | None = None,
) -> GuidanceRule:
    parsed, made_by = parse_words(words, vocabulary(data, benchmarks), parser, llm)
    if not parsed.ok:
        raise GuidanceRefused(words, parsed)
    return GuidanceRule(guidance=parsed.guidance, words=words, source=source, parser=made_by, added_by=by)
