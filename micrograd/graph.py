"""Pictures of computation graphs: Graphviz DOT text, and rendering it to SVG or PNG.

:func:`to_dot` needs nothing beyond the standard library. :func:`render` writes ``.dot`` (or
``.gv``) files itself and needs the Graphviz ``dot`` program for images.

>>> from micrograd import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> c = a * b
>>> print(to_dot(c, names={a: "a", b: "b", c: "c"}), end="")
digraph micrograd {
  rankdir=LR;
  node [fontname="Helvetica", fontsize=11];
  n0 [shape=record, label="{ c | data -6.0000 | grad 0.0000 }"];
  n0op [shape=ellipse, label="*"];
  n0op -> n0;
  n1 -> n0op;
  n2 -> n0op;
  n1 [shape=record, label="{ a | data 2.0000 | grad 0.0000 }"];
  n2 [shape=record, label="{ b | data -3.0000 | grad 0.0000 }"];
}
"""

from __future__ import annotations

import importlib
import math
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from .engine import Value

__all__ = ["render", "to_dot"]

RankDir = Literal["LR", "RL", "TB", "BT"]

_IMAGE_FORMATS = ("svg", "png", "pdf")
_TEXT_FORMATS = ("dot", "gv")

_INSTALL_HINT = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS) or `conda install graphviz`; the Python package (`pip install graphviz`) drives the "
    "same `dot` program. To render elsewhere, write a .dot file instead."
)


def to_dot(
    root: Value, *, names: Mapping[Value, str] | None = None, rankdir: RankDir = "LR"
) -> str:
    """Graphviz DOT text for the graph that computes ``root``.

    Each value is a record node ``{ name | data ... | grad ... }`` (the name only when ``names``
    has one for it). Each computed value also has a small operator node, labelled with the
    operator's symbol (``+``, ``*``, ``/``, ``**``), its source with the number argument for the
    ``*_const`` operators (``x ** 2.0``, ``x + 10.0``), or its name (``tanh``, ``relu``); edges run
    from the operands, in order, to the operator node and from there to the result.

    Nodes are numbered ``n0`` (the root), ``n1``, ... in the order a depth-first walk from the root
    discovers them, operands in order, so the same graph always gives the same text (whatever the
    values' addresses in memory). The walk is iterative: graphs of any depth work, in time linear
    in their size.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    labels = {} if names is None else names

    lines = [
        "digraph micrograd {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=11];',
    ]
    number: dict[Value, int] = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        i = number[node]
        fields = [f"data {_number(node.data)}", f"grad {_number(node.grad)}"]
        name = labels.get(node)
        if name is not None:
            fields.insert(0, _record_text(str(name)))
        lines.append(f'  n{i} [shape=record, label="{{ {" | ".join(fields)} }}"];')
        op = node.op
        if op is None:
            continue
        lines.append(f'  n{i}op [shape=ellipse, label="{_quoted_text(_op_label(node))}"];')
        lines.append(f"  n{i}op -> n{i};")
        fresh = []
        for parent in node.parents:
            j = number.get(parent)
            if j is None:
                j = number[parent] = len(number)
                fresh.append(parent)
            lines.append(f"  n{j} -> n{i}op;")
        stack.extend(reversed(fresh))  # the first operand is described first
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(
    root: Value,
    path: str | Path,
    *,
    format: str | None = None,
    names: Mapping[Value, str] | None = None,
) -> Path:
    """Write a picture of the graph under ``root`` to ``path`` and return the path.

    ``format`` is ``"svg"``, ``"png"``, ``"pdf"``, ``"dot"`` or ``"gv"``, by default the file's
    suffix. DOT text is written directly. Images need Graphviz: the ``dot`` program on ``PATH``,
    or else the ``graphviz`` Python package (which runs the same program).

    Raises:
        ValueError: the format is unknown.
        RuntimeError: an image was asked for and Graphviz is not installed, or ``dot`` failed.
    """
    out = Path(path)
    fmt = (format if format is not None else out.suffix.lstrip(".")).lower()
    if fmt not in _IMAGE_FORMATS + _TEXT_FORMATS:
        known = ", ".join(_IMAGE_FORMATS + _TEXT_FORMATS)
        raise ValueError(f"format must be one of {known}, got {fmt!r} (from {str(out)!r})")
    text = to_dot(root, names=names)
    if fmt in _TEXT_FORMATS:
        out.write_text(text, encoding="utf-8")
        return out
    out.write_bytes(_run_dot(text, fmt))
    return out


def _run_dot(text: str, fmt: str) -> bytes:
    """``text`` rendered by Graphviz as ``fmt``."""
    exe = shutil.which("dot")
    if exe is not None:
        done = subprocess.run([exe, f"-T{fmt}"], input=text.encode(), capture_output=True)
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"Graphviz dot failed ({done.returncode}): {message}")
        return done.stdout
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError:
        raise RuntimeError(
            f"rendering {fmt} needs the Graphviz `dot` program: {_INSTALL_HINT}"
        ) from None
    try:
        data: bytes = graphviz.Source(text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            f"rendering {fmt} needs the Graphviz `dot` program, which the graphviz package did "
            f"not find: {_INSTALL_HINT}"
        ) from None
    return data


def _number(x: float) -> str:
    """Four decimals where that reads well (0 and 1e-4 to 1e6 in size), else exponent form."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0 or 1e-4 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.4e}"


def _op_label(node: Value) -> str:
    op = node.op
    assert op is not None
    if op.has_const:
        return op.source("x", c=node.arg)
    if op.arity == 2:
        return op.syntax.format("", "").strip()
    return op.name


def _quoted_text(s: str) -> str:
    """``s`` inside a DOT double-quoted string."""
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    return s.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _record_text(s: str) -> str:
    """``s`` as literal text in a field of a record label (itself inside a quoted string)."""
    s = s.replace("\\", "\\\\")
    for ch in '{}|<>"':
        s = s.replace(ch, "\\" + ch)
    return s.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
