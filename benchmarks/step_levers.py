"""vanilla-mnist: levers on one training step, each against the same eager loop, side by side.

One bare loop of the Trainer's protocol (D on real and fake with G frozen, then G
through a frozen D, the non-saturating loss through ganzoo's own loss object,
fused Adam, batch 64, real MNIST on the device), run in each of these ways:

    eager            fp32, as the Trainer runs by default
    amp              bf16 autocast, as ``amp=true``: every use of a weight casts it
    amp+bf16 copies  bf16 autocast, but each Linear's weight is cast once after its
                     optimizer step (one foreach copy) and the copy is used by both
                     phases; gradients still reach the fp32 weight
    compiled nets    torch.compile of G and D, as ``--compile MODE`` does
    compiled phases  torch.compile of the loss's two phase functions, so that G, D
                     and the loss's arithmetic of a phase are one graph (on CUDA with
                     ``reduce-overhead``, one CUDA graph a phase)
    ... + amp        the two compiled variants under bf16 autocast

The models start from the same weights and see the same batches; each variant's
mean D and G loss over the timed steps is printed beside eager's. A GAN's losses
are chaotic: rounding differences grow until single steps no longer compare, so
the means over many steps are what must agree (compiled phases also draw their
own random numbers, so their latents differ from eager's).

``--ops`` counts instead the operator calls a step (torch's profiler; on a GPU
each is at least one kernel launch) of the Trainer and of the bare loop of
``sidebyside.py``: whether the Trainer adds small kernels of its own.

Usage: GANZOO_DATA_DIR=... python benchmarks/step_levers.py [--steps 150] [--rounds 5]
       [--device cuda --mode reduce-overhead] [--only eager,amp] [--ops]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import ProfilerActivity, profile

import ganzoo
import sidebyside
from ganzoo import Batch, Component
from ganzoo.settings import data_dir


class _UseCopy(torch.autograd.Function):
    """The bf16 copy forward; the gradient goes to the fp32 weight, in fp32."""

    @staticmethod
    def forward(ctx, weight, copy):
        return copy

    @staticmethod
    def backward(ctx, grad):
        return grad.float(), None


def bf16_weight_copies(model: nn.Module):
    """Make ``model``'s Linear layers use a bf16 copy of their weight; return the
    function that refreshes every copy in one foreach copy (after each optimizer step)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    copies = [m.weight.detach().to(torch.bfloat16) for m in linears]
    for m, copy in zip(linears, copies):
        def forward(x, m=m, copy=copy):
            w = _UseCopy.apply(m.weight, copy) if m.weight.requires_grad else copy
            return F.linear(x, w, m.bias)
        m.forward = forward
    weights = [m.weight for m in linears]
    return lambda: torch._foreach_copy_(copies, [w.detach() for w in weights])


