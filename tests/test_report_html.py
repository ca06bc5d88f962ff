"""report.html in a real headless Chromium: the example run's report opens without a console error and shows
the plots and the most certain findings with their evidence; row text cannot add an element; `curate report`
rebuilds it. Screenshots go to test-artifacts/."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from .test_review_page import HOSTILE, _open, _screenshot, _served, browser  # noqa: F401 (the browser fixture)
from .test_run import BENCH, EXAMPLE


@pytest.mark.slow
def test_the_example_runs_report_opens_clean_with_plots_and_evidence(cli, browser, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert cli("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all", "--out", out).code == 0
    report = out / "report.html"
    assert report.is_file()
    with _served(out) as base_url:
        page, errors = _open(browser, base_url, report.name)
        _screenshot(page, "report.png")
        assert errors == []
        assert page.locator("svg").count() >= 8  # class balance, clusters, contamination; scores + decisions per tool
        assert [h.inner_text() for h in page.locator("h2").all()] == ["The data", "decontam", "dedup", "label-errors"]
        assert page.locator("script").count() == 0  # a static page
        leak = page.locator(".finding", has_text="copies bank_eval.jsonl item").first
        assert leak.locator("mark").count() >= 2  # the overlap highlighted in the benchmark item and in the row
        assert page.locator(".finding", has_text="kept row").first.count() == 1  # a duplicate shows the kept row
        for heading in page.locator("h3").all():  # at most 10 findings under each issue
            assert "most certain" in heading.inner_text()
        assert page.locator(".finding").count() <= 10 * page.locator("h3").count()

    report.unlink()
    result = cli("report", out)
    assert result.code == 0 and report.is_file() and "v4" in result.stderr


@pytest.mark.slow
def test_row_text_in_the_report_stays_text(cli, browser, tmp_path):  # noqa: F811
    rows = [{"text": f"How do I reset my card number {i}", "label": "a" if i % 2 else "b"} for i in range(40)]
    rows += [{"text": HOSTILE, "label": "a"}, {"text": HOSTILE + " ", "label": "a"}]
    data = tmp_path / "hostile.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "run"
    result = cli("run", data, "--policy", "approve-all", "--out", out)
    assert result.code == 0, result.stderr
    with _served(out) as base_url:
        page, errors = _open(browser, base_url, "report.html")
        _screenshot(page, "report_hostile.png")
        assert errors == [] and page.locator("img").count() == 0 and page.locator("script").count() == 0
        assert "console.error" in page.locator("body").inner_text()  # shown as the text it is
    shutil.rmtree(out)
