"""The LLM planner: any OpenAI-compatible endpoint, JSON plans validated by pydantic and the tool registry,
bounded retries with the error fed back, then a visible fallback to the heuristic planner."""

from __future__ import annotations

import json
from collections.abc import Callable

import openai

from copilot.agents.heuristic import HeuristicPlanner
from copilot.agents.plan import Plan, Planner, PlanningContext, applicable_tools, keep_data_rules, validate_plan
from copilot.agents.registry import PlannerDeps
from copilot.llm.client import InvalidLLMOutput, LLMClient
from copilot.prompts import load_prompt
from curation_tools.registry import available_tools


def _param_line(name: str, schema: dict) -> str:
    """One parameter in a few words: name, type, default, bounds, description (a JSON schema is 3x longer, and a
    CPU-local model reads the planner's prompt at ~10 tokens/s)."""
    options = schema.get("anyOf", [schema])
    kinds = [o.get("type", "?") for o in options if o.get("type") != "null"]
    typed = next((o for o in options if o.get("type") != "null"), schema)
    if typed.get("enum"):
        kinds = ["|".join(map(str, typed["enum"]))]
    if typed.get("items", {}).get("enum"):
        kinds = [f"list of {'|'.join(map(str, typed['items']['enum']))}"]
    low = typed.get("minimum", typed.get("exclusiveMinimum"))
    high = typed.get("maximum", typed.get("exclusiveMaximum"))
    bounds = f" {low}..{high}" if low is not None or high is not None else ""
    default = json.dumps(schema.get("default")) if "default" in schema else "required"
    return f"{name} ({'/'.join(kinds)}{bounds}, default {default}): {schema.get('description', '')}".rstrip(": ")


def _tool_catalogue(context: PlanningContext) -> str:
    lines = []
    for name in applicable_tools(context):
        spec = available_tools()[name]
        schema = spec.params_model.model_json_schema()
        owned = {*spec.run_owned, "benchmark"}
        params = "; ".join(_param_line(k, v) for k, v in schema.get("properties", {}).items() if k not in owned)
        lines.append(f"- {name}: {spec.summary} Finds: {', '.join(spec.issue_types)}. Params: {params}")
    return "\n".join(lines)


def _context_summary(context: PlanningContext) -> str:
    """The profile's headline numbers and earlier outcomes: never rows."""
    profile = context.profile
    summary = {
        "rows": profile.get("n_rows"),
        "roles": context.roles,
        "labels": profile.get("labels"),
        "text_length": profile.get("text_length"),
        "exact_duplicates": profile.get("duplicates"),
        "benchmarks_given": len(context.benchmarks),
        "done": [o.model_dump() for o in context.done],
    }
    return json.dumps(summary, default=str)[:12_000]


class LLMPlanner:
    name = "llm"

    def __init__(self, client: LLMClient, fallback: Planner, notify: Callable[[str], object], repairs: int = 2) -> None:
        self.client = client
        self.fallback = fallback
        self.notify = notify
        self.repairs = repairs
        self.prompt = load_prompt("planner")

    def plan(self, context: PlanningContext) -> Plan:
        system, user = self.prompt.render(
            goal=context.goal or "(not given)", round=str(context.round + 1), context=_context_summary(context)
        )
        system = system.replace("{tools}", _tool_catalogue(context))
        try:
            made = self.client.chat_json(
                system, user, Plan, repairs=self.repairs, purpose="plan", check=lambda p: validate_plan(p, context)
            )
            made = keep_data_rules(made, context).model_copy(update={"made_by": self.name})
            if made.steps:
                return made
            left = [step.tool for step in self.fallback.plan(context).steps]
            if not left:
                return made
            reason = f"the model finished with {', '.join(left)} not run"  # never a run worse than offline
        except InvalidLLMOutput as error:
            reason = f"the LLM planner gave no valid plan ({error})"
        except (openai.APIError, openai.APITimeoutError) as error:
            reason = f"the LLM endpoint failed ({type(error).__name__})"
        if self.client.usage.degraded:  # a refused key: said loudly, every round, and in the report
            reason = self.client.usage.degraded
            self.notify(f"WARNING: planning offline with the {self.fallback.name} planner: {reason}")
        else:
            self.notify(f"{reason}; falling back to the {self.fallback.name} planner for this round")
        fallback = self.fallback.plan(context)
        return fallback.model_copy(update={"made_by": f"{self.fallback.name}, as {self.name}'s fallback: {reason}"})


def make_llm(deps: PlannerDeps) -> Planner:
    """The LLM planner, falling back to the heuristic one round by round."""
    return LLMPlanner(deps.llm_client(), fallback=HeuristicPlanner(), notify=deps.notify)
