"""The review app in a real X window (Xvfb), driven by xdotool keys: accept a suggested merge, reject the false
link (its identity re-forms), undo both; each effect checked in the database by ``tools/real_window_check.py``.
Skipped where Xvfb, xdotool or ImageMagick's ``import`` is missing (CI installs none of them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "xdotool", "import")
MISSING = [t for t in TOOLS if shutil.which(t) is None]


@pytest.mark.slow
@pytest.mark.skipif(
    bool(MISSING),
    reason=f"real-window check needs {', '.join(MISSING)} on PATH (apt-get install xvfb xdotool imagemagick)",
)
def test_reject_accept_undo_in_a_real_window(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "real_window_check.py"), "--shots", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Y on the suggested merge: tracklets 2 and 8 in identity 2" in out.stdout
    assert (
        "N on the false link: tracklet 10 now in identity 9 (members [10]), identity 5 holds [4]"
        in out.stdout
    )
    assert "Ctrl+Z again: tracklets 2 and 8 back in identities 2 and 3" in out.stdout
    assert len(sorted(tmp_path.glob("*.png"))) == 9
