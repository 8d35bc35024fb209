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
