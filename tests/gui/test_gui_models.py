"""Item models on hand-built rows: counts, roles, sorting, filtering, find, tree structure, interpolation."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap

from gui.models import (
    CAMERA_ROLE,
    COST_ROLE,
    DECORATION,
    ID_ROLE,
    SORT_ROLE,
    STATE_ROLE,
    DetectionModel,
    IdentityFilterProxy,
    IdentityListModel,
    NearestModel,
    TrackletModel,
    format_cost,
    format_time,
)
from reid.store.rows import DetectionRow, IdentitySummary, TrackletRow

DISPLAY = Qt.ItemDataRole.DisplayRole


def summary(iid, cameras=("cam1",), n=2, status="unreviewed", cost=0.3, name="", first=10.0, last=20.0):
    n_conf = {"unreviewed": 0, "reviewed": n, "partly reviewed": 1}[status]
    return IdentitySummary(iid, name, "", tuple(cameras), n, first, last, status, cost, n_conf)


ROWS = [
    summary(1, ("cam1", "cam2"), 3, "unreviewed", 0.45, first=30),
    summary(2, ("cam2",), 1, "reviewed", None, name="Alice", first=5),
    summary(3, ("cam1", "cam3"), 2, "partly reviewed", 0.12, first=50),
    summary(4, ("cam3",), 4, "unreviewed", 0.71, first=1),
]


def tracklet(tid, camera="cam1", identity=1, state="proposed", cost=0.2, first=0.0, confidence=0.5):
    return TrackletRow(tid, camera, f"/v/{camera}.mp4", 1, tid, 0, 10, first, first + 1, 5, identity, cost,
                       confidence, state)


def ids_in_order(model) -> list[int]:
    return [model.index(r, 0).data(ID_ROLE) for r in range(model.rowCount())]


def make_identities(qtbot=None):
    model = IdentityListModel()
    model.set_rows(ROWS)
    proxy = IdentityFilterProxy()
    proxy.setSourceModel(model)
    return model, proxy


def test_identity_model_counts_display_and_roles():
    model, _ = make_identities()
    assert model.rowCount() == 4
    assert model.columnCount() == 7
    assert model.headerData(6, Qt.Orientation.Horizontal) == "Weakest cost"
    alice = model.index(1, 0)
    assert alice.data(DISPLAY) == "#2  Alice"
    assert alice.data(ID_ROLE) == 2
    assert model.index(1, IdentityListModel.COST).data(DISPLAY) == "—"
    assert model.index(0, IdentityListModel.CAMERAS).data(DISPLAY) == "cam1, cam2"
    assert model.index(0, IdentityListModel.FIRST).data(DISPLAY) == "00:00:30"
    assert model.index(0, 0).data(STATE_ROLE) == "unreviewed"
    assert model.index(3, 0).data(COST_ROLE) == 0.71
    assert model.index(0, 0).data(CAMERA_ROLE) == ("cam1", "cam2")
    assert model.index(2, IdentityListModel.TRACKLETS).data(SORT_ROLE) == 2
    assert model.row_of(3) == 2 and model.row_of(99) is None
    assert model.cameras() == ["cam1", "cam2", "cam3"]


def test_identity_sorting_by_columns_keeps_missing_costs_last():
    model, proxy = make_identities()
    proxy.sort(IdentityListModel.COST, Qt.SortOrder.AscendingOrder)
    assert ids_in_order(proxy) == [3, 1, 4, 2]
    proxy.sort(IdentityListModel.TRACKLETS, Qt.SortOrder.DescendingOrder)
    assert ids_in_order(proxy) == [4, 1, 3, 2]
    proxy.sort(IdentityListModel.FIRST, Qt.SortOrder.AscendingOrder)
    assert ids_in_order(proxy) == [4, 2, 1, 3]
    proxy.sort(IdentityListModel.ID, Qt.SortOrder.AscendingOrder)
    assert ids_in_order(proxy) == [1, 2, 3, 4]


def test_filter_by_camera_status_and_cost():
    _, proxy = make_identities()
    proxy.set_filters(camera="cam1")
    assert ids_in_order(proxy) == [1, 3]
    proxy.set_filters(status="unreviewed")
    assert ids_in_order(proxy) == [1, 4]
    proxy.set_filters(min_cost=0.4)
    assert ids_in_order(proxy) == [1, 4]
    proxy.set_filters(max_cost=0.2)
    assert ids_in_order(proxy) == [2, 3]  # no cost passes an upper bound
    proxy.set_filters(camera="cam3", status="unreviewed", min_cost=0.5)
    assert ids_in_order(proxy) == [4]
    proxy.clear_filters()
    assert proxy.rowCount() == 4 and not proxy.filtering


def test_find_by_id_respects_filters():
    _, proxy = make_identities()
    assert proxy.find(3).row() == 2
    assert not proxy.find(42).isValid()
    proxy.set_filters(camera="cam2")
    assert not proxy.find(3).isValid()
    assert proxy.find(2).row() == 1
    assert proxy.identity_id(0) == 1


def test_update_rows_keeps_positions_and_signals_changes(qtbot):
    model, proxy = make_identities()
    proxy.sort(IdentityListModel.COST, Qt.SortOrder.DescendingOrder)
    changed = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append(a.row()))
    fresh = [r for r in ROWS if r.id != 4]
    fresh[0] = summary(1, ("cam1", "cam2"), 3, "reviewed", 0.45, first=30)
    fresh.append(summary(5, ("cam2",), 1, "unreviewed", None))
    model.update_rows(fresh)
    assert sorted(model.identity_ids()) == [1, 2, 3, 5]
    assert model.index(model.row_of(1), 0).data(STATE_ROLE) == "reviewed"
    assert changed  # the changed row was announced, not the whole model reset
    assert ids_in_order(proxy) == [1, 3, 2, 5]  # the sort order is kept (missing costs last)


def test_tracklet_model_groups_by_camera():
    model = TrackletModel()
    model.set_rows([tracklet(5, "cam2", first=3), tracklet(1, "cam1", first=9), tracklet(2, "cam1", first=1),
                    tracklet(7, "cam2", state="confirmed", cost=None, first=0)])
    assert model.rowCount() == 2
    cam1 = model.index(0, 0)
    assert cam1.data(DISPLAY) == "cam1 — 2 tracklets"
    assert model.rowCount(cam1) == 2
    assert [t.id for t in model.rows()] == [2, 1, 7, 5]  # camera, then time
    idx = model.index_of(7)
    assert idx.parent() == model.index(1, 0)
    assert idx.data(ID_ROLE) == 7 and idx.data(STATE_ROLE) == "confirmed"
    assert "confirmed" in idx.data(DISPLAY)
    assert idx.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert not (model.flags(cam1) & Qt.ItemFlag.ItemIsSelectable)
    assert model.flags(idx) & Qt.ItemFlag.ItemIsSelectable
    assert model.parent(cam1) == QModelIndex()
    assert model.rowCount(idx) == 0
    assert not model.index_of(99).isValid()
    assert model.tracklet(5).camera == "cam2"


class StubThumbs:
    """Stands in for ThumbnailCache: answers placeholders until ``deliver``."""

    def __init__(self):
        from PySide6.QtCore import QObject, Signal

        class _Sig(QObject):
            ready = Signal(int)

        self._sig = _Sig()
        self.ready = self._sig.ready
        self.asked: list[int] = []
        self.have: set[int] = set()

    def strip(self, tid):
        self.asked.append(tid)
        return QPixmap(10 if tid in self.have else 1, 10)

    def best(self, tid):
        self.asked.append(tid)
        return QPixmap(10 if tid in self.have else 1, 10)

    def has(self, tid):
        return tid in self.have

    def deliver(self, tid):
        self.have.add(tid)
        self.ready.emit(tid)


def test_thumbnails_are_a_role_with_placeholder_then_update(qtbot):
    thumbs = StubThumbs()
    model = TrackletModel(thumbs)
    model.set_rows([tracklet(1), tracklet(2)])
    cell = model.index_of(2, 1)
    assert cell.data(DECORATION).width() == 1  # placeholder, and the cache was asked
    assert thumbs.asked == [2]
    with qtbot.waitSignal(model.dataChanged) as blocker:
        thumbs.deliver(2)
    assert blocker.args[0] == cell
    assert cell.data(DECORATION).width() == 10


def test_nearest_model_rows_roles_and_borders(qtbot):
    thumbs = StubThumbs()
    model = NearestModel(thumbs)
    model.set_rows([(tracklet(3, "cam2", identity=1, state="confirmed"), 0.1, "same"),
                    (tracklet(4, "cam3", identity=2), 0.4, "cannot"),
                    (tracklet(5, "cam1", identity=None, state=None), 0.9, None)])
    assert model.rowCount() == 3
    first = model.index(0, 0)
    assert first.data(ID_ROLE) == 3
    assert first.data(NearestModel.DISTANCE_ROLE) == 0.1
    assert first.data(NearestModel.MARK_ROLE) == "same"
    assert "d 0.100" in first.data(DISPLAY) and "cam2" in first.data(DISPLAY)
    assert "unlinked" in model.index(2, 0).data(DISPLAY)
    assert first.data(DECORATION).width() == 1  # placeholder
    thumbs.deliver(3)
    pix = first.data(DECORATION)
    assert pix.width() == 10 + 2 * 4  # bordered
    img = pix.toImage()
    assert img.pixelColor(0, 0).green() > img.pixelColor(0, 0).red()  # green: confirmed same identity
    thumbs.deliver(4)
    img = model.index(1, 0).data(DECORATION).toImage()
    assert img.pixelColor(0, 0).red() > img.pixelColor(0, 0).green()  # red: reviewer said different


def test_detection_model_interpolates_boxes():
    model = DetectionModel()
    model.set_rows([DetectionRow(10, 1.0, (10, 10, 20, 40), 0.9), DetectionRow(0, 0.0, (0, 0, 10, 30), 0.8)])
    assert model.rowCount() == 2
    assert model.frame_range() == (0, 10)
    assert model.box_at(0) == (0, 0, 10, 30)
    assert model.box_at(5) == (5, 5, 15, 35)
    assert model.box_at(11) is None and model.box_at(-1) is None
    assert model.index(0, 0).data(DetectionModel.FRAME_ROLE) == 0


def test_formatting():
    assert format_time(3725.4) == "01:02:05"
    assert format_time(None) == "—"
    assert format_time(1.7e9).startswith("20")
    assert format_cost(0.12345) == "0.123"
    assert format_cost(None) == "—"
