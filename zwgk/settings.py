"""Settings read from the environment, one place for every stage."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DATA = Path(__file__).parent / "data"
TIMEZONE = "Asia/Shanghai"


def home() -> Path:
    """State directory outside the repo: ES install and data, model cache, crawl state, dead letters."""
    base = os.environ.get("ZWGK_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zwgk"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def es_url() -> str | None:
    """An existing cluster to use instead of the project's own node (None: start our own)."""
    return os.environ.get("ES_URL") or None


def index_prefix() -> str:
    """Prefix of every index, template and alias, so tests and deployments can share a cluster."""
    return os.environ.get("ZWGK_INDEX_PREFIX", "zwgk")


PACKAGED_PLAN = PACKAGE_DATA / "plan" / "beijing-2016-zwgk-workplan.txt"


def plan_paths() -> list[Path]:
    """The work plans in force, in order: ZWGK_PLAN is one file, several separated by os.pathsep, or a folder
    (its *.txt files by name); default the packaged 2016 plan. zwgk.plans reads them as one PlanSet."""
    out: list[Path] = []
    for part in filter(None, (os.environ.get("ZWGK_PLAN") or "").split(os.pathsep)):
        path = Path(part)
        out += (sorted(path.glob("*.txt")) or [path]) if path.is_dir() else [path]  # an empty folder: its error later
    return out or [PACKAGED_PLAN]


def labelled_paths() -> list[Path]:
    """Pages a user labelled against their plans (JSON lines, the bundled sets' fields; several files separated
    by os.pathsep): env ZWGK_LABELLED, read beside the bundled sets. Each line names its plan in "plan"."""
    return [Path(part) for part in filter(None, (os.environ.get("ZWGK_LABELLED") or "").split(os.pathsep))]


def plan_path() -> Path:
    """The first plan in force (the only one, unless ZWGK_PLAN names several: see plan_paths)."""
    return plan_paths()[0]


def agencies_path() -> Path:
    return Path(os.environ.get("ZWGK_AGENCIES") or PACKAGE_DATA / "agencies.yaml")


def agency_regions_path() -> Path:
    """The folder of per-district agency files (<district id>.yaml), read with the registry."""
    return Path(os.environ.get("ZWGK_AGENCY_REGIONS") or PACKAGE_DATA / "agencies")


def rules_path() -> Path:
    """Freshness thresholds and alert settings (configuration, not code)."""
    return Path(os.environ.get("ZWGK_RULES") or PACKAGE_DATA / "rules.yaml")


def dead_letter_dir() -> Path:
    return Path(os.environ.get("ZWGK_DEAD_LETTER_DIR") or home() / "dead-letter")
