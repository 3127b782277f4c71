"""A reviewer decision's relink (``reid.link.relink_component``) against a whole-site relink, same run.

A generated site (``tests/fake_store.py``: 4 cameras, ~3 tracklets per person, 512-d embeddings, 5% of the
tracklets linked to the wrong person) is first linked whole by ``reid.link.database.link_database`` (timed,
``--site-repeats`` times: the same call ``reid relink`` makes). Then ``--decisions`` decisions are taken from
the work queue (least confident proposed links first), cycling reject, confirm, split, as the review app makes
them: the edit is written (``Store.reject`` …), then its component relinked by ``relink_after`` (timed: what
the app's worker thread runs, transaction included), then undone, so every decision starts from the linked
site. Reports the median and p90 of the decision relinks, the component sizes, and the ratio of the
whole-site relink to the median decision relink.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.bench_relink [--tracklets 1000] [--decisions 30] [--quick]

Single-threaded BLAS, as ``bench_link``: on a shared 2-core box multi-threaded OpenBLAS spin-waits in small
products; the BLAS thread setting is saved with the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/fake_store.py

from fake_store import populate  # noqa: E402

from benchmarks.common import write_result  # noqa: E402
from reid.config import LinkConfig  # noqa: E402
from reid.link.database import link_database  # noqa: E402
from reid.link.relink_component import relink_after  # noqa: E402
from reid.store import Store  # noqa: E402

ACTIONS = ("reject", "confirm", "split")
STYLES, STYLE_WEIGHT = 50, 2.2  # --hard: as bench_link's hard setting, people of one style look alike


def make_hard(store: Store, seed: int = 0) -> None:
    """Give the people look-alikes: each tracklet's embedding gets one of 50 shared "styles" (by the identity
    the fake linker put it in, ~ its person), so different people of one style are ~0.6 apart and the
    components a decision touches grow."""
    rng = np.random.default_rng(seed)
    ids = store.tracklet_ids()
    dim = len(store.embedding(ids[0]))
    styles = rng.normal(size=(STYLES, dim)) / np.sqrt(dim)
    identity = dict(store.conn.execute("SELECT tracklet_id, identity_id FROM identity_members").fetchall())
    vectors = {}
    for t in ids:
        v = store.embedding(t) + STYLE_WEIGHT * styles[identity.get(t, t) % STYLES]
        vectors[t] = (v / np.linalg.norm(v)).astype(np.float32)
    store.replace_embeddings(vectors, "synthetic-hard")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def whole_site(store: Store, cfg: LinkConfig, repeats: int) -> tuple[list[float], float]:
    """Seconds of each whole-site relink, and the threshold it resolved."""
    times, threshold = [], 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        outcome = link_database(store, cfg)
        times.append(time.perf_counter() - t0)
        threshold = outcome.calibration.threshold
    return times, threshold


def decisions(store: Store, cfg: LinkConfig, n: int) -> list[dict]:
    """``n`` decisions from the work queue, each relinked and undone; one row per decision."""
    rows = []
    queue = store.review_queue()
    for k, tracklet in enumerate(queue[:n]):
        action = ACTIONS[k % len(ACTIONS)]
        t0 = time.perf_counter()
        getattr(store, action)(tracklet)
        edit_s = time.perf_counter() - t0
        entry = store.review_log()[-1].id
        t0 = time.perf_counter()
        change = relink_after(store, entry, cfg)
        relink_s = time.perf_counter() - t0
        store.undo()  # the decision and its relink: the next decision starts from the linked site
        rows.append(
            {
                "action": action,
                "tracklet": tracklet,
                "edit_s": round(edit_s, 4),
                "relink_s": round(relink_s, 4),
                "component": len(change.component),
                "moved": len(change.moved),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracklets", type=int, default=1000)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--dim", type=int, default=512, help="embedding size")
    parser.add_argument("--decisions", type=int, default=30)
    parser.add_argument("--site-repeats", type=int, default=3)
    parser.add_argument("--hard", action="store_true", help="look-alike people")
    parser.add_argument("--threshold", type=float, help="link threshold (default: calibrated on the site)")
    parser.add_argument("--quick", action="store_true", help="300 tracklets, 6 decisions, one whole-site run")
    args = parser.parse_args()
    if args.quick:
        args.tracklets, args.decisions, args.site_repeats = 300, 6, 1
    cfg = LinkConfig(threshold=args.threshold)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "site.db") as store:
        populate(store, n_tracklets=args.tracklets, n_cameras=args.cameras, seed=0, embedding_dim=args.dim)
        if args.hard:
            make_hard(store)
        site_s, threshold = whole_site(store, cfg, args.site_repeats)
        rows = decisions(store, cfg, args.decisions)
        identities = store.counts().get("identities")
    relinks = [r["relink_s"] for r in rows]
    sizes = [r["component"] for r in rows]
    median = statistics.median(relinks)
    figures = {
        "tracklets": args.tracklets,
        "hard": args.hard,
        "threshold_given": args.threshold,
        "cameras": args.cameras,
        "dim": args.dim,
        "identities": identities,
        "threshold": round(threshold, 4),
        "decisions": len(rows),
        "whole_site_s": [round(s, 3) for s in site_s],
        "whole_site_median_s": round(statistics.median(site_s), 3),
        "decision_relink_median_s": round(median, 4),
        "decision_relink_p90_s": round(percentile(relinks, 90), 4),
        "decision_relink_max_s": round(max(relinks), 4),
        "component_median": statistics.median(sizes),
        "component_max": max(sizes),
        "ratio_whole_site_to_decision": round(statistics.median(site_s) / median, 1),
        "blas_threads": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
        "runs": rows,
    }
    name = "relink" + ("-hard" if args.hard else "") + (f"-t{args.threshold:g}" if args.threshold else "")
    path = write_result(name, figures, quick=args.quick)
    print(
        f"whole-site relink {figures['whole_site_median_s']} s (median of {len(site_s)}); decision relink "
        f"median {figures['decision_relink_median_s']} s, p90 {figures['decision_relink_p90_s']} s, max "
        f"{figures['decision_relink_max_s']} s over {len(rows)} decisions (component median "
        f"{figures['component_median']} tracklets); whole site / decision = "
        f"{figures['ratio_whole_site_to_decision']}x"
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
