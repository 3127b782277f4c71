from __future__ import annotations

import torch

from reid.config import AugmentConfig
from reid.data import BatchAugment, normalize

MEAN, STD = AugmentConfig().mean, AugmentConfig().std


def batch(b: int = 6, h: int = 32, w: int = 16) -> torch.Tensor:
    return torch.randint(0, 256, (b, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_normalize() -> None:
    x = torch.full((1, 3, 2, 2), 255, dtype=torch.uint8)
    out = normalize(x, MEAN, STD)
    assert out.dtype == torch.float32 and out.shape == x.shape
    torch.testing.assert_close(out[0, :, 0, 0], (1 - torch.tensor(MEAN)) / torch.tensor(STD))


def test_shapes_dtypes_and_determinism() -> None:
    aug = BatchAugment(AugmentConfig(pad=4))
    x = batch()
    a, b = aug(x, gen(1)), aug(x, gen(1))
    assert a.shape == x.shape and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, aug(x, gen(2)))


def test_no_augmentation_equals_normalize() -> None:
    aug = BatchAugment(AugmentConfig(flip_prob=0.0, pad=0, erase_prob=0.0))
    x = batch()
    assert torch.equal(aug(x, gen()), normalize(x, MEAN, STD))


def test_flip_with_probability_one_flips_every_image() -> None:
    aug = BatchAugment(AugmentConfig(flip_prob=1.0, pad=0, erase_prob=0.0))
    x = batch()
    assert torch.equal(aug(x, gen()), normalize(x.flip(-1), MEAN, STD))


def test_pad_crop_shifts_content() -> None:
    x = batch(b=64)
    for mode in ("constant", "reflect"):
        out = BatchAugment(AugmentConfig(flip_prob=0.0, pad=3, erase_prob=0.0), pad_mode=mode)(x, gen())
        ref = normalize(x, MEAN, STD)
        # every output is the input shifted by (dy, dx) in [-3, 3]; the centre region matches a shift
        for i in (0, 1, 2):
            found = any(torch.equal(out[i, :, 3:-3, 3:-3], ref[i, :, 3 + dy:29 + dy, 3 + dx:13 + dx])
                        for dy in range(-3, 4) for dx in range(-3, 4))
            assert found
        assert sum(not torch.equal(out[i], ref[i]) for i in range(64)) > 50  # most are shifted
    zero = torch.zeros(1, 3, 8, 8, dtype=torch.uint8) + 200
    out = BatchAugment(AugmentConfig(flip_prob=0.0, pad=4, erase_prob=0.0))(zero.repeat(32, 1, 1, 1), gen())
    black = normalize(torch.zeros(1, 3, 1, 1, dtype=torch.uint8), MEAN, STD)[0, :, 0, 0]
    assert (out[:, 0] == black[0]).any()  # zero padding shows up as black


def test_erasing_region_is_zero_after_normalisation() -> None:
    x = torch.full((64, 3, 64, 32), 255, dtype=torch.uint8)  # never 0 after normalisation
    out = BatchAugment(AugmentConfig(flip_prob=0.0, pad=0, erase_prob=1.0))(x, gen(3))
    zero = (out == 0).all(dim=1)  # (B, H, W)
    erased = zero.flatten(1).any(1)
    assert erased.float().mean() > 0.95
    for i in range(8):  # the erased region is one axis-aligned box of 2-40 % of the area
        ys, xs = torch.nonzero(zero[i], as_tuple=True)
        if len(ys):
            box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
            assert box == len(ys)
            assert 0.015 * 64 * 32 <= box <= 0.42 * 64 * 32
    none = BatchAugment(AugmentConfig(flip_prob=0.0, pad=0, erase_prob=0.0))(x, gen(3))
    assert not (none == 0).any()


def test_erase_probability_is_respected() -> None:
    x = torch.full((400, 3, 32, 16), 255, dtype=torch.uint8)
    out = BatchAugment(AugmentConfig(flip_prob=0.0, pad=0, erase_prob=0.5))(x, gen(4))
    frac = (out == 0).all(dim=1).flatten(1).any(1).float().mean().item()
    assert 0.4 < frac < 0.6


def test_cpu_slices_and_batch_kernels_give_identical_batches() -> None:
    """The per-image slice path (CPU default) and the whole-batch gather/mask path (CUDA) must agree bit for
    bit on the same random numbers, for every combination of flip, pad and erasing."""
    x = batch(b=32)
    for cfg in (AugmentConfig(), AugmentConfig(pad=0), AugmentConfig(flip_prob=0.0, erase_prob=0.0),
                AugmentConfig(flip_prob=1.0, pad=7, erase_prob=1.0)):
        fast = BatchAugment(cfg, use_slices=True)(x, gen(5))
        batched = BatchAugment(cfg, use_slices=False)(x, gen(5))
        assert torch.equal(fast, batched), cfg
    assert not torch.equal(BatchAugment(AugmentConfig())(x, gen(5)), normalize(x, MEAN, STD))


def test_index_reads_the_batch_out_of_the_cache() -> None:
    """``aug(cache, gen, index)`` is ``aug(cache[index], gen)`` on both paths, repeated indices included."""
    cache = batch(b=20)
    index = torch.tensor([3, 17, 3, 0, 19, 8, 8, 11])
    for cfg in (AugmentConfig(), AugmentConfig(pad=0, flip_prob=0.0), AugmentConfig(flip_prob=1.0, pad=5)):
        for slices in (True, False):
            aug = BatchAugment(cfg, use_slices=slices)
            assert torch.equal(aug(cache, gen(6), index), aug(cache[index], gen(6))), (cfg, slices)
