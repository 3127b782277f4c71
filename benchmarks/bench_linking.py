"""Linking ablation on real footage (the shipped sample against its reference) and on the hard synthetic scene.

Each row switches one lever of ``reid process`` on top of the row before (detector, threshold, crops,
topology, linkage); every row is scored with ``reid.link.link_eval`` (cross-camera tracklet-pair precision and
recall, identity purity) and cross-camera IDF1 (``reid.video.mot_eval``). Detections are computed once per
detector and cached as MOTChallenge files, so rows differ only in what they change.

    python benchmarks/bench_linking.py            # real sample (+ hard synthetic scene if rendered)
    python tools/make_synthetic_scene.py data/hard0 --hard --seed 0      # and --seed 1, 2 ...
    python benchmarks/bench_linking.py --synthetic data/hard0 data/hard1 data/hard2

Results: ``benchmarks/results/linking-cpu-DATE.json`` and the table printed in Markdown for docs/linking.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.common import write_result  # noqa: E402
from reid.config import DetectorConfig, PipelineConfig, override  # noqa: E402
from reid.data.motio import read_mot, write_mot  # noqa: E402
from reid.link.link_eval import box_iou, link_scores, tracklet_persons  # noqa: E402
from reid.store import Store  # noqa: E402
from reid.video.manifest import Manifest, load_manifest  # noqa: E402
from reid.video.mot_eval import IOU, evaluate_tracks, store_predictions  # noqa: E402
from reid.video.pipeline import run_pipeline  # noqa: E402
from reid.video.source import VideoSource  # noqa: E402
from reid.video.stages import build_detector  # noqa: E402

# One lever per row, each on top of the previous row (the last row is what a fresh install runs).
LEVERS: list[tuple[str, dict[str, Any]]] = [
    ("old defaults: threshold 0.6, appearance only", {"link.threshold": 0.6, "link.topology": False,
                                                      "link.linkage": "average", "link.stitch": False,
                                                      "link.zone_margin": 0.0,
                                                      "link.max_reentry_s": 0.0, "tracker.clean_crops": False,
                                                      "tracker.split_switches": False,
                                                      "link.camera_centring": False}),
    ("+ calibrated threshold (FAR 1 %)", {"link.threshold": None}),
    ("+ clean crops only (no border-cut / occluded)", {"tracker.clean_crops": True}),
    ("+ tracks cut at identity switches", {"tracker.split_switches": True}),
    ("+ learned zones and transit times, re-entry limit", {"link.topology": True, "link.max_reentry_s": 10.0,
                                                           "link.zone_margin": 0.0}),
    ("+ feet near a zone border in both zones", {"link.zone_margin": 0.03}),
    ("+ lost tracks stitched within a camera", {"link.stitch": True}),
    ("+ complete linkage", {"link.linkage": "complete"}),
    ("+ complete over cross-camera pairs", {"link.linkage": "cross-complete"}),
    ("+ camera centring (= fresh-install defaults)", {"link.camera_centring": True}),
    ("single linkage instead of cross-complete", {"link.linkage": "single"}),
]


def cached_detections(manifest: Manifest, cfg: DetectorConfig, folder: Path) -> tuple[dict[str, str], str]:
    """MOTChallenge detection files per camera for detector ``cfg`` (computed once, then read back)."""
    detector = build_detector(cfg, "cpu")
    size = "" if cfg.imgsz == DetectorConfig().imgsz else f"-imgsz{cfg.imgsz}"  # the name leaves the size out
    folder = folder / (detector.name.replace(":", "_").replace("/", "_") + size)
    files = {c.name: folder / f"{c.name}.txt" for c in manifest.cameras}
    if all(p.is_file() for p in files.values()):
        return {k: str(v) for k, v in files.items()}, detector.name
    folder.mkdir(parents=True, exist_ok=True)
    for cam in manifest.cameras:
        rows = []
        for frame in VideoSource(cam.name, cam.files, start_time=cam.start_time):
            d = detector.detect([frame.image], [frame.index])[0]
            rows += [(frame.index + 1, -1, box, score) for box, score in zip(d.boxes, d.scores, strict=True)]
        write_mot(files[cam.name], rows)
    return {k: str(v) for k, v in files.items()}, detector.name


def miss_runs(gt: Path, detections: dict[str, str]) -> dict[str, Any]:
    """How a detector misses the reference's people: the share of reference boxes no detection covers (IoU >=
    0.5) and the lengths of the runs of consecutive missed frames per person (10 = 10 or more). Real detectors
    miss in runs, which is what fragments tracks; the hard synthetic scene's detector-like boxes are made to
    miss the same way (``reid.data.scenes.forecourt.MISS_START``)."""
    runs: Counter = Counter()
    total = missed = 0
    for cam, det_file in sorted(detections.items()):
        truth, found = read_mot(gt / f"{cam}.txt"), read_mot(det_file)
        hits: dict[int, dict[int, bool]] = defaultdict(dict)
        for frame, ref in truth.items():
            d = found.get(frame)
            ok = np.zeros(len(ref.ids), bool)
            if d is not None and len(d.boxes):
                ok = box_iou(ref.boxes.astype(np.float64), d.boxes.astype(np.float64)).max(1) >= IOU
            for pid, hit in zip(ref.ids.tolist(), ok.tolist(), strict=True):
                hits[pid][frame] = hit
        for seq in hits.values():
            flags = [seq[f] for f in sorted(seq)]
            total, missed, run = total + len(flags), missed + flags.count(False), 0
            for hit in [*flags, True]:
                if not hit:
                    run += 1
                elif run:
                    runs[min(run, 10)] += 1
                    run = 0
    return {"miss_rate": missed / max(total, 1), "boxes": total, "miss_runs": dict(sorted(runs.items()))}


def identity_mix(gt_files: dict[str, Path], pred: dict[str, Any], share: float = 0.1) -> dict[str, Any]:
    """How identities mix people (issue 20): the number of identities in which a second reference person holds
    more than ``share`` of the boxes, and the worst identity's purity (its majority person's share of its
    boxes; a tracklet's boxes all count for its majority person, as in ``link_scores``; unlinked tracklets
    are identities of their own, tracklets on nobody are nobody's)."""
    members: dict[Any, Counter] = defaultdict(Counter)
    for cam, path in gt_files.items():
        rows = list(pred.get(cam, ()))
        identity = {r.track_id: r.identity_id for r in rows}
        persons, sizes = tracklet_persons(path, rows)
        for t, person in persons.items():
            key = identity[t] if identity[t] is not None else ("alone", cam, t)
            members[key][person if person is not None else ("nobody", cam, t)] += sizes[t]
    mixed = sum(1 for c in members.values()
                if sum(n > share * sum(c.values()) for p, n in c.items() if not isinstance(p, tuple)) > 1)
    worst = min((c.most_common(1)[0][1] / sum(c.values()) for c in members.values()), default=1.0)
    return {"mixed_identities": mixed, "worst_purity": worst}


