"""``reid evaluate-review``: how many reviewer decisions it takes to get a site right. A simulated reviewer who
knows the answer (MOTChallenge ground truth, ``<camera>.txt`` with global person ids, as ``reid evaluate-tracks``
reads it) works through the review queue on a copy of the database, each decision relinking what it touched;
cross-camera pair precision / recall (``reid.link.link_eval``) are printed after 0, 1, 2, 5, 10, 20 ...
decisions and drawn in ``review-curve.png`` beside the copy."""

from __future__ import annotations

import argparse
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reid.errors import DatasetError, StoreError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-review",
        help="pair precision / recall after N simulated review decisions",
        description="Copy DB to --out (DB itself is never written), let a simulated reviewer who knows the ground "
        "truth answer the review queue there (proposed links and suggested merges, best decision first; every "
        "decision relinks what it touched, at the database's stored link threshold) and print cross-camera pair "
        "precision and recall after 0, 1, 2, 5, 10, 20 ... decisions; the curve goes to review-curve.png beside "
        "--out.",
    )
    p.add_argument(
        "--gt", type=Path, required=True, help="folder of <camera>.txt MOTChallenge ground-truth files"
    )
    p.add_argument("--db", type=Path, required=True, help="database written by `reid process` (only read)")
    p.add_argument(
        "--budget", type=int, default=100, metavar="N", help="at most this many decisions (default 100)"
    )
    p.add_argument(
        "--out", type=Path, required=True, metavar="REVIEWED.db", help="the reviewed copy to write"
    )
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument(
        "--manifest",
        metavar="YAML",
        help="transit windows between cameras for the relinks (as `reid process` had them)",
    )
    p.set_defaults(func=run)


def checkpoints(budget: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, 50 ... up to ``budget``."""
    out, scale = [0], 1
    while True:
        for step in (1, 2, 5):
            if step * scale > budget:
                return out
            out.append(step * scale)
        scale *= 10


def copy_database(src: Path, dst: Path, overwrite: bool) -> None:
    """A consistent copy of ``src`` (its WAL included) at ``dst``; ``src`` is opened read-only."""
    from reid.store import Store

    if dst.resolve() == src.resolve():
        raise StoreError(f"{dst}: --out must not be --db (the database is never written)")
    if dst.exists() and not overwrite:
        raise StoreError(f"{dst}: exists; use --overwrite to replace it")
    if not dst.parent.is_dir():
        raise StoreError(f"{dst}: folder missing")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    with Store(src, readonly=True) as source:
        target = sqlite3.connect(str(dst))
        try:
            source.read(lambda conn: conn.backup(target))
        finally:
            target.close()


def _with_identities(pred: Mapping[str, Sequence[Any]], identity: Mapping[int, int]) -> dict[str, list[Any]]:
    return {
        cam: [r._replace(identity_id=identity.get(r.track_id)) for r in rows] for cam, rows in pred.items()
    }


def _plot(curve: Sequence[tuple[int, Any]], path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    n = [k for k, _ in curve]
    ax.plot(n, [100 * s.pair_precision for _, s in curve], marker="o", label="pair precision")
    ax.plot(n, [100 * s.pair_recall for _, s in curve], marker="s", label="pair recall")
    if n[-1] >= 10:
        ax.set_xscale("symlog", linthresh=1)
    ax.set_xlabel("review decisions")
    ax.set_ylabel("cross-camera tracklet pairs (%)")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png")
    return path


def _review(args: argparse.Namespace, gt: Mapping[str, Path]) -> tuple[list[tuple[int, Any]], list[Any]]:
    """The simulated review on ``args.out``: the curve ``[(decisions, LinkScores)]`` and the decisions made."""
    from reid.cli.relink import link_config
    from reid.link.link_eval import link_scores, tracklet_persons
    from reid.link.review_oracle import answer
    from reid.link.review_sim import Decision, identity_members, simulate_review
    from reid.store import Store
    from reid.video.mot_eval import store_predictions

    cfg = link_config(None, None, args.manifest)
    marks = set(checkpoints(args.budget))
    curve: list[tuple[int, Any]] = []
    with Store(args.out) as store:
        pred = store_predictions(store)
        persons: dict[int, int | None] = {}
        for cam in sorted(set(gt) & set(pred)):
            persons.update(tracklet_persons(gt[cam], pred[cam])[0])

        def score(n: int) -> None:
            identity = {t: i for i, ts in identity_members(store).items() for t in ts}
            scores = link_scores(gt, _with_identities(pred, identity))
            curve.append((n, scores))
            print(
                f"after {n:4d} decisions: pair precision {scores.correct_pairs}/{scores.linked_pairs} = "
                f"{scores.pair_precision:.3f}, recall {scores.correct_pairs}/{scores.true_pairs} = "
                f"{scores.pair_recall:.3f}, {scores.identities} identities for {scores.people} people",
                flush=True,
            )

        def after(decision: Decision) -> None:
            if decision.number in marks:
                score(decision.number)

        score(0)
        made = simulate_review(
            store, lambda item, members: answer(item, members, persons), args.budget, cfg, after=after
        )
        if made and made[-1].number not in marks:
            score(made[-1].number)
    return curve, made


def run(args: argparse.Namespace) -> int:
    gt = {p.stem: p for p in sorted(args.gt.glob("*.txt"))}
    if not gt:
        raise DatasetError(f"{args.gt}: no <camera>.txt ground-truth files")
    if args.budget < 0:
        raise DatasetError(f"--budget must be 0 or more, got {args.budget}")
    copy_database(args.db, args.out, args.overwrite)
    linker_log = logging.getLogger("reid.link")
    level = linker_log.level
    if not getattr(args, "verbose", False):  # every decision's relink would print the linker's own lines
        linker_log.setLevel(logging.WARNING)
    try:
        curve, made = _review(args, gt)
    finally:
        linker_log.setLevel(level)
    kinds = {
        k: sum(d.action == k for d in made)
        for k in ("confirm", "reject", "merge", "keep_apart", "split_group", "confirm_group")
    }
    print(
        f"{len(made)} decisions ({', '.join(f'{v} {k}' for k, v in kinds.items())})"
        + ("; the queue is empty" if len(made) < args.budget else "")
    )
    print(f"reviewed copy: {args.out}; curve: {_plot(curve, args.out.parent / 'review-curve.png')}")
    return 0
