"""What every config is built on: ``Checked`` (fields converted and checked against their type hints,
choice lists and ranges), the choice lists themselves and ``ConfigError``."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from reid.errors import ReidError


class ConfigError(ReidError, ValueError):
    """A configuration value or file that cannot be used; the message says which and why."""


# ---------------------------------------------------------------------------------------------- choices
# One constant per choice list: the configs check against it and the CLI's ``choices`` are it. Code that
# switches on one of these values imports the constant rather than repeating the names. A list that a registry
# keeps (plug points: miners, backbones ...) is a ``Registered`` reference to it.


class Registered:
    """A choice list kept by a ``reid.registry.Registry`` in a layer above the config, named ``"module:NAME"``.

    The config cannot import the registry (it sits below losses and models), so it says where it lives and does
    not check the value itself: ``reid.cli.options`` resolves it, so the parser's ``choices`` are the registry's
    names and every config the command line builds (flags, ``--config`` YAML) is checked against them with the
    usual ``<key> must be one of ...`` error; a config built in code meets the registry's own
    ``UnknownNameError`` (listing the known names) where its builder looks the name up.
    """

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __repr__(self) -> str:
        return f"Registered({self.where!r})"


MINING = Registered("reid.losses.miners:MINERS")  # loss.mining
ARCHS = Registered("reid.models.registry:BACKBONES")  # model.arch
POOLING = ("avg", "gem")  # model.pooling
OPTIMIZERS = ("adam", "adamw")  # optim.optimizer
SCHEDULES = ("step", "cosine")  # optim.schedule
DATA_FORMATS = ("auto", "market", "generic")  # data.format (reid.data.FORMATS)
DETECTORS = Registered("reid.video.detect:DETECTORS")  # detector.kind: auto | yolo | hog | mot
TRACKERS = Registered("reid.video.track:TRACKERS")  # tracker.kind: bytetrack | botsort
DETECTOR_RUNTIMES = ("auto", "openvino", "torch")  # detector.runtime
DETECTOR_PRECISIONS = ("fp32", "int8")  # detector.precision (of the OpenVINO export)
LINKAGES = ("average", "complete", "single", "cross-complete")  # link.linkage


class _DeviceNames(tuple):
    """``auto``, ``cpu``, ``cuda`` and ``cuda:N`` (GPU number N): ``in`` accepts every ``cuda:N``, so it serves
    as argparse ``choices`` too."""

    def __contains__(self, value: object) -> bool:
        return value in ("auto", "cpu", "cuda") or (isinstance(value, str) and re.fullmatch(r"cuda:\d+", value)
                                                     is not None)


DEVICES = _DeviceNames(("auto", "cpu", "cuda", "cuda:N"))  # device


class Checked:
    """Base of every config dataclass: building one converts and checks each field against its type hint
    (ints become floats, lists tuples, mappings nested configs) and against ``_choices``, the allowed values
    of a field, each a module constant above, and ``_ranges``, a number field's inclusive (least, most) (a ``Registered`` one is checked by the CLI and the builder). Errors name the key, the value and what is allowed, e.g.
    ``loss.mining must be one of batch_hard, batch_all, semi_hard, got 'bogus'``.

    Keys are named ``<section>.<field>``, the section being the class name less ``Config``, lower case
    (``LossConfig`` -> ``loss``); a root config sets ``_section = ""``. A subclass with its own
    ``__post_init__`` calls ``super().__post_init__()`` first.
    """

    _choices: ClassVar[Mapping[str, Sequence[Any] | Registered]] = {}
    _ranges: ClassVar[Mapping[str, tuple[float | None, float | None]]] = {}  # field -> (least, most), inclusive
    _section: ClassVar[str | None] = None

    def __post_init__(self) -> None:
        cls = type(self)
        section = cls._section if cls._section is not None else cls.__name__.removesuffix("Config").lower()
        hints = _type_hints(cls)
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            key = f"{section}.{f.name}" if section else f.name
            value = _convert(hints[f.name], getattr(self, f.name), key)
            object.__setattr__(self, f.name, value)
            allowed = cls._choices.get(f.name)
            if isinstance(allowed, Sequence) and value is not None and value not in allowed:
                raise ConfigError(f"{key} must be one of {', '.join(map(str, allowed))}, got {value!r}")
            low, high = cls._ranges.get(f.name, (None, None))
            if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
                raise ConfigError(f"{key} must be {_span(low, high)}, got {value!r}")



def _span(low: float | None, high: float | None) -> str:
    """``between 0 and 1`` / ``at least 1`` / ``at most 2`` for the message of a value out of its range."""
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


C = TypeVar("C")


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, computed once per class (every config built checks against them)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _describe(tp: Any) -> str:
    """What a value of annotated type ``tp`` must be, in words: ``a number``, ``none or a string`` ..."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("none" if a is type(None) else _describe(a) for a in args)
    names = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}
    if origin is tuple or tp is tuple:
        plural = {float: "numbers", int: "integers", bool: "booleans", str: "strings"}
        what = plural.get(args[0], "values") if args and len(set(args) - {Ellipsis}) == 1 else "values"
        return f"a list of {len(args)} {what}" if args and args[-1] is not Ellipsis else f"a list of {what}"
    if tp in names:
        return names[tp]
    return "a mapping" if origin in (Mapping, dict) or dataclasses.is_dataclass(tp) else f"a {tp}"


