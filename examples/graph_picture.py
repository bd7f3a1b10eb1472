"""Draw the graph of one tanh neuron after ``backward()``: every value with its data and gradient.

    python examples/graph_picture.py docs/graph.svg    # .svg, .png or .pdf: needs Graphviz
    python examples/graph_picture.py neuron.dot        # DOT text: needs nothing
    python examples/graph_picture.py -                 # DOT text on standard output
    python examples/graph_picture.py --mlp docs/mlp_graph.svg   # a small MLP, parameters named

The neuron is ``o = tanh(x1*w1 + x2*w2 + b)`` with ``x1 = 2``, ``x2 = 0``, ``w1 = -3``, ``w2 = 1``
and ``b = 6.8813735870195432``, chosen so that ``o = tanh(0.8814) = 0.7071`` and
``do/dn = 1 - o**2 = 0.5``. Every value is named with a label, as in a notebook. With ``--mlp`` it
draws ``MLP(2, [2, 1], nonlin="tanh")`` on the input ``[2, -1]`` after ``backward()`` instead, each
weight and bias named by its place in the model (``layers.0.neurons.1.w.0``). Without Graphviz, an
image is not drawn: the script says what to install and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from micrograd import MLP, Value
from micrograd.graph import Graph, draw


def neuron() -> Value:
    """The output of the neuron, after ``backward()``; every value in its graph is labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = (x1 * w1).named("x1*w1")
    x2w2 = (x2 * w2).named("x2*w2")
    x1w1x2w2 = (x1w1 + x2w2).named("x1*w1 + x2*w2")
    n = (x1w1x2w2 + b).named("n")
    o = n.tanh().named("o")
    o.backward()
    return o


def mlp() -> Graph:
    """The graph of a small MLP's output after ``backward()``, its parameters named."""
    model = MLP(2, [2, 1], nonlin="tanh", rng=0)
    x = [Value(2.0, label="x.0"), Value(-1.0, label="x.1")]
    out = model.forward(x)[0].named("out")
    out.backward()
    return draw(out, model=model)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=Path(__file__).name, description=__doc__.split("\n")[0])
    parser.add_argument("path", help="output file (.svg, .png, .pdf, .dot) or - for DOT text")
    parser.add_argument("--mlp", action="store_true", help="draw a small MLP instead of a neuron")
    args = parser.parse_args(argv)
    graph = mlp() if args.mlp else draw(neuron())
    if args.path == "-":
        sys.stdout.write(graph.source)
        return 0
    try:
        print(f"wrote {graph.save(args.path)}")
    except ValueError as error:  # an unknown format
        parser.error(str(error))
    except (RuntimeError, OSError) as error:  # no Graphviz, dot failed, or the file
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
