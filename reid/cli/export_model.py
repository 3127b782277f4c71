"""``reid export-model``: a trained checkpoint as ONNX, checked against PyTorch with onnxruntime."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-model",
        help="export a re-ID checkpoint to ONNX (dynamic batch) and check parity with onnxruntime",
        description="Writes the embedder of a `reid train` checkpoint as ONNX; its metadata records the input "
        "size and normalisation so `reid process --weights model.onnx` preprocesses crops the same way.",
    )
    p.add_argument("--weights", required=True, help="checkpoint written by `reid train` (best.pt)")
    p.add_argument("--onnx", required=True, help="ONNX file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset version")
    p.add_argument(
        "--tolerance", type=float, default=1e-4, help="max abs difference allowed in the parity check"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reid.engine.onnx_export import export_onnx, parity

    out = export_onnx(args.weights, args.onnx, opset=args.opset)
    diff = parity(args.weights, out)
    print(f"wrote {out}; parity with PyTorch on a batch of 4: max abs diff {diff:.2e}")
    if diff > args.tolerance:
        print(f"error: parity {diff:.2e} exceeds tolerance {args.tolerance:.0e}")
        return 1
    return 0
