"""`ganzoo data` reports what the datasets would find: intact files as present, damaged
ones (truncated, wrong magic number, broken gzip) by name and problem, and missing ones
with the folder the dataset actually reads — MNIST's own folder for the datasets built
on MNIST's files. Real MNIST files, the installed command in a subprocess."""

import gzip
import shutil

import pytest

import ganzoo
from ganzoo import Component, GanzooError

MNIST_READERS = ("mnist", "stacked-mnist", "semi-supervised")  # every dataset that reads MNIST's files


@pytest.fixture
def root(tmp_path, data_dir):
    """A data folder holding a copy of the real MNIST files (and no Fashion-MNIST)."""
    shutil.copytree(data_dir / "mnist", tmp_path / "data" / "mnist")
    return tmp_path / "data"


def report(cli, root) -> tuple[str, dict[str, tuple[str, str]]]:
    """The output of `ganzoo data --data-dir root`, and per dataset its (status, files)
    cells with the lines rich wrapped a cell onto joined again."""
    result = cli("data", "--data-dir", str(root), env={"COLUMNS": "200"}, timeout=120)
    assert result.returncode == 0, result.stderr  # a report: exit 0 whatever it finds
    rows: dict[str, list[str]] = {}
    last = None
    for line in result.stdout.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            last = cells[0]
            rows[last] = cells[1:]
        else:  # a wrapped continuation of the row above
            rows[last] = [" ".join(filter(None, pair)) for pair in zip(rows[last], cells[1:])]
    return result.stdout, {name: (cells[1], cells[2]) for name, cells in rows.items()}


def test_intact_files_are_reported_present_and_verified(cli, root):
    out, rows = report(cli, root)
    for name in MNIST_READERS:
        assert rows[name] == ("present", f"verified in {root / 'mnist'}"), out
    assert rows["ring"][0] == "generated"
    status, files = rows["fashion-mnist"]
    assert status == "missing" and f"put them in {root / 'fashion-mnist'}/" in files


def test_a_truncated_file_is_damaged_not_present(cli, root):
    gz = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])  # the first half of the gzip file
    labels = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.unlink()
    (root / "mnist" / "t10k-labels-idx1-ubyte").write_bytes(raw[: len(raw) // 2])  # half a raw file
    out, rows = report(cli, root)
    for name in MNIST_READERS:
        status, files = rows[name]
        assert status == "damaged", out
        assert f"{gz}: damaged gzip file (" in files
        assert f"{root / 'mnist' / 't10k-labels-idx1-ubyte'}: truncated: 5004 bytes, expected 10008" in files
    assert "present" not in rows["mnist"][1] and "verified" not in rows["mnist"][1]


def test_a_wrong_magic_number_is_damaged_in_raw_and_gzip_files(cli, root):
    def with_magic(data: bytes, magic: int) -> bytes:
        return magic.to_bytes(4, "big") + data[4:]

    images = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(with_magic(gzip.decompress(images.read_bytes()), 1234)))
    labels = root / "mnist" / "train-labels-idx1-ubyte.gz"
    raw = gzip.decompress(labels.read_bytes())
    labels.unlink()
    (root / "mnist" / "train-labels-idx1-ubyte").write_bytes(with_magic(raw, 2051))  # an image file's magic
    out, rows = report(cli, root)
    status, files = rows["stacked-mnist"]
    assert status == "damaged", out
    assert "t10k-images-idx3-ubyte.gz: wrong magic number 1234, expected 2051" in files
    assert "train-labels-idx1-ubyte: wrong magic number 2051, expected 2049" in files
    assert "t10k-labels" not in files and "train-images" not in files  # the intact ones are not named
    assert rows["mnist"] == rows["semi-supervised"] == rows["stacked-mnist"]


def test_an_empty_folder_names_the_folders_the_datasets_read(cli, tmp_path):
    out, rows = report(cli, tmp_path)
    for name in MNIST_READERS:
        status, files = rows[name]
        assert status == "missing", out
        assert "t10k-images-idx3-ubyte.gz" in files and "downloaded on first use when online" in files
        assert files.endswith(f"put them in {tmp_path / 'mnist'}/")
    assert "stacked-mnist/" not in out and "semi-supervised/" not in out  # folders nothing reads


def test_the_report_and_the_loader_agree_on_each_problem(root):
    """locate checks a file as loading does: the problem it reports is the one loading raises."""
    folder = root / "mnist"
    images = folder / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(images.read_bytes())
    locate = ganzoo.default_registry().factory("datasets", "mnist").locate
    for damaged, problem in [
        (raw[:10], "truncated: 10 bytes, shorter than the 16-byte IDX header"),
        (raw + b"\0", "padded: 7840017 bytes, expected 7840016"),
        (raw[:16] + raw[16:-784], "truncated: 7839232 bytes, expected 7840016"),
        (gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes()), "holds 60000 items, expected 10000"),
    ]:
        images.write_bytes(gzip.compress(damaged))
        found = {f.name: f for f in locate(root)}["t10k-images-idx3-ubyte.gz"]
        assert found.status == "damaged" and found.path == images and found.problem.startswith(problem)
        with pytest.raises(GanzooError) as info:
            ganzoo.load_dataset(Component("mnist", split="test", download=False), root)
        assert f"{images}: {found.problem};" in str(info.value)
    corrupt = bytearray(gzip.compress(raw))
    corrupt[len(corrupt) // 2] ^= 0xFF  # a flipped byte inside the deflate stream
    images.write_bytes(bytes(corrupt))
    found = {f.name: f for f in locate(root)}["t10k-images-idx3-ubyte.gz"]
    assert found.status == "damaged" and found.problem.startswith("damaged gzip file")
