"""Flags generated from the config dataclasses: `reid process` / `reid demo` flags, their old names, choices
taken from reid.config's constants, and config errors through reid.cli.main (exit code, one stderr line)."""

from __future__ import annotations

import argparse
import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reid import config
from reid.cli import build_parser, main
from reid.cli.options import PREFIX, add_all_config_flags, build_config, flag_name, registry_of
from reid.cli.process import config_from_args
from reid.config import Checked, PipelineConfig, TrainConfig


def subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def actions(name: str) -> dict[str, argparse.Action]:
    """Config flags of subcommand ``name`` by config key."""
    return {a.dest[len(PREFIX):]: a for a in subparser(name)._actions if a.dest.startswith(PREFIX)}


def process_config(argv: list[str], base: PipelineConfig | None = None) -> PipelineConfig:
    return config_from_args(build_parser().parse_args(["process", "--db", "x.db", *argv]), base)


def leaf_keys(cls: type, prefix: str = "") -> list[str]:
    """Every dotted key of a scalar, optional or tuple field in the config tree of ``cls``."""
    keys = []
    for f in dataclasses.fields(cls):
        tp = typing.get_type_hints(cls)[f.name]
        if dataclasses.is_dataclass(tp):
            keys += leaf_keys(typing.cast(type, tp), f"{prefix}{f.name}.")
        elif typing.get_origin(tp) not in (dict, Mapping):  # mappings are set in YAML files only
            keys.append(prefix + f.name)
    return keys


def test_old_process_flag_names_still_work() -> None:
    cfg = process_config(["--threshold", "0.4", "--conf", "0.2", "--imgsz", "320", "--tracker", "botsort",
                          "--min-length", "3", "--weights", "w.pt", "--rerank", "--stride", "2", "--device", "cpu",
                          "--force", "--detector", "hog"])
    assert cfg.link.threshold == 0.4 and cfg.link.rerank is True
    assert cfg.detector == dataclasses.replace(config.DetectorConfig(), kind="hog", weights=None, conf=0.2, imgsz=320)
    assert cfg.tracker.kind == "botsort" and cfg.tracker.min_length == 3 and cfg.embed.weights == "w.pt"
    assert cfg.stride == 2 and cfg.device == "cpu" and cfg.force is True
    yolo = process_config(["--detector", "models/yolo11n.pt"]).detector
    assert yolo.kind == "yolo" and yolo.weights == "models/yolo11n.pt"
    assert process_config([]) == PipelineConfig()  # no flag, no change


def test_every_pipeline_field_has_a_flag_named_after_its_key() -> None:
    for command in ("process", "demo"):
        flags = actions(command)
        assert sorted(flags) == sorted(leaf_keys(PipelineConfig)), command
        for key, action in flags.items():
            assert flag_name(key) in action.option_strings and action.help, (command, key)
    cfg = process_config(["--link.threshold", "0.3", "--tracker.min-box-height", "60", "--embed.batch", "16",
                          "--detector.kind", "mot", "--detector.weights", "det.txt", "--no-link.rerank"])
    assert cfg.link.threshold == 0.3 and cfg.tracker.min_box_height == 60 and cfg.embed.batch == 16
    assert (cfg.detector.kind, cfg.detector.weights, cfg.link.rerank) == ("mot", "det.txt", False)
    assert process_config(["--weights", "none"], base=process_config(["--weights", "w.pt"])).embed.weights is None


@dataclass(frozen=True)
class NewLink(Checked):
    """Cross-camera association, with fields added."""

    _choices = {"solver": config.POOLING}  # any constant
    max_gap_s: float = 30.0  # longest time between two cameras' sightings
    solver: str = "avg"
    sizes: tuple[int, int] = (1, 2)


@dataclass(frozen=True)
class Root(Checked):
    _section = ""
    link: NewLink = field(default_factory=NewLink)
    stride: int = 1


