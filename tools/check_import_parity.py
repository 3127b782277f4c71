"""Check ``reid import-weights`` against the peers' own code: min cosine per peer, image by image.

    pip install torchreid==0.2.5 gdown            # torchreid's own imports need gdown (and a tensorboard shim)
    pip install fastreid==1.4.0 --no-deps; pip install yacs termcolor tabulate   # fastreid's imports
    git clone https://github.com/michuanhaohao/reid-strong-baseline /tmp/bot   # not on PyPI
    python tools/check_import_parity.py --bot-repo /tmp/bot

For each peer the model is built with the peer's code (random weights; BatchNorm affine parameters randomised
and running statistics measured on the images, so that every BatchNorm matters), saved as the peer saves it,
read back with the peer's own loader (which needs ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` under PyTorch >= 2.6)
to give the reference features with the peer's own test transforms, and imported with ``reid import-weights``.
Our features come from ``load_embedder`` + ``extract_features`` on the same image files, as ``reid evaluate``
computes them. The images are person crops of ultralytics' sample photos plus synthetic crops, written as PNG
at the input size so both sides see the same pixels; a second number ("own resize") feeds native-size crops
to each side's own resizing. A peer whose package is missing is reported as skipped. Exit status 1 when a
peer's min cosine is below ``--min-cosine`` on the same pixels.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import contextlib
import io
import os
import sys
import tempfile
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from reid.cli import main as reid_main  # noqa: E402
from reid.data import load_images  # noqa: E402
from reid.engine.checkpoint import load_embedder  # noqa: E402
from reid.engine.features import extract_features  # noqa: E402
from reid.errors import ReidError  # noqa: E402

H, W = 256, 128
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
# Person boxes (x0, y0, x1, y1 pixels) in ultralytics' sample photos, read off YOLOv8n's detections.
PHOTO_BOXES = {"bus.jpg": [(50, 400, 245, 905), (223, 405, 345, 860), (670, 380, 810, 875), (0, 550, 65, 870)],
               "zidane.jpg": [(745, 40, 1140, 710), (125, 195, 710, 720), (430, 430, 520, 720)]}


@dataclass
class Result:
    peer: str
    same_pixels: float | None  # min cosine over the images, both sides fed the same 256x128 pixels
    own_resize: float | None = None  # min cosine when each side resizes the native-size crops itself
    note: str = ""


# ---------------------------------------------------------------------------------------------- images


def person_crops(out: Path, synthetic: int = 6, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """Write crops as PNG: ``(at H x W, at their native size)``; photos from ultralytics when installed."""
    crops: list[Image.Image] = []
    try:
        import ultralytics

        assets = Path(ultralytics.__file__).parent / "assets"
        for name, boxes in PHOTO_BOXES.items():
            if (assets / name).is_file():
                with Image.open(assets / name) as im:
                    crops += [im.convert("RGB").crop(b) for b in boxes]
    except ImportError:
        pass
    from reid.data.synthetic import render_crop
    from reid.data.synthetic_person import sample_appearance

    rng = np.random.default_rng(seed)
    for i in range(synthetic):
        h = int(rng.integers(160, 400))
        crops.append(Image.fromarray(render_crop(sample_appearance(rng), i % 6, rng, height=h, width=h // 2)))
    sized, native = [], []
    for i, crop in enumerate(crops):
        sized.append(out / f"sized_{i:02d}.png")
        native.append(out / f"native_{i:02d}.png")
        crop.resize((W, H), Image.BICUBIC).save(sized[-1])
        crop.save(native[-1])
    return sized, native


def peer_batch(paths: list[Path], transform: Callable) -> torch.Tensor:
    images = []
    for p in paths:
        with Image.open(p) as im:
            images.append(transform(im.convert("RGB")))
    return torch.stack(images)


def randomise_batchnorm(model: nn.Module, run: Callable[[], object], seed: int = 0) -> None:
    """Random BatchNorm weight/bias, then running statistics measured on the images (cumulative average)."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=g) + 0.5)
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=g) * 0.2)
            bn.reset_running_stats()
            bn.momentum = None
        model.eval()
        for bn in bns:
            bn.train()
        run()
    model.eval()


