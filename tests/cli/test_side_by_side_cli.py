"""The learner's commands end to end: ``compare --by-op``, ``graph``, ``sample --attention``,
and every bad input to them as one error line that writes nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from paths import REPO
from test_cli import NAMES, run

from benchmarks.engines import graph_nodes
from microgpt import cli, gpt_scalar, gpt_tensor
from microgpt.data import Tokenizer
from microgpt.model import GPTConfig, init_state_dict
from microgpt.storage import checkpoint
from microgpt.tools import attention_maps
from microgpt.train import document_tokens, setup
from tensorgrad import Tensor
from tensorgrad import functional as F

TINY = ["--n-embd", "4", "--n-head", "1", "--block-size", "3"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed")



def first_losses(**model: int) -> dict[str, object]:
    """Each engine's loss of the first training step on NAMES."""
    run_ = setup(NAMES, **model)
    tokens = document_tokens(run_.tokenizer, run_.docs[0], run_.config.block_size)
    return {name: engine.document_loss(engine.from_state_dict(run_.state), run_.config, tokens)
            for name, engine in (("tensor", gpt_tensor), ("scalar", gpt_scalar))}


# ---- compare --by-op ----------------------------------------------------------------------------


def test_compare_by_op_prints_the_table_and_writes_it_as_json(capsys, dataset, tmp_path):
    status, lines, err = run(capsys, "compare", "--by-op", "--data", dataset, *TINY,
                             "--json", tmp_path / "step.json")
    assert (status, err) == (0, "")
    assert lines[:3] == ["num docs: 10", "vocab size: 13", "num params: 308"]
    assert lines[3].startswith("one training step, op by op, on the first document")
    header = lines[5].split()
    assert header == ["op", "tensor", "scalar", "tensor", "scalar", "ratio", "tensor",
                      "scalar", "ratio"]
    total = next(line for line in lines if line.startswith("total")).split()
    nodes = {name: graph_nodes(loss) for name, loss in first_losses(
        n_embd=4, n_head=1, block_size=3).items()}
    assert (int(total[1]), int(total[2].replace(",", ""))) == (nodes["tensor"], nodes["scalar"])
    table = json.loads((tmp_path / "step.json").read_text())
    assert table["total"]["tensor_nodes"] == nodes["tensor"] == 23
    assert table["total"]["scalar_nodes"] == nodes["scalar"]
    assert [row["op"] for row in table["rows"]][:4] == ["parameters", "Index", "Index", "Add"]
    assert len(table["rows"]) == 18 and table["units"] == "microseconds"
    assert table["config"]["n_embd"] == 4 and table["document"] in NAMES
    assert lines[-1] == f"table written to {tmp_path / 'step.json'}"
    # the aligned text: every row of the table as wide as the header's rule
    rule = lines[6]
    assert set(rule) == {"-"} and all(len(line) <= len(rule) for line in lines[4:-8])


# ---- graph --------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["tensor", "scalar"])
def test_graph_writes_the_dot_source_of_the_first_step(capsys, dataset, tmp_path, engine):
    out = tmp_path / f"{engine}.dot"
    status, lines, err = run(capsys, "graph", "--engine", engine, "--data", dataset, *TINY,
                             "--out", out)
    assert (status, err) == (0, "")
    loss = first_losses(n_embd=4, n_head=1, block_size=3)[engine]
    nodes = graph_nodes(loss)
    assert re.fullmatch(rf"wrote the {engine} engine's graph of one training step \({nodes:,} "
                        rf"nodes: the loss on '\w+', and its backward pass\) to {out}", lines[0])
    source = out.read_text()
    assert len(re.findall(r"^  n\d+ \[label=", source, re.M)) == nodes
    assert "grad" in source  # the backward pass ran


@needs_dot
def test_graph_draws_svg_and_png(capsys, dataset, tmp_path):
    for suffix, magic in ((".svg", b"<?xml"), (".png", b"\x89PNG")):
        out = tmp_path / f"graph{suffix}"
        status, _, err = run(capsys, "graph", "--data", dataset, "--out", out)
        assert (status, err) == (0, "")
        assert out.read_bytes().startswith(magic)


def fake_dot(tmp_path: Path, script: str) -> str:
    """A directory holding a ``dot`` that runs ``script``, to put on PATH."""
    directory = tmp_path / "bin"
    directory.mkdir()
    (directory / "dot").write_text(f"#!/bin/sh\n{script}\n")
    (directory / "dot").chmod(stat.S_IRWXU)
    return str(directory)


