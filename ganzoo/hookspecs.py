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
    In a run of several processes, ``batch`` is the rank's slice and the network
    a phase trains is wrapped in DDP, which averages the gradients of what its
    ``forward`` computes: reach it through ``D(x)``/``G(z)`` (``ganzoo.discriminate``,
    ``ganzoo.generate``), not another method, and draw latents with
    ``G.sample_latent``.
    """


@hookspec
def register_datasets(register):
    """Register datasets: ``register(name, factory, description=None)``.

    ``factory(root: Path, **options)`` returns a ``ganzoo.TensorData`` (samples,
    optional labels and labelled-mask, and its ``DataSpec``), or, for data
    larger than ``ganzoo.memory_budget()``, a ``ganzoo.StreamData`` that reads
    samples from files batch by batch in the same order. ``root`` is the
    data directory from ``--data-dir`` or ``GANZOO_DATA_DIR``; a factory that
    cannot find its files raises ``GanzooError`` saying which file goes where.
    A factory may carry a ``locate(root)`` attribute returning a list of
    ``ganzoo.DataFile``, one per file it reads: the ``path`` it would read
    (``None`` if missing), the ``problem`` its checks find there ('' if intact),
    the ``folder`` a copy belongs in (the folder it actually reads, even when
    that is another dataset's) and whether it ``downloads`` the file itself.
    ``ganzoo data`` reports each dataset as present, damaged or missing from it.
    A dataset whose files are elsewhere (a folder named in its options) returns
    ``[]`` and may say where in a ``location`` attribute (a string).
    ``ganzoo data NAME --set option=value`` reads one dataset and reports its
    samples, shape, classes and whether it is held or streamed, plus, when the
    returned data has them, its ``skipped`` files (a list of ``(file, why)``)
    and its ``location``.
    """


@hookspec
def register_recipes(register):
    """Register named, runnable recipes: ``register(name, recipe, description=None)``.

    ``recipe`` is a ``ganzoo.Recipe``; ``ganzoo run NAME`` trains it. The
    description defaults to the recipe's own. A hook cannot look other recipes
    up, so a recipe built on another plugin's is registered as
    ``ganzoo.Derived(base_name, **changes)``: the registry makes it with
    ``Recipe.replace`` once every plugin has registered (an unknown base, a
    cycle or an invalid change drops that recipe alone, with one warning).
    """


@hookspec
def register_optimizers(register):
    """Register optimizers: ``register(name, factory, description=None)``.

    ``factory(params, **options)`` takes a list of parameters (already on the
    training device) and returns a ``torch.optim.Optimizer``; a recipe's
    ``g_optim``/``d_optim`` name it with its options, e.g.
    ``Component("adam", lr=2e-4, betas=(0.5, 0.999))``. A ``torch.optim`` class is
    such a factory as it stands. Schedules change the ``lr`` of every parameter
    group, and the momentum in ``momentum`` (SGD) or ``betas[0]`` (Adam); keep
    those names for them to work.
    """


@hookspec
def register_schedules(register):
    """Register optimiser schedules: ``register(name, factory, description=None)``.

    ``factory(**options)`` returns a callback (see ``register_callbacks``) that
    sets ``trainer.g_optim``'s and ``trainer.d_optim``'s parameter groups from
    ``trainer.step`` and ``trainer.epoch``; a recipe names one in its
    ``schedule`` field. It must be a function of the step, the epoch and what
    the optimisers' own state holds (keep initial values in the parameter
    groups), so that a resumed run continues the same schedule. It sets
    ``every_rank = True``: in a run of several processes every rank's optimisers
    follow it.
    """


@hookspec
def register_augmentations(register):
    """Register augmentations of D's input: ``register(name, factory, description=None)``.

    ``factory(**options)`` returns a callable ``augment(x) -> x'`` on a batch of
    samples ``(n, *spec.shape)``, keeping the shape and differentiable in ``x``
    (G is trained through it), drawing its randomness from torch's global
    generator on ``x``'s device (so runs are reproducible and resume exactly). A
    recipe names one in its ``augment`` field (``--set augment=diffaugment``);
    it is then applied to every input of D's ``forward`` in training mode,
    real and generated alike, in both phases, and never in evaluation
    (``ganzoo.augment.augment_inputs``).
    """


@hookspec
def register_callbacks(register):
    """Register callbacks a recipe can list: ``register(name, factory, description=None)``.

    ``factory(**options)`` returns an object with any of the trainer's events
    as methods (``on_train_start(trainer)``, ``on_step_end(trainer)``,
    ``on_log(trainer, metrics)``, ``on_epoch_end(trainer)``,
    ``on_train_end(trainer)``; ``ganzoo.callbacks.Callback`` is a base with
    no-op defaults). A recipe lists them by name in ``callbacks``
    (``--set callbacks=[tensorboard]``, ``--set callbacks.tensorboard.every=10``).
    ``ganzoo run`` first sets ``callback.run_dir`` to the run directory
    (``None`` from Python without one) when the object has that attribute, so a
    callback that writes files puts them there. A callback with
    ``state_dict()``/``load_state_dict(state)`` is saved in checkpoints under
    its ``state_key`` attribute (default: its registered name). In a run of
    several processes a callback runs on rank 0 alone (where the run directory
    is) unless it sets ``every_rank = True`` (it changes training).
    """


@hookspec
def register_metrics(register):
    """Register evaluation metrics: ``register(name, metric, description=None)``.

    ``metric`` is an object like ``ganzoo.Metric`` (subclass it): ``metric(evaluation)``
    returns plain floats keyed by name, and ``metric.unusable(evaluation)`` returns
    why it cannot be computed for this dataset and generator (a few words) or
    ``None``; it is asked before anything is generated. ``evaluation`` is a
    ``ganzoo.Evaluation``: ``.fake`` (n generated samples), ``.test`` (the
    dataset's test split as ``TensorData``), ``.real_samples()`` (the n real
    test samples compared, a pick under the seed), ``.real_features()`` and
    ``.fake_features()`` in the dataset's reference features, ``.fake_probs()``,
    ``.labels`` (classes a conditional generator was asked for), ``.classify``
    (the run's classifying discriminator, or ``None``), ``.device`` (where the
    run samples: use a GPU only when it is CUDA), ``.once(key, fn)`` for
    what several metrics share, ``.features_unusable()`` (why reference features
    cannot be computed here, for ``unusable``), ``.generated`` (every drawn
    sample, when ``samples`` asked for more than ``n``). Attributes it may set:
    ``min_n`` (fewest samples it is defined for), ``samples`` (generated
    samples it needs in all, if more than ``n``),
    ``compares_real`` (compares with ``n`` real test samples), ``default``
    (computed when no metric is named); method ``protocol(evaluation)``
    (how it was measured, sample counts and preprocessing, printed by ``ganzoo
    eval`` under its table and saved in its JSON). ``ganzoo eval --metrics NAME`` and a
    recipe's ``eval_metrics`` name it; its values are logged as ``eval_<key>``.
    """


@hookspec
def register_references(register):
    """Register a dataset's reference feature space: ``register(name, factory, description=None)``.

    A dataset names its reference in ``TensorData(..., reference=NAME)``; metrics
    that compare features (``fd``, ``precision``, ``recall``, ``density``,
    ``coverage``) and, when it gives class probabilities, ``score``, ``classes``
    and ``class-accuracy`` then apply to it. ``factory(data_dir, cache, dataset)``
    (``dataset``: the recipe's dataset ``Component``, for a reference that
    depends on the data, e.g. one trained from a folder's labels) returns
    an object with ``features(x, value_range) -> (n, d)`` and optionally
    ``probs(x, value_range) -> (n, k)``, ``channels`` (the channels it takes)
    and ``key`` (changes when its weights do). Keep the factory cheap and load
    or train weights on the first ``features`` call: the factory also runs when
    only checking which metrics apply. ``cache`` is the folder for such weights
    (``None``: ``GANZOO_CACHE_DIR``).
    """


@hookspec
def register_commands(register):
    """Register ``ganzoo`` subcommands: ``register(name, command, description=None)``.

    ``command(argv: list[str]) -> int`` runs ``ganzoo NAME ARGS...`` with the
    arguments after the name and returns the exit status; it parses them as it
    likes (argparse with ``prog=f"ganzoo {name}"`` works well). A
    ``ganzoo.GanzooError`` it raises is printed as one ``error:`` line with exit
    status 2, as for every built-in command. Built-in command names (run, list,
    plugins, sample, eval, classifier, data, recipe) cannot be taken.
    """
