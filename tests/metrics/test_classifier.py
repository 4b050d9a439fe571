"""The reference classifiers: accurate, cached with a checksum, reproducible."""

import json

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError
from ganzoo.metrics import classifier as clf


def test_mnist_classifier_reaches_its_accuracy(mnist_classifier, data_dir):
    assert mnist_classifier.accuracy >= 0.993
    # Check the stored figure independently on the real test set.
    test = ganzoo.load_dataset(Component("mnist", split="test"), data_dir)
    predicted = mnist_classifier.probs(test.x, test.spec.value_range).argmax(1)
    assert (predicted == test.y).double().mean().item() == pytest.approx(mnist_classifier.accuracy, abs=1e-4)


def test_fashion_mnist_classifier_reaches_its_accuracy(data_dir):
    assert clf.reference_classifier("fashion-mnist", data_dir, progress=False).accuracy >= 0.91


def test_the_cache_is_used_and_a_tampered_file_is_not_trusted(mnist_classifier, tmp_path):
    clf.save_cached("mnist", mnist_classifier, tmp_path)
    loaded = clf.load_cached("mnist", tmp_path)
    assert loaded is not None and loaded.accuracy == mnist_classifier.accuracy
    for a, b in zip(loaded.model.state_dict().values(), mnist_classifier.model.state_dict().values()):
        assert torch.equal(a, b)
    weights, meta = clf.cache_paths("mnist", tmp_path)
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert clf.load_cached("mnist", tmp_path) is None
    weights.write_bytes(b"garbage")
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "sha256": clf._sha256(weights)}))
    assert clf.load_cached("mnist", tmp_path) is None  # checksum fits, content does not


def test_training_is_seeded_and_reproducible(mnist):
    x01, y = (mnist.x[:512] + 1) / 2, mnist.y[:512]
    settings = {**clf.SETTINGS["mnist"], "epochs": 1, "batch_size": 64}
    a = clf.train_classifier(x01, y, x01[:64], y[:64], settings)
    b = clf.train_classifier(x01, y, x01[:64], y[:64], settings)
    for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(p, q)


def test_datasets_without_a_classifier_are_refused():
    with pytest.raises(GanzooError, match="no reference classifier for dataset 'ring'"):
        clf.reference_classifier("ring")
