"""Training on several processes: torch.distributed's process group, DDP of the
network being trained, and what the processes (ranks) must agree on.

A run on N processes is launched by torchrun (``torchrun --nproc-per-node N -m
ganzoo run …``, or ``ganzoo run … --nproc N``, which runs torchrun's launcher in
the same process). :func:`join` reads torchrun's environment and starts the
process group: gloo on the CPU, NCCL on CUDA (each rank on ``cuda:LOCAL_RANK``),
plus a gloo group on the CPU for the small agreements below, which must not wait
for the GPU.

What a run on N ranks is, so that it equals the same run on one process:

- ``batch_size`` is the global batch: batch ``i`` of an epoch is the same rows of
  the same permutation as on one process, and rank ``r`` takes the ``r``-th of N
  equal slices of it (:meth:`~ganzoo.data.Data.batches`). The learning rate
  needs no change.
- G's latents for a batch are drawn whole, from a stream every rank keeps alike
  (seeded as the one-process run's), and each rank keeps its slice
  (:class:`LatentStream`). Every other random draw (dropout, augmentation, the
  interpolation of a gradient penalty) comes from the rank's own stream, seeded
  from (seed, step, rank) at every step (:func:`step_seed`), so the ranks draw
  independently and a checkpoint needs no rank's stream to resume exactly.
- Gradients are averaged by ``DistributedDataParallel``, which wraps only the
  network being trained in a phase (:class:`Replica`); the frozen one is called
  as itself (:class:`Local`), so D's phase never waits for G's gradients nor G's
  phase for D's.
- BatchNorm normalises each rank's slice unless ``sync_batchnorm`` converts it
  to ``SyncBatchNorm``, which normalises the global batch.

Rank 0 alone writes; the ranks agree after every step on whether to stop (a
signal reaches each at its own moment) and average their logged losses.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass
from typing import Any, Collection, Sequence

import torch
import torch.distributed as dist
import torch.distributed.run as torchrun
from torch import Tensor, nn
from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.launcher.api import elastic_launch
from torch.nn.parallel import DistributedDataParallel

from .errors import GanzooError, RanksAgree

TIMEOUT = datetime.timedelta(minutes=30)  # a rank may wait this long for rank 0's evaluation or save


@dataclass(frozen=True)
class World:
    """This process's place among the ranks of a run: ``rank`` of ``size``."""

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes the run's files and prints (rank 0)."""
        return self.rank == 0


_control: Any = None  # the gloo group for agreements (the default group when that is gloo)


def launched() -> bool:
    """Whether torchrun started this process as one rank of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def world() -> World:
    """The current world: the process group's when one is started, else one process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def launched_as() -> World:
    """The place torchrun gave this process (whether or not its group is started yet)."""
    if not launched():
        return World()
    return World(int(os.environ.get("RANK", "0")), int(os.environ["WORLD_SIZE"]))


def local_device(device: torch.device) -> torch.device:
    """The device of this rank: ``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun
    (``cuda:0`` where each rank sees one GPU of its own, as schedulers arrange)."""
    if device.type != "cuda" or not launched():
        return device
    local, visible = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
    here = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if device.index is None:
        # Decided alike on every rank of the machine, so that all of them fail together.
        if here > visible or (local >= visible and visible != 1):
            raise GanzooError(f"{max(here, local + 1)} ranks on this machine need a GPU each, and {visible} "
                              f"{'is' if visible == 1 else 'are'} visible; start at most one process per GPU")
        return torch.device("cuda", local if local < visible else 0)
    if device.index != local and here > 1:
        raise GanzooError(f"--device {device} puts every rank of this machine on one GPU; pass --device cuda "
                          "and each rank takes its own (cuda:LOCAL_RANK)")
    return device


def join(device: torch.device) -> World:
    """Start the process group torchrun's environment describes (once per process),
    with the backend that suits ``device``; one process needs none."""
    global _control
    if not launched() or dist.is_initialized():
        return world()
    if not dist.is_available():
        raise GanzooError("this PyTorch build has no torch.distributed; run on one process (without torchrun)")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", timeout=TIMEOUT, device_id=device)
        _control = dist.new_group(backend="gloo", timeout=TIMEOUT)
    else:
        dist.init_process_group("gloo", timeout=TIMEOUT)
        _control = None
    return world()


def leave() -> None:
    """End the process group, if one was started."""
    global _control
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _control = None


class Agreement:
    """The largest of every rank's flag (e.g. a signal number, 0 for none), learned
    one exchange late so that no step waits for it: each :meth:`exchange` hands in
    this rank's flag and returns what every rank handed in at the exchange
    before (0 at the first). Every rank must exchange equally often."""

    def __init__(self) -> None:
        self._pending: tuple[Any, Tensor] | None = None

    def exchange(self, flag: int) -> int:
        agreed = self.settle()
        value = torch.tensor([flag], dtype=torch.int64)
        self._pending = dist.all_reduce(value, op=dist.ReduceOp.MAX, group=_control, async_op=True), value
        return agreed

    def settle(self) -> int:
        """Wait for the exchange under way and return its result (0 if none)."""
        if self._pending is None:
            return 0
        work, value = self._pending
        self._pending = None
        work.wait()
        return int(value.item())


