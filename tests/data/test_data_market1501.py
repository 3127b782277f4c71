from __future__ import annotations

from pathlib import Path

import pytest

from reid.data import Sample, load_dataset, market1501
from reid.errors import DatasetError


def test_reads_relabels_and_applies_the_protocol(market: Path) -> None:
    ds = market1501.load(market)
    assert sorted({s.pid for s in ds.train}) == [0, 1, 2]  # 5, 9, 12 relabelled in sorted order
    assert [s.pid for s in ds.train] == [0, 0, 1, 2]  # junk dropped
    assert ds.num_train_pids == 3 and ds.num_train_cams == 3
    assert {(s.pid, s.camid) for s in ds.query} == {(2, 0), (3, 1)}  # test pids kept, camid 0-based
    assert sorted(s.pid for s in ds.gallery) == [0, 2, 3]  # distractor kept, junk and Thumbs.db dropped
    assert all(isinstance(s, Sample) and Path(s.path).is_file() for s in ds.train + ds.query + ds.gallery)


def test_summary_is_the_torchreid_table(market: Path) -> None:
    lines = market1501.load(market).summary().splitlines()
    assert "subset   | # ids | # images | # cameras" in lines[2]
    assert lines[4] == "  train    |     3 |        4 |         3"
    assert lines[6] == "  gallery  |     3 |        3 |         3"


def test_parent_folder_accepted(market: Path) -> None:
    assert len(market1501.load(market.parent).train) == 4
    assert len(load_dataset(market.parent).train) == 4


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="folder not found"):
        market1501.load(tmp_path / "nope")


def test_not_market_names_what_is_missing(tmp_path: Path, make_folder) -> None:
    make_folder("query", ["0002_c1s1_000001_01.jpg"])
    with pytest.raises(DatasetError) as err:
        market1501.load(tmp_path / "Market")
    msg = str(err.value)
    assert "\n" not in msg
    assert "not a Market-1501 folder: no bounding_box_train/, bounding_box_test/" in msg
    assert "(expected bounding_box_train, bounding_box_test, query)" in msg


def test_bad_name_names_the_first_bad_file(market: Path) -> None:
    (market / "query" / "holiday.jpg").write_bytes(b"x")
    (market / "query" / "zzz_c1.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError) as err:
        market1501.load(market)
    assert "holiday.jpg" in str(err.value) and "\n" not in str(err.value)


def test_empty_split(market: Path) -> None:
    for f in (market / "query").iterdir():
        f.unlink()
    with pytest.raises(DatasetError, match=r"query: empty split"):
        market1501.load(market)


def test_split_of_only_distractors_is_empty(market: Path) -> None:
    for f in (market / "query").iterdir():
        f.unlink()
    (market / "query" / "0000_c1s1_000001_01.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="all 1 images are junk or distractors"):
        market1501.load(market)
