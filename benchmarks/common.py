"""Shared helpers of the benchmark scripts: repeat timing and writing results with the machine noted."""

from __future__ import annotations

import datetime as _dt
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reid.cli.bench import machine  # one description of the host, shared with `reid bench`

RESULTS = Path(__file__).resolve().parent / "results"


def repeat(fn: Callable[[], Any], repeats: int = 3, warmup: int = 1) -> dict[str, float]:
    """Run ``fn`` ``warmup + repeats`` times; min and median seconds of the timed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"min_s": min(times), "median_s": statistics.median(times), "repeats": repeats}


def write_result(name: str, figures: dict[str, Any], quick: bool = False, out_dir: Path = RESULTS) -> Path:
    """Write ``{name}[-quick]-{cpu|gpu}-{date}.json`` with the machine description; returns the path.

    Quick runs get their own file so they never overwrite the figures of a full run.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = "gpu" if machine()["gpu"] else "cpu"
    stamp = _dt.date.today().isoformat()
    path = out_dir / f"{name}{'-quick' if quick else ''}-{kind}-{stamp}.json"
    payload = {"benchmark": name, "date": stamp, "machine": machine(), "figures": figures}
    path.write_text(json.dumps(payload, indent=2))
    return path
