"""Draw the graph of one tanh neuron after ``backward()``: every value with its data and gradient.

    python examples/graph_picture.py docs/graph.svg    # .svg, .png or .pdf: needs Graphviz
    python examples/graph_picture.py neuron.dot        # DOT text: needs nothing
    python examples/graph_picture.py -                 # DOT text on standard output

The neuron is ``o = tanh(x1*w1 + x2*w2 + b)`` with ``x1 = 2``, ``x2 = 0``, ``w1 = -3``, ``w2 = 1``
and ``b = 6.8813735870195432``, chosen so that ``o = tanh(0.8814) = 0.7071`` and
``do/dn = 1 - o**2 = 0.5``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from micrograd import Value
from micrograd.graph import render, to_dot


def neuron() -> tuple[Value, dict[Value, str]]:
    """The output of the neuron, after ``backward()``, and a name for every value in its graph."""
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2 = Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    o.backward()
    names = {
        x1: "x1", x2: "x2", w1: "w1", w2: "w2", b: "b",
        x1w1: "x1*w1", x2w2: "x2*w2", x1w1x2w2: "x1*w1 + x2*w2", n: "n", o: "o",
    }  # fmt: skip
    return o, names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", help="output file (.svg, .png, .pdf, .dot) or - for DOT text")
    args = parser.parse_args(argv)
    o, names = neuron()
    if args.path == "-":
        sys.stdout.write(to_dot(o, names=names))
    else:
        print(f"wrote {render(o, args.path, names=names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
