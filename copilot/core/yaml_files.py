"""Reading the small YAML files a person writes (policies, recipes) with one clear error for each failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from curation_tools.errors import UserInputError

MAX_BYTES = 1_000_000


def read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    """The YAML mapping in `path`; binary, oversized, unparsable or non-mapping content is a UserInputError."""
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as error:
        raise UserInputError(f"{path}: cannot read the {what} file ({error.strerror}).") from None
    if len(raw) > MAX_BYTES:
        raise UserInputError(f"{path}: a {what} file over {MAX_BYTES // 1000} kB is not a {what}; check the path.")
    try:
        text = raw.decode("utf-8")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", raw, text.index("\x00"), text.index("\x00") + 1, "NUL byte")
        loaded = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: not a text file (binary bytes); a {what} is YAML text.") from None
    except yaml.YAMLError as error:
        raise UserInputError(f"{path}: not valid YAML ({error}).") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UserInputError(f"{path}: a {what} is a YAML mapping of keys, not a {type(loaded).__name__}.")
    return loaded
