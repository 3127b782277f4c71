"""Reviewer effort on the family of real splits (issue 21): pair precision / recall after 0, 1, 2, 5 ... decisions
of a simulated reviewer, with a budget of one decision per person who crosses between the cameras.

Every split of ``examples/splits.yaml`` is processed with the fresh-install defaults from the detections that
``benchmarks/bench_splits.py`` cached (``--cache``; run that first), then ``reid evaluate-review`` answers the
review queue from the split's reference on a copy of the database. Tuning and held-out splits are reported apart.

    python benchmarks/bench_splits.py --splits data/splits          # renders nothing, caches detections
    python benchmarks/bench_review.py --splits data/splits

Results: ``benchmarks/results/review-splits-cpu-DATE.json`` and a Markdown table for docs/gui.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_result  # noqa: E402
from reid.data.motio import read_mot  # noqa: E402
from tools.make_splits import load_splits  # noqa: E402

AFTER = re.compile(r"after\s+(\d+) decisions: pair precision (\d+)/(\d+) = [\d.]+, recall (\d+)/(\d+)")


def crossing_people(gt_dir: Path) -> int:
    """People of the reference seen (consider = 1) by more than one camera."""
    seen: dict[int, set[str]] = {}
    for path in sorted(gt_dir.glob("*.txt")):
        for frame in read_mot(path).values():
            for pid, consider in zip(frame.ids, frame.scores, strict=True):  # a gt file's 7th column
                if consider > 0:
                    seen.setdefault(int(pid), set()).add(path.stem)
    return sum(len(cams) > 1 for cams in seen.values())


def reid_cli(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "reid", *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"reid {args[0]} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return done.stdout


def review_split(split_dir: Path, cache: Path, out: Path, budget: int) -> list[dict[str, Any]]:
    """Process one split from cached detections, then review it; the curve as dicts."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "site.db"
    db.unlink(missing_ok=True)
    dets = [f"--detections={p.stem}={p}" for p in sorted(cache.glob("*.txt"))]
    reid_cli("process", "--manifest", str(split_dir / "cameras.yaml"), "--db", str(db), "--no-progress", *dets)
    text = reid_cli("evaluate-review", "--gt", str(split_dir / "gt"), "--db", str(db), "--budget", str(budget),
                    "--out", str(out / "reviewed.db"), "--overwrite", "--manifest", str(split_dir / "cameras.yaml"))
    return [dict(decisions=int(m[0]), correct=int(m[1]), linked=int(m[2]), true=int(m[4]))
            for m in AFTER.findall(text)]


def _pr(point: dict[str, Any]) -> str:
    precision = point["correct"] / point["linked"] if point["linked"] else 1.0
    recall = point["correct"] / point["true"] if point["true"] else 1.0
    return f"{precision:.2f} / {recall:.2f} ({point['correct']}/{point['linked']}, {point['correct']}/{point['true']})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=Path, default=ROOT / "data/splits")
    ap.add_argument("--spec", type=Path, default=ROOT / "examples/splits.yaml")
    ap.add_argument("--cache", type=Path, default=ROOT / "out/bench-splits")
    ap.add_argument("--out", type=Path, default=ROOT / "out/bench-review")
    ap.add_argument("--only", nargs="*", help="split names")
    args = ap.parse_args()
    rows = []
    for split in load_splits(args.spec):
        if args.only and split.name not in args.only:
            continue
        cache = args.cache / split.name / "yolo_yolov8s-fall.pt"
        if not cache.is_dir():
            raise SystemExit(f"{cache}: no cached detections; run benchmarks/bench_splits.py first")
        budget = crossing_people(args.splits / split.name / "gt")
        curve = review_split(args.splits / split.name, cache, args.out / split.name, budget)
        rows.append({"split": split.name, "role": split.role, "budget": budget, "curve": curve})
        print(f"{split.name} ({split.role}): {budget} crossing people; before {_pr(curve[0])}; "
              f"after {curve[-1]['decisions']} decisions {_pr(curve[-1])}", flush=True)
    print("\n| split | role | crossing people (budget) | before review | after the budget | decisions made |")
    print("|---|---|---|---|---|---|")
    for role in ("tuning", "held-out"):
        for r in (r for r in rows if r["role"] == role):
            c = r["curve"]
            print(f"| {r['split']} | {role} | {r['budget']} | {_pr(c[0])} | {_pr(c[-1])} | {c[-1]['decisions']} |")
    write_result("review-splits", {"rows": rows})


if __name__ == "__main__":
    main()
