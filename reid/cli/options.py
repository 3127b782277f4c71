"""Command-line flags generated from dataclass configs, and YAML + flags -> config.

Each ``Flag`` maps one option to a dotted config key (``--lr`` -> ``optim.lr``); its type, default, choices
(the config's own constant, e.g. ``reid.config.POOLING``, or the names of the registry a ``reid.config.Registered``
names, e.g. ``MINING`` -> ``reid.losses.MINERS``) and help suffix come from the dataclass, so the parser cannot
drift from the config or the registries. ``config_flags`` goes further and makes a flag of every field, named after its
key (``link.threshold`` -> ``--link.threshold``) and documented by the field's ``# comment``: a field added to
a config has its flag at once. Flags that were not given do not appear in the namespace at all
(``argparse.SUPPRESS``), so precedence is simply:
dataclass defaults (or a checkpoint's config) < ``--config FILE.yaml`` < flags.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import importlib
import inspect
import io
import textwrap
import tokenize
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from reid.config import ConfigError, Registered, from_dict, naming_file, override, yaml_mapping
from reid.registry import Registry

C = TypeVar("C")
PREFIX = "cfg:"  # namespace attributes holding config overrides are named "cfg:<dotted key>"
_UNSET = object()


@dataclass(frozen=True)
class Flag:
    """One option: ``flag`` sets config key ``key``. ``const`` makes it a switch storing that value."""

    flag: str
    key: str
    help: str
    choices: Sequence[Any] | None = None  # only for a field without choices of its own in the config
    metavar: str | None = None
    const: Any = _UNSET
    aliases: tuple[str, ...] = ()  # further names of the same option


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


def registry_of(ref: Registered) -> Registry[Any]:
    """The registry a ``reid.config.Registered`` choice list names (``"reid.losses.miners:MINERS"``), imported
    here: the command line sits above every layer, the config below the registries it refers to."""
    module, _, name = ref.where.partition(":")
    registry = getattr(importlib.import_module(module), name)
    if not isinstance(registry, Registry):
        raise TypeError(f"{ref.where} is not a reid.registry.Registry")
    return registry


def choices_of(cls: type, dotted: str) -> Sequence[Any] | None:
    """The allowed values of field ``dotted`` of ``cls``: its config class's ``_choices`` constant (a registry's
    names for a ``Registered`` one), or None."""
    *sections, name = dotted.split(".")
    for section in sections:
        cls = typing.get_type_hints(cls)[section]
    allowed = getattr(cls, "_choices", {}).get(name)
    return registry_of(allowed).names() if isinstance(allowed, Registered) else allowed


def check_registered(cfg: Any, prefix: str = "") -> None:
    """Check every field of ``cfg`` (and its nested configs) whose choices a registry keeps; ``ConfigError``
    ``<key> must be one of <names>, got <value>`` as ``reid.config.Checked`` says for its own lists."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            check_registered(value, f"{prefix}{f.name}.")
            continue
        allowed = getattr(type(cfg), "_choices", {}).get(f.name)
        if isinstance(allowed, Registered) and value is not None and value not in registry_of(allowed):
            names = registry_of(allowed).names()
            raise ConfigError(f"{prefix}{f.name} must be one of {', '.join(names)}, got {value!r}")


def _scalar(tp: Any) -> tuple[Any, bool, int | str | None]:
    """Strip ``Optional``: ``(inner type, is_optional, nargs)``, nargs None for one value."""
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        optional = type(None) in typing.get_args(tp)
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        return args[0], optional, "+" if args[-1] is Ellipsis else len(args)
    return tp, optional, None


