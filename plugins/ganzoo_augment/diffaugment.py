"""DiffAugment (Zhao et al. 2020, Section 3 and their released code): random colour,
translation and cutout, differentiable in the samples, drawn afresh for every
batch D sees.

* colour: brightness (add U[−½, ½]), saturation (scale each pixel's distance
  from its channel mean by U[0, 2]) and contrast (scale the distance from the
  image mean by U[½, 1½]), one draw per sample;
* translation: shift by up to ``translation`` of the side in each direction,
  filling with zeros;
* cutout: zero a square of ``cutout`` of the side at a random centre (cut off
  at the border).

The paper's policy for small data is all three; its ratios are 1/8 and 1/2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo import GanzooError, Probability

POLICIES = ("color", "translation", "cutout")


class DiffAugment:
    """Differentiable augmentation of a batch of images ``(n, c, h, w)``.

    ``policy`` names the transforms, comma-separated, applied in that order
    (default ``color,translation,cutout``). Randomness comes from ``generator``
    when one is passed, else from torch's global generator on the batch's device.
    """

    def __init__(self, policy: str = "color,translation,cutout", translation: Probability = 0.125,
                 cutout: Probability = 0.5) -> None:
        parts = [p.strip() for p in str(policy).split(",") if p.strip()]
        unknown = [p for p in parts if p not in POLICIES]
        if unknown or not parts:
            raise GanzooError(f"diffaugment policy {policy!r}: name one or more of {', '.join(POLICIES)}, "
                              "comma-separated, e.g. policy=translation,cutout")
        self.policy, self.translation_ratio, self.cutout_ratio = tuple(parts), float(translation), float(cutout)

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        if x.dim() != 4:
            raise GanzooError(f"diffaugment augments images (n, channels, height, width), got a batch of shape "
                              f"{tuple(x.shape)}; use it with image data")
        for part in self.policy:
            x = getattr(self, f"_{part}")(x, generator)
        return x

    def __repr__(self) -> str:
        return f"DiffAugment(policy={','.join(self.policy)!r})"

    @staticmethod
    def _uniform(x: Tensor, generator: torch.Generator | None) -> Tensor:
        return torch.rand(len(x), 1, 1, 1, device=x.device, dtype=x.dtype, generator=generator)

    def _color(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        x = x + (self._uniform(x, generator) - 0.5)
        mean = x.mean(1, keepdim=True)
        x = (x - mean) * (self._uniform(x, generator) * 2) + mean
        mean = x.mean((1, 2, 3), keepdim=True)
        return (x - mean) * (self._uniform(x, generator) + 0.5) + mean

    def _translation(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        n, _, h, w = x.shape
        sh, sw = int(h * self.translation_ratio + 0.5), int(w * self.translation_ratio + 0.5)
        ty = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device, generator=generator)
        tx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device, generator=generator)
        # Output pixel (i, j) is input pixel (i + ty, j + tx), or the zero padding beyond the border.
        rows = (torch.arange(h, device=x.device).view(1, h, 1) + ty + 1).clamp(0, h + 1)
        cols = (torch.arange(w, device=x.device).view(1, 1, w) + tx + 1).clamp(0, w + 1)
        padded = F.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)
        return padded[torch.arange(n, device=x.device).view(n, 1, 1), rows, cols].permute(0, 3, 1, 2)

    def _cutout(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        n, _, h, w = x.shape
        ch, cw = int(h * self.cutout_ratio + 0.5), int(w * self.cutout_ratio + 0.5)
        cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device, generator=generator)
        cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device, generator=generator)
        rows = (torch.arange(ch, device=x.device).view(1, ch, 1) + cy - ch // 2).clamp(0, h - 1)
        cols = (torch.arange(cw, device=x.device).view(1, 1, cw) + cx - cw // 2).clamp(0, w - 1)
        mask = torch.ones(n, h, w, device=x.device, dtype=x.dtype)
        mask[torch.arange(n, device=x.device).view(n, 1, 1), rows, cols] = 0
        return x * mask.unsqueeze(1)
