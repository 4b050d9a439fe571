"""TensorBoard logging as a callback a recipe lists: ``--set callbacks=[tensorboard]``.

Losses, evaluations and sample grids go to ``<run>/tensorboard`` through
``torch.utils.tensorboard``; ``tensorboard --logdir runs`` then shows every run.
It needs the ``tensorboard`` package: ``pip install "ganzoo[tensorboard]"``.
Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from torch import Tensor
from torchvision.utils import make_grid

from ganzoo import GanzooError, PositiveInt, hookimpl
from ganzoo.callbacks import SampleGrid

SKIPPED = ("step", "epoch")  # the x axis, not series


class TensorBoard(SampleGrid):
    """Log losses and evaluations as scalars, and a grid of samples from fixed latents
    every ``images_every`` steps, to TensorBoard (``<run>/tensorboard``, or ``log_dir``,
    relative to the working directory)."""

    def __init__(self, log_dir: str | None = None, images_every: PositiveInt = 1000,
                 n: PositiveInt | None = None) -> None:
        if importlib.util.find_spec("tensorboard") is None:
            raise GanzooError('the tensorboard callback needs the tensorboard package: pip install "ganzoo[tensorboard]"')
        super().__init__(".", every=images_every, n=n)
        self.log_dir, self.run_dir, self.writer = log_dir, None, None

    def on_train_start(self, trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only when it is used

        folder = Path(self.log_dir) if self.log_dir else None if self.run_dir is None else self.run_dir / "tensorboard"
        if folder is None:
            raise GanzooError("the tensorboard callback has no run directory to write to (the run was built with "
                              "ganzoo.build); set its log_dir option, e.g. Component('tensorboard', log_dir='tb')")
        # A resumed run drops what the interrupted one logged after its checkpoint's step.
        self.writer = SummaryWriter(str(folder), purge_step=trainer.step + 1 if trainer.step else None)
        self.images = len(trainer.data.spec.shape) == 3
        if self.images:
            super().on_train_start(trainer)

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            if key in SKIPPED or value is None or not math.isfinite(value):
                continue
            tag = f"eval/{key[len('eval_'):]}" if key.startswith("eval_") else f"train/{key}"
            self.writer.add_scalar(tag, value, trainer.step)
        self.writer.flush()  # every log reaches the file: a killed run keeps its curves

    def on_step_end(self, trainer) -> None:
        if self.images:
            super().on_step_end(trainer)

    def on_train_end(self, trainer) -> None:
        if self.writer is None:
            return
        if self.images:
            super().on_train_end(trainer)
        self.writer.close()

    def _save(self, samples: Tensor, path: Path, trainer) -> None:
        lo, hi = trainer.data.spec.value_range
        images = ((samples.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1)
        grid = make_grid(images, nrow=self.nrow or max(1, int(len(images) ** 0.5)), padding=2, pad_value=0.5)
        self.writer.add_image("samples", grid, trainer.step)
        self.writer.flush()


@hookimpl
def register_callbacks(register):
    register("tensorboard", TensorBoard)
