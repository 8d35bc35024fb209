"""``zoo_style.py``, PyTorch code with its imports pointed at tensorgrad, runs and learns on
tensorgrad alone (``test_zoo_torch.py`` holds it to PyTorch's numbers where torch is there)."""

from __future__ import annotations

import numpy as np
import pytest
import zoo_style

import tensorgrad


@pytest.mark.parametrize("name, args", [("ContextMLP", (7, 3)), ("GRU", (7,)),
                                        ("BoW", (7, 6))])
def test_the_language_models_learn_a_repeating_sequence(name, args):
    tensorgrad.manual_seed(0)
    model = getattr(zoo_style, name)(*args)
    idx = tensorgrad.tensor([[0, 1, 2, 3, 4, 5]] * 2)
    targets = tensorgrad.tensor([[1, 2, 3, 4, 5, 6]] * 2)
    optimizer = tensorgrad.optim.AdamW(model.parameters(), lr=3e-2)
    losses = []
    for _ in range(60):
        _, loss = model(idx, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 1.5 and losses[-1] < 0.2 * losses[0]


def test_the_classifier_learns_separable_classes():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 48)
    images = rng.standard_normal((48, 2, 3)) * 0.3
    images[np.arange(48), 0, labels] += 2.0  # each class lights up one pixel
    tensorgrad.manual_seed(0)
    losses, accuracy = zoo_style.train_classifier(
        zoo_style.classifier(6, 3), tensorgrad.tensor(images), tensorgrad.tensor(labels),
        epochs=6)
    assert losses[-1] < losses[0] and accuracy > 0.9


def test_the_autoencoder_loss_falls():
    x = tensorgrad.tensor(np.random.default_rng(1).standard_normal((10, 5)))
    tensorgrad.manual_seed(0)
    losses = zoo_style.autoencoder_losses(zoo_style.AutoEncoder(5), x, steps=30)
    assert losses[-1] < 0.8 * losses[0]


def test_the_lenet_learns_where_the_bright_corner_is():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, 32)
    images = rng.standard_normal((32, 1, 12, 12)) * 0.5
    for i, label in enumerate(labels):  # class k: quadrant k lit
        row, col = divmod(int(label), 2)
        images[i, 0, 6 * row:6 * row + 6, 6 * col:6 * col + 6] += 1.5
    x, y = tensorgrad.tensor(images), tensorgrad.tensor(labels)
    tensorgrad.manual_seed(0)
    model = zoo_style.LeNet(n_classes=4)
    optimizer = tensorgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(30):
        loss = tensorgrad.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()  # BatchNorm's running statistics from here on
    accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert losses[-1] < 0.3 * losses[0] and accuracy > 0.9
    assert model.features[1].num_batches_tracked.item() == 30
