"""The minibatch discrimination layer of Salimans et al. 2016 (Section 3.2).

Each sample's features ``f`` (``A`` wide) are projected by a tensor ``T``
(``A × B × C``) to ``B`` rows of ``C`` numbers; for each row ``b`` the layer sums
``exp(−‖M_i,b − M_j,b‖₁)`` over the *other* samples of the batch. A generator
that collapses makes every sample close to every other, which D can then see.
As in the reference code (openai/improved-gan ``nn.py``, ``MinibatchLayer``), ``T``
is weight-normalised over its input axis, the bias starts at −1, and
:meth:`MinibatchDiscrimination.init_from` rescales both from a real batch.
"""

from __future__ import annotations

import torch
from einops import einsum, rearrange
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """``x (n, A) → [x, o(x)] (n, A + B)`` with ``o(x)_b = Σ_{j≠i} exp(−‖M_i,b − M_j,b‖₁) + bias_b``.

    ``kernels`` is B, ``kernel_dim`` is C. The batch the layer sees is the batch it
    compares within, so real and generated batches must be passed separately.
    """

    def __init__(self, in_features: int, kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        self.in_features, self.kernels, self.kernel_dim = in_features, kernels, kernel_dim
        self.theta = nn.Parameter(torch.randn(in_features, kernels, kernel_dim) * 0.05)
        self.log_weight_scale = nn.Parameter(torch.zeros(kernels, kernel_dim))
        self.bias = nn.Parameter(torch.full((kernels,), -1.0))

    @property
    def weight(self) -> Tensor:
        """``T``: each ``(b, c)`` column of θ scaled to norm ``exp(log_weight_scale[b, c])``."""
        norm = self.theta.square().sum(0).sqrt()
        return self.theta * (self.log_weight_scale.exp() / norm)

    def _rows(self, x: Tensor) -> Tensor:
        """``(B, n, C)``: each sample's row ``M_b`` for every kernel."""
        return einsum(x.flatten(1), self.weight, "n a, a b c -> b n c")

    def distances(self, x: Tensor) -> Tensor:
        """``(B, n, n)``: for each kernel, the L1 distances between the samples' rows ``M_b``."""
        m = self._rows(x)
        # cdist's L1 kernels, not an (n, n, B, C) broadcast difference: faster, and no such tensor.
        return torch.cdist(m, m, p=1)

    def closeness(self, x: Tensor) -> Tensor:
        """``(n, B)``: Σ over the other samples of ``exp(−distance)``, without the bias."""
        m = self._rows(x)
        # At least float32, as cdist runs under autocast; its backward has no bfloat16 kernel.
        return rearrange(_Closeness.apply(m.to(torch.promote_types(m.dtype, torch.float32))), "b n -> n b")

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        return torch.cat([x, self.closeness(x) + self.bias], dim=1)

    @torch.no_grad()
    def init_from(self, x: Tensor) -> None:
        """Data-dependent initialisation on a real batch, as the reference code's ``init``
        pass: scale each kernel so the mean distance to the nearest other sample is 2,
        then set the bias so each output has mean 0 on this batch."""
        if len(x) < 2:
            raise ValueError("minibatch discrimination needs at least 2 samples to initialise from")
        d = self.distances(x.flatten(1)) + torch.eye(len(x), device=x.device) * 1e6
        half_mean_min = 0.5 * d.min(2).values.mean(1)  # (B,)
        self.log_weight_scale.sub_(half_mean_min.log().unsqueeze(1))
        self.bias.copy_(-self.closeness(x.flatten(1)).mean(0))


class _Closeness(torch.autograd.Function):
    """``m (B, n, C) → o (B, n)``, ``o_b,i = Σ_{j≠i} exp(−‖m_b,i − m_b,j‖₁)``, with its gradient.

    Autograd through ``cdist`` would keep several ``(B, n, n)`` intermediates and run
    cdist's backward twice (``m`` is both of its arguments); ``o``'s gradient is
    ``∂o/∂m_k = −Σ_j (g_k + g_j) e_kj sign(m_k − m_j)``, one cdist backward with the
    symmetric weights ``(g_k + g_j) e_kj``; ``benchmarks/minibatch_layer_speed.py``
    measures the gain (docs/results-log.md).
    """

    @staticmethod
    def forward(ctx, m: Tensor) -> Tensor:  # type: ignore[override]
        m = m.contiguous()
        d = torch.cdist(m, m, p=1)
        e = d.neg().exp_()
        e.diagonal(dim1=1, dim2=2).zero_()  # the self pair: distance 0, excluded
        ctx.save_for_backward(m, d, e)
        return e.sum(2)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g: Tensor) -> Tensor:  # type: ignore[override]
        m, d, e = ctx.saved_tensors
        weights = (g.unsqueeze(2) + g.unsqueeze(1)).mul_(e).neg_()
        # cdist's own backward (an aten op; p = 1 gives Σ_j weights_kj · sign(m_k − m_j)).
        return torch.ops.aten._cdist_backward(weights, m, m, 1.0, d)
