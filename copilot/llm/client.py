"""Chat with any OpenAI-compatible endpoint through the openai SDK, with JSON validated by pydantic."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, Field, ValidationError

from copilot.core.config import Settings
from copilot.llm.budget import Budget
from copilot.llm.connection import openai_client

T = TypeVar("T", bound=BaseModel)


MAX_REPLY_CHARS = 200_000  # a reply longer than this is cut before it is parsed
MALFORMED_RETRIES = 2  # extra tries when a 200 reply is not a usable completion (the SDK retries 429/5xx itself)
# What each role's JSON answer needs, in tokens (the settings' max_reply_tokens caps them all): a small local model
# in JSON mode can otherwise generate thousands of tokens of padding, minutes of CPU time for nothing.
REPLY_TOKENS = {"plan": 768, "guidance": 384, "label_judge": 160, "decontam_judge": 160, "augment": 2048, "chat": 512}
REPAIR_QUOTE = 600  # characters of an invalid answer quoted back in a repair request, not the whole answer


class Usage(BaseModel):
    calls: int = 0
    failed_calls: int = Field(0, description="calls that got an error or a reply that was not a usable completion")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_node: dict[str, int] = Field(default_factory=dict, description="calls per graph node / purpose")
    json_schema: bool = Field(False, description="answers were constrained by their JSON schema (server support)")
    degraded: str | None = Field(None, description="why the run stopped using the LLM (the endpoint refused the key)")
    judge_probes: dict[str, str] = Field(
        default_factory=dict, description="each judge's probe questions: passed, or failed and not used"
    )


class InvalidLLMOutput(Exception):
    """The model's answer stayed invalid after the allowed repair attempts."""


class LLMCallFailed(InvalidLLMOutput):
    """No usable completion: a malformed 200 reply (no choices, not JSON) after retries, or a refused key."""


def _content(response: object) -> str:
    """The assistant's text, or LLMCallFailed for a reply that is not a chat completion with a choice."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise LLMCallFailed(f"the reply has no choices ({type(response).__name__})")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if content is not None and not isinstance(content, str):
        raise LLMCallFailed("the reply's content is not text")
    return (content or "")[:MAX_REPLY_CHARS]


class LLMClient:
    def __init__(self, settings: Settings, budget: Budget | None = None) -> None:
        self._client = openai_client(settings)
        self.settings = settings
        self.model = settings.model
        self.max_reply_tokens = settings.max_reply_tokens
        # send the answer's schema (llama.cpp constrains generation to it: a small model then keeps to the keys)
        self.send_schema = settings.sends_json_schema
        self.usage = Usage()
        self.budget = budget or Budget(
            usd_per_1k_prompt=settings.usd_per_1k_prompt, usd_per_1k_completion=settings.usd_per_1k_completion
        )

    def _token_counts(self, response: object) -> tuple[int, int] | None:
        """(prompt, completion) tokens of a reply, or None where the server reports none. Counts that are missing,
        negative or not whole numbers make the reply a failed call: a cost built on them would be false, and
        --max-cost could never trip. Without any counts --max-cost cannot be kept, so the run stops using the LLM."""
        usage = getattr(response, "usage", None)
        if usage is None:
            if self.budget.max_cost is not None:
                self.usage.degraded = (
                    "the LLM endpoint reports no token counts, so --max-cost cannot be kept; no further LLM calls in "
                    "this run. Drop --max-cost (and use --max-llm-calls) to use this endpoint."
                )
                raise LLMCallFailed(self.usage.degraded)
            return None
        counts = (getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
            raise LLMCallFailed(
                f"the reply's token counts are not counts ({counts[0]!r} prompt, {counts[1]!r} completion)"
            )
        return counts  # type: ignore[return-value]

    def _response_format(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        if self.send_schema and schema is not None:
            return {"type": "json_object", "schema": schema}
        return {"type": "json_object"}

    def _complete(self, messages: list[dict[str, str]], purpose: str, schema: dict[str, Any] | None = None) -> str:
        """One completion's text. HTTP errors propagate (after the SDK's retries); malformed 200 replies are
        retried, then LLMCallFailed; a refused key (401/403) stops every later call of this client."""
        if self.usage.degraded:
            raise LLMCallFailed(self.usage.degraded)
        problem: Exception | None = None
        for _ in range(MALFORMED_RETRIES + 1):
            self.budget.check(self.usage.calls + self.usage.failed_calls, self.usage.cost_usd)
            try:
                response = self._client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_format=self._response_format(schema),  # type: ignore[arg-type]
                    temperature=0,
                    max_tokens=min(self.max_reply_tokens, REPLY_TOKENS.get(purpose, self.max_reply_tokens)),
                )
                content = _content(response)
                tokens = self._token_counts(response)
            except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
                self.usage.failed_calls += 1
                self.usage.degraded = (
                    f"the LLM endpoint refused the API key ({type(error).__name__}, HTTP {error.status_code}); "
                    f"no further LLM calls in this run. Set OPENAI_API_KEY (or CURATE_API_KEY) and resume."
                )
                raise LLMCallFailed(self.usage.degraded) from None
            except (openai.BadRequestError, openai.UnprocessableEntityError, openai.InternalServerError):
                self.usage.failed_calls += 1
                if not (self.send_schema and schema is not None):
                    raise
                self.send_schema = False  # a server that cannot take a schema (json_schema gives HTTP 500 on some)
                problem = None
                continue
            except openai.APIError:
                self.usage.failed_calls += 1
                raise
            except (LLMCallFailed, json.JSONDecodeError, TypeError, AttributeError, ValueError) as error:
                self.usage.failed_calls += 1  # a 200 whose body is not JSON, or JSON without a choice
                if self.usage.degraded:
                    raise
                problem = error
                continue
            self.usage.calls += 1
            self.usage.json_schema = self.send_schema and schema is not None
            self.usage.by_node[purpose] = self.usage.by_node.get(purpose, 0) + 1
            if tokens is not None:
                self.usage.prompt_tokens += tokens[0]
                self.usage.completion_tokens += tokens[1]
                self.usage.cost_usd += self.budget.cost(*tokens)
            return content
        raise LLMCallFailed(f"the endpoint's replies were not usable completions ({problem})")

    def chat_json(
        self,
        system: str,
        user: str,
        schema: type[T],
        repairs: int = 1,
        purpose: str = "chat",
        check: Callable[[T], object] | None = None,
    ) -> T:
        """Ask for one JSON object matching `schema` (and passing `check`, which raises ValueError on a bad
        answer); on invalid output, retry with the error fed back. A repair is the original request plus one
        short note (the start of the invalid answer and what was wrong with it), never the conversation so far:
        a repair costs about what the first try did, however long or often the model went wrong."""
        first = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        messages, answer_schema = first, schema.model_json_schema()
        for _ in range(repairs + 1):
            content = self._complete(messages, purpose, answer_schema)
            try:
                answer = schema.model_validate(json.loads(content))
                if check is not None:
                    check(answer)
                return answer
            except (json.JSONDecodeError, RecursionError, ValidationError, ValueError) as error:
                quoted = content[:REPAIR_QUOTE] + ("…" if len(content) > REPAIR_QUOTE else "")
                problem = str(error)[:REPAIR_QUOTE]
                note = f"Your previous answer was not valid.\nIt began: {quoted}\nProblem: {problem}\n"
                messages = [
                    *first[:-1],
                    {"role": "user", "content": f"{note}\n{user}\n\nAnswer with the JSON object only."},
                ]
        raise InvalidLLMOutput(f"no valid {schema.__name__} after {repairs + 1} attempts")
