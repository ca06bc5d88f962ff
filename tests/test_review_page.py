"""The HTML review page, in a real headless Chromium: it opens without a console error, a person decides from
the keyboard and picks a label by name, the choices survive a reload, and the exported decisions.json resumes
the run with exactly those decisions. Row text cannot run script in it. A screenshot of each page is saved
under test-artifacts/ (or $CURATE_TEST_ARTIFACTS)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from copilot.core.decisions import PendingDetail
from copilot.review.evidence import Display
from copilot.review.page import page_data, script_json, write_review_html

from .conftest import EXAMPLE, REPO

ARTIFACTS = Path(os.environ.get("CURATE_TEST_ARTIFACTS", REPO / "test-artifacts"))
HOSTILE = '</script><script>console.error("ran")</script><img src=x onerror="console.error(1)"> & <b>bold</b>'


def test_page_data_cannot_close_its_script_element():
    text = script_json({"t": HOSTILE})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": HOSTILE}


def test_the_page_marks_overlaps_and_diffs_and_names_labels(tmp_path):
    details = [
        {
            "proposal_id": "p",
            "finding_id": "d1",
            "tool": "decontam",
            "issue": "contamination",
            "score": 1.0,
            "row_id": "r1",
            "action": {"type": "drop"},
            "row": {"text": "So what exchange rates do you offer?"},
            "evidence": {
                "benchmark": "b.jsonl",
                "benchmark_item": "7",
                "benchmark_text": "What exchange rates do you offer?",
                "overlapping_spans": ["what exchange rates do you offer"],
            },
        },
        {
            "proposal_id": "p",
            "finding_id": "l1",
            "tool": "label-errors",
            "issue": "label_error",
            "score": 0.9,
            "row_id": "r2",
            "action": {"type": "relabel", "new_label": 3},
            "row": {"text": "card lost", "label": 1},
            "evidence": {"given_label": 1, "suggested_label": 3, "suggested_confidence": 0.9},
        },
    ]
    data = page_data(
        [PendingDetail.model_validate(d) for d in details],
        run_dir=tmp_path,
        texts={"r1": "So what exchange rates do you offer?", "r2": "card lost"},
        displays={"decontam": Display(view="overlap"), "label-errors": Display(view="labels")},
        classes=["1", "3"],
        names={"1": "card_arrival", "3": "lost_card"},
        label_column="label",
    )
    overlap, labels = data["findings"]
    assert ["mark", "what exchange rates do you offer"] in overlap["blocks"][1]["parts"]
    assert labels["proposed"] == "relabel → lost_card (3)" and labels["relabel"]
    assert data["classes"] == [["1", "card_arrival (1)"], ["3", "lost_card (3)"]]
    assert [f for f in labels["fields"] if f[0] == "text"] == []  # the row's text is shown once, not twice


def test_review_out_must_be_html_or_csv(cli, tmp_path):
    refused = cli("review", tmp_path, "--out", tmp_path / "sheet.txt")
    assert refused.code == 2 and "a .html or a .csv" in refused.stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extras)")
    found = (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))
    executable = next((path for path in found if path), None)
    if executable is None:
        pytest.skip("needs a Chromium on PATH (Debian: apt-get install chromium); .ci/run installs it")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@contextmanager
def _served(folder: Path) -> Iterator[str]:
    """The folder over loopback HTTP, as a person's browser would open a shared page: an http origin's
    localStorage is shared by its pages and kept across reloads, which a file: URL's is not promised to be."""
    handler = functools.partial(_QuietFiles, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _open(browser, base_url: str, page_name: str):
    """A fresh browser context on the page, and the list its console errors and uncaught exceptions go to."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/{page_name}")
    return page, errors


def _until_stored(page, decided: int, timeout_s: float = 30) -> None:
    """Wait until another page of the same browser context reads `decided` choices from localStorage: what a
    reload will see (Chromium commits a page's localStorage writes to the browser process asynchronously)."""
    other = page.context.new_page()
    other.goto(page.url)
    script = "() => Object.values(JSON.parse(localStorage.getItem(Object.keys(localStorage)[0]) || '{}'))"
    deadline = time.monotonic() + timeout_s
    try:
        while sum(bool(c.get("decision")) for c in other.evaluate(script)) < decided:
            assert time.monotonic() < deadline, "the page's choices never reached the browser's storage"
            other.reload()
    finally:
        other.close()


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


@pytest.mark.slow
def test_a_person_decides_in_the_browser_and_the_export_resumes_the_run(cli, browser, tmp_path):
    data = tmp_path / "tickets.csv"
    shutil.copy(EXAMPLE, data)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("steps:\n  - tool: label-errors\n")
    run = tmp_path / "run"
    assert cli("run", data, "--recipe", recipe, "--policy", "review", "--out", run).code == 3
    made = cli("review", run)
    assert made.code == 0 and (run / "review.html").is_file() and (run / "review.csv").is_file()
    pending = json.loads((run / "pending.json").read_text())
    assert len(pending) >= 3

    with _served(run) as base_url:
        _decide_reload_and_export(browser, base_url, pending, data, tmp_path / "decisions.json")
    first, second, third = pending[0], pending[1], pending[2]
    other = json.loads((tmp_path / "decisions.json").read_text())[third["finding_id"]]["new_label"]
    assert cli("run", "--resume", run, "--decisions", tmp_path / "decisions.json").code == 0
    curated = pd.read_csv(run / "curated.csv", index_col="ticket_id")
    assert curated.loc[first["row_id"], "intent"] == first["action"]["new_label"]
    assert curated.loc[second["row_id"], "intent"] == second["row"]["intent"]
    assert curated.loc[third["row_id"], "intent"] == other


def _decide_reload_and_export(browser, base_url: str, pending: list[dict], data: Path, exported: Path) -> None:
    page, errors = _open(browser, base_url, "review.html")
    assert page.text_content("#counts").startswith(f"0 of {len(pending)} decided")
    page.keyboard.press("a")  # first finding: approve the suggested label
    page.keyboard.press("j")
    page.keyboard.press("r")  # second: reject
    page.keyboard.press("j")
    page.keyboard.press("l")  # third: choose another label by its name
    third = pending[2]
    other = next(c for c in sorted(set(pd.read_csv(data)["intent"])) if c != third["action"]["new_label"])
    page.locator(f"#finding-{third['finding_id']} select.new-label").select_option(label=other)
    page.keyboard.press("Escape")
    assert page.text_content("#counts").startswith(f"3 of {len(pending)} decided: 2 approve, 1 reject")
    _screenshot(page, "review_page_labels.png")

    _until_stored(page, 3)  # a reload may read storage before the renderer's write reached it
    page.reload()  # choices are kept in the browser until exported
    assert page.text_content("#counts").startswith(f"3 of {len(pending)} decided")
    with page.expect_download() as download:
        page.keyboard.press("e")
    download.value.save_as(exported)
    assert errors == []
    assert json.loads(exported.read_text()) == {
        pending[0]["finding_id"]: "approve",
        pending[1]["finding_id"]: "reject",
        third["finding_id"]: {"approve": True, "new_label": other},
    }


@pytest.mark.slow
def test_row_text_is_shown_as_text_and_never_runs(browser, tmp_path):
    details = [
        {
            "proposal_id": "p",
            "finding_id": "x1",
            "tool": "dedup",
            "issue": "near_duplicate",
            "score": 0.9,
            "row_id": HOSTILE,
            "action": {"type": "drop"},
            "message": HOSTILE,
            "row": {"text": HOSTILE},
            "evidence": {"duplicate_of": "k", "kept_text": "plain " + HOSTILE},
        }
    ]
    data = page_data(
        [PendingDetail.model_validate(d) for d in details],
        run_dir=tmp_path,
        texts={HOSTILE: HOSTILE},
        displays={"dedup": Display(view="duplicates")},
        classes=[],
        names={},
        label_column=None,
    )
    written = write_review_html(data, tmp_path / "review.html")
    with _served(written.parent) as base_url:
        page, errors = _open(browser, base_url, written.name)
        assert page.locator("#findings img").count() == 0 and page.locator("#findings script").count() == 0
        assert HOSTILE in page.text_content(".finding .message")
        _screenshot(page, "review_page_hostile.png")
        assert errors == []