# ---------------------------------------------------------------------------------------------- ours


def our_features(src: Path, out: Path, paths: list[Path], flags: list[str]) -> tuple[torch.Tensor, str]:
    """``reid import-weights SRC`` then the features ``reid evaluate`` would compute: ((N, D), printed text)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        rc = reid_main(["import-weights", str(src), "--out", str(out), "--force", *flags])
    if rc != 0:
        raise ReidError(buf.getvalue().strip())
    model, meta = load_embedder(out)
    images = load_images([str(p) for p in paths], meta.height, meta.width, progress=False)
    return extract_features(model, images, meta.mean, meta.std, torch.device("cpu")), buf.getvalue()


def refusal(src: Path, out: Path, flags: list[str]) -> str:
    """What ``reid import-weights`` prints when it refuses (empty string if it did not)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        rc = reid_main(["import-weights", str(src), "--out", str(out), "--force", *flags])
    return buf.getvalue().strip() if rc != 0 else ""


def min_cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(F.cosine_similarity(a.double(), b.double(), dim=1).min())


# ---------------------------------------------------------------------------------------------- peers


def check_torchreid(work: Path, sized: list[Path], native: list[Path]) -> list[Result]:
    """torchreid 0.2.5 ``resnet50`` (last stride 2), saved by ``torchreid.utils.save_checkpoint``."""
    sys.modules.setdefault("torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=object))  # shim
    import torchreid

    torch.manual_seed(0)
    model = torchreid.models.build_model(name="resnet50", num_classes=751, loss="softmax", pretrained=False)
    _, transform = torchreid.data.transforms.build_transforms(H, W, norm_mean=MEAN, norm_std=STD)
    x = peer_batch(sized, transform)
    randomise_batchnorm(model, lambda: model(x))
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    with contextlib.redirect_stdout(io.StringIO()):
        torchreid.utils.save_checkpoint({"state_dict": model.state_dict(), "epoch": 60, "rank1": np.float64(0.5),
                                         "optimizer": opt.state_dict()}, str(work / "torchreid"))
        src = work / "torchreid" / "model.pth.tar-60"
        reference = torchreid.models.build_model(name="resnet50", num_classes=751, loss="softmax",
                                                 pretrained=False)
        torchreid.utils.load_pretrained_weights(reference, str(src))  # torchreid's own loader
    reference.eval()
    with torch.no_grad():
        theirs, theirs_native = reference(x), torch.cat([reference(peer_batch([p], transform)) for p in native])
    ours, _ = our_features(src, work / "torchreid.pt", sized, ["--arch", "resnet50"])
    ours_native, _ = our_features(src, work / "torchreid.pt", native, ["--arch", "resnet50"])
    return [Result("torchreid 0.2.5 resnet50", min_cosine(theirs, ours), min_cosine(theirs_native, ours_native),
                   "defaults: stem torchvision, last stride 2")]


def _fastreid_shims() -> None:
    """fastreid 1.4.0 on Python 3.11 / PyTorch 2: ``collections.Mapping`` and ``torch._six`` are gone."""
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
    sys.modules.setdefault("torch._six", types.SimpleNamespace(string_classes=(str,)))


def _fastreid_cfg(**heads: object) -> object:
    from fastreid.config import get_cfg

    cfg = get_cfg()  # + configs/Base-bagtricks.yml's MODEL section
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.BACKBONE.PRETRAIN = False
    cfg.MODEL.BACKBONE.DEPTH, cfg.MODEL.BACKBONE.LAST_STRIDE = "50x", 1
    cfg.MODEL.HEADS.NUM_CLASSES, cfg.MODEL.HEADS.WITH_BNNECK = 751, True
    cfg.MODEL.HEADS.NECK_FEAT, cfg.MODEL.HEADS.POOL_LAYER, cfg.MODEL.HEADS.CLS_LAYER = "before", "GlobalAvgPool", \
        "Linear"
    for key, value in heads.items():
        setattr(cfg.MODEL.HEADS, key, value)
    return cfg


def check_fastreid(work: Path, sized: list[Path], native: list[Path]) -> list[Result]:
    """fast-reid 1.4.0 bagtricks R50, and the same with GeM-P + a 256-d reduction; saved by its Checkpointer."""
    _fastreid_shims()
    from fastreid.data.transforms import build_transforms
    from fastreid.modeling.meta_arch import build_model
    from fastreid.utils.checkpoint import Checkpointer

    results = []
    variants = {"bagtricks R50": {}, "R50 GeM-P + 256-d reduction": {"POOL_LAYER": "GeneralizedMeanPoolingP",
                                                                       "EMBEDDING_DIM": 256}}
    for i, (name, heads) in enumerate(variants.items()):
        cfg = _fastreid_cfg(**heads)
        transform = build_transforms(cfg, is_train=False)  # Resize(bicubic) + ToTensor on a 0-255 scale
        x = peer_batch(sized, transform)
        torch.manual_seed(i)
        model = build_model(cfg)
        # fast-reid normalises its input in place (preprocess_image: images.sub_(...).div_(...)): give it copies
        randomise_batchnorm(model, lambda: model({"images": x.clone()}), seed=i)  # noqa: B023
        out_dir = work / f"fastreid{i}"
        out_dir.mkdir()
        Checkpointer(model, save_dir=str(out_dir)).save("model_final")
        src = out_dir / "model_final.pth"
        reference = build_model(cfg)
        Checkpointer(reference).load(str(src))  # fast-reid's own loader
        reference.eval()
        saved = model.state_dict()
        assert all(torch.equal(v, saved[k]) for k, v in reference.state_dict().items()), "fast-reid did not load"
        with torch.no_grad():
            theirs = reference({"images": x.clone()})
            theirs_native = torch.cat([reference({"images": peer_batch([p], transform)}) for p in native])
        ours, _ = our_features(src, work / f"fastreid{i}.pt", sized, ["--arch", "resnet50"])
        ours_native, _ = our_features(src, work / f"fastreid{i}.pt", native, ["--arch", "resnet50"])
        results.append(Result(f"fast-reid 1.4.0 {name}", min_cosine(theirs, ours),
                              min_cosine(theirs_native, ours_native), "defaults: stem fastreid, last stride 1"))
        if i == 0:  # what the torchvision stem gave before, and what --no-bnneck gives
            old, _ = our_features(src, work / "old.pt", sized, ["--arch", "resnet50", "--stem", "torchvision"])
            results.append(Result("  control: same file, --stem torchvision", min_cosine(theirs, old), None,
                                  "the stem it was imported with before"))
            results.append(Result("  control: same file, --no-bnneck", None, None,
                                  refusal(src, work / "old.pt", ["--arch", "resnet50", "--no-bnneck"])))
    cfg = _fastreid_cfg()
    cfg.MODEL.BACKBONE.WITH_IBN = True
    ibn = work / "fastreid_ibn"
    ibn.mkdir()
    Checkpointer(build_model(cfg), save_dir=str(ibn)).save("model_final")
    results.append(Result("fast-reid 1.4.0 R50-IBN (WITH_IBN)", None, None,
                          refusal(ibn / "model_final.pth", work / "ibn.pt", ["--arch", "resnet50"])))
    return results


def check_strong_baseline(work: Path, sized: list[Path], native: list[Path], repo: Path) -> list[Result]:
    """reid-strong-baseline ``Baseline`` (resnet50, bnneck, last stride 1), NECK_FEAT after and before."""
    sys.path.insert(0, str(repo))
    from config import cfg as bot_cfg  # the repository's yacs defaults
    from data.transforms import build_transforms
    from modeling.baseline import Baseline

    bot_cfg.merge_from_file(str(repo / "configs" / "softmax_triplet_with_center.yml"))  # SIZE_TEST 256x128
    transform = build_transforms(bot_cfg, is_train=False)  # Resize + ToTensor + Normalize(ImageNet)
    x = peer_batch(sized, transform)
    results = []
    for i, neck_feat in enumerate(("after", "before")):
        torch.manual_seed(10 + i)
        model = Baseline(751, 1, "", "bnneck", neck_feat, "resnet50", "self")
        randomise_batchnorm(model, lambda: model(x), seed=10 + i)  # noqa: B023
        pickled = work / f"resnet50_model_{120 + i}.pth"
        torch.save(model, pickled)  # ignite 0.1.2's ModelCheckpoint saves the whole model object
        refused = refusal(pickled, work / "bot.pt", ["--arch", "resnet50"])
        src = work / f"resnet50_model_{120 + i}_state.pth"
        torch.save(torch.load(pickled, weights_only=False).state_dict(), src)  # what the refusal advises
        reference = Baseline(751, 1, "", "bnneck", neck_feat, "resnet50", "self")
        reference.load_param(str(src))  # the repository's own loader (tools/test.py)
        reference.eval()
        with torch.no_grad():
            theirs = reference(x)
            theirs_native = torch.cat([reference(peer_batch([p], transform)) for p in native])
        flags = ["--arch", "resnet50"] + (["--no-bnneck"] if neck_feat == "before" else [])
        ours, _ = our_features(src, work / "bot.pt", sized, flags)
        ours_native, _ = our_features(src, work / "bot.pt", native, flags)
        results.append(Result(f"reid-strong-baseline resnet50, NECK_FEAT {neck_feat}", min_cosine(theirs, ours),
                              min_cosine(theirs_native, ours_native),
                              f"defaults: stem strong_baseline, last stride 1{', --no-bnneck' * i}; "
                              f"the pickled file: {refused}"))
        if i == 0:
            old, _ = our_features(src, work / "old.pt", sized, ["--arch", "resnet50", "--stem", "torchvision"])
            results.append(Result("  control: same file, --stem torchvision", min_cosine(theirs, old), None,
                                  "the stem it was imported with before"))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bot-repo", type=Path, help="a checkout of michuanhaohao/reid-strong-baseline")
    ap.add_argument("--min-cosine", type=float, default=0.9999)
    ap.add_argument("--peers", nargs="+", choices=["torchreid", "fastreid", "reid-strong-baseline"],
                    default=["torchreid", "fastreid", "reid-strong-baseline"], help="which to check (default all)")
    ap.add_argument("--synthetic", type=int, default=6, help="synthetic crops besides the photos' (default 6)")
    args = ap.parse_args(argv)
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"  # the peers' own loaders, on their own files only
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sized, native = person_crops(work, args.synthetic)
        print(f"{len(sized)} crops ({len(sized) - args.synthetic} from photos, {args.synthetic} synthetic)")
        checks: list[tuple[str, Callable[[], list[Result]]]] = [
            ("torchreid", lambda: check_torchreid(work, sized, native)),
            ("fastreid", lambda: check_fastreid(work, sized, native)),
        ]
        if args.bot_repo:
            checks.append(("reid-strong-baseline", lambda: check_strong_baseline(work, sized, native,
                                                                                  args.bot_repo)))
        elif "reid-strong-baseline" in args.peers:
            results.append(Result("reid-strong-baseline", None, None, "skipped: no --bot-repo"))
        for name, check in checks:
            if name not in args.peers:
                continue
            try:
                results += check()
            except ImportError as exc:
                results.append(Result(name, None, None, f"skipped: {exc}"))
    failed = False
    print(f"{'peer':58s} {'same pixels':>12s} {'own resize':>11s}  note")
    for r in results:
        same = f"{r.same_pixels:.6f}" if r.same_pixels is not None else "-"
        own = f"{r.own_resize:.6f}" if r.own_resize is not None else "-"
        print(f"{r.peer:58s} {same:>12s} {own:>11s}  {r.note}")  # notes quote refusals whole
        failed |= r.same_pixels is not None and not r.peer.startswith(" ") and r.same_pixels < args.min_cosine
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
