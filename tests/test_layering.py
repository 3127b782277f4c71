"""The layers themselves are import-linter contracts (``[tool.importlinter]`` in pyproject.toml, run by
``lint-imports`` in .ci/run). What they cannot see is checked here: grimp counts an import inside a function
like any other, so the contracts exempt ``reid.cli.review``'s GUI imports, and only running the imports tells
that they stay lazy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_loading_the_command_line_imports_neither_qt_nor_the_gui():
    code = ("import sys, reid.cli, reid.cli.review\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'gui')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
