"""vanilla-mnist step time: ganzoo's Trainer against a bare loop and a PyTorch-GAN-style loop.

All three train the same MLP G and D (the Keras tutorial model) with batch 64 and
Adam(2e-4, 0.5) on real MNIST, measured side by side in one process, in
interleaved rounds. This machine's step times swing by up to 50% between rounds
(shared virtual CPUs), so both the best round (least disturbed) and the median
are reported, and the ratios for both.

    (a) bare:       a hand-written loop over on-device batches, no host sync per step,
                    with the trainer's optimizer (fused Adam)
    (b) pytorch-gan: eriklindernoren/PyTorch-GAN gan.py's loop: torchvision MNIST
                    with Resize/ToTensor/Normalize through a DataLoader, BCE on
                    sigmoid outputs, `.item()` per step (for its print), default Adam

Usage: GANZOO_DATA_DIR=... python benchmarks/vanilla_mnist_speed.py [--steps 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import io
import statistics
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from ganzoo.callbacks import LossCurves, MetricsLog, Progress
from ganzoo.settings import data_dir


def models(spec):
    torch.manual_seed(0)
    G = ganzoo.create("generators", "mlp", spec)
    D = ganzoo.create("discriminators", "mlp", spec)
    return G, D


def adam(params, fused=False):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), fused=fused)


def time_trainer(data, steps: int, callbacks_dir: Path | None = None) -> float:
    G, D = models(data.spec)
    callbacks = []
    if callbacks_dir is not None:  # what `ganzoo run` attaches, minus the PNG grids
        from rich.console import Console

        callbacks = [Progress(console=Console(file=io.StringIO())), MetricsLog(callbacks_dir / "m.jsonl"),
                     LossCurves(callbacks_dir / "l.png")]
    trainer = ganzoo.Trainer(G, D, ganzoo.create("losses", "non-saturating"), data,
                             batch_size=64, steps=20, device="cpu", callbacks=callbacks)
    trainer.fit()  # warm-up
    trainer.steps = 20 + steps
    start = time.perf_counter()
    trainer.fit()
    return (time.perf_counter() - start) / steps


def time_bare(data, steps: int) -> float:
    G, D = models(data.spec)
    # The same optimizer the trainer uses, so the difference is the trainer's own overhead.
    opt_g, opt_d = adam(G.parameters(), fused=True), adam(D.parameters(), fused=True)
    x = data.x
    perm = torch.randperm(len(x))
    bs = 64

    def step(i):
        real = x[perm[(i * bs) % (len(x) - bs):][:bs]]
        with torch.no_grad():
            fake = G(G.sample_latent(bs))
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(G.sample_latent(bs)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    for i in range(20):
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return (time.perf_counter() - start) / steps


def pytorch_gan_loader(root: Path):
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
    return torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True)


def time_pytorch_gan(loader, spec, steps: int) -> float:
    G, D_logits = models(spec)
    D = nn.Sequential(D_logits, nn.Sigmoid())  # PyTorch-GAN's D ends in a sigmoid, loss is BCELoss
    opt_g, opt_d = adam(G.parameters()), adam(D.parameters())
    bce = nn.BCELoss()
    done, start = -20, None
    sink = io.StringIO()
    while True:
        for imgs, _ in loader:
            if done == 0:
                start = time.perf_counter()
            if done == steps:
                return (time.perf_counter() - start) / steps
            valid = torch.ones(imgs.size(0), requires_grad=False)
            fake = torch.zeros(imgs.size(0), requires_grad=False)
            opt_g.zero_grad()
            z = torch.randn(imgs.shape[0], 100)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    root = data_dir()
    data = ganzoo.load_dataset("mnist", root)
    loader = pytorch_gan_loader(root)
    scratch = Path(tempfile.mkdtemp())
    runners = {
        "trainer": lambda: time_trainer(data, args.steps),
        "trainer+run callbacks": lambda: time_trainer(data, args.steps, scratch),
        "bare loop": lambda: time_bare(data, args.steps),
        "pytorch-gan loop": lambda: time_pytorch_gan(loader, data.spec, args.steps),
    }
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            times[name].append(run())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 64, "
          f"{args.steps} steps x {args.rounds} interleaved rounds")
    print(f"  {'':22s} {'best':>8s} {'median':>8s}  ms/step")
    for name, ts in times.items():
        print(f"  {name:22s} {min(ts) * 1e3:8.2f} {statistics.median(ts) * 1e3:8.2f}")
    for label, pick in (("best", min), ("median", statistics.median)):
        t = {name: pick(ts) for name, ts in times.items()}
        print(f"{label:>6s}: trainer overhead over bare loop {t['trainer'] / t['bare loop'] - 1:+.1%} (target <= +5%), "
              f"with run callbacks {t['trainer+run callbacks'] / t['bare loop'] - 1:+.1%}; "
              f"speed-up over pytorch-gan loop {t['pytorch-gan loop'] / t['trainer']:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
