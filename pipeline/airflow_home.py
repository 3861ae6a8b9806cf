"""A self-contained Airflow for the project: AIRFLOW_HOME under settings.home()/airflow, SQLite metadata
DB by default, no example DAGs, the repo's `dags/` folder, and a migration that runs once.

Airflow reads its configuration when `airflow` is first imported, so call `airflow_env()` (cheap, no
Airflow import) or `ensure_airflow()` before anything imports Airflow. Every setting is a default:
AIRFLOW_HOME, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN (e.g. Postgres), AIRFLOW__CORE__EXECUTOR and the
rest of Airflow's own environment variables win when they are set.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from zwgk import settings

log = logging.getLogger(__name__)

DAGS_FOLDER = Path(__file__).resolve().parent.parent / "dags"
MIGRATED_STAMP = ".zwgk-migrated"  # "<airflow version>|<metadata DB URL>" of the last successful migration


def airflow_home() -> Path:
    """AIRFLOW_HOME when set, else settings.home()/airflow."""
    return Path(os.environ.get("AIRFLOW_HOME") or settings.home() / "airflow")


def airflow_env(quiet: bool = False) -> Path:
    """Set Airflow's environment defaults for this process (before Airflow is imported); return AIRFLOW_HOME."""
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))
    os.environ.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", settings.TIMEZONE)
    if quiet:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    if "airflow.configuration" in sys.modules:
        from airflow.configuration import AIRFLOW_HOME as loaded_home

        if Path(loaded_home).resolve() != home.resolve():
            log.warning("Airflow was imported before airflow_env(): it uses %s, not %s", loaded_home, home)
    return home


def metadata_db_url() -> str:
    """The metadata DB URL Airflow will use (its own default is SQLite in AIRFLOW_HOME)."""
    return os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or f"sqlite:///{airflow_home() / 'airflow.db'}"


def _stamp_value() -> str:
    from importlib.metadata import version

    return f"{version('apache-airflow-core')}|{metadata_db_url()}"


def _migrated(home: Path) -> bool:
    """True when this Airflow version already migrated this DB (and a SQLite file is still there)."""
    stamp = home / MIGRATED_STAMP
    if not stamp.exists() or stamp.read_text().strip() != _stamp_value():
        return False
    url = metadata_db_url()
    return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists()


def ensure_airflow(quiet: bool = False) -> Path:
    """Set the environment and migrate the metadata DB once per Airflow version (about 1 s; instant after)."""
    home = airflow_env(quiet=quiet)
    if _migrated(home):
        return home
    from airflow.utils.db import upgradedb

    log.info("migrating the Airflow metadata DB at %s", metadata_db_url())
    upgradedb()
    (home / MIGRATED_STAMP).write_text(_stamp_value())
    return home
