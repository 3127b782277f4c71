"""Opt-in: ``reid import-weights`` against the peers' own code (``tools/check_import_parity.py``), min cosine.

Runs when ``REID_IMPORT_PARITY=1`` and the peer is installed (a ResNet-50 per peer on the CPU: minutes):

    pip install torchreid==0.2.5 gdown; pip install fastreid==1.4.0 --no-deps; pip install yacs termcolor tabulate
    REID_IMPORT_PARITY=1 REID_STRONG_BASELINE=/path/to/reid-strong-baseline pytest -q tests/models/test_import_parity.py
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_import_parity.py"
MIN_COSINE = 0.9999

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("REID_IMPORT_PARITY") != "1",
                       reason="opt-in: set REID_IMPORT_PARITY=1 (builds each peer's ResNet-50 with its own code)"),
]


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_import_parity", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def need(package: str, install: str) -> None:
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed ({install})")


@pytest.fixture
def crops(tmp_path, monkeypatch) -> tuple:
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # the peers' own loaders, on their own files
    t = tool()
    return t, tmp_path, *t.person_crops(tmp_path, synthetic=2)


def test_torchreid_resnet50(crops) -> None:
    need("torchreid", "pip install torchreid==0.2.5 gdown")
    t, work, sized, native = crops
    (result,) = t.check_torchreid(work, sized, native)
    assert result.same_pixels >= MIN_COSINE, result


def test_fast_reid_bagtricks_and_gem_reduction(crops) -> None:
    need("fastreid", "pip install fastreid==1.4.0 --no-deps; pip install yacs termcolor tabulate")
    t, work, sized, native = crops
    results = {r.peer.strip(): r for r in t.check_fastreid(work, sized, native)}
    assert results["fast-reid 1.4.0 bagtricks R50"].same_pixels >= MIN_COSINE
    assert results["fast-reid 1.4.0 R50 GeM-P + 256-d reduction"].same_pixels >= MIN_COSINE
    assert results["control: same file, --stem torchvision"].same_pixels < 0.99  # the stem matters
    assert "whatever MODEL.HEADS.NECK_FEAT says" in results["control: same file, --no-bnneck"].note
    assert "an IBN, non-local or SE variant?" in results["fast-reid 1.4.0 R50-IBN (WITH_IBN)"].note


def test_reid_strong_baseline(crops) -> None:
    repo = os.environ.get("REID_STRONG_BASELINE")
    if not repo or not (Path(repo) / "modeling" / "baseline.py").is_file():
        pytest.skip("REID_STRONG_BASELINE does not name a checkout of michuanhaohao/reid-strong-baseline "
                    "(not on PyPI); tests/models/test_layouts.py checks its layout with a reference written here")
    need("yacs", "pip install yacs")
    t, work, sized, native = crops
    results = t.check_strong_baseline(work, sized, native, Path(repo))
    for r in results:
        if not r.peer.startswith(" "):
            assert r.same_pixels >= MIN_COSINE, r
            assert "holds a pickled modeling.baseline.Baseline object" in r.note
