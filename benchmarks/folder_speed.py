"""Reading a folder of images: ganzoo's streamed path, its in-memory path, and a
plain ``torchvision.datasets.ImageFolder`` + ``DataLoader`` loop, on one folder.

Each path runs in a fresh process (so its peak resident memory, VmHWM, is its
own) and draws ``--epochs`` epochs of batches of 64 at 64x64 RGB onto the CPU,
the way the trainer draws them; ``--train`` also takes one dcgan-folder step
(width 32) per batch, to show whether reading keeps up with training.

    streamed:    image-folder with stream=always: worker processes decode each
                 batch while earlier ones are used (ganzoo's default workers)
    in-memory:   image-folder with stream=never: decoded once (timed apart, as
                 "first load"; later runs read the decoded cache), then batches
                 are indexed from one tensor
    imagefolder: ImageFolder(Resize(64), CenterCrop(64), PILToTensor) and a
                 shuffling DataLoader with the same workers, converted to
                 [-1, 1] per batch

The folder is generated unless ``--folder`` names one: ``--images`` JPEG files
of 160x120 (smooth random colour fields, so decoding and resizing are real work).

Usage: python benchmarks/folder_speed.py [--images 6000] [--epochs 2] [--workers N] [--train]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SIZE, BATCH = 64, 64


def make_folder(root: Path, n: int) -> None:
    (root / "all").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        field = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        field.resize((160, 120), Image.BICUBIC).save(root / "all" / f"{i:06d}.jpg", quality=90)


def run_path(path: str, folder: str, epochs: int, workers: int, train: bool) -> dict:
    """One path, in this process: seconds for the first load, then for the epochs."""
    import torch

    import ganzoo
    from ganzoo import Component

    torch.set_num_threads(1)  # the other core is the reading process's
    start = time.perf_counter()
    if path == "imagefolder":
        from torchvision import datasets, transforms
        from torch.utils.data import DataLoader

        tf = transforms.Compose([transforms.Resize(SIZE), transforms.CenterCrop(SIZE), transforms.PILToTensor()])
        dataset = datasets.ImageFolder(folder, transform=tf)
        loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=workers,
                            generator=torch.Generator().manual_seed(0))
        length = len(dataset)

        def epoch_batches():
            for x, _ in loader:
                yield x.float().mul_(2 / 255).sub_(1)
    else:
        data = ganzoo.load_dataset(Component("image-folder", root=folder, size=SIZE, workers=workers,
                                             stream="always" if path == "streamed" else "never"))
        length = len(data)
        stream = data.batches(0, BATCH)
        per_epoch = data.batches_per_epoch(BATCH)

        def epoch_batches():
            for _ in range(per_epoch):
                yield next(stream).x
    loaded = time.perf_counter() - start
    step = None
    if train:
        G = ganzoo.create("generators", Component("dcgan", width=32), ganzoo.DataSpec((3, SIZE, SIZE)))
        D = ganzoo.create("discriminators", Component("dcgan", width=32), ganzoo.DataSpec((3, SIZE, SIZE)))
        opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
        bce = torch.nn.functional.binary_cross_entropy_with_logits

        def step(x):
            fake = G(G.sample_latent(len(x)))
            real_logit, fake_logit = D(x), D(fake.detach())
            d_loss = bce(real_logit, torch.ones_like(real_logit)) + bce(fake_logit, torch.zeros_like(fake_logit))
            opt_d.zero_grad(), d_loss.backward(), opt_d.step()
            g_logit = D(fake)
            g_loss = bce(g_logit, torch.ones_like(g_logit))
            opt_g.zero_grad(), g_loss.backward(), opt_g.step()
    seen, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x in epoch_batches():
            assert x.shape == (BATCH, 3, SIZE, SIZE)
            if step is not None:
                step(x)
            seen += len(x)
    seconds = time.perf_counter() - start
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return {"path": path, "images": length, "load_s": loaded, "epoch_s": seconds / epochs,
            "images_per_s": seen / seconds, "peak_rss_mb": hwm / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=max(1, min(8, (os.cpu_count() or 2) - 1)))
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one path in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_path(args.one, str(args.folder), args.epochs, args.workers, args.train)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("GANZOO_CACHE_DIR", str(Path(tmp) / "cache"))
        folder = args.folder
        if folder is None:
            folder = Path(tmp) / "images"
            make_folder(folder, args.images)
        print(f"{args.images if args.folder is None else 'given'} images, batch {BATCH}, {SIZE}x{SIZE} RGB, "
              f"{args.workers} worker(s), {args.epochs} epoch(s){', one dcgan step per batch' if args.train else ''}")
        print(f"{'path':<12} {'first load s':>12} {'s/epoch':>8} {'images/s':>9} {'peak RSS MB':>12}")
        for path in ("in-memory", "in-memory", "streamed", "imagefolder"):  # in-memory twice: cold, then cached
            command = [sys.executable, __file__, "--one", path, "--folder", str(folder), "--epochs", str(args.epochs),
                       "--workers", str(args.workers), *(["--train"] if args.train else [])]
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            print(f"{path:<12} {result['load_s']:>12.1f} {result['epoch_s']:>8.2f} {result['images_per_s']:>9.0f} "
                  f"{result['peak_rss_mb']:>12.0f}")


if __name__ == "__main__":
    main()
