"""The linking ablation's rows end on the defaults of a fresh install, so docs/linking.md's last main row is
what users run."""

from __future__ import annotations

import sys
from pathlib import Path

from reid.config import PipelineConfig, override

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.bench_linking import LEVERS  # noqa: E402


def test_the_last_main_lever_row_is_the_fresh_install_defaults() -> None:
    cfg = PipelineConfig()
    for label, change in LEVERS:
        if "instead of" not in label:
            cfg = override(cfg, change)
    assert cfg == PipelineConfig()
    assert "fresh-install defaults" in [label for label, _ in LEVERS if "instead of" not in label][-1]
    first = override(PipelineConfig(), LEVERS[0][1])
    assert not first.link.stitch and not first.link.topology and first.link.threshold == 0.6
