"""Every hook a ganzoo plugin can implement. This is the one file a plugin author reads.

Each hook receives a ``register`` function and calls it once per component, as in
llm and datasette. A plugin is any module with ``@ganzoo.hookimpl`` functions,
registered through the ``ganzoo`` entry-point group of its distribution::

    [project.entry-points.ganzoo]
    lsgan = "ganzoo_lsgan"

Names are global, and a plugin can only break itself. Each ``register`` call is
checked: the name is a non-empty string without spaces, the object is callable
(a ``ganzoo.Recipe`` for recipes). A hook that raises anything (``SystemExit``
included) or registers something invalid drops that whole plugin, even what it
registered before, with one warning naming its distribution and
``GANZOO_DISABLE_PLUGINS=<plugin>``. When a name is already taken under a kind,
the built-in (distribution ``ganzoo``) keeps it whatever the load order, else
the plugin registered first; the other plugin gets one warning and loses only
that entry. Factories are looked up by name when a recipe is built.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def register_generators(register):
    """Register generator factories: ``register(name, factory, description=None)``.

    ``factory(spec: DataSpec, **options)`` returns an ``nn.Module`` with a
    ``latent_dim`` attribute, ``sample_latent(n, device)`` and ``forward(z, y=None)``
    producing samples of shape ``spec.shape`` in ``spec.value_range``. A
    conditional generator sets ``conditional = True`` and takes labels ``y``.
    The description defaults to the first line of the factory's docstring.
    """


@hookspec
def register_discriminators(register):
    """Register discriminator factories: ``register(name, factory, description=None)``.

    ``factory(spec: DataSpec, **options)`` returns an ``nn.Module`` whose
    ``forward(x, y=None)`` maps a batch of shape ``(n, *spec.shape)`` to logits
    ``(n,)`` (or ``(n, k)`` for a multi-class discriminator), and which may
    expose ``features(x, y=None)`` for feature matching and minibatch
    discrimination.
    """


@hookspec
def register_losses(register):
    """Register adversarial losses: ``register(name, factory, description=None)``.

    ``factory(**options)`` returns an object with ``discriminator_loss(batch, G, D)``
    and ``generator_loss(batch, G, D)``, each returning ``(scalar, logs)`` where
    ``logs`` maps names to detached scalar tensors (see ``ganzoo.GANLoss``).
    """


@hookspec
def register_datasets(register):
    """Register datasets: ``register(name, factory, description=None)``.

    ``factory(root: Path, **options)`` returns a ``ganzoo.TensorData`` (samples,
    optional labels and labelled-mask, and its ``DataSpec``). ``root`` is the
    data directory from ``--data-dir`` or ``GANZOO_DATA_DIR``; a factory that
    cannot find its files raises ``GanzooError`` saying which file goes where.
    A factory may carry a ``locate(root)`` attribute returning a list of
    ``ganzoo.DataFile``, one per file it reads: the ``path`` it would read
    (``None`` if missing), the ``problem`` its checks find there ('' if intact),
    the ``folder`` a copy belongs in (the folder it actually reads, even when
    that is another dataset's) and whether it ``downloads`` the file itself.
    ``ganzoo data`` reports each dataset as present, damaged or missing from it.
    """


@hookspec
def register_recipes(register):
    """Register named, runnable recipes: ``register(name, recipe, description=None)``.

    ``recipe`` is a ``ganzoo.Recipe``; ``ganzoo run NAME`` trains it. The
    description defaults to the recipe's own.
    """
