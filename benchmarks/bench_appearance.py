"""Label-free appearance levers judged by ranking alone (issue 20, part 2): the AP of time-plausible
cross-camera pairs, per split of the family, tuning and held-out apart.

For every tracklet of a split's fresh-install database (``benchmarks/bench_review.py`` leaves them in
``out/bench-review/<split>/site.db``) whose reference person is known (``link_eval.tracklet_persons``), its
stored crops (the thumbnails ``reid relink`` re-embeds) are described by the hand-crafted descriptor and
averaged. Each tracklet is then a query against the other camera's tracklets at most ``MAX_GAP_S`` away in
time; AP over those with a true partner. Variants, each using only the site's own crops:

* ``base``: the descriptor as ``reid process`` stores it (it already applies grey-world white balance);
* ``centring``: + camera centring (``reid.link.camera_centring``: each camera's mean moved onto the common
  mean), the default before linking;
* ``btf``: every camera's crops mapped through a brightness transfer function (Javed et al. 2008, Prosser
  et al. 2008) onto the mean cumulative colour histogram of the cameras (per BGR channel, central part of
  each crop), before the descriptor; ``btf+centring``;
* ``kissme-D``: KISSME (Koestinger et al. 2012) in a D-dimensional PCA of the centred crop descriptors:
  similar pairs = crops of one tracklet and mutual nearest cross-camera tracklets within the time window,
  dissimilar = tracklets one camera sees at once; the metric ``inv(S) - inv(D)`` clipped to PSD.

Nothing here is tuned: every variant is reported on every split. Run ``bench_review.py`` first.
``--link``: ranking is not linking; each split's database is also linked (on a copy, with the split's
manifest) in the KISSME-16 space (vectors L2-normalised, camera centring off as KISSME works on centred
vectors) against the defaults, and scored by cross-camera pair precision / recall.

    python benchmarks/bench_appearance.py [--link]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_result  # noqa: E402
from reid.link.link_eval import tracklet_persons  # noqa: E402
from reid.store import Store  # noqa: E402
from reid.video.handcrafted import HandcraftedEmbedder  # noqa: E402
from reid.video.mot_eval import store_predictions  # noqa: E402
from tools.make_splits import load_splits  # noqa: E402

MAX_GAP_S = 60.0  # as the review queue's max_gap_s: pairs further apart in time are not candidates
KISSME_DIMS = (16, 32, 64)
EMBEDDER = HandcraftedEmbedder()


class Track(NamedTuple):
    camera: str
    first_time: float
    last_time: float
    person: int | None
    crops: list[np.ndarray]


def load_tracks(db: Path, gt_dir: Path, unlabelled: bool = False) -> dict[int, Track]:
    """Tracklets with at least one stored crop and (unless ``unlabelled``) a reference person."""
    gt = {p.stem: p for p in gt_dir.glob("*.txt")}
    out: dict[int, Track] = {}
    with Store(db, readonly=True) as store:
        pred = store_predictions(store)
        persons: dict[int, int | None] = {}
        for cam in sorted(set(gt) & set(pred)):
            persons.update(tracklet_persons(gt[cam], pred[cam])[0])
        for tid in store.tracklet_ids():
            person = persons.get(tid)
            if person is None and not unlabelled:
                continue
            crops = [
                cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR) for _, b in store.thumbnails(tid)
            ]
            crops = [c for c in crops if c is not None]
            if crops:
                t = store.tracklet(tid)
                out[tid] = Track(t.camera, t.first_time, t.last_time, person, crops)
    return out


def unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def describe(tracks: dict[int, Track], lut: dict[str, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """Per tracklet, the descriptors of its crops ((n, D)), optionally through a per-camera colour LUT."""
    out = {}
    for tid, t in tracks.items():
        crops = (
            t.crops
            if lut is None
            else [np.stack([lut[t.camera][c][x[..., c]] for c in range(3)], -1) for x in t.crops]
        )
        out[tid] = EMBEDDER.embed(crops)
    return out


def brightness_transfer(tracks: dict[int, Track]) -> dict[str, np.ndarray]:
    """Per camera a (3, 256) uint8 LUT onto the mean cumulative histogram of the cameras."""
    hist: dict[str, np.ndarray] = defaultdict(lambda: np.zeros((3, 256)))
    for t in tracks.values():
        for x in t.crops:
            h, w = x.shape[:2]
            core = x[h // 8 : h - h // 8, w // 4 : w - w // 4]  # the person more than the background
            for c in range(3):
                hist[t.camera][c] += np.bincount(core[..., c].ravel(), minlength=256)
    cdf = {cam: np.cumsum(h, 1) / h.sum(1, keepdims=True) for cam, h in hist.items()}
    ref = np.mean(list(cdf.values()), 0)
    return {
        cam: np.stack([np.clip(np.searchsorted(ref[c], f[c]), 0, 255) for c in range(3)]).astype(np.uint8)
        for cam, f in cdf.items()
    }


def centre(tracks: dict[int, Track], vec: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Camera centring of tracklet vectors: each camera's mean moved onto the mean of the camera means."""
    means = {
        cam: np.mean([vec[t] for t, tr in tracks.items() if tr.camera == cam], 0)
        for cam in {tr.camera for tr in tracks.values()}
    }
    common = np.mean(list(means.values()), 0)
    return {t: unit(vec[t] - means[tr.camera] + common) for t, tr in tracks.items()}


