"""Inception metrics computed by torch-fidelity (Obukhov et al. 2020), the reference
PyTorch port of the TensorFlow computations the GAN literature reports: FID (Heusel
et al. 2017), the Inception Score (Salimans et al. 2016) and KID (Bińkowski et al.
2018), all in InceptionV3 with TensorFlow's 2015-12-05 weights, on uint8 RGB
images resized to 299×299 with TensorFlow 1.x's bilinear filter.

ganzoo feeds torch-fidelity the same samples every other metric reads (drawn from
the generator's own prior, its classes in equal shares, its moving average when
the run keeps one) and the same real test samples, converted here from the
data's value range to uint8 pixels. The weights are looked for in ganzoo's cache
and torch's hub cache, and downloaded once when missing; offline, one line says
which file to put where.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ganzoo import GanzooError
from ganzoo.errors import first_line
from ganzoo.metrics.evaluation import Evaluation
from ganzoo.settings import cache_dir

try:  # the optional extra: pip install "ganzoo[inception]"
    import torch_fidelity
except ImportError:  # pragma: no cover - exercised where the extra is not installed
    torch_fidelity = None

WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{WEIGHTS}"
EXTRA = "pip install 'ganzoo[inception]'"
KID_SUBSET = 1000  # KID's subset size (Bińkowski et al. 2018), or n when fewer samples are compared
IS_SPLITS = 10


def to_uint8_rgb(x: Tensor, value_range: tuple[float, float]) -> Tensor:
    """Samples in ``value_range`` as the uint8 pixels (0..255) torch-fidelity takes, rounded."""
    lo, hi = value_range
    return ((x.detach().float().cpu() - lo) / (hi - lo) * 255).round().clamp(0, 255).to(torch.uint8)


class Images(Dataset):
    """uint8 images ``(n, 3, h, w)`` as the map-style dataset torch-fidelity reads: item i is image i."""

    def __init__(self, images: Tensor) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise GanzooError(f"Inception metrics take uint8 RGB images (n, 3, h, w), got {images.dtype} "
                              f"{tuple(images.shape)}")
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> Tensor:
        return self.images[i]


def weights_path(cache: str | os.PathLike | None = None) -> Path:
    """The InceptionV3 weights file: in ganzoo's cache (``<cache>/inception/``) or torch's
    hub cache, else downloaded into ganzoo's cache; one line naming the file when it cannot be."""
    target = cache_dir(cache) / "inception" / WEIGHTS
    hub = Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS
    for place in (target, hub):
        if place.is_file():
            return place
    partial = target.with_name(target.name + ".part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(URL, str(partial), progress=False)
        partial.replace(target)
    except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise GanzooError(f"the Inception weights {WEIGHTS} are not on this machine and could not be downloaded "
                          f"({type(exc).__name__}: {exc}); download {URL} on a machine with internet and put it "
                          f"in {target.parent}/ (or torch's hub cache, {hub.parent}/)") from None
    return target


def unusable(ev: Evaluation) -> str | None:
    """Why the Inception metrics cannot be computed for this evaluation, or ``None``."""
    if torch_fidelity is None:
        return f"it needs torch-fidelity: {EXTRA}"
    shape = tuple(ev.test.spec.shape)
    if len(shape) != 3 or shape[0] != 3:
        return (f"Inception metrics are defined on RGB images, and dataset {ev.dataset.name!r} has samples of "
                f"shape {shape}")
    if ev.value_range is None:
        return f"dataset {ev.dataset.name!r} has no value range, so its samples cannot be read as pixels"
    return None


def inception_metrics(ev: Evaluation) -> dict[str, float]:
    """FID, IS and KID of the evaluation's ``n`` generated against ``n`` real test
    samples (the real ones drawn as for every other metric), computed once per evaluation."""
    return ev.once("inception", lambda: _compute(ev))


def _compute(ev: Evaluation) -> dict[str, float]:
    weights = weights_path(ev.cache)
    real = to_uint8_rgb(ev.real_samples(), ev.value_range)
    fake = to_uint8_rgb(ev.fake, ev.value_range)
    try:
        values = torch_fidelity.calculate_metrics(
            input1=Images(fake), input2=Images(real), cuda=ev.device.type == "cuda", batch_size=64,
            isc=True, fid=True, kid=True, feature_extractor="inception-v3-compat",
            feature_extractor_weights_path=str(weights), isc_splits=IS_SPLITS,
            kid_subset_size=min(KID_SUBSET, ev.n), cache=False, save_cpu_ram=True, verbose=False,
        )
    except GanzooError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged weights file or torch-fidelity's own checks
        first = first_line(exc) or type(exc).__name__
        raise GanzooError(f"torch-fidelity could not compute the Inception metrics ({type(exc).__name__}: {first}); "
                          f"if {weights} is damaged, delete it and run again") from None
    return {
        "inception-fid": float(values["frechet_inception_distance"]),
        "inception-is": float(values["inception_score_mean"]),
        "inception-is_std": float(values["inception_score_std"]),
        "kid": float(values["kernel_inception_distance_mean"]),
        "kid_std": float(values["kernel_inception_distance_std"]),
    }


def protocol(ev_n: int, dataset: str) -> str:
    """How the Inception numbers were measured, with the numbers filled in."""
    version = getattr(torch_fidelity, "__version__", "?")
    return (f"{ev_n} generated vs {ev_n} real samples of the {dataset} test split, as uint8 RGB resized to 299×299 "
            f"with TensorFlow 1.x's bilinear filter, in InceptionV3 (TensorFlow's 2015-12-05 weights) through "
            f"torch-fidelity {version}; IS in {IS_SPLITS} splits, KID in 100 subsets of {min(KID_SUBSET, ev_n)}")
