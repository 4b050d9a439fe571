"""Step time of ganzoo's Trainer against a bare loop and a PyTorch-GAN-style loop.

The three loops train the same registered G and D with Adam(2e-4, 0.5) on real
MNIST, measured side by side in one process, in interleaved rounds. This
machine's step times swing by up to 50% between rounds (shared virtual CPUs), so
both the best round (least disturbed) and the median are reported, with the
ratios for both.

    (a) bare:        a hand-written loop over on-device batches, no host sync per
                     step, with the trainer's optimizer (fused Adam)
    (b) pytorch-gan: eriklindernoren/PyTorch-GAN's loop (gan.py, dcgan.py):
                     torchvision MNIST with Resize/ToTensor/Normalize through a
                     DataLoader, BCE on sigmoid outputs, `.item()` per step (for
                     its print), default Adam

The trainer is also timed with ``amp=True`` (bf16 autocast: the matrix products
in bf16 where the CPU has bf16 instructions or on CUDA, everything else fp32),
and with ``--compile MODE`` through ``torch.compile`` (``reduce-overhead``: CUDA
graphs), its compilation outside the timed steps.

The per-model scripts (``vanilla_mnist_speed.py``, ``dcgan_mnist_speed.py``) say
which G and D and which batch size.
"""

from __future__ import annotations

import argparse
import gzip
import io
import statistics
import tempfile
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from ganzoo.callbacks import LossCurves, MetricsLog, Progress
from ganzoo.settings import data_dir


@dataclass
class Setup:
    """Which registered models to time, and how."""

    generator: ganzoo.Component
    discriminator: ganzoo.Component
    batch_size: int
    steps: int
    rounds: int
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    compile: str | None = None  # also time the trainer with torch.compile in this mode

    def models(self, spec):
        torch.manual_seed(0)
        G = ganzoo.create("generators", self.generator, spec).to(self.device)
        D = ganzoo.create("discriminators", self.discriminator, spec).to(self.device)
        return G, D


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def adam(params, fused=False):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), fused=fused)


def time_trainer(setup: Setup, data, callbacks_dir: Path | None = None, amp: bool = False,
                 compile: str | None = None) -> float:
    G, D = setup.models(data.spec)
    callbacks = []
    if callbacks_dir is not None:  # what `ganzoo run` attaches, minus the PNG grids
        from rich.console import Console

        callbacks = [Progress(console=Console(file=io.StringIO())), MetricsLog(callbacks_dir / "m.jsonl"),
                     LossCurves(callbacks_dir / "l.png")]
    trainer = ganzoo.Trainer(G, D, ganzoo.create("losses", "non-saturating"), data,
                             batch_size=setup.batch_size, steps=10, device=setup.device, callbacks=callbacks, amp=amp,
                             compile=compile)
    trainer.fit()  # warm-up
    if compile is not None and not trainer.compiled:
        raise SystemExit(f"torch.compile(mode={compile!r}) fell back to eager (see the warning above): "
                         "its timings would be eager ones")
    trainer.steps = 10 + setup.steps
    _sync(setup.device)
    start = time.perf_counter()
    trainer.fit()
    _sync(setup.device)
    return (time.perf_counter() - start) / setup.steps


def time_bare(setup: Setup, data) -> float:
    G, D = setup.models(data.spec)
    # The same optimizer the trainer uses, so the difference is the trainer's own overhead.
    opt_g, opt_d = adam(G.parameters(), fused=True), adam(D.parameters(), fused=True)
    x = data.x.to(setup.device)
    bs = setup.batch_size
    perm = torch.randperm(len(x), device=setup.device)

    def step(i):
        real = x[perm[(i * bs) % (len(x) - bs):][:bs]]
        with torch.no_grad():
            fake = G(G.sample_latent(bs, setup.device))
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(G.sample_latent(bs, setup.device)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    for i in range(10):
        step(i)
    _sync(setup.device)
    start = time.perf_counter()
    for i in range(setup.steps):
        step(i)
    _sync(setup.device)
    return (time.perf_counter() - start) / setup.steps


def pytorch_gan_loader(root: Path, batch_size: int):
    """torchvision's MNIST class over the same files (it wants them decompressed)."""
    import torchvision.datasets as datasets
    import torchvision.transforms as transforms

    raw = Path(tempfile.mkdtemp()) / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(gzip.decompress((root / "mnist" / f"{name}.gz").read_bytes()))
    dataset = datasets.MNIST(
        str(raw.parent.parent), train=True, download=False,
        transform=transforms.Compose([transforms.Resize(28), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]),
    )
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)


