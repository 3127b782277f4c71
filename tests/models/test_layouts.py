"""Layers without weights: the ResNet stems, ``describe_source``, and imports that reproduce the source's features.

The references below are written from the peers' code (reid-strong-baseline ``modeling/backbones/resnet.py``
and ``modeling/baseline.py``; fast-reid ``modeling/backbones/resnet.py`` and ``heads/embedding_head.py``) with
torchvision modules and functional calls, not with ``reid.models``. ``tests/models/test_import_parity.py``
runs the peers' own code where it is installed.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from reid.cli import main
from reid.engine.checkpoint import load_checkpoint, load_embedder
from reid.errors import CheckpointError
from reid.models import create_model, describe_source, import_state_dict

H, W = 64, 32


def random_resnet18(seed: int) -> nn.Module:
    """A torchvision resnet18 with random BatchNorm affine parameters and running statistics."""
    torch.manual_seed(seed)
    net = torchvision.models.resnet18()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.2)
            m.running_mean.normal_(0, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def backbone_state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}


def neck(dim: int, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"weight": torch.rand(dim, generator=g) + 0.5, "bias": torch.randn(dim, generator=g) * 0.1,
            "running_mean": torch.randn(dim, generator=g), "running_var": torch.rand(dim, generator=g) + 0.5,
            "num_batches_tracked": torch.tensor(100)}


def layers(net: nn.Module, x: torch.Tensor, last_stride: int) -> torch.Tensor:
    if last_stride == 1:  # both peers: layer4's first block without stride
        net.layer4[0].conv1.stride = net.layer4[0].downsample[0].stride = (1, 1)
    return net.layer4(net.layer3(net.layer2(net.layer1(x))))


def distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest Euclidean distance between matching rows once both are L2-normalised (0 = same direction).

    Random networks give every image nearly the same direction (cosines > 0.999 between images), so a cosine
    threshold would not tell a wrong stem from the right one; 1e-4 here is a cosine of 1 - 5e-9."""
    return float((F.normalize(a, dim=1) - F.normalize(b, dim=1)).norm(dim=1).max())


def import_and_embed(path, tmp_path, x, *flags: str) -> torch.Tensor:
    out = tmp_path / "imported.pt"
    assert main(["import-weights", str(path), "--arch", "resnet18", "--out", str(out), "--force",
                 "--height", str(H), "--width", str(W), *flags]) == 0
    model, _ = load_embedder(out)
    with torch.inference_mode():
        return model(x)


# ---------------------------------------------------------------------------------------------- stems


def test_fastreid_stem_pools_without_padding_and_rounds_up() -> None:
    x = torch.arange(16.0).view(1, 1, 4, 4)
    ours = create_model("resnet18", stem="torchvision").backbone.maxpool(x)
    fast = create_model("resnet18", stem="fastreid").backbone.maxpool(x)
    assert ours.squeeze().tolist() == [[5, 7], [13, 15]]  # 3x3 windows centred on rows/cols 0, 2 (padding 1)
    assert fast.squeeze().tolist() == [[10, 11], [14, 15]]  # windows from 0 and 2, the last one cut at the edge


def test_strong_baseline_stem_has_no_relu() -> None:
    x = torch.randn(2, 3, H, W)
    for stem, negatives in (("torchvision", False), ("strong_baseline", True)):
        b = create_model("resnet18", stem=stem).backbone.eval()
        with torch.no_grad():
            out = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        assert bool((out < 0).any()) is negatives


def test_unknown_stem_is_a_config_error() -> None:
    from reid.config import ConfigError

    with pytest.raises(ConfigError, match="stem must be one of torchvision, fastreid, strong_baseline"):
        create_model("resnet18", stem="caffe")
    with pytest.raises(ConfigError, match="mobilenet_v2 has only the torchvision stem"):
        create_model("mobilenet_v2", stem="fastreid")


# ---------------------------------------------------------------------------------------------- layouts


