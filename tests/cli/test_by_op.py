"""One training step op by op (``microgpt.tools.by_op``, ``microgpt.tools.scalar_regions``):
the scalar step's Values counted per tensor op, against the graphs' sizes and against counts
derived by hand from ``gpt_scalar``'s code; the region-by-region backward pass's gradients."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.engines import graph_nodes
from microgpt import gpt_scalar, gpt_tensor
from microgpt.tools import by_op, scalar_regions
from microgpt.train import document_tokens, setup
from tensorgrad import Function, ops
from tensorgrad import functional as F

NAMES = ["emma", "olivia", "ava", "mia", "zoe", "liam", "noah", "eli", "ivy", "max"]
TWO_LAYERS = {"n_embd": 4, "n_head": 2, "n_layer": 2, "block_size": 5}


def first_step(**model: int):
    run = setup(NAMES, **model)
    return run, document_tokens(run.tokenizer, run.docs[0], run.config.block_size)


def measure(**model: int) -> tuple[by_op.StepByOp, object, list[int]]:
    run, tokens = first_step(**model)
    return by_op.step_by_op(run.state, run.config, tokens, rounds=1, tensor_steps=2), run, tokens


def test_totals_are_the_two_graphs_sizes():
    result, run, tokens = measure(**TWO_LAYERS)
    losses = {name: engine.document_loss(engine.from_state_dict(run.state), run.config, tokens)
              for name, engine in (("tensor", gpt_tensor), ("scalar", gpt_scalar))}
    assert result.total.tensor_nodes == graph_nodes(losses["tensor"]) == 37
    assert result.total.scalar_nodes == graph_nodes(losses["scalar"])
    assert result.losses["scalar"] == pytest.approx(result.losses["tensor"], rel=1e-12)
    assert result.losses["tensor"] == float(losses["tensor"].data)


def test_the_rows_are_the_tensor_steps_ops_in_order():
    result, _, _ = measure(**TWO_LAYERS)
    layer = ["RMSNorm", "Linear layer{0}.attn_wqkv", "MultiHeadAttention",
             "Linear layer{0}.attn_wo", "Add", "RMSNorm", "Linear layer{0}.mlp_fc1", "Relu",
             "Linear layer{0}.mlp_fc2", "Add"]
    expected = ["parameters", "Index wte", "Index wpe", "Add", "RMSNorm",
                *(op.format(i) for i in range(2) for op in layer), "Linear lm_head",
                "CrossEntropy", "backward() bookkeeping"]
    assert [f"{r.op} {r.detail}".strip() for r in result.rows] == expected


def test_each_ops_values_are_those_gpt_scalar_makes_for_it():
    """Counted from gpt_scalar's code: sum() starts from Value(0); x / n is x * Value(1/n)."""
    result, run, tokens = measure(**TWO_LAYERS)
    c, heads, v = run.config.n_embd, run.config.n_head, run.config.vocab_size
    d, n = c // heads, len(tokens) - 1  # head size, positions
    linear = n * (2 * c + 1)  # per output row: c products, c sums, the Value(0) of sum()
    rmsnorm = n * (3 * c + 6)  # squares and sums, Value(0), / c, + eps, ** -0.5, c products
    # Per head, position t attends to t + 1 keys: each score is a dot product (2d + 1) and
    # a / sqrt(d) (2); softmax makes 6 per score and a Value(0); each output a weighted sum.
    attention = heads * sum((t + 1) * (2 * d + 3) + 6 * (t + 1) + 1 + d * (2 * (t + 1) + 1)
                            for t in range(n))
    # Per position: softmax over the logits up to probs[target], -log of it; then the mean.
    cross_entropy = n * (4 * v + 3 + 3) + 1 + n + 2
    rows = {f"{r.op} {r.detail}".strip(): r.scalar_nodes for r in result.rows}
    assert rows["Index wte"] == rows["Index wpe"] == 0
    assert rows["Add"] == n * c  # the last one of that name: the MLP's residual, layer 1
    assert rows["Linear layer1.attn_wqkv"] == 3 * c * linear
    assert rows["Linear layer0.mlp_fc1"] == 4 * c * linear
    assert rows["Linear layer1.mlp_fc2"] == c * (n * (2 * 4 * c + 1))
    assert rows["Linear lm_head"] == v * linear
    assert rows["RMSNorm"] == rmsnorm
    assert rows["Relu"] == n * 4 * c
    assert rows["MultiHeadAttention"] == attention
    assert rows["CrossEntropy"] == cross_entropy
    reached_rows = {tokens[i] for i in range(n)}
    assert rows["parameters"] == (len(reached_rows) + n) * c + 2 * 12 * c * c + v * c


def test_every_op_is_timed_and_the_totals_add_up():
    engine = {cls: dict(vars(cls)) for cls in (Function, F.Linear, F.CrossEntropy, ops.Add)}
    result, _, _ = measure(n_embd=4, n_head=1, block_size=4)
    assert {cls: dict(vars(cls)) for cls in engine} == engine  # the timers are gone
    for row in result.rows[1:-1]:
        assert row.tensor_forward > 0 and row.tensor_backward > 0
        if row.op == "Index":  # the scalar step reads the rows in the sum that follows
            assert row.scalar_forward is row.scalar_backward is None
        else:
            assert row.scalar_forward > 0 and row.scalar_backward > 0
    for key in by_op.COLUMNS:
        assert getattr(result.total, key) == pytest.approx(
            sum(getattr(r, key) or 0 for r in result.rows))
    assert set(result.uninstrumented) == set(by_op.GC_MODES)


def test_a_scalar_step_that_does_other_work_is_refused(monkeypatch):
    monkeypatch.setattr(gpt_tensor, "rmsnorm", lambda x: x)  # the tensor step skips the norms
    with pytest.raises(by_op.MisalignedSteps, match=r"position 0: .* which does rmsnorm\(\) here"):
        measure(n_embd=4, n_head=1, block_size=4)


def test_the_backward_pass_region_by_region_gives_value_backwards_gradients():
    run, tokens = first_step(**TWO_LAYERS)
    params = gpt_scalar.from_state_dict(run.state)
    trace = scalar_regions.trace(params, run.config, tokens)
    # Any regions found in the order the code ran are an order for the backward pass.
    regions = [trace.region(scalar_regions.values_in(list(params.values())))]
    regions += [trace.region(call.results) for p in trace.positions for call in p.calls]
    regions.append(trace.region([trace.loss]))
    assert sum(map(len, regions)) == len(trace.graph) == len(trace.order)
    seconds = scalar_regions.backward_by_region(trace, regions)
    assert len(seconds) == len(regions)
    reference = gpt_scalar.from_state_dict(run.state)
    gpt_scalar.document_loss(reference, run.config, tokens).backward()
    for name, expected in gpt_scalar.grads(reference).items():  # summed in another order
        np.testing.assert_allclose(gpt_scalar.grads(params)[name], expected, rtol=1e-12,
                                   atol=1e-15, err_msg=name)


def test_tracing_leaves_gpt_scalar_as_it_was():
    run, tokens = first_step(n_embd=4, n_head=1, block_size=4)
    before = {name: getattr(gpt_scalar, name) for name in (*scalar_regions.TRACED, "gpt")}
    trace = scalar_regions.trace(gpt_scalar.from_state_dict(run.state), run.config, tokens)
    assert len(trace.positions) == len(tokens) - 1
    assert {name: getattr(gpt_scalar, name) for name in before} == before
