"""The dedup tool: exact, near, semantic; split leaks; reference files; conflicting labels; keep policy."""

from __future__ import annotations

import json

import pandas as pd

from curation_tools.dedup import DedupParams, run, word_diff
from curation_tools.io import write_table

from .conftest import EXAMPLE
from .conftest import make_dataset as make

LONG = (
    "The film opens with a long tracking shot through a rainy city at night, and for the first twenty minutes "
    "the director lets the silence do the work. When the story finally starts, it moves quickly and never looks "
    "back, which is both its strength and its weakness, because the characters barely have room to breathe."
)


def test_example_planted_duplicates(cli, tmp_path):
    out = tmp_path / "d.jsonl"
    assert cli("tools", "dedup", EXAMPLE, "--out", out).code == 0
    truth = json.loads(EXAMPLE.with_name("support_tickets.truth.json").read_text())["duplicates"]
    findings = [json.loads(x) for x in out.read_text().splitlines()]
    drops = {f["row_id"]: f for f in findings if f["action"] == "drop"}
    found = [c for c, o in truth.items() if c in drops or o in drops]
    assert len(found) == len(truth)
    one = drops.get("D000") or next(iter(drops.values()))
    assert {"duplicate_of", "cluster_id", "kept_text", "diff", "score"} <= set(one)


def test_near_copies_truncated_wrapped_and_edited(ctx):
    words = LONG.split()
    texts = [
        LONG,
        " ".join(words[: int(len(words) * 0.6)]),  # truncated
        "Reader review:\n\n" + LONG + "\n\nWas this review helpful?",  # boilerplate-wrapped
        LONG.replace("quickly", "fast").replace("weakness", "flaw"),  # lightly edited
        "A completely different review about a cheerful cartoon with songs, colours and a talking dog in a park.",
    ]
    result = run(make(pd.DataFrame({"text": texts})), DedupParams(), ctx)
    dropped = {f.row_id for f in result.findings}
    assert dropped == {"1", "2", "3"}
    assert all(f.evidence.duplicate_of == "0" and f.issue == "near_duplicate" for f in result.findings)


def test_an_exact_copy_of_a_near_duplicate_is_reported_as_near_to_the_kept_row(ctx):
    edited = LONG.replace("quickly", "fast").replace("weakness", "flaw")
    texts = [LONG, edited, edited.upper()]  # row 2 is linked to the kept row 0 only through row 1
    result = run(make(pd.DataFrame({"text": texts})), DedupParams(), ctx)
    found = {f.row_id: f for f in result.findings}
    assert set(found) == {"1", "2"} and all(f.evidence.duplicate_of == "0" for f in found.values())
    assert found["2"].issue == "near_duplicate" and found["2"].evidence.method == "near"
    assert found["2"].score == found["1"].score < 1.0


def test_keep_longest(ctx):
    frame = pd.DataFrame({"text": ["Hello  World!", "hello world !", "HELLO WORLD!   "]})
    result = run(make(frame), DedupParams(keep="longest", method=["exact"]), ctx)
    assert {f.evidence.duplicate_of for f in result.findings} == {"2"}
    assert all(f.issue == "exact_duplicate" and f.score == 1.0 for f in result.findings)


def test_split_leak_never_drops_the_test_side(ctx):
    frame = pd.DataFrame(
        {
            "text": [LONG, "unrelated training text about the weather today", LONG.upper()],
            "split": ["test", "train", "train"],
        }
    )
    result = run(make(frame), DedupParams(), ctx)
    assert [(f.row_id, f.issue, f.evidence.duplicate_of) for f in result.findings] == [("2", "split_leak", "0")]


def test_reference_file(ctx, tmp_path):
    reference = tmp_path / "bench.jsonl"
    write_table(pd.DataFrame({"question": [LONG, "another benchmark question"]}), reference)
    frame = pd.DataFrame({"text": ["train row one", LONG + " ", "train row two"]})
    result = run(make(frame), DedupParams(reference=str(reference)), ctx)
    assert [(f.row_id, f.issue, f.evidence.duplicate_of) for f in result.findings] == [
        ("1", "split_leak", "reference:0")
    ]


def test_conflicting_labels_are_flagged_not_dropped(ctx):
    frame = pd.DataFrame({"text": ["great phone!", "Great  phone !", "bad screen"], "label": ["pos", "neg", "neg"]})
    result = run(make(frame), DedupParams(), ctx)
    assert {f.row_id for f in result.findings} == {"0", "1"}
    assert all(f.issue == "conflicting_labels" and f.action.type == "flag" for f in result.findings)


def test_semantic_stage(ctx):
    frame = pd.DataFrame(
        {
            "text": [
                "How can I reset my PIN code?",
                "How do I reset my PIN code?",
                "What is the exchange rate for euros today?",
            ]
        }
    )
    result = run(make(frame), DedupParams(method=["semantic"], semantic_threshold=0.9), ctx)
    assert [(f.row_id, f.issue) for f in result.findings] == [("1", "semantic_duplicate")]


