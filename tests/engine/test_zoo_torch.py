"""PyTorch code run on tensorgrad: ``zoo_style.py``, written for PyTorch, runs as it is (its
imports pointed at tensorgrad) and again with them pointed back at torch. PyTorch's models,
seeded by PyTorch, hand their weights to ours; then both must compute the same logits,
losses and gradients and train to the same losses (float64 on both sides). Skipped without
torch (``test_zoo.py`` runs the file on tensorgrad alone).
"""

from __future__ import annotations

import numpy as np
import pytest
import zoo_style as ours
from pointed_back import pointed_back

import tensorgrad

torch = pytest.importorskip("torch")

TOL = 1e-9
theirs = pointed_back(ours)
pytestmark = pytest.mark.usefixtures("torch_float64_one_thread")



def pair(name: str, *args):
    """PyTorch's model and ours, ours holding PyTorch's weights."""
    torch.manual_seed(0)
    reference = getattr(theirs, name)(*args)
    model = getattr(ours, name)(*args)
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return model, reference


def assert_close(mine, theirs_value, what: str) -> None:
    theirs_array = theirs_value.detach().numpy() if isinstance(theirs_value, torch.Tensor) \
        else np.asarray(theirs_value)
    mine_array = mine.detach().numpy() if isinstance(mine, tensorgrad.Tensor) else np.asarray(mine)
    np.testing.assert_allclose(mine_array, theirs_array, rtol=TOL, atol=TOL, err_msg=what)


def assert_same_grads(model, reference) -> None:
    theirs_grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        q = theirs_grads[name]
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            assert_close(p.grad, q.grad, name)


LANGUAGE_MODELS = {"ContextMLP": (7, 3), "GRU": (7,), "BoW": (7, 6)}


@pytest.mark.parametrize("name", list(LANGUAGE_MODELS))
def test_language_models_compute_and_train_as_torchs(name):
    model, reference = pair(name, *LANGUAGE_MODELS[name])
    rng = np.random.default_rng(1)
    opt = tensorgrad.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    their_opt = torch.optim.AdamW(reference.parameters(), lr=1e-2, weight_decay=0.1)
    for step in range(4):
        idx, targets = rng.integers(0, 7, (3, 6)), rng.integers(0, 7, (3, 6))
        targets[0, :2] = -1  # ignore_index=-1
        logits, loss = model(tensorgrad.tensor(idx), tensorgrad.tensor(targets))
        their_logits, their_loss = reference(torch.from_numpy(idx), torch.from_numpy(targets))
        assert_close(logits, their_logits, f"logits, step {step}")
        assert_close(loss, their_loss, f"loss, step {step}")
        opt.zero_grad(set_to_none=True)
        their_opt.zero_grad(set_to_none=True)
        loss.backward()
        their_loss.backward()
        assert_same_grads(model, reference)
        opt.step()
        their_opt.step()


def test_a_classifier_trains_on_a_data_loader_as_torchs():
    rng = np.random.default_rng(2)
    images, labels = rng.standard_normal((40, 2, 3)), rng.integers(0, 3, 40)
    torch.manual_seed(0)
    reference = theirs.classifier(6, 3)
    model = ours.classifier(6, 3)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    losses, accuracy = ours.train_classifier(model, tensorgrad.tensor(images),
                                             tensorgrad.tensor(labels))
    their_losses, their_accuracy = theirs.train_classifier(
        reference, torch.from_numpy(images), torch.from_numpy(labels))
    assert len(losses) == 15  # 3 epochs of 5 batches
    assert_close(losses, their_losses, "losses")
    assert accuracy == their_accuracy
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        assert_close(p, q, name)


def test_an_autoencoder_trains_as_torchs():
    x = np.random.default_rng(3).standard_normal((10, 5))
    model, reference = pair("AutoEncoder", 5)
    losses = ours.autoencoder_losses(model, tensorgrad.tensor(x))
    their_losses = theirs.autoencoder_losses(reference, torch.from_numpy(x))
    assert_close(losses, their_losses, "losses")


def test_a_transformer_encoder_classifier_trains_as_torchs():
    rng = np.random.default_rng(4)
    lengths = rng.integers(2, 7, 12)
    idx = rng.integers(1, 6, (12, 6)) * (np.arange(6) < lengths[:, None])  # 0: padding
    labels = (idx == 1).sum(1) > (idx == 2).sum(1)
    model, reference = pair("SequenceClassifier", 6, 2)
    opt = tensorgrad.optim.Adam(model.parameters(), lr=1e-2)
    their_opt = torch.optim.Adam(reference.parameters(), lr=1e-2)
    for step in range(3):
        logits = model(tensorgrad.tensor(idx))
        their_logits = reference(torch.from_numpy(idx))
        assert_close(logits, their_logits, f"logits, step {step}")
        loss = tensorgrad.nn.functional.cross_entropy(logits, tensorgrad.tensor(labels.astype(int)))
        their_loss = torch.nn.functional.cross_entropy(their_logits,
                                                       torch.from_numpy(labels.astype(int)))
        assert_close(loss, their_loss, f"loss, step {step}")
        for o in (opt, their_opt):
            o.zero_grad(set_to_none=True)
        loss.backward()
        their_loss.backward()
        assert_same_grads(model, reference)
        opt.step()
        their_opt.step()


def test_a_lenet_with_batch_norm_trains_as_torchs():
    """Train mode (batch statistics, running ones moved in place) for 3 steps of SGD with
    momentum, then eval mode (the running ones)."""
    rng = np.random.default_rng(5)
    images, labels = rng.standard_normal((8, 1, 12, 12)), rng.integers(0, 10, 8)
    model, reference = pair("LeNet")  # the state_dict: BatchNorm's buffers too
    bn, their_bn = model.features[1], reference.features[1]
    opt = tensorgrad.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    their_opt = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    x, y = tensorgrad.tensor(images), tensorgrad.tensor(labels)
    their_x, their_y = torch.from_numpy(images), torch.from_numpy(labels)
    for step in range(3):
        logits, their_logits = model(x), reference(their_x)
        assert_close(logits, their_logits, f"logits, step {step}")
        loss = tensorgrad.nn.functional.cross_entropy(logits, y)
        their_loss = torch.nn.functional.cross_entropy(their_logits, their_y)
        assert_close(loss, their_loss, f"loss, step {step}")
        for o in (opt, their_opt):
            o.zero_grad(set_to_none=True)
        loss.backward()
        their_loss.backward()
        assert_same_grads(model, reference)
        opt.step()
        their_opt.step()
        for name in ("running_mean", "running_var"):
            assert_close(getattr(bn, name), getattr(their_bn, name), f"{name}, step {step}")
        assert bn.num_batches_tracked.item() == their_bn.num_batches_tracked.item() == step + 1
    for (name, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        assert_close(p, q, name)
    model.eval()
    reference.eval()
    assert_close(model(x), reference(their_x), "eval-mode logits")
