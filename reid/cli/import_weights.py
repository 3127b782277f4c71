"""``reid import-weights``: another project's ResNet re-ID weights as one of our self-describing checkpoints."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from reid.config import AugmentConfig, DataConfig, ModelConfig
from reid.models import STEMS, list_backbones

_AUG, _MODEL = AugmentConfig(), ModelConfig()
_HEIGHT, _WIDTH = 256, 128  # the test size of torchreid's, reid-strong-baseline's and fast-reid's Market configs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-weights",
        help="import a torchreid / reid-strong-baseline / fast-reid / torchvision ResNet state dict",
        description="Maps the backbone (and BNNeck, when there is one) of another project's checkpoint onto "
        "our model of the same architecture, prints what loaded and what was skipped (identity classifiers "
        "are never used for retrieval), and writes a checkpoint that `reid evaluate --weights`, `reid process "
        "--weights` and `reid export-model` accept. The project is told from the key layout, and with it the "
        "layers that have no weights (ResNet stem, last stride), so the features are the source's; a file "
        "that cannot be reproduced (another architecture, IBN/SE/non-local blocks, an unknown layout) is "
        "refused. See docs/import-weights.md.",
    )
    p.add_argument("src", metavar="SRC", help="the other project's checkpoint (.pth, .pth.tar, .pt)")
    p.add_argument("--out", required=True, metavar="PATH", help="checkpoint to write, e.g. models/imported.pt")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--arch", default=_MODEL.arch, choices=list_backbones(),
                   help=f"architecture of SRC (default: {_MODEL.arch})")
    p.add_argument("--height", type=int, default=_HEIGHT,
                   help=f"input height SRC was trained at (default: {_HEIGHT}, as the three projects)")
    p.add_argument("--width", type=int, default=_WIDTH, help=f"input width SRC was trained at (default: {_WIDTH})")
    p.add_argument("--mean", type=float, nargs=3, default=None, metavar=("R", "G", "B"),
                   help="per-channel mean of the 0..1 RGB input (default: fast-reid's pixel_mean/255 when SRC "
                   "holds it, else ImageNet's, which all three projects use)")
    p.add_argument("--std", type=float, nargs=3, default=None, metavar=("R", "G", "B"),
                   help="per-channel std of the 0..1 RGB input (default: as --mean)")
    p.add_argument("--stem", choices=["auto", *STEMS], default="auto",
                   help="ResNet stem of the code that trained SRC; auto (default) tells it from the key layout: "
                   "torchvision for torchreid/torchvision names, strong_baseline for reid-strong-baseline's "
                   "base.*, fastreid for fast-reid's backbone.* + heads.*; other layouts need it said")
    p.add_argument("--last-stride", type=int, default=None, choices=[1, 2],
                   help="stride of layer4; it has no weights. Default: the source project's (1 for "
                   "reid-strong-baseline and fast-reid, 2 for torchreid's resnet50 and torchvision); pass it "
                   "if the run changed it (MODEL.LAST_STRIDE / MODEL.BACKBONE.LAST_STRIDE)")
    p.add_argument("--pooling", choices=["avg", "gem"], default=None,
                   help="global pooling; default gem when SRC holds a GeM exponent (fast-reid's "
                   "GeneralizedMeanPoolingP), else avg. gem without an exponent in SRC starts at p=3, as "
                   "fast-reid's fixed GeneralizedMeanPooling")
    p.add_argument("--bnneck", action=argparse.BooleanOptionalAction, default=None,
                   help="retrieve with the output of the BatchNorm neck (default: when SRC has one); "
                   "--no-bnneck retrieves with the pooled feature, as reid-strong-baseline does with "
                   "TEST.NECK_FEAT 'before'. Refused for fast-reid, which always retrieves after its BNNeck")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid.config import TrainConfig
    from reid.engine.checkpoint import load_checkpoint, model_payload, save_checkpoint
    from reid.errors import CheckpointError
    from reid.models import build_model, describe_source, import_state_dict, read_foreign_checkpoint

    out = Path(args.out)
    if out.exists() and not args.force:
        raise CheckpointError(f"{out}: exists; pass --force to overwrite it")
    state = read_foreign_checkpoint(args.src)
    try:
        ours = load_checkpoint(args.src)
    except CheckpointError:
        ours = None
    if ours is not None:
        raise CheckpointError(f"{args.src}: already a reid checkpoint ({ours['arch']}); use it as it is")
    layout = describe_source(state)
    if args.stem != "auto":
        layout = dataclasses.replace(layout, stem=args.stem)
    last_stride = args.last_stride or layout.last_stride
    if layout.stem is not None and last_stride is None:
        raise CheckpointError(f"{args.src}: not a torchreid, reid-strong-baseline or fast-reid layout, so its "
                              f"last stride is unknown; pass --last-stride 1 or 2 as the code that trained it")
    bnneck = layout.bnneck if args.bnneck is None else bool(args.bnneck)
    mean = tuple(args.mean) if args.mean else layout.mean or _AUG.mean
    std = tuple(args.std) if args.std else layout.std or _AUG.std
    cfg = TrainConfig(
        data=DataConfig(height=args.height, width=args.width),
        augment=AugmentConfig(mean=mean, std=std),
        model=ModelConfig(arch=args.arch, last_stride=last_stride or 1, stem=layout.stem or "torchvision",
                          pooling=args.pooling or layout.pooling, embedding_dim=layout.embedding_dim,
                          bnneck=bnneck),
    )
    model = build_model(cfg.model, num_classes=0)
    report = import_state_dict(model, state, source=str(args.src), layout=layout)
    print(report.summary())
    save_checkpoint(out, {**model_payload(cfg, model), "imported_from": str(args.src),
                          "import_report": report.summary()})
    m = cfg.model
    said = "given" if args.stem != "auto" else f"{layout.project}'s"
    stride = "given" if args.last_stride else f"{layout.project}'s default; pass --last-stride if the run changed it"
    auto = " (SRC has one)" if bnneck and args.bnneck is None else " (SRC has none)" if args.bnneck is None else ""
    print(f"wrote {out}: {m.arch}, input {args.height}x{args.width}, {model.embedding_dim}-d embedding, "
          f"stem {m.stem} ({said}), last stride {m.last_stride} ({stride}), {m.pooling} pooling, "
          f"BNNeck {'on' if bnneck else 'off'}{auto}")
    print(f"use it with: reid evaluate --weights {out} --data DIR, reid process --weights {out}, "
          f"reid export-model --weights {out}")
    return 0
