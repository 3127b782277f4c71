"""Linking ablation on real footage (the shipped sample against its reference) and on the hard synthetic scene.

Each row switches one lever of ``reid process`` on top of the row before (detector, threshold, crops,
topology, linkage); every row is scored with ``reid.video.link_eval`` (cross-camera tracklet-pair precision and
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_result  # noqa: E402
from reid.config import DetectorConfig, PipelineConfig, override  # noqa: E402
from reid.store import Store  # noqa: E402
from reid.video.link_eval import link_scores  # noqa: E402
from reid.video.manifest import Manifest, load_manifest  # noqa: E402
from reid.video.mot_eval import evaluate_tracks, store_predictions  # noqa: E402
from reid.video.motio import write_mot  # noqa: E402
from reid.video.pipeline import run_pipeline  # noqa: E402
from reid.video.source import VideoSource  # noqa: E402
from reid.video.stages import build_detector  # noqa: E402

# One lever per row, each on top of the previous row (the last row is what a fresh install runs).
LEVERS: list[tuple[str, dict[str, Any]]] = [
    ("old defaults: threshold 0.6, appearance only", {"link.threshold": 0.6, "link.topology": False,
                                                      "link.linkage": "average",
                                                      "link.max_reentry_s": 0.0, "tracker.clean_crops": False,
                                                      "tracker.split_switches": False}),
    ("+ calibrated threshold (FAR 1 %)", {"link.threshold": None}),
    ("+ clean crops only (no border-cut / occluded)", {"tracker.clean_crops": True}),
    ("+ tracks cut at identity switches", {"tracker.split_switches": True}),
    ("+ learned zones and transit times, re-entry limit", {"link.topology": True, "link.max_reentry_s": 10.0,
                                                           "link.linkage": "average"}),
    ("+ complete linkage (= fresh-install defaults)", {"link.linkage": "complete"}),
    ("single linkage instead of complete", {"link.linkage": "single"}),
]


def cached_detections(manifest: Manifest, cfg: DetectorConfig, folder: Path) -> tuple[dict[str, str], str]:
    """MOTChallenge detection files per camera for detector ``cfg`` (computed once, then read back)."""
    detector = build_detector(cfg, "cpu")
    folder = folder / detector.name.replace(":", "_").replace("/", "_")
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


def score(manifest: Manifest, gt: Path, cfg: PipelineConfig, detections: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "site.db"
        t0 = time.perf_counter()
        run_pipeline(manifest, db, cfg, detections=detections, workers=1, progress=False)
        seconds = time.perf_counter() - t0
        with Store(db, readonly=True) as store:
            pred = store_predictions(store)
            threshold = f"{float(store.get_meta('link_threshold') or 'nan'):.3f}"
            source = store.get_meta("link_threshold_source")
    gt_files = {p.stem: p for p in sorted(gt.glob("*.txt"))}
    links = link_scores(gt_files, pred)
    idf1 = evaluate_tracks(gt_files, pred)["cross_camera"]["idf1"]
    return {**links.as_dict(), "cross_idf1": idf1, "seconds": seconds, "threshold": threshold,
            "threshold_source": source}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=Path, nargs="*", default=[],
                        help="hard synthetic scene folders (make_synthetic_scene --hard: cameras.yaml, gt/, det/)")
    parser.add_argument("--cache", type=Path, default=ROOT / "out" / "bench-linking")
    parser.add_argument("--detectors", default="auto,hog", help="comma-separated detector kinds for the real sample")
    parser.add_argument("--quick", action="store_true", help="the default detector only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kinds = ["auto"] if args.quick else args.detectors.split(",")
    rows = ablation("real", ROOT / "examples" / "cameras.yaml", ROOT / "examples" / "reference" / "gt",
                    [dataclasses.replace(DetectorConfig(), kind=k) for k in kinds], args.cache)
    for folder in args.synthetic:
        rows += ablation(f"synthetic {folder.name}", folder / "cameras.yaml", folder / "gt", [], args.cache)
    print(markdown(rows))
    print(write_result("linking", {"rows": rows}, quick=args.quick))


if __name__ == "__main__":
    main()
