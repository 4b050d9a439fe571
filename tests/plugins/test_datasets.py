"""MNIST and Fashion-MNIST from IDX files, gzip or raw, with clear errors for bad files."""

import gzip
import hashlib
import shutil

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError


def test_mnist_train_split_is_the_real_data(mnist, data_dir):
    assert mnist.x.shape == (60_000, 1, 28, 28) and mnist.y.shape == (60_000,)
    assert mnist.x.min() == -1.0 and mnist.x.max() == 1.0
    assert torch.bincount(mnist.y).tolist()[:3] == [5923, 6742, 5958]  # published class counts
    # The decoded pixels are the file's bytes: MD5 from shared/data/README.md.
    raw = gzip.decompress((data_dir / "mnist" / "train-images-idx3-ubyte.gz").read_bytes())
    assert hashlib.md5(raw).hexdigest() == "6bbc9ace898e44ae57da46a324031adb"
    pixels = ((mnist.x[:2] + 1) * 127.5).round().to(torch.uint8).flatten()
    assert pixels.tolist() == list(raw[16 : 16 + 2 * 784])


def test_test_split_and_unit_range(data_dir):
    test = ganzoo.load_dataset(Component("mnist", split="test", value_range=(0.0, 1.0)), data_dir)
    assert len(test) == 10_000 and test.spec.value_range == (0.0, 1.0)
    assert test.x.min() == 0.0 and test.x.max() == 1.0


def test_fashion_mnist(data_dir):
    data = ganzoo.load_dataset(Component("fashion-mnist", split="test"), data_dir)
    assert len(data) == 10_000 and data.spec.num_classes == 10
    assert torch.bincount(data.y).tolist() == [1000] * 10


def test_raw_uncompressed_files_read_the_same(tmp_path, data_dir):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(gzip.decompress((data_dir / "mnist" / f"{name}.gz").read_bytes()))
    raw = ganzoo.load_dataset(Component("mnist", split="test", download=False), tmp_path)
    gz = ganzoo.load_dataset(Component("mnist", split="test"), data_dir)
    assert torch.equal(raw.x, gz.x) and torch.equal(raw.y, gz.y)


@pytest.fixture
def copied(tmp_path, data_dir):
    folder = tmp_path / "mnist"
    shutil.copytree(data_dir / "mnist", folder)
    return folder


def load_test(root):
    return ganzoo.load_dataset(Component("mnist", split="test", download=False), root)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(GanzooError) as info:
        load_test(tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz not found" in message and str(tmp_path / "mnist") in message
    assert "GANZOO_DATA_DIR" in message


def test_truncated_file(copied):
    path = copied / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-1000]))
    with pytest.raises(GanzooError, match="t10k-images-idx3-ubyte.gz: truncated: 7839016 bytes, expected 7840016"):
        load_test(copied.parent)


def test_damaged_gzip(copied):
    path = copied / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(GanzooError, match="damaged gzip"):
        load_test(copied.parent)


def test_wrong_magic_number(copied):
    # The label file where the image file should be.
    shutil.copy(copied / "t10k-labels-idx1-ubyte.gz", copied / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(GanzooError, match="magic number 2049, expected 2051"):
        load_test(copied.parent)


def test_unknown_split(data_dir):
    with pytest.raises(GanzooError, match="unknown split 'val'"):
        ganzoo.load_dataset(Component("mnist", split="val"), data_dir)


def test_locate_reports_present_and_missing_files(tmp_path, data_dir):
    factory = ganzoo.default_registry().factory
    files = factory("datasets", "mnist").locate(data_dir)
    assert {f.name for f in files} == {f"{split}-{kind}.gz" for split in ("train", "t10k")
                                       for kind in ("images-idx3-ubyte", "labels-idx1-ubyte")}
    assert all(f.status == "present" and f.path == data_dir / "mnist" / f.name and f.problem == "" for f in files)
    for name in ("mnist", "stacked-mnist", "semi-supervised"):  # the latter two read MNIST's files, where MNIST does
        missing = factory("datasets", name).locate(tmp_path)
        assert len(missing) == 4 and all(isinstance(f, ganzoo.DataFile) for f in missing)
        assert all(f.status == "missing" and f.path is None and f.downloads for f in missing)
        assert {f.folder for f in missing} == {tmp_path / "mnist"}
    fashion = factory("datasets", "fashion-mnist").locate(tmp_path)
    assert {f.folder for f in fashion} == {tmp_path / "fashion-mnist"}


def test_locate_finds_torchvision_downloads_and_checks_them(tmp_path, data_dir):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(data_dir / "mnist", raw)
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"not an IDX file")
    files = {f.name: f for f in ganzoo.default_registry().factory("datasets", "mnist").locate(tmp_path)}
    assert files["t10k-images-idx3-ubyte.gz"].path == raw / "t10k-images-idx3-ubyte.gz"
    labels = files["train-labels-idx1-ubyte.gz"]
    assert labels.status == "damaged" and labels.problem.startswith("wrong magic number")
    assert labels.folder == tmp_path / "mnist"  # where a hand-made copy goes


def test_stacked_mnist_stacks_three_real_digits(data_dir, mnist):
    data = ganzoo.load_dataset(Component("stacked-mnist", n=500, seed=3), data_dir)
    assert data.x.shape == (500, 3, 28, 28) and data.spec.num_classes == 1000
    assert data.reference == "mnist"
    # Each channel is an MNIST training image, and the label spells the three digits.
    for i in range(5):
        digits = []
        for c in range(3):
            match = (mnist.x[:, 0] == data.x[i, c]).flatten(1).all(1).nonzero()
            assert len(match) >= 1
            digits.append(int(mnist.y[match[0, 0]]))
        assert data.y[i] == digits[0] * 100 + digits[1] * 10 + digits[2]
    again = ganzoo.load_dataset(Component("stacked-mnist", n=500, seed=3), data_dir)
    assert torch.equal(again.y, data.y)


def test_mixtures_carry_their_modes_and_are_unbounded():
    ring = ganzoo.load_dataset(Component("ring", n=1000))
    assert ring.spec.shape == (2,) and ring.spec.value_range is None and ring.modes.shape == (8, 2)
    assert torch.allclose(ring.modes.norm(dim=1), torch.ones(8))
    grid = ganzoo.load_dataset(Component("grid", n=1000))
    assert grid.modes.shape == (25, 2) and grid.mode_sigma == 0.05
    assert set(grid.modes[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_a_vanilla_gan_trains_on_the_ring(tiny_recipe, fit_and_check_it_learns):
    recipe = tiny_recipe.replace(dataset=Component("ring", n=2000), steps=5)
    trainer = fit_and_check_it_learns(ganzoo.build(recipe, device="cpu"), ("d_loss", "g_loss", "d_real", "d_fake"))
    points = trainer.sample(7)
    assert points.shape == (7, 2) and torch.isfinite(points).all()


def test_start_and_stop_keep_a_slice(mnist, data_dir):
    part = ganzoo.load_dataset(Component("mnist", start=50_000), data_dir)
    assert len(part) == 10_000 and torch.equal(part.x, mnist.x[50_000:])
    with pytest.raises(GanzooError, match="select no images"):
        ganzoo.load_dataset(Component("mnist", start=70_000), data_dir)
