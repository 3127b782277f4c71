"""``reid train`` and ``reid evaluate`` through reid.cli.main: end to end, flags vs YAML, user errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reid.cli import build_parser, main
from reid.cli.train import config_from_args
from reid.data.synthetic import generate

TINY = ["--height", "64", "--width", "32", "--p", "4", "--k", "4", "--arch", "resnet18", "--device", "cpu",
        "--no-progress"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("synth"), num_ids=12, cams=3, seed=1, height=64, width=32,
                    images_per_id=6)


def test_train_then_evaluate(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    rc = main(["train", "--data", str(data), "--out", str(out), "--epochs", "2", "--max-iters-per-epoch", "2",
               "--eval-every", "1", *TINY])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert "best mAP" in printed.out and str(out / "best.pt") in printed.out
    for name in ("last.pt", "best.pt", "metrics.csv", "metrics.json", "curves.png"):
        assert (out / name).is_file(), name

    rc = main(["evaluate", "--data", str(data), "--weights", str(out / "best.pt"), "--rerank", "--device", "cpu",
               "--no-progress"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    header = next(line for line in printed.out.splitlines() if "rank-1" in line)
    assert header.split() == ["rank-1", "rank-5", "rank-10", "rank-20", "mAP"]
    assert any(line.startswith("plain") for line in printed.out.splitlines())
    assert any(line.startswith("re-ranked") for line in printed.out.splitlines())
    for name in ("cmc.png", "roc.png", "distances.png", "retrieval.png", "evaluation.json"):
        assert (out / name).is_file(), name


def parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(["train", *argv])


def test_flags_override_yaml_and_yaml_overrides_defaults(tmp_path: Path) -> None:
    yaml_file = tmp_path / "cfg.yaml"
    yaml_file.write_text("epochs: 5\nmodel:\n  arch: resnet34\n  pooling: gem\noptim:\n  milestones: [3, 4]\n")
    cfg = config_from_args(parse(["--config", str(yaml_file), "--epochs", "1", "--soft-margin", "--lr", "0.01"]))
    assert cfg.epochs == 1 and cfg.model.arch == "resnet34" and cfg.model.pooling == "gem"
    assert cfg.optim.milestones == (3, 4) and cfg.optim.lr == 0.01 and cfg.loss.margin is None
    assert cfg.model.last_stride == 1 and cfg.data.p == 16  # untouched defaults
    cfg = config_from_args(parse(["--milestones", "2", "6", "--no-bnneck", "--last-stride", "2"]))
    assert cfg.optim.milestones == (2, 6) and cfg.model.bnneck is False and cfg.model.last_stride == 2


def test_every_train_flag_has_help() -> None:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("train", "evaluate"):
        for action in sub.choices[name]._actions:
            assert action.help, (name, action.option_strings)


def test_unknown_yaml_key_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text("epochs: 2\nmodel:\n  arch: resnet18\n  dropout: 0.5\n")
    assert main(["train", "--config", str(yaml_file), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown key(s) dropout" in err and "bad.yaml" in err


def test_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"), *TINY]) == 2
    assert "nowhere: data folder not found" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(tmp_path), "--weights", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt: not found" in capsys.readouterr().err


def test_impossible_batch_is_a_config_error(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "o"), *TINY, "--p", "50"]) == 2
    assert "p=50 identities per batch but the data has only 6" in capsys.readouterr().err


def untrained_checkpoint(data: Path, path: Path) -> Path:
    """A resnet18 checkpoint with random weights, as `reid train` would write it (no training)."""
    import torch

    from reid.engine.checkpoint import model_payload, save_checkpoint
    from reid.models import build_model

    cfg = config_from_args(parse(["--data", str(data), *TINY]))
    torch.manual_seed(0)
    return save_checkpoint(path, model_payload(cfg, build_model(cfg.model)))


def test_proxy_anchor_and_quadruplet_are_reachable_from_flags_and_yaml(tmp_path: Path) -> None:
    yaml_file = tmp_path / "cfg.yaml"
    yaml_file.write_text("loss:\n  proxy_anchor_weight: 2\n  proxy_anchor_alpha: 16\n  quadruplet_weight: 0.5\n")
    cfg = config_from_args(parse(["--config", str(yaml_file), "--quadruplet-margin2", "0.2"]))
    assert (cfg.loss.proxy_anchor_weight, cfg.loss.proxy_anchor_alpha, cfg.loss.proxy_anchor_margin) == (2.0, 16.0, 0.1)
    assert (cfg.loss.quadruplet_weight, cfg.loss.quadruplet_margin, cfg.loss.quadruplet_margin2) == (0.5, 0.3, 0.2)
    cfg = config_from_args(parse(["--proxy-anchor-weight", "1", "--proxy-anchor-margin", "0.05",
                                  "--quadruplet-weight", "1", "--quadruplet-margin", "0.4"]))
    assert (cfg.loss.proxy_anchor_weight, cfg.loss.proxy_anchor_margin) == (1.0, 0.05)
    assert (cfg.loss.quadruplet_weight, cfg.loss.quadruplet_margin) == (1.0, 0.4)


def protocol_pair_counts(data: Path) -> tuple[int, int]:
    """(same-person across cameras, different-person) query-gallery pairs of the synthetic set, by brute force."""
    from reid.data import load_dataset

    ds = load_dataset(str(data), format="auto")
    same = diff = 0
    for q in ds.query:
        for g in ds.gallery:
            if q.pid == -1 or g.pid == -1 or (q.pid == g.pid and q.camid == g.camid):
                continue
            same, diff = (same + 1, diff) if q.pid == g.pid else (same, diff + 1)
    return same, diff


def test_evaluate_stores_verification_threshold(data: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    from reid.engine.checkpoint import checkpoint_verification, load_checkpoint

    ckpt = untrained_checkpoint(data, tmp_path / "run" / "best.pt")
    thresholds = {}
    for far in ("0.02", "0.3"):
        rc = main(["evaluate", "--data", str(data), "--weights", str(ckpt), "--far", far, "--device", "cpu",
                   "--no-progress"])
        printed = capsys.readouterr()
        assert rc == 0, printed.err
        assert "TAR@FAR 0.01:" in printed.out and "TAR@FAR 0.001:" in printed.out and "EER:" in printed.out
        assert f"threshold at FAR {float(far):g}:" in printed.out and str(ckpt) in printed.out
        for name in ("roc.png", "distances.png", "cmc.png", "evaluation.json"):
            assert (ckpt.parent / name).stat().st_size > 0, name
        raw = torch.load(ckpt, map_location="cpu", weights_only=True)  # still a safe-loadable checkpoint
        info = checkpoint_verification(raw, ckpt)
        assert info is not None and set(info) == {"far", "threshold", "tar", "eer", "same_pairs", "diff_pairs",
                                                  "data"}
        assert info["far"] == float(far) and info["data"] == str(data)
        assert (info["same_pairs"], info["diff_pairs"]) == protocol_pair_counts(data)
        assert 0.0 <= info["tar"] <= 1.0 and 0.0 <= info["eer"] <= 1.0
        assert set(load_checkpoint(ckpt)["model"]) == set(raw["model"])  # weights kept
        thresholds[far] = info["threshold"]
    assert thresholds["0.02"] <= thresholds["0.3"]  # linking more different pairs needs a larger threshold


def test_evaluate_with_rerank_embeds_every_image_once(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Re-ranking and verification share one feature extraction: the model sees each query and gallery image
    once (it saw them twice when verification extracted the plain features again)."""
    from reid.data import load_dataset
    from reid.models import ReIDModel

    ckpt = untrained_checkpoint(data, tmp_path / "run" / "best.pt")
    seen: list[int] = []
    forward = ReIDModel.forward

    def counting(self, x, *args, **kwargs):  # noqa: ANN001, ANN202
        seen.append(len(x))
        return forward(self, x, *args, **kwargs)

    monkeypatch.setattr(ReIDModel, "forward", counting)
    rc = main(["evaluate", "--data", str(data), "--weights", str(ckpt), "--rerank", "--device", "cpu",
               "--no-progress"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert "re-ranked" in printed.out and "threshold at FAR" in printed.out
    ds = load_dataset(str(data), format="auto")
    assert sum(seen) == len(ds.query) + len(ds.gallery) and len(seen) == 2  # one batch each of query, gallery


def test_checkpoint_verification_entry(data: Path, tmp_path: Path) -> None:
    from reid.engine.checkpoint import checkpoint_verification, load_checkpoint, store_verification
    from reid.errors import CheckpointError

    ckpt = untrained_checkpoint(data, tmp_path / "best.pt")
    assert checkpoint_verification(load_checkpoint(ckpt)) is None  # never evaluated
    info = {"far": 0.01, "threshold": 0.8, "tar": 0.9, "eer": 0.05, "same_pairs": 10, "diff_pairs": 990,
            "data": "synth"}
    store_verification(ckpt, info)
    assert checkpoint_verification(load_checkpoint(ckpt)) == info
    with pytest.raises(CheckpointError, match="lacks threshold"):
        store_verification(ckpt, {k: v for k, v in info.items() if k != "threshold"})
    with pytest.raises(CheckpointError, match=r"bad\.pt: verification threshold nan"):
        checkpoint_verification({"verification": {**info, "threshold": float("nan")}}, "bad.pt")
    assert checkpoint_verification(load_checkpoint(ckpt)) == info  # a refused store leaves the file as it was


def test_evaluate_rejects_a_bad_far(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = untrained_checkpoint(data, tmp_path / "best.pt")
    assert main(["evaluate", "--data", str(data), "--weights", str(ckpt), "--far", "1.5", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--far 1.5" in err