def plausible(a: Track, b: Track) -> bool:
    return (
        a.camera != b.camera and max(a.first_time, b.first_time) - min(a.last_time, b.last_time) <= MAX_GAP_S
    )


def cross_ap(tracks: dict[int, Track], vec: dict[int, np.ndarray]) -> tuple[float, int]:
    """Mean AP of time-plausible cross-camera retrieval and the number of queries with a true partner."""
    ids = list(tracks)
    x = np.stack([vec[t] for t in ids])
    d = np.sqrt(np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0.0))
    aps = []
    for i, a in enumerate(ids):
        cand = [j for j, b in enumerate(ids) if plausible(tracks[a], tracks[b])]
        hits = np.array([tracks[ids[j]].person == tracks[a].person for j in cand], bool)
        if not hits.any():
            continue
        hits = hits[np.argsort([d[i, j] for j in cand], kind="stable")]
        ranks = np.flatnonzero(hits) + 1
        aps.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
    return (float(np.mean(aps)) if aps else float("nan")), len(aps)


def kissme(tracks: dict[int, Track], crops: dict[int, np.ndarray], dims: int) -> dict[int, np.ndarray]:
    """Tracklet vectors in the KISSME metric learned from the site's own pairs (module docstring)."""
    ids = list(tracks)
    means = centre(tracks, {t: crops[t].mean(0) for t in ids})
    shift = {t: means[t] - unit(crops[t].mean(0)) for t in ids}  # the centring move, applied to each crop too
    all_crops = np.concatenate([crops[t] + shift[t] for t in ids])
    mu = all_crops.mean(0)
    basis = np.linalg.svd(all_crops - mu, full_matrices=False)[2][:dims].T
    z = {t: (means[t] - mu) @ basis for t in ids}
    similar = [np.sqrt(2.0) * ((crops[t] + shift[t] - mu) @ basis - z[t]) for t in ids if len(crops[t]) > 1]
    nearest = {
        a: min(
            (b for b in ids if plausible(tracks[a], tracks[b])),
            key=lambda b: float(np.linalg.norm(z[a] - z[b])),
            default=None,
        )
        for a in ids
    }
    similar += [
        np.array([z[a] - z[b]]) for a, b in nearest.items() if b is not None and nearest[b] == a and a < b
    ]
    dissimilar = np.array(
        [
            z[a] - z[b]
            for a in ids
            for b in ids
            if a < b
            and tracks[a].camera == tracks[b].camera
            and min(tracks[a].last_time, tracks[b].last_time)
            > max(tracks[a].first_time, tracks[b].first_time)
        ]
    )
    sim = np.concatenate(similar)
    eye = 1e-3 * np.eye(dims)
    metric = np.linalg.inv(sim.T @ sim / len(sim) + eye) - np.linalg.inv(
        dissimilar.T @ dissimilar / max(len(dissimilar), 1) + eye
    )
    w, v = np.linalg.eigh(metric)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    return {t: z[t] @ root for t in ids}


def variants(tracks: dict[int, Track]) -> dict[str, Callable[[], dict[int, np.ndarray]]]:
    crops = describe(tracks)
    base = {t: unit(c.mean(0)) for t, c in crops.items()}
    lut = brightness_transfer(tracks)
    btf = {t: unit(c.mean(0)) for t, c in describe(tracks, lut).items()}
    out: dict[str, Callable[[], dict[int, np.ndarray]]] = {
        "base": lambda: base,
        "centring": lambda: centre(tracks, base),
        "btf": lambda: btf,
        "btf+centring": lambda: centre(tracks, btf),
    }
    for dims in KISSME_DIMS:
        out[f"kissme-{dims}"] = lambda dims=dims: kissme(tracks, crops, dims)
    return out


