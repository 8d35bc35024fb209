"""The first pair of pictures of docs/side-by-side.md: rms_norm of four numbers, weighted and
summed, on both engines, with the gradients of one backward pass. Needs Graphviz's dot (the
graphviz package).

    python docs/rms_norm_graphs.py docs    # writes docs/rms_norm_tensor.svg and _scalar.svg
"""

import subprocess
import sys
from pathlib import Path

import tensorgrad as tg
from microgpt import gpt_scalar
from tensorgrad import Tensor, Value
from tensorgrad import functional as F


def dot_sources() -> dict[str, str]:
    """Each engine's graph of the computation after backward(), as Graphviz DOT source."""
    x, w = [1.0, -2.0, 3.0, 0.5], [0.5, 1.0, -1.0, 2.0]

    # The tensor engine: one node for the whole rms_norm (microgpt's eps).
    x_tensor, w_tensor = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    tensor_loss = (F.rms_norm(x_tensor, 4, eps=1e-5) * w_tensor).sum()
    tensor_loss.backward(retain_graph=True)  # keep the values in between, for the picture

    # The scalar engine: microgpt's own rmsnorm, one Value per number.
    x_values, w_values = [Value(v) for v in x], [Value(v) for v in w]
    scalar_loss = sum(n * wi for n, wi in zip(gpt_scalar.rmsnorm(x_values), w_values))
    scalar_loss.backward()

    return {"tensor": tg.to_dot(tensor_loss, {"x": x_tensor, "w": w_tensor}),
            "scalar": tg.to_dot(scalar_loss, {"x": x_values, "w": w_values})}


if __name__ == "__main__":
    for engine, source in dot_sources().items():
        drawn = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                               check=True)
        (Path(sys.argv[1]) / f"rms_norm_{engine}.svg").write_bytes(drawn.stdout)
