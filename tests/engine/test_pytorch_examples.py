"""PyTorch's official examples, small (``examples_style.py``), on tensorgrad and on PyTorch:
PyTorch's models, seeded by PyTorch, hand their weights to ours; then both must compute the
same outputs, losses and gradients step after step, and the same weights after their
optimizers' steps (float64 on both sides, dropout off: the two engines draw differently).
Skipped without torch.
"""

from __future__ import annotations

import examples_style as ours
import numpy as np
import pytest
from pointed_back import pointed_back

import tensorgrad

torch = pytest.importorskip("torch")

TOL = 1e-9
theirs = pointed_back(ours)
pytestmark = pytest.mark.usefixtures("torch_float64_one_thread")



def pair(name: str, *args, init=None, **kwargs):
    """PyTorch's model and ours, ours holding PyTorch's weights (and buffers)."""
    torch.manual_seed(0)
    reference = getattr(theirs, name)(*args, **kwargs)
    model = getattr(ours, name)(*args, **kwargs)
    if init:
        reference.apply(getattr(theirs, init))
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return model, reference


def assert_close(mine, their, what: str, tol: float = TOL) -> None:
    if isinstance(their, dict):
        assert list(mine) == list(their), what
        for name in their:
            assert_close(mine[name], their[name], f"{what}: {name}", tol)
        return
    if isinstance(their, (tuple, list)):
        assert len(mine) == len(their), what
        for i, (a, b) in enumerate(zip(mine, their)):
            assert_close(a, b, f"{what}[{i}]", tol)
        return
    expected = their.detach().numpy() if isinstance(their, torch.Tensor) else np.asarray(their)
    got = mine.detach().numpy() if isinstance(mine, tensorgrad.Tensor) else np.asarray(mine)
    assert got.shape == expected.shape and got.dtype == expected.dtype, what
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=what)


def same_state(model, reference) -> None:
    assert_close(model.state_dict(), reference.state_dict(), "state after the steps")


RECURRENT = [("LSTM", False, True), ("GRU", True, False), ("RNN_TANH", False, False),
             ("RNN_RELU", True, True)]  # (kind, AdamW rather than SGD by hand, tied weights)


@pytest.mark.parametrize("kind, use_optimizer, tied", RECURRENT)
def test_word_language_model_rnns_train_as_torchs(kind, use_optimizer, tied):
    model, reference = pair("RNNModel", kind, 11, 6, 6, 2, tie_weights=tied)
    corpus = np.random.default_rng(1).integers(0, 11, 90)
    source = ours.batchify(tensorgrad.tensor(corpus), 3)
    their_source = theirs.batchify(torch.from_numpy(corpus), 3)
    lr = 0.05 if use_optimizer else 5.0
    results = ours.language_model_steps(model, source, 5, lr, 0.25, use_optimizer, 4)
    their_results = theirs.language_model_steps(reference, their_source, 5, lr, 0.25,
                                                use_optimizer, 4)
    assert_close(results, their_results, f"{kind}: (loss, norm, gradients) by step")
    same_state(model, reference)
    assert_close(ours.evaluate_language_model(model, source, 5),
                 theirs.evaluate_language_model(reference, their_source, 5), "evaluation")


@pytest.mark.parametrize("use_optimizer", [False, True])
def test_word_language_model_transformer_trains_as_torchs(use_optimizer):
    model, reference = pair("TransformerModel", 11, 8, 2, 12, 2)
    corpus = np.random.default_rng(2).integers(0, 11, 60)
    source = ours.batchify(tensorgrad.tensor(corpus), 3)
    their_source = theirs.batchify(torch.from_numpy(corpus), 3)
    lr = 0.01 if use_optimizer else 1.0
    results = ours.language_model_steps(model, source, 6, lr, 0.5, use_optimizer, 3)
    their_results = theirs.language_model_steps(reference, their_source, 6, lr, 0.5,
                                                use_optimizer, 3)
    assert_close(results, their_results, "(loss, norm, gradients) by step")
    same_state(model, reference)
    assert_close(ours.evaluate_language_model(model, source, 6),
                 theirs.evaluate_language_model(reference, their_source, 6), "evaluation")


def test_mnist_cnn_trains_with_adadelta_and_step_lr_as_torchs():
    rng = np.random.default_rng(3)
    images, labels = rng.standard_normal((6, 1, 12, 12)), rng.integers(0, 10, 6)
    model, reference = pair("MnistNet")
    results = ours.classifier_steps(model, tensorgrad.tensor(images), tensorgrad.tensor(labels), 3)
    their_results = theirs.classifier_steps(reference, torch.from_numpy(images),
                                            torch.from_numpy(labels), 3)
    assert_close(results[0], their_results[0], "(output, loss, gradients) by step")
    assert_close(results[1], their_results[1], "summed test loss")
    assert results[2:] == their_results[2:]  # the number right, the last learning rate
    same_state(model, reference)


def test_vae_trains_as_torchs():
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, (5, 16))
    noises = [rng.standard_normal((5, 4)) for _ in range(3)]
    model, reference = pair("VAE")
    results = ours.vae_steps(model, tensorgrad.tensor(x), [tensorgrad.tensor(e) for e in noises])
    their_results = theirs.vae_steps(reference, torch.from_numpy(x),
                                     [torch.from_numpy(e) for e in noises])
    assert_close(results, their_results, "(reconstruction, loss, gradients) by step")
    same_state(model, reference)
    tensorgrad.manual_seed(0)  # its own noise: randn_like's, of the shape and dtype of std
    recon, mu, _ = model(tensorgrad.tensor(x))
    assert recon.shape == (5, 16) and recon.dtype == mu.dtype == np.float64


