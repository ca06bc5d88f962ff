"""`curate llm serve`: a local OpenAI-compatible server (llama-cpp-python's) on 127.0.0.1 for a GGUF model, with
settings that suit a CPU: one thread per core the process may use, passive OpenMP waiting (busy-waiting threads
fight the server's own and generation fell to 0.2 tokens/s on a loaded machine), a context that fits the
planner's prompt. It says when the server answers and what to export, and stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

from curation_tools.errors import UserInputError
from curation_tools.threads import usable_cpus

LOCAL_EXTRA = 'pip install "curation-copilot[local-llm]" (from a checkout: pip install ./tools ".[local-llm]")'


def server_command(model: Path, port: int, context: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(context),
        "--n_threads",
        str(threads),
    ]


def env_lines(port: int, model_name: str) -> list[str]:
    return [
        f"export OPENAI_BASE_URL=http://127.0.0.1:{port}/v1",
        "export OPENAI_API_KEY=local",
        f"export CURATE_MODEL={model_name}",
    ]


def wait_until_ready(process: subprocess.Popen, port: int, timeout_s: float) -> None:
    """Until the server lists its model (GET /v1/models answers), the process exits, or the time is up."""
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{port}/v1/models"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserInputError(f"the model server exited with code {process.returncode} before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if json.loads(reply.read()).get("data") is not None:
                    return
        except (OSError, urllib.error.URLError, json.JSONDecodeError):
            pass
        time.sleep(0.5)  # polling a server that is loading a model: no event to wait on
    raise UserInputError(f"the model server did not answer on port {port} within {timeout_s:.0f} s")


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def serve(
    model: Path,
    model_name: str,
    port: int,
    context: int,
    threads: int | None,
    say: Callable[[str], object],
    ready_timeout_s: float = 300.0,
) -> int:
    """Run the server until it exits or the user interrupts (Ctrl+C stops it and waits for it)."""
    if find_spec("llama_cpp") is None:
        raise UserInputError(
            f"curate llm serve needs llama-cpp-python's server: {LOCAL_EXTRA} (it builds from source: 12 min on "
            "2 cores). Or point OPENAI_BASE_URL at any OpenAI-compatible server you run (Ollama, vLLM, llama.cpp)."
        )
    cores = threads or usable_cpus()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": str(cores)}
    process = subprocess.Popen(server_command(model, port, context, cores), env=env)
    for stop in (signal.SIGTERM, signal.SIGHUP):  # `kill`, a closed terminal: stop the server too, never orphan it
        signal.signal(stop, _exit_on_signal)
    try:
        wait_until_ready(process, port, ready_timeout_s)
        say(f"serving {model_name} ({model}) on http://127.0.0.1:{port}/v1 with {cores} thread(s). In another shell:")
        for line in env_lines(port, model_name):
            say(f"  {line}")
        say("Ctrl+C stops the server.")
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
