"""Everything that watches a run: progress, logs, sample grids and scatter plots, checkpoints,
parameter averages, curves, evaluation, a collapse warning.

A callback is any object with some of the trainer's event methods
(``on_train_start``, ``on_step_end``, ``on_log``, ``on_epoch_end``,
``on_train_end``); :class:`Callback` is a convenient base with no-op defaults.
A callback with ``state_dict``/``load_state_dict`` is saved in checkpoints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..trainer import Trainer


class Callback:
    """Base class with every event as a no-op.

    In a run of several processes, a callback runs on rank 0 alone, where the run's
    files are written, unless ``every_rank`` is true: set it for a callback that
    changes training (a learning-rate schedule), which every rank must do alike.
    """

    every_rank: bool = False

    def on_train_start(self, trainer: "Trainer") -> None: ...

    def on_step_end(self, trainer: "Trainer") -> None: ...

    def on_log(self, trainer: "Trainer", metrics: dict[str, float]) -> None: ...

    def on_epoch_end(self, trainer: "Trainer") -> None: ...

    def on_train_end(self, trainer: "Trainer") -> None: ...


from .checkpointing import Checkpointer  # noqa: E402
from .collapse import CollapseWatch  # noqa: E402
from .curves import LossCurves  # noqa: E402
from .ema import EMA, average_of  # noqa: E402
from .evaluate import Evaluate  # noqa: E402
from .metrics_log import MetricsLog  # noqa: E402
from .progress import Progress  # noqa: E402
from .samples import SampleGrid, save_grid  # noqa: E402
from .scatter import SampleScatter, save_scatter  # noqa: E402

__all__ = ["Callback", "Checkpointer", "CollapseWatch", "EMA", "average_of", "Evaluate", "LossCurves", "MetricsLog", "Progress",
           "SampleGrid", "SampleScatter", "save_grid", "save_scatter"]
