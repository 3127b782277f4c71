"""Link probability fitted on the tuning splits, checked on the held-out ones (issue 20, part 4).

Every item of each split's review queue (``reid.link.review_queue.review_items``: proposed links and suggested
merges) in the fresh-install database that ``benchmarks/bench_review.py`` leaves in ``out/bench-review/<split>/
site.db`` is labelled right or wrong from the split's reference, as the simulated reviewer answers it
(``reid.link.review_oracle.answer``). A logistic p(right | cost / threshold) is fitted on the tuning splits only
(``reid.link.probability.fit_link_probability``); the fit, the Brier score and a reliability table are printed
for tuning and held-out apart, the diagram goes to docs/link-reliability.png and the figures to
``benchmarks/results/link-probability-cpu-DATE.json``.

    python benchmarks/bench_review.py --splits data/splits     # the databases (run first)
    python benchmarks/bench_probability.py
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_result  # noqa: E402
from reid.link.link_eval import tracklet_persons  # noqa: E402
from reid.link.probability import FITTED, LinkFit, brier, fit_link_probability  # noqa: E402
from reid.link.review_oracle import answer  # noqa: E402
from reid.link.review_queue import review_items, site_threshold  # noqa: E402
from reid.store import Store  # noqa: E402
from reid.store.queries import memberships  # noqa: E402
from reid.video.mot_eval import store_predictions  # noqa: E402
from tools.make_splits import load_splits  # noqa: E402

EDGES = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])  # reliability bins of predicted p


def evidence(item: Any, reason: str | None) -> str:
    """What a queue item stands on: a suggested merge, a same-camera stitch, a learned transition, or appearance."""
    if item.kind == "merge":
        return "merge"
    if reason and reason.startswith("same camera"):
        return "stitch"
    return "transition" if reason and "; via " in reason else "plain"


def labelled_items(db: Path, gt_dir: Path) -> list[dict[str, Any]]:
    """Every review-queue item of ``db`` with its cost / threshold, evidence and whether it is right."""
    gt = {p.stem: p for p in sorted(gt_dir.glob("*.txt"))}
    with Store(db, readonly=True) as store:
        threshold = site_threshold(store)
        pred = store_predictions(store)
        persons: dict[int, int | None] = {}
        for cam in sorted(set(gt) & set(pred)):
            persons.update(tracklet_persons(gt[cam], pred[cam])[0])
        members: dict[int, list[int]] = defaultdict(list)
        for m in store.read(memberships):
            members[m.identity_id].append(m.tracklet_id)
        out = []
        for item in review_items(store):
            if item.kind == "mixed":  # Y there means "not one person": not a link to label right or wrong
                continue
            row = store.tracklet(item.tracklet) if item.kind == "link" else None
            out.append(
                dict(
                    kind=evidence(item, getattr(row, "reason", None)),
                    ratio=item.cost / threshold,
                    right=bool(answer(item, members, persons)),
                )
            )
    return out


def reliability(p: np.ndarray, right: np.ndarray) -> list[dict[str, Any]]:
    """Per bin of predicted p: its range, mean predicted p, observed frequency of right, count."""
    rows = []
    which = np.clip(np.digitize(p, EDGES[1:-1]), 0, len(EDGES) - 2)
    for k in range(len(EDGES) - 1):
        sel = which == k
        n = int(sel.sum())
        rows.append(
            dict(
                bin=f"{EDGES[k]:.1f}-{EDGES[k + 1]:.1f}",
                n=n,
                predicted=float(p[sel].mean()) if n else None,
                observed=float(right[sel].mean()) if n else None,
            )
        )
    return rows


def summary(items: list[dict[str, Any]], fit: LinkFit, base: float) -> dict[str, Any]:
    """Counts, Brier score (and that of a constant ``base``), reliability table and counts per evidence kind."""
    x = np.array([i["ratio"] for i in items], np.float64)
    y = np.array([i["right"] for i in items], bool)
    p = fit.p(x)
    kinds = sorted({i["kind"] for i in items})
    return dict(
        n=len(items),
        right=int(y.sum()),
        brier=brier(p, y),
        brier_base=brier(np.full(len(y), base), y),
        table=reliability(p, y),
        kinds={
            k: dict(
                n=int(sum(i["kind"] == k for i in items)),
                right=int(sum(i["right"] for i in items if i["kind"] == k)),
            )
            for k in kinds
        },
    )


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


KINDS = ("merge", "plain", "stitch", "transition")


def fit_by_kind(items: list[dict[str, Any]]) -> np.ndarray:
    """The alternative model: ``logit p = a[kind] - b (cost / threshold)``, one intercept per evidence kind
    (``KINDS``) and a shared slope b >= 0, maximum likelihood; weights ``(a_merge, ..., a_transition, b)``."""
    x = np.array([i["ratio"] for i in items])
    y = np.array([i["right"] for i in items], float)
    k = np.array([KINDS.index(i["kind"]) for i in items])

    def nll(w: np.ndarray) -> float:
        z = w[k] - w[-1] * x
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    bounds = [(None, None)] * len(KINDS) + [(0.0, None)]
    return minimize(nll, np.r_[np.zeros(len(KINDS)), 1.0], method="L-BFGS-B", bounds=bounds).x


def p_by_kind(w: np.ndarray, items: list[dict[str, Any]]) -> np.ndarray:
    k = np.array([KINDS.index(i["kind"]) for i in items])
    return 1.0 / (1.0 + np.exp(-(w[k] - w[-1] * np.array([i["ratio"] for i in items]))))


def leave_one_split_out(by_split: dict[str, list[dict[str, Any]]], by_kind: bool) -> float:
    """Mean log loss over the tuning items, each split's items predicted by the fit on the other splits
    (``by_kind``: ``fit_by_kind``, else the ratio alone)."""
    total = 0.0
    for name, test in by_split.items():
        train = [i for s, items in by_split.items() if s != name for i in items]
        p = (
            p_by_kind(fit_by_kind(train), test)
            if by_kind
            else _fit(train).p(np.array([i["ratio"] for i in test]))
        )
        total += log_loss(p, np.array([i["right"] for i in test], float)) * len(test)
    return total / sum(len(t) for t in by_split.values())


def _fit(items: list[dict[str, Any]]) -> LinkFit:
    return fit_link_probability(np.array([i["ratio"] for i in items]), np.array([i["right"] for i in items]))


def plot(curves: dict[str, dict[str, Any]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfectly calibrated")
    for (role, s), marker in zip(curves.items(), ("o", "s"), strict=False):
        rows = [r for r in s["table"] if r["n"]]
        ax.plot(
            [r["predicted"] for r in rows],
            [r["observed"] for r in rows],
            marker=marker,
            label=f"{role} ({s['n']} items, Brier {s['brier']:.3f})",
        )
        for r in rows:
            ax.annotate(
                str(r["n"]),
                (r["predicted"], r["observed"]),
                textcoords="offset points",
                xytext=(5, 3),
                fontsize=7,
            )
    ax.set_xlabel("predicted p (bin mean)")
    ax.set_ylabel("observed share right")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png")


def _table(s: dict[str, Any]) -> str:
    lines = ["| predicted p | items | mean predicted | observed right |", "|---|---|---|---|"]
    for r in s["table"]:
        pred = "—" if r["predicted"] is None else f"{r['predicted']:.2f}"
        obs = "—" if r["observed"] is None else f"{r['observed']:.2f}"
        lines.append(f"| {r['bin']} | {r['n']} | {pred} | {obs} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=Path, default=ROOT / "data/splits")
    ap.add_argument("--spec", type=Path, default=ROOT / "examples/splits.yaml")
    ap.add_argument("--dbs", type=Path, default=ROOT / "out/bench-review", help="<split>/site.db under here")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs/link-reliability.png")
    args = ap.parse_args()
    by_role: dict[str, dict[str, list[dict[str, Any]]]] = {"tuning": {}, "held-out": {}}
    for split in load_splits(args.spec):
        db = args.dbs / split.name / "site.db"
        if not db.is_file():
            raise SystemExit(f"{db}: missing; run benchmarks/bench_review.py first")
        by_role[split.role][split.name] = items = labelled_items(db, args.splits / split.name / "gt")
        print(
            f"{split.name} ({split.role}): {len(items)} queue items, {sum(i['right'] for i in items)} right"
        )
    tuning = [i for items in by_role["tuning"].values() for i in items]
    fit = _fit(tuning)
    print(
        f"\nfit on {fit.n} tuning items: p = 1 / (1 + exp({fit.slope:.3f} (cost / threshold - {fit.midpoint:.3f})))"
        f"   (module constants now: slope {FITTED.slope:.3f}, midpoint {FITTED.midpoint:.3f}, n {FITTED.n})"
    )
    loso = {
        "cost ratio": leave_one_split_out(by_role["tuning"], False),
        "cost ratio + evidence kind": leave_one_split_out(by_role["tuning"], True),
    }
    print("tuning, leave-one-split-out log loss: " + ", ".join(f"{k} {v:.3f}" for k, v in loso.items()))
    figures: dict[str, Any] = {
        "fit": dict(slope=fit.slope, midpoint=fit.midpoint, n=fit.n),
        "loso_log_loss": loso,
    }
    w = fit_by_kind(tuning)
    base = float(np.mean([i["right"] for i in tuning]))
    print(
        "cost ratio + evidence kind, fitted on tuning: logit p = a[kind] - b cost / threshold, "
        + ", ".join(f"a[{k}] {v:.2f}" for k, v in zip(KINDS, w, strict=False))
        + f", b {w[-1]:.2f}"
    )
    figures["by_kind"] = dict(zip([*KINDS, "slope"], map(float, w), strict=True))
    for role, splits in by_role.items():
        items = [i for s in splits.values() for i in s]
        s = summary(items, fit, base)
        y = np.array([i["right"] for i in items], bool)
        s["brier_by_kind"] = brier(p_by_kind(w, items), y)
        s["table_by_kind"] = reliability(p_by_kind(w, items), y)
        figures[role] = s
        kinds = ", ".join(f"{k} {v['right']}/{v['n']}" for k, v in s["kinds"].items())
        print(
            f"\n{role}: {s['n']} items ({s['right']} right; {kinds}); Brier {s['brier']:.3f} "
            f"(constant p = tuning base rate {base:.2f}: {s['brier_base']:.3f}; cost ratio + evidence kind: "
            f"{s['brier_by_kind']:.3f})"
        )
        print(_table(s))
    plot({r: figures[r] for r in by_role}, args.plot)
    print(f"\ndiagram: {args.plot}; figures: {write_result('link-probability', figures)}")


if __name__ == "__main__":
    main()