def mean_over_ranks(values: Tensor) -> Tensor:
    """``values`` averaged over the ranks (every rank gets the average)."""
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / dist.get_world_size()


def barrier() -> None:
    """Wait until every rank is here."""
    dist.barrier(group=_control)


def agree(error: str | None) -> str | None:
    """Every rank's ``error`` (``None``: none) made one: ``None`` if no rank failed;
    the message itself if every failing rank says the same; else the first failing
    rank's, naming it."""
    errors: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(errors, error, group=_control)
    failed = [(rank, e) for rank, e in enumerate(errors) if e is not None]
    if not failed:
        return None
    if len({e for _, e in failed}) == 1 and len(failed) == len(errors):
        return failed[0][1]
    rank, message = failed[0]
    return f"rank {rank}: {message}"


@contextlib.contextmanager
def errors_agreed(w: World):
    """Around work every rank does alike (checking input, building the run): a
    :class:`GanzooError` raised inside on any rank becomes :class:`RanksAgree`,
    raised by every rank with one message (see :func:`agree`), which rank 0 says."""
    if w.size == 1:
        yield
        return
    try:
        yield
    except GanzooError as exc:
        raise RanksAgree(agree(str(exc))) from None
    problem = agree(None)
    if problem is not None:
        raise RanksAgree(problem)


def record_failure(message: str, status: int, said: bool) -> None:
    """Leave why this rank stops where torchrun's launcher reads it (its error file):
    the line, the exit status it means to end with, and whether it printed the line.
    The launcher may kill a rank still exiting once another has ended, so its exit
    status alone cannot tell."""
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if path:
        extra = {"py_callstack": "", "timestamp": str(int(time.time())), "ganzoo": {"status": status, "said": said}}
        with open(path, "w") as file:
            json.dump({"message": {"message": message, "extraInfo": extra}}, file)


def _recorded(failure: Any) -> dict | None:
    """What :func:`record_failure` left for a failed rank, if anything."""
    message = failure.error_file_data.get("message")
    return message.get("extraInfo", {}).get("ganzoo") if isinstance(message, dict) else None


def peer_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective failing because another rank ended (that rank
    reports its own error)."""
    return isinstance(exc, dist.DistError) or (
        isinstance(exc, RuntimeError) and any(s in str(exc) for s in ("Connection closed by peer", "Connection reset",
                                                                      "[gloo]", "NCCL")))


def step_seed(seed: int, step: int, rank: int) -> int:
    """The seed of rank ``rank``'s own random stream for step ``step``."""
    digest = hashlib.sha256(f"ganzoo/{seed}/{step}/{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def rng_state(device: torch.device) -> dict[str, Tensor | None]:
    """The random state ``device``'s draws come from (the CPU's, and the CUDA device's)."""
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def set_rng_state(state: dict[str, Tensor | None], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"], device)


class LatentStream:
    """The random stream G's latents are drawn from on every rank alike."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.state = rng_state(device)

    def draw(self, generator: nn.Module, n: int, device: torch.device, w: World) -> Tensor:
        """Rank ``w.rank``'s ``n`` rows of ``n · w.size`` latents drawn from this stream."""
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            set_rng_state(self.state, self.device)
            z = generator.sample_latent(n * w.size, device)
            self.state = rng_state(self.device)
        return z[w.rank * n : (w.rank + 1) * n]


class _AsTheNetwork:
    """What a loss sees of a wrapped network (``module``): its attributes
    (``latent_dim``, ``conditional``, ``features`` …), and a generator's latents
    drawn as :class:`LatentStream` says."""

    _latents: LatentStream | None
    _world: World

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor:
        return self._latents.draw(self.module, n, torch.device(device or self._latents.device), self._world)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)


class Local(_AsTheNetwork, nn.Module):
    """A frozen network in a phase of several ranks, called as itself: it has no
    gradients to synchronise."""

    def __init__(self, module: nn.Module, latents: LatentStream | None, w: World) -> None:
        super().__init__()
        self.module = module
        self._latents, self._world = latents, w

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)


class Replica(_AsTheNetwork, DistributedDataParallel):
    """DDP of the network being trained in a phase: its gradients are averaged over
    the ranks in backward."""

    def __init__(self, module: nn.Module, device: torch.device, latents: LatentStream | None, w: World,
                 untrained: Collection[nn.Parameter] = ()) -> None:
        # DDP waits in every backward for the parameters that want a gradient when it
        # is made; those the phase never reaches (``untrained``: the head of a D that a
        # wrapper reads only the features of) must not be among them.
        ids = {id(p) for p in untrained}
        skipped = [p for p in module.parameters() if id(p) in ids and p.requires_grad]
        for p in skipped:
            p.requires_grad_(False)
        try:
            super().__init__(module, device_ids=[device] if device.type == "cuda" else None,
                             forward_sync_buffers=False, gradient_as_bucket_view=True)
        finally:
            for p in skipped:
                p.requires_grad_(True)
        self._latents, self._world = latents, w


