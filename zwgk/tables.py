"""Rows of a pandas table as dicts, for the per-row loops of the measures and their readers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`frame.to_dict("records")`, built from whole columns: pandas boxes every cell one at a time, which takes
    seconds on a nation's column table (294,000 rows); `tolist` gives the same Python values in one pass."""
    if not len(frame.columns):
        return [{} for _ in range(len(frame))]
    names = list(frame.columns)
    columns = [_values(frame.iloc[:, k]) for k in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _values(series: pd.Series) -> list[Any]:
    values = series.tolist()
    if isinstance(series.dtype, np.dtype):
        return values
    return [None if v is pd.NA else v for v in values]  # nullable dtypes: None, as to_dict gives
