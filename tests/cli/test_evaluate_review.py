"""``reid evaluate-review`` on a small site with a known answer: decisions bring pair precision and recall to 1."""

from __future__ import annotations

import re

import pytest
from review_mixed_site import build_mixed_site
from review_people import build_site, link_site

from reid.cli import main
from reid.cli.evaluate_review import checkpoints
from reid.store import Store
from reid.store.queries import memberships


@pytest.fixture
def site(tmp_path):
    db = tmp_path / "site.db"
    with Store(db) as store:
        build_site(store, tmp_path / "gt")
        link_site(store)
    return db, tmp_path / "gt"


def _curve(text: str) -> list[tuple[int, float, float]]:
    return [
        (int(n), float(p), float(r))
        for n, p, r in re.findall(
            r"after\s+(\d+) decisions: pair precision \S+ = ([\d.]+), recall \S+ = ([\d.]+)", text
        )
    ]


def test_checkpoints_are_one_two_five():
    assert checkpoints(0) == [0]
    assert checkpoints(25) == [0, 1, 2, 5, 10, 20]


def test_simulated_review_reaches_the_known_answer_on_a_copy(site, tmp_path, capsys):
    db, gt = site
    original = db.read_bytes()
    out = tmp_path / "reviewed" / "site-reviewed.db"
    out.parent.mkdir()
    assert (
        main(["evaluate-review", "--gt", str(gt), "--db", str(db), "--budget", "20", "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    curve = _curve(text)
    assert curve[0] == (0, 0.75, 0.6)  # 3 of 4 linked pairs right, 3 of 5 true pairs found
    assert curve[-1][1:] == (1.0, 1.0)
    n = [c[0] for c in curve]
    assert n[:3] == [0, 1, 2] and n[-1] <= 7  # 3 errors, 4 right links: the queue empties within 7 decisions
    assert all(b[1] >= a[1] - 1e-9 and b[2] >= a[2] - 1e-9 for a, b in zip(curve, curve[1:], strict=False))
    assert curve[2][2] == 1.0  # the two missed links come first: they are the most uncertain items
    assert "the queue is empty" in text
    assert db.read_bytes() == original  # the database itself is never written
    assert (out.parent / "review-curve.png").stat().st_size > 1000
    with Store(out, readonly=True) as reviewed:
        assert reviewed.review_queue() == [] or all(r.undoable for r in reviewed.review_log())


def test_out_is_not_replaced_without_overwrite(site, tmp_path, capsys):
    db, gt = site
    out = tmp_path / "out.db"
    out.write_bytes(b"keep me")
    args = ["evaluate-review", "--gt", str(gt), "--db", str(db), "--budget", "0", "--out", str(out)]
    assert main(args) == 2
    assert "exists; use --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main([*args, "--overwrite"]) == 0
    assert _curve(capsys.readouterr().out) == [(0, 0.75, 0.6)]


@pytest.fixture
def mixed_site(tmp_path):
    db = tmp_path / "mixed.db"
    with Store(db) as store:
        ids = build_mixed_site(store, tmp_path / "gt")
    return db, tmp_path / "gt", ids


def test_a_mixed_identity_is_fixed_in_one_decision(mixed_site, tmp_path, capsys):
    db, gt, ids = mixed_site
    out = tmp_path / "mixed-reviewed.db"
    assert (
        main(["evaluate-review", "--gt", str(gt), "--db", str(db), "--budget", "20", "--out", str(out)]) == 0
    )
    curve = _curve(capsys.readouterr().out)
    assert curve[0][1] < 0.75  # besides the false link 3-4, persons 0 and 2 make two wrong cross-camera pairs
    assert curve[-1][1:] == (1.0, 1.0)
    with Store(out, readonly=True) as reviewed:
        actions = [r.action for r in reviewed.review_log()]
        identity = {m.tracklet_id: m.identity_id for m in reviewed.read(memberships)}
    assert actions[0] == "split_group"  # first in the queue
    assert actions.count("split_group") == 1  # one decision for the mixed identity
    p0, p2 = {ids["cam1", 0], ids["cam2", 0]}, {ids["cam1", 2], ids["cam2", 2]}
    assert len({identity[t] for t in p0}) == len({identity[t] for t in p2}) == 1
    assert {identity[t] for t in p0} != {identity[t] for t in p2}
    assert curve[1][1] > curve[0][1]  # after that one decision precision is up
