"""Image datasets beyond MNIST: a folder of your own images, and CIFAR-10 in its on-disk format.

The folder is real MNIST test digits written as PNG and JPEG files into ten class
folders, with a truncated file and a text file named .png among them; CIFAR-10 is
its standard python-pickle batches, written here from real digits."""

import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
import ganzoo_images.folder as folder_module
from ganzoo import Component, GanzooError, checkpoint
from ganzoo.cli import main
from ganzoo.metrics.evaluate import evaluate

PER_CLASS = 12
TINY = ["--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "batch_size=16",
        "--device", "cpu", "--set", "log_every=2"]


def _uint8(x):
    return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def digits(data_dir):
    test = ganzoo.load_dataset("mnist", data_dir, split="test")
    picks = torch.cat([torch.nonzero(test.y == k)[:PER_CLASS, 0] for k in range(10)])
    return _uint8(test.x[picks]), test.y[picks]


@pytest.fixture(scope="module")
def photos(tmp_path_factory, digits):
    """<root>/<digit>/*.png (one in a nested folder, two as JPEG), a truncated PNG and text named .png."""
    root = tmp_path_factory.mktemp("photos")
    images, labels = digits
    for i, (image, label) in enumerate(zip(images, labels.tolist())):
        folder = root / str(label) / ("nested" if i % PER_CLASS == 1 else "")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[0].numpy()).save(folder / f"{i:04d}.png")
    for i in range(2):
        Image.fromarray(images[i][0].numpy()).convert("RGB").save(root / "0" / f"jpeg-{i}.jpg", quality=95)
    whole = (root / "3" / f"{3 * PER_CLASS:04d}.png").read_bytes()
    (root / "3" / "cut.png").write_bytes(whole[: len(whole) // 2])
    (root / "5" / "notes.png").write_text("not an image")
    return root


def _folder(root, **options):
    return ganzoo.load_dataset(Component("image-folder", root=str(root), **options))


def test_a_folder_of_pngs_is_read_exactly_with_labels_from_its_class_folders(photos, digits, caplog):
    data = _folder(photos, size=28, channels=1, labels="folders")
    assert data.spec.shape == (1, 28, 28) and data.spec.num_classes == 10
    assert len(data) == 10 * PER_CLASS + 2  # the two JPEGs, not the two bad files
    images, labels = digits
    # Every PNG digit comes back pixel for pixel (lossless, 28 stays 28), under its folder's label;
    # the data's rows follow the sorted files, leaving out the two bad ones.
    readable = [p for p in folder_module.image_files(photos) if p.name not in ("cut.png", "notes.png")]
    digit_pngs = [(row, p) for row, p in enumerate(readable) if p.name[0].isdigit()]
    assert len(digit_pngs) == len(list(photos.rglob("[0-9]*.png"))) == 10 * PER_CLASS
    for row, path in digit_pngs:
        number = int(path.stem)
        assert torch.equal(_uint8(data.x[row]), images[number]), path
        assert int(data.y[row]) == int(labels[number]) == int(path.relative_to(photos).parts[0])


def test_bad_files_are_skipped_with_one_warning_or_refused(photos, caplog):
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        _folder(photos, size=32, channels=3)
    [warning] = [r.getMessage() for r in caplog.records if "image-folder" in r.getMessage()]
    assert "skipped 2 of 124 files" in warning and "3/cut.png" in warning and "dataset.bad=refuse" in warning
    with pytest.raises(GanzooError, match=r"3/cut.png is not a readable image .*dataset.bad=skip"):
        _folder(photos, size=32, bad="refuse")


def test_size_and_channels_resize_and_centre_crop(photos):
    data = _folder(photos, size=32, channels=3)
    assert data.spec.shape == (3, 32, 32) and data.spec.num_classes is None and data.y is None
    assert data.x.min() >= -1 and data.x.max() <= 1
    grey = data.x[:, 0]
    assert torch.allclose(grey, data.x[:, 1]) and torch.allclose(grey, data.x[:, 2])  # digits stay grey


@pytest.mark.parametrize("make, options, message", [
    (lambda root: None, {}, "no image files"),
    (lambda root: (root / "only").mkdir() or Image.new("L", (8, 8)).save(root / "only" / "a.png"),
     {"labels": "folders"}, "needs two or more class folders"),
    (lambda root: Image.new("L", (8, 8)).save(root / "loose.png"), {"labels": "folders"}, "outside any class folder"),
])
def test_folders_that_cannot_train_are_one_line(tmp_path, make, options, message):
    make(tmp_path)
    with pytest.raises(GanzooError, match=message) as info:
        _folder(tmp_path, **options)
    assert "\n" not in str(info.value)


def test_a_decoded_folder_is_cached_until_a_file_changes(photos, monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    first = _folder(photos, size=16, channels=1)
    monkeypatch.setattr(folder_module, "decode", lambda *a: (_ for _ in ()).throw(AssertionError("decoded")))
    assert torch.equal(_folder(photos, size=16, channels=1).x, first.x)  # read back, not decoded
    touched = next(photos.rglob("0000.png"))
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    with pytest.raises(GanzooError, match="decoded"):  # changed: decoded again (here, not in a worker)
        _folder(photos, size=16, channels=1, workers=0)


def test_dcgan_folder_trains_samples_and_a_conditional_recipe_uses_the_folder_labels(photos, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "dcgan-folder", "--out", str(run), "--set", f"dataset.root={photos}",
                 "--set", "dataset.size=32", "--set", "steps=4", *TINY]) == 0
    assert main(["sample", str(run / "checkpoints" / "last.pt"), "-n", "16", "-o", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size[0] > 4 * 32
    cond = tmp_path / "cond"
    assert main(["run", "cdcgan-mnist", "--out", str(cond), "--set", "dataset=image-folder",
                 "--set", f"dataset.root={photos}", "--set", "dataset.size=28", "--set", "dataset.channels=1",
                 "--set", "dataset.labels=folders", "--set", "steps=2", "--set", "batch_size=16",
                 "--device", "cpu"]) == 0
    state = checkpoint.load(cond / "checkpoints" / "last.pt")
    assert state["data_spec"]["num_classes"] == 10


def test_a_missing_root_is_one_line_before_anything_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "dcgan-folder", "--set", "steps=2"]) == 2
    assert "set dataset.root" in capsys.readouterr().err
    assert main(["run", "dcgan-folder", "--set", f"dataset.root={tmp_path / 'nowhere'}", "--set", "steps=2"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


# ----------------------------------------------------------------------------- CIFAR-10
def write_cifar(folder: Path, digits, per_file=40):
    """The CIFAR-10 python batches: pickled dicts of uint8 rows (R, G, B planes) and labels.
    Returns the images and labels written to the five training batches and to the test batch."""
    images, labels = digits
    rgb = torch.nn.functional.pad(images, (2, 2, 2, 2)).repeat(1, 3, 1, 1)  # 28×28 grey → 32×32 RGB
    folder.mkdir(parents=True)
    written = []
    for k, name in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        rows = torch.arange(k * per_file, (k + 1) * per_file) % len(rgb)
        batch = {"batch_label": name, "data": rgb[rows].reshape(per_file, -1).numpy(),
                 "labels": labels[rows].tolist(), "filenames": [f"{i}.png" for i in range(per_file)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        written.append((rgb[rows], labels[rows]))
    train = (torch.cat([x for x, _ in written[:5]]), torch.cat([y for _, y in written[:5]]))
    return train, written[5]


def test_cifar10_is_read_from_its_standard_files(tmp_path, digits):
    (train_x, train_y), (test_x, test_y) = write_cifar(tmp_path / "cifar10" / "cifar-10-batches-py", digits)
    train = ganzoo.load_dataset(Component("cifar10", download=False), tmp_path)
    test = ganzoo.load_dataset(Component("cifar10", split="test", download=False), tmp_path)
    assert train.spec.shape == (3, 32, 32) and train.spec.num_classes == 10
    assert len(train) == 200 and len(test) == 40
    assert torch.equal(_uint8(train.x), train_x) and torch.equal(train.y, train_y)
    assert torch.equal(_uint8(test.x), test_x) and torch.equal(test.y, test_y)


def test_cifar10_offline_and_damaged_files_are_one_line(tmp_path, digits, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("torchvision.datasets.CIFAR10", lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(
        RuntimeError("offline")))
    with pytest.raises(GanzooError, match=r"data_batch_1 not found in .*cifar10/cifar-10-batches-py") as info:
        ganzoo.load_dataset("cifar10", tmp_path)
    assert calls and "\n" not in str(info.value)
    assert not (tmp_path / "cifar10").exists()  # the failed download left no empty folder
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    write_cifar(folder, digits)
    with open(folder / "test_batch", "wb") as f:  # a pickle that would run a command
        f.write(b"cos\nsystem\n(S'touch " + str(tmp_path / "ran").encode() + b"'\ntR.")
    with pytest.raises(GanzooError, match="test_batch: not a CIFAR-10 batch .*system"):
        ganzoo.load_dataset(Component("cifar10", split="test"), tmp_path)
    assert not (tmp_path / "ran").exists()
    assert main(["data", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("│ cifar10") or "cifar10 " in line)
    assert "damaged" in row


def test_dcgan_cifar10_trains_from_the_command_line(tmp_path, digits):
    write_cifar(tmp_path / "data" / "cifar10" / "cifar-10-batches-py", digits)
    assert main(["run", "dcgan-cifar10", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run"),
                 "--set", "steps=3", "--set", "dataset.download=false", *TINY]) == 0
    assert checkpoint.load(tmp_path / "run" / "checkpoints" / "last.pt")["data_spec"]["shape"] == [3, 32, 32]


def test_ganzoo_data_reads_a_folder_and_reports_its_images_classes_and_skipped_files(photos, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["data", "image-folder", "--set", f"root={photos}", "--set", "size=28", "--set", "channels=1",
                 "--set", "labels=folders"]) == 0
    out = capsys.readouterr().out
    assert "122" in out and "1×28×28" in out and "held in memory" in out
    assert "2 unreadable file(s) (first: 3/cut.png: image file is truncated)" in out
    assert main(["data", "image-folder", "--set", f"root={photos}", "--set", "stream=always"]) == 0
    assert "streamed from disk" in capsys.readouterr().out
    assert main(["data", "image-folder", "--set", "size=28"]) == 2  # no root: one line
    assert "which folder?" in capsys.readouterr().err


# ----------------------------------------------------------------------------- streaming
def _batches(data, n, batch_size=16, seed=3):
    stream = data.batches(seed, batch_size)
    return [next(stream) for _ in range(n)]


def test_a_streamed_folder_gives_the_batches_it_gives_in_memory(photos):
    held = _folder(photos, size=28, channels=1, labels="folders", stream="never")
    streamed = _folder(photos, size=28, channels=1, labels="folders", stream="always", workers=2)
    assert isinstance(held, ganzoo.TensorData) and isinstance(streamed, ganzoo.StreamData)
    assert len(streamed) == len(held) == 10 * PER_CLASS + 2 and streamed.spec == held.spec
    for a, b in zip(_batches(held, 20), _batches(streamed, 20), strict=True):  # 7 batches an epoch: crosses two
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert torch.equal(streamed.take(torch.arange(len(held))).x, held.x)


def test_a_folder_larger_than_the_memory_budget_is_streamed_with_a_note(photos, monkeypatch, caplog):
    monkeypatch.setenv("GANZOO_MEMORY_BUDGET", "200KB")  # 122 RGB images at 32x32 take 1.5 MB as floats
    with caplog.at_level(logging.WARNING, logger="ganzoo"):
        assert isinstance(_folder(photos, size=32), ganzoo.StreamData)
    [note] = [r.getMessage() for r in caplog.records if "memory budget" in r.getMessage()]
    assert "124 image files of 3×32×32 would take 1.5 MiB" in note and "budget of 200.0 KiB" in note
    assert "dataset.stream=never" in note
    assert isinstance(_folder(photos, size=32, stream="never"), ganzoo.TensorData)
    assert isinstance(_folder(photos, size=8), ganzoo.TensorData)  # 94 KB: fits


def _weights(run):
    return checkpoint.load(run / "checkpoints" / "last.pt")["generator"]


def test_a_streamed_run_learns_what_the_held_run_learns_and_resumes_exactly(photos, tmp_path):
    common = ["--set", f"dataset.root={photos}", "--set", "dataset.size=32", *TINY]
    held, streamed, halves = tmp_path / "held", tmp_path / "streamed", tmp_path / "halves"
    assert main(["run", "dcgan-folder", "--out", str(held), "--set", "steps=10", *common]) == 0
    assert main(["run", "dcgan-folder", "--out", str(streamed), "--set", "steps=10",
                 "--set", "dataset.stream=always", *common]) == 0
    assert main(["run", "dcgan-folder", "--out", str(halves), "--set", "steps=4",
                 "--set", "dataset.stream=always", *common]) == 0
    assert main(["run", "--resume", str(halves / "checkpoints" / "last.pt"), "--set", "steps=10"]) == 0
    for key, value in _weights(held).items():  # 122 images, batch 16: the resume is mid-epoch
        assert torch.equal(value, _weights(streamed)[key]) and torch.equal(value, _weights(halves)[key]), key


def test_a_file_that_goes_bad_while_streaming_stops_the_run_in_one_line_with_its_work_saved(
        photos, digits, tmp_path, capsys):
    root = tmp_path / "photos"
    root.mkdir()
    for i, image in enumerate(digits[0][:48]):
        Image.fromarray(image[0].numpy()).save(root / f"{i:04d}.png")
    run = tmp_path / "run"
    common = ["--set", f"dataset.root={root}", "--set", "dataset.size=32", "--set", "dataset.stream=always", *TINY]
    assert main(["run", "dcgan-folder", "--out", str(run), "--set", "steps=2", *common]) == 0
    # Same size and modification time, so the cached list of readable files still names it.
    victim = root / "0007.png"
    stat = victim.stat()
    victim.write_bytes(b"\0" * stat.st_size)
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    capsys.readouterr()
    assert main(["run", "--resume", str(run / "checkpoints" / "last.pt"), "--set", "steps=40"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert "0007.png" in last and "could not be read" in last
    saved = checkpoint.load(run / "checkpoints" / "last.pt")
    assert 2 <= saved["step"] < 40  # the steps before the bad file are kept


def test_a_reading_process_that_dies_while_a_folder_is_first_read_is_one_line(photos, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))  # not decoded yet: every file is read
    decode = folder_module.decode

    def dies_on_one(path, *args):
        if path.name == "0050.png":
            os.kill(os.getpid(), signal.SIGKILL)  # in the reading process (forked with this patch)
        return decode(path, *args)

    monkeypatch.setattr(folder_module, "decode", dies_on_one)
    for stream in ("never", "always"):
        with pytest.raises(GanzooError, match="reading the data failed: DataLoader worker") as info:
            _folder(photos, size=16, stream=stream, workers=1)
        assert "\n" not in str(info.value)


def test_a_folder_larger_than_memory_trains_in_bounded_memory(tmp_path):
    """4000 RGB images of 64x64 take 197 MB as floats; streamed, the process stays far below that."""
    root = tmp_path / "large"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4000):  # smooth random images: small files, nothing to learn, real decoding
        small = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
        small.resize((64, 64), Image.BILINEAR).save(root / f"{i:05d}.png")
    decoded = 4000 * 3 * 64 * 64 * 4

    def peak(stream):
        """(peak resident memory of a process that builds the run and trains it 20 steps, largest
        private memory of one of its reading processes)."""
        script = ("import sys, ganzoo; from ganzoo import Component as C; recipe = ganzoo.get_recipe('dcgan-folder')"
                  ".replace(dataset=C('image-folder', root=sys.argv[1], size=64, stream=sys.argv[2]), batch_size=16, "
                  "generator=C('dcgan', width=8), discriminator=C('dcgan', width=8), steps=20); "
                  "ganzoo.build(recipe, device='cpu').fit(); print(open('/proc/self/status').read())")
        env = {**os.environ, "GANZOO_CACHE_DIR": str(tmp_path / "cache")}
        process = subprocess.Popen([sys.executable, "-c", script, str(root), stream], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reader = 0
        while process.poll() is None:
            for child in _children(process.pid):
                reader = max(reader, _private_kib(child))
            time.sleep(0.02)
        out, err = process.communicate()
        assert process.returncode == 0, err
        [hwm] = [int(line.split()[1]) for line in out.splitlines() if line.startswith("VmHWM:")]
        return hwm * 1024, reader * 1024

    (held, _), (streamed, reader) = peak("never"), peak("always")
    assert held - streamed > decoded / 2, (held, streamed)  # the floats are not held...
    assert 0 < reader < decoded / 4, reader  # ...nor gathered by a reading process


def _status_kib(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:  # the process has just ended
        pass
    return 0


def _private_kib(pid):
    """Memory the process does not share with its parent (what it has itself written or read)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return sum(int(line.split()[1]) for line in rollup if line.startswith(("Private_Clean:", "Private_Dirty:")))


def _children(pid):
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except OSError:
        return []


# ----------------------------------------------------------------------------- evaluation
def test_a_labelled_folder_is_measured_in_a_classifier_trained_on_its_labels(photos, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    dataset = Component("image-folder", root=str(photos), size=28, channels=1, labels="folders")
    data = ganzoo.load_dataset(dataset)
    # The folder's own images against themselves (all of them, so the same set): FD 0, full coverage.
    same = evaluate(lambda k: data.x[:k], dataset, ["fd", "coverage", "score"], len(data))
    assert same["fd"] == pytest.approx(0, abs=1e-4) and same["coverage"] == 1.0
    noise = evaluate(lambda k: torch.rand(k, 1, 28, 28) * 2 - 1, dataset, ["fd", "coverage"], len(data))
    assert noise["fd"] > 10 and noise["coverage"] < 0.2
    assert list((tmp_path / "cache" / "classifiers").glob("folder-*.pt"))  # trained once, cached


def test_an_unlabelled_folder_names_the_metrics_it_can_be_evaluated_with(photos, tmp_path, capsys):
    """No classifier of its own (no labels), so no default metric applies; RGB images can
    still be measured in Inception's features, which are computed only when named."""
    run = tmp_path / "run"
    assert main(["run", "dcgan-folder", "--out", str(run), "--set", f"dataset.root={photos}",
                 "--set", "dataset.size=32", "--set", "steps=2", *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", str(run / "checkpoints" / "last.pt"), "-n", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no metric was named; metrics that apply to dataset 'image-folder': inception-fid, inception-is, kid" \
        in err and "\n" not in err


def test_dcgan_cifar10_is_evaluated_in_a_classifier_trained_on_cifar10(tmp_path, digits, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    write_cifar(tmp_path / "data" / "cifar10" / "cifar-10-batches-py", digits)
    run = tmp_path / "run"
    assert main(["run", "dcgan-cifar10", "--data-dir", str(tmp_path / "data"), "--out", str(run),
                 "--set", "steps=2", "--set", "dataset.download=false", *TINY]) == 0
    out = tmp_path / "e.json"
    assert main(["eval", str(run / "checkpoints" / "last.pt"), "--data-dir", str(tmp_path / "data"),
                 "-n", "40", "--json", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    assert {"fd", "score", "classes", "precision", "recall", "coverage"} <= set(metrics) and metrics["fd"] > 0
