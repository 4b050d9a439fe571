"""The semi-supervised plugin: an honest labelled subset, the K+1-class loss and
feature matching, the reference networks, and D's test error from `ganzoo eval`."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from ganzoo import Batch, Component, DataSpec, GanzooError
from ganzoo.callbacks import EMA, Callback
from ganzoo.cli import main
from ganzoo.nn import WeightNormLinear
from ganzoo_semisupervised import (SemiSupervisedData, SemiSupervisedLoss, choose_labelled,
                                   feature_matching)

import ssgan_reference  # the reference's networks and step written again, sharing nothing with ganzoo's

SPEC01 = DataSpec((1, 28, 28), 10, (0.0, 1.0))
TINY = ["--set", "discriminator.hidden=[64,32]", "--set", "generator.hidden=[32]", "--set", "dataset.labels=20"]


@pytest.fixture(scope="module")
def mnist01(data_dir):
    return ganzoo.load_dataset(Component("mnist", value_range=(0.0, 1.0)), data_dir)


def test_labelled_subset_is_balanced_seeded_and_from_the_training_split(mnist01):
    index = choose_labelled(mnist01.y, 100, 10, seed=0)
    assert len(index) == len(index.unique()) == 100 and index.max() < 60_000
    assert mnist01.y[index].bincount(minlength=10).tolist() == [10] * 10
    assert torch.equal(index, choose_labelled(mnist01.y, 100, 10, seed=0))
    assert not torch.equal(index, choose_labelled(mnist01.y, 100, 10, seed=1))


def test_only_the_chosen_labels_are_in_the_dataset(data_dir, mnist01):
    data = ganzoo.load_dataset(Component("semi-supervised", base="mnist", labels=100, value_range=(0, 1)), data_dir)
    assert isinstance(data, SemiSupervisedData) and len(data) == 60_000
    chosen = data.labelled.nonzero().squeeze(1)
    assert torch.equal(chosen, choose_labelled(mnist01.y, 100, 10, seed=0))
    assert torch.equal(data.y[chosen], mnist01.y[chosen])  # the kept labels are the true ones
    assert data.y[~data.labelled].eq(-1).all()  # all others are gone before any batch is drawn
    test = ganzoo.load_dataset(Component("semi-supervised", base="mnist", split="test"), data_dir)
    assert len(test) == 10_000 and test.y.ge(0).all() and test.labelled is None  # evaluation keeps its labels


def test_each_batch_is_unlabelled_samples_then_labelled_ones(data_dir):
    data = ganzoo.load_dataset(Component("semi-supervised", base="mnist", labels=100), data_dir)
    order = data.permutation(seed=3, epoch=0)
    assert order.shape == (60_000, 2)
    assert torch.equal(order[:, 0].sort().values, torch.arange(60_000))  # every image once per epoch
    chosen = set(data.labelled_index.tolist())
    assert set(order[:, 1].tolist()) == chosen  # the labelled column only ever holds the subset
    assert order[:100, 1].unique().numel() == 100  # each repetition of the subset is a permutation
    batch = data.take(order[:100])
    assert batch.x.shape[0] == 200 and batch.labelled.tolist() == [False] * 100 + [True] * 100
    assert batch.y[:100].eq(-1).all() and batch.y[100:].ge(0).all()
    assert torch.equal(data.permutation(3, 0), order) and not torch.equal(data.permutation(3, 1), order)


def test_second_unlabelled_block_is_a_second_permutation_after_the_labelled_one(data_dir):
    """The reference's trainx_unl2: G's real samples for feature matching come from
    their own permutation; the first two blocks are unchanged by the option."""
    plain = ganzoo.load_dataset(Component("semi-supervised", base="mnist", labels=100), data_dir)
    data = ganzoo.load_dataset(Component("semi-supervised", base="mnist", labels=100, second_unlabelled=True),
                               data_dir)
    order = data.permutation(seed=3, epoch=0)
    assert order.shape == (60_000, 3)
    assert torch.equal(order[:, :2], plain.permutation(seed=3, epoch=0))
    assert torch.equal(order[:, 2].sort().values, torch.arange(60_000))  # every image once per epoch
    assert (order[:, 2] != order[:, 0]).float().mean() > 0.99  # not the block D sees
    batch = data.take(order[:100])
    assert batch.labelled.tolist() == [False] * 100 + [True] * 100 + [False] * 100
    assert batch.y[:100].eq(-1).all() and batch.y[200:].eq(-1).all() and batch.y[100:200].ge(0).all()
    assert torch.equal(batch.x[200:], data.x[order[:100, 2]])


def test_feature_matching_uses_the_second_unlabelled_block_and_d_never_sees_it():
    D, G = FixedLogits(torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 3.0], [-1.0, -1.0, -1.0]])), ConstantG(2)
    for_d, labelled = torch.tensor([[0.0, 1.0], [1.0, 3.0]]), torch.tensor([[0.0, 0.0]])
    for_g = torch.tensor([[1.0, 5.0], [1.0, 7.0]])
    mask = torch.tensor([False, False, True])
    two = Batch(x=torch.cat([for_d, labelled]), y=torch.tensor([-1, -1, 0]), labelled=mask)
    three = Batch(x=torch.cat([for_d, labelled, for_g]), y=torch.tensor([-1, -1, 0, -1, -1]),
                  labelled=torch.cat([mask, torch.tensor([False, False])]))
    loss = SemiSupervisedLoss()
    torch.testing.assert_close(loss.discriminator_loss(three, G, D)[0], loss.discriminator_loss(two, G, D)[0])
    fake = torch.full((2, 2), 2.0)
    # G's real batch is the third block, mean (1, 6): ((1 - 2)² + (6 - 2)²) / 2
    torch.testing.assert_close(loss.generator_loss(three, G, D)[0], torch.tensor((1 + 16) / 2))
    torch.testing.assert_close(loss.generator_loss(three, G, D)[0], feature_matching(D, for_g, fake))
    # without the third block G matches D's block, mean (0.5, 2): ((0.5 - 2)² + 0²) / 2
    torch.testing.assert_close(loss.generator_loss(two, G, D)[0], torch.tensor(1.5 ** 2 / 2))


def test_labels_outside_the_subset_cannot_reach_the_loss(mnist01):
    """Scramble every label outside the subset: the loss and all gradients stay identical."""
    x, y = mnist01.x[:2000], mnist01.y[:2000]
    index = choose_labelled(y, 20, 10, seed=0)
    scrambled = (y + 1 + torch.randint(0, 9, y.shape)) % 10  # differs from y everywhere
    scrambled[index] = y[index]
    results = []
    for labels in (y, scrambled):
        data = SemiSupervisedData(x, labels, index, mnist01.spec)
        torch.manual_seed(0)
        G = ganzoo.create("generators", Component("ssgan-mlp", hidden=(32,)), SPEC01)
        D = ganzoo.create("discriminators", Component("ssgan-mlp", hidden=(64, 32)), SPEC01)
        batch = data.take(data.permutation(0, 0)[:50])
        loss, _ = SemiSupervisedLoss().discriminator_loss(batch, G, D)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in D.parameters()]))
    assert torch.equal(results[0][0], results[1][0])
    assert all(torch.equal(a, b) for a, b in zip(results[0][1], results[1][1]))


@pytest.mark.parametrize("labels, message", [(105, "multiple of the 10 classes"), (5, "multiple of the 10 classes"),
                                             (70_000, "more than the 60000 training samples")])
def test_bad_label_counts_are_one_line_errors(mnist01, labels, message):
    with pytest.raises(GanzooError, match=message):
        choose_labelled(mnist01.y, labels, 10, seed=0)


def test_bad_label_count_from_the_command_line(tmp_path, capsys):
    code = main(["run", "ssgan-mnist-100", "--out", str(tmp_path), "--set", "dataset.labels=15"])
    err = capsys.readouterr().err
    assert code == 2 and "labels=15 must be a positive multiple of the 10 classes" in err
    assert "Traceback" not in err


class FixedLogits(nn.Module):
    """A 'discriminator' returning given logits per input row (looked up by its first pixel)."""

    num_classes = 3

    def __init__(self, table):
        super().__init__()
        self.table = table
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.table[x.flatten(1)[:, 0].long()] * self.scale

    def features(self, x):
        return x.flatten(1) * self.scale


class ConstantG(nn.Module):
    latent_dim = 1

    def __init__(self, value):
        super().__init__()
        self.value = value

    def sample_latent(self, n, device=None):
        return torch.zeros(n, 1)

    def forward(self, z):
        return torch.full((len(z), 2), float(self.value))


def test_loss_is_the_k_plus_one_class_gan_loss():
    table = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 3.0], [-1.0, -1.0, -1.0]])
    D, G = FixedLogits(table), ConstantG(2)  # generated samples get row 2's logits
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    batch = Batch(x=x, y=torch.tensor([-1, -1, 0, 2]), labelled=torch.tensor([False, False, True, True]))
    loss, logs = SemiSupervisedLoss().discriminator_loss(batch, G, D)

    def d_real(logits):  # D(x) = Z / (Z + 1): the K+1-th class has logit 0
        z = logits.exp().sum()
        return z / (z + 1)

    p = F.softmax(table, 1)
    loss_lab = -(p[0, 0].log() + p[1, 2].log()) / 2
    loss_unl = -0.5 * (d_real(table[0]).log() + d_real(table[1]).log()) / 2 - 0.5 * (1 - d_real(table[2])).log()
    torch.testing.assert_close(logs["loss_lab"], loss_lab)
    torch.testing.assert_close(logs["loss_unl"], loss_unl)
    torch.testing.assert_close(loss, loss_lab + loss_unl)
    baseline, logs = SemiSupervisedLoss(unlabeled_weight=0).discriminator_loss(batch, G, D)
    torch.testing.assert_close(baseline, loss_lab)
    assert "loss_unl" not in logs  # the classifier baseline never sees generated or unlabelled samples


def test_feature_matching_compares_mean_features():
    D = FixedLogits(torch.zeros(3, 3))
    real, fake = torch.tensor([[1.0, 2.0], [3.0, 2.0]]), torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    # mean real (2, 2), mean fake (0, 0.5): ((2² + 1.5²) / 2)
    torch.testing.assert_close(feature_matching(D, real, fake), torch.tensor((4 + 2.25) / 2))


def test_semi_supervised_loss_needs_a_labelled_mask():
    D, G = FixedLogits(torch.zeros(3, 3)), ConstantG(0)
    with pytest.raises(GanzooError, match="labelled-mask; use the dataset semi-supervised"):
        SemiSupervisedLoss().discriminator_loss(Batch(x=torch.zeros(4, 2), y=torch.zeros(4, dtype=torch.long)), G, D)


def test_weight_norm_init_standardises_outputs_and_learns_scale_only_where_asked():
    torch.manual_seed(0)
    layer = WeightNormLinear(20, 7)
    x = torch.randn(500, 20) * 4 + 1
    layer.init_from(x)
    out = layer(x)
    torch.testing.assert_close(out.mean(0), torch.zeros(7), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.std(0, unbiased=False), torch.ones(7), atol=1e-4, rtol=0)
    assert [n for n, _ in layer.named_parameters()] == ["v", "bias"]  # g is a buffer: not learned
    assert "g" in dict(WeightNormLinear(20, 7, train_scale=True).named_parameters())


def test_reference_networks(mnist01):
    torch.manual_seed(0)
    D = ganzoo.create("discriminators", "ssgan-mlp", SPEC01)
    widths = [(m.v.shape[1], m.v.shape[0]) for m in D.modules() if isinstance(m, WeightNormLinear)]
    assert widths == [(784, 1000), (1000, 500), (500, 250), (250, 250), (250, 250), (250, 10)]
    assert ganzoo.classifies(D)
    x = mnist01.x[:8]
    D.eval()
    assert D(x).shape == (8, 10) and D.features(x).shape == (8, 250)
    assert torch.equal(D(x), D(x))  # no noise in eval mode
    D.train()
    assert not torch.equal(D(x), D(x))  # Gaussian noise in training mode
    G = ganzoo.create("generators", "ssgan-mlp", SPEC01)
    z = G.sample_latent(1000)
    assert z.min() >= 0 and z.max() < 1
    out = G(z)
    assert out.shape == (1000, 1, 28, 28) and out.min() >= 0 and out.max() <= 1
    assert not any(m.affine for m in G.modules() if isinstance(m, nn.BatchNorm1d))  # BatchNorm without γ
    with pytest.raises(GanzooError, match="needs data in \\[0, 1\\]"):
        ganzoo.create("generators", "ssgan-mlp", DataSpec((1, 28, 28), 10, (-1.0, 1.0)))


def test_generator_output_sigmoid_is_capped_at_one_softplus_is_not():
    z = torch.rand(1000, 100)
    torch.manual_seed(0)
    sigmoid = ganzoo.create("generators", Component("ssgan-mlp", output="sigmoid"), SPEC01)
    torch.manual_seed(0)
    softplus = ganzoo.create("generators", Component("ssgan-mlp", output="softplus"), SPEC01)
    a, b = sigmoid(z), softplus(z)
    assert a.max() < 1 and b.max() > 1 and b.min() > 0
    # same weights, only the last activation differs: both are monotone in one pre-activation
    torch.testing.assert_close(F.softplus(torch.logit(a.double())), b.double(), atol=1e-4, rtol=1e-4)


def test_unknown_generator_output_is_a_one_line_error(tmp_path, capsys):
    code = main(["run", "ssgan-mnist-100", "--out", str(tmp_path), "--set", "generator.output=tanh"])
    err = capsys.readouterr().err
    assert code == 2 and "generator output 'tanh': choose sigmoid or softplus" in err
    assert "Traceback" not in err


def test_data_dependent_init_runs_when_the_recipe_is_built(data_dir):
    recipe = ganzoo.get_recipe("ssgan-mnist-100")
    trainer = ganzoo.build(recipe.replace(steps=1), device="cpu")
    first = trainer.discriminator.hidden[0]
    assert not torch.equal(first.g, torch.ones_like(first.g))  # scaled to the data
    trainer.discriminator.eval()
    with torch.no_grad():
        h = F.relu(first(trainer.data.x[:500].flatten(1)))
    assert 0.2 < h.mean().item() < 0.6  # ReLU of standardised pre-activations: about 0.4


def test_ema_averages_the_discriminator_and_is_saved(small_mnist, tiny_recipe, tmp_path):
    trainer = ganzoo.Trainer(
        ganzoo.create("generators", tiny_recipe.generator, small_mnist.spec),
        ganzoo.create("discriminators", tiny_recipe.discriminator, small_mnist.spec),
        ganzoo.create("losses", "non-saturating"), small_mnist, batch_size=32, steps=1, device="cpu",
        callbacks=[EMA("discriminator", 0.25)])
    ema = trainer.callbacks[0]
    start = [p.detach().clone() for p in trainer.discriminator.parameters()]
    trainer.fit()
    for avg, p0, p1 in zip(ema.model.parameters(), start, trainer.discriminator.parameters()):
        torch.testing.assert_close(avg, p0 + 0.25 * (p1.detach() - p0))  # one step of the average
    path = trainer.save(tmp_path / "c.pt")
    saved = ganzoo.checkpoint.load(path)["callbacks"]["ema-discriminator"]
    assert saved["rate"] == 0.25 and torch.equal(saved["weights"]["head.weight"], ema.model.head.weight)
    resumed = ganzoo.Trainer(
        ganzoo.create("generators", tiny_recipe.generator, small_mnist.spec),
        ganzoo.create("discriminators", tiny_recipe.discriminator, small_mnist.spec),
        ganzoo.create("losses", "non-saturating"), small_mnist, batch_size=32, steps=1, device="cpu",
        callbacks=[EMA("discriminator", 0.25)])
    resumed.resume(path)
    resumed.fit()  # already at its last step: only restores
    torch.testing.assert_close(resumed.callbacks[0].model.head.weight, ema.model.head.weight)


def test_recipe_trains_and_eval_reports_the_discriminators_test_error(tmp_path, capsys):
    # A fast average (rate 0.5) so that 40 steps show; the recipe's 1e-4 needs thousands.
    code = main(["run", "ssgan-mnist-100", "--out", str(tmp_path), *TINY, "--set", "steps=40", "--set", "d_ema=0.5",
                 "--set", "eval_every=20", "--set", "log_every=10", "--device", "cpu"])
    assert code == 0
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    errors = [m["eval_test-error"] for m in logged if "eval_test-error" in m]
    assert len(errors) == 2 and all(e < 0.75 for e in errors)  # chance is 0.9: it learned from 20 labels
    assert any("loss_lab" in m and "train_err" in m for m in logged)
    checkpoint = tmp_path / "checkpoints" / "last.pt"
    assert main(["eval", str(checkpoint), "--metrics", "test-error", "--json", str(tmp_path / "e.json")]) == 0
    result = json.loads((tmp_path / "e.json").read_text())["metrics"]
    assert result["test-wrong"] == pytest.approx(result["test-error"] * 10_000)
    assert result["test-error"] == pytest.approx(errors[-1])  # eval uses the same averaged D as training did
    # D's own error is logged beside its average's: recompute it from the saved D
    own = [m["eval_test-wrong-unaveraged"] for m in logged if "eval_test-wrong-unaveraged" in m]
    state = ganzoo.checkpoint.load(checkpoint)
    D = ganzoo.create("discriminators", Component("ssgan-mlp", hidden=[64, 32]), SPEC01)
    D.load_state_dict(state["discriminator"])
    test = ganzoo.load_dataset(Component("mnist", split="test", value_range=(0.0, 1.0)))
    with torch.no_grad():
        wrong = (D.eval()(test.x).argmax(1) != test.y).sum().item()
    assert len(own) == 2 and own[-1] == wrong != result["test-wrong"]
    capsys.readouterr()
    vanilla = tmp_path / "vanilla"
    assert main(["run", "vanilla-mnist", "--out", str(vanilla), "--set", "steps=2", "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["eval", str(vanilla / "checkpoints" / "last.pt"), "--metrics", "test-error"]) == 2
    assert "does not classify" in capsys.readouterr().err


def test_feature_matching_loss_works_with_any_discriminator_with_features(tmp_path, data_dir):
    code = main(["run", "vanilla-mnist", "--out", str(tmp_path), "--set", "loss=feature-matching",
                 "--set", "steps=5", "--set", "log_every=5", "--device", "cpu"])
    assert code == 0
    (logged,) = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert math.isfinite(logged["d_loss"]) and math.isfinite(logged["g_loss"]) and logged["g_loss"] > 0
    state = ganzoo.checkpoint.load(tmp_path / "checkpoints" / "last.pt")
    assert state["recipe"]["loss"]["name"] == "feature-matching"
    initial = ganzoo.build(ganzoo.Recipe.from_dict(state["recipe"]), data_dir=data_dir, device="cpu")
    for net in ("generator", "discriminator"):  # moved, by a few optimiser steps (not another init) from it
        moved = [(trained - p.detach()).abs().max().item()
                 for k, p in getattr(initial, net).named_parameters() for trained in [state[net][k]]]
        assert max(moved) > 0 and max(moved) < 1e-2, (net, max(moved))


@pytest.fixture
def float64():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_training_steps_equal_the_reference_written_independently(data_dir, float64):
    # With the same weights, batches and z, and D's noise off, the shipped recipe's data,
    # networks, loss and optimizers, through ganzoo's trainer, move G and D as the port's
    # step of the reference does (train_mnist_feature_matching.py written again in plain
    # PyTorch, with the reference's own settings). In float64 the two agree to ~1e-6 (the
    # port's G keeps the reference's 1e-6 inside its output normalisation); every step
    # moves the weights by ~3e-3.
    port = ssgan_reference
    recipe = ganzoo.get_recipe("ssgan-mnist-100")
    data = ganzoo.load_dataset(recipe.dataset, data_dir)
    data.x = data.x.double()
    torch.manual_seed(0)
    G = ganzoo.create("generators", recipe.generator, data.spec)
    D = ganzoo.create("discriminators", recipe.discriminator.replace(input_noise=0.0, noise=0.0), data.spec)
    D.init_from_data(data.x)
    pg, pd = port.Generator("sigmoid"), port.Discriminator()
    g_linear = [m for m in G.modules() if isinstance(m, nn.Linear)]
    # BatchNorm's β without its γ: the layers whose only parameter is a bias.
    g_shift = [m for m in G.modules() if [n for n, _ in m.named_parameters(recurse=False)] == ["bias"]]
    assert len(g_linear) == len(g_shift) == 2
    pairs = [(lg.v.T, lp.theta) for lg, lp in zip([*D.hidden, D.out], [*pd.hidden, pd.out])]
    pairs += [(lg.g, lp.scale) for lg, lp in zip([*D.hidden, D.out], [*pd.hidden, pd.out])]
    pairs += [(lg.bias, lp.b) for lg, lp in zip([*D.hidden, D.out], [*pd.hidden, pd.out])]
    pairs += [(g_linear[0].weight.T, pg.w1), (g_shift[0].bias, pg.b1), (g_linear[1].weight.T, pg.w2),
              (g_shift[1].bias, pg.b2), (G.out.v.T, pg.w3), (G.out.g, pg.s3), (G.out.bias, pg.b3)]
    with torch.no_grad():
        for ours, theirs in pairs:
            theirs.copy_(ours)
    d_optim = port.ReferenceAdam(pd.parameters(), lr=3e-3, betas=(0.5, 0.999))
    g_optim = port.ReferenceAdam(pg.parameters(), lr=3e-3, betas=(0.5, 0.999))
    perm = data.permutation(0, 0)  # the trainer's first epoch
    start = [ours.detach().clone() for ours, _ in pairs]
    compared = []

    class StepTheReference(Callback):
        """Seeds each of the trainer's steps, then takes the port's same step and compares."""

        def on_train_start(self, trainer):
            torch.manual_seed(0)

        def on_step_end(self, trainer):
            step = trainer.step - 1
            rows = perm[step * 100:(step + 1) * 100]
            unl, lab, unl2 = (data.x[rows[:, i]].flatten(1) for i in range(3))
            torch.manual_seed(step)  # the same z: both draw G's noise and nothing else, in the same order
            port.step(pg, pd, d_optim, g_optim, unl, lab, data.y[rows[:, 1]], unl2, noise=False)
            for ours, theirs in pairs:
                torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=0, atol=1e-5)
            compared.append(trainer.step)
            torch.manual_seed(trainer.step)  # the trainer's next step

    ganzoo.Trainer(G, D, ganzoo.create("losses", recipe.loss), data, batch_size=recipe.batch_size, steps=3,
                   g_optim=ganzoo.optimizer(recipe.g_optim), d_optim=ganzoo.optimizer(recipe.d_optim),
                   device="cpu", seed=0, callbacks=[StepTheReference()]).fit()
    assert compared == [1, 2, 3]
    # Adam moved every trained tensor by about lr (3e-3) a step: far beyond the tolerance.
    assert min(float((ours.detach() - before).abs().max())
               for (ours, _), before in zip(pairs, start) if ours.requires_grad) > 1e-3
