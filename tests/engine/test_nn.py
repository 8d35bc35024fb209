"""tensorgrad.nn's Module API and layers, by their behaviour (no PyTorch needed).

test_nn_torch.py holds the same API against PyTorch itself, message for message.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
import tensorgrad.nn.functional
import tensorgrad.nn.init
from tensorgrad import Tensor, optim


class Affine(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.weight = nn.Parameter(tensorgrad.ones(n))
        self.bias = nn.Parameter(tensorgrad.zeros(n))

    def forward(self, x):
        return x * self.weight + self.bias


class Tied(nn.Module):
    """An embedding and an output layer sharing one matrix, as GPT-2 ties them."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.blocks = nn.ModuleList([Affine(3), Affine(3)])
        self.head = nn.Linear(3, 5, bias=False)
        self.embed.weight = self.head.weight
        self.register_buffer("mask", tensorgrad.ones(3))
        self.register_buffer("scratch", tensorgrad.zeros(2), persistent=False)

    def forward(self, idx):
        x = self.embed(idx) * self.mask
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def test_functional_and_init_are_modules_and_attributes():
    assert nn.functional is tensorgrad.functional is tensorgrad.nn.functional
    assert tensorgrad.nn.init is nn.init and callable(nn.init.normal_)
    assert tensorgrad.nn is nn and callable(nn.utils.clip_grad_norm_)


