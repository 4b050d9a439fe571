"""Image datasets beyond MNIST: a folder of your own images, and CIFAR-10.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import hookimpl

from .cifar import cifar10
from .folder import image_folder


@hookimpl
def register_datasets(register):
    register("image-folder", image_folder)
    register("cifar10", cifar10)
