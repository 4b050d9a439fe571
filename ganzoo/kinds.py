"""The kinds of things a plugin registers: the one table every other module reads.

Each kind has a ``register_<kind>`` hook in :mod:`ganzoo.hookspecs`, a name table
in the registry, a line in ``ganzoo list``, and a singular used in messages
("unknown generator 'mpl'").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of registered component."""

    name: str  # plural, as in the hook's name and in ``ganzoo list NAME``
    singular: str
    listed: bool = True  # shown by ``ganzoo list`` (commands appear in ``ganzoo --help`` instead)
    # How many leading positional arguments ganzoo passes to the factory (the data
    # spec, the data root, the parameters...); every other parameter is an option.
    inputs: int = 0

    @property
    def hook(self) -> str:
        return f"register_{self.name}"


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("generators", "generator", inputs=1),  # spec
    Kind("discriminators", "discriminator", inputs=1),  # spec
    Kind("losses", "loss"),
    Kind("datasets", "dataset", inputs=1),  # the data root
    Kind("optimizers", "optimizer", inputs=1),  # the parameters
    Kind("schedules", "schedule"),
    Kind("augmentations", "augmentation"),
    Kind("callbacks", "callback"),
    Kind("metrics", "metric"),
    Kind("references", "reference", inputs=3),  # the data root, the cache folder, the dataset
    Kind("recipes", "recipe"),
    Kind("commands", "command", listed=False),
)}


def singular(kind: str) -> str:
    """``"generators"`` → ``"generator"``; an unknown kind is returned as it is."""
    return KINDS[kind].singular if kind in KINDS else kind
