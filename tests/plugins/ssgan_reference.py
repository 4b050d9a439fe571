"""An independent port of the reference semi-supervised GAN to plain PyTorch: the
oracle the semi-supervised plugin's step is tested against, and the ``port`` run
of ``benchmarks/semi_supervised.py``.

openai/improved-gan's ``train_mnist_feature_matching.py`` (Theano/Lasagne)
rewritten line for line, sharing nothing with ganzoo's trainer, models or
losses: it takes only the MNIST arrays and the choice of the 100 labels from
ganzoo, so that it trains on the same images and labels as ``ssgan-mnist-100``.
It exists to tell what belongs to ganzoo from what belongs to the method: a
behaviour that this port shows too (the sigmoid generator's collapse, the
plateau of the test error) is not a ganzoo bug.

Reference details kept: weight-normalised dense layers with θ ~ N(0, 0.1),
fixed scales except the last layer's, data-dependent initialisation on 500
training images with the noise on; G's BatchNorm without a scale (ε 1e-6 in the
square root) and a weight-normalised output with a learned scale; a second,
independent permutation of the unlabelled images for feature matching; the
average of D's weights starting from zero. Adam is torch's, or with
``adam="reference"`` the reference's ``nn.adam_updates``, which adds its ε (1e-8)
inside the square root: a weight whose gradients are small (√v̂ ≲ 1e-4) moves
less than under torch's Adam, which normalises every step to about ``lr``.

Two versions of the script (``version``): ``0fa06b5`` (the repository's latest,
2016-06-14: Adam 3e-3 throughout, test error of the average of D's weights, G's
output weight-normalised with a learned scale starting at 1) and ``2b81a18``
(2016-06-09, the day before the paper appeared: Adam 1e-3, decayed linearly to
0 over epochs 201-301, test error of D itself, G's output weight-normalised with
a data-dependent initialisation on its first batch). The average is tracked in
both, and both test errors are reported.

With ``checkpoint``, the state after every epoch is written there (through
ganzoo's atomic checkpoint writer, the one piece of ganzoo the port uses beyond
the data) and a later call with the same path continues from it.

    python benchmarks/semi_supervised.py --runs ssgan,port --seeds 1 --epochs 15 --output sigmoid
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.checkpoint import save


class Dense(nn.Module):
    """``nn.DenseLayer`` of the reference: x · (θ · s / ‖θ‖) + b, θ of shape (in, out)."""

    def __init__(self, fan_in: int, fan_out: int, train_scale: bool = False) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.randn(fan_in, fan_out) * 0.1)
        self.b = nn.Parameter(torch.zeros(fan_out))
        if train_scale:
            self.scale = nn.Parameter(torch.ones(fan_out))
        else:
            self.register_buffer("scale", torch.ones(fan_out))

    def forward(self, x: Tensor, init: bool = False) -> Tensor:
        a = x @ (self.theta * (self.scale / self.theta.square().sum(0).sqrt()))
        if not init:
            return a + self.b
        mean = a.mean(0)
        std = (a - mean).square().mean(0).sqrt()
        with torch.no_grad():
            self.scale.div_(std)
            self.b.copy_(-mean / std)
        return (a - mean) / std


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        widths = (784, 1000, 500, 250, 250, 250)
        self.hidden = nn.ModuleList(Dense(a, b) for a, b in zip(widths, widths[1:]))
        self.out = Dense(250, 10, train_scale=True)

    def forward(self, x: Tensor, noise: bool = True, init: bool = False, features: bool = False) -> Tensor:
        def noisy(h: Tensor, sigma: float) -> Tensor:
            return h + sigma * torch.randn_like(h) if noise else h

        h = noisy(x, 0.3)
        for i, layer in enumerate(self.hidden):
            h = F.relu(layer(h, init))
            if features and i == len(self.hidden) - 1:
                return h
            h = noisy(h, 0.5)
        return self.out(h, init)


VERSIONS = {
    # learning rate at (0-based) epoch e; how G's output layer is normalised.
    "0fa06b5": {"lr": lambda e: 3e-3, "output_init": False},
    "2b81a18": {"lr": lambda e: 1e-3 * min(3.0 - e / 100.0, 1.0), "output_init": True},
}


class Generator(nn.Module):
    def __init__(self, output: str, output_init: bool = False) -> None:
        super().__init__()
        self.output_init = output_init
        self.w1 = nn.Parameter(nn.init.xavier_uniform_(torch.empty(100, 500)))
        self.b1 = nn.Parameter(torch.zeros(500))
        self.w2 = nn.Parameter(nn.init.xavier_uniform_(torch.empty(500, 500)))
        self.b2 = nn.Parameter(torch.zeros(500))
        self.w3 = nn.Parameter(nn.init.xavier_uniform_(torch.empty(500, 784)))
        self.s3 = nn.Parameter(torch.ones(784))
        self.b3 = nn.Parameter(torch.zeros(784))
        self.output = {"sigmoid": torch.sigmoid, "softplus": F.softplus}[output]

    @staticmethod
    def _normalise(a: Tensor) -> Tensor:
        centred = a - a.mean(0)
        return centred / (1e-6 + centred.square().mean(0)).sqrt()

    def forward(self, n: int, init: bool = False) -> Tensor:
        z = torch.rand(n, 100, device=self.w1.device)
        h = F.softplus(self._normalise(z @ self.w1) + self.b1)
        h = F.softplus(self._normalise(h @ self.w2) + self.b2)
        if not self.output_init:  # nn.l2normalize
            w3 = self.w3 * (self.s3 / (1e-6 + self.w3.square().sum(0)).sqrt())
            return self.output(h @ w3 + self.b3)
        # nn.weight_norm(train_g=True) of 2b81a18: on init, centre each unit and
        # divide all by one standard deviation (a scalar over units and batch).
        a = h @ (self.w3 * (self.s3 / self.w3.square().sum(0).sqrt()))
        if init:
            mean = a.mean(0)
            std = (a - mean).square().mean().sqrt()
            with torch.no_grad():
                self.b3.copy_(-mean / std)
                self.s3.div_(std)
        return self.output(a + self.b3)


class ReferenceAdam(torch.optim.Optimizer):
    """``nn.adam_updates``: m̂ / √(v̂ + ε) with bias correction, ε = 1e-8."""

    def __init__(self, params, lr: float, betas: tuple[float, float]) -> None:
        super().__init__(params, {"lr": lr, "betas": betas})

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["t"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state["t"] += 1
                state["m"].lerp_(p.grad, 1 - beta1)
                state["v"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = state["m"] / (1 - beta1 ** state["t"])
                v_hat = state["v"] / (1 - beta2 ** state["t"])
                p.sub_(group["lr"] * m_hat / (v_hat + 1e-8).sqrt())


def _wrong(d: nn.Module, x: Tensor, y: Tensor) -> int:
    with torch.no_grad():
        return sum(int((d(x[i:i + 1000], noise=False).argmax(1) != y[i:i + 1000]).sum())
                   for i in range(0, len(x), 1000))


def step(generator: nn.Module, discriminator: nn.Module, d_optim: torch.optim.Optimizer,
         g_optim: torch.optim.Optimizer, unl: Tensor, lab: Tensor, y_lab: Tensor, unl2: Tensor,
         noise: bool = True) -> tuple[Tensor, Tensor]:
    """The reference's training step: D on the unlabelled ``unl``, generated and labelled
    samples, then G's feature matching against ``unl2``; returns G's loss and D(G(z))."""
    lse_unl = torch.logsumexp(discriminator(unl, noise=noise), 1)
    lse_fake = torch.logsumexp(discriminator(generator(len(unl)).detach(), noise=noise), 1)
    loss_lab = F.cross_entropy(discriminator(lab, noise=noise), y_lab)
    loss_unl = -0.5 * lse_unl.mean() + 0.5 * F.softplus(lse_unl).mean() + 0.5 * F.softplus(lse_fake).mean()
    d_optim.zero_grad()
    (loss_lab + loss_unl).backward()
    d_optim.step()
    real = discriminator(unl2, noise=noise, features=True).mean(0)
    loss_gen = (discriminator(generator(len(unl)), noise=noise, features=True).mean(0) - real).square().mean()
    g_optim.zero_grad()
    loss_gen.backward()
    g_optim.step()
    return loss_gen.detach(), torch.sigmoid(lse_fake).mean().detach()


def train(x: Tensor, labelled: Tensor, y: Tensor, test_x: Tensor, test_y: Tensor, *, seed: int, epochs: int,
          output: str = "sigmoid", ema: float = 1e-4, device: str = "cpu", version: str = "0fa06b5",
          adam: str = "torch", checkpoint: Path | None = None,
          on_epoch: Callable[[dict], None] = lambda row: None) -> list[dict]:
    """Train the port on ``x`` (N, 784) in [0, 1] whose labels ``y`` are used only at
    the indices ``labelled``; after each epoch, the test errors of D and of the
    average of its weights, G's feature-matching loss and D(G(z)) (epoch means)."""
    torch.manual_seed(seed)
    settings = VERSIONS[version]
    generator = Generator(output, settings["output_init"]).to(device)
    discriminator = Discriminator().to(device)
    x, y, test_x, test_y = x.to(device), y.to(device), test_x.to(device), test_y.to(device)
    with torch.no_grad():
        discriminator(x[torch.randperm(len(x))[:500].to(device)], init=True)
        if settings["output_init"]:
            generator(100, init=True)
    average = [torch.zeros_like(p) for p in discriminator.parameters()]
    optimiser = {"torch": torch.optim.Adam, "reference": ReferenceAdam}[adam]
    d_optim = optimiser(discriminator.parameters(), lr=settings["lr"](0), betas=(0.5, 0.999))
    g_optim = optimiser(generator.parameters(), lr=settings["lr"](0), betas=(0.5, 0.999))
    x_lab, y_lab = x[labelled.to(device)], y[labelled.to(device)]
    steps, batch = len(x) // 100, 100
    started, curve, first = time.perf_counter(), [], 1
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        if (state["version"], state["output"], state["seed"], state["adam"]) != (version, output, seed, adam):
            raise SystemExit(f"{checkpoint} holds version {state['version']}, output {state['output']}, "
                             f"seed {state['seed']}, Adam {state['adam']}: delete it or choose another --out")
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
        g_optim.load_state_dict(state["g_optim"])
        d_optim.load_state_dict(state["d_optim"])
        for a, saved in zip(average, state["average"]):
            a.copy_(saved)
        torch.set_rng_state(state["rng"])
        curve, first = state["curve"], len(state["curve"]) + 1
        print(f"continuing from {checkpoint} after epoch {first - 1}", flush=True)
        started -= curve[-1]["seconds"] if curve else 0.0
    for epoch in range(first, epochs + 1):
        for optim in (d_optim, g_optim):
            for group in optim.param_groups:
                group["lr"] = settings["lr"](epoch - 1)
        lab = torch.cat([torch.randperm(len(labelled)) for _ in range(-(-steps * batch // len(labelled)))]).to(device)
        unl, unl2 = torch.randperm(len(x)).to(device), torch.randperm(len(x)).to(device)
        g_sum = fake_sum = 0.0
        for t in range(steps):
            rows = slice(t * batch, (t + 1) * batch)
            loss_gen, d_fake = step(generator, discriminator, d_optim, g_optim, x[unl[rows]], x_lab[lab[rows]],
                                    y_lab[lab[rows]], x[unl2[rows]])
            with torch.no_grad():  # G's step leaves D as its own step left it
                for a, p in zip(average, discriminator.parameters()):
                    a.lerp_(p, ema)
            g_sum += loss_gen.item()
            fake_sum += d_fake.item()
        live = _wrong(discriminator, test_x, test_y)
        saved = [p.detach().clone() for p in discriminator.parameters()]
        with torch.no_grad():
            for p, a in zip(discriminator.parameters(), average):
                p.copy_(a)
        averaged = _wrong(discriminator, test_x, test_y)
        with torch.no_grad():
            for p, s in zip(discriminator.parameters(), saved):
                p.copy_(s)
        row = {"epoch": epoch, "wrong": live, "wrong_ema": averaged, "g_loss": g_sum / steps,
               "d_fake": fake_sum / steps, "seconds": time.perf_counter() - started}
        curve.append(row)
        if checkpoint is not None:
            save({"version": version, "output": output, "seed": seed, "adam": adam, "curve": curve,
                  "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
                  "g_optim": g_optim.state_dict(), "d_optim": d_optim.state_dict(),
                  "average": average, "rng": torch.get_rng_state()}, checkpoint)
        on_epoch(row)
    return curve

