"""The measures' thresholds and alert settings, read from zwgk/data/rules.yaml (ZWGK_RULES)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from zwgk import settings


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: rules must be a mapping")
    return data


def load_rules(path: str | Path | None = None) -> dict[str, Any]:
    """The whole rules mapping (cached per path)."""
    return _load(str(path or settings.rules_path()))


def section(name: str, path: str | Path | None = None) -> dict[str, Any]:
    """One top-level section (freshness, timeliness, alerts); {} when absent."""
    return dict(load_rules(path).get(name) or {})
