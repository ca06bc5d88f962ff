"""LLM budgets: a run stops cleanly (exit 4) when its calls or its estimated cost reach the limit."""

from __future__ import annotations

from pydantic import BaseModel


class BudgetExceeded(RuntimeError):
    """The next LLM call would exceed the run's budget."""


class Budget(BaseModel):
    max_llm_calls: int | None = None
    max_cost: float | None = None
    usd_per_1k_prompt: float = 0.0
    usd_per_1k_completion: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens / 1000 * self.usd_per_1k_prompt + completion_tokens / 1000 * self.usd_per_1k_completion

    def check(self, calls: int, cost: float) -> None:
        if self.max_llm_calls is not None and calls >= self.max_llm_calls:
            raise BudgetExceeded(f"LLM call budget reached ({calls} of --max-llm-calls {self.max_llm_calls})")
        if self.max_cost is not None and cost >= self.max_cost:
            raise BudgetExceeded(f"LLM cost budget reached (${cost:.4f} of --max-cost {self.max_cost})")
