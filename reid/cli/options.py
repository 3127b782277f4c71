"""Command-line flags generated from dataclass configs, and YAML + flags -> config.

Each ``Flag`` maps one option to a dotted config key (``--lr`` -> ``optim.lr``); its type, default and help
suffix come from the dataclass, so the parser cannot drift from the config. Flags that were not given do
not appear in the namespace at all (``argparse.SUPPRESS``), so precedence is simply:
dataclass defaults (or a checkpoint's config) < ``--config FILE.yaml`` < flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from reid.config import from_dict, naming_file, override, yaml_mapping

C = TypeVar("C")
PREFIX = "cfg:"  # namespace attributes holding config overrides are named "cfg:<dotted key>"
_UNSET = object()


@dataclass(frozen=True)
class Flag:
    """One option: ``flag`` sets config key ``key``. ``const`` makes it a switch storing that value."""

    flag: str
    key: str
    help: str
    choices: Sequence[Any] | None = None
    metavar: str | None = None
    const: Any = _UNSET


def field_info(cls: type, dotted: str) -> tuple[Any, Any]:
    """``(type, default)`` of the (nested) dataclass field ``dotted`` of ``cls``."""
    head, _, rest = dotted.partition(".")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if head not in fields:
        raise KeyError(f"{cls.__name__} has no field {head!r}")
    tp = typing.get_type_hints(cls)[head]
    f = fields[head]
    if rest:
        return field_info(tp, rest)
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc, operator]
    return tp, default


def _scalar(tp: Any) -> tuple[Any, bool]:
    """Strip ``Optional``: ``(inner type, is_tuple)``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is tuple:
        return typing.get_args(tp)[0], True
    return tp, False


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return " ".join(str(v) for v in value)
    return "none" if value is None else str(value)


def add_config_flags(parser: argparse.ArgumentParser | Any, cls: type, flags: Sequence[Flag]) -> None:
    """Add every ``Flag`` to ``parser`` (or an argument group), typed and documented from ``cls``."""
    for f in flags:
        tp, default = field_info(cls, f.key)
        dest = PREFIX + f.key
        if f.const is not _UNSET:
            parser.add_argument(f.flag, dest=dest, action="store_const", const=f.const, default=argparse.SUPPRESS,
                                help=f.help)
            continue
        inner, is_tuple = _scalar(tp)
        help_text = f"{f.help} (default: {_show(default)})"
        kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS, "help": help_text}
        if inner is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs.update(type=inner, metavar=f.metavar or f.flag.lstrip("-").upper().replace("-", "_"))
            if f.choices is not None:
                kwargs["choices"] = f.choices
                kwargs.pop("metavar")
            if is_tuple:
                kwargs["nargs"] = "+"
        parser.add_argument(f.flag, **kwargs)


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys set on the command line, e.g. ``{"optim.lr": 1e-3}`` (lists become tuples)."""
    return {k[len(PREFIX):]: tuple(v) if isinstance(v, list) else v
            for k, v in vars(args).items() if k.startswith(PREFIX)}


def _dotted(cls: type, values: Mapping[str, Any], cfg: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of ``values`` (a YAML mapping) with their converted values taken from ``cfg``."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        current = getattr(cfg, name)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            out.update(_dotted(type(current), value, current, f"{prefix}{name}."))
        else:
            out[prefix + name] = current
    return out


def read_yaml(cls: type[C], path: str | Path) -> dict[str, Any]:
    """The keys a YAML config file sets, dotted and type-checked; unknown keys raise ``ConfigError``."""
    values = yaml_mapping(path)
    with naming_file(path):
        return _dotted(cls, values, from_dict(cls, values, where=str(path)))


def build_config(cls: type[C], args: argparse.Namespace, base: C | None = None) -> C:
    """``base`` (default: ``cls()``), then ``--config`` YAML keys, then the flags that were given."""
    cfg = base if base is not None else cls()
    if getattr(args, "config", None):
        cfg = override(cfg, read_yaml(cls, args.config))
    return override(cfg, flag_overrides(args))
