"""Image datasets beyond MNIST: a folder of your own images, and CIFAR-10.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import hookimpl

from .cifar import cifar10
from .folder import image_folder
from .references import cifar10_reference, folder_reference


@hookimpl
def register_datasets(register):
    register("image-folder", image_folder)
    register("cifar10", cifar10)


@hookimpl
def register_references(register):
    register("cifar10", cifar10_reference, "ganzoo's CNN trained on CIFAR-10 (128-d features), cached after first use")
    register("image-folder", folder_reference,
             "ganzoo's CNN trained on a labelled folder's classes (labels=folders), cached per folder")
