"""Reference classifiers: the feature space ganzoo measures samples in.

Inception weights cannot be downloaded everywhere, so ganzoo trains a small CNN
per dataset itself (seeded, reproducible), on the training split, and caches it
with its test accuracy and training settings. The metadata holds a SHA-256 of the
weights (``sha256``) and one of the metadata itself (``meta_sha256``, over its
canonical JSON without that field), so an edited accuracy is caught like edited
weights: a cache whose checksums do not match is retrained, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rich.console import Console
from rich.progress import Progress

from ..checkpoint import save
from ..errors import GanzooError, did_you_mean, first_line
from ..factories import load_dataset
from ..recipe import Component
from ..settings import cache_dir

log = logging.getLogger("ganzoo")

VERSION = 1
# Settings per dataset; the accuracy floor is what the cached model must reach.
SETTINGS = {
    "mnist": {"epochs": 5, "lr": 2e-3, "batch_size": 128, "shift": 2, "seed": 0, "min_accuracy": 0.993},
    "fashion-mnist": {"epochs": 8, "lr": 2e-3, "batch_size": 128, "shift": 2, "seed": 0, "min_accuracy": 0.91},
}


class _PoolTo7(nn.Module):
    """2×2 max pooling, then average pooling to 7×7: the identity on MNIST's 7×7 maps,
    so the same network (and the same cached weights) takes 32×32 or 64×64 images."""

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(F.max_pool2d(x, 2), 7)


class ReferenceCNN(nn.Module):
    """Two 5×5 conv blocks and a 128-unit layer: ``features`` is that layer. It takes
    square images of any side from 28 up (pooled to 7×7 before that layer)."""

    def __init__(self, num_classes: int = 10, channels: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(), _PoolTo7(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, num_classes))

    def features(self, x01: Tensor) -> Tensor:
        """128-d features of images with pixels in [0, 1]."""
        return self.body((x01 - 0.5) / 0.5)

    def forward(self, x01: Tensor) -> Tensor:
        return self.head(self.features(x01))


class ReferenceClassifier:
    """A trained :class:`ReferenceCNN` with its metadata, taking images in any value range."""

    def __init__(self, model: ReferenceCNN, meta: dict) -> None:
        self.model = model.eval()
        self.meta = meta

    @property
    def accuracy(self) -> float:
        return self.meta["test_accuracy"]

    def to(self, device: torch.device | str) -> "ReferenceClassifier":
        self.model.to(device)
        return self

    @torch.no_grad()
    def _apply(self, fn: Callable[[Tensor], Tensor], x: Tensor, value_range, batch: int) -> Tensor:
        lo, hi = value_range
        device = next(self.model.parameters()).device
        out = []
        for start in range(0, len(x), batch):
            xb = x[start : start + batch].to(device, torch.float32)
            out.append(fn(((xb - lo) / (hi - lo)).clamp(0, 1)))
        return torch.cat(out)

    def features(self, x: Tensor, value_range=(-1.0, 1.0), batch: int = 1000) -> Tensor:
        """128-d features of ``(n, 1, 28, 28)`` images whose pixels lie in ``value_range``."""
        return self._apply(self.model.features, x, value_range, batch)

    def probs(self, x: Tensor, value_range=(-1.0, 1.0), batch: int = 1000) -> Tensor:
        """Class probabilities of the images."""
        return self._apply(lambda b: F.softmax(self.model(b), 1), x, value_range, batch)

    def features_and_probs(self, x: Tensor, value_range=(-1.0, 1.0), batch: int = 1000) -> tuple[Tensor, Tensor]:
        both = self._apply(
            lambda b: (lambda f: torch.cat([f, F.softmax(self.model.head(f), 1)], 1))(self.model.features(b)),
            x, value_range, batch,
        )
        return both[:, :128], both[:, 128:]


def _shift(x: Tensor, max_shift: int, gen: torch.Generator) -> Tensor:
    """Translate each image by up to ``max_shift`` pixels (zero fill)."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, [max_shift] * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None]).view(n, 1, h, 1).expand(n, x.shape[1], h, w + 2 * max_shift)
    cropped = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None]).view(n, 1, 1, w).expand(n, x.shape[1], h, w)
    return cropped.gather(3, cols)