def test_semantic_stage_in_clusters_finds_what_the_exact_search_finds(ctx):
    """Above semantic_exact_max_rows neighbours are searched within k-means clusters (SemDeDup-style)."""
    import numpy as np

    from curation_tools.neighbours import similar_pairs

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 32))
    vectors = np.repeat(centres, 150, axis=0) + rng.normal(scale=0.6, size=(3000, 32))  # 20 topics
    copies = vectors[:100] + rng.normal(scale=0.02, size=(100, 32))  # 100 near copies
    vectors = np.vstack([vectors, copies]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = similar_pairs(vectors, 0.99, 10, exact_max_rows=10**6, rows_per_cluster=300, seed=0)
    clustered = similar_pairs(vectors, 0.99, 10, exact_max_rows=0, rows_per_cluster=300, seed=0)

    def as_set(found: tuple[np.ndarray, np.ndarray]) -> set[tuple[int, ...]]:
        return {tuple(sorted(pair)) for pair in found[0].tolist()}

    planted = {(i, 3000 + i) for i in range(100)}
    assert planted <= as_set(exact) and planted <= as_set(clustered)
    assert as_set(clustered) <= as_set(exact) and (clustered[1] >= 0.99).all()

    frame = pd.DataFrame({"text": ["How can I reset my PIN code?", "How do I reset my PIN code?", "Euro rates?"]})
    params = DedupParams(method=["semantic"], semantic_threshold=0.9, semantic_exact_max_rows=0)
    assert [f.row_id for f in run(make(frame), params, ctx).findings] == ["1"]


def test_word_diff():
    assert word_diff("the cat sat on the mat", "the dog sat on the mat") == "the [-cat-] {+dog+} sat on the mat"


def test_cli_method_list_and_bad_method(cli):
    assert cli("tools", "dedup", EXAMPLE, "--method", "exact").code == 0
    bad = cli("tools", "dedup", EXAMPLE, "--method", "fuzzy")
    assert bad.code == 2 and "--method" in bad.stderr


def test_vectorised_shingles_match_per_document_hashing():
    import numpy as np

    from curation_tools.near_dup import shingle_sets

    def documents(texts: list[str]) -> list[np.ndarray]:
        """Each text's distinct shingle hashes."""
        rows = shingle_sets(texts, 3).distinct()
        return [rows.indices[rows.indptr[d] : rows.indptr[d + 1]] for d in range(len(texts))]

    texts = ["abcdefg", "", "xy", "abcdefg", "hello world", "ＨＥＬＬＯ\u3000 World\n"]
    together = documents(texts)
    for i, text in enumerate(texts):
        alone = documents([text])[0]
        if text:
            assert np.array_equal(together[i], alone)
            canonical = "".join(text.lower().split())
            assert len(alone) == len({canonical[j : j + 3] for j in range(max(len(canonical) - 2, 1))})
    assert np.array_equal(together[0], together[3])
    assert np.array_equal(together[4], together[5])  # width, case and whitespace do not count
    empties = documents(["", ""])
    assert not np.array_equal(empties[0], empties[1])  # two empty texts are not near duplicates


def test_worker_processes_give_the_same_signatures_and_edges(monkeypatch, tmp_path):
    """Large inputs are hashed by spawned worker processes: same signatures, same verified edges."""
    import random

    import numpy as np

    from curation_tools import near_dup
    from curation_tools.context import ToolContext

    rng = random.Random(0)
    words = [f"w{i}" for i in range(300)]
    texts = [" ".join(rng.choices(words, k=30)) for _ in range(400)] + ["", ""]
    texts += [t.replace(t.split()[3], "edited", 1) for t in texts[:40]]  # near copies
    ctx = ToolContext(cache_dir=tmp_path)
    monkeypatch.setattr(near_dup, "CHUNK", 150)  # several chunks, one of them holding both empty texts
    serial = near_dup.signatures(near_dup.shingle_sets(texts, 5), 128, 0, ctx)
    parallel = np.zeros_like(serial)
    near_dup.engine_signatures(texts, 5, 128, 0, 2, ctx, parallel)
    assert np.array_equal(serial, parallel)

    options = dict(size=5, num_perm=128, bands=42, floor=0.2, threshold=0.76, min_contained=80, ctx=ctx)
    one = near_dup.near_edges(texts, workers=1, **options)
    monkeypatch.setattr(near_dup, "PARALLEL_MIN_ROWS", 100)
    monkeypatch.setattr(near_dup, "VERIFY_LOCAL_PAIRS", 7)  # verified block by block, sets read from the stage file
    two = near_dup.near_edges(texts, workers=2, **options)
    assert len(one[0]) >= 40
    assert np.array_equal(one[0], two[0]) and np.allclose(one[1], two[1]) and one[2] == two[2]


def test_near_stages_pass_through_files_and_clean_up(monkeypatch, ctx):
    """Band keys are written to a scratch folder, read back, then removed."""
    from curation_tools import near_dup

    seen: list[set[str]] = []
    verify = near_dup.verified_edges

    def spying(*args, **kwargs):
        seen.append({p.name for p in ctx.cache_dir.glob("near-stages-*/*")})
        return verify(*args, **kwargs)

    monkeypatch.setattr(near_dup, "verified_edges", spying)
    texts = [LONG, LONG.replace("quickly", "fast"), "An unrelated sentence about a sunny beach and a dog."]
    result = run(make(pd.DataFrame({"text": texts})), DedupParams(method=["near"]), ctx)
    assert [f.row_id for f in result.findings] == ["1"]
    assert seen == [{"band_keys.npy"}]
    assert not list(ctx.cache_dir.glob("near-stages-*"))


def test_short_texts_one_inserted_word_apart_are_near_duplicates(ctx):
    """Character shingles miss a word added to a short query; the one-word-apart rule links it, and only it."""
    frame = pd.DataFrame(
        {
            "text": [
                "My card is broken",
                "MY CARD NOW IS BROKEN !",  # a word added, reformatted: a copy
                "Is my card accepted anywhere?",
                "Is my card denied anywhere?",  # a word swapped: another question
                "Why was my transfer declined?",
                "Why was my transfer not declined?",  # a negation added
                "I need a virtual card",
                "I need a disposable virtual card",  # a word added, but another label: another intent
                "top up",
                "top up now",  # too short to tell
            ],
            "label": [
                "broken",
                "broken",
                "accept",
                "accept",
                "declined",
                "declined",
                "virtual",
                "disposable",
                "t",
                "t",
            ],
        }
    )
    findings = run(make(frame), DedupParams(), ctx).proposal.findings
    assert [(f.row_id, f.issue, f.evidence.duplicate_of) for f in findings] == [("1", "near_duplicate", "0")]
    assert findings[0].score == 0.8  # word-level similarity: 4 of 5 words
    off = run(make(frame), DedupParams(one_word_apart=False), ctx).proposal.findings
    assert off == []


def test_a_big_conflicting_cluster_names_a_few_members_and_counts_the_labels(ctx):
    """Each row of a conflicting cluster once listed every other row: 50,000 rows gave 2.5 billion notes."""
    frame = pd.DataFrame({"text": ["the same question"] * 300, "label": ["a"] * 200 + ["b"] * 100})
    result = run(make(frame), DedupParams(), ctx)
    assert len(result.findings) == 300
    notes = result.findings[0].evidence.notes
    assert notes[0] == "labels in the cluster's 300 rows: a x200, b x100"
    assert len(notes) == 1 + 10 and notes[1] == "1: a"


def test_the_shingle_store_reads_runs_back_in_any_order(monkeypatch, tmp_path):
    """Shards arrive out of order and the store is read window by window in file order: every document's set
    comes back whole, in the order asked, across window edges."""
    import numpy as np

    from curation_tools import near_dup

    rng = np.random.default_rng(0)
    counts = rng.integers(1, 40, 3_000)
    runs = [np.sort(rng.choice(1 << 30, c, replace=False)).astype(np.uint32) for c in counts]
    store = near_dup.ShingleStore(tmp_path / "shingles.u32", len(runs))
    shards = [(start, min(start + 700, len(runs))) for start in range(0, len(runs), 700)]
    for start, stop in [shards[i] for i in rng.permutation(len(shards))]:
        store.add(start, np.concatenate(runs[start:stop]), counts[start:stop])
    monkeypatch.setattr(near_dup, "STORE_WINDOW", 100)  # runs of up to 39 values: many windows, some runs cut
    docs = rng.permutation(np.unique(rng.integers(0, len(runs), 800)))
    sets = store.sets(docs)
    store.close()
    assert all(
        np.array_equal(sets.indices[sets.indptr[k] : sets.indptr[k + 1]], runs[doc]) for k, doc in enumerate(docs)
    )


def test_low_bits_of_the_signatures_keep_the_same_candidates(tmp_path):
    """The band stage reads 16 of each value's 32 bits: on real near copies and real unrelated texts the pairs that
    reach the agreement floor are the ones the whole signatures give."""
    import numpy as np

    from curation_tools import near_dup
    from curation_tools.context import ToolContext

    texts = pd.read_csv(EXAMPLE)["text"].astype(str).tolist()
    texts += [t.replace(" ", "  ", 1) + " thanks" for t in texts[:100]]  # near copies
    ctx = ToolContext(cache_dir=tmp_path)
    whole = near_dup.signatures(near_dup.shingle_sets(texts, 5), 128, 0, ctx)
    sketches = near_dup.Sketches(len(texts), 128, 42)
    sketches.add(0, whole)
    pairs = np.array([(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))], dtype=np.int64)
    kept = near_dup.plausible(pairs, sketches.low, 0.2)
    assert len(kept) >= 100 and np.array_equal(kept, near_dup.plausible(pairs, whole, 0.2))
