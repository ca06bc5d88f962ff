"""Tune the LLM guidance prompt on plain-language goals that are not the eval's (evals/guidance.yaml reports).

    curate llm serve qwen2.5-coder-1.5b --port 8091 &
    OPENAI_BASE_URL=http://127.0.0.1:8091/v1 OPENAI_API_KEY=local CURATE_MODEL=qwen2.5-coder-1.5b \\
      python benchmarks/guidance_tune.py

Each goal is read by `copilot.llm.guidance_llm.parse_with_llm` against a fixed vocabulary (the support-ticket
classes; the label column `intent` and a `region` column, as `run.guidance_setup.vocabulary` lists every column with
few values; two benchmark files) and compared with the constraints it means.
"""

from __future__ import annotations

import time

from copilot.core.config import Settings
from copilot.core.guidance import Guidance, RowScope, normalised
from copilot.llm.client import InvalidLLMOutput, LLMClient
from copilot.llm.guidance_llm import parse_with_llm
from copilot.review.guidance_words import GuidanceVocabulary, ParsedGuidance

CLASSES = [
    "age_limit",
    "apple_pay_or_google_pay",
    "atm_support",
    "change_pin",
    "edit_personal_details",
    "exchange_rate",
    "lost_or_stolen_phone",
    "terminate_account",
]
VOCAB = GuidanceVocabulary(
    classes=CLASSES,
    # as the product builds it: every column with few values, the label column among them
    columns={
        "intent": CLASSES,
        "region": ["emea", "apac", "americas"],
    },
    label_column="intent",
    benchmarks=["/data/heldout_queries.jsonl:text", "/data/scratch_notes.jsonl:text"],
)
NEAR = ["near_duplicate", "semantic_duplicate"]
GOALS: list[tuple[str, Guidance]] = [
    ("Nobody should edit any label.", Guidance(never_relabel=True)),
    ("The intents were assigned by experts, so keep every annotation unchanged.", Guidance(never_relabel=True)),
    ("Treat this as read-only: list the issues, edit nothing.", Guidance(flag_only=True)),
    ("I only need a findings report; the dataset must stay byte for byte the same.", Guidance(flag_only=True)),
    ("Rows labelled exchange_rate are gold; keep them.", Guidance(protected_classes=["exchange_rate"])),
    ("Hands off anything in the atm_support intent.", Guidance(protected_classes=["atm_support"])),
    ("age_limit and atm_support are two different things here.", Guidance(distinct=[("age_limit", "atm_support")])),
    (
        "Do not fold change_pin into lost_or_stolen_phone or the other way round.",
        Guidance(distinct=[("change_pin", "lost_or_stolen_phone")]),
    ),
    ("We added reworded versions of tickets on purpose, they should stay.", Guidance(keep_issues=NEAR)),
    (
        "Similar-sounding rows are deliberate augmentation by our team, do not deduplicate them.",
        Guidance(keep_issues=NEAR),
    ),
    ("Repeated identical rows are intentional weighting.", Guidance(keep_issues=["exact_duplicate"])),
    ("Do not bother with synthetic rows.", Guidance(tools_off=["augment"])),
    ("Just remove duplicates, nothing else.", Guidance(tools_only=["dedup"])),
    ("Only the apac rows may be modified.", Guidance(scope=[RowScope(column="region", values=["apac"])])),
    (
        "Anything from emea is contractually frozen.",
        Guidance(scope=[RowScope(column="region", values=["emea"], mode="never")]),
    ),
    (
        "Contamination should be checked against heldout_queries; scratch_notes is not an eval set.",
        Guidance(benchmarks=["heldout_queries"]),
    ),
]


def main() -> None:
    client = LLMClient(Settings())
    right = 0
    started = time.perf_counter()
    for words, expected in GOALS:
        try:
            parsed = parse_with_llm(client, words, VOCAB)
        except InvalidLLMOutput:
            parsed = ParsedGuidance(Guidance(), refused=[(words, "no valid answer")])
        ok = parsed.ok and normalised(parsed.guidance) == normalised(expected)
        right += ok
        got = "refused" if not parsed.ok else "; ".join(parsed.guidance.describe())
        print(f"{'ok ' if ok else 'BAD'} {words!r} -> {got}", flush=True)
    print(f"{right} / {len(GOALS)} right, {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
