"""Before Qt starts: can its platform plugin run here? On a Linux desktop Qt's ``xcb`` plugin needs X11/XCB
libraries that minimal installs lack (``libxcb-cursor0`` since Qt 6.5, ``libxcb-icccm4``, ...); without them
Qt aborts with "Could not load the Qt platform plugin "xcb"" and a list of plugins that helps nobody.
``platform_problem()`` says instead, in one line, which Debian/Ubuntu packages to install. No Qt imports here.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# What PySide6 6.5-6.12's libqxcb.so and libQt6XcbQpa.so.6 link (``ldd``), with the Debian/Ubuntu package of
# each; the Qt docs' "Qt for X11 Requirements" list the same.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
# Libraries QtGui itself needs: without them ``import PySide6.QtWidgets`` fails already.
GUI_LIBRARIES: dict[str, str] = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}
# Named in older Qt's requirements, for a plugin built against them.
OTHER_LIBRARIES: dict[str, str] = {"libxcb-xinerama.so.0": "libxcb-xinerama0", "libxcb-glx.so.0": "libxcb-glx0",
                                   "libxcb-xinput.so.0": "libxcb-xinput0"}
PACKAGES = {**XCB_LIBRARIES, **GUI_LIBRARIES, **OTHER_LIBRARIES}

Loader = Callable[[str], object]  # loads a shared library by name or path; raises OSError when it cannot


def _dlopen(name: str) -> object:
    return ctypes.CDLL(name)


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will pick its xcb plugin: asked for by ``QT_QPA_PLATFORM``, or left to choose on an X11
    display (a Wayland session without the variable may use the wayland plugin instead)."""
    platform = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if platform:
        return platform == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def missing_libraries(names: Mapping[str, str] = XCB_LIBRARIES, load: Loader | None = None) -> list[str]:
    """The sonames of ``names`` that the dynamic loader cannot find (as Qt would load them)."""
    load = load or _dlopen
    missing = []
    for soname in names:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def xcb_plugin() -> Path | None:
    """PySide6's ``libqxcb.so``, without importing Qt; None when it is not there."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if path.is_file():
            return path
    return None


def install_hint(sonames: list[str]) -> str:
    """``sudo apt-get install <packages>`` (Debian/Ubuntu names); a library we do not know is named as such."""
    packages = sorted({PACKAGES[s] for s in sonames if s in PACKAGES})
    unknown = [s for s in sonames if s not in PACKAGES]
    hint = f"sudo apt-get install {' '.join(packages)}" if packages else ""
    if unknown:
        hint += (" and " if hint else "") + f"the package that provides {', '.join(unknown)} (apt-file search)"
    return hint


def platform_problem(env: Mapping[str, str] | None = None, load: Loader | None = None,
                     plugin: Path | None | bool = True) -> str | None:
    """One line saying why Qt cannot open a window here and what to install, or None when it can (or when
    Qt will not use xcb). ``plugin``: the xcb plugin to try loading (True: PySide6's, None/False: skip)."""
    env = os.environ if env is None else env
    load = load or _dlopen
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if not platform and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("no display to open a window on (DISPLAY is not set); run it on a desktop, or render a PNG "
                "with QT_QPA_PLATFORM=offscreen reid review DB --screenshot out.png")
    if not uses_xcb(env):
        return None
    missing = missing_libraries(XCB_LIBRARIES, load)
    if not missing and plugin:
        path = xcb_plugin() if plugin is True else plugin
        try:
            if isinstance(path, Path):
                load(str(path))
        except OSError as exc:  # "libfoo.so.1: cannot open shared object file: No such file or directory"
            found = re.search(r"(lib[\w.+-]+\.so[.\d]*): cannot open shared object", str(exc))
            if found is None or found.group(1) == "libqxcb.so":
                return f"Qt's xcb platform plugin does not load: {exc}"
            missing = [found.group(1)]
    if not missing:
        return None
    return (f"Qt's xcb platform plugin needs {', '.join(missing)}, missing on this system; install "
            f"{'it' if len(missing) == 1 else 'them'} with: {install_hint(missing)}")


def import_problem(exc: ImportError) -> str | None:
    """One line for ``import PySide6.QtWidgets`` failing on a missing system library, or None."""
    found = re.search(r"(lib[\w.+-]+\.so[.\d]*)", str(exc))
    if not found:
        return None
    soname = found.group(1)
    return (f"PySide6 cannot start: {soname} is missing on this system; install it with: "
            f"{install_hint([soname])}")
