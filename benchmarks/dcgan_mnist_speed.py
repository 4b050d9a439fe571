"""dcgan-mnist step time: the Trainer against a bare loop and a PyTorch-GAN-style loop.

The DCGAN G and D of dcgan-mnist (width 64, 28x28), batch 128 (see
``sidebyside.py`` for the loops). On a CPU the convolutions dominate, so the
loops differ less than for the MLPs; on a GPU the loop's own cost shows.

Usage: GANZOO_DATA_DIR=... python benchmarks/dcgan_mnist_speed.py [--steps 30] [--rounds 5] [--device cuda]
"""

import torch

from ganzoo import Component
from sidebyside import Setup, arguments, compare

if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], steps=30, rounds=5)
    compare(Setup(Component("dcgan", width=64), Component("dcgan", width=64), batch_size=128,
                  steps=args.steps, rounds=args.rounds, device=torch.device(args.device), compile=args.compile))