def sync_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every BatchNorm layer a :class:`SyncedBatchNorm`, normalising
    over all ranks' samples (the same parameters and buffers, so checkpoints are alike)."""
    module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    for layer in module.modules():
        if type(layer) is nn.SyncBatchNorm:
            layer.__class__ = SyncedBatchNorm
    return module


class _SumOverRanks(torch.autograd.Function):
    """The sum of a tensor over the ranks, differentiable: the gradient of each
    rank's input is the sum of every rank's output gradient."""

    @staticmethod
    def forward(ctx: Any, tensor: Tensor, group: Any) -> Tensor:
        ctx.group = group
        total = tensor.clone()
        dist.all_reduce(total, group=group)
        return total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return _SumOverRanks.apply(grad, ctx.group), None  # its own adjoint: gradients of gradients too


class SyncedBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over every rank's samples: the batch's mean and variance are those
    of the ranks' samples together, as one process with the global batch computes
    them, and gradients flow through both sums, to any order. Not torch's
    ``SyncBatchNorm``, which refuses the CPU and whose backward cannot itself be
    differentiated (R1 and gradient penalties through D's BatchNorm need that).
    It computes in float32, as BatchNorm does under autocast."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2-d input (got {input.dim()}-d)")

    def forward(self, input: Tensor) -> Tensor:
        if not (self.training and dist.is_initialized()):
            return super().forward(input)
        group = dist.group.WORLD
        self._check_input_dim(input)
        input = input.float()
        dims = [0, *range(2, input.dim())]
        shape = [1, -1] + [1] * (input.dim() - 2)
        count = torch.full((1,), input.numel() / input.shape[1], dtype=input.dtype, device=input.device)
        sums = _SumOverRanks.apply(torch.cat([input.sum(dims), count]), group)
        n, mean = sums[-1], sums[:-1] / sums[-1]
        centred = input - mean.view(shape)
        var = _SumOverRanks.apply((centred * centred).sum(dims), group) / n
        if self.track_running_stats and self.running_mean is not None:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                rate = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean, rate)
                self.running_var.lerp_(var * n / (n - 1), rate)  # the unbiased variance, as BatchNorm keeps
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out


# Exit statuses with which a rank has already said why it stopped (bad input, a bug,
# divergence, a signal) without recording it; any other failure the launcher reports itself.
REPORTED = {1, 2, 3, 130, 143}
EXIT_PEER_LOST = 4  # a rank stopped because a collective failed: another rank ended, or a timeout


def launch(nproc: int, argv: Sequence[str]) -> tuple[int, str | None]:
    """``python -m ganzoo ARGV`` as ``nproc`` ranks on this machine, through
    torchrun's launcher (``torch.distributed.run``, run in this process): the
    exit status of the job, and a line to print when no rank said why it failed.

    Each rank gets ``OMP_NUM_THREADS`` = cores / ``nproc`` unless it is set. A
    signal to this process reaches every rank, which save and stop together; they
    have 120 seconds to do so before they are killed."""
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    for name in list(logging.root.manager.loggerDict):  # torchrun's modules each set their own level
        if name.startswith(("torch.distributed.elastic", "torch.distributed.run", "torch.distributed.launcher")):
            logging.getLogger(name).setLevel(logging.CRITICAL)  # ganzoo's ranks say what happened
    # torchrun's own steps (torch.distributed.run.run), with ganzoo's arguments kept
    # out of its parser.
    config, command, command_args = torchrun.config_from_args(torchrun.parse_args([
        "--nnodes=1", f"--nproc-per-node={nproc}", "--rdzv-backend=c10d", "--rdzv-endpoint=localhost:0",
        f"--rdzv-id={uuid.uuid4()}", "--max-restarts=0", "--shutdown-timeout=120", "-m", "ganzoo"]))
    try:
        elastic_launch(config, command)(*command_args, *argv)
    except SignalException as exc:
        return 128 + int(exc.sigval), None
    except ChildFailedError as exc:
        failures = sorted(exc.failures.items())
        said = [record["status"] for _, f in failures if (record := _recorded(f)) and record["said"]]
        if said:  # a rank said why: the job ends with its status (the others stopped because it did)
            return said[0], None
        reported = [f.exitcode for _, f in failures if f.exitcode in REPORTED]
        if reported:
            return reported[0], None
        killed = [(rank, f) for rank, f in failures if f.exitcode < 0 and _recorded(f) is None]
        if killed:  # out of memory, killed from outside: no rank could say
            rank, failure = min(killed, key=lambda item: (item[1].timestamp, item[0]))
            return 1, (f"rank {rank} was killed by signal {signal.Signals(-failure.exitcode).name}; "
                       "the other ranks were stopped")
        rank, failure = min(failures, key=lambda item: (item[1].timestamp, item[0]))
        return 1, f"rank {rank} stopped: {failure.message}"
    return 0, None
