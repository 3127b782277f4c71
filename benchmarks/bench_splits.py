"""Cross-camera linking on the family of real splits (issue 20): one table, split by split, tuning and held-out apart.

Every split of ``examples/splits.yaml`` (rendered by ``tools/make_splits.py``: two views cut from
``vtest.avi``, their reference derived from ``examples/reference/uncut.txt``) is run with the fresh-install
defaults of ``reid process`` (``PipelineConfig()``: the default YOLO, ``models/yolov8s-fall.pt``) and scored
as ``benchmarks/bench_linking.py`` scores the sample (``score``: cross-camera tracklet-pair precision and
recall, purity, cross-camera IDF1, plus the worst identity's purity and the identities holding a second
reference person for more than 10 % of their boxes). Detections are computed once per split and camera and
cached as MOTChallenge files (``--cache``), so a rerun only tracks, embeds and links.

    python tools/make_splits.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data/vtest.avi --out data/splits
    python benchmarks/bench_splits.py --splits data/splits
    python benchmarks/bench_splits.py --splits data/splits --lever centring:link.camera_centring=true  # vs defaults

Results: ``benchmarks/results/linking-splits-cpu-DATE.json`` and the table printed in Markdown for docs/linking.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_linking import cached_detections, score  # noqa: E402
from benchmarks.common import write_result  # noqa: E402
from reid.config import PipelineConfig, override  # noqa: E402
from reid.video.manifest import load_manifest  # noqa: E402
from tools.make_splits import Split, load_splits  # noqa: E402

POOLED = ("correct_pairs", "linked_pairs", "true_pairs", "mixed_identities")


def views(split: Split) -> str:
    """``adjacent at 384`` / ``overlap 128 px`` / ``gap 128 px``, fps, frames and any changed response."""
    a, b = sorted(split.cameras, key=lambda c: c.x[0])
    edge = a.x[1] - b.x[0]
    how = f"adjacent at {b.x[0]}" if edge == 0 else f"overlap {edge} px" if edge > 0 else f"gap {-edge} px"
    changed = []
    for cam in split.cameras:
        parts = [f"wb {'/'.join(f'{g:g}' for g in cam.wb)}" if cam.wb != (1.0, 1.0, 1.0) else "",
                 f"gamma {cam.gamma:g}" if cam.gamma != 1.0 else "",
                 f"sat {cam.saturation:g}" if cam.saturation != 1.0 else "",
                 f"blur {cam.blur:g}" if cam.blur else "", f"{cam.scale:g}x" if cam.scale != 1.0 else "",
                 f"JPEG q{cam.jpeg}" if cam.jpeg else ""]  # fmt: skip
        if any(parts):
            changed.append(f"{cam.name}: {', '.join(p for p in parts if p)}")
    frames = f"{split.frames[0]}-{split.frames[1]}"
    return "; ".join([how, f"{10 / split.every:g} fps", f"frames {frames}", *changed])


def run_split(split: Split, folder: Path, cfg: PipelineConfig, cache: Path) -> dict[str, Any]:
    """Score one rendered split with ``cfg`` (detections cached under ``cache/<split>``)."""
    manifest = load_manifest(folder / "cameras.yaml")
    t0 = time.perf_counter()
    detections, det_name = cached_detections(manifest, cfg.detector, cache / split.name)
    detect_s = time.perf_counter() - t0
    result = score(manifest, folder / "gt", cfg, detections)
    return {"split": split.name, "role": split.role, "views": views(split), "detector": det_name,
            "detect_seconds": detect_s, **result}  # fmt: skip


def pooled(rows: list[dict[str, Any]], role: str) -> dict[str, Any]:
    """Pair counts and mixed identities summed over the splits of one role; the worst purity over them."""
    mine = [r for r in rows if r["role"] == role]
    out: dict[str, Any] = {"split": f"pooled {role}", "role": role, "views": f"{len(mine)} splits"}
    for key in POOLED:
        out[key] = sum(r[key] for r in mine)
    out["pair_precision"] = out["correct_pairs"] / out["linked_pairs"] if out["linked_pairs"] else 1.0
    out["pair_recall"] = out["correct_pairs"] / out["true_pairs"] if out["true_pairs"] else 1.0
    out["worst_purity"] = min((r["worst_purity"] for r in mine), default=1.0)
    for key in ("purity", "cross_idf1"):
        out[key] = sum(r[key] for r in mine) / max(len(mine), 1)
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    """One table: tuning splits, their pooled row, then held-out splits and theirs."""
    head = (
        "| split | role | views | pair precision | pair recall | purity | worst identity purity | "
        "identities > 1 person | cross-camera IDF1 | threshold |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for role in ("tuning", "held-out"):
        for r in [*[r for r in rows if r["role"] == role], pooled(rows, role)]:
            bold = "**" if r["split"].startswith("pooled") else ""
            lines.append(
                f"| {bold}{r['split']}{bold} | {r['role']} | {r['views']} | {r['pair_precision']:.2f} "
                f"({r['correct_pairs']}/{r['linked_pairs']}) | {r['pair_recall']:.2f} ({r['correct_pairs']}/"
                f"{r['true_pairs']}) | {r['purity']:.2f} | {r['worst_purity']:.2f} | {r['mixed_identities']} | "
                f"{r['cross_idf1']:.2f} | {r.get('threshold', '')} |"
            )
    return "\n".join(lines)


def lever_table(runs: dict[str, list[dict[str, Any]]]) -> str:
    """Pair precision / recall of every split and pooled row (tuning, then held-out) under each configuration."""
    names = list(runs)
    head = "| split | role | " + " | ".join(names) + " |\n|---|---|" + "---|" * len(names)
    cell = lambda r: (  # noqa: E731
        f"{r['pair_precision']:.2f} / {r['pair_recall']:.2f} ({r['correct_pairs']}/{r['linked_pairs']}"
        f"/{r['true_pairs']})"
    )
    lines = [head]
    first = runs[names[0]]
    for role in ("tuning", "held-out"):
        for k, r in enumerate([*[r for r in first if r["role"] == role], pooled(first, role)]):
            per = [[x for x in runs[n] if x["role"] == role] for n in names]
            cells = [cell(pooled(rows, role) if r["split"].startswith("pooled") else rows[k]) for rows in per]
            bold = "**" if r["split"].startswith("pooled") else ""
            lines.append(f"| {bold}{r['split']}{bold} | {role} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_levers(args: argparse.Namespace, base: dict[str, Any]) -> None:
    """``--lever``: every split under the defaults (with ``--set``) and under each lever; one table, one file."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for lever in ["baseline", *args.lever]:
        name, _, sets = lever.partition(":")
        extra = {k: yaml.safe_load(v) for k, v in (kv.split("=", 1) for kv in sets.split(",") if kv)}
        cfg = override(PipelineConfig(), {**base, **extra})
        runs[name] = [run_split(split, args.splits / split.name, cfg, args.cache) for split in load_splits(args.spec)
                      if not args.only or split.name in args.only]  # fmt: skip
        print(f"{name}: {lever_table({name: runs[name]}).splitlines()[-1]}", flush=True)
    print(lever_table(runs))
    figures = {
        "levers": args.lever,
        "overrides": args.set,
        "runs": runs,
        "pooled": {n: [pooled(rows, "tuning"), pooled(rows, "held-out")] for n, rows in runs.items()},
    }
    print(write_result("linking-splits-levers", figures, quick=bool(args.only)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=Path, default=ROOT / "data" / "splits", help="make_splits.py --out")
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "splits.yaml")
    parser.add_argument("--cache", type=Path, default=ROOT / "out" / "bench-splits")
    parser.add_argument("--only", nargs="*", default=[], help="these splits only")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides on top of the defaults (a lever to try), e.g. link.far=0.02",
    )
    parser.add_argument(
        "--lever",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="compare levers: every split with the defaults and with each lever, one table "
        "(linking-splits-levers), e.g. centring:link.camera_centring=true",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base = {k: yaml.safe_load(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    if args.lever:
        run_levers(args, base)
        return
    cfg = override(PipelineConfig(), base)
    t0 = time.perf_counter()
    rows = []
    for split in load_splits(args.spec):
        if args.only and split.name not in args.only:
            continue
        row = run_split(split, args.splits / split.name, cfg, args.cache)
        rows.append(row)
        print(f"{split.name:26s} {split.role:8s} P {row['pair_precision']:.2f} ({row['correct_pairs']}/"
              f"{row['linked_pairs']}) R {row['pair_recall']:.2f} ({row['correct_pairs']}/{row['true_pairs']}) "
              f"purity {row['purity']:.2f} worst {row['worst_purity']:.2f} mixed {row['mixed_identities']} "
              f"IDF1 {row['cross_idf1']:.2f} thr {row['threshold']} ({row['seconds']:.0f} s, detect "
              f"{row['detect_seconds']:.0f} s)", flush=True)  # fmt: skip
    total = time.perf_counter() - t0
    print(markdown(rows))
    print(f"whole table: {total:.0f} s ({sum(r['detect_seconds'] for r in rows):.0f} s detecting)")
    figures = {"rows": rows, "pooled": [pooled(rows, "tuning"), pooled(rows, "held-out")], "seconds": total,
               "overrides": args.set, "spec": str(args.spec.relative_to(ROOT) if args.spec.is_relative_to(ROOT)
                                                    else args.spec)}  # fmt: skip
    name = "linking-splits" + (
        "-" + "-".join(s.replace("=", "").replace(".", "") for s in args.set) if args.set else ""
    )
    print(write_result(name, figures, quick=bool(args.only)))


if __name__ == "__main__":
    main()
