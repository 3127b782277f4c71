"""Export files and folders written whole or not at all.

Each is written under a temporary name in its own folder (``.<name>.<pid>-<random>.part``) and renamed into place
(``os.replace``) only when complete; on any error, Ctrl-C included, the temporary is removed and an existing
target is left as it was; the temporaries of an export killed outright (``kill -9``) are removed by the next
export to the same place. OS errors become one-line ``ExportError`` messages that name the target and what to
do about it.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from reid.errors import ExportError, first_line

PART = ".part"


def reason(exc: OSError) -> str:
    """What went wrong and what to do, for an OS error of writing an export."""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied: the folder is not writable; choose another --out or change its permissions"
    elif code == errno.EROFS:
        return "read-only file system; choose another --out"
    elif code in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on device; free some space or choose another --out"
    elif code == errno.EISDIR:
        return "is a folder, not a file; rename it or choose another --out"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        return "a file stands where a folder is needed; rename it or choose another --out"
    return f"cannot write it ({exc.strerror or first_line(exc)})"


def export_error(path: Path, exc: OSError) -> ExportError:
    """A one-line error for ``exc`` raised while writing ``path`` (the target, never the temporary)."""
    kept = "left as it was" if path.exists() else "not written"
    return ExportError(f"{path}: {reason(exc)} ({path.name} {kept})")


def prepare_folder(folder: str | Path) -> Path:
    """``folder`` created if missing (parents too); a one-line ``ExportError`` when it cannot be."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out}: cannot create the output folder: {reason(exc)}") from None
    if not out.is_dir():
        raise ExportError(f"{out}: is a file, not a folder; choose another --out")
    return out


def exists(path: Path) -> bool:
    """Whether writing ``path`` would replace something: a file, or a folder that is not empty."""
    if path.is_dir():
        try:
            return any(path.iterdir())
        except OSError:
            return True
    return path.exists() or path.is_symlink()


def refuse_existing(paths: list[Path]) -> None:
    """``ExportError`` naming those of ``paths`` that exist (see ``exists``); nothing when none does."""
    found = [p for p in paths if exists(p)]
    if found:
        names = ", ".join(str(p) for p in found)
        verb = "exists" if len(found) == 1 else "exist"
        raise ExportError(
            f"{names} already {verb}; pass --overwrite to replace, or choose another --out "
            "(nothing was written)"
        )


def _temporary(path: Path) -> Path:
    """``.<name>.<pid>-<random>.part`` beside ``path``; leftovers of a killed export (``kill -9`` runs no
    clean-up) are removed first."""
    _clear_leftovers(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{PART}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _clear_leftovers(path: Path) -> None:
    """Remove temporaries of ``path`` (files or folders, ``.old`` ones too) whose writing process is gone."""
    for stale in path.parent.glob(f".{path.name}.*-*{PART}*"):
        pid = stale.name[len(path.name) + 2 :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


@contextmanager
def atomic_write(
    path: str | Path,
    mode: str = "w",
    *,
    overwrite: bool = True,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary next to ``path`` for writing (``mode`` ``"w"`` or ``"wb"``) and rename it to ``path``
    when the block ends without error. ``overwrite=False``: an existing ``path`` is an ``ExportError``.
    The temporary gets the permissions a plain ``open`` would give (the umask applies)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', not {mode!r}")
    path = Path(path)
    if path.is_dir():
        raise export_error(path, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)))
    if not overwrite:
        refuse_existing([path])
    tmp = _temporary(path)
    try:
        with open(tmp, mode.replace("w", "x"), encoding=encoding, newline=newline) as f:
            yield f
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise export_error(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(path: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """A temporary folder next to ``path`` to fill; renamed to ``path`` when the block ends without error.

    An existing ``path`` folder is replaced as a whole (files of an earlier export never mix with this one's);
    ``overwrite=False``: an existing, non-empty ``path`` is an ``ExportError``.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ExportError(
            f"{path}: is a file, not a folder; rename it or choose another --out ({path.name} left as it was)"
        )
    if not overwrite:
        refuse_existing([path])
    tmp = _temporary(path)
    try:
        os.mkdir(tmp)
    except OSError as exc:
        raise export_error(path, exc) from None
    try:
        yield tmp
        _swap_in(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise export_error(path, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, path: Path) -> None:
    """Rename folder ``tmp`` to ``path``; an existing ``path`` is moved aside first and removed after."""
    if not path.exists():
        os.replace(tmp, path)
        return
    old = _temporary(path).with_suffix(".old")
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
