"""`python -m bench` (`make bench`): run every bench/bench_*.py main() with its short defaults and print
one combined table; `--write` appends the outputs as a dated section to bench/RESULTS.md with the machine.

Each bench runs in its own Python process (clean memory numbers, one crash does not stop the rest).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(only: list[str] | None = None) -> list[str]:
    """Module names bench.bench_<area>, in name order, optionally only the given areas."""
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if only:
        names = [n for n in names if n.removeprefix("bench_") in only or n in only]
    return [f"bench.{n}" for n in names]


def run_one(module: str, timeout: float) -> tuple[str, float, str]:
    """Run module.main() in a child Python; return (status, seconds, captured stdout + stderr tail)."""
    code = f"import sys, {module} as m; sys.argv = [{module!r}]; sys.exit(m.main() or 0)"
    started = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                             cwd=HERE.parent)
    except subprocess.TimeoutExpired as exc:
        text = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return "timeout", time.monotonic() - started, text
    seconds = time.monotonic() - started
    text = out.stdout
    if out.returncode != 0:
        text += "\n" + "\n".join(out.stderr.strip().splitlines()[-8:])
    return ("ok" if out.returncode == 0 else f"exit {out.returncode}"), seconds, text


def machine() -> str:
    """CPU model, cores, memory, OS and Python: what the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu} × {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="*", help="areas to run (e.g. crawl index pipeline); default all")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per bench (default 1800)")
    parser.add_argument("--write", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args(argv)

    modules = discover(args.only)
    if not modules:
        print("no bench/bench_*.py found", file=sys.stderr)
        return 1
    rows, sections = [], []
    for i, module in enumerate(modules, 1):
        print(f"[{i}/{len(modules)}] {module} …", file=sys.stderr, flush=True)
        status, seconds, text = run_one(module, args.timeout)
        rows.append((module.removeprefix("bench."), status, seconds))
        sections.append(f"### {module.removeprefix('bench.')} ({status}, {seconds:.1f} s)\n\n```\n{text.rstrip()}\n```")
        print(text.rstrip(), flush=True)
        print(flush=True)

    width = max(len(r[0]) for r in rows)
    summary = [f"{'bench':<{width}}  {'status':<10} {'seconds':>8}", "-" * (width + 21)]
    summary += [f"{name:<{width}}  {status:<10} {seconds:>8.1f}" for name, status, seconds in rows]
    print("\n".join(summary))

    if args.write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        body = "\n\n".join([f"## {stamp}", f"Machine: {machine()}", "```\n" + "\n".join(summary) + "\n```", *sections])
        results = HERE / "RESULTS.md"
        head = "" if results.exists() else "# Benchmark results\n\n`python -m bench --write` appends a section.\n\n"
        with results.open("a", encoding="utf-8") as fh:
            fh.write(head + body + "\n\n")
        print(f"appended to {results}", file=sys.stderr)
    return 0 if all(r[1] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
