"""Vendor Apache ECharts from npm into static/vendor (`python -m dashboards.assets`): no CDN at run time.

Runs `npm ci` (or `npm install` without a lock file) in dashboards/ only when node_modules lacks
ECharts, then copies `echarts.min.js` when it is missing or differs. Idempotent and fast when present.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

DASHBOARD_DIR = Path(__file__).parent
VENDOR_DIR = DASHBOARD_DIR / "static" / "vendor"
ECHARTS_DIST = DASHBOARD_DIR / "node_modules" / "echarts" / "dist" / "echarts.min.js"
ECHARTS_VENDORED = VENDOR_DIR / "echarts.min.js"


class AssetError(RuntimeError):
    """The front-end assets cannot be built (npm missing or failing)."""


def _npm_install() -> None:
    npm = shutil.which("npm")
    if not npm:
        raise AssetError(
            "npm was not found on PATH: install Node.js and npm (Debian: apt-get install nodejs npm), "
            "then run `make assets` (python -m dashboards.assets) again"
        )
    lock = DASHBOARD_DIR / "package-lock.json"
    cmd = [npm, "ci" if lock.exists() else "install", "--no-audit", "--no-fund"]
    proc = subprocess.run(cmd, cwd=DASHBOARD_DIR, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssetError(f"`{' '.join(cmd[:2])}` failed in {DASHBOARD_DIR}:\n{proc.stderr.strip()[-2000:]}")


def build_assets(force: bool = False) -> Path:
    """Make sure static/vendor/echarts.min.js exists and matches the pinned npm package; return its path."""
    if force or not ECHARTS_DIST.exists():
        _npm_install()
        if not ECHARTS_DIST.exists():
            raise AssetError(f"npm finished but {ECHARTS_DIST} is missing")
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    if not ECHARTS_VENDORED.exists() or not filecmp.cmp(ECHARTS_DIST, ECHARTS_VENDORED, shallow=False):
        shutil.copyfile(ECHARTS_DIST, ECHARTS_VENDORED)
    return ECHARTS_VENDORED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboards.assets",
        description="Vendor Apache ECharts (npm) into dashboards/static/vendor for the dashboard.",
    )
    parser.add_argument("--force", action="store_true", help="re-run npm ci even when node_modules exists")
    args = parser.parse_args(argv)
    try:
        path = build_assets(force=args.force)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"ECharts vendored: {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
