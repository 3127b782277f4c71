"""Training data path: images/s of P x K batches (P=16, K=4, 256x128), this path vs the usual one.

(a) ``reid.data``: images decoded once into a uint8 tensor (``load_images``), each batch read out of it by
    index and augmented on the device (``BatchAugment``: flip, pad 10 + crop, erasing), as the trainer does.
(b) the standard baseline: ``torch.utils.data.DataLoader`` (num_workers=2, persistent workers) over a
    Dataset opening each JPEG with PIL and applying torchvision.transforms (Resize, RandomHorizontalFlip,
    Pad, RandomCrop, ToTensor, Normalize, RandomErasing) per image.
Same synthetic images, stored at Market-1501's own 128 x 64 (so the baseline upscales each one, as it does on
Market), same PKSampler batches, same run, the variants timed in alternation so that load from other jobs
falls on all of them. The one-off decode of (a) is reported apart.
(a) is timed with 1 torch thread (one core, against the baseline's two worker processes) and with the
default thread count; on a busy machine intra-op threads can lose much time waiting for each other.

    python benchmarks/bench_datapath.py [--quick] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402
from torchvision import transforms as T  # noqa: E402

from benchmarks.common import write_result  # noqa: E402
from reid.config import AugmentConfig  # noqa: E402
from reid.data import BatchAugment, PKSampler, load_images, market1501  # noqa: E402
from reid.data.synthetic import generate  # noqa: E402

P, K, H, W = 16, 4, 256, 128
SRC_H, SRC_W = 128, 64  # Market-1501 crops are stored at 128 x 64 and upscaled to H x W for training


class JpegDataset(Dataset):
    """The baseline: one PIL decode + torchvision transform chain per image."""

    def __init__(self, paths: list[str], cfg: AugmentConfig) -> None:
        self.paths = paths
        self.transform = T.Compose([
            T.Resize((H, W), interpolation=T.InterpolationMode.BILINEAR),
            T.RandomHorizontalFlip(cfg.flip_prob),
            T.Pad(cfg.pad),
            T.RandomCrop((H, W)),
            T.ToTensor(),
            T.Normalize(cfg.mean, cfg.std),
            T.RandomErasing(p=cfg.erase_prob, value=0),
        ])

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        with Image.open(self.paths[i]) as im:
            return self.transform(im.convert("RGB"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 identities and 3 repeats instead of 120 and 5")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    num_ids, repeats = (40, 3) if args.quick else (120, 5)
    device = torch.device(args.device)
    cfg = AugmentConfig()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        root = generate(Path(tmp) / "synth", num_ids=num_ids, seed=0, height=SRC_H, width=SRC_W)
        gen_s = time.perf_counter() - t0
        train = market1501.load(root).train
        paths, labels = [s.path for s in train], [s.pid for s in train]
        sampler = PKSampler(labels, P, K, seed=0)
        batches = list(sampler)
        n_images = sum(len(b) for b in batches)
        print(f"{len(train)} train images of {len({*labels})} ids; {len(batches)} PK batches per epoch "
              f"({n_images} images); data set generated in {gen_s:.1f} s; torch threads {torch.get_num_threads()}")

        t0 = time.perf_counter()
        cache = load_images(paths, H, W, progress=False).to(device)
        decode_s = time.perf_counter() - t0
        aug = BatchAugment(cfg)
        gen = torch.Generator(device=device).manual_seed(0)

        def ours() -> None:
            for b in batches:
                x = aug(cache, gen, torch.as_tensor(b, device=device))
            if device.type == "cuda":
                torch.cuda.synchronize()
            assert x.shape == (P * K, 3, H, W)

        def baseline_epoch_s() -> float:
            """One timed epoch of a fresh loader after an untimed one (worker start-up, page cache); the
            loader is shut down before returning so its prefetching workers never overlap the other path."""
            loader = DataLoader(JpegDataset(paths, cfg), batch_sampler=batches, num_workers=2,
                                persistent_workers=True, pin_memory=device.type == "cuda")
            for _ in loader:
                pass
            t0 = time.perf_counter()
            for x in loader:
                x = x.to(device, non_blocking=True)
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - t0
            assert x.shape == (P * K, 3, H, W)
            del loader
            return elapsed

        default_threads = torch.get_num_threads()
        thread_counts = sorted({1, default_threads})
        times: dict[str, list[float]] = {"baseline": [], **{f"ours_{th}": [] for th in thread_counts}}
        ours()  # warm-up
        for _ in range(repeats):  # alternate the paths so that load from other jobs falls on both alike
            for th in thread_counts:
                torch.set_num_threads(th)
                t0 = time.perf_counter()
                ours()
                times[f"ours_{th}"].append(time.perf_counter() - t0)
            torch.set_num_threads(default_threads)
            times["baseline"].append(baseline_epoch_s())
        stats = {name: {"min_s": min(t), "median_s": statistics.median(t), "repeats": repeats}
                 for name, t in times.items()}
        t_base = stats["baseline"]
        t_ours = {th: stats[f"ours_{th}"] for th in thread_counts}

    ours_ips = {th: n_images / t["median_s"] for th, t in t_ours.items()}
    base_ips = n_images / t_base["median_s"]
    figures = {
        "device": str(device), "p": P, "k": K, "height": H, "width": W, "train_images": len(train),
        "images_per_epoch": n_images, "default_torch_threads": default_threads,
        **{f"ours_images_per_s_{th}_threads": round(v, 1) for th, v in ours_ips.items()},
        "baseline_images_per_s": round(base_ips, 1),
        **{f"speedup_{th}_threads": round(v / base_ips, 2) for th, v in ours_ips.items()},
        "ours_decode_once_s": round(decode_s, 2),
        **{f"ours_epoch_s_{th}_threads": t for th, t in t_ours.items()},
        "baseline_epoch_s": t_base, "generate_s": round(gen_s, 2),
        "baseline": "DataLoader(num_workers=2) + PIL + torchvision.transforms",
    }
    for th, v in ours_ips.items():
        print(f"(a) cached tensor + BatchAugment, {th} torch thread(s): {v:8.0f} images/s   "
              f"speed-up {v / base_ips:.1f}x")
    print(f"(b) DataLoader(2 workers) + PIL + transforms:   {base_ips:8.0f} images/s")
    print(f"one-off decode of (a): {decode_s:.1f} s for {len(train)} images")
    print(f"written to {write_result('datapath', figures, quick=args.quick)}")


if __name__ == "__main__":
    main()
