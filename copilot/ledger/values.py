"""Cell values as the ledger stores and compares them: plain JSON (numpy scalars unwrapped, NaN as null)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def jsonable(value: Any) -> Any:
    """Plain JSON value for a cell (numpy scalars unwrapped, NaN as null, arrays as lists)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def dump(value: Any) -> str:
    return json.dumps(jsonable(value), ensure_ascii=False, default=str)


def same(a: Any, b: Any) -> bool:
    return jsonable(a) == jsonable(b)


def comparable_as_stored(left: pd.Series, right: pd.Series) -> bool:
    """Whether two columns compare cell by cell as they are (one numeric, time or string dtype on both sides), so
    that only the cells that may differ need to become Python objects."""
    if left.dtype != right.dtype:
        return False
    return isinstance(left.dtype, pd.StringDtype) or (isinstance(left.dtype, np.dtype) and left.dtype.kind in "iufbMm")


def cells_differ(left: pd.Series, right: pd.Series, nested: bool) -> pd.Series:
    """Cell-wise "may differ" (confirmed by `same`): JSON-text comparison where cells may hold lists or dicts."""
    if nested:
        return left.map(dump) != right.map(dump)
    return (left != right) & ~(left.isna() & right.isna())