def test_describe_source_tells_the_projects_apart() -> None:
    bb = backbone_state(random_resnet18(0))
    torchreid = describe_source({**{f"module.{k}": v for k, v in bb.items()}, "module.classifier.weight":
                                 torch.zeros(751, 512)})
    assert (torchreid.project, torchreid.stem, torchreid.last_stride, torchreid.bnneck) == \
        ("torchreid / torchvision", "torchvision", 2, False)
    bot = describe_source({**{f"base.{k}": v for k, v in bb.items()},
                           **{f"bottleneck.{k}": v for k, v in neck(512, 0).items()}})
    assert (bot.project, bot.stem, bot.last_stride, bot.bnneck, bot.pooling) == \
        ("reid-strong-baseline", "strong_baseline", 1, True, "avg")
    fast = describe_source({**{f"backbone.{k}": v for k, v in bb.items()}, "heads.pool_layer.p": torch.ones(1),
                            "heads.bottleneck.0.weight": torch.zeros(128, 512, 1, 1),
                            **{f"heads.bottleneck.1.{k}": v for k, v in neck(128, 0).items()},
                            "heads.weight": torch.zeros(751, 128),
                            "pixel_mean": torch.tensor([127.5, 127.5, 127.5]).view(1, 3, 1, 1)})
    assert (fast.project, fast.stem, fast.last_stride, fast.bnneck, fast.pooling, fast.embedding_dim) == \
        ("fast-reid", "fastreid", 1, True, "gem", 128)
    assert fast.mean == (0.5, 0.5, 0.5) and fast.std is None
    other = describe_source({f"encoder.{k}": v for k, v in bb.items()})
    assert (other.project, other.stem, other.prefix) == ("", None, "encoder.")


def test_strong_baseline_checkpoint_reproduces_its_features(tmp_path) -> None:
    """reid-strong-baseline: no ReLU in the stem, last stride 1, average pooling, BNNeck (NECK_FEAT after)."""
    net = random_resnet18(1)
    bn = neck(512, 1)
    state = {**{f"base.{k}": v for k, v in backbone_state(net).items()},
             **{f"bottleneck.{k}": v for k, v in bn.items()}, "classifier.weight": torch.randn(751, 512)}
    path = tmp_path / "resnet18_model_120_state.pth"
    torch.save(state, path)
    x = torch.randn(4, 3, H, W)
    with torch.no_grad():
        f = layers(net, net.maxpool(net.bn1(net.conv1(x))), last_stride=1).mean(dim=(2, 3))
        after = F.batch_norm(f, bn["running_mean"], bn["running_var"], bn["weight"], bn["bias"], False, 0, 1e-5)
    assert distance(import_and_embed(path, tmp_path, x), after) < 1e-4
    assert load_checkpoint(tmp_path / "imported.pt")["config"]["model"]["stem"] == "strong_baseline"
    assert distance(import_and_embed(path, tmp_path, x, "--no-bnneck"), f) < 1e-4  # NECK_FEAT before
    assert distance(import_and_embed(path, tmp_path, x, "--stem", "torchvision"), after) > 5e-3


def test_fast_reid_checkpoint_with_gem_and_reduction_reproduces_its_features(tmp_path, capsys) -> None:
    """fast-reid: ceil-mode stem pool, last stride 1, GeneralizedMeanPoolingP, 1x1 reduction conv, BNNeck."""
    net = random_resnet18(2)
    bn, p = neck(128, 2), torch.tensor([2.5])
    conv = torch.randn(128, 512, 1, 1) * 0.05
    state = {**{f"backbone.{k}": v for k, v in backbone_state(net).items()}, "heads.pool_layer.p": p,
             "heads.bottleneck.0.weight": conv, **{f"heads.bottleneck.1.{k}": v for k, v in bn.items()},
             "heads.weight": torch.randn(702, 128)}
    path = tmp_path / "model_final.pth"
    torch.save({"model": state, "iteration": 1000}, path)
    x = torch.randn(4, 3, H, W)
    with torch.no_grad():
        stem = F.max_pool2d(net.relu(net.bn1(net.conv1(x))), 3, 2, ceil_mode=True)
        pooled = F.adaptive_avg_pool2d(layers(net, stem, 1).clamp(min=1e-6).pow(p), 1).pow(1.0 / p)
        reduced = F.conv2d(pooled, conv)
        expected = F.batch_norm(reduced, bn["running_mean"], bn["running_var"], bn["weight"], bn["bias"], False,
                                0, 1e-5)[..., 0, 0]
    assert distance(import_and_embed(path, tmp_path, x), expected) < 1e-4
    printed = capsys.readouterr().out
    assert "stem fastreid (fast-reid's), last stride 1 (fast-reid's default" in printed
    assert "128-d embedding" in printed and "gem pooling" in printed
    model_cfg = load_checkpoint(tmp_path / "imported.pt")["config"]["model"]
    assert (model_cfg["stem"], model_cfg["pooling"], model_cfg["embedding_dim"]) == ("fastreid", "gem", 128)


