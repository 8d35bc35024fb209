"""tensorgrad.save's files against PyTorch: a state dict saved here loads into the same
PyTorch module (through NumPy), and PyTorch's own checkpoints are refused, not unpickled."""

import io

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as tnn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_saved_state_dict_loads_into_the_same_pytorch_module(dtype):
    tensorgrad.manual_seed(0)
    ours = tnn.Sequential(tnn.Conv2d(2, 3, 3), tnn.BatchNorm2d(3), tnn.Flatten(),
                          tnn.Linear(12, 4))
    ours.to(getattr(tensorgrad, dtype))
    ours.train()
    ours(tensorgrad.randn(5, 2, 4, 4, dtype=getattr(tensorgrad, dtype)))  # running statistics
    file = io.BytesIO()
    tensorgrad.save({"model": ours.state_dict(), "epoch": 2}, file)
    file.seek(0)
    checkpoint = tensorgrad.load(file)

    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3),
                                 torch.nn.Flatten(), torch.nn.Linear(12, 4))
    theirs.to(getattr(torch, dtype))
    state = {name: torch.from_numpy(t.numpy()) for name, t in checkpoint["model"].items()}
    assert repr(theirs.load_state_dict(state)) == "<All keys matched successfully>"
    for name, value in theirs.state_dict().items():
        mine = ours.state_dict()[name].numpy()
        assert checkpoint["model"][name].dtype == mine.dtype  # torch would cast, silently
        assert value.numpy().dtype == mine.dtype and value.numpy().tobytes() == mine.tobytes()
    x = np.random.default_rng(1).standard_normal((2, 2, 4, 4)).astype(dtype)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(theirs(torch.from_numpy(x)).detach().numpy(),
                               ours(tensorgrad.tensor(x)).detach().numpy(),
                               rtol=1e-5 if dtype == "float32" else 1e-12,
                               atol=1e-6 if dtype == "float32" else 1e-14)


@pytest.mark.parametrize("zipped", [True, False])
def test_pytorch_checkpoints_are_refused(zipped):
    file = io.BytesIO()
    torch.save({"w": torch.ones(2)}, file, _use_new_zipfile_serialization=zipped)
    file.seek(0)
    with pytest.raises(ValueError, match="nothing is unpickled"):
        tensorgrad.load(file)


def test_the_arrays_are_readable_by_safetensors_itself():
    from safetensors.torch import load

    file = io.BytesIO()
    tensorgrad.save([tensorgrad.arange(6.0).reshape(2, 3).T, tensorgrad.tensor([1, 2])], file)
    arrays = load(file.getvalue())
    assert torch.equal(arrays["0"], torch.arange(6.0, dtype=torch.float64).reshape(2, 3).T)
    assert torch.equal(arrays["1"], torch.tensor([1, 2]))


def test_the_allow_list_of_safe_globals_reads_back_as_pytorchs():
    """Nothing is unpickled here, so the list allows nothing more; scripts that fill it
    (pytorch/examples' word language model) run, and read it back as PyTorch's."""
    seen = []
    for m in (tensorgrad, torch):
        m.serialization.clear_safe_globals()
        try:
            m.serialization.add_safe_globals([int])
            with m.serialization.safe_globals([str, float]):
                inside = m.serialization.get_safe_globals()
            # (in an order of PyTorch's own: compared as sets)
            seen.append((set(inside), len(inside), m.serialization.get_safe_globals()))
        finally:
            m.serialization.clear_safe_globals()
    assert seen[0] == seen[1] == ({str, float, int}, 3, [int])