def test_a_new_config_field_gets_its_flag_without_touching_the_cli() -> None:
    """What happens when a field is added to, say, LinkConfig: the flag appears, typed, documented, checked."""
    parser = argparse.ArgumentParser()
    add_all_config_flags(parser, Root)
    help_text = parser.format_help()
    assert "--link.max-gap-s MAX_GAP_S" in help_text and "longest time between two cameras' sightings" in help_text
    cfg = build_config(Root, parser.parse_args(["--link.max-gap-s", "12", "--link.sizes", "3", "4",
                                                "--link.solver", "gem"]))
    assert cfg == Root(link=NewLink(max_gap_s=12.0, solver="gem", sizes=(3, 4)), stride=1)
    solver = next(a for a in parser._actions if a.dest == PREFIX + "link.solver")
    assert solver.choices is config.POOLING


def test_cli_choices_are_the_config_constants() -> None:
    """One constant per choice list: the parser's ``choices`` is the very object the config checks against."""
    for command, root in (("train", TrainConfig), ("process", PipelineConfig), ("demo", PipelineConfig)):
        flags = actions(command)
        for key in leaf_keys(root):
            *sections, name = key.split(".")
            cls = root
            for section in sections:
                cls = typing.get_type_hints(cls)[section]
            allowed = cls._choices.get(name)
            if isinstance(allowed, config.Registered):  # a registry's list: its names, read when the parser is built
                assert tuple(flags[key].choices) == registry_of(allowed).names(), (command, key)
            elif allowed is not None:
                assert flags[key].choices is allowed, (command, key)


def test_flag_values_outside_the_choices_are_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["process", "--db", "x.db", "--tracker", "sort"])
    assert exit_.value.code == 2 and "invalid choice: 'sort'" in capsys.readouterr().err
    assert process_config(["--device", "cuda:1"]).device == "cuda:1"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--mining", "hardest"])
    assert "invalid choice: 'hardest'" in capsys.readouterr().err


def test_flags_override_the_yaml_which_overrides_the_base(tmp_path: Path) -> None:
    yaml_file = tmp_path / "site.yaml"
    yaml_file.write_text("link:\n  threshold: 0.5\ntracker:\n  kind: botsort\n  min_length: 9\n")
    base = dataclasses.replace(PipelineConfig(), stride=3)
    cfg = process_config(["--config", str(yaml_file), "--min-length", "2"], base=base)
    assert (cfg.stride, cfg.link.threshold, cfg.tracker.kind, cfg.tracker.min_length) == (3, 0.5, "botsort", 2)


@pytest.mark.parametrize("command", ["process", "demo"])
@pytest.mark.parametrize("text, message", [
    ("link:\n  threshold: many\n", "link.threshold must be a number or none, got 'many'"),
    ("detector:\n  kind: bogus\n", "detector.kind must be one of auto, yolo, hog, mot, got 'bogus'"),
    ("tracker:\n  kind: sort\n", "tracker.kind must be one of bytetrack, botsort, got 'sort'"),
    ("device: tpu\n", "device must be one of auto, cpu, cuda, cuda:N, got 'tpu'"),
    ("link:\n  treshold: 0.5\n", "link: unknown key(s) treshold; known: threshold"),
])
def test_a_bad_config_file_is_one_line_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       command: str, text: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    video = tmp_path / "never_opened.mp4"  # the config is checked before any video is looked at
    argv = [command, "--camera", f"a={video}", "--config", str(bad), "--no-progress"]
    argv += ["--db", str(tmp_path / "site.db")] if command == "process" else ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.match(rf"error: {re.escape(str(bad))}: {re.escape(message)}", err), err
    assert not (tmp_path / "site.db").exists() and not (tmp_path / "out").exists()


def test_a_bad_train_config_file_is_one_line_naming_the_file(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("loss:\n  mining: bogus\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {bad}: loss.mining must be one of batch_hard, batch_all, semi_hard, got 'bogus'\n"
