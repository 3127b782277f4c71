"""``reid import-weights``: another project's ResNet re-ID weights as one of our self-describing checkpoints."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid.config import AugmentConfig, DataConfig, ModelConfig
from reid.models import list_backbones

_DATA, _AUG, _MODEL = DataConfig(), AugmentConfig(), ModelConfig()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-weights",
        help="import a torchreid / reid-strong-baseline / fast-reid / torchvision ResNet state dict",
        description="Maps the backbone (and BNNeck, when there is one) of another project's checkpoint onto "
        "our model of the same architecture, prints what loaded and what was skipped (identity classifiers "
        "are never used for retrieval), and writes a checkpoint that `reid evaluate --weights`, `reid process "
        "--weights` and `reid export-model` accept. Refuses when the architecture does not match.",
    )
    p.add_argument("src", metavar="SRC", help="the other project's checkpoint (.pth, .pth.tar, .pt)")
    p.add_argument("--out", required=True, metavar="PATH", help="checkpoint to write, e.g. models/imported.pt")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--arch", default=_MODEL.arch, choices=list_backbones(),
                   help=f"architecture of SRC (default: {_MODEL.arch})")
    p.add_argument("--height", type=int, default=_DATA.height,
                   help=f"input height SRC was trained at (default: {_DATA.height})")
    p.add_argument("--width", type=int, default=_DATA.width,
                   help=f"input width SRC was trained at (default: {_DATA.width})")
    p.add_argument("--mean", type=float, nargs=3, default=list(_AUG.mean), metavar=("R", "G", "B"),
                   help="per-channel mean of the 0..1 RGB input (default: ImageNet's, used by all three projects)")
    p.add_argument("--std", type=float, nargs=3, default=list(_AUG.std), metavar=("R", "G", "B"),
                   help="per-channel std of the 0..1 RGB input (default: ImageNet's)")
    p.add_argument("--last-stride", type=int, default=_MODEL.last_stride, choices=[1, 2],
                   help="stride of layer4; it has no weights, so pick what SRC was trained with: 1 for "
                   "reid-strong-baseline and fast-reid, 2 for torchreid's resnet50 and plain torchvision "
                   f"(default: {_MODEL.last_stride})")
    p.add_argument("--bnneck", action=argparse.BooleanOptionalAction, default=None,
                   help="BatchNorm neck before the embedding (default: when SRC has one, e.g. bottleneck.*); "
                   "--no-bnneck to retrieve with the pooled feature, as with NECK_FEAT: before")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid.config import TrainConfig
    from reid.engine.checkpoint import model_payload, save_checkpoint
    from reid.errors import CheckpointError
    from reid.models import build_model
    from reid.models.convert import import_state_dict, read_foreign_checkpoint, source_has_bnneck

    out = Path(args.out)
    if out.exists() and not args.force:
        raise CheckpointError(f"{out}: exists; pass --force to overwrite it")
    state = read_foreign_checkpoint(args.src)
    bnneck = source_has_bnneck(state) if args.bnneck is None else bool(args.bnneck)
    cfg = TrainConfig(
        data=DataConfig(height=args.height, width=args.width),
        augment=AugmentConfig(mean=tuple(args.mean), std=tuple(args.std)),
        model=ModelConfig(arch=args.arch, last_stride=args.last_stride, bnneck=bnneck),
    )
    model = build_model(cfg.model, num_classes=0)
    report = import_state_dict(model, state, source=str(args.src))
    print(report.summary())
    save_checkpoint(out, {**model_payload(cfg, model), "imported_from": str(args.src),
                          "import_report": report.summary()})
    auto = " (SRC has one)" if bnneck and args.bnneck is None else " (SRC has none)" if args.bnneck is None else ""
    print(f"wrote {out}: {args.arch}, input {args.height}x{args.width}, {model.embedding_dim}-d embedding, "
          f"last stride {args.last_stride}, BNNeck {'on' if bnneck else 'off'}{auto}")
    print(f"use it with: reid evaluate --weights {out} --data DIR, reid process --weights {out}, "
          f"reid export-model --weights {out}")
    return 0
