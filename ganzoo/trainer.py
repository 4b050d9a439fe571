"""The alternating GAN protocol: the only training loop in ganzoo.

Each step trains the discriminator ``n_critic`` times (real batches should be
called real, generated ones fake, with G frozen), then the generator ``g_steps``
times (through a frozen D, so that D calls its samples real). With ``simultaneous``,
both phases compute their gradients on the same G and D and both optimizers
step afterwards, as the 2014 paper's and PacGAN's code do. What "called real"
means is the loss's business; the trainer owns the loop, the devices, the
optimizers, checkpoints and events. Logging, sampling and checkpointing are
callbacks.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch
import torch.distributed as dist
from torch import Tensor, nn

from . import checkpoint, distributed
from .components import Batch, GANLoss, generate
from .data import Data
from .errors import DataUnreadable, GanzooError, TrainingDiverged, first_line
from .options import PositiveInt, Seed, coerce

OptimizerFactory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]
"""What the trainer builds each network's optimizer with: parameters in, optimizer out."""

EVENTS = ("on_train_start", "on_step_end", "on_log", "on_epoch_end", "on_train_end")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
"""``torch.compile`` modes the trainer takes (``reduce-overhead`` captures CUDA graphs)."""

log = logging.getLogger("ganzoo")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` is CUDA when available, else CPU. ganzoo trains on the CPU and on
    CUDA devices; any other device, or one that is not here, is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise GanzooError(f"unknown device {device!r}; use cpu, cuda, cuda:N or auto") from None
    if dev.type not in ("cpu", "cuda"):
        raise GanzooError(f"device {device!r} is not one ganzoo trains on; use cpu, cuda, cuda:N or auto")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GanzooError(f"device {device!r} requested but CUDA is not available here; use --device cpu or auto")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise GanzooError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                          f"cuda:0..cuda:{torch.cuda.device_count() - 1}")
    return dev


def _adam(params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    """The default optimizer of both networks: DCGAN's Adam (lr 2e-4, β1 0.5), fused."""
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), fused=True)


def _make_optimizer(factory: OptimizerFactory, params: Iterable[nn.Parameter], which: str) -> torch.optim.Optimizer:
    if not callable(factory) or isinstance(factory, (str, dict)) or hasattr(factory, "options"):
        raise GanzooError(
            f"Trainer {which} is a callable taking parameters and returning an optimizer, e.g. "
            f"functools.partial(torch.optim.Adam, lr=2e-4), got {factory!r}; a registered optimizer by name "
            "is ganzoo.optimizer(Component(\"adam\", lr=2e-4))"
        )
    optim = factory(list(params))
    if not isinstance(optim, torch.optim.Optimizer):
        raise GanzooError(f"Trainer {which} returned {type(optim).__name__}, not a torch.optim.Optimizer")
    return optim


@torch.no_grad()
def sample(generator: nn.Module, n: int, device: torch.device | str, y: Tensor | None = None,
           batch: int = 1000) -> Tensor:
    """``n`` samples from ``generator`` in eval mode, ``batch`` at a time.

    A conditional generator draws class ``y[i]`` for sample ``i``; without ``y``
    it cycles through its classes (0, 1, …, K−1, 0, …).
    """
    n = coerce(n, PositiveInt, "the number of samples")
    batch = coerce(batch, PositiveInt, "the sampling batch size")
    y = _check_labels(generator, n, y)
    was_training = generator.training
    generator.eval()
    try:
        chunks = []
        for start in range(0, n, batch):
            size = min(batch, n - start)
            labels = None if y is None else y[start : start + size].to(device)
            chunks.append(generate(generator, size, labels, torch.device(device)))
        return torch.cat(chunks)
    finally:
        generator.train(was_training)


def _check_labels(generator: nn.Module, n: int, y: Tensor | None) -> Tensor | None:
    """The labels to sample ``n`` images with: ``None`` for an unconditional generator,
    else ``y`` checked against the generator's classes (cycling them when ``None``)."""
    if not getattr(generator, "conditional", False):
        if y is not None:
            raise GanzooError(f"generator {type(generator).__name__} is not conditional; sample it without labels")
        return None
    classes = getattr(generator, "num_classes", None)
    if y is None:
        if classes is None:
            raise GanzooError(f"generator {type(generator).__name__} is conditional; pass the labels to sample")
        return torch.arange(n) % classes
    try:
        y = torch.as_tensor(y)
    except (TypeError, ValueError, RuntimeError):
        raise GanzooError(f"labels must be integers 0..K-1, got {y!r}") from None
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise GanzooError(f"labels must be integers 0..K-1, got a tensor of {y.dtype}")
    y = y.long()
    if y.shape != (n,):
        raise GanzooError(f"{n} samples need {n} labels, got labels of shape {tuple(y.shape)}")
    if classes is not None and n and (int(y.min()) < 0 or int(y.max()) >= classes):
        bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
        raise GanzooError(f"class {bad} is outside this generator's classes 0..{classes - 1}")
    return y


def callback_key(callback: Any) -> str:
    """The key a callback's state is saved under in checkpoints: its ``state_key``
    attribute, else its class name."""
    return getattr(callback, "state_key", None) or type(callback).__name__


class Trainer:
    """Trains ``generator`` against ``discriminator`` with ``loss`` on ``data``.

    Length is ``steps`` generator updates, or ``epochs`` passes over the data when
    ``steps`` is ``None``. ``callbacks`` receive the events in :data:`EVENTS`;
    ``on_log`` gets host-side averages every ``log_every`` steps, which is the
    only time the loop waits for the device. A callback's ``state_dict()`` is saved
    under its ``state_key`` (else its class name). ``recipe`` is plain data
    (a dict) saved in checkpoints as what built the run.

    Under torchrun (a process group started, e.g. by :class:`ganzoo.Run`), the
    trainer is one rank of several: ``batch_size`` is the global batch, each rank
    trains on its slice, DDP averages the gradients, the logged losses are the
    ranks' average, every rank stops at the same step, and callbacks run on rank 0
    alone unless they set ``every_rank`` (see :mod:`ganzoo.distributed`).
    ``sync_batchnorm`` then normalises BatchNorm layers over the global batch.

    ``compile`` (one of :data:`COMPILE_MODES`) runs G and D through
    ``torch.compile`` in that mode; ``reduce-overhead`` replays each phase's
    kernels as CUDA graphs (batches have one shape). Compilation is tried on the
    first steps of both phases before training, and the state restored after;
    if it fails (no C++ compiler, an operation it cannot take), training goes on
    eagerly after one warning, and :attr:`compiled` says which happened. Each
    phase is one CUDA-graph iteration (in ``simultaneous`` mode, each step), so a
    loss must not keep a network's outputs from one phase for the next; the
    trainer marks them (``torch.compiler.cudagraph_mark_step_begin``), which
    then decides iterations for all compiled code of the process.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: GANLoss,
        data: Data,
        *,
        batch_size: int = 64,
        steps: int | None = None,
        epochs: int | None = 1,
        n_critic: int = 1,
        g_steps: int = 1,
        simultaneous: bool = False,
        g_optim: OptimizerFactory = _adam,
        d_optim: OptimizerFactory = _adam,
        device: str | torch.device = "auto",
        seed: int = 0,
        amp: bool = False,
        sync_batchnorm: bool = False,
        compile: str | None = None,
        log_every: int = 50,
        callbacks: Sequence[Any] = (),
        recipe: Mapping[str, Any] | None = None,
    ) -> None:
        for name, value in (("batch_size", batch_size), ("n_critic", n_critic), ("g_steps", g_steps),
                            ("log_every", log_every)):
            coerce(value, PositiveInt, f"Trainer {name}")
        for name, value in (("steps", steps), ("epochs", epochs)):  # either may be None: the other decides
            if value is not None:
                coerce(value, PositiveInt, f"Trainer {name}")
        if steps is None and epochs is None:
            raise GanzooError("Trainer needs a length: pass steps=N or epochs=N")
        coerce(seed, Seed, "Trainer seed")
        for name, value, kind in (("generator", generator, nn.Module), ("discriminator", discriminator, nn.Module),
                                  ("data", data, Data)):
            if not isinstance(value, kind):
                hint = " (build it with ganzoo.create, or use ganzoo.build for a recipe)" if kind is nn.Module else ""
                raise GanzooError(f"Trainer {name} must be a {kind.__name__}, got {type(value).__name__}{hint}")
        self.device = distributed.local_device(resolve_device(device))
        self.world = distributed.world()
        if batch_size % self.world.size:
            raise GanzooError(f"batch_size {batch_size} is the global batch, split evenly over the {self.world.size} "
                              f"processes; make it a multiple of {self.world.size}")
        if sync_batchnorm and self.world.size > 1:
            generator = distributed.sync_batchnorm(generator)
            discriminator = distributed.sync_batchnorm(discriminator)
        self.sync_batchnorm = sync_batchnorm
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.loss = loss
        self.data = data.to(self.device)
        if data.batches_per_epoch(batch_size) < n_critic:
            raise GanzooError(
                f"batch_size {batch_size} × n_critic {n_critic} exceeds the {len(data)} samples of the dataset"
            )
        if simultaneous and (n_critic, g_steps) != (1, 1):
            raise GanzooError(f"simultaneous updates make one D update per G update; "
                              f"set n_critic=1 and g_steps=1 (got {n_critic} and {g_steps})")
        if g_steps < 1:
            raise GanzooError(f"g_steps must be at least 1, got {g_steps}")
        if compile is not None and compile not in COMPILE_MODES:
            raise GanzooError(f"compile mode {compile!r} is not one of {', '.join(COMPILE_MODES)} "
                              "(or None: no compilation)")
        self.compile = compile
        self.batch_size, self.n_critic, self.g_steps, self.seed = batch_size, n_critic, g_steps, seed
        self.simultaneous = simultaneous
        self.steps, self.epochs = steps, epochs
        self.amp, self.log_every = amp, log_every
        self.callbacks = list(callbacks)
        self.recipe = recipe
        self.g_optim = _make_optimizer(g_optim, self.generator.parameters(), "g_optim")
        self.d_optim = _make_optimizer(d_optim, self.discriminator.parameters(), "d_optim")
        self.step = 0  # completed steps (n_critic D updates, then g_steps G updates)
        self.epoch = 0  # completed passes over the data
        self._cursor = 0  # batches drawn in the current epoch
        self._batches: Iterator[Batch] | None = None  # the data's stream from (epoch, cursor) on
        self._sums: dict[str, Tensor] = {}
        self._counts: dict[str, int] = {}
        self._log_clock = (0, time.perf_counter())
        self.interrupted = False
        self.stop_signal: int | None = None  # the signal that stopped the last fit (SIGINT, SIGTERM)
        self.diverged: str | None = None  # why the last fit stopped on non-finite values
        self.last_saved: tuple[Path, int] | None = None  # (path, step) of the newest checkpoint written
        self.last_metrics: dict[str, float] = {}
        # The networks each phase hands the loss: D's phase (G, D), then G's phase (G, D).
        # Several ranks: DDP of the network being trained, made when training starts
        # (making it is a collective every rank must reach).
        self._phases = (self.generator, self.discriminator), (self.generator, self.discriminator)
        self._latents = distributed.LatentStream(self.device) if self.world.size > 1 else None
        self._prepared = False
        self.compiled = False  # G and D run compiled (set before the first step; False after a fallback)

    # ----------------------------------------------------------------- schedule
    @property
    def batches_per_epoch(self) -> int:
        return self.data.batches_per_epoch(self.batch_size)

    @property
    def total_steps(self) -> int:
        if self.steps is not None:
            return self.steps
        return math.ceil(self.epochs * self.batches_per_epoch / self.n_critic)

    # ----------------------------------------------------------------- the loop
    def fit(self) -> "Trainer":
        """Train to ``total_steps``.

        Ctrl-C or SIGTERM stops at the end of the current step, after which
        ``on_train_end`` runs (the checkpoint callback saves), ``interrupted`` is
        true and ``stop_signal`` says which; a second one during a step aborts at
        once with ``KeyboardInterrupt``, saving nothing (one during the final
        ``on_train_end`` waits for it to finish). A loss that becomes NaN or infinite
        (seen when logs are averaged) or non-finite weights at a save stop the run
        without saving that state: ``on_train_end`` still runs, then
        :class:`~ganzoo.errors.TrainingDiverged` is raised naming the step and
        the last checkpoint written. Data that cannot be read stops the run the
        same way, after ``on_train_end`` (which saves the last finished step),
        with :class:`~ganzoo.errors.DataUnreadable`.
        """
        if not self._prepared:
            self._prepare()
        if self.step == 0:
            torch.manual_seed(self.seed + 1)  # the init stream is the recipe's seed
            if self._latents is not None:
                self._latents.state = distributed.rng_state(self.device)
        self.generator.train()
        self.discriminator.train()
        self.diverged, self.stop_signal = None, None
        unreadable: DataUnreadable | None = None
        together = False  # every rank left the loop at the same step (not on an error of its own)
        self._emit("on_train_start")
        self._log_clock = (self.step, time.perf_counter())
        agreement = distributed.Agreement() if self.world.size > 1 else None
        # Several ranks: torchrun's launcher passes a signal on to every rank, so one
        # that follows it is the same request, not a second one.
        with _signals_as_flag(repeat_aborts=self.world.size == 1) as stop:
            try:
                while self.step < self.total_steps and not self._stopping(stop, agreement):
                    finished_epochs = self._train_step()
                    self.step += 1
                    # Logs first: their losses are checked for NaN before anything
                    # (a checkpoint, an evaluation) looks at this step's state.
                    if self.step % self.log_every == 0 or self.step == self.total_steps:
                        self._flush_logs()
                    self._emit("on_step_end")
                    for _ in range(finished_epochs):
                        self._emit("on_epoch_end")
                if agreement is not None:
                    agreement.settle()
                together = True
                if self._counts:
                    self._flush_logs()
            except TrainingDiverged as exc:
                self.diverged = str(exc)
            except DataUnreadable as exc:
                # A signal sent to the whole process group (Ctrl-C aside) also ends the reading
                # processes; then the run was stopped, not failed.
                unreadable = None if stop.is_set() else exc
            finally:
                self._close_batches()
            self.interrupted = stop.is_set()
            self.stop_signal = stop.signal
            stop.finishing = True  # the final save runs to its end, whatever arrives now
            self._emit("on_train_end")
            if self.world.size > 1 and together:
                distributed.barrier()  # every rank ends after rank 0's final save
        if self.diverged is not None:
            raise TrainingDiverged(self.diverged)
        if unreadable is not None:
            raise unreadable
        return self

    def _shard(self) -> dict[str, int]:
        """This rank's share of each batch, for ``Data.batches`` (nothing on one process,
        so that a ``Data`` overriding ``batches`` without it still trains there)."""
        return {"rank": self.world.rank, "ranks": self.world.size} if self.world.size > 1 else {}

    def _first_batch(self) -> Batch:
        """This rank's next batch, drawn from a stream of its own: the run's position stays."""
        batches = self.data.batches(self.seed, self.batch_size, self.epoch, self._cursor, **self._shard())
        try:
            return next(batches)
        finally:
            if hasattr(batches, "close"):
                batches.close()

    def _prepare(self) -> None:
        """Before the first step: compile the networks if asked, and on several ranks
        wrap each phase's trained network in DDP (a collective every rank reaches).
        Both rehearse the phases on this rank's next batch."""
        if self.compile is not None or self.world.size > 1:
            self._phases = self._phase_networks(self._first_batch())
        self._prepared = True

    def _phase_networks(self, batch: Batch) -> tuple[tuple[nn.Module, nn.Module], tuple[nn.Module, nn.Module]]:
        """What each phase hands the loss, (G, D) for D's phase and for G's."""
        G, D = self.generator, self.discriminator
        if self.compile is not None:
            G, D = self._compiled(batch)
        if self.world.size == 1:
            return (G, D), (G, D)
        with distributed.errors_agreed(self.world):  # a loss's bad input: one line, from rank 0
            d_untrained, g_untrained = self._untrained(batch)
        w, latents = self.world, self._latents
        return ((distributed.Local(G, latents, w), distributed.Replica(D, self.device, None, w, d_untrained)),
                (distributed.Replica(G, self.device, latents, w, g_untrained), distributed.Local(D, None, w)))

    def _compiled(self, batch: Batch) -> tuple[nn.Module, nn.Module]:
        """G and D through ``torch.compile``, compiled now on two rounds of both phases
        (forward and backward, no update) whose effects on weights, buffers and
        random state are undone; G and D themselves if the compiler fails (on any
        rank) or the loss differentiates through gradients."""
        if getattr(self.loss, "double_backward", False):
            log.warning("ganzoo: torch.compile cannot differentiate through gradients, as this loss does (R1, a "
                        "gradient penalty); training eagerly")
            return self.generator, self.discriminator
        G, D = torch.compile(self.generator, mode=self.compile), torch.compile(self.discriminator, mode=self.compile)
        failure = self._trial(batch, G, D)
        if self.world.size > 1:
            failure = distributed.agree(failure)  # every rank compiled, or every rank trains eagerly
        if failure is None:
            self.compiled = True
            return G, D
        log.warning("ganzoo: torch.compile(mode=%r) failed (%s); training eagerly", self.compile, failure)
        return self.generator, self.discriminator

    def _trial(self, batch: Batch, G: nn.Module, D: nn.Module) -> str | None:
        """Two rounds of both phases through ``G`` and ``D`` on a copy of the loss and
        ``batch``, undone after: why they failed, or ``None``."""
        saved = copy.deepcopy((self.generator.state_dict(), self.discriminator.state_dict()))
        loss = copy.deepcopy(self.loss)
        try:
            for _ in range(2):
                self._rehearse(loss, batch, (G, D), (self.generator, self.discriminator), graphed=True)
        except (GanzooError, dist.DistError):  # bad input, or another rank ended: not the compiler's
            raise
        except Exception as exc:  # the compiler's failure, whatever its kind: eager is the fallback
            first = first_line(exc) or type(exc).__name__
            return f"{type(exc).__name__}: {first[:200]}"
        finally:
            self.generator.requires_grad_(True)
            self.discriminator.requires_grad_(True)
            self.generator.load_state_dict(saved[0])
            self.discriminator.load_state_dict(saved[1])
            self.g_optim.zero_grad(set_to_none=True)
            self.d_optim.zero_grad(set_to_none=True)
        return None

    def _untrained(self, batch: Batch) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """The parameters of D and of G that their own phase leaves without a gradient
        (the head of a D a wrapper reads only the features of): both phases on copies
        and ``batch``, changing nothing."""
        loss, G, D = copy.deepcopy((self.loss, self.generator, self.discriminator))
        self._rehearse(loss, batch, (G, D), (G, D))
        d_none = {name for name, p in D.named_parameters() if p.grad is None}
        g_none = {name for name, p in G.named_parameters() if p.grad is None}
        return ([p for name, p in self.discriminator.named_parameters() if name in d_none],
                [p for name, p in self.generator.named_parameters() if name in g_none])

    def _rehearse(self, loss: GANLoss, batch: Batch, called: tuple[nn.Module, nn.Module],
                  networks: tuple[nn.Module, nn.Module], graphed: bool = False) -> None:
        """D's phase then G's phase of ``loss`` on ``batch``, back-propagated but not
        applied, the random state left as it was: the loss gets ``called`` (G, D),
        compiled ones when ``graphed`` (each phase a CUDA-graph iteration, as in
        training); ``networks`` (G, D) are the ones frozen or trained in turn."""
        G, D = networks
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            for phase, trained in ((loss.discriminator_loss, D), (loss.generator_loss, G)):
                G.requires_grad_(trained is G)
                D.requires_grad_(trained is D)
                if graphed:
                    torch.compiler.cudagraph_mark_step_begin()
                with self._autocast():
                    value, _ = phase(batch, *called)
                # A gradient left from the last round may be a CUDA graph's output that
                # a later replay has overwritten: never add onto it.
                trained.zero_grad(set_to_none=True)
                value.backward()

    def _stopping(self, stop: "_StopFlag", agreement: distributed.Agreement | None) -> bool:
        """Whether to stop before the next step: a signal arrived. Several ranks
        stop together, one step after the first of them saw it (their agreement
        travels while a step runs)."""
        if agreement is None:
            return stop.is_set()
        signum = agreement.exchange(stop.signal or 0 if stop.is_set() else 0)
        if signum and not stop.is_set():
            stop.signal = signum
            stop.set()
        return bool(signum)

    def _diverged(self, what: str) -> TrainingDiverged:
        if self.last_saved is None:
            kept = "no checkpoint had been written yet"
        else:
            kept = f"the last checkpoint, {self.last_saved[0]} (step {self.last_saved[1]}), is finite and kept"
        return TrainingDiverged(
            f"training diverged at step {self.step}: {what}; stopped without saving that state, and {kept}. "
            "Lower the learning rates or change the seed"
        )

    def check_finite(self) -> None:
        """Raise :class:`~ganzoo.errors.TrainingDiverged` if the pending losses or the
        weights and buffers hold NaN or infinities (one device sync per tensor)."""
        bad = self._non_finite()
        if bad is not None:
            raise self._diverged(bad)

    def _non_finite(self) -> str | None:
        """What is NaN or infinite now (pending loss sums, then weights), or ``None``."""
        pending = [k for k, v in self._sums.items() if not bool(torch.isfinite(v).all())]
        if pending:
            return f"{', '.join(pending)} became NaN or infinite"
        for name, model in (("generator", self.generator), ("discriminator", self.discriminator)):
            key = checkpoint.non_finite(model.state_dict())
            if key is not None:
                return f"the {name}'s {key} became NaN or infinite"
        return None

    def _train_step(self) -> int:
        before = self.epoch
        if self.world.size > 1:  # each rank's own draws (dropout, augmentation) for this step
            torch.manual_seed(distributed.step_seed(self.seed, self.step, self.world.rank))
        batches = self._step_batches()
        if self.simultaneous:
            batch = batches[0]
            self._new_iteration()  # one for both phases: G's gradients must outlive D's phase
            self._backward_g(batch)
            self._backward_d(batch)  # on the same G: neither optimizer has stepped yet
            self._apply(self.d_optim)
            self._apply(self.g_optim)
        else:
            for batch in batches:
                self._new_iteration()
                self._backward_d(batch)
                self._apply(self.d_optim)
            for _ in range(self.g_steps):  # on the last D batch: G's phase draws its own latents
                self._new_iteration()
                self._backward_g(batch)
                self._apply(self.g_optim)
        self.generator.requires_grad_(True)
        self.discriminator.requires_grad_(True)
        if self._cursor >= self.batches_per_epoch:
            self._roll_epoch()
        return self.epoch - before

    def _new_iteration(self) -> None:
        """Compiled networks: what follows is a new CUDA-graph iteration, whose replays
        may reuse the memory of the last one's outputs. Without this, every call of a
        compiled network would start one, and D's call on the real batch would free
        the fake batch G had just made for it."""
        if self.compiled:
            torch.compiler.cudagraph_mark_step_begin()

    def _apply(self, optimizer: torch.optim.Optimizer) -> None:
        """The optimizer's step; compiled, the gradients (a CUDA graph's outputs) are
        let go at once, so that the next iteration need not keep them alive."""
        optimizer.step()
        if self.compiled:
            optimizer.zero_grad(set_to_none=True)

    def _backward_d(self, batch: Batch) -> None:
        """D's gradients from the loss's discriminator phase, with G frozen."""
        self.generator.requires_grad_(False)
        self.discriminator.requires_grad_(True)
        with self._autocast():
            d_loss, logs = self.loss.discriminator_loss(batch, *self._phases[0])
        self.d_optim.zero_grad(set_to_none=True)
        d_loss.backward()
        self._accumulate({"d_loss": d_loss, **logs})

    def _backward_g(self, batch: Batch) -> None:
        """G's gradients from the loss's generator phase, through a frozen D."""
        self.discriminator.requires_grad_(False)
        self.generator.requires_grad_(True)
        with self._autocast():
            g_loss, logs = self.loss.generator_loss(batch, *self._phases[1])
        self.g_optim.zero_grad(set_to_none=True)
        g_loss.backward()
        self._accumulate({"g_loss": g_loss, **logs})

    def _next_batch(self) -> Batch:
        if self._cursor >= self.batches_per_epoch:
            self._roll_epoch()
        if self._batches is None:
            self._batches = self.data.batches(self.seed, self.batch_size, self.epoch, self._cursor,
                                              **self._shard())
        self._cursor += 1
        return next(self._batches)

    def _step_batches(self) -> list[Batch]:
        """The batches of one step, all drawn before any update: if reading fails
        (a streamed file gone bad), the step leaves no trace and the position is
        where it was, so the state saved on the way out resumes exactly."""
        position = (self.epoch, self._cursor)
        try:
            return [self._next_batch() for _ in range(1 if self.simultaneous else self.n_critic)]
        except BaseException:
            self.epoch, self._cursor = position
            self._close_batches()
            raise

    def _close_batches(self) -> None:
        """End the data's stream (and any reading processes); the next batch starts a new one."""
        if self._batches is not None and hasattr(self._batches, "close"):
            self._batches.close()
        self._batches = None

    def _roll_epoch(self) -> None:
        self.epoch += 1
        self._cursor = 0

    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    # ----------------------------------------------------------------- logging
    def _accumulate(self, values: dict[str, Tensor]) -> None:
        for key, value in values.items():
            value = value.detach().float()
            if key in self._sums:
                self._sums[key] += value
                self._counts[key] += 1
            else:
                self._sums[key] = value.clone()
                self._counts[key] = 1

    def _flush_logs(self) -> None:
        keys = list(self._sums)
        totals = torch.stack([self._sums[k] for k in keys]) if keys else torch.zeros(0)
        if self.world.size > 1 and keys:
            totals = distributed.mean_over_ranks(totals)  # every rank logs, and judges divergence on, the same
        totals = totals.tolist()
        metrics = {k: total / self._counts[k] for k, total in zip(keys, totals)}
        last_step, last_time = self._log_clock
        now = time.perf_counter()
        done = self.step - last_step
        if done > 0:
            metrics["step_time"] = (now - last_time) / done
        metrics["step"], metrics["epoch"] = self.step, self.epoch + self._cursor / self.batches_per_epoch
        self._sums, self._counts = {}, {}
        self._log_clock = (self.step, now)
        self.last_metrics = metrics
        self._emit("on_log", metrics)
        bad = [k for k in ("d_loss", "g_loss") if k in metrics and not math.isfinite(metrics[k])]
        if bad:
            raise self._diverged(f"{' and '.join(bad)} became NaN or infinite in the {max(done, 1)} steps before it")

    def _emit(self, event: str, *args: Any) -> None:
        for callback in self.callbacks:
            if not self.world.main and not getattr(callback, "every_rank", False):
                continue  # rank 0 alone watches and writes
            handler = getattr(callback, event, None)
            if handler is not None:
                handler(self, *args)

    # ----------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(self, n: int, y: Tensor | None = None, batch: int = 1000) -> Tensor:
        """``n`` samples from the generator in eval mode (labels ``y`` if conditional),
        drawn ``batch`` at a time."""
        return sample(self.generator, n, self.device, y, batch)

    def report(self, values: dict[str, float]) -> None:
        """Log values computed outside the step (e.g. evaluation metrics) through ``on_log``."""
        self._emit("on_log", {"step": self.step, "epoch": self.epoch + self._cursor / self.batches_per_epoch, **values})

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run exactly, as plain tensors and data."""
        # Several ranks: the stream the latents come from, which is what one process's
        # stream is (each rank's own stream is reseeded every step).
        state = distributed.rng_state(self.device) if self._latents is None else self._latents.state
        rng: dict[str, Any] = {"torch": state["cpu"]}
        if self.device.type == "cuda":
            rng["cuda"] = state["cuda"]
        return {
            "format": checkpoint.FORMAT,
            "version": checkpoint.VERSION,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "g_optim": self.g_optim.state_dict(),
            "d_optim": self.d_optim.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "cursor": self._cursor,
            "rng": rng,
            "recipe": None if self.recipe is None else dict(self.recipe),
            "data_spec": self.data.spec.to_dict(),
            "world_size": self.world.size,
            "loss": self.loss.state_dict() if hasattr(self.loss, "state_dict") else None,
            "callbacks": {key: cb.state_dict() for key, cb in self._stateful_callbacks().items()},
        }

    def _stateful_callbacks(self) -> dict[str, Any]:
        """The callbacks that have state, by the key their state is saved under:
        their ``state_key`` attribute, else their class name."""
        keyed: dict[str, Any] = {}
        for cb in self.callbacks:
            if not hasattr(cb, "state_dict"):
                continue
            key = callback_key(cb)
            if key in keyed:
                raise GanzooError(f"two callbacks save their state under {key!r} ({type(keyed[key]).__name__} and "
                                  f"{type(cb).__name__}); give each a distinct state_key attribute")
            keyed[key] = cb
        return keyed

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``: the next step is the one the saved run would have taken."""
        try:
            self.generator.load_state_dict(state["generator"])
            self.discriminator.load_state_dict(state["discriminator"])
            self.g_optim.load_state_dict(state["g_optim"])
            self.d_optim.load_state_dict(state["d_optim"])
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            first = first_line(exc) or type(exc).__name__
            raise GanzooError(f"the checkpoint's weights do not fit these models: {first}") from None
        try:
            step, epoch, cursor, rng = state["step"], state["epoch"], state["cursor"], state["rng"]["torch"]
            torch.set_rng_state(rng)
            if self._latents is not None:
                self._latents.state = {"cpu": rng, "cuda": state["rng"].get("cuda")}
        except (KeyError, TypeError, RuntimeError) as exc:
            raise GanzooError(f"checkpoint lacks the position of its run ({type(exc).__name__}: {exc}); "
                              "use a checkpoint written by Trainer.save or ganzoo run") from None
        self.step, self.epoch, self._cursor = step, epoch, cursor
        self._close_batches()
        if hasattr(self.loss, "load_state_dict") and state.get("loss") is not None:
            self.loss.load_state_dict(state["loss"])
        if self.device.type == "cuda" and state["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)
        saved = state.get("callbacks", {})
        for key, cb in self._stateful_callbacks().items():
            # Checkpoints of earlier versions keyed callback state by class name.
            for old in (key, type(cb).__name__):
                if hasattr(cb, "load_state_dict") and old in saved:
                    cb.load_state_dict(saved[old])
                    break

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically (temporary file, then rename). A state with
        NaN or infinite weights or pending losses is never written: it raises
        :class:`~ganzoo.errors.TrainingDiverged` and the file on disk stays as it was."""
        self.check_finite()
        path = checkpoint.save(self.state_dict(), path)
        if self.last_saved is None or self.step > self.last_saved[1]:
            self.last_saved = (path, self.step)
        return path

    def resume(self, path: str | Path) -> None:
        """Load a checkpoint written by :meth:`save` (``weights_only``, never unpickling code)."""
        self.load_state_dict(checkpoint.load(path))
        self.last_saved = (Path(path), self.step)


class _StopFlag(threading.Event):
    """Set by the first SIGINT or SIGTERM; ``signal`` records which. While
    ``finishing`` (the end of training: the final checkpoint), further signals wait."""

    signal: int | None = None
    finishing: bool = False


@contextlib.contextmanager
def _signals_as_flag(repeat_aborts: bool = True):
    """Turn the first Ctrl-C or SIGTERM (what ``timeout``, batch schedulers, ``docker
    stop`` and systemd send) into a flag the loop checks between steps; a second one
    raises KeyboardInterrupt if ``repeat_aborts``. Only possible in the main thread."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.finishing or (flag.is_set() and not repeat_aborts):
            return
        if flag.is_set():
            raise KeyboardInterrupt
        flag.signal = signum
        flag.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