def train_classifier(train_x01: Tensor, train_y: Tensor, test_x01: Tensor, test_y: Tensor,
                     settings: dict, progress: Callable[[int, int, float], None] | None = None) -> ReferenceClassifier:
    """Train a reference CNN (seeded) and measure its test accuracy.

    Works whatever grad mode the caller is in: evaluation calls this on first use from
    inside ``torch.no_grad()`` (``ganzoo eval``, the ``Evaluate`` callback), so the
    training enables gradients itself. ``progress(done, total, loss)`` is called after
    every optimiser step."""
    gen = torch.Generator().manual_seed(settings["seed"])
    # Inference tensors (made under torch.inference_mode) cannot be saved for backward.
    if train_x01.is_inference() or train_y.is_inference():
        with torch.inference_mode(False):
            train_x01, train_y = train_x01.clone(), train_y.clone()
    # CUDA devices in use are forked too: seeding reseeds them, and this may run in the middle of
    # training (reading the state of devices not in use would start CUDA on every GPU).
    cuda = range(torch.cuda.device_count()) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=cuda), torch.inference_mode(False), torch.enable_grad():
        torch.manual_seed(settings["seed"])
        model = ReferenceCNN(int(train_y.max()) + 1, train_x01.shape[1])
        bs, epochs = settings["batch_size"], settings["epochs"]
        steps = epochs * (len(train_x01) // bs)
        opt = torch.optim.Adam(model.parameters(), lr=settings["lr"])
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings["lr"], total_steps=steps)
        model.train()
        done = 0
        for _ in range(epochs):
            perm = torch.randperm(len(train_x01), generator=gen)
            for start in range(0, len(perm) - bs + 1, bs):
                idx = perm[start : start + bs]
                loss = F.cross_entropy(model(_shift(train_x01[idx], settings["shift"], gen)), train_y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                done += 1
                if progress is not None:
                    progress(done, steps, loss.item())
    classifier = ReferenceClassifier(model, {})
    predicted = classifier.probs(test_x01, (0.0, 1.0)).argmax(1)
    accuracy = float((predicted == test_y).double().mean())
    classifier.meta = {"version": VERSION, "test_accuracy": accuracy, "settings": settings,
                       "torch": torch.__version__}
    return classifier


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _meta_checksum(meta: dict) -> str:
    """SHA-256 of the metadata's canonical JSON, leaving out this checksum's own field."""
    body = {k: v for k, v in meta.items() if k != "meta_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def cache_paths(dataset: str, root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    base = cache_dir(root) / "classifiers"
    return base / f"{dataset}-v{VERSION}.pt", base / f"{dataset}-v{VERSION}.json"


def inspect_cache(dataset: str, root: str | os.PathLike | None = None) -> tuple[ReferenceClassifier | None, str]:
    """The cached classifier and ``""``, or ``None`` and why there is none to trust
    (not trained yet, failing its checksum, unreadable)."""
    weights, meta_path = cache_paths(dataset, root)
    if not (weights.is_file() and meta_path.is_file()):
        return None, "not trained yet"
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("sha256") != _sha256(weights) or meta.get("meta_sha256") != _meta_checksum(meta):
            return None, "fails its checksum"
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model = ReferenceCNN(meta.get("num_classes", 10), meta.get("channels", 1))
        model.load_state_dict(state)
    except Exception as exc:  # anything odd in the cache means: do not trust it
        first = first_line(exc) or type(exc).__name__
        return None, f"unreadable ({first})"
    return ReferenceClassifier(model, meta), ""


def load_cached(dataset: str, root: str | os.PathLike | None = None) -> ReferenceClassifier | None:
    """The cached classifier, or ``None`` if absent, altered or unreadable."""
    classifier, problem = inspect_cache(dataset, root)
    if classifier is None and problem != "not trained yet":
        log.warning("ganzoo: cached %s classifier %s; retraining it", dataset, problem)
    return classifier


def save_cached(dataset: str, classifier: ReferenceClassifier, root: str | os.PathLike | None = None) -> Path:
    weights, meta_path = cache_paths(dataset, root)
    save(classifier.model.state_dict(), weights)
    meta = {**classifier.meta, "num_classes": classifier.model.head[-1].out_features,
            "channels": classifier.model.body[0].in_channels, "sha256": _sha256(weights)}
    meta = json.loads(json.dumps(meta))  # as it will read back (tuples become lists)
    meta["meta_sha256"] = _meta_checksum(meta)
    tmp = meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, meta_path)
    classifier.meta = meta
    return weights


def _plain_progress(label: str, epochs: int, start: float) -> Callable[[int, int, float], None]:
    """A ``progress`` callback printing a plain line to stderr every 10% of the steps
    (a rich bar shows nothing when stderr is not a terminal, e.g. in CI or a log file)."""
    print(f"{label}: {epochs} epoch{'s' * (epochs != 1)}, a line every 10%", file=sys.stderr, flush=True)
    state = {"tenth": 0, "loss": 0.0, "n": 0}

    def report(done: int, total: int, loss: float) -> None:
        state["loss"] += loss
        state["n"] += 1
        tenth = 10 * done // total
        if tenth > state["tenth"]:
            state["tenth"] = tenth
            epoch = min(epochs, -(-done * epochs // total))
            print(f"{label}: {100 * done // total}% (epoch {epoch}/{epochs}), "
                  f"{time.monotonic() - start:.0f} s, loss {state['loss'] / state['n']:.4f}",
                  file=sys.stderr, flush=True)
            state["loss"], state["n"] = 0.0, 0

    return report


def trained_classifier(key: str, load: Callable[[], tuple[Tensor, Tensor, Tensor, Tensor]], settings: dict,
                       cache=None, progress: bool = True, retrain: bool = False,
                       label: str | None = None) -> ReferenceClassifier:
    """The classifier cached under ``key``, or one trained now with ``settings`` on
    ``load() -> (train_x01, train_y, test_x01, test_y)`` (pixels in [0, 1]) and cached
    (``retrain``: trained now even when a valid one is cached). ``settings`` holds
    ``epochs``, ``lr``, ``batch_size``, ``shift``, ``seed`` and ``min_accuracy``."""
    cached = None if retrain else load_cached(key, cache)
    if cached is not None:
        return cached
    train_x, train_y, test_x, test_y = load()
    label = label or f"training the {key} reference classifier (once)"
    start, bar = time.monotonic(), None
    report = None
    if progress:
        if Console(stderr=True).is_terminal:
            bar = Progress(transient=True, console=Console(stderr=True))
            bar.start()
            task = bar.add_task(label, total=None)
            report = lambda done, total, loss: bar.update(task, completed=done, total=total)  # noqa: E731
        else:
            report = _plain_progress(label, settings["epochs"], start)
    try:
        classifier = train_classifier(train_x, train_y, test_x, test_y, settings, report)
    finally:
        if bar is not None:
            bar.stop()
    if progress:
        print(f"trained the {key} reference classifier in {time.monotonic() - start:.0f} s: "
              f"{100 * classifier.accuracy:.2f}% test accuracy", file=sys.stderr, flush=True)
    if classifier.accuracy < settings["min_accuracy"]:
        log.warning("ganzoo: %s classifier reached %.4f test accuracy, below its %.4f floor",
                    key, classifier.accuracy, settings["min_accuracy"])
    save_cached(key, classifier, cache)
    return classifier


def reference_classifier(dataset: str, data_dir=None, cache=None, progress: bool = True,
                         retrain: bool = False) -> ReferenceClassifier:
    """The reference classifier of ``dataset``: from the cache, or trained now and cached
    (``retrain``: trained now even when a valid one is cached)."""
    if dataset not in SETTINGS:
        raise GanzooError(
            f"no reference classifier for dataset {dataset!r}{did_you_mean(dataset, SETTINGS)} "
            f"(there are: {', '.join(SETTINGS)}); "
            "classifier metrics (fd, score, precision, recall, density, coverage) do not apply to it"
        )

    return trained_classifier(dataset, lambda: _split_pair(dataset, data_dir), SETTINGS[dataset], cache, progress,
                              retrain)


class ClassifierReference:
    """A dataset's reference (see ``register_references``) made of a reference
    classifier: 128-d features and class probabilities. Nothing is loaded until the
    first ``features`` call; then the classifier cached under ``key`` is read, or
    trained with ``settings`` on ``load()`` and cached."""

    def __init__(self, key: str, load: Callable[[], tuple[Tensor, Tensor, Tensor, Tensor]], settings: dict,
                 channels: int, cache=None) -> None:
        self.name, self.load, self.settings, self.channels, self.cache = key, load, settings, channels, cache

    @cached_property
    def classifier(self) -> ReferenceClassifier:
        return trained_classifier(self.name, self.load, self.settings, self.cache)

    @property
    def key(self) -> str:
        return f"{self.name}:{self.classifier.meta.get('sha256')}"

    def features(self, x: Tensor, value_range) -> Tensor:
        return self.classifier.features(x, value_range)

    def probs(self, x: Tensor, value_range) -> Tensor:
        return self.classifier.probs(x, value_range)

    def features_and_probs(self, x: Tensor, value_range) -> tuple[Tensor, Tensor]:
        return self.classifier.features_and_probs(x, value_range)


def mnist_family_reference(name: str, data_dir=None, cache=None, dataset=None) -> ClassifierReference:
    """The reference of MNIST or Fashion-MNIST (``name``), as ``register_references`` calls it."""
    return ClassifierReference(name, lambda: _split_pair(name, data_dir), SETTINGS[name], 1, cache)


def _split_pair(dataset: str, data_dir) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    train = load_dataset(Component(dataset, value_range=(0.0, 1.0)), data_dir)
    test = load_dataset(Component(dataset, split="test", value_range=(0.0, 1.0)), data_dir)
    return train.x, train.y, test.x, test.y
