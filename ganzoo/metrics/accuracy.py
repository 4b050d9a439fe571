"""Test error of a discriminator that classifies (the semi-supervised GAN's K outputs)."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


@torch.no_grad()
def test_error(classify: Callable[[Tensor], Tensor], x: Tensor, y: Tensor, batch: int = 1000) -> dict[str, float]:
    """Fraction and number of ``x`` whose highest logit under ``classify`` is not ``y``."""
    wrong = 0
    for start in range(0, len(x), batch):
        logits = classify(x[start : start + batch])
        wrong += int((logits.argmax(1).cpu() != y[start : start + batch].cpu()).sum())
    return {"test-error": wrong / len(x), "test-wrong": float(wrong)}
