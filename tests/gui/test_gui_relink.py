"""The review app's edits relink the decision's component in a worker thread, into the decision's own log
entry: one undo reverts both."""

from __future__ import annotations

from review_people import build_site, link_site

from gui.edits import ReviewEdits
from reid.store import Store


def _dump(store):
    tables = [r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {
        t: sorted(store.conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
        for t in tables
        if t != "review_log"
    }


def test_a_split_relinks_in_the_worker_and_one_undo_reverts_both(qtbot, tmp_path):
    with Store(tmp_path / "site.db") as store:
        t = build_site(store, tmp_path / "gt")
        link_site(store)
        before = _dump(store)
        edits = ReviewEdits(relink=True)
        edits.set_store(store)
        assert edits.relinker is not None
        changes, apart = [], []
        three, four = t["cam1", 3], t["cam2", 4]

        def changed():  # the edit's own signal comes before its relink is queued: the state right after it
            changes.append(edits.message)
            apart.append(store.tracklet(three).identity_id != store.tracklet(four).identity_id)

        edits.changed.connect(changed)
        # split person 4's view out of its (wrong) identity with person 3: a split records no veto, so the
        # relink, 0.35 < 0.5, joins them again; the worker writes that into the split's own entry
        with qtbot.waitSignal(edits.relinker.idle, timeout=20_000):
            assert edits.split(four)
        assert apart == [True, False]  # split at once, joined again by the relink
        assert len(changes) == 2 and "relinked 2 tracklets, 1 moved" in changes[-1]
        assert [e.action for e in store.review_log()] == ["split"]
        assert edits.undo()
        assert _dump(store) == before
        edits.set_store(None)
        assert edits.relinker is None


def test_relink_is_off_by_default_and_for_read_only_files(qtbot, tmp_path):
    with Store(tmp_path / "site.db") as store:
        build_site(store, tmp_path / "gt")
        link_site(store)
        edits = ReviewEdits()
        edits.set_store(store)
        assert edits.relinker is None
    with Store(tmp_path / "site.db", readonly=True) as store:
        edits = ReviewEdits(relink=True)
        edits.set_store(store)
        assert edits.relinker is None
