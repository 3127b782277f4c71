"""Exceptions a user can act on. The CLI prints their message as one line and exits non-zero."""

import sys


class ReidError(Exception):
    """Base of every error whose message is meant for the user (it names the file and the problem)."""


class DatasetError(ReidError):
    """A data set folder or image that cannot be used."""


class CheckpointError(ReidError):
    """A model or weights file that is missing, truncated or of another architecture."""


class VideoError(ReidError):
    """A video file that is missing, empty, unreadable or corrupt."""


class StoreError(ReidError):
    """A database that cannot be opened, written or migrated."""


class StoreLockedError(StoreError):
    """The database is locked by another writer; the caller may retry or open it read-only."""


class ReviewError(ReidError):
    """A review edit that cannot be applied (unknown tracklet or identity, nothing to undo it against)."""


class TrainingError(ReidError):
    """Training cannot go on (e.g. the loss became NaN)."""


class ExportError(ReidError):
    """An export not written (folder not writable, disk full, target exists); nothing partial is kept."""


def first_line(exc: BaseException, limit: int = 160, with_type: bool = True) -> str:
    """``"TypeName: first line of the message"`` (just the line with ``with_type=False``, for our own errors,
    whose messages are written for users), for one-line errors that wrap another exception."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0][:limit]
    return f"{type(exc).__name__}: {line}" if with_type else line


def load_problem(exc: BaseException) -> str:
    """What a failed ``torch.load`` says about the file, in words: torch's own messages for a cut zip archive
    or a text file are internals ("failed finding central directory", "Unsupported operand 110")."""
    text = str(exc)
    if "central directory" in text or "zip archive" in text or isinstance(exc, EOFError):
        return "the file ends early or its archive is damaged (an interrupted download or copy?)"
    if "Unsupported operand" in text or "invalid load key" in text or isinstance(exc, KeyError):
        return "the file is not a PyTorch file at all"
    return first_line(exc)


def print_error(line: str) -> None:
    """``line`` and its newline to stderr in one write: lines of processes sharing the stream (torchrun's
    ranks) then never run into each other, as two writes (``print``'s text, then its end) can."""
    sys.stderr.write(f"{line}\n")
    sys.stderr.flush()
