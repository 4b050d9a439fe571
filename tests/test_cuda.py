"""The CUDA paths: training, bf16 autocast, CUDA graphs through ``reduce-overhead``,
exact resume with the CUDA generator's state, synced BatchNorm over NCCL, and
ranks that cannot each have a GPU. They run where a GPU is (``benchmarks/gpu_checks.sh``
runs this file first) and are skipped elsewhere; their CPU counterparts are in
``test_trainer.py`` and ``test_distributed.py``."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
import torch

import ganzoo
from ganzoo import Component, TensorData, Trainer
from ganzoo.callbacks import Callback
from test_distributed import synced_batchnorm_matches_batchnorm

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class _Losses(Callback):
    def __init__(self):
        self.seen = []

    def on_log(self, trainer, metrics):
        self.seen.append((metrics["d_loss"], metrics["g_loss"]))


def _trainer(data: TensorData, steps: int, generator="mlp", discriminator="mlp", **kwargs) -> Trainer:
    torch.manual_seed(0)
    if generator == "mlp":
        G = ganzoo.create("generators", Component("mlp", latent_dim=32, hidden=(64, 128)), data.spec)
        D = ganzoo.create("discriminators", Component("mlp", hidden=(128, 64)), data.spec)
    else:
        G = ganzoo.create("generators", Component(generator), data.spec)
        D = ganzoo.create("discriminators", Component(discriminator), data.spec)
    kwargs.setdefault("log_every", 1)
    return Trainer(G, D, ganzoo.create("losses", "non-saturating"), data, batch_size=32, steps=steps,
                   device="cuda", **kwargs)


def test_a_cuda_run_resumes_exactly(small_mnist, tmp_path):
    straight = _trainer(small_mnist, 30).fit()  # crosses the epoch boundary at 20
    first = _trainer(small_mnist, 13).fit()
    first.save(tmp_path / "half.pt")
    resumed = _trainer(small_mnist, 30)
    resumed.resume(tmp_path / "half.pt")
    resumed.fit()
    assert next(straight.generator.parameters()).is_cuda
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(straight.discriminator.state_dict().values(), resumed.discriminator.state_dict().values()):
        assert torch.equal(a, b)


def test_amp_on_cuda_trains_float32_weights_close_to_the_float32_run(small_mnist):
    runs = {}
    for amp in (False, True):
        losses = _Losses()
        trainer = _trainer(small_mnist, 6, amp=amp, callbacks=[losses])
        trainer.fit()
        runs[amp] = losses.seen
        assert all(p.dtype == torch.float32 for p in trainer.generator.parameters())
    assert all(math.isfinite(v) for step in runs[True] for v in step)
    # bf16 keeps 8 bits of mantissa: the losses of 6 steps agree to about 1e-2.
    assert max(abs(a - b) for x, y in zip(runs[False], runs[True]) for a, b in zip(x, y)) < 5e-2


@pytest.mark.parametrize("generator, discriminator, schedule", [
    ("mlp", "mlp", {}), ("dcgan", "dcgan", {}), ("mlp", "mlp", {"simultaneous": True}),
    ("mlp", "mlp", {"n_critic": 2, "g_steps": 2}),
])
def test_cuda_graphs_train_as_eager_does(small_mnist, caplog, generator, discriminator, schedule):
    """``reduce-overhead`` replays G and D as CUDA graphs, each phase one iteration
    (in ``simultaneous`` mode each step: G's gradients outlive D's phase); DCGAN's
    D, with BatchNorm, is called twice in D's phase, after G made the fake batch.
    The steps equal the eager ones up to rounding, which 8 steps of a GAN amplify
    (DCGAN compiled on the CPU: losses 6e-4 apart, G's weights 1.5% of their
    movement); a replay that overwrote an output still in use would be far off.
    Plain SGD: Adam's first steps move a weight by ±lr whatever the size of its
    gradient, so a bias that BatchNorm cancels (gradient ~0, its sign rounding)
    steps apart by 2·lr between two equally right runs."""
    from torch._dynamo.utils import counters  # here: loading dynamo is for where the test runs, not CPU CI

    counters.clear()
    runs = {}
    for mode in (None, "reduce-overhead"):
        losses = _Losses()
        sgd = ganzoo.optimizer(Component("sgd", lr=1e-3))
        trainer = _trainer(small_mnist, 8, generator, discriminator, compile=mode, callbacks=[losses],
                           g_optim=sgd, d_optim=sgd, **schedule)
        start = torch.cat([p.detach().flatten() for p in trainer.generator.parameters()]).clone()
        trainer.fit()
        assert trainer.compiled is (mode is not None)
        runs[mode] = (losses.seen, torch.cat([p.detach().flatten() for p in trainer.generator.parameters()]))
    assert not [r for r in caplog.records if "torch.compile" in r.getMessage()]  # it compiled: no fallback
    assert not counters["inductor"]["cudagraph_skips"]  # and replayed CUDA graphs, not compiled kernels alone
    (eager, eager_weights), (graphed, graphed_weights) = runs[None], runs["reduce-overhead"]
    assert len(eager) == len(graphed) == 8
    assert max(abs(a - b) for x, y in zip(eager, graphed) for a, b in zip(x, y)) < 5e-3
    moved = float((eager_weights - start).norm())
    assert moved > 0 and float((graphed_weights - eager_weights).norm()) < 0.1 * moved


def test_synced_batchnorm_on_cuda_is_batchnorm_to_second_order(tmp_path):
    """ganzoo's SyncedBatchNorm over NCCL on CUDA tensors, through R1's gradient of
    a gradient (a one-rank group, which one GPU allows)."""
    synced_batchnorm_matches_batchnorm("cuda", "nccl", tmp_path / "store")


def test_two_ranks_on_one_visible_gpu_say_so_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "ganzoo",
         "run", "vanilla-mnist", "--device", "cuda", "--out", str(tmp_path / "run"), "--set", "steps=2"],
        capture_output=True, text=True, timeout=240, env={**os.environ, "CUDA_VISIBLE_DEVICES": "0"})
    assert result.returncode != 0
    assert result.stderr.count("2 ranks on this machine need a GPU each, and 1 is visible") == 1, result.stderr
    assert "Duplicate GPU" not in result.stderr and not (tmp_path / "run").exists()