def test_a_graph_too_large_to_draw_is_refused_with_its_size_and_a_hint(capsys, dataset,
                                                                       tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_dot(tmp_path, "exit 3"))  # never run: refused before
    status, lines, err = run(capsys, "graph", "--engine", "scalar", "--data", dataset,
                             "--out", tmp_path / "big.svg")
    nodes = graph_nodes(first_losses()["scalar"])
    assert status == 1 and lines == []
    assert err == (f"error: the scalar engine's graph of this step has {nodes:,} nodes, more "
                   "than the 5,000 Graphviz lays out in a minute; draw a smaller model "
                   "(--n-embd 4 --n-head 1 --block-size 4), or write the DOT source (--out "
                   "ending in .dot)\n")
    assert not (tmp_path / "big.svg").exists()


def test_a_failing_dot_is_one_error_line(capsys, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", fake_dot(tmp_path, "echo 'Error: out of memory' >&2; exit 2"))
    status, _, err = run(capsys, "graph", "--data", dataset, "--out", tmp_path / "g.svg")
    assert status == 1
    assert err == "error: Graphviz's dot failed (exit status 2): Error: out of memory\n"
    assert not (tmp_path / "g.svg").exists()


# ---- sample --attention -------------------------------------------------------------------------


def trained_checkpoint(tmp_path: Path) -> Path:
    config = GPTConfig(vocab_size=5, n_embd=4, n_head=2, n_layer=2, block_size=6)
    state = init_state_dict(config, random.Random(0))
    return checkpoint.save(tmp_path / "model.safetensors",
                           checkpoint.Checkpoint(state, config, Tokenizer("abcd")))


def many_heads(tmp_path: Path) -> Path:
    config = GPTConfig(vocab_size=5, n_embd=4, n_head=4, n_layer=17, block_size=3)
    state = init_state_dict(config, random.Random(0))
    return checkpoint.save(tmp_path / "deep.safetensors",
                           checkpoint.Checkpoint(state, config, Tokenizer("abcd")))


def test_attention_weights_are_those_the_model_attends_with():
    config = GPTConfig(vocab_size=5, n_embd=4, n_head=2, n_layer=2, block_size=6)
    params = gpt_tensor.from_state_dict(init_state_dict(config, random.Random(0)))
    tokens = [4, 0, 1, 2, 3]
    weights = attention_maps.attention_weights(params, config, tokens)
    assert [w.shape for w in weights] == [(2, 5, 5)] * 2
    for w in weights:
        np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
        assert not np.triu(w, k=1).any()  # no query attends to a later position
    # Layer 0's weights, applied to its values, give what its attention node output.
    x = gpt_tensor.rmsnorm(gpt_tensor.rmsnorm(params["wte"][np.array(tokens)]
                                              + params["wpe"][0:5]))
    qkv = F.linear(x, params["layer0.attn_wqkv"]).detach().numpy()
    values = qkv[:, 8:].reshape(5, 2, 2).transpose(1, 0, 2)  # (heads, n, head_dim)
    joined = (weights[0] @ values).transpose(1, 0, 2).reshape(5, 4)
    expected = F.multi_head_attention(Tensor(qkv), 2, is_causal=True).data
    np.testing.assert_allclose(joined, expected, rtol=1e-12, atol=1e-15)


def test_sample_draws_the_attention_of_the_first_name(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    model = trained_checkpoint(tmp_path)
    status, plain, _ = run(capsys, "sample", "--load", model, "--samples", "3", "--prefix", "ab")
    assert status == 0
    status, lines, err = run(capsys, "sample", "--load", model, "--samples", "3", "--prefix",
                             "ab", "--attention", tmp_path / "att.png")
    assert (status, err) == (0, "")
    assert lines[:-1] == plain  # the same names
    name = plain[0].split(": ")[1]
    assert lines[-1] == f"attention maps of sample 1, {name!r}, drawn to {tmp_path / 'att.png'}"
    assert (tmp_path / "att.png").read_bytes().startswith(b"\x89PNG")


def test_attention_without_matplotlib_is_one_error_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # then importing it fails
    model = trained_checkpoint(tmp_path)
    status, lines, err = run(capsys, "sample", "--load", model, "--attention",
                             tmp_path / "att.png")
    assert status == 1 and lines == []
    assert err == ("error: --attention needs matplotlib, which is not installed (pip install "
                   "'microgpt-tensorgrad[plot]')\n")


# ---- bad input ----------------------------------------------------------------------------------


def written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


USAGE, RUNTIME = 2, 1
BAD_INPUT = {
    "json without --by-op": (["compare", "--data", "{data}", "--json", "{tmp}/t.json"], USAGE,
                             "--json writes the table of --by-op; give --by-op too"),
    "by-op with --steps": (["compare", "--by-op", "--data", "{data}", "--steps", "3"], USAGE,
                           "--steps does not apply"),
    "by-op with --lr and --steps": (["compare", "--by-op", "--data", "{data}", "--lr", "0.1",
                                     "--steps", "3"], USAGE, "--lr and --steps do not apply"),
    "by-op json onto a directory": (["compare", "--by-op", "--data", "{data}", "--json",
                                     "{tmp}"], RUNTIME, "is a directory"),
    "by-op json into a missing directory": (["compare", "--by-op", "--data", "{data}",
                                             "--json", "{tmp}/no/t.json"], RUNTIME,
                                            "no directory"),
    "by-op json onto the dataset": (["compare", "--by-op", "--data", "{data}", "--json",
                                     "{data}"], USAGE, "is the dataset"),
    "by-op, n-head": (["compare", "--by-op", "--data", "{data}", "--n-head", "3"], USAGE,
                      "divisible"),
    "graph without --out": (["graph", "--data", "{data}"], USAGE, "--out"),
    "graph, unknown engine": (["graph", "--engine", "numpy", "--out", "{tmp}/g.dot"], USAGE,
                              "--engine"),
    "graph, not a picture": (["graph", "--data", "{data}", "--out", "{tmp}/g.txt"], USAGE,
                             "--out writes .dot or .svg or .png files"),
    "graph onto a directory": (["graph", "--data", "{data}", "--out", "{file}"], RUNTIME,
                               "is a directory", lambda tmp: (tmp / "d.dot").mkdir() or
                               tmp / "d.dot"),
    "graph onto the dataset": (["graph", "--data", "{file}", "--out", "{file}"], USAGE,
                               "is the dataset", lambda tmp: written(tmp / "n.dot", "ab\ncd\n")),
    "graph, missing dataset": (["graph", "--data", "{tmp}/nope.txt", "--out", "{tmp}/g.dot"],
                               RUNTIME, "No such file or directory"),
    "graph, steps": (["graph", "--data", "{data}", "--steps", "3", "--out", "{tmp}/g.dot"],
                     USAGE, "unrecognized arguments: --steps"),
    "graph, n-embd 0": (["graph", "--data", "{data}", "--n-embd", "0", "--out", "{tmp}/g.dot"],
                        USAGE, "--n-embd"),
    "attention not a png": (["sample", "--load", "{file}", "--attention", "{tmp}/a.jpg"],
                            RUNTIME, "--attention writes a PNG image", trained_checkpoint),
    "attention onto the checkpoint, named .png": (
        ["sample", "--load", "{file}", "--attention", "{file}"], USAGE, "is the checkpoint",
        lambda tmp: trained_checkpoint(tmp).rename(tmp / "model.png")),
    "attention of too many heads": (["sample", "--load", "{file}", "--attention",
                                     "{tmp}/a.png"], USAGE, "this model has 68, more than the 64",
                                    many_heads),
    "attention into a missing directory": (["sample", "--load", "{file}", "--attention",
                                            "{tmp}/no/a.png"], RUNTIME, "no directory",
                                           trained_checkpoint),
}


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(directory.rglob("*"))}


# Refused after the check that matplotlib is there (it is an optional extra).
AFTER_MATPLOTLIB = {"attention onto the checkpoint, named .png", "attention of too many heads"}
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib is not installed")


@pytest.mark.parametrize("case", [
    pytest.param(case, id=name, marks=[needs_matplotlib] if name in AFTER_MATPLOTLIB else [])
    for name, case in BAD_INPUT.items()])
def test_bad_input_is_one_error_line(capsys, dataset, tmp_path, case):
    argv, expected_status, message, *make = case
    file = make[0](tmp_path) if make else None
    before = tree(tmp_path)
    status = cli.main([arg.format(data=dataset, tmp=tmp_path, file=file) for arg in argv])
    out, err = capsys.readouterr()
    assert status == expected_status
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert message in err
    assert tree(tmp_path) == before  # nothing written, not even half a file
    assert out == ""  # everything is checked before any work starts


def test_drawing_without_graphviz_is_one_error_line(capsys, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot there
    status, lines, err = run(capsys, "graph", "--data", dataset, "--out", tmp_path / "g.png")
    assert status == 1 and lines == []
    assert err == ("error: drawing .png needs Graphviz's dot program, which is not installed: "
                   "install the graphviz system package (apt-get install graphviz, brew install "
                   "graphviz, ...), or write the DOT source (--out ending in .dot)\n")
    assert sorted(os.listdir(tmp_path)) == ["names.txt"]


def test_graph_into_the_file_the_output_goes_to_is_refused(dataset, tmp_path):
    """`microgpt graph --out out.dot > out.dot`"""
    out = tmp_path / "out.dot"
    with out.open("w") as stdout:
        result = subprocess.run([sys.executable, "-m", "microgpt", "graph", "--data",
                                 str(dataset), "--out", str(out)], stdout=stdout,
                                stderr=subprocess.PIPE, text=True, timeout=60, check=False,
                                cwd=REPO)
    assert result.returncode == 2
    assert result.stderr == (f"error: --out {out} is where the output goes; writing there "
                             "would replace it\n")
    assert out.read_text() == ""
