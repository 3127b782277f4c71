"""Configs from YAML files and dotted overrides: unknown keys rejected (all named at once), YAML errors with
line and column, every error naming the file."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from reid.config.checked import C, ConfigError, _build


def from_dict(cls: type[C], values: Mapping[str, Any], where: str = "") -> C:
    """Build config dataclass ``cls`` from a (nested) mapping, e.g. a YAML file's. Unknown keys, wrong types and
    values outside a field's choices raise a one-line ``ConfigError`` that ``where`` (a file name) starts."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where + ': ' if where else ''}expected a mapping of config keys, got {values!r}")
    if not where:
        return _build(cls, values, "")
    with naming_file(where):
        return _build(cls, values, "")


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-dict form of a config (tuples become lists), suitable for YAML, JSON and checkpoints."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def yaml_mapping(path: str | Path) -> Mapping[str, Any]:
    """The top-level mapping of a YAML config file; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {yaml_problem(exc)}") from None
    if not isinstance(values, Mapping):
        raise ConfigError(f"{path}: top level must be a mapping")
    return values


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``not valid YAML at line L, column C: <problem>`` (1-based) for a YAML parse error, one line."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {' '.join(str(problem).split())}"


@contextlib.contextmanager
def naming_file(path: str | Path) -> Iterator[None]:
    """Every ``ConfigError`` raised inside names ``path``, including those of a dataclass's own checks
    (``__post_init__``), whose messages name only the key."""
    try:
        yield
    except ConfigError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ConfigError(f"{path}: {exc}") from exc


def load_yaml(cls: type[C], path: str | Path) -> C:
    """Read a YAML file into config class ``cls``; unknown keys, wrong types and bad values name the file."""
    with naming_file(path):
        return from_dict(cls, yaml_mapping(path), where=str(path))


def override(cfg: C, dotted: Mapping[str, Any], _path: str = "") -> C:
    """Return ``cfg`` with dotted keys replaced, e.g. ``{"model.arch": "resnet18", "epochs": 8}``; the values are
    converted and checked as ``from_dict`` does (``ConfigError`` for a wrong type or a value not allowed)."""
    nested: dict[str, Any] = {}
    for key, value in dotted.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            nested[head] = value
    changes: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    for head, value in nested.items():
        if head not in names:
            raise ConfigError(f"unknown config key {_path + head!r}; known: {', '.join(sorted(names))}")
        current = getattr(cfg, head)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            changes[head] = override(current, value, f"{_path}{head}.")
        else:
            changes[head] = value
    return dataclasses.replace(cfg, **changes)  # type: ignore[type-var]

