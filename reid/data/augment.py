"""Batched training augmentation on the images' device: flip, pad + random crop, random erasing.

The reid-strong-baseline recipe (Luo et al. 2019) applied to a whole (B, 3, H, W) uint8 batch at
once: per-sample choices are drawn as tensors and applied with ``torch.where``, ``gather`` and masks;
there is no Python loop over images. Random numbers come from the ``torch.Generator`` passed in: if
it lives on the images' device they are drawn there; a CPU generator with CUDA images also works
(numbers drawn on the CPU, then moved), which makes runs comparable across devices.

Two implementations give bit-identical results from the same random numbers: on CUDA one gather/mask
kernel per step for the whole batch; on the CPU, where a gather computes an address per byte, each image's
visible window is copied straight out of the cached set into a zeroed batch and each erased box is filled in
place (memcpy-speed copies, several times faster there; ``bench_datapath.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from reid.config import AugmentConfig

# Random erasing (Zhong et al. 2020, "Random Erasing Data Augmentation"): area and aspect ranges.
ERASE_AREA = (0.02, 0.4)
ERASE_ASPECT = (0.3, 3.3)
ERASE_ATTEMPTS = 10  # the paper tries up to 100; 10 leave < 1e-4 of 256x128 images without a valid box


def normalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float32 (B, 3, H, W), ``(x / 255 - mean) / std``, on the images' device."""
    m = torch.tensor(mean, dtype=torch.float64)
    s = torch.tensor(std, dtype=torch.float64)
    scale = (1.0 / (255.0 * s)).to(torch.float32).view(1, -1, 1, 1).to(images.device)
    shift = (m / s).to(torch.float32).view(1, -1, 1, 1).to(images.device)
    return images.float().mul_(scale).sub_(shift)  # in place: two passes over the float batch


