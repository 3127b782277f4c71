"""Whole-site linking and ``reid relink`` at 1,000 / 10,000 / 100,000 tracklets of 16 cameras (issue 23).

For each size a site is generated (``tools/make_fake_db.py``: ``tests/fake_store.py``, ``--dim``-d embeddings
(64), 16 cameras, the recording ``N / 100,000`` hours long (at least one 6-minute file per camera) so that the
busiest site is 16 cameras x 1 hour, ~28 tracklets a second, and 10,000 are as crowded), then each measured step
runs in its own child process on a fresh copy of it, timed with its peak RSS
(``resource.getrusage(RUSAGE_CHILDREN)`` of that child alone):

* ``link``: ``reid.link.database.link_database`` on the stored embeddings (the call ``reid relink`` ends with);
* ``relink``: ``reid relink DB --no-progress`` (re-embedding every stored crop with the hand-crafted
  descriptor, 750-d, then linking); sizes above ``--relink-max`` skip it (the descriptor's own speed, not the
  linking, set its time there before it got 4x faster: ~300 s for 10,000 tracklets on a 2-core box).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.bench_link_scale [--quick] [--sizes 1000 10000] [--dim 750]
        [--baseline DIR]

``--baseline DIR``: also link each site with the ``reid`` package in ``DIR`` (a copy of ``reid/`` as it was, e.g.
``cp -r reid /tmp/before/``), on its own copy of the same site, right before this tree's: ``link_baseline``,
and the ratio of the two wall times (the machine is shared: compare within one run).

``--quick``: 1,000 and 10,000 only. Targets (issue 23) at 100,000: linking < 60 s and < 4 GB, relink < 10 min
and < 6 GB. Single-threaded BLAS, as the other linking benchmarks; the setting is saved with the results.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import write_result  # noqa: E402

CAMERAS = 16
PER_HOUR = 100_000  # tracklets per hour of 16 cameras: the busiest site in one hour
LINK = """
import sys
from reid.config import LinkConfig
from reid.link.database import link_database
from reid.store import Store
with Store(sys.argv[1]) as store:
    out = link_database(store, LinkConfig())
print(f"{out.identities} identities, {out.cross_camera} across cameras, {out.links} links; {out.calibration.describe()}")
"""


def measured(cmd: list[str], timeout: float) -> dict:
    """Run ``cmd`` as a child; its wall time, peak RSS (MB) and exit status (``timeout`` s at most)."""
    import resource

    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        rc, tail = proc.returncode, (proc.stdout.strip() or proc.stderr.strip()).splitlines()[-3:]
    except subprocess.TimeoutExpired:
        rc, tail = None, [f"timed out after {timeout:.0f} s"]
    seconds = time.perf_counter() - t0
    # ru_maxrss of RUSAGE_CHILDREN is the largest of the waited-for children: each step runs in a fresh
    # grandchild of its own (``_isolated``), so this is that step's peak
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak), "rc": rc, "tail": tail}


def _isolated(cmd: list[str], timeout: float) -> dict:
    """``measured(cmd)`` inside a fresh Python child, so that RUSAGE_CHILDREN holds this step alone."""
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.bench_link_scale import measured; "
        f"print(json.dumps(measured({cmd!r}, {timeout!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    import json

    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"rc": out.returncode, "tail": out.stderr.splitlines()[-3:]}


def one_size(n: int, tmp: Path, timeout: float, dim: int, relink: bool, baseline: Path | None = None) -> dict:
    """Generate a site of ``n`` tracklets; link it (first with the ``reid`` in ``baseline``, when given) and
    (``relink``) relink it, each on its own copy."""
    site = tmp / f"site-{n}.db"
    hours = n / PER_HOUR
    gen = _isolated(
        [
            sys.executable,
            "tools/make_fake_db.py",
            str(site),
            "--tracklets",
            str(n),
            "--cameras",
            str(CAMERAS),
            "--hours",
            f"{hours:.6g}",
            "--dim",
            str(dim),
            "--force",
        ],
        timeout,
    )
    print(f"{n}: generated in {gen['seconds']} s", flush=True)
    row: dict = {"tracklets": n, "cameras": CAMERAS, "hours": round(hours, 4), "dim": dim, "generate": gen}
    steps = [("link", [sys.executable, "-c", LINK])]
    if baseline is not None:
        steps.insert(
            0,
            (
                "link_baseline",
                [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(baseline)!r})" + LINK],
            ),
        )
    if relink:
        steps.append(("relink", [sys.executable, "-m", "reid", "relink", "--no-progress", "--device", "cpu"]))
    for step, cmd in steps:
        copy = tmp / f"{step}-{n}.db"
        shutil.copyfile(site, copy)
        row[step] = _isolated([*cmd, str(copy)], timeout)
        print(f"{n}: {step} {row[step]}", flush=True)
        copy.unlink()
    site.unlink()
    if baseline is not None and row["link"].get("seconds") and row["link_baseline"].get("seconds"):
        row["link_speedup"] = round(row["link_baseline"]["seconds"] / row["link"]["seconds"], 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 tracklets only")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per step at most")
    parser.add_argument("--dim", type=int, default=64, help="stored embedding size (the descriptor's: 750)")
    parser.add_argument("--relink-max", type=int, default=100_000, help="relink sites up to this size only")
    parser.add_argument(
        "--baseline", type=Path, help="a folder holding an earlier reid/ to link each site with too"
    )
    args = parser.parse_args()
    sizes = [s for s in args.sizes if s <= 10_000] if args.quick else args.sizes
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            one_size(n, Path(tmp), args.timeout, args.dim, n <= args.relink_max, args.baseline) for n in sizes
        ]
    figures = {
        "runs": rows,
        "baseline": str(args.baseline) if args.baseline else None,
        "blas_threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    }
    name = (
        "link-scale" + (f"-d{args.dim}" if args.dim != 64 else "") + ("-vs-baseline" if args.baseline else "")
    )
    path = write_result(name, figures, quick=args.quick)
    for r in rows:
        relink = r.get("relink", {})
        print(
            f"{r['tracklets']:>7} tracklets: link {r['link'].get('seconds')} s / {r['link'].get('peak_rss_mb')} MB; "
            f"relink {relink.get('seconds', '-')} s / {relink.get('peak_rss_mb', '-')} MB"
            + (
                f"; baseline link {r['link_baseline'].get('seconds')} s / {r['link_baseline'].get('peak_rss_mb')} MB"
                if "link_baseline" in r
                else ""
            )
        )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
