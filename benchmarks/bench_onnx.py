"""Embedding on the CPU: images/s of the ONNX export (onnxruntime) against the PyTorch model, same threads.

For each architecture (random weights: same network and cost as trained ones) at 256x128, a checkpoint is
written and exported with ``reid.engine.onnx_export.export_onnx`` (what ``reid export-model`` runs). Then, in the
same run and alternated repeat by repeat so that load from other jobs falls on both:
(i)  the network alone: the same normalised (B, 3, 256, 128) float32 batches through ``model(x)`` under
     ``torch.inference_mode``, NCHW-contiguous and channels-last, and through ``InferenceSession.run``, for
     batch sizes 1, 16, 64;
(ii) the embedder the pipeline uses, crops to embeddings: ``CheckpointEmbedder`` (.pt) against ``OnnxEmbedder``
     (.onnx), on as many random BGR crops of 160x70 pixels as the largest batch (resize, normalise, run,
     L2-normalise). ``CheckpointEmbedder``'s batches are channels-last in memory (an HWC -> CHW transpose view).
Both runtimes get the same thread count (``torch.set_num_threads`` and onnxruntime's ``intra_op_num_threads``;
one inter-op thread each), recorded in the results. Figures: images/s from the minimum and the median time of
the repeats, the ratio onnx / pytorch of each, and the max abs difference of the embeddings.

    python benchmarks/bench_onnx.py [--quick] [--threads N]
        # --quick: resnet18, batch sizes 1 and 16, 3 repeats (default: resnet50 and resnet18, 1, 16, 64, 5 repeats)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` and ``reid`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import write_result  # noqa: E402
from reid.config import DataConfig, ModelConfig, TrainConfig  # noqa: E402
from reid.data.augment import normalize  # noqa: E402
from reid.engine.checkpoint import load_embedder, model_payload, save_checkpoint  # noqa: E402
from reid.engine.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx  # noqa: E402
from reid.models import build_model  # noqa: E402
from reid.video.embed import CheckpointEmbedder, OnnxEmbedder  # noqa: E402

H, W = 256, 128
CROP_H, CROP_W = 160, 70  # a typical person box in the 384x576 sample clips


def write_checkpoint(folder: Path, arch: str) -> Path:
    """A random-weight checkpoint of ``arch`` at H x W (BatchNorm statistics randomised, as after training)."""
    cfg = TrainConfig(model=ModelConfig(arch=arch), data=DataConfig(height=H, width=W))
    torch.manual_seed(0)
    model = build_model(cfg.model, 0)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return save_checkpoint(folder / f"{arch}.pt", model_payload(cfg, model))


def ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def alternate(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """One warm-up call of each, then ``repeats`` rounds calling each once in turn; seconds per call."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def rates(times: list[float], images: int) -> dict[str, float]:
    return {"images_per_s_min_time": images / min(times), "images_per_s_median_time": images / statistics.median(times)}


def compare(times: dict[str, list[float]], images: int, diff: float) -> dict[str, Any]:
    """images/s of every variant, and ``onnx`` over each PyTorch variant (> 1: onnxruntime is faster)."""
    out: dict[str, Any] = {name: rates(t, images) for name, t in times.items()}
    for name in times:
        if name != "onnx":
            for kind in ("min_time", "median_time"):
                out[f"onnx_over_{name}_{kind}"] = (out["onnx"][f"images_per_s_{kind}"]
                                                   / out[name][f"images_per_s_{kind}"])
    out["max_abs_diff"] = diff
    return out