def run(variant: str, x: torch.Tensor, args, device: torch.device) -> tuple[float, tuple[float, float]]:
    """ms a step over ``args.steps`` steps after 10 warm-up steps (compilation), and the
    mean D and G losses over those steps."""
    spec = ganzoo.DataSpec(tuple(x.shape[1:]))
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp"), spec).to(device)
    D = ganzoo.create("discriminators", Component("mlp"), spec).to(device)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999), fused=True)
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999), fused=True)
    loss = ganzoo.create("losses", "non-saturating")
    d_phase, g_phase, called = loss.discriminator_loss, loss.generator_loss, (G, D)
    refresh_g = refresh_d = lambda: None
    if variant == "amp+bf16 copies":
        refresh_g, refresh_d = bf16_weight_copies(G), bf16_weight_copies(D)
    if variant.startswith("compiled nets"):
        called = (torch.compile(G, mode=args.mode), torch.compile(D, mode=args.mode))
    if variant.startswith("compiled phases"):
        d_phase, g_phase = torch.compile(d_phase, mode=args.mode), torch.compile(g_phase, mode=args.mode)
    amp = variant.startswith("amp") or variant.endswith("+ amp")
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if amp else contextlib.nullcontext
    bs = 64

    phases = ((d_phase, D, G, opt_d, refresh_d), (g_phase, G, D, opt_g, refresh_g))
    compiled = variant.startswith("compiled")

    def step(i: int):
        batch = Batch(x[(i * bs) % (len(x) - bs):][:bs])
        values = []
        for phase, trained, frozen, optimizer, refresh in phases:  # D's phase, then G's
            frozen.requires_grad_(False)
            trained.requires_grad_(True)
            if compiled:  # each phase one CUDA-graph iteration, as the Trainer does
                torch.compiler.cudagraph_mark_step_begin()
            with autocast():
                value, _ = phase(batch, *called)
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
            refresh()
            values.append(value.detach().clone())  # a graph's output is overwritten by its next replay
        return torch.stack(values)

    for i in range(10):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    total = torch.zeros(2, device=device)
    for i in range(10, 10 + args.steps):
        total += step(i)  # on the device: no host sync inside the timed steps
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    mean = (total / args.steps).tolist()
    return seconds / args.steps * 1e3, (mean[0], mean[1])


def operator_calls(device: torch.device, steps: int = 30) -> dict[str, float]:
    """Operator calls a step that no other operator made (the ones a step launches),
    for the Trainer and for ``sidebyside.py``'s bare loop, warm-up steps included."""
    setup = sidebyside.Setup(Component("mlp"), Component("mlp"), batch_size=64, steps=steps, rounds=1, device=device)
    data = ganzoo.load_dataset("mnist", data_dir())
    calls = {}
    for name, loop in (("trainer", sidebyside.time_trainer), ("bare loop", sidebyside.time_bare)):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            loop(setup, data)
        top = [e for e in prof.events() if e.name.startswith("aten::")
               and (e.cpu_parent is None or not e.cpu_parent.name.startswith("aten::"))]
        calls[name] = len(top) / (steps + 10)
    return calls


VARIANTS = ("eager", "amp", "amp+bf16 copies", "compiled nets", "compiled phases",
            "compiled nets + amp", "compiled phases + amp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mode", default="default", choices=("default", "reduce-overhead", "max-autotune"),
                        help="torch.compile mode of the compiled variants")
    parser.add_argument("--only", help="comma-separated variants to run (default: all)")
    parser.add_argument("--ops", action="store_true", help="count operator calls a step instead of timing")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.ops:
        for name, count in operator_calls(device).items():
            print(f"{name}: {count:.0f} operator calls a step")
        return
    variants = [v.strip() for v in args.only.split(",")] if args.only else list(VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(VARIANTS)}")
    x = ganzoo.load_dataset("mnist", data_dir()).x.to(device)
    times: dict[str, list[float]] = {v: [] for v in variants}
    losses: dict[str, tuple[float, float]] = {}
    for i in range(args.rounds):  # interleaved, so that a slow spell of the machine hits every variant
        for v in variants:
            ms, losses[v] = run(v, x, args, device)
            times[v].append(ms)
        print(f"round {i + 1}: " + ", ".join(f"{v} {ts[-1]:.2f}" for v, ts in times.items()) + " ms/step", flush=True)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"vanilla-mnist step levers: torch {torch.__version__}, {where}, batch 64, compile mode {args.mode}, "
          f"{args.steps} steps x {args.rounds} interleaved rounds")
    base = statistics.median(times[variants[0]])
    print(f"  {'variant':24s} {'best':>7s} {'median':>7s} {'vs ' + variants[0]:>10s}   mean d_loss, g_loss over the timed steps")
    for v, ts in times.items():
        d, g = losses[v]
        print(f"  {v:24s} {min(ts):7.2f} {statistics.median(ts):7.2f} {base / statistics.median(ts):9.2f}x   "
              f"{d:.4f}, {g:.4f}")


if __name__ == "__main__":
    main()
