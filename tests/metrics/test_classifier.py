"""The reference classifiers: accurate, cached with a checksum, reproducible."""

import hashlib
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
    classifier = clf.reference_classifier("fashion-mnist", data_dir, progress=False)
    # Measured here on the real test split, not read from the cache's JSON.
    test = ganzoo.load_dataset(Component("fashion-mnist", split="test"), data_dir)
    accuracy = (classifier.probs(test.x, test.spec.value_range).argmax(1) == test.y).double().mean().item()
    assert accuracy >= 0.91
    assert classifier.accuracy == pytest.approx(accuracy, abs=1e-4)


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
    # Forge both checksums, written out here: SHA-256 of the weights file, and of the
    # metadata's canonical JSON without its own checksum field.
    forged = {**json.loads(meta.read_text()), "sha256": hashlib.sha256(b"garbage").hexdigest()}
    forged.pop("meta_sha256")
    canonical = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    meta.write_text(json.dumps({**forged, "meta_sha256": hashlib.sha256(canonical).hexdigest()}))
    assert clf.inspect_cache("mnist", tmp_path)[1].startswith("unreadable")  # checksums fit, content does not
    assert clf.load_cached("mnist", tmp_path) is None


def _tiny(mnist):
    """A classifier really trained on the first 512 real MNIST training images (seconds)."""
    x01, y = (mnist.x[:512] + 1) / 2, mnist.y[:512]
    settings = {**clf.SETTINGS["mnist"], "epochs": 1, "batch_size": 64}
    return clf.train_classifier(x01, y, x01[:256], y[:256], settings)


def test_an_edited_accuracy_fails_the_checksum_and_is_retrained(mnist, data_dir, tmp_path, monkeypatch,
                                                                  caplog, capsys):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):  # they would make rich treat the capture as a terminal
        monkeypatch.delenv(name, raising=False)
    clf.save_cached("mnist", _tiny(mnist), tmp_path)
    assert clf.inspect_cache("mnist", tmp_path)[1] == ""
    weights, meta_path = clf.cache_paths("mnist", tmp_path)
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "test_accuracy": 0.999}, indent=2))  # weights untouched
    assert clf.inspect_cache("mnist", tmp_path) == (None, "fails its checksum")
    old_format = {k: v for k, v in meta.items() if k != "meta_sha256"}  # a cache written before meta_sha256
    meta_path.write_text(json.dumps(old_format, indent=2))
    assert clf.inspect_cache("mnist", tmp_path) == (None, "fails its checksum")

    real, seen = clf.train_classifier, []

    def small(train_x, train_y, test_x, test_y, settings, progress=None):
        # The real training, on 512 real images, called the way reference_classifier calls it.
        seen.append(len(train_x))
        return real(train_x[:512], train_y[:512], test_x, test_y, settings, progress)

    monkeypatch.setattr(clf, "train_classifier", small)
    monkeypatch.setitem(clf.SETTINGS, "mnist", {**clf.SETTINGS["mnist"], "epochs": 1, "batch_size": 64})
    with torch.no_grad():  # as ganzoo eval calls it
        retrained = clf.reference_classifier("mnist", data_dir, tmp_path, progress=True)
    assert seen == [60_000]
    assert "fails its checksum; retraining it" in caplog.text
    err = capsys.readouterr().err  # not a terminal: plain lines, not a rich bar
    assert "training the mnist reference classifier (once): 100% (epoch 1/1)" in err
    assert f"{100 * retrained.accuracy:.2f}% test accuracy" in err.splitlines()[-1]
    reloaded = clf.load_cached("mnist", tmp_path)
    assert reloaded is not None and reloaded.accuracy == retrained.accuracy < 0.999
    test = ganzoo.load_dataset(Component("mnist", split="test"), data_dir)
    measured = (reloaded.probs(test.x, test.spec.value_range).argmax(1) == test.y).double().mean().item()
    assert reloaded.accuracy == pytest.approx(measured, abs=1e-4)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode], ids=["no_grad", "inference_mode"])
def test_training_works_whatever_the_grad_mode_of_the_caller(mnist, mode):
    # ganzoo eval and the Evaluate callback train the classifier on first use inside torch.no_grad().
    expected = _tiny(mnist)
    with mode():
        trained = _tiny(mnist)
    for p, q in zip(trained.model.state_dict().values(), expected.model.state_dict().values()):
        assert torch.equal(p, q)  # trained, and trained exactly as outside


def test_progress_lines_when_stderr_is_not_a_terminal(mnist, tmp_path, monkeypatch, capsys):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):  # they would make rich treat the capture as a terminal
        monkeypatch.delenv(name, raising=False)
    x01, y = (mnist.x[:160] + 1) / 2, mnist.y[:160]
    settings = {**clf.SETTINGS["mnist"], "epochs": 5, "batch_size": 8, "min_accuracy": 0.0}
    clf.trained_classifier("tiny", lambda: (x01, y, x01[:32], y[:32]), settings, cache=tmp_path)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 12  # a first line, one every 10% of the 100 steps, and the result
    assert lines[2].startswith("training the tiny reference classifier (once): 20% (epoch 1/5), ")
    assert lines[-2].split(": ", 1)[1].startswith("100% (epoch 5/5)")
    loss = float(lines[2].rsplit("loss ", 1)[1])
    assert 0 < loss < 5  # the mean cross-entropy of those ten steps (ln 10 = 2.3 at chance)
    assert lines[-1].startswith("trained the tiny reference classifier in ")
    assert clf.load_cached("tiny", tmp_path) is not None  # and cached


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
