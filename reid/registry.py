"""One plug-point pattern: a name -> builder registry whose errors list what exists.

Backbones, miners, losses, detectors, trackers and embedders each keep one ``Registry``; configuration choice
lists and ``--help`` texts read ``registry.names()``, so a new entry needs one decorator and nothing else
(fast-reid's ``Registry``, ultralytics' ``TRACKER_MAP``).

    BACKBONES = Registry("backbone")

    @BACKBONES.register("resnet50")
    def resnet50(...): ...

    BACKBONES.get("resnet51")  # ConfigError: unknown backbone 'resnet51'; known: resnet18, resnet50
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from reid.errors import ReidError

T = TypeVar("T")


class UnknownNameError(ReidError, ValueError):
    """A name no registry entry answers to; the message lists the known ones."""


class Registry(Generic[T]):
    """Names -> builders (any callables or objects), in registration order."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@REG.register("name")`` adds the decorated object under ``name``."""

        def add(obj: T) -> T:
            self.add(name, obj)
            return obj

        return add

    def add(self, name: str, obj: T) -> None:
        """Add ``obj`` under ``name``; a name is registered once."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = obj

    def get(self, name: str) -> T:
        """The entry ``name``; ``UnknownNameError`` naming the known ones otherwise."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {', '.join(self._entries)}") from None

    def remove(self, name: str) -> T:
        """Take ``name`` out again (a test's temporary entry); ``UnknownNameError`` when it is not there."""
        entry = self.get(name)
        del self._entries[name]
        return entry

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
