"""vanilla-mnist step time: the Trainer against a bare loop and a PyTorch-GAN-style loop.

The Keras tutorial's MLP G and D, batch 64 (see ``sidebyside.py`` for the loops).
Targets: trainer overhead <= +5% over the bare loop, >= 1.5x the PyTorch-GAN loop.

Usage: GANZOO_DATA_DIR=... python benchmarks/vanilla_mnist_speed.py [--steps 200] [--rounds 7]
"""

import torch

from ganzoo import Component
from sidebyside import Setup, arguments, compare

if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0], steps=200, rounds=7)
    compare(Setup(Component("mlp"), Component("mlp"), batch_size=64, steps=args.steps, rounds=args.rounds,
                  device=torch.device(args.device), compile=args.compile))
