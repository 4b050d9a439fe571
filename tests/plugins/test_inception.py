"""Inception metrics through torch-fidelity: the adapter that feeds it ganzoo's samples,
the whole pipeline run with InceptionV3 weights the test writes (the real ones, 92 MB,
cannot be had offline), the offline path, and data they do not apply to."""

import json
import urllib.error

import pytest
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

import ganzoo
from ganzoo import Component, GanzooError
from ganzoo.cli import main
from ganzoo.metrics.evaluate import evaluate
from ganzoo_inception.fidelity import WEIGHTS, Images, to_uint8_rgb, weights_path
from test_images import write_cifar, digits  # noqa: F401 - digits is a fixture


def test_samples_become_the_uint8_pixels_torch_fidelity_reads():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.999, 1.0, 1.7]).view(1, 1, 2, 3)
    assert to_uint8_rgb(x, (-1.0, 1.0)).flatten().tolist() == [0, 64, 128, 255, 255, 255]  # 63.75, 127.5 round up
    assert to_uint8_rgb(torch.tensor([0.0, 0.5, 1.0]), (0.0, 1.0)).tolist() == [0, 128, 255]
    images = Images(torch.zeros(4, 3, 8, 8, dtype=torch.uint8))
    assert len(images) == 4 and images[2].shape == (3, 8, 8)  # item i is image i, a tensor
    for bad in (torch.zeros(2, 3, 8, 8), torch.zeros(2, 1, 8, 8, dtype=torch.uint8)):
        with pytest.raises(GanzooError, match="uint8 RGB"):
            Images(bad)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    calls = []

    def refuse(url, dst, **kwargs):
        calls.append(url)
        with open(dst, "wb") as f:
            f.write(b"half a file")
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    return calls


def test_offline_missing_weights_are_one_line_naming_the_file_and_where_it_goes(offline, tmp_path):
    with pytest.raises(GanzooError) as info:
        weights_path(tmp_path / "cache")
    message = str(info.value)
    assert "\n" not in message and WEIGHTS in message and str(tmp_path / "cache" / "inception") in message
    assert offline and not list((tmp_path / "cache" / "inception").iterdir())  # no partial file left


def _random_weights(path, monkeypatch):
    """An InceptionV3 state dict of the right shapes with random weights: what the pipeline
    loads, with numbers that mean nothing (the checks below hold for any weights)."""
    with monkeypatch.context() as m:
        m.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state, strict=True: None)
        m.setattr("torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url", lambda *a, **k: None)
        torch.manual_seed(0)
        extractor = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"])
    for layer in extractor.modules():  # He init, so that signals survive InceptionV3's depth
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(extractor.state_dict(), path)


@pytest.fixture
def cifar(tmp_path, digits):  # noqa: F811
    data = tmp_path / "data"
    write_cifar(data / "cifar10" / "cifar-10-batches-py", digits)
    return data


def test_the_pipeline_finds_a_generator_of_the_test_images_at_zero_distance_and_noise_far(
        cifar, tmp_path, offline, monkeypatch):
    cache = tmp_path / "cache"
    _random_weights(cache / "inception" / WEIGHTS, monkeypatch)
    dataset = Component("cifar10", download=False)
    test = ganzoo.load_dataset(dataset.replace(split="test"), cifar)
    n = 24
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n]  # the real samples compared

    def copies(count):
        return test.x[pick][:count]

    def noise(count):
        return torch.rand(count, 3, 32, 32) * 2 - 1

    protocols = {}
    same = evaluate(copies, dataset, ["inception-fid", "kid", "inception-is"], n, cifar, cache, protocols=protocols)
    far = evaluate(noise, dataset, ["inception-fid", "kid"], n, cifar, cache)
    assert not offline  # the weights were found in ganzoo's cache: nothing was downloaded
    assert abs(same["inception-fid"]) < 1e-2 and far["inception-fid"] > 1
    # KID's estimator is unbiased, so a set against itself is near zero, not exactly zero.
    assert abs(same["kid"]) < 0.01 * far["kid"]
    assert 1 <= same["inception-is"] <= 1008 and same["inception-is_std"] >= 0
    assert f"{n} generated vs {n} real samples of the cifar10 test split" in protocols["inception-fid"]
    assert "299×299" in protocols["kid"]


