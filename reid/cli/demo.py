"""``reid demo``: the whole chain on the two-camera sample in ``examples/``, with the embedded defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid.cli.process import add_process_arguments, config_from_args, parse_pairs, print_summary
from reid.config import PipelineConfig, load_yaml
from reid.errors import ReidError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="process the sample clips in examples/ end to end (no downloads)",
        description="Runs `reid process` on examples/cameras.yaml with examples/demo.yaml's settings, then "
        "exports CSV, JSON and MOTChallenge files. Flags of `reid process` override the demo's settings.",
    )
    p.add_argument("--out", default="out/demo", help="folder for the database and the exports")
    add_process_arguments(p, require_input=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid.export import export_csv, export_json, export_mot
    from reid.store import Store
    from reid.video.manifest import load_manifest, parse_camera_flags
    from reid.video.pipeline import run_pipeline

    demo_cfg = EXAMPLES / "demo.yaml"
    base = load_yaml(PipelineConfig, demo_cfg) if demo_cfg.is_file() else PipelineConfig()
    cfg = config_from_args(args, base=base)  # demo settings < --config < flags; checked before any video
    manifest_path = Path(args.manifest) if args.manifest else EXAMPLES / "cameras.yaml"
    if not args.camera and not manifest_path.is_file():
        raise ReidError(f"{manifest_path}: sample manifest not found (reid demo runs from a source checkout)")
    manifest = parse_camera_flags(args.camera) if args.camera else load_manifest(manifest_path)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = Path(args.db) if args.db else out / "site.db"
    summary = run_pipeline(
        manifest,
        db,
        cfg,
        detections=parse_pairs(args.detections, "--detections"),
        workers=args.workers,
        progress=not args.no_progress,
    )
    print_summary(summary, db)
    exports = out / "export"
    with Store(db, readonly=True) as store:
        files = [
            export_csv(store, exports),
            export_json(store, exports),
            *_as_list(export_mot(store, exports)),
        ]
    print("exports: " + ", ".join(str(f) for f in files))
    print(f"review the matches:  reid review {db}")
    return 0


def _as_list(value: Path | list[Path]) -> list[Path]:
    return value if isinstance(value, list) else [value]
