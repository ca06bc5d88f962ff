"""Chat with any OpenAI-compatible endpoint through the openai SDK, with JSON validated by pydantic."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from openai import OpenAI
from pydantic import BaseModel, Field, ValidationError

from copilot.config import Settings
from copilot.llm.budget import Budget

T = TypeVar("T", bound=BaseModel)


class Usage(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    by_node: dict[str, int] = Field(default_factory=dict, description="calls per graph node / purpose")


class InvalidLLMOutput(Exception):
    """The model's answer stayed invalid after the allowed repair attempts."""


class LLMClient:
    def __init__(self, settings: Settings, budget: Budget | None = None) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        self._client = OpenAI(
            api_key=key, base_url=settings.base_url, timeout=settings.timeout_s, max_retries=settings.max_retries
        )
        self.model = settings.model
        self.usage = Usage()
        self.budget = budget or Budget(
            usd_per_1k_prompt=settings.usd_per_1k_prompt, usd_per_1k_completion=settings.usd_per_1k_completion
        )

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
        answer); on invalid output, feed the error back and retry."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        for _ in range(repairs + 1):
            self.budget.check(self.usage.calls, self.usage.cost_usd)
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, response_format={"type": "json_object"}, temperature=0
            )
            self.usage.calls += 1
            self.usage.by_node[purpose] = self.usage.by_node.get(purpose, 0) + 1
            if response.usage:
                self.usage.prompt_tokens += response.usage.prompt_tokens
                self.usage.completion_tokens += response.usage.completion_tokens
                self.usage.cost_usd += self.budget.cost(response.usage.prompt_tokens, response.usage.completion_tokens)
            content = response.choices[0].message.content or ""
            try:
                answer = schema.model_validate(json.loads(content))
                if check is not None:
                    check(answer)
                return answer
            except (json.JSONDecodeError, ValidationError, ValueError) as error:
                messages += [
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": f"That was not valid: {error}. Answer with the JSON object only."},
                ]
        raise InvalidLLMOutput(f"no valid {schema.__name__} after {repairs + 1} attempts")