def bench_arch(folder: Path, arch: str, batches: list[int], repeats: int, threads: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    weights = write_checkpoint(folder, arch)
    onnx_path = export_onnx(weights, folder / f"{arch}.onnx")
    export_s = time.perf_counter() - t0
    model, meta = load_embedder(weights, "cpu")
    session = ort_session(onnx_path, threads)
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"input": f"{H}x{W}", "embedding_dim": meta.embedding_dim, "export_s": export_s,
                           "network": {}}

    for b in batches:
        images = torch.from_numpy(rng.integers(0, 256, (b, 3, H, W), dtype=np.uint8))
        x = normalize(images, meta.mean, meta.std)
        x_np = x.numpy()

        x_cl = x.contiguous(memory_format=torch.channels_last)

        def run_torch(x: torch.Tensor = x) -> np.ndarray:
            with torch.inference_mode():
                return model(x).numpy()

        def run_torch_cl(x: torch.Tensor = x_cl) -> np.ndarray:
            with torch.inference_mode():
                return model(x).numpy()

        def run_onnx(x_np: np.ndarray = x_np) -> np.ndarray:
            return session.run([OUTPUT_NAME], {INPUT_NAME: x_np})[0]

        diff = float(max(np.abs(run_torch() - run_onnx()).max(), np.abs(run_torch_cl() - run_onnx()).max()))
        times = alternate({"pytorch": run_torch, "pytorch_channels_last": run_torch_cl, "onnx": run_onnx}, repeats)
        out["network"][f"batch_{b}"] = compare(times, b, diff)

    crops = [rng.integers(0, 256, (CROP_H, CROP_W, 3), dtype=np.uint8) for _ in range(max(batches))]
    pt_embedder = CheckpointEmbedder(weights, "cpu", batch=len(crops))
    onnx_embedder = OnnxEmbedder(onnx_path, "cpu", batch=len(crops))
    onnx_embedder.session = session  # the same session options (threads) as above
    diff = float(np.abs(pt_embedder.embed(crops) - onnx_embedder.embed(crops)).max())
    times = alternate({"pytorch": lambda: pt_embedder.embed(crops), "onnx": lambda: onnx_embedder.embed(crops)},
                      repeats)
    out["embedder"] = {"crops": len(crops), "crop_size": f"{CROP_H}x{CROP_W}", **compare(times, len(crops), diff)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="resnet18 only, batch sizes 1 and 16, 3 repeats")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of both runtimes (default 1: on a busy machine more threads mostly wait)")
    parser.add_argument("--archs", nargs="+", help="architectures to time (default resnet50 resnet18)")
    args = parser.parse_args()
    args.archs = args.archs or (["resnet18"] if args.quick else ["resnet50", "resnet18"])
    batches = [1, 16] if args.quick else [1, 16, 64]
    repeats = 3 if args.quick else 5
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    import onnxruntime

    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs:
            runs[arch] = bench_arch(Path(tmp), arch, batches, repeats, args.threads)

    print(f"threads {args.threads} (torch and onnxruntime {onnxruntime.__version__}), input {H}x{W}, "
          f"{repeats} repeats, images/s from min / median time")
    def cell(v: dict[str, float]) -> str:
        return f"{v['images_per_s_min_time']:>7.1f}/{v['images_per_s_median_time']:<6.1f}"

    print(f"{'arch':<10}{'what':<15}{'pytorch':>14}{'pt ch-last':>14}{'onnx':>14}"
          f"{'onnx/pt':>12}{'onnx/cl':>12}{'max diff':>9}")
    for arch, r in runs.items():
        rows = [*r["network"].items(), (f"embed {r['embedder']['crops']} crops", r["embedder"])]
        for name, v in rows:
            cl = cell(v["pytorch_channels_last"]) if "pytorch_channels_last" in v else f"{'-':>7}{'':7}"
            ratio_cl = (f"{v['onnx_over_pytorch_channels_last_min_time']:>6.2f}/"
                        f"{v['onnx_over_pytorch_channels_last_median_time']:<5.2f}"
                        if "pytorch_channels_last" in v else f"{'-':>6}{'':6}")
            print(f"{arch:<10}{name:<15}{cell(v['pytorch'])}{cl}{cell(v['onnx'])}"
                  f"{v['onnx_over_pytorch_min_time']:>6.2f}/{v['onnx_over_pytorch_median_time']:<5.2f}"
                  f"{ratio_cl}{v['max_abs_diff']:>9.1e}")

    figures = {
        "threads": args.threads, "onnxruntime": onnxruntime.__version__, "repeats": repeats, "batches": batches,
        **runs,
        "note": "random-weight models (same cost as trained ones); network = model(x) (NCHW and channels-last) "
                "/ session.run on the same normalised batches; embedder = crops -> L2-normalised embeddings through CheckpointEmbedder and "
                "OnnxEmbedder; pytorch and onnx alternated within each repeat; CPU only",
    }
    print(f"wrote {write_result('onnx', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