def score(manifest: Manifest, gt: Path, cfg: PipelineConfig, detections: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "site.db"
        t0 = time.perf_counter()
        summary = run_pipeline(manifest, db, cfg, detections=detections, workers=1, progress=False)
        seconds = time.perf_counter() - t0
        with Store(db, readonly=True) as store:
            pred = store_predictions(store)
    cal = summary.calibration  # the threshold the link step resolved (reid.link.calibrate.resolve_threshold)
    threshold, source = (f"{cal.threshold:.3f}", cal.source) if cal is not None else ("nan", "")
    gt_files = {p.stem: p for p in sorted(gt.glob("*.txt"))}
    links = link_scores(gt_files, pred)
    idf1 = evaluate_tracks(gt_files, pred)["cross_camera"]["idf1"]
    return {**links.as_dict(), **identity_mix(gt_files, pred), "cross_idf1": idf1, "seconds": seconds,
            "threshold": threshold, "threshold_source": source}


def ablation(name: str, manifest_path: Path, gt: Path, detectors: list[DetectorConfig], cache: Path) -> list[dict]:
    """Every lever row for each detector (an empty ``detectors``: the reference's own boxes as detections)."""
    manifest = load_manifest(manifest_path)
    det = gt.parent / "det"  # a rendered scene's detector-like boxes (jittered, some missed), else the true ones
    boxes = det if det.is_dir() else gt
    sets = ([cached_detections(manifest, d, cache / name) for d in detectors] if detectors
            else [({p.stem: str(p) for p in sorted(boxes.glob("*.txt"))}, f"scene {boxes.name}/ boxes")])
    rows = []
    for detections, det_name in sets:
        cfg = PipelineConfig()
        for label, change in LEVERS:
            row_cfg = override(cfg, change)
            if "instead of" not in label:  # a variant row does not carry over to the next row
                cfg = row_cfg
            result = score(manifest, gt, row_cfg, detections)
            rows.append({"scene": name, "detector": det_name, "lever": label, **result})
            print(f"{name:10s} {det_name[:24]:24s} {label:52s} P {result['pair_precision']:.2f} "
                  f"({result['correct_pairs']}/{result['linked_pairs']}) R {result['pair_recall']:.2f} "
                  f"purity {result['purity']:.2f} IDF1 {result['cross_idf1']:.2f} thr {result['threshold']}",
                  flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    head = ("| scene | detector | lever | pair precision | pair recall | purity | cross-camera IDF1 | threshold | s |\n"
            "|---|---|---|---|---|---|---|---|---|")
    body = [f"| {r['scene']} | {r['detector'].split('(')[0]} | {r['lever']} | {r['pair_precision']:.2f} "
            f"({r['correct_pairs']}/{r['linked_pairs']}) | {r['pair_recall']:.2f} ({r['correct_pairs']}/"
            f"{r['true_pairs']}) | {r['purity']:.2f} | {r['cross_idf1']:.2f} | {r['threshold']} | {r['seconds']:.0f} |"
            for r in rows]
    return "\n".join([head, *body])


def side_by_side(rows: list[dict], real: str = "yolo") -> str:
    """Per lever: the real sample (detector ``real``) next to each synthetic scene family, pair counts pooled
    over its seeds (``synthetic same0..2`` -> ``same``), so that one seed's handful of links does not decide."""
    families: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for r in rows:
        if r["scene"] == "real" and not r["detector"].startswith(real):
            continue
        family = "real" if r["scene"] == "real" else r["scene"].split()[-1].rstrip("0123456789")
        counts = families[family][r["lever"]]
        for k, key in enumerate(("correct_pairs", "linked_pairs", "true_pairs")):
            counts[k] += r[key]
    names = ["real", *sorted(f for f in families if f != "real")]
    rate = lambda a, b: f"{a / b:.2f}" if b else "-"  # noqa: E731
    head = "| lever | " + " | ".join(f"{n}: precision / recall" for n in names) + " |"
    lines = [head, "|---|" + "---|" * len(names)]
    for lever, _ in LEVERS:
        cells = []
        for n in names:
            c, linked, true = families[n].get(lever, [0, 0, 0])
            cells.append(f"{rate(c, linked)} / {rate(c, true)} ({c}/{linked}, {c}/{true})")
        lines.append(f"| {lever} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=Path, nargs="*", default=[],
                        help="hard synthetic scene folders (make_synthetic_scene --hard: cameras.yaml, gt/, det/)")
    parser.add_argument("--cache", type=Path, default=ROOT / "out" / "bench-linking")
    parser.add_argument("--detectors", default="auto,hog", help="comma-separated detector kinds for the real sample")
    parser.add_argument("--quick", action="store_true", help="the default detector only")
    parser.add_argument("--miss-runs", action="store_true",
                        help="only print how the detectors (and the scenes' detector-like boxes) miss people")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.miss_runs:
        manifest = load_manifest(ROOT / "examples" / "cameras.yaml")
        for kind in (["auto"] if args.quick else args.detectors.split(",")):
            files, name = cached_detections(manifest, dataclasses.replace(DetectorConfig(), kind=kind), args.cache / "real")
            print(f"real sample, {name}: {miss_runs(ROOT / 'examples' / 'reference' / 'gt', files)}")
        for folder in args.synthetic:
            files = {p.stem: str(p) for p in sorted((folder / "det").glob("*.txt"))}
            print(f"{folder}: {miss_runs(folder / 'gt', files)}")
        return
    kinds = ["auto"] if args.quick else args.detectors.split(",")
    rows = ablation("real", ROOT / "examples" / "cameras.yaml", ROOT / "examples" / "reference" / "gt",
                    [dataclasses.replace(DetectorConfig(), kind=k) for k in kinds], args.cache)
    for folder in args.synthetic:
        rows += ablation(f"synthetic {folder.name}", folder / "cameras.yaml", folder / "gt", [], args.cache)
    print(markdown(rows))
    print(side_by_side(rows))
    print(write_result("linking", {"rows": rows}, quick=args.quick))


if __name__ == "__main__":
    main()
