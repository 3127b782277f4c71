"""``reid`` never imports Qt: importing every module of the package leaves PySide6 out of ``sys.modules``
(checked in a fresh interpreter), and no module names PySide6 outside the lazy import of ``reid review``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REID = Path(__file__).resolve().parents[1] / "reid"
ALLOWED = {REID / "cli" / "review.py"}  # imports gui inside its run function only


def _modules() -> list[str]:
    names = []
    for path in sorted(REID.rglob("*.py")):
        parts = path.relative_to(REID.parent).with_suffix("").parts
        if parts[-1] == "__main__":  # running the CLI is not importing it
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_importing_all_of_reid_does_not_import_qt():
    code = (
        "import importlib, sys\n"
        f"names = {_modules()!r}\n"
        "failed = []\n"
        "for n in names:\n"
        "    try:\n"
        "        importlib.import_module(n)\n"
        "    except Exception as e:\n"  # optional extras (onnx, ray) may be missing here
        "        failed.append((n, str(e)))\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'gui')))\n"
        "print(repr(qt))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=REID.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def _top_level_qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [n for n in names if n.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "gui")]
    return found


def test_no_reid_module_imports_qt_or_gui():
    offenders = {str(p): _top_level_qt_imports(p) for p in REID.rglob("*.py") if p not in ALLOWED}
    assert {p: n for p, n in offenders.items() if n} == {}


def test_review_command_imports_gui_only_inside_run():
    tree = ast.parse((REID / "cli" / "review.py").read_text())
    for node in tree.body:  # module level: no gui/Qt import
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert not _top_level_qt_imports_node(node)


def _top_level_qt_imports_node(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        names = [node.module or ""]
    return any(n.split(".")[0] in ("PySide6", "gui") for n in names)
