import dataclasses
import re
import typing
from pathlib import Path

import numpy as np
import pytest

from reid import config
from reid.config import (
    DEVICES,
    MINING,
    AugmentConfig,
    Checked,
    ConfigError,
    DataConfig,
    LinkConfig,
    LossConfig,
    PipelineConfig,
    TrainConfig,
    from_dict,
    load_yaml,
    override,
    to_dict,
)


def test_yaml_round_trip(tmp_path):
    import yaml

    cfg = override(TrainConfig(), {"model.arch": "resnet18", "epochs": 3, "loss.margin": None})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(to_dict(cfg)))
    assert load_yaml(TrainConfig, path) == cfg
    pipe = override(PipelineConfig(), {"link.transit": {"a->b": [5, 60]}, "tracker.settings": {"track_buffer": 90}})
    path.write_text(yaml.safe_dump(to_dict(pipe)))
    assert load_yaml(PipelineConfig, path) == pipe and pipe.link.transit == {"a->b": (5.0, 60.0)}


def test_unknown_key_is_rejected_with_the_known_ones(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  archh: resnet18\n")
    with pytest.raises(ConfigError, match=r"c.yaml: model: unknown key\(s\) archh; known: arch"):
        load_yaml(TrainConfig, path)


def test_wrong_type_names_the_key_the_value_and_the_type():
    with pytest.raises(ConfigError, match=r"^epochs must be an integer, got 'many'$"):
        from_dict(TrainConfig, {"epochs": "many"})
    with pytest.raises(ConfigError, match=r"^link.threshold must be a number or none, got 'many'$"):
        from_dict(PipelineConfig, {"link": {"threshold": "many"}})
    with pytest.raises(ConfigError, match=r"^model.bnneck must be true or false, got 'yes'$"):
        from_dict(TrainConfig, {"model": {"bnneck": "yes"}})
    with pytest.raises(ConfigError, match=r"^embed.weights must be a string or none, got 3$"):
        from_dict(PipelineConfig, {"embed": {"weights": 3}})
    with pytest.raises(ConfigError, match=r"^augment.mean must be a list of 3 numbers, got \[0.5, 0.5\]$"):
        from_dict(TrainConfig, {"augment": {"mean": [0.5, 0.5]}})
    with pytest.raises(ConfigError, match=r"^optim.milestones\[1\] must be a number, got 'x'$"):
        from_dict(TrainConfig, {"optim": {"milestones": [3, "x"]}})
    with pytest.raises(ConfigError, match=r"^link must be a mapping, got 3$"):
        from_dict(PipelineConfig, {"link": 3})
    with pytest.raises(ConfigError, match=r"^stride must be an integer, got 1.5$"):  # no silent rounding
        from_dict(PipelineConfig, {"stride": 1.5})


def test_override_checks_types_and_choices_as_files_do():
    with pytest.raises(ConfigError, match=r"^epochs must be an integer, got 'many'$"):
        override(TrainConfig(), {"epochs": "many"})
    from reid.cli.options import check_registered

    unchecked = override(TrainConfig(), {"loss.mining": "bogus"})  # a registry keeps the choices: the CLI checks
    with pytest.raises(ConfigError, match=r"^loss.mining must be one of batch_hard, batch_all, semi_hard, got 'bogus'$"):
        check_registered(unchecked)
    with pytest.raises(ConfigError, match=r"^detector.kind must be one of auto, yolo, hog, mot, got 'bogus'$"):
        check_registered(override(PipelineConfig(), {"detector.kind": "bogus"}))  # reid.video.detect.DETECTORS
    with pytest.raises(ConfigError, match=r"^loss must be a mapping, got 'x'$"):
        override(TrainConfig(), {"loss": "x"})


def test_direct_construction_is_checked_too():
    with pytest.raises(ConfigError, match="^data.cache_on must be one of auto, device, host, got 'gpu'$"):
        DataConfig(cache_on="gpu")
    assert LossConfig(mining="hardest").mining == "hardest"  # a registry's name: checked by the CLI and the loss
    with pytest.raises(ConfigError, match="^link.rerank must be true or false, got 1$"):
        LinkConfig(rerank=1)  # type: ignore[arg-type]


def test_ints_become_floats_and_lists_tuples():
    cfg = from_dict(TrainConfig, {"loss": {"margin": 1}, "optim": {"milestones": [3, 5]}})
    assert cfg.loss.margin == 1.0 and isinstance(cfg.loss.margin, float)
    assert cfg.optim.milestones == (3, 5) and isinstance(cfg.optim.milestones, tuple)
    assert from_dict(TrainConfig, {"loss": {"margin": None}}).loss.margin is None


def test_numpy_numbers_and_paths_become_plain_values():
    link = LinkConfig(threshold=np.float32(0.5))  # type: ignore[arg-type]
    assert type(link.threshold) is float and link.threshold == 0.5
    cfg = override(PipelineConfig(), {"stride": np.int64(2), "embed.weights": Path("models/w.pt")})
    assert type(cfg.stride) is int and cfg.embed.weights == "models/w.pt"
    assert AugmentConfig(mean=[0.5, 0.5, 0.5]).mean == (0.5, 0.5, 0.5)  # type: ignore[arg-type]


def test_devices_include_any_cuda_index():
    assert all(d in DEVICES for d in ("auto", "cpu", "cuda", "cuda:0", "cuda:3"))
    assert override(PipelineConfig(), {"device": "cuda:1"}).device == "cuda:1"
    for bad in ("tpu", "cuda:", "cuda:x", "cuda:N", "gpu"):
        with pytest.raises(ConfigError, match=rf"^device must be one of auto, cpu, cuda, cuda:N, got '{bad}'$"):
            override(TrainConfig(), {"device": bad})


def test_override_unknown_keys_name_the_full_key():
    with pytest.raises(ConfigError, match="unknown config key 'epoch'"):
        override(TrainConfig(), {"epoch": 3})
    with pytest.raises(ConfigError, match="unknown config key 'loss.minning'; known: .*mining"):
        override(TrainConfig(), {"loss.minning": "batch_all"})


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_yaml(LossConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_yaml(LossConfig, bad)


def test_a_bad_value_in_a_yaml_file_names_the_file_the_key_the_value_and_the_allowed(tmp_path) -> None:
    from reid.cli.options import read_yaml

    path = tmp_path / "train.yaml"
    named = re.escape(str(path))
    path.write_text("data:\n  cache_on: gpu\n")
    for read in (read_yaml, load_yaml):
        with pytest.raises(ConfigError, match=rf"^{named}: data.cache_on must be one of auto, device, host, got 'gpu'$"):
            read(TrainConfig, path)
    path.write_text("loss:\n  mining: bogus\n")
    with pytest.raises(ConfigError, match=rf"^{named}: loss.mining must be one of batch_hard, batch_all, semi_hard, "
                                          r"got 'bogus'$"):
        read_yaml(TrainConfig, path)  # the command line's reader checks the registries' names too
    path.write_text("stride: x\n")
    with pytest.raises(ConfigError, match=rf"^{named}: stride must be an integer, got 'x'$"):  # named once
        load_yaml(PipelineConfig, path)
    path.write_text("- 1\n")
    with pytest.raises(ConfigError, match=rf"^{named}: top level must be a mapping$"):
        load_yaml(PipelineConfig, path)


def _choice_fields(cls: type, prefix: str = "") -> dict[str, tuple]:
    """Every ``dotted key -> allowed values`` in the config tree of ``cls``."""
    out = {prefix + name: allowed for name, allowed in cls._choices.items()}
    for f in dataclasses.fields(cls):
        sub = typing.get_type_hints(cls)[f.name]
        if isinstance(sub, type) and issubclass(sub, Checked):
            out |= _choice_fields(sub, f"{prefix}{f.name}.")
    return out


CHOICES = {
    TrainConfig: {"data.format": "DATA_FORMATS", "data.cache_on": "CACHE_PLACES", "model.pooling": "POOLING",
                  "model.arch": "ARCHS", "loss.mining": "MINING", "optim.optimizer": "OPTIMIZERS", "optim.schedule": "SCHEDULES",
                  "distributed.lr_scaling": "LR_SCALING", "device": "DEVICES"},
    PipelineConfig: {"detector.kind": "DETECTORS", "detector.runtime": "DETECTOR_RUNTIMES",
                     "detector.precision": "DETECTOR_PRECISIONS", "tracker.kind": "TRACKERS", "link.linkage": "LINKAGES", "device": "DEVICES"},
}


@pytest.mark.parametrize("root", list(CHOICES))
def test_every_choice_list_is_one_constant_of_reid_config_and_is_enforced(root: type) -> None:
    """Each field with choices takes them from a named constant of ``reid.config`` (the CLI's ``choices`` are the
    same object: tests/cli/test_config_flags.py); a value outside it is a ``ConfigError`` naming all of them."""
    from reid.cli.options import check_registered, registry_of

    fields = _choice_fields(root)
    assert fields == {key: getattr(config, name) for key, name in CHOICES[root].items()}
    for key, name in CHOICES[root].items():
        assert fields[key] is getattr(config, name), key
        registered = isinstance(fields[key], config.Registered)  # a registry's names, checked by the CLI
        values = registry_of(fields[key]).names() if registered else fields[key]
        allowed = ", ".join(map(str, values))
        with pytest.raises(ConfigError, match=rf"^{re.escape(key)} must be one of {re.escape(allowed)}, got 'bogus'$"):
            check_registered(override(root(), {key: "bogus"})) if registered else override(root(), {key: "bogus"})
        for value in values:
            if value != "cuda:N":
                check_registered(override(root(), {key: value}))


def test_every_config_class_is_checked() -> None:
    configs = [v for v in vars(config).values()
               if isinstance(v, type) and dataclasses.is_dataclass(v) and v.__module__.startswith("reid.config.")]
    assert configs and all(issubclass(c, Checked) for c in configs), [c for c in configs if not issubclass(c, Checked)]


def test_the_library_uses_the_same_lists() -> None:
    import reid.data
    import reid.losses

    assert MINING.where == "reid.losses.miners:MINERS" and reid.losses.MINERS.names()[:3] == reid.losses.MINING
    assert set(reid.data.FORMATS) == set(config.DATA_FORMATS)


@pytest.mark.parametrize(
    ("cls", "values", "message"),
    [
        (config.PipelineConfig, {"stride": 0}, "stride must be at least 1, got 0"),
        (config.DetectorConfig, {"conf": 2}, "detector.conf must be between 0 and 1, got 2.0"),
        (config.LinkConfig, {"far": -0.1}, "link.far must be between 0 and 1, got -0.1"),
        (config.TrackerConfig, {"best_k": 0}, "tracker.best_k must be at least 1, got 0"),
    ],
)
def test_numbers_outside_their_range_are_refused_with_the_key(cls: type, values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}$"):
        config.from_dict(cls, values)