def test_eval_on_rgb_data_offline_is_one_line_and_grey_data_says_why(cifar, tmp_path, offline, capsys):
    run = tmp_path / "run"
    assert main(["run", "dcgan-cifar10", "--data-dir", str(cifar), "--out", str(run), "--set", "steps=1",
                 "--set", "dataset.download=false", "--set", "generator.width=8", "--set", "discriminator.width=8",
                 "--set", "batch_size=16", "--device", "cpu"]) == 0
    capsys.readouterr()
    ckpt = str(run / "checkpoints" / "last.pt")
    assert main(["eval", ckpt, "--metrics", "inception-fid", "-n", "20", "--data-dir", str(cifar),
                 "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert WEIGHTS in err and "put it in" in err and len(err.strip().splitlines()) == 1
    mnist_run = tmp_path / "mnist"
    assert main(["run", "dcgan-mnist", "--out", str(mnist_run), "--set", "steps=1", "--set", "generator.width=8",
                 "--set", "discriminator.width=8", "--set", "batch_size=16", "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["eval", str(mnist_run / "checkpoints" / "last.pt"), "--metrics", "kid", "-n", "20"]) == 2
    err = capsys.readouterr().err
    assert "defined on RGB images" in err and len(err.strip().splitlines()) == 1


def test_eval_prints_the_protocol_and_saves_it(cifar, tmp_path, offline, monkeypatch, capsys):
    cache = tmp_path / "cache"
    _random_weights(cache / "inception" / WEIGHTS, monkeypatch)
    run = tmp_path / "run"
    assert main(["run", "dcgan-cifar10", "--data-dir", str(cifar), "--out", str(run), "--set", "steps=1",
                 "--set", "dataset.download=false", "--set", "generator.width=8", "--set", "discriminator.width=8",
                 "--set", "batch_size=16", "--device", "cpu"]) == 0
    capsys.readouterr()
    report = tmp_path / "e.json"
    assert main(["eval", str(run / "checkpoints" / "last.pt"), "--metrics", "inception-fid,kid", "-n", "16",
                 "--data-dir", str(cifar), "--cache-dir", str(cache), "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "inception-fid: 16 generated vs 16 real samples" in out
    saved = json.loads(report.read_text())
    assert saved["metrics"]["inception-fid"] > 0 and "kid" in saved["protocols"]


def test_inception_runs_on_the_gpu_only_when_the_evaluation_is_on_cuda(cifar, tmp_path, monkeypatch):
    """On a machine with a GPU, ``--device cpu`` keeps InceptionV3 on the CPU too."""
    weights = tmp_path / "cache" / "inception" / WEIGHTS
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"found, never read: torch-fidelity is replaced below")
    asked = []

    def calculate_metrics(**kwargs):
        asked.append(kwargs["cuda"])
        return {"frechet_inception_distance": 1.0, "inception_score_mean": 1.0, "inception_score_std": 0.0,
                "kernel_inception_distance_mean": 0.0, "kernel_inception_distance_std": 0.0}

    monkeypatch.setattr("ganzoo_inception.fidelity.torch_fidelity.calculate_metrics", calculate_metrics)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a machine with a GPU
    dataset = Component("cifar10", download=False)
    for device in ("cpu", "cuda", None):  # None: the default, CUDA when present
        evaluate(lambda count: torch.rand(count, 3, 32, 32) * 2 - 1, dataset, ["inception-fid"], 16, cifar,
                 tmp_path / "cache", device=device)
    assert asked == [False, True, True]