def _convert(tp: Any, value: Any, key: str) -> Any:
    """``value`` as annotated type ``tp``: ints become floats, lists tuples, mappings nested configs (and any
    other number type the plain Python one, a path a string). Raises ``ConfigError`` naming ``key``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    bad = ConfigError(f"{key} must be {_describe(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return _build(tp, value, key)
        raise bad
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in (a for a in args if a is not type(None)):
            with contextlib.suppress(ConfigError):
                return _convert(option, value, key)
        raise bad
    if origin is tuple or tp is tuple:
        fixed = bool(args) and args[-1] is not Ellipsis
        if not isinstance(value, list | tuple) or (fixed and len(value) != len(args)):
            raise bad
        inner = args if fixed else [args[0] if args else Any] * len(value)
        return tuple(_convert(t, v, f"{key}[{i}]") for i, (t, v) in enumerate(zip(inner, value, strict=True)))
    if origin in (Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, Mapping):
            raise bad
        kt, vt = args if args else (Any, Any)
        return {_convert(kt, k, key): _convert(vt, v, f"{key}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value!r}")
        return float(value)
    if tp is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if tp is str and isinstance(value, str | os.PathLike):
        return os.fspath(value)
    if tp is Any or (tp is bool and isinstance(value, bool)):
        return value
    if tp in (float, int, str, bool) or (isinstance(tp, type) and not isinstance(value, tp)):
        raise bad
    return value


def _unknown_keys(cls: type, values: Mapping[str, Any], path: str) -> dict[str, tuple[list[str], list[str]]]:
    """Section → (its unknown keys, its known keys), for ``cls`` and every nested config section in ``values``."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    found = {}
    unknown = sorted(map(str, set(values) - set(names)))
    if unknown:
        found[path] = (unknown, names)
    hints = _type_hints(cls)
    for name, value in values.items():
        tp = hints.get(name) if name in names else None
        if dataclasses.is_dataclass(tp) and isinstance(tp, type) and isinstance(value, Mapping):
            found.update(_unknown_keys(tp, value, f"{path}.{name}" if path else name))
    return found


def _unknown_message(found: Mapping[str, tuple[list[str], list[str]]]) -> str:
    """One line naming every unknown key: ``model: unknown key(s) archh; known: arch, ...`` for one section,
    ``unknown key(s) foo, model.archh; known: ... | model: arch, ...`` for several."""
    if len(found) == 1:
        [(path, (unknown, names))] = found.items()
        return f"{path + ': ' if path else ''}unknown key(s) {', '.join(unknown)}; known: {', '.join(names)}"
    keys = [f"{path}.{k}" if path else k for path, (unknown, _) in found.items() for k in unknown]
    known = " | ".join(f"{path or 'top level'}: {', '.join(names)}" for path, (_, names) in found.items())
    return f"unknown key(s) {', '.join(keys)}; known: {known}"


def _build(cls: type[C], values: Mapping[str, Any], path: str) -> C:
    """``cls(**values)``, values converted; unknown keys (of nested sections too, all named at once) raise
    ``ConfigError`` naming ``path`` and the known."""
    found = _unknown_keys(cls, values, path)  # type: ignore[arg-type]
    if found:
        raise ConfigError(_unknown_message(found))
    hints = _type_hints(cls)
    return cls(**{name: _convert(hints[name], v, f"{path}.{name}" if path else name) for name, v in values.items()})


