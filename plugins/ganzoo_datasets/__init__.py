"""Built-in datasets for ganzoo: MNIST, Fashion-MNIST, Stacked MNIST, ring and grid.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import hookimpl

from .mixtures import grid, ring
from .mnist import fashion_mnist, mnist
from .stacked import stacked_mnist


@hookimpl
def register_datasets(register):
    register("mnist", mnist)
    register("fashion-mnist", fashion_mnist)
    register("stacked-mnist", stacked_mnist)
    register("ring", ring)
    register("grid", grid)
