"""Build the bundled chat example `support_chats.jsonl` (and `support_chats.truth.json`) with planted personal data.

Source: GSM8K (OpenAI, MIT) via ../shared/data: 200 word problems as the user's turn and their worked answers as
the assistant's (real text full of amounts, sums and dates: what a detector must leave alone); four values of each
kind (e-mail, phone, card, IBAN, IP address, API key) planted by
`copilot.evaluation.pii_data.build_chats` (generated from a seed: no value belongs to anyone). The truth lists
each planted value with its row and message. The outputs are committed; rerun only to change the recipe:
    python examples/build_support_chats.py ../shared/data
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from copilot.evaluation.pii_data import build_chats

PROBLEMS, PER_KIND, SEED = 200, 4, 37


def main(shared: Path) -> None:
    problems = [json.loads(line) for line in (shared / "gsm8k" / "gsm8k_train.jsonl").open()][:PROBLEMS]
    chats, plants = build_chats([], problems, PER_KIND, SEED)
    here = Path(__file__).parent
    with (here / "support_chats.jsonl").open("w", encoding="utf-8") as out:
        for chat in chats:
            out.write(json.dumps(chat, ensure_ascii=False) + "\n")
    truth = {"source": "GSM8K train (MIT), the first 200 problems", "pii": [asdict(p) for p in plants]}
    (here / "support_chats.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"{len(chats)} chats, {len(plants)} planted values")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
