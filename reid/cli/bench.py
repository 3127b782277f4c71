"""``reid bench``: run every benchmark in ``benchmarks/``, collect one results file, regenerate the table.

The benchmark scripts live in the source checkout, not in the package: ``reid bench`` runs each by path in a
subprocess and reads the results files they write to ``benchmarks/results``; it imports nothing from there.
``machine()``, the host description every results file carries, lives here and ``benchmarks/common.py`` uses it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reid.errors import ReidError

ROOT = Path(__file__).resolve().parents[2]  # the source checkout, when reid runs from one
BENCHMARKS = ROOT / "benchmarks"
TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks and update docs/performance.md",
        description="Runs every benchmarks/bench_*.py (each measures a path against its baseline in the same "
        "run), merges their results into benchmarks/results/<machine>-<date>.json and regenerates the table "
        "in docs/performance.md.",
    )
    p.add_argument("--quick", action="store_true", help="smaller problems: about a minute in all")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="run only bench_NAME.py")
    p.add_argument("--timeout", type=int, default=1800, help="seconds allowed per benchmark")
    p.set_defaults(func=run)


def machine() -> dict[str, Any]:
    """CPU, GPU and library versions of this machine."""
    import numpy
    import torch

    info: dict[str, Any] = {
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, rows)
    elif isinstance(value, float):
        rows.append((prefix, f"{value:.4g}"))
    elif isinstance(value, int | str | bool) or value is None:
        rows.append((prefix, str(value)))


def render_table(results: dict[str, Any]) -> str:
    """Markdown table of every figure of every benchmark in a merged results file."""
    lines = [
        f"Measured on {results['machine'].get('cpu')} ({results['machine'].get('cores')} cores, "
        f"GPU: {results['machine'].get('gpu') or 'none'}), {results['date']}"
        f"{' (quick)' if results.get('quick') else ''}.",
        "",
        "| benchmark | figure | value |",
        "|---|---|---|",
    ]
    for name, bench in results["benchmarks"].items():
        if "error" in bench:
            lines.append(f"| {name} | error | {bench['error']} |")
            continue
        rows: list[tuple[str, str]] = [("run time s", str(bench["seconds"]))] if "seconds" in bench else []
        _flatten("", bench.get("figures", {}), rows)
        lines += [f"| {name} | {key} | {value} |" for key, value in rows]
    return "\n".join(lines)


def update_doc(doc: Path, table: str) -> None:
    text = doc.read_text() if doc.is_file() else "# Performance\n\n"
    block = f"{TABLE_START}\n{table}\n{TABLE_END}"
    if TABLE_START in text and TABLE_END in text:
        head, _, rest = text.partition(TABLE_START)
        _, _, tail = rest.partition(TABLE_END)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text)


def run(args: argparse.Namespace) -> int:
    if not BENCHMARKS.is_dir():
        raise ReidError(f"{BENCHMARKS}: benchmarks folder not found; reid bench runs the scripts of a source "
                        "checkout (git clone, then pip install -e . and run it there)")
    scripts = sorted(BENCHMARKS.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    if not scripts:
        raise ReidError(f"{BENCHMARKS}: no benchmark matches {args.only}")
    results = BENCHMARKS / "results"
    merged: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "quick": args.quick,
        "machine": machine(),
        "benchmarks": {},
    }
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        print(f"== {name}", flush=True)
        started = time.time()
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        try:
            proc = subprocess.run(cmd, cwd=ROOT, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            merged["benchmarks"][name] = {"error": f"timed out after {args.timeout} s"}
            continue
        produced = [p for p in results.glob(f"{name}-*.json") if p.stat().st_mtime >= started - 1]
        if proc.returncode != 0 or not produced:
            merged["benchmarks"][name] = {"error": f"exit {proc.returncode}, no results written"}
            continue
        merged["benchmarks"][name] = json.loads(max(produced, key=lambda p: p.stat().st_mtime).read_text())
        merged["benchmarks"][name]["seconds"] = round(time.time() - started, 1)
        print(f"== {name}: {time.time() - started:.0f} s", flush=True)
    host = platform.node() or "machine"
    kind = "gpu" if merged["machine"].get("gpu") else "cpu"
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"{host}-{kind}-{merged['date']}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(merged, indent=2))
    update_doc(ROOT / "docs" / "performance.md", render_table(merged))
    print(f"results: {out}\ntable:   {ROOT / 'docs' / 'performance.md'}")
    failed = [n for n, b in merged["benchmarks"].items() if "error" in b]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