class BatchAugment:
    """Flip (``cfg.flip_prob``), pad by ``cfg.pad`` + random crop back to H x W, normalise, erase.

    ``pad_mode``: "constant" pads with zeros (black, as torchvision's ``Pad``) or "reflect". Erased
    boxes are filled with the normalisation mean, i.e. 0 in the output.
    """

    def __init__(self, cfg: AugmentConfig, pad_mode: str = "constant", use_slices: bool | None = None) -> None:
        if pad_mode not in ("constant", "reflect"):
            raise ValueError(f"pad_mode={pad_mode!r}; known: constant, reflect")
        self.cfg, self.pad_mode = cfg, pad_mode
        self.use_slices = use_slices  # None: per-image slices on the CPU, whole-batch kernels elsewhere

    def __call__(self, images: torch.Tensor, generator: torch.Generator,
                 index: torch.Tensor | None = None) -> torch.Tensor:
        """images: (B, 3, H, W) uint8 on any device -> (B, 3, H, W) float32 normalised, same device.

        With ``index`` (B,) long, ``images`` is the whole cached set and the batch is ``images[index]``; on
        the CPU each window is then copied straight out of the cache, with no gathered copy of the batch.
        """
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"expected a (B, 3, H, W) uint8 batch, got {tuple(images.shape)} {images.dtype}")
        dev = images.device

        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(shape, generator=generator, device=generator.device).to(dev)

        b = images.shape[0] if index is None else len(index)
        slices = self.use_slices if self.use_slices is not None else dev.type == "cpu"
        flip = rand(b) < self.cfg.flip_prob if self.cfg.flip_prob > 0 else None
        shift = rand(b, 2) if self.cfg.pad > 0 else None
        if slices and self.pad_mode == "constant":
            x = self._windows(images, index, flip, shift)
        else:
            x = images if index is None else images.index_select(0, index.to(dev))
            if flip is not None or shift is not None:
                x = self._flip_pad_crop(x, flip, shift)
        out = normalize(x, self.cfg.mean, self.cfg.std)
        if self.cfg.erase_prob > 0:
            boxes = self._erase_boxes(out.shape, rand(b), rand(b, ERASE_ATTEMPTS, 4))
            if slices:
                for i, (apply, top, left, eh, ew) in enumerate(zip(*(t.tolist() for t in boxes), strict=True)):
                    if apply:
                        out[i, :, top : top + eh, left : left + ew] = 0.0
            else:
                out.masked_fill_(self._erase_mask(out.shape, boxes), 0.0)
        return out

    def _offsets(self, u: torch.Tensor) -> torch.Tensor:
        """(B, 2) uniforms -> (B, 2) integer (dy, dx) shifts in [-pad, pad]."""
        pad = self.cfg.pad
        return (u * (2 * pad + 1)).long().clamp_(max=2 * pad) - pad

    def _windows(self, x: torch.Tensor, index: torch.Tensor | None, flip: torch.Tensor | None,
                 u: torch.Tensor | None) -> torch.Tensor:
        """CPU twin of ``_flip_pad_crop`` (constant padding): each image's visible window is copied from
        ``x[index[i]]`` (or ``x[i]``) into a zeroed batch, whose zeros are the padding; one uint8 pass."""
        _, c, h, w = x.shape
        rows = index.tolist() if index is not None else list(range(x.shape[0]))
        b = len(rows)
        offsets = self._offsets(u).tolist() if u is not None else [[0, 0]] * b
        flips = flip.tolist() if flip is not None else [False] * b
        out = torch.zeros((b, c, h, w), dtype=x.dtype) if u is not None else torch.empty((b, c, h, w), dtype=x.dtype)
        for i, (src, (dy, dx), flipped) in enumerate(zip(rows, offsets, flips, strict=True)):
            # unflipped, output pixel (r, s) is source pixel (r + dy, s + dx); the rest is padding
            r0, r1, c0, c1 = max(0, -dy), min(h, h - dy), max(0, -dx), min(w, w - dx)
            window = x[src, :, r0 + dy : r1 + dy, c0 + dx : c1 + dx]
            if flipped:  # the mirror of the whole output image: columns [c0, c1) land on [w - c1, w - c0)
                out[i, :, r0:r1, w - c1 : w - c0] = window.flip(-1)
            else:
                out[i, :, r0:r1, c0:c1] = window
        return out

    def _flip_pad_crop(self, x: torch.Tensor, flip: torch.Tensor | None, u: torch.Tensor | None) -> torch.Tensor:
        """One row selection and one column gather do flip (B,) bool, pad and crop at uniform offsets ``u``
        (B, 2): output pixel (i, j) = padded input (i + dy, j + dx), dy, dx in [0, 2 pad]."""
        b, c, h, w = x.shape
        rows = torch.arange(h, device=x.device).expand(b, h)  # (B, H) source rows
        cols = torch.arange(w, device=x.device).expand(b, w)  # (B, W) source columns
        if flip is not None:
            cols = torch.where(flip[:, None], (w - 1) - cols, cols)
        valid = None
        if u is not None:
            shift = self._offsets(u)  # (B, 2) in [-pad, pad]
            rows, cols = rows + shift[:, :1], cols + shift[:, 1:]
            if self.pad_mode == "reflect":
                rows = (h - 1) - ((h - 1) - rows.abs()).abs()
                cols = (w - 1) - ((w - 1) - cols.abs()).abs()
            else:  # rows / columns that fall in the zero padding, zeroed after the copy
                valid = (((rows >= 0) & (rows < h)).view(b, 1, h, 1), ((cols >= 0) & (cols < w)).view(b, 1, 1, w))
                rows, cols = rows.clamp(0, h - 1), cols.clamp(0, w - 1)
            # rows: select whole image rows of the (B*C*H, W) view (row copies, ~6x faster than a gather)
            plane = torch.arange(b * c, device=x.device).view(b, c, 1) * h  # first row of each (b, c)
            flat_rows = (plane + rows.view(b, 1, h)).reshape(-1)
            x = x.reshape(b * c * h, w).index_select(0, flat_rows).view(b, c, h, w)
        x = x.gather(3, cols.reshape(b, 1, 1, w).expand(b, c, h, w))
        return x if valid is None else x.mul_(valid[0]).mul_(valid[1])

    def _erase_boxes(self, shape: torch.Size, u_apply: torch.Tensor,
                     u: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Boxes to erase from uniforms ``u_apply`` (B,) and ``u`` (B, T, 4): (apply, top, left, height,
        width), each (B,); the first of T attempts that fits the image is used."""
        _, _, h, w = shape
        area = h * w * (ERASE_AREA[0] + (ERASE_AREA[1] - ERASE_AREA[0]) * u[..., 0])
        log_lo, log_hi = math.log(ERASE_ASPECT[0]), math.log(ERASE_ASPECT[1])
        aspect = torch.exp(log_lo + (log_hi - log_lo) * u[..., 1])
        eh = torch.sqrt(area * aspect).round().long()  # (B, T)
        ew = torch.sqrt(area / aspect).round().long()
        ok = (eh < h) & (ew < w)
        first = ok.long().argmax(dim=1, keepdim=True)  # first valid attempt per image
        apply = (u_apply < self.cfg.erase_prob) & ok.any(dim=1)
        eh, ew = eh.gather(1, first).squeeze(1), ew.gather(1, first).squeeze(1)
        uy, ux = u[..., 2].gather(1, first).squeeze(1), u[..., 3].gather(1, first).squeeze(1)
        top = (uy * (h - eh + 1)).long()
        left = (ux * (w - ew + 1)).long()
        return apply, top, left, eh, ew

    def _erase_mask(self, shape: torch.Size, boxes: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Boolean (B, 1, H, W) of the ``_erase_boxes`` to fill."""
        b, _, h, w = shape
        apply, top, left, eh, ew = boxes
        ys = torch.arange(h, device=top.device).view(1, h)
        xs = torch.arange(w, device=top.device).view(1, w)
        in_rows = (ys >= top[:, None]) & (ys < (top + eh)[:, None]) & apply[:, None]  # (B, H)
        in_cols = (xs >= left[:, None]) & (xs < (left + ew)[:, None])  # (B, W)
        return in_rows.view(b, 1, h, 1) & in_cols.view(b, 1, 1, w)
