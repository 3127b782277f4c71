import re

import pytest

from reid.config import ConfigError, LossConfig, TrainConfig, from_dict, load_yaml, override, to_dict


def test_yaml_round_trip(tmp_path):
    import yaml

    cfg = override(TrainConfig(), {"model.arch": "resnet18", "epochs": 3, "loss.margin": None})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(to_dict(cfg)))
    assert load_yaml(TrainConfig, path) == cfg


def test_unknown_key_is_rejected_with_the_known_ones(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  archh: resnet18\n")
    with pytest.raises(ConfigError, match=r"c.yaml.model: unknown key\(s\) archh; known: arch"):
        load_yaml(TrainConfig, path)


def test_wrong_type_names_the_key():
    with pytest.raises(ConfigError, match="config.epochs: expected int"):
        from_dict(TrainConfig, {"epochs": "many"})


def test_ints_become_floats_and_lists_tuples():
    cfg = from_dict(TrainConfig, {"loss": {"margin": 1}, "optim": {"milestones": [3, 5]}})
    assert cfg.loss.margin == 1.0 and isinstance(cfg.loss.margin, float)
    assert cfg.optim.milestones == (3, 5)


def test_override_unknown_top_level_key():
    with pytest.raises(ConfigError, match="unknown config key 'epoch'"):
        override(TrainConfig(), {"epoch": 3})


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_yaml(LossConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_yaml(LossConfig, bad)


def test_a_bad_value_in_a_yaml_file_names_the_file(tmp_path) -> None:
    """A dataclass's own check (``__post_init__``) names only the key; read from a file, the error names the
    file too, as unknown keys and wrong types do."""
    from reid.cli.options import read_yaml
    from reid.config import PipelineConfig

    path = tmp_path / "train.yaml"
    path.write_text("data:\n  cache_on: gpu\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: data.cache_on must be one of"):
        read_yaml(TrainConfig, path)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: data.cache_on must be one of"):
        load_yaml(TrainConfig, path)
    path.write_text("stride: x\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}.stride: expected int"):  # named once
        load_yaml(PipelineConfig, path)
