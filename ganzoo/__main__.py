"""``python -m ganzoo``: the ganzoo command, as torchrun launches it::

    torchrun --nproc-per-node 2 -m ganzoo run vanilla-mnist
"""

import sys

from .cli import main

sys.exit(main())
