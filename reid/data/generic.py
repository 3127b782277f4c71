"""Any folder of ``PID_cCAM_*.jpg`` person crops (e.g. exported by the video pipeline) as a re-ID set.

The folder is searched recursively. Identities are split (seeded) into train ids and test ids; for the
test ids one query is drawn per (pid, camera) and the rest go to the gallery. Only identities seen in
at least two cameras give queries (a query needs a cross-camera match); single-camera test ids go to
the gallery. Junk (pid -1) is dropped; every other pid, 0 included, is an identity.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from reid.data.market1501 import JUNK_PID, Market1501, Sample, image_files, parse_name, relabel
from reid.errors import DatasetError


def load(root: str | Path, test_fraction: float = 0.5, seed: int = 0) -> Market1501:
    """Read and split ``root``; ``test_fraction`` of the identities (rounded) become test ids."""
    root = Path(root)
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction} must be in [0, 1)")
    if not root.is_dir():
        raise DatasetError(f"{root}: folder not found")
    files = image_files(root, recursive=True)
    if not files:
        raise DatasetError(f"{root}: no .jpg images (expected PID_cCAM_*.jpg crops, e.g. 0007_c2_f000123.jpg)")
    samples = []
    for path in files:
        pid, cam = parse_name(path)
        if pid != JUNK_PID:
            samples.append(Sample(str(path), pid, cam - 1))
    pids = np.array(sorted({s.pid for s in samples}))
    if len(pids) < 2:
        raise DatasetError(f"{root}: {len(pids)} identity found, need at least 2")

    rng = np.random.default_rng(seed)
    n_test = int(round(len(pids) * test_fraction))
    n_test = min(max(n_test, 1 if test_fraction > 0 else 0), len(pids) - 1)
    test_ids = set(rng.permutation(pids)[:n_test].tolist())

    train = relabel(s for s in samples if s.pid not in test_ids)
    by_pid_cam: dict[tuple[int, int], list[Sample]] = defaultdict(list)
    for s in samples:
        if s.pid in test_ids:
            by_pid_cam[(s.pid, s.camid)].append(s)
    cams_of: dict[int, int] = defaultdict(int)
    for pid, _ in by_pid_cam:
        cams_of[pid] += 1
    query: list[Sample] = []
    gallery: list[Sample] = []
    for (pid, _), group in sorted(by_pid_cam.items()):
        q = int(rng.integers(len(group))) if cams_of[pid] >= 2 else -1
        query.extend(group[q:q + 1] if q >= 0 else [])
        gallery.extend(s for i, s in enumerate(group) if i != q)
    return Market1501(train=train, query=query, gallery=gallery, root=str(root))
