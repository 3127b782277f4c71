"""Market-1501 folder reader and the evaluation protocol's data rules.

Layout (Zheng et al. 2015, "Scalable Person Re-identification: A Benchmark")::

    Market-1501-v15.09.15/
        bounding_box_train/  0002_c1s1_000451_03.jpg ...   751 ids, 12,936 images
        bounding_box_test/   gallery: 750 test ids + distractors (0000) + junk (-1)
        query/               3,368 images of the 750 test ids

File names are ``PPPP_cCsS_FFFFFF_NN.jpg``: person id, camera (1-based), sequence, frame, box index.
Protocol rules applied here: junk (pid -1) is dropped everywhere; distractors (pid 0) are kept in the
gallery only; train pids are relabelled 0..N-1 in sorted order; camids become 0-based. (The rule that
gallery images of the query's own pid *and* camera are ignored belongs to ``reid.metrics``.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from reid.errors import DatasetError

SPLIT_DIRS = ("bounding_box_train", "bounding_box_test", "query")
JUNK_PID, DISTRACTOR_PID = -1, 0
IMAGE_SUFFIXES = (".jpg", ".jpeg")
_NAME = re.compile(r"(-1|\d+)_c(\d+)")  # the prefix every Market-style name shares (torchreid's pattern)


class Sample(NamedTuple):
    """One image: file path, person id, camera id (0-based)."""

    path: str
    pid: int
    camid: int


@dataclass
class Market1501:
    """A re-ID data set split the Market-1501 way: train, and query / gallery for evaluation."""

    train: list[Sample]
    query: list[Sample]
    gallery: list[Sample]
    root: str = ""

    @property
    def num_train_pids(self) -> int:
        return len({s.pid for s in self.train})

    @property
    def num_train_cams(self) -> int:
        return len({s.camid for s in self.train})

    def summary(self) -> str:
        """The statistics table torchreid prints (subset | # ids | # images | # cameras)."""
        rule = "  " + "-" * 40
        lines = ["=> Loaded " + (self.root or "dataset"), rule, "  subset   | # ids | # images | # cameras", rule]
        for name, samples in (("train", self.train), ("query", self.query), ("gallery", self.gallery)):
            pids, cams = len({s.pid for s in samples}), len({s.camid for s in samples})
            lines.append(f"  {name:<8} | {pids:5d} | {len(samples):8d} | {cams:9d}")
        lines.append(rule)
        return "\n".join(lines)


def parse_name(path: Path) -> tuple[int, int]:
    """``(pid, camera)`` from a Market-style file name (camera 1-based); DatasetError if it does not parse."""
    m = _NAME.match(path.name)
    if m is None or int(m.group(2)) < 1:
        raise DatasetError(f"{path}: file name is not PID_cCAM_... (e.g. 0002_c1s1_000451_03.jpg)")
    return int(m.group(1)), int(m.group(2))


def image_files(folder: Path, recursive: bool = False) -> list[Path]:
    """The .jpg/.jpeg files of ``folder``, sorted; other files (Thumbs.db, .txt) are ignored."""
    files = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in files if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def find_root(root: str | Path) -> Path | None:
    """``root`` if it holds bounding_box_train/, else its first sub-folder that does, else None."""
    root = Path(root)
    if (root / SPLIT_DIRS[0]).is_dir():
        return root
    if root.is_dir():
        for child in sorted(root.iterdir()):
            if (child / SPLIT_DIRS[0]).is_dir():
                return child
    return None


def _read_split(folder: Path, keep_distractors: bool) -> list[Sample]:
    files = image_files(folder)
    if not files:
        raise DatasetError(f"{folder}: empty split, no .jpg images")
    samples = []
    for path in files:
        pid, cam = parse_name(path)
        if pid == JUNK_PID or (pid == DISTRACTOR_PID and not keep_distractors):
            continue
        samples.append(Sample(str(path), pid, cam - 1))
    if not samples:
        raise DatasetError(f"{folder}: empty split, all {len(files)} images are junk or distractors")
    return samples


def relabel(samples: Iterable[Sample]) -> list[Sample]:
    """Map pids to 0..N-1 in sorted order (for the classifier head and the sampler)."""
    samples = list(samples)
    mapping = {pid: i for i, pid in enumerate(sorted({s.pid for s in samples}))}
    return [Sample(s.path, mapping[s.pid], s.camid) for s in samples]


def load(root: str | Path) -> Market1501:
    """Read a Market-1501 folder (or its parent); errors are one-line ``DatasetError`` messages."""
    given = Path(root)
    if not given.is_dir():
        raise DatasetError(f"{given}: folder not found")
    base = find_root(given) or given
    missing = [d for d in SPLIT_DIRS if not (base / d).is_dir()]
    if missing:
        raise DatasetError(f"{given}: not a Market-1501 folder: no {', '.join(d + '/' for d in missing)} "
                           f"(expected {', '.join(SPLIT_DIRS)})")
    return Market1501(
        train=relabel(_read_split(base / "bounding_box_train", keep_distractors=False)),
        query=_read_split(base / "query", keep_distractors=False),
        gallery=_read_split(base / "bounding_box_test", keep_distractors=True),
        root=str(base),
    )
