"""The feature spaces CIFAR-10 and labelled image folders are measured in: ganzoo's
reference classifier (``ganzoo.metrics.classifier``), trained on their labels once
and cached. Heusel et al. 2017 measure in Inception's features; these numbers are
ganzoo's own protocol, comparable between ganzoo runs, not with published FIDs."""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import Component, GanzooError, load_dataset, memory_budget
from ganzoo.metrics.classifier import ClassifierReference

from .folder import image_files, folder_key

# Unmeasured on real CIFAR-10 (it is not on the machine ganzoo is developed on): the
# floor only decides whether a warning is printed after training.
CIFAR_SETTINGS = {"epochs": 15, "lr": 2e-3, "batch_size": 128, "shift": 2, "seed": 0, "min_accuracy": 0.70}
FOLDER_SETTINGS = {"epochs": 10, "lr": 2e-3, "batch_size": 64, "shift": 2, "seed": 0, "min_accuracy": 0.0}
HELD_OUT = 10  # every 10th image of a folder (in file order) measures the classifier's accuracy
MAX_IMAGES = 50_000  # a larger folder trains its classifier on an even spread of this many


def cifar10_reference(data_dir=None, cache=None, dataset: Component | None = None) -> ClassifierReference:
    """ganzoo's CNN trained on CIFAR-10's training split, measured on its test split."""
    options = {} if dataset is None else {k: v for k, v in dataset.options.items() if k == "download"}

    def load():
        train = load_dataset(Component("cifar10", value_range=(0.0, 1.0), **options), data_dir)
        test = load_dataset(Component("cifar10", split="test", value_range=(0.0, 1.0), **options), data_dir)
        return train.x, train.y, test.x, test.y

    return ClassifierReference("cifar10", load, CIFAR_SETTINGS, 3, cache)


def folder_reference(data_dir=None, cache=None, dataset: Component | None = None) -> ClassifierReference:
    """ganzoo's CNN trained on a labelled folder's classes (every 10th image held out)."""
    if dataset is None or dataset.options.get("root") is None:
        raise GanzooError("the image-folder reference needs the recipe's dataset (with its root)")
    size, channels = dataset.options.get("size", 64), dataset.options.get("channels", 3)
    root = Path(dataset.options["root"]).expanduser()
    key = f"folder-{folder_key(root, image_files(root), size, channels)[:16]}"

    def load():
        data = load_dataset(dataset.replace(value_range=(0.0, 1.0), split="train"), data_dir)
        # Every image, or an even spread of as many as fit a quarter of the memory budget
        # (they are held as floats while the classifier trains): a streamed folder stays bounded.
        fits = memory_budget() // (4 * 4 * channels * size * size)
        most = max(1_000, min(MAX_IMAGES, fits))
        rows = torch.arange(0, len(data), -(-len(data) // most))
        images = data.take(rows)  # read now if the folder is streamed
        held = torch.arange(len(rows)) % HELD_OUT == HELD_OUT - 1
        return images.x[~held], images.y[~held], images.x[held], images.y[held]

    return ClassifierReference(key, load, FOLDER_SETTINGS, channels, cache)