def time_pytorch_gan(setup: Setup, loader, spec) -> float:
    G, D_logits = setup.models(spec)
    D = nn.Sequential(D_logits, nn.Sigmoid())  # PyTorch-GAN's D ends in a sigmoid, loss is BCELoss
    opt_g, opt_d = adam(G.parameters()), adam(D.parameters())
    bce = nn.BCELoss()
    done, start = -10, None
    sink = io.StringIO()
    device = setup.device
    while True:
        for imgs, _ in loader:
            if done == 0:
                _sync(device)
                start = time.perf_counter()
            if done == setup.steps:
                _sync(device)
                return (time.perf_counter() - start) / setup.steps
            imgs = imgs.to(device)
            valid = torch.ones(imgs.size(0), device=device)
            fake = torch.zeros(imgs.size(0), device=device)
            opt_g.zero_grad()
            z = torch.randn(imgs.shape[0], 100, device=device)
            gen_imgs = G(z)
            g_loss = bce(D(gen_imgs), valid)
            g_loss.backward()
            opt_g.step()
            opt_d.zero_grad()
            real_loss = bce(D(imgs), valid)
            fake_loss = bce(D(gen_imgs.detach()), fake)
            d_loss = (real_loss + fake_loss) / 2
            d_loss.backward()
            opt_d.step()
            with redirect_stdout(sink):
                print(f"[D loss: {d_loss.item()}] [G loss: {g_loss.item()}]")
            done += 1


def arguments(description: str, steps: int, rounds: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--compile", choices=("default", "reduce-overhead", "max-autotune"),
                        help="also time the trainer with torch.compile in this mode (compiled once per round)")
    return parser.parse_args()


def compare(setup: Setup) -> dict[str, list[float]]:
    """Time every loop ``setup.rounds`` times, interleaved, and print the table and ratios."""
    root = data_dir()
    data = ganzoo.load_dataset("mnist", root)
    loader = pytorch_gan_loader(root, setup.batch_size)
    scratch = Path(tempfile.mkdtemp())
    runners = {
        "trainer": lambda: time_trainer(setup, data),
        "trainer+run callbacks": lambda: time_trainer(setup, data, scratch),
        "trainer, amp (bf16)": lambda: time_trainer(setup, data, amp=True),
        **({f"trainer, {setup.compile}": lambda: time_trainer(setup, data, compile=setup.compile)}
           if setup.compile else {}),
        "bare loop": lambda: time_bare(setup, data),
        "pytorch-gan loop": lambda: time_pytorch_gan(setup, loader, data.spec),
    }
    times: dict[str, list[float]] = {name: [] for name in runners}
    for i in range(setup.rounds):
        for name, run in runners.items():
            times[name].append(run())
        # Each round as it ends, so that a run cut off at a time limit still shows some.
        print(f"round {i + 1}: " + ", ".join(f"{name} {ts[-1] * 1e3:.2f}" for name, ts in times.items()) + " ms/step",
              flush=True)
    where = torch.cuda.get_device_name(setup.device) if setup.device.type == "cuda" else \
        f"cpu, {torch.get_num_threads()} threads"
    print(f"G {setup.generator.name}, D {setup.discriminator.name}, torch {torch.__version__}, {where}, "
          f"batch {setup.batch_size}, {setup.steps} steps x {setup.rounds} interleaved rounds")
    print(f"  {'':22s} {'best':>8s} {'median':>8s}  ms/step")
    for name, ts in times.items():
        print(f"  {name:22s} {min(ts) * 1e3:8.2f} {statistics.median(ts) * 1e3:8.2f}")
    for label, pick in (("best", min), ("median", statistics.median)):
        t = {name: pick(ts) for name, ts in times.items()}
        print(f"{label:>6s}: trainer overhead over bare loop {t['trainer'] / t['bare loop'] - 1:+.1%}, "
              f"with run callbacks {t['trainer+run callbacks'] / t['bare loop'] - 1:+.1%}; "
              f"speed-up over pytorch-gan loop {t['pytorch-gan loop'] / t['trainer']:.2f}x, "
              f"with amp {t['pytorch-gan loop'] / t['trainer, amp (bf16)']:.2f}x"
              + (f", compiled {t['pytorch-gan loop'] / t[f'trainer, {setup.compile}']:.2f}x" if setup.compile else ""))
    return times