def _or_none(inner: Any) -> Any:
    """argparse ``type`` of an optional field: the word ``none`` gives None."""

    def convert(text: str) -> Any:
        return None if text.lower() == "none" else inner(text)

    convert.__name__ = getattr(inner, "__name__", "value")  # argparse names it in "invalid float value"
    return convert


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
            parser.add_argument(f.flag, *f.aliases, dest=dest, action="store_const", const=f.const,
                                default=argparse.SUPPRESS, help=f.help)
            continue
        inner, optional, nargs = _scalar(tp)
        help_text = f"{f.help} (default: {_show(default)})".strip()
        kwargs: dict[str, Any] = {"dest": dest, "default": argparse.SUPPRESS, "help": help_text}
        choices = choices_of(cls, f.key) or f.choices  # the config's constant wins over a list in the Flag
        if inner is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs.update(type=_or_none(inner) if optional else inner,
                          metavar=f.metavar or f.flag.lstrip("-").rpartition(".")[2].upper().replace("-", "_"))
            if choices is not None:
                kwargs["choices"] = choices
                kwargs.pop("metavar")
            if nargs is not None:
                kwargs["nargs"] = nargs
        parser.add_argument(f.flag, *f.aliases, **kwargs)


def flag_name(key: str) -> str:
    """The generated option of config key ``key``: ``tracker.min_length`` -> ``--tracker.min-length``."""
    return "--" + key.replace("_", "-")


@functools.cache
def field_comments(cls: type) -> dict[str, str]:
    """The ``# comment`` on each field's line(s) in the source of dataclass ``cls``: what ``--help`` says of it."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # no source (a frozen app): flags go undocumented, not missing
        return {}
    body = typing.cast(ast.ClassDef, ast.parse(source).body[0]).body
    spans = [(n.target.id, n.lineno, n.end_lineno or n.lineno) for n in body
             if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    comments: dict[str, list[str]] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            for name, first, last in spans:
                if first <= tok.start[0] <= last:
                    comments.setdefault(name, []).append(tok.string.lstrip("#").strip())
    return {name: " ".join(parts).replace("%", "%%") for name, parts in comments.items()}


def _flaggable(tp: Any) -> bool:
    """A field a flag can set: scalars, optionals and tuples of them (mappings are for YAML files)."""
    inner, _, _ = _scalar(tp)
    return inner in (int, float, str, bool)


def config_flags(cls: type, aliases: Mapping[str, str] | None = None, prefix: str = "") -> list[Flag]:
    """A ``Flag`` for every field of ``cls`` and of its nested configs, named by ``flag_name``, documented by the
    field's comment; ``aliases`` maps a key to another name of its option (``{"link.threshold": "--threshold"}``,
    shown first). Mapping fields (``tracker.settings``, ``link.transit``) are left to ``--config``."""
    aliases = aliases or {}
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    flags: list[Flag] = []
    for f in dataclasses.fields(cls):
        key, tp = prefix + f.name, hints[f.name]
        if dataclasses.is_dataclass(tp):
            flags += config_flags(typing.cast(type, tp), aliases, key + ".")
        elif _flaggable(tp):
            names = (aliases[key], flag_name(key)) if key in aliases else (flag_name(key),)
            words = f.name.replace("_", " ")
            help_text = f"{words}: {comments[f.name]}" if f.name in comments else words
            flags.append(Flag(names[0], key, help_text, aliases=names[1:]))
    return flags


def add_all_config_flags(parser: argparse.ArgumentParser, cls: type, aliases: Mapping[str, str] | None = None,
                         ) -> None:
    """Every field of ``cls`` as a flag (``config_flags``): top-level fields on ``parser``, each nested config in
    an argument group named after its section and described by its docstring's first line."""
    flags = config_flags(cls, aliases)
    hints = typing.get_type_hints(cls)
    top = [f for f in flags if "." not in f.key]
    add_config_flags(parser, cls, top)
    for section in dict.fromkeys(f.key.partition(".")[0] for f in flags if "." in f.key):
        group = parser.add_argument_group(section, (inspect.getdoc(hints[section]) or "").split("\n")[0] or None)
        add_config_flags(group, cls, [f for f in flags if f.key.partition(".")[0] == section])


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
        cfg = from_dict(cls, values)
        check_registered(cfg)
        return _dotted(cls, values, cfg)


def build_config(cls: type[C], args: argparse.Namespace, base: C | None = None) -> C:
    """``base`` (default: ``cls()``), then ``--config`` YAML keys, then the flags that were given."""
    cfg = base if base is not None else cls()
    if getattr(args, "config", None):
        cfg = override(cfg, read_yaml(cls, args.config))
    cfg = override(cfg, flag_overrides(args))
    check_registered(cfg)
    return cfg
