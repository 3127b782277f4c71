"""``reid review`` on a Linux desktop without the XCB libraries Qt's xcb plugin needs: one line naming the
packages, exit code 2, before Qt can abort the process."""

from __future__ import annotations

import sys

import pytest

from gui import platform_check
from gui.platform_check import install_hint, platform_problem, uses_xcb
from reid.cli import main as reid_main

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")


def without(*sonames: str):
    """A loader that finds every library except ``sonames``."""

    def load(name: str) -> None:
        if any(name.endswith(s) for s in sonames):
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    return load


def test_which_platform_uses_xcb():
    assert uses_xcb({"DISPLAY": ":0"})
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"})
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"})
    assert not uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})  # Qt may pick wayland


def test_missing_libraries_are_named_with_their_packages():
    problem = platform_problem({"DISPLAY": ":0"}, load=without("libxcb-cursor.so.0", "libxcb-icccm.so.4"),
                               plugin=False)
    assert problem is not None and "\n" not in problem
    assert "libxcb-cursor.so.0" in problem and "libxcb-icccm.so.4" in problem
    assert problem.endswith("sudo apt-get install libxcb-cursor0 libxcb-icccm4")


def test_all_there_is_no_problem_and_offscreen_is_not_checked():
    assert platform_problem({"DISPLAY": ":0"}, load=without(), plugin=False) is None
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}, load=without("libxcb.so.1")) is None


def test_a_plugin_that_does_not_load_names_the_library_it_wanted(tmp_path):
    plugin = tmp_path / "libqxcb.so"

    def load(name: str) -> None:
        if name == str(plugin):
            raise OSError("libxcb-xinerama.so.0: cannot open shared object file: No such file or directory")

    problem = platform_problem({"DISPLAY": ":0"}, load=load, plugin=plugin)
    assert problem is not None and problem.endswith("install it with: sudo apt-get install libxcb-xinerama0")


def test_no_display_says_so():
    assert "DISPLAY" in (platform_problem({}, load=without(), plugin=False) or "")


def test_install_hint_uses_debian_names():
    assert install_hint(["libxkbcommon-x11.so.0", "libxcb-keysyms.so.1"]) == \
        "sudo apt-get install libxcb-keysyms1 libxkbcommon-x11-0"
    assert install_hint(["libfoo.so.1"]) == "the package that provides libfoo.so.1 (apt-file search)"


def test_reid_review_stops_with_one_line(monkeypatch, capsys, video_db):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(platform_check, "_dlopen", without("libxcb-cursor.so.0"))
    assert reid_main(["review", str(video_db)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "libxcb-cursor.so.0" in err and "apt-get install libxcb-cursor0" in err


def test_pyside_import_failing_on_a_system_library_names_its_package():
    from gui.platform_check import import_problem

    problem = import_problem(ImportError("libEGL.so.1: cannot open shared object file: No such file or directory"))
    assert problem is not None and problem.endswith("sudo apt-get install libegl1")
    assert import_problem(ImportError("No module named 'PySide6'")) is None