# ---------------------------------------------------------------------------------------------- refusals


def fast_reid_file(tmp_path) -> tuple:
    state = {**{f"backbone.{k}": v for k, v in backbone_state(random_resnet18(3)).items()},
             **{f"heads.bottleneck.0.{k}": v for k, v in neck(512, 3).items()}, "heads.weight": torch.zeros(9, 512)}
    path = tmp_path / "model_final.pth"
    torch.save({"model": state}, path)
    return path, state


def refusal(capsys, *argv: str) -> str:
    assert main(["import-weights", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    return err


def test_no_bnneck_is_refused_for_fast_reid(tmp_path, capsys) -> None:
    path, _ = fast_reid_file(tmp_path)
    err = refusal(capsys, str(path), "--arch", "resnet18", "--out", str(tmp_path / "o.pt"), "--no-bnneck")
    assert "fast-reid retrieves with the output of its BNNeck whatever MODEL.HEADS.NECK_FEAT says" in err
    assert not (tmp_path / "o.pt").exists()


def test_a_model_with_another_stem_is_refused(tmp_path) -> None:
    _, state = fast_reid_file(tmp_path)
    model = create_model("resnet18")
    before = model.backbone.conv1.weight.clone()
    with pytest.raises(CheckpointError, match="a fast-reid checkpoint, whose ResNet stem is 'fastreid' .*"
                                              "build it with stem='fastreid'"):
        import_state_dict(model, state, "model_final.pth")
    assert torch.equal(model.backbone.conv1.weight, before)


def test_a_gem_exponent_or_reduction_without_a_place_is_refused(tmp_path) -> None:
    _, state = fast_reid_file(tmp_path)
    with pytest.raises(CheckpointError, match="pooling with GeM"):
        import_state_dict(create_model("resnet18", stem="fastreid"), {**state, "heads.pool_layer.p": torch.ones(1)})
    conv = {"heads.bottleneck.0.weight": torch.zeros(64, 512, 1, 1),
            **{f"heads.bottleneck.1.{k}": v for k, v in neck(64, 0).items()}}
    body = {k: v for k, v in state.items() if not k.startswith("heads.bottleneck")}
    with pytest.raises(CheckpointError, match=r"64-d reduction before its BNNeck; .*embedding_dim=64"):
        import_state_dict(create_model("resnet18", stem="fastreid"), {**body, **conv})


def test_torchreid_fc512_is_refused(tmp_path) -> None:
    state = {**backbone_state(random_resnet18(4)), "fc.0.weight": torch.zeros(512, 512),
             "fc.0.bias": torch.zeros(512), **{f"fc.1.{k}": v for k, v in neck(512, 4).items()},
             "classifier.weight": torch.zeros(751, 512)}
    with pytest.raises(CheckpointError, match="fc.0.weight \\(and 6 more\\): embedding layer after pooling"):
        import_state_dict(create_model("resnet18", bnneck=False), state, "osnet.pth")


def test_an_unknown_layout_needs_its_stem_said(tmp_path, capsys) -> None:
    net = random_resnet18(5)
    path = tmp_path / "encoder.pth"
    torch.save({f"encoder.{k}": v for k, v in backbone_state(net).items()}, path)
    out = tmp_path / "o.pt"
    err = refusal(capsys, str(path), "--arch", "resnet18", "--out", str(out))
    assert "under 'encoder.' is not a layout of torchreid, reid-strong-baseline or fast-reid" in err
    assert "pass --stem" in err
    err = refusal(capsys, str(path), "--arch", "resnet18", "--out", str(out), "--stem", "torchvision")
    assert "pass --last-stride 1 or 2" in err
    x = torch.randn(2, 3, H, W)
    with torch.no_grad():
        expected = layers(net, net.maxpool(net.relu(net.bn1(net.conv1(x)))), 2).mean(dim=(2, 3))
    got = import_and_embed(path, tmp_path, x, "--stem", "torchvision", "--last-stride", "2")
    assert distance(got, expected) < 1e-4


def test_our_own_checkpoint_is_not_imported(tmp_path, capsys) -> None:
    path, _ = fast_reid_file(tmp_path)
    ours = tmp_path / "ours.pt"
    assert main(["import-weights", str(path), "--arch", "resnet18", "--out", str(ours)]) == 0
    capsys.readouterr()
    err = refusal(capsys, str(ours), "--arch", "resnet18", "--out", str(tmp_path / "again.pt"))
    assert "already a reid checkpoint (resnet18); use it as it is" in err


def test_fast_reid_normalisation_in_the_file_becomes_mean_and_std(tmp_path) -> None:
    path, state = fast_reid_file(tmp_path)
    torch.save({"model": {**state, "pixel_mean": torch.tensor([127.5, 102.0, 76.5]).view(1, 3, 1, 1),
                          "pixel_std": torch.tensor([51.0, 51.0, 51.0]).view(1, 3, 1, 1)}}, path)
    out = tmp_path / "o.pt"
    assert main(["import-weights", str(path), "--arch", "resnet18", "--out", str(out)]) == 0
    meta = load_embedder(out)[1]
    assert meta.mean == pytest.approx((0.5, 0.4, 0.3)) and meta.std == pytest.approx((0.2, 0.2, 0.2))
    assert (meta.height, meta.width) == (256, 128)  # the three projects' test size, whatever reid train's is


def test_export_model_keeps_the_fastreid_stem(tmp_path, capsys) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    path, _ = fast_reid_file(tmp_path)
    ckpt, exported = tmp_path / "o.pt", tmp_path / "o.onnx"
    assert main(["import-weights", str(path), "--arch", "resnet18", "--out", str(ckpt),
                 "--height", str(H), "--width", str(W)]) == 0
    assert main(["export-model", "--weights", str(ckpt), "--onnx", str(exported)]) == 0  # parity checked
    (pool,) = [n for n in onnx.load(str(exported)).graph.node if n.op_type == "MaxPool"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in pool.attribute}
    assert attrs.get("ceil_mode") == 1 and list(attrs.get("pads", [0, 0, 0, 0])) == [0, 0, 0, 0]


def test_fast_reid_heads_date_the_stem(tmp_path, capsys) -> None:
    """fast-reid's stem pool changed on 2020-11-06; heads.weight (2021-03-30 on) and heads.bnneck.* (until
    2020-09-01) are on either side of it, heads.bottleneck.* + heads.classifier.weight spans it."""
    bb = {f"backbone.{k}": v for k, v in backbone_state(random_resnet18(6)).items()}
    old = describe_source({**bb, **{f"heads.bnneck.{k}": v for k, v in neck(512, 6).items()},
                           "heads.classifier.weight": torch.zeros(751, 512)})
    assert (old.project, old.stem, old.bnneck) == ("fast-reid", "torchvision", True)
    state = {**bb, **{f"heads.bottleneck.0.{k}": v for k, v in neck(512, 6).items()},
             "heads.classifier.weight": torch.zeros(751, 512)}
    assert describe_source(state).stem is None
    path, out = tmp_path / "model_final.pth", tmp_path / "o.pt"
    torch.save({"model": state}, path)
    err = refusal(capsys, str(path), "--arch", "resnet18", "--out", str(out))
    assert "changed on 2020-11-06 (commit 42cadae, in v1.0.0)" in err and "pass --stem fastreid" in err
    assert main(["import-weights", str(path), "--arch", "resnet18", "--out", str(out), "--stem", "fastreid"]) == 0
    assert load_checkpoint(out)["config"]["model"]["stem"] == "fastreid"
