"""One converter from report tables, dataclasses and paths to JSON-safe data (APIs, XComs, JSON output)."""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """Dates → ISO strings, NaN/NA → None, numpy/pandas scalars → Python, dataclasses/dicts/lists recursively."""
    if value is None or isinstance(value, str | bool):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas NA / NaT (NaT is a datetime: its isoformat is "NaT")
        return None
    if isinstance(value, datetime | date):  # pandas.Timestamp is a datetime
        return value.isoformat()
    if hasattr(value, "item"):  # numpy / pandas scalar
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
        if isinstance(value, datetime | date):
            return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