def test_calling_a_module_calls_forward():
    layer = Affine(2)
    out = layer(Tensor([3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [3.0, 4.0])
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        nn.Module()(1)


def test_attributes_register_parameters_buffers_and_submodules_in_order():
    model = Tied()
    assert list(model._parameters) == [] and list(model._modules) == ["embed", "blocks", "head"]
    assert [n for n, _ in model.named_parameters()] == [
        "embed.weight", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert [n for n, _ in model.named_buffers()] == ["mask", "scratch"]
    assert [n for n, _ in model.named_modules()] == [
        "", "embed", "blocks", "blocks.0", "blocks.1", "head"]
    assert [n for n, _ in model.named_children()] == ["embed", "blocks", "head"]
    assert [n for n, _ in model.named_parameters(prefix="model", recurse=True)][0] == \
        "model.embed.weight"
    assert [n for n, _ in model.blocks[0].named_parameters(recurse=False)] == ["weight", "bias"]
    assert model.get_submodule("blocks.1") is model.blocks[1]
    assert model.get_parameter("blocks.1.bias") is model.blocks[1].bias


def test_tied_weights_are_one_parameter_counted_once_but_saved_under_each_name():
    model = Tied()
    assert model.embed.weight is model.head.weight
    assert sum(p.numel() for p in model.parameters()) == 15 + 4 * 3
    assert len(list(model.named_parameters(remove_duplicate=False))) == 6
    state = model.state_dict()
    assert list(state) == ["mask", "embed.weight", "blocks.0.weight", "blocks.0.bias",
                           "blocks.1.weight", "blocks.1.bias", "head.weight"]
    assert "scratch" not in state  # not persistent
    state["head.weight"] = np.arange(15.0).reshape(5, 3)
    state["embed.weight"] = np.arange(15.0).reshape(5, 3)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.embed.weight.data, np.arange(15.0).reshape(5, 3))
    loss = model(Tensor([0, 4])).sum()
    loss.backward()
    assert model.head.weight.grad.shape == (5, 3)  # both uses in one gradient


def test_reassigning_and_deleting_move_a_name_between_kinds():
    model = Affine(2)
    model.bias = None  # a parameter slot left empty, as PyTorch allows
    assert "bias" in model._parameters and model.bias is None
    assert [n for n, _ in model.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight'"):
        model.weight = Tensor([1.0, 2.0])
    model.inner = nn.Identity()
    model.inner = None
    assert model.inner is None and [n for n, _ in model.named_modules()] == [""]
    with pytest.raises(TypeError, match="as child module 'inner'"):
        model.inner = 3
    model.extra = nn.Parameter(tensorgrad.zeros(1))
    with pytest.raises(TypeError, match="as parameter 'extra'"):  # as in PyTorch
        model.extra = nn.Linear(1, 1)
    del model.extra
    assert not hasattr(model, "extra")
    model.extra = nn.Linear(1, 1)  # now a submodule
    assert "extra" not in model._parameters and model.extra in list(model.children())
    model.extra = nn.Parameter(tensorgrad.zeros(1))  # a parameter replaces a submodule
    assert "extra" not in model._modules and model.extra is model._parameters["extra"]
    model.register_buffer("running", tensorgrad.zeros(2))
    model.running = tensorgrad.ones(2)  # a tensor assigned to a buffer's name replaces it
    np.testing.assert_array_equal(model.state_dict()["running"].data, [1.0, 1.0])
    with pytest.raises(TypeError, match="as buffer 'running'"):
        model.running = [1.0, 1.0]
    del model.running
    assert "running" not in model.state_dict()


def test_registration_errors_as_pytorchs():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tensorgrad.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Early()
    model = Affine(2)
    with pytest.raises(KeyError, match="contain"):
        model.register_buffer("a.b", tensorgrad.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        model.register_buffer("forward", tensorgrad.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None required"):
        model.register_buffer("x", np.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter or None required"):
        model.register_parameter("y", nn.Parameter(tensorgrad.ones(1)) * 2)


def test_a_parameter_is_a_leaf_that_requires_grad_and_holds_its_own_values():
    w = nn.Parameter(tensorgrad.ones(4, 2))
    assert isinstance(w, Tensor) and w.is_leaf and w.requires_grad
    assert not nn.Parameter(tensorgrad.ones(1), requires_grad=False).requires_grad
    part = nn.Parameter(w[:2])  # a slice of a parameter: a result of an op
    assert part.is_leaf and part.requires_grad and part.shape == (2, 2)
    with tensorgrad.no_grad():
        w.zero_()
    np.testing.assert_array_equal(part.data, np.ones((2, 2)))
    assert repr(nn.Parameter(tensorgrad.zeros(1))).startswith("Parameter containing:\n")


def test_train_eval_apply_requires_grad_and_zero_grad():
    model = Tied()
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("no")
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Embedding", "Affine", "Affine", "ModuleList", "Linear", "Tied"]
    model(Tensor([1, 2])).sum().backward()
    kept = model.head.weight.grad
    model.zero_grad(set_to_none=False)
    assert np.shares_memory(model.head.weight.grad, kept) and not kept.any()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_to_converts_floating_parameters_and_buffers_and_knows_only_the_cpu():
    model = Tied()
    model.register_buffer("ids", tensorgrad.tensor([1, 2]))
    assert model.to("cpu") is model and model.to(tensorgrad.device("cpu")) is model
    model.to(tensorgrad.float32)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    assert model.mask.dtype == np.float32 and model.ids.dtype == np.int64
    assert model(Tensor([0, 1])).dtype == np.float32
    model.to("cpu", tensorgrad.float64)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    model.float()
    assert model.head.weight.dtype == np.float32
    model.double()
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")
    with pytest.raises(TypeError, match="floating point dtypes"):
        model.to(tensorgrad.int64)


def test_load_state_dict_copies_in_place_keeps_an_optimizer_working_and_reports_keys():
    model = Affine(3)
    opt = optim.Adam(model.parameters(), lr=0.1)
    weight = model.weight
    model.load_state_dict({"weight": Tensor([1.0, 2.0, 3.0]), "bias": np.zeros(3)})
    assert model.weight is weight
    np.testing.assert_array_equal(weight.data, [1.0, 2.0, 3.0])
    (model(Tensor([1.0, 1.0, 1.0])) ** 2).sum().backward()
    opt.step()
    # the optimizer updated the loaded values
    assert np.all(weight.detach().numpy() < [1.0, 2.0, 3.0])
    result = model.load_state_dict({"weight": np.ones(3), "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        model.load_state_dict({"weight": np.ones(3)})
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with "
                                           r"shape tensorgrad.Size\(\[2\]\) from checkpoint"):
        model.load_state_dict({"weight": np.ones(2), "bias": np.ones(3)}, strict=False)
    with pytest.raises(RuntimeError, match="expected a Tensor or an array"):
        model.load_state_dict({"weight": [1.0, 2.0, 3.0], "bias": np.ones(3)})
    with pytest.raises(TypeError, match="dict-like"):
        model.load_state_dict([("weight", np.ones(3))])


def test_state_dict_values_share_the_parameters_values_detached():
    model = Affine(2)
    state = model.state_dict()
    assert not state["weight"].requires_grad
    assert np.shares_memory(state["weight"].data, model.weight.data)
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_repr_shows_settings_and_children_and_folds_repeated_list_entries():
    model = nn.Sequential(OrderedDict(fc=nn.Linear(2, 3), act=nn.GELU(approximate="tanh"),
                                      stack=nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])))
    assert repr(model) == (
        "Sequential(\n"
        "  (fc): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (act): GELU(approximate='tanh')\n"
        "  (stack): ModuleList(\n"
        "    (0-1): 2 x ReLU()\n"
        "    (2): Tanh()\n"
        "  )\n"
        ")")
    assert repr(nn.LayerNorm(4, bias=False)) == \
        "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)"
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1, inplace=False)"
    assert repr(nn.Embedding(5, 3)) == "Embedding(5, 3)"


def test_containers_index_iterate_and_slice():
    seq = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    assert seq(tensorgrad.ones(5, 2)).shape == (5, 1)
    with pytest.raises(IndexError):
        seq[3]
    layers = nn.ModuleList([nn.Identity()])
    layers.append(nn.Tanh()).extend([nn.ReLU()])
    layers[0] = nn.Linear(1, 1)
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU"]
    assert len(list(layers.parameters())) == 2
    table = nn.ModuleDict({"a": nn.Tanh()})
    table["b"] = nn.Linear(1, 2)
    assert list(table) == ["a", "b"] and "b" in table and table.b is table["b"]
    del table["a"]
    assert list(table.keys()) == ["b"]


def test_default_initialisation_is_pytorchs_and_repeats_under_manual_seed():
    tensorgrad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) and the bias: +-1/sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.95 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    embedding = nn.Embedding(300, 400)
    assert embedding.weight.data.std() == pytest.approx(1.0, rel=0.02)
    tensorgrad.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.data, layer.weight.data)
    assert nn.Linear(3, 2, dtype=tensorgrad.float32).weight.dtype == np.float32


def test_init_functions_fill_in_place_with_their_distributions():
    tensorgrad.manual_seed(1)
    w = nn.Parameter(tensorgrad.empty(300, 200))
    held = w.detach().numpy()
    assert nn.init.normal_(w, mean=1.0, std=0.5) is w and np.shares_memory(w.data, held)
    assert w.data.mean() == pytest.approx(1.0, abs=0.01)
    assert w.data.std() == pytest.approx(0.5, rel=0.02)
    nn.init.uniform_(w, -2.0, 3.0)
    assert w.data.min() >= -2.0 and w.data.max() < 3.0 and w.data.mean() == \
        pytest.approx(0.5, abs=0.02)
    nn.init.xavier_uniform_(w, gain=2.0)
    assert np.abs(w.data).max() <= 2.0 * math.sqrt(6 / 500)
    nn.init.xavier_normal_(w)
    assert w.data.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / 200), rel=0.02)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w.data).max() <= math.sqrt(3) * math.sqrt(2 / 300)
    nn.init.constant_(w, 0.25)
    assert (w.data == 0.25).all()
    nn.init.zeros_(w)
    assert not w.data.any() and w.requires_grad and np.shares_memory(w.data, held)
    nn.init.ones_(w)
    assert (w.data == 1).all()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(tensorgrad.zeros(3)))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_clip_grad_norm_scales_all_gradients_by_one_factor(norm_type):
    rng = np.random.default_rng(0)
    params = [nn.Parameter(tensorgrad.zeros(*s)) for s in [(3, 4), (5,), ()]]
    for p in params:
        p.grad = rng.normal(size=p.shape)
    before = [p.grad.numpy().copy() for p in params]
    flat = np.concatenate([g.ravel() for g in before])
    norm = np.abs(flat).max() if norm_type == float("inf") else \
        (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = nn.utils.clip_grad_norm_(params, 0.5, norm_type=norm_type)
    assert total.item() == pytest.approx(norm, rel=1e-12)
    for p, g in zip(params, before):
        np.testing.assert_allclose(p.grad, g * 0.5 / (norm + 1e-6), rtol=1e-12)
    unchanged = [p.grad.numpy().copy() for p in params]
    nn.utils.clip_grad_norm_(params, 1e6, norm_type=norm_type)  # below the limit: as it was
    for p, g in zip(params, unchanged):
        np.testing.assert_array_equal(p.grad, g)
    params[0].grad[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_layers_check_their_arguments():
    with pytest.raises(RuntimeError, match="integer ids"):  # PyTorch's type
        nn.Embedding(4, 2)(tensorgrad.tensor([0.0, 1.0]))
    with pytest.raises(IndexError, match="outside 0..3"):
        nn.Embedding(4, 2)(tensorgrad.tensor([-1]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="sigmoid")
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2, device="cuda")
    with pytest.raises(TypeError, match="must be floating"):
        nn.Linear(2, 2, dtype=tensorgrad.int64)


def test_norm_layers_compute_their_normalisations():
    x = tensorgrad.tensor(np.random.default_rng(2).normal(size=(4, 6)))
    layer = nn.LayerNorm(6)
    with tensorgrad.no_grad():
        layer.weight += 1.0  # weights 2, bias 0.5
        layer.bias += 0.5
    centred = x.data - x.data.mean(-1, keepdims=True)
    expected = centred / np.sqrt((centred**2).mean(-1, keepdims=True) + 1e-5) * 2 + 0.5
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    assert nn.LayerNorm(6, elementwise_affine=False).weight is None
    rms = nn.RMSNorm(6, eps=1e-6)
    np.testing.assert_allclose(
        rms(x).data, x.data / np.sqrt((x.data**2).mean(-1, keepdims=True) + 1e-6), rtol=1e-12)


def test_a_model_copies_and_pickles_with_its_parameters_ties_and_buffers():
    import copy
    import pickle

    model = Tied()
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert twin.embed.weight is twin.head.weight  # still one matrix
        assert twin.head.weight is not model.head.weight
        assert list(twin.state_dict()) == list(model.state_dict())
        x = Tensor([0, 3])
        np.testing.assert_array_equal(twin(x).data, model(x).data)


@pytest.mark.parametrize("padding_idx", [1, -2])
def test_an_embeddings_padding_row_starts_at_zeros_and_gets_no_gradient(padding_idx):
    emb = nn.Embedding(3, 2, padding_idx=padding_idx)
    assert emb.padding_idx == 1 and not emb.weight.data[1].any()
    emb.weight.data[1] = 5.0  # looked up as it is
    out = emb(np.array([1, 0, 1, 2, 0]))
    np.testing.assert_array_equal(out.data[[0, 2]], np.full((2, 2), 5.0))
    out.backward(np.ones((5, 2)))
    np.testing.assert_array_equal(emb.weight.grad, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=-4)
