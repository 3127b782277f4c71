"""reid.models.convert and ``reid import-weights``: other projects' ResNet re-ID checkpoints, mapped and reported.

The sources are randomly initialised torchvision ResNets (nothing is downloaded) with their BatchNorm running
statistics randomised, so that "loaded" can be told from "left at the initial value".
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision

from reid.cli import main
from reid.engine.checkpoint import load_embedder
from reid.errors import CheckpointError
from reid.models import create_model, import_state_dict, read_foreign_checkpoint

H, W = 64, 32
CLASSIFIER_REASON = "classifier of 751 training identities — not used for retrieval"


def torchvision_state(factory=torchvision.models.resnet18, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    state = factory().state_dict()
    for key, value in state.items():
        if key.endswith("running_mean"):
            value.normal_()
        elif key.endswith("running_var"):
            value.uniform_(0.5, 2.0)
    return state


def backbone_only(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


def neck(dim: int, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"weight": torch.rand(dim, generator=g) + 0.5, "bias": torch.zeros(dim),
            "running_mean": torch.randn(dim, generator=g), "running_var": torch.rand(dim, generator=g) + 0.5,
            "num_batches_tracked": torch.tensor(100)}


@pytest.fixture(scope="module")
def tv18() -> dict[str, torch.Tensor]:
    return torchvision_state()


@pytest.fixture(scope="module")
def torchreid_file(tmp_path_factory, tv18) -> tuple:
    """torchreid layout: DataParallel ``module.`` prefix, 751-identity classifier, numpy scalar metadata."""
    state = {f"module.{k}": v for k, v in backbone_only(tv18).items()}
    state["module.classifier.weight"] = torch.randn(751, 512)
    state["module.classifier.bias"] = torch.randn(751)
    path = tmp_path_factory.mktemp("torchreid") / "model.pth.tar-60"
    torch.save({"state_dict": state, "epoch": 60, "rank1": np.float64(0.9), "mAP": np.float32(0.7),
                "optimizer": {"state": {}, "param_groups": [{"lr": 3e-4}]}}, path)
    return path


def assert_backbone_equal(model, state: dict[str, torch.Tensor]) -> None:
    ours = model.backbone.state_dict()
    for key, value in backbone_only(state).items():
        assert torch.equal(ours[key], value), key


def test_torchreid_checkpoint_loads_every_backbone_tensor_and_skips_the_classifier(torchreid_file, tv18) -> None:
    model = create_model("resnet18", bnneck=False)
    report = import_state_dict(model, read_foreign_checkpoint(torchreid_file), source=str(torchreid_file))
    assert_backbone_equal(model, tv18)
    assert ("module.layer4.1.bn2.running_var", "backbone.layer4.1.bn2.running_var") in report.loaded
    assert ("module.classifier.weight", CLASSIFIER_REASON) in report.skipped
    assert {k for k, _ in report.skipped} == {"module.classifier.weight", "module.classifier.bias"}
    assert report.missing == []
    assert "loaded 120 tensors" in report.summary() and CLASSIFIER_REASON in report.summary()


def test_imported_checkpoint_embeds_as_torchvision_does(torchreid_file, tv18, tmp_path, capsys) -> None:
    out = tmp_path / "imported.pt"
    argv = ["import-weights", str(torchreid_file), "--arch", "resnet18", "--out", str(out),
            "--height", str(H), "--width", str(W), "--last-stride", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert CLASSIFIER_REASON in printed and "BNNeck off (SRC has none)" in printed
    model, meta = load_embedder(out)
    assert (meta.arch, meta.height, meta.width, meta.embedding_dim) == ("resnet18", H, W, 512)
    reference = torchvision.models.resnet18()
    reference.load_state_dict(tv18)
    reference.fc = torch.nn.Identity()
    x = torch.randn(3, 3, H, W)
    with torch.inference_mode():
        expected = F.normalize(reference.eval()(x), dim=1)
        torch.testing.assert_close(model(x), expected, rtol=0, atol=1e-5)
    assert main(argv) == 2  # exists
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0


def test_strong_baseline_layout_loads_the_bnneck_too(tv18, tmp_path, capsys) -> None:
    state = {f"base.{k}": v for k, v in backbone_only(tv18).items()}
    state.update({f"bottleneck.{k}": v for k, v in neck(512).items()})
    state["classifier.weight"] = torch.randn(751, 512)
    path = tmp_path / "resnet50_model_120.pth"
    torch.save(state, path)
    model = create_model("resnet18", stem="strong_baseline")  # its ResNet has no ReLU in the stem
    report = import_state_dict(model, read_foreign_checkpoint(path))
    assert_backbone_equal(model, tv18)
    for key, value in neck(512).items():
        assert torch.equal(model.bnneck.state_dict()[key], value), key
    assert ("bottleneck.running_var", "bnneck.running_var") in report.loaded
    assert report.skipped == [("classifier.weight", CLASSIFIER_REASON)] and report.missing == []
    out = tmp_path / "bot.pt"
    assert main(["import-weights", str(path), "--arch", "resnet18", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "BNNeck on (SRC has one)" in printed and "stem strong_baseline (reid-strong-baseline's)" in printed
    assert torch.equal(load_embedder(out)[0].bnneck.running_mean, neck(512)["running_mean"])


def test_fast_reid_layout_without_batch_counters(tv18, tmp_path) -> None:
    """fast-reid: ``backbone.`` / ``heads.bottleneck.0.`` / ``heads.weight`` inside ``{"model": ...}``; the
    ``num_batches_tracked`` counters are left out, as in files saved before PyTorch 0.4.1."""
    state = {f"backbone.{k}": v for k, v in backbone_only(tv18).items() if not k.endswith("num_batches_tracked")}
    state.update({f"heads.bottleneck.0.{k}": v for k, v in neck(512).items()})
    state["heads.weight"] = torch.randn(702, 512)
    state["pixel_mean"] = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
    path = tmp_path / "model_final.pth"
    torch.save({"model": state, "iteration": 1000}, path)
    model = create_model("resnet18", stem="fastreid")  # its stem max-pool has no padding, ceil_mode=True
    report = import_state_dict(model, read_foreign_checkpoint(path))
    assert_backbone_equal(model, {k: v for k, v in tv18.items() if not k.endswith("num_batches_tracked")})
    assert torch.equal(model.bnneck.weight, neck(512)["weight"])
    reasons = dict(report.skipped)
    assert reasons["heads.weight"] == "classifier of 702 training identities — not used for retrieval"
    assert "--mean/--std" in reasons["pixel_mean"]
    assert report.missing == []


def test_classifier_loads_only_when_the_identity_count_matches(tv18) -> None:
    state = {**backbone_only(tv18), "classifier.weight": torch.randn(751, 512)}
    same = create_model("resnet18", num_classes=751, bnneck=False)
    assert ("classifier.weight", "classifier.weight") in import_state_dict(same, state).loaded
    assert same.classifier is not None and torch.equal(same.classifier.weight, state["classifier.weight"])
    other = create_model("resnet18", num_classes=100, bnneck=False)
    report = import_state_dict(other, state)
    assert dict(report.skipped)["classifier.weight"].endswith("this model's has 100")
    assert report.missing == ["classifier.weight"]


def test_resnet50_torchvision_state_dict() -> None:
    state = torchvision_state(torchvision.models.resnet50)
    model = create_model("resnet50", bnneck=False)
    report = import_state_dict(model, state, "resnet50.pth")
    assert_backbone_equal(model, state)
    assert len(report.loaded) == 318 and report.missing == []
    assert dict(report.skipped)["fc.weight"] == "ImageNet classifier (1000 classes) — not used for retrieval"


def test_resnet18_weights_into_resnet50_are_refused_in_one_line(torchreid_file) -> None:
    model = create_model("resnet50")
    before = model.backbone.conv1.weight.clone()
    with pytest.raises(CheckpointError) as err:
        import_state_dict(model, read_foreign_checkpoint(torchreid_file), source=str(torchreid_file))
    message = str(err.value)
    assert "\n" not in message and str(torchreid_file) in message
    assert "of 265 resnet50 backbone tensors matched" in message and "is it a resnet18 checkpoint?" in message
    assert torch.equal(model.backbone.conv1.weight, before)  # nothing loaded


def test_extra_backbone_tensors_are_refused(tv18) -> None:
    state = {**backbone_only(tv18), "layer1.0.bn1.IN.weight": torch.ones(32)}  # an IBN-Net block
    with pytest.raises(CheckpointError, match="1 more have no place in it — an IBN"):
        import_state_dict(create_model("resnet18"), state, "ibn.pth")


def test_cli_refuses_another_architecture_in_one_line(torchreid_file, tmp_path, capsys) -> None:
    out = tmp_path / "r50.pt"
    assert main(["import-weights", str(torchreid_file), "--arch", "resnet50", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "resnet18" in err
    assert not out.exists()


@pytest.mark.parametrize("content", [None, b"not a checkpoint at all", "pickled"])
def test_missing_garbage_or_pickled_files_give_one_line_errors(tmp_path, content) -> None:
    path = tmp_path / "weights.pth"
    if content == "pickled":  # whole objects, e.g. a saved argparse.Namespace or model
        import argparse

        torch.save({"state_dict": {}, "args": argparse.Namespace(lr=0.1)}, path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        read_foreign_checkpoint(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path))
    if content is None:
        assert "not found" in message
    elif content == "pickled":
        assert "argparse.Namespace" in message and "state_dict()" in message


def test_a_file_without_tensors_is_refused(tmp_path) -> None:
    path = tmp_path / "meta.pth"
    torch.save({"epoch": 3, "rank1": 0.5}, path)
    with pytest.raises(CheckpointError, match="no tensors in it"):
        read_foreign_checkpoint(path)