def link_scores_in(db: Path, split_dir: Path, kissme_dims: int | None) -> dict[str, Any]:
    """Link a copy of ``db`` with the split's manifest, in the KISSME space when ``kissme_dims``; its scores."""
    import dataclasses
    import shutil
    import tempfile

    from reid.cli.relink import link_config
    from reid.link.database import link_database
    from reid.link.link_eval import link_scores

    cfg = link_config(None, None, str(split_dir / "cameras.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "site.db"
        shutil.copy(db, copy)
        if kissme_dims:
            tracks = load_tracks(db, split_dir / "gt", unlabelled=True)
            vec = kissme(tracks, describe(tracks), kissme_dims)
            cfg = dataclasses.replace(cfg, camera_centring=False)
        with Store(copy) as store:
            if kissme_dims:
                store.replace_embeddings({t: unit(v).astype(np.float32) for t, v in vec.items()}, "kissme")
            link_database(store, cfg)
            gt = {p.stem: p for p in (split_dir / "gt").glob("*.txt")}
            s = link_scores(gt, store_predictions(store))
    return {
        "precision": round(s.pair_precision, 4),
        "recall": round(s.pair_recall, 4),
        "correct": s.correct_pairs,
        "linked": s.linked_pairs,
        "true": s.true_pairs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=Path, default=ROOT / "data/splits")
    ap.add_argument("--spec", type=Path, default=ROOT / "examples/splits.yaml")
    ap.add_argument("--dbs", type=Path, default=ROOT / "out/bench-review", help="bench_review.py --out")
    ap.add_argument(
        "--link", action="store_true", help="also link in the KISSME-16 space against the defaults"
    )
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    rows: list[dict[str, Any]] = []
    for split in load_splits(args.spec):
        db = args.dbs / split.name / "site.db"
        if not db.is_file():
            raise SystemExit(f"{db}: no database; run benchmarks/bench_review.py first")
        tracks = load_tracks(db, args.splits / split.name / "gt")
        aps = {name: cross_ap(tracks, fn()) for name, fn in variants(tracks).items()}
        rows.append(
            {
                "split": split.name,
                "role": split.role,
                "tracklets": len(tracks),
                "queries": aps["base"][1],
                "ap": {k: round(v[0], 4) for k, v in aps.items()},
            }
        )
        print(
            f"{split.name} ({split.role}): " + " ".join(f"{k} {v[0]:.3f}" for k, v in aps.items()), flush=True
        )
        if args.link:
            rows[-1]["link"] = {
                name: link_scores_in(db, args.splits / split.name, dims)
                for name, dims in (("defaults", None), ("kissme-16", 16))
            }
            print(
                "  linked: "
                + "; ".join(
                    f"{k} {v['precision']:.2f} / {v['recall']:.2f} ({v['correct']}/{v['linked']}/{v['true']})"
                    for k, v in rows[-1]["link"].items()
                )
            )
    names = list(rows[0]["ap"])
    print(f"\n| split | role | queries | {' | '.join(names)} |\n|---|---|---|{'---|' * len(names)}")
    for role in ("tuning", "held-out"):
        part = [r for r in rows if r["role"] == role]
        for r in part:
            print(
                f"| {r['split']} | {role} | {r['queries']} | "
                + " | ".join(f"{r['ap'][n]:.3f}" for n in names)
                + " |"
            )
        print(
            f"| **mean {role}** | {role} | {sum(r['queries'] for r in part)} | "
            + " | ".join(f"{np.mean([r['ap'][n] for r in part]):.3f}" for n in names)
            + " |"
        )
    if args.link:
        print(
            "\n| split | role | linked with the defaults | linked in the KISSME-16 space |\n|---|---|---|---|"
        )
        for r in sorted(rows, key=lambda r: r["role"] != "tuning"):
            cells = [
                f"{v['precision']:.2f} / {v['recall']:.2f} ({v['correct']}/{v['linked']}/{v['true']})"
                for v in r["link"].values()
            ]
            print(f"| {r['split']} | {r['role']} | {' | '.join(cells)} |")
    print(write_result("appearance-levers", {"max_gap_s": MAX_GAP_S, "rows": rows}))


if __name__ == "__main__":
    main()
