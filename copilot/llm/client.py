"""Chat with any OpenAI-compatible endpoint through the openai SDK, with JSON validated by pydantic."""

from __future__ import annotations

import json
from typing import TypeVar

from openai import OpenAI
from pydantic import BaseModel, ValidationError

from copilot.config import Settings

T = TypeVar("T", bound=BaseModel)


class Usage(BaseModel):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class InvalidLLMOutput(Exception):
    """The model's answer stayed invalid after the allowed repair attempts."""


class LLMClient:
    def __init__(self, settings: Settings) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        self._client = OpenAI(
            api_key=key, base_url=settings.base_url, timeout=settings.timeout_s, max_retries=settings.max_retries
        )
        self.model = settings.model
        self.usage = Usage()

    def chat_json(self, system: str, user: str, schema: type[T], repairs: int = 1) -> T:
        """Ask for one JSON object matching `schema`; on invalid output, feed the error back and retry."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        for _ in range(repairs + 1):
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, response_format={"type": "json_object"}, temperature=0
            )
            self.usage.calls += 1
            if response.usage:
                self.usage.prompt_tokens += response.usage.prompt_tokens
                self.usage.completion_tokens += response.usage.completion_tokens
            content = response.choices[0].message.content or ""
            try:
                return schema.model_validate(json.loads(content))
            except (json.JSONDecodeError, ValidationError) as error:
                messages += [
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": f"That was not valid: {error}. Answer with the JSON object only."},
                ]
        raise InvalidLLMOutput(f"no valid {schema.__name__} after {repairs + 1} attempts")
