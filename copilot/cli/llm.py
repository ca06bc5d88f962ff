"""`curate llm serve` and `curate llm models`: a local model behind an OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from typing import Annotated

import typer

from copilot.cli.console import err, out
from copilot.core.config import Settings
from copilot.llm.local_models import KNOWN_MODELS, install_command, missing_parts, model_path

llm_app = typer.Typer(help="Run a local LLM for the co-pilot: no account, no network, nothing downloaded.")


@llm_app.command("models")
def models() -> None:
    """The known models that ship inside PyPI packages: whether they are installed, and their licences."""
    for model in KNOWN_MODELS.values():
        missing = missing_parts(model)
        state = "installed" if not missing else f"not installed: {install_command(model)}"
        out.print(f"{model.name}: {model.title}; {model.size >> 20} MB; licence {model.licence}; {state}", markup=False)
    out.print("Any other GGUF file works too: curate llm serve PATH.gguf", markup=False)


@llm_app.command("serve")
def serve_command(
    model: Annotated[str, typer.Argument(help="a known model's name (curate llm models) or a .gguf file")],
    port: Annotated[int, typer.Option(min=1024, max=65535, help="port on 127.0.0.1")] = 8080,
    context: Annotated[int, typer.Option("--ctx", min=512, max=131072, help="context window in tokens")] = 4096,
    threads: Annotated[
        int | None, typer.Option(min=1, help="CPU threads (default: the cores this process may use)")
    ] = None,
) -> None:
    """Serve a GGUF model on http://127.0.0.1:PORT/v1 (llama-cpp-python's server) and print the lines that
    point curate at it. Runs until Ctrl+C."""
    from copilot.llm.serve import serve

    path, name = model_path(model, Settings().cache_dir)
    code = serve(path, name, port, context, threads, say=lambda line: err.print(line, markup=False))
    raise typer.Exit(code)
