"""Forward + backward time of the minibatch discrimination layer, three ways, side by side.

    (a) ganzoo:     ``MinibatchDiscrimination`` (its own backward: one cdist backward)
    (b) cdist:      the same arithmetic left to autograd through ``torch.cdist``
                    (ganzoo's layer before; what a direct port writes)
    (c) reference:  openai/improved-gan's formulation, an (n, B, C, n) difference
                    tensor, ``abs``, sum over C, ``+ 1e6·I`` for the self pair

All three get the same features (n × A) and weights, A = 200 (the mixture
recipes' maxout width), B = 100 kernels of C = 5, interleaved in rounds; best
and median of the rounds, and the ratios to (a). The three outputs are checked
equal before timing.

Usage: python benchmarks/minibatch_layer_speed.py [--batch 100] [--steps 50] [--rounds 7] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from einops import einsum, rearrange

from ganzoo_minibatch import MinibatchDiscrimination


def _cdist_autograd(layer: MinibatchDiscrimination, x: torch.Tensor) -> torch.Tensor:
    m = einsum(x, layer.weight, "n a, a b c -> b n c")
    self_pair = torch.eye(len(x), dtype=torch.bool, device=x.device)
    o = torch.exp(-torch.cdist(m, m, p=1).masked_fill(self_pair, float("inf"))).sum(2)
    return torch.cat([x, rearrange(o, "b n -> n b") + layer.bias], dim=1)


def _reference(layer: MinibatchDiscrimination, x: torch.Tensor) -> torch.Tensor:
    m = einsum(x, layer.weight, "n a, a b c -> n b c")
    diff = (m.unsqueeze(3) - rearrange(m, "n b c -> b c n").unsqueeze(0)).abs().sum(2)  # (n, B, n)
    diff = diff + 1e6 * torch.eye(len(x), device=x.device).unsqueeze(1)
    return torch.cat([x, torch.exp(-diff).sum(2) + layer.bias], dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(200, kernels=100, kernel_dim=5).to(device)
    x = torch.randn(args.batch, 200, device=device, requires_grad=True)
    ways = {"ganzoo": layer, "cdist": lambda x: _cdist_autograd(layer, x),
            "reference": lambda x: _reference(layer, x)}

    expected = layer(x)
    for name, way in ways.items():
        torch.testing.assert_close(way(x), expected, rtol=1e-5, atol=1e-5, msg=f"{name} differs")

    def timed(way) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(args.steps):
            way(x).square().sum().backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / args.steps * 1e3

    for way in ways.values():
        timed(way)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            times[name].append(timed(way))

    print(f"minibatch layer, batch {args.batch}, A 200, B 100, C 5, {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; ms per forward + backward")
    best = {name: min(t) for name, t in times.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    for name in ways:
        print(f"  {name:10s} best {best[name]:7.2f}  median {median[name]:7.2f}  "
              f"ratio to ganzoo {best[name] / best['ganzoo']:5.2f}x / {median[name] / median['ganzoo']:5.2f}x")


if __name__ == "__main__":
    main()
