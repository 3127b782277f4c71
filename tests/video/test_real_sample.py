"""The shipped real sample against its reference identities, with the defaults of a fresh install.

Slow (YOLO on 2 x 398 frames, ~1-3 min on 2 cores) and needs the default detector (`reid fetch-models`, which
.ci/run runs); skipped without it. The bounds guard what docs/linking.md measures (pair precision 0.98, recall
0.80, purity 0.99 with the hand-crafted embedding; recall is bounded one pair below, 48/61, since another
machine's YOLO may box a frame differently); the old appearance-only defaults scored precision 0.24.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reid.config import PipelineConfig
from reid.link.link_eval import link_scores
from reid.store import Store
from reid.video.detect import find_yolo_weights
from reid.video.manifest import load_manifest
from reid.video.mot_eval import store_predictions
from reid.video.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_default_run_on_the_real_sample_proposes_mostly_right_links(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # models/ is looked up relative to the working folder, as for a user
    if find_yolo_weights() is None:
        pytest.skip("no YOLO weights in models/ (run `reid fetch-models`)")
    db = tmp_path / "site.db"
    summary = run_pipeline(load_manifest(ROOT / "examples" / "cameras.yaml"), db, PipelineConfig(), progress=False)
    assert summary.detector.startswith("yolo:")
    assert "calibrated: FAR 1.0%" in summary.link_threshold
    with Store(db, readonly=True) as store:
        scores = link_scores({c: ROOT / "examples" / "reference" / "gt" / f"{c}.txt" for c in ("left", "right")},
                             store_predictions(store))
    assert scores.pair_precision >= 0.9, scores.line()
    assert scores.pair_recall >= 0.78, scores.line()
    assert scores.purity >= 0.95, scores.line()
