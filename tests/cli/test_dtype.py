"""Training in float32 (``--dtype float32``, tensor engine): float32 all the way through.

A float32 run must compute every node of its graph, every gradient and Adam's state in
float32 (one float64 array would promote the rest and cost the speed float32 is for),
follow the float64 run to float32's precision, and sample in the precision it trained in.
Resuming a float32 run bit for bit is in ``test_cli_training.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_cli import NAMES, run

from microgpt import gpt_scalar, gpt_tensor
from microgpt.storage import checkpoint
from microgpt.train import Hyperparameters, Trainer, cast, document_tokens, setup
from microgpt.validation import validation_loss
from tensorgrad import Tensor

SMALL = {"n_embd": 8, "n_head": 2, "block_size": 6}


def small_run():
    return setup(NAMES, **SMALL)


def graph_dtypes(root) -> set[np.dtype]:
    """The dtypes of every floating tensor in the graph behind ``root`` (each op's inputs,
    through ``grad_fn.inputs``; integer targets and boolean masks are not floats)."""
    seen, stack, dtypes = set(), [root], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            if node.data.dtype.kind == "f":
                dtypes.add(node.data.dtype)
            if node.grad_fn is not None:
                stack.extend(x for x in node.grad_fn.inputs if isinstance(x, Tensor))
    return dtypes


@pytest.mark.parametrize("batch", [1, 3], ids=["one document", "a padded batch"])
def test_every_node_and_gradient_of_a_float32_step_is_float32(batch):
    data = small_run()
    params = gpt_tensor.from_state_dict(cast(data.state, "float32"))
    docs = [document_tokens(data.tokenizer, doc) for doc in data.docs[:batch]]
    loss = (gpt_tensor.document_loss(params, data.config, docs[0]) if batch == 1
            else gpt_tensor.batch_loss(params, data.config, docs))
    loss.backward()
    assert graph_dtypes(loss) == {np.dtype(np.float32)}
    assert {p.grad.dtype for p in params.values()} == {np.dtype(np.float32)}


def train_losses(dtype: str, steps: int = 8) -> tuple[list[float], dict]:
    data = small_run()
    params = gpt_tensor.from_state_dict(cast(data.state, dtype))
    trainer = Trainer(gpt_tensor, params, data.config, data.docs, data.tokenizer,
                      Hyperparameters(steps=steps, batch_size=2, dtype=dtype))
    return list(trainer.run()), params


def test_float32_training_follows_float64_to_float32_precision():
    losses32, params32 = train_losses("float32")
    losses64, _ = train_losses("float64")
    assert losses32 == pytest.approx(losses64, rel=1e-5)
    assert losses32 != losses64  # it did compute in float32
    assert {p.data.dtype for p in params32.values()} == {np.dtype(np.float32)}  # Adam's update


def test_the_validation_loss_of_float32_weights():
    data = small_run()
    tokens = [document_tokens(data.tokenizer, doc) for doc in data.docs]
    loss32 = validation_loss(gpt_tensor.from_state_dict(cast(data.state, "float32")),
                             data.config, tokens)
    loss64 = validation_loss(gpt_tensor.from_state_dict(data.state), data.config, tokens)
    assert loss32 == pytest.approx(loss64, rel=1e-6) and loss32 != loss64


@pytest.mark.parametrize("engine, weights, dtype", [
    (gpt_tensor, "float64", "float32"), (gpt_tensor, "float32", "float64"),
    (gpt_scalar, "float64", "float32"),
])
def test_a_trainer_refuses_weights_of_another_dtype(engine, weights, dtype):
    data = small_run()
    params = engine.from_state_dict(cast(data.state, weights))
    with pytest.raises(ValueError, match=f"the weights are {weights}, but the run's dtype is"):
        Trainer(engine, params, data.config, data.docs, data.tokenizer,
                Hyperparameters(dtype=dtype))


def test_cast_refuses_other_dtypes():
    with pytest.raises(ValueError, match="float64, float32"):
        cast(small_run().state, "float16")


def test_a_float32_checkpoint_stores_exact_float64_and_samples_in_float32(
        capsys, tmp_path, monkeypatch):
    data, path = tmp_path / "names.txt", tmp_path / "m.safetensors"
    data.write_text("\n".join(NAMES) + "\n")
    status, lines, err = run(capsys, "train", "--data", data, "--steps", "3", "--samples", "2",
                             "--dtype", "float32", "--save", path,
                             *(f"--{k.replace('_', '-')}={v}" for k, v in SMALL.items()))
    assert status == 0, err
    assert lines[-1].startswith("trained 3 steps") and "tensor engine, float32)" in lines[-1]
    saved = checkpoint.load(path)
    assert saved.dtype == "float32"
    for w in saved.state.values():  # float64 in the file, holding float32 values exactly
        assert w.dtype == np.float64 and np.array_equal(w.astype(np.float32), w)

    real, dtypes = gpt_tensor.generate, []

    def generate(params, *args, **kwargs):
        dtypes.extend(p.data.dtype for p in params.values())
        return real(params, *args, **kwargs)

    monkeypatch.setattr(gpt_tensor, "generate", generate)
    status, lines, err = run(capsys, "sample", "--load", path, "--samples", "2")
    assert status == 0, err
    assert set(dtypes) == {np.dtype(np.float32)}