def test_dcgan_trains_as_torchs():
    rng = np.random.default_rng(5)
    reals = [rng.uniform(-1, 1, (3, 3, 16, 16)) for _ in range(2)]
    noises = [rng.standard_normal((3, 6, 1, 1)) for _ in range(2)]
    net_g, their_g = pair("Generator", init="weights_init")
    net_d, their_d = pair("Discriminator", init="weights_init")
    results = ours.dcgan_steps(net_g, net_d, [tensorgrad.tensor(r) for r in reals],
                               [tensorgrad.tensor(n) for n in noises])
    their_results = theirs.dcgan_steps(their_g, their_d, [torch.from_numpy(r) for r in reals],
                                       [torch.from_numpy(n) for n in noises])
    assert_close(results, their_results, "(fake, D's loss, G's loss, D(G(z)), gradients)")
    same_state(net_g, their_g)  # batch norm's running statistics too
    same_state(net_d, their_d)


def test_time_sequence_lstm_cells_train_as_torchs():
    rng = np.random.default_rng(6)
    x = np.arange(30) + rng.integers(-20, 20, (5, 1))
    data = np.sin(x / 5.0)
    model, reference = pair("Sequence")
    model.double()
    reference.double()
    parts = (data[2:, :-1], data[2:, 1:], data[:2, :-1], data[:2, 1:])
    losses, prediction = ours.sequence_steps(model, *map(tensorgrad.from_numpy, parts), 3)
    their_losses, their_prediction = theirs.sequence_steps(reference,
                                                           *map(torch.from_numpy, parts), 3)
    assert_close(losses, their_losses, "losses, then the test loss")
    assert_close(prediction, their_prediction, "prediction past the inputs")
    same_state(model, reference)


def test_mnist_rnn_trains_as_torchs():
    rng = np.random.default_rng(7)
    images, labels = rng.standard_normal((5, 1, 6, 6)), rng.integers(0, 10, 5)
    model, reference = pair("RowLSTM")
    results = ours.classifier_steps(model, tensorgrad.tensor(images), tensorgrad.tensor(labels),
                                    3, lr=0.1)
    their_results = theirs.classifier_steps(reference, torch.from_numpy(images),
                                            torch.from_numpy(labels), 3, lr=0.1)
    assert_close(results[0], their_results[0], "(output, loss, gradients) by step")
    assert_close(results[1], their_results[1], "summed test loss")
    assert results[2:] == their_results[2:]
    same_state(model, reference)


@pytest.mark.parametrize("name, args", [("GCN", (5, 8, 3)), ("GAT", (5, 8, 2, 3))])
def test_graph_networks_train_as_torchs(name, args):
    rng = np.random.default_rng(8)
    n = 9
    features = rng.integers(0, 2, (n, 5)).astype(float)
    labels = np.arange(n) % 3
    edges = [(i, (3 * i + 1) % n) for i in range(n) if i != 4]  # node 4: only its loop
    adj = ours.normalized_adjacency(edges, n)
    their_adj = theirs.normalized_adjacency(edges, n)
    assert_close(adj, their_adj, "normalized adjacency")
    model, reference = pair(name, *args)
    train_idx, val_idx = np.arange(6), np.arange(6, n)
    results = ours.graph_steps(model, tensorgrad.tensor(features), adj,
                               tensorgrad.tensor(labels), tensorgrad.tensor(train_idx),
                               tensorgrad.tensor(val_idx), 3)
    their_results = theirs.graph_steps(reference, torch.from_numpy(features), their_adj,
                                       torch.from_numpy(labels), torch.from_numpy(train_idx),
                                       torch.from_numpy(val_idx), 3)
    assert_close(results, their_results, "(loss, gradients, validation loss, accuracy)")
    same_state(model, reference)


@pytest.fixture
def float32_default():
    """Both engines' default dtype float32 (PyTorch's own), for code fed float32 data."""
    torch.set_default_dtype(torch.float32)
    tensorgrad.set_default_dtype(tensorgrad.float32)
    yield
    tensorgrad.set_default_dtype(tensorgrad.float64)


def test_mnist_cnn_and_dcgan_in_float32_as_torchs(float32_default):
    """float32 layers and data, as the examples run: each sum rounded in its own order, so
    to float32's tolerance."""
    tol = 2e-5
    rng = np.random.default_rng(9)
    images = rng.standard_normal((6, 1, 12, 12)).astype(np.float32)
    labels = rng.integers(0, 10, 6)
    model, reference = pair("MnistNet")
    results = ours.classifier_steps(model, tensorgrad.tensor(images), tensorgrad.tensor(labels), 2)
    their_results = theirs.classifier_steps(reference, torch.from_numpy(images),
                                            torch.from_numpy(labels), 2)
    assert model.fc1.weight.dtype == np.float32
    assert_close(results[0], their_results[0], "(output, loss, gradients) by step", tol)
    reals = [rng.uniform(-1, 1, (3, 3, 16, 16)).astype(np.float32)]
    noises = [rng.standard_normal((3, 6, 1, 1)).astype(np.float32)]
    net_g, their_g = pair("Generator", init="weights_init")
    net_d, their_d = pair("Discriminator", init="weights_init")
    results = ours.dcgan_steps(net_g, net_d, [tensorgrad.tensor(r) for r in reals],
                               [tensorgrad.tensor(n) for n in noises])
    their_results = theirs.dcgan_steps(their_g, their_d, [torch.from_numpy(r) for r in reals],
                                       [torch.from_numpy(n) for n in noises])
    assert_close(results, their_results, "DCGAN's step", tol)
