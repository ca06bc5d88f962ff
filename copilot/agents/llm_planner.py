"""The LLM planner: any OpenAI-compatible endpoint, JSON plans validated by pydantic and the tool registry,
bounded retries with the error fed back, then a visible fallback to the heuristic planner."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Literal

import openai
from pydantic import BaseModel, Field, create_model

from copilot.agents.heuristic import HeuristicPlanner
from copilot.agents.plan import (
    Plan,
    Planner,
    PlanningContext,
    PlanStep,
    data_hint,
    keep_data_rules,
    plannable_tools,
    validate_plan,
)
from copilot.agents.registry import PlannerDeps, PlannerSpec
from copilot.core.prompts import load_prompt
from copilot.llm.client import InvalidLLMOutput, LLMClient
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


def _tool_catalogue(tools: list[str], with_params: bool = True) -> str:
    lines = []
    for name in tools:
        spec = available_tools()[name]
        line = f"- {name}: {spec.summary} Finds: {', '.join(spec.issue_types)}."
        if with_params:
            schema = spec.params_model.model_json_schema()
            owned = {*spec.run_owned, *spec.unplanned, "benchmark"}
            params = "; ".join(_param_line(k, v) for k, v in schema.get("properties", {}).items() if k not in owned)
            line += f" Params: {params}"
        lines.append(line)
    return "\n".join(lines)


FULL_FORMAT = '{"steps": [{"tool": "NAME", "params": {...}, "reason": "one sentence"}], "rationale": "one sentence"}'
TOOLS_ONLY_FORMAT = (
    '{"steps": [{"tool": "NAME", "reason": "one sentence"}], "rationale": "one sentence"}\n'
    "Give no parameters: each tool's are chosen from the data."
)


def tool_choice_model(tools: list[str]) -> type[BaseModel]:
    """The answer a planner that only picks tools gives: tool names from this round's list (a server that takes
    the JSON schema constrains the model to them), at most one step per tool."""
    step = create_model("ToolChoice", tool=(Literal[tuple(tools)], ...), reason=(str, ""))  # type: ignore[valid-type]
    steps = (list[step], Field(default_factory=list, max_length=len(tools)))  # type: ignore[valid-type]
    return create_model("ToolPlan", steps=steps, rationale=(str, ""))


def with_data_params(choice: BaseModel, context: PlanningContext) -> Plan:
    """A tools-only answer as a plan: each tool with the parameters its plan hint gives for this data."""
    steps = []
    for step in choice.steps:  # type: ignore[attr-defined]
        hint = data_hint(available_tools()[step.tool], context)
        params = hint.params if hint else {}
        steps.append(PlanStep(tool=step.tool, params=params, reason=step.reason))
    return Plan(steps=steps, rationale=choice.rationale)  # type: ignore[attr-defined]


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

    def __init__(
        self,
        client: LLMClient,
        fallback: Planner,
        notify: Callable[[str], object],
        repairs: int = 2,
        sets_params: bool = True,
    ) -> None:
        self.client = client
        self.fallback = fallback
        self.notify = notify
        self.repairs = repairs
        self.sets_params = sets_params  # off: the model picks tools and reasons, the data's rules set parameters
        self.prompt = load_prompt("planner")

    def _ask(self, context: PlanningContext) -> Plan:
        system, user = self.prompt.render(
            goal=context.goal or "(not given)", round=str(context.round + 1), context=_context_summary(context)
        )
        tools = plannable_tools(context)
        if not self.sets_params:
            # A small model cleans: adding synthetic rows stays a person's (or recipe's) choice. With the data setting
            # parameters, running a tool again re-asks the reviewer what they already answered (the 0.5B reran
            # every tool in round 2: 78 decisions for the heuristic's 61 on an eval task), so each runs once.
            # Copies go before labels are judged: only the earliest stage not yet run is offered (the 0.5B ran
            # label-errors beside dedup, the 1.5B before decontam).
            specs, done = available_tools(), {o.tool for o in context.done}
            tools = [t for t in tools if specs[t].role == "cleaning" and t not in done]
            first = min((specs[t].stage for t in tools), default=0)
            tools = [t for t in tools if specs[t].stage == first]
        system = (
            system.replace("{tools}", _tool_catalogue(tools, with_params=self.sets_params))
            .replace("{param_note}", ", parameters" if self.sets_params else "")
            .replace("{answer_format}", FULL_FORMAT if self.sets_params else TOOLS_ONLY_FORMAT)
        )
        if self.sets_params:
            return self.client.chat_json(
                system, user, Plan, repairs=self.repairs, purpose="plan", check=lambda p: validate_plan(p, context)
            )
        if not tools:
            return Plan(rationale="every cleaning tool has run")
        choice = self.client.chat_json(
            system,
            user,
            tool_choice_model(tools),
            repairs=self.repairs,
            purpose="plan",
            check=lambda c: validate_plan(with_data_params(c, context), context),
        )
        return with_data_params(choice, context)

    def plan(self, context: PlanningContext) -> Plan:
        try:
            made = keep_data_rules(self._ask(context), context).model_copy(update={"made_by": self.name})
            if made.steps:
                return made
            left = [step.tool for step in self.fallback.plan(context).steps]
            if not left:  # the model's own words are not shown: a small model's can contradict the data
                return made.model_copy(update={"rationale": "every applicable tool has run"})
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
    client = deps.llm_client()
    return LLMPlanner(
        client, fallback=HeuristicPlanner(), notify=deps.notify, sets_params=client.settings.planner_sets_params
    )


LLM = PlannerSpec(
    name="llm", make=make_llm, uses_llm=True, generates=True, summary="an LLM picks each round's tools and says why"
)
