"""Built-in datasets for ganzoo: MNIST and Fashion-MNIST.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import hookimpl

from .mnist import fashion_mnist, mnist


@hookimpl
def register_datasets(register):
    register("mnist", mnist)
    register("fashion-mnist", fashion_mnist)
