"""Pictures of computation graphs: Graphviz DOT text, a graph that shows itself in Jupyter, files.

:func:`draw` returns a :class:`Graph`, which a Jupyter notebook shows inline as SVG and which can
be saved (``.svg``, ``.png``, ``.pdf``, ``.dot``); it draws the values as they are when it is shown,
so after ``backward()`` it shows the gradients. :func:`to_dot` gives the DOT text and needs nothing
beyond the standard library; :func:`render` writes a file. Images need Graphviz: the ``dot``
program, or the ``graphviz`` Python package (which runs the same program).

A value is named, in order of precedence, by ``names`` (a mapping from values to strings), by its
own :attr:`~micrograd.Value.label`, or by its place in ``model`` (a :class:`~micrograd.nn.Module`:
the names of :meth:`~micrograd.nn.Module.named_parameters`, such as ``layers.0.neurons.1.w.0``).

>>> from micrograd import Value
>>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
>>> c = a * b
>>> print(to_dot(c, names={c: "c"}), end="")
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
from .nn import Module

__all__ = ["Graph", "draw", "render", "to_dot"]

RankDir = Literal["LR", "RL", "TB", "BT"]

_IMAGE_FORMATS = ("svg", "png", "pdf")
_TEXT_FORMATS = ("dot", "gv")

_INSTALL_HINT = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS) or `conda install graphviz`; the Python package (`pip install graphviz`) drives the "
    "same `dot` program. To render elsewhere, write a .dot file instead."
)


def to_dot(
    root: Value,
    *,
    names: Mapping[Value, str] | None = None,
    model: Module | None = None,
    rankdir: RankDir = "LR",
) -> str:
    """Graphviz DOT text for the graph that computes ``root``.

    Each value is a record node ``{ name | data ... | grad ... }``; the name, when the value has
    one, comes from ``names``, else from the value's ``label``, else from its parameter name in
    ``model``. Each computed value also has a small operator node, labelled with the operator's
    symbol (``+``, ``*``, ``/``, ``**``), its source with the number argument for the ``*_const``
    operators (``x ** 2.0``, ``x + 10.0``), or its name (``tanh``, ``relu``); edges run from the
    operands, in order, to the operator node and from there to the result. ``rankdir`` is the
    direction the graph is laid out in (``"LR"``: inputs on the left).

    Nodes are numbered ``n0`` (the root), ``n1``, ... in the order a depth-first walk from the root
    discovers them, operands in order, so the same graph always gives the same text (whatever the
    values' addresses in memory). The walk is iterative: graphs of any depth work, in time linear
    in their size.

    Raises:
        TypeError: ``root`` is not a Value, ``names`` not a mapping, ``model`` not a Module.
        ValueError: ``rankdir`` is not one of ``"LR"``, ``"RL"``, ``"TB"``, ``"BT"``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"to_dot: root must be a Value, got {type(root).__name__}")
    given, params = _checked_names("to_dot", names, model, rankdir)
    return _dot_text(root, given, params, rankdir)


def _checked_names(
    who: str, names: object, model: object, rankdir: object
) -> tuple[Mapping[Value, str], dict[Value, str]]:
    """The ``names`` mapping and the parameter names of ``model``, the arguments checked."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"{who}: rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    if names is not None and not isinstance(names, Mapping):
        raise TypeError(
            f"{who}: names must be a mapping from values to names, got {type(names).__name__}"
        )
    if model is not None and not isinstance(model, Module):
        raise TypeError(f"{who}: model must be a micrograd Module, got {type(model).__name__}")
    params = {} if model is None else {p: name for name, p in model.named_parameters()}
    return ({} if names is None else names), params


def _dot_text(
    root: Value, names: Mapping[Value, str], params: Mapping[Value, str], rankdir: str
) -> str:
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
        name = names.get(node)
        if name is None:
            name = node.label
            if name is None:
                name = params.get(node)
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
    model: Module | None = None,
    rankdir: RankDir = "LR",
) -> Path:
    """Write a picture of the graph under ``root`` to ``path`` and return the path.

    ``format`` is ``"svg"``, ``"png"``, ``"pdf"``, ``"dot"`` or ``"gv"``, by default the file's
    suffix. DOT text is written directly. Images need Graphviz: the ``dot`` program on ``PATH``,
    or else the ``graphviz`` Python package (which runs the same program). ``names``, ``model``
    and ``rankdir`` are :func:`to_dot`'s.

    Raises:
        ValueError: the format is unknown.
        RuntimeError: an image was asked for and Graphviz is not installed, or ``dot`` failed.
    """
    if not isinstance(root, Value):
        raise TypeError(f"render: root must be a Value, got {type(root).__name__}")
    given, params = _checked_names("render", names, model, rankdir)
    return _write("render", root, path, format, given, params, rankdir)


def _write(
    who: str,
    root: Value,
    path: str | Path,
    format: str | None,
    names: Mapping[Value, str],
    params: Mapping[Value, str],
    rankdir: str,
) -> Path:
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{who}: path must be a str or a pathlib.Path, got {type(path).__name__}")
    out = Path(path)
    if format is not None and not isinstance(format, str):
        raise TypeError(f"{who}: format must be a str or None, got {type(format).__name__}")
    fmt = (format if format is not None else out.suffix.lstrip(".")).lower()
    if fmt not in _IMAGE_FORMATS + _TEXT_FORMATS:
        known = ", ".join(_IMAGE_FORMATS + _TEXT_FORMATS)
        raise ValueError(f"{who}: format must be one of {known}, got {fmt!r} (from {str(out)!r})")
    text = _dot_text(root, names, params, rankdir)
    if fmt in _TEXT_FORMATS:
        out.write_text(text, encoding="utf-8")
        return out
    out.write_bytes(_run_dot(text, fmt))
    return out


class Graph:
    """The graph that computes ``root``, as a picture: shown inline by Jupyter, or saved.

    A graph is a view, not a copy: each time it is shown or saved it draws the values as they are
    then, so the same graph shows the gradients once ``root.backward()`` has run. ``names``,
    ``model`` and ``rankdir`` are :func:`to_dot`'s; ``model`` is read when the graph is made.

    In Jupyter, a graph as the last expression of a cell is shown as SVG (``_repr_svg_``,
    ``_repr_mimebundle_``), drawn by Graphviz; where Graphviz is not installed, or the graph has
    more than ``max_inline`` values (Graphviz takes seconds for a thousand, minutes beyond; ``None``
    for no limit), it is shown as a line of text that says why. :meth:`save` writes any size.

    >>> from micrograd import Value
    >>> a = Value(2.0, label="a")
    >>> g = draw((a * a).named("y"))
    >>> g
    Graph(Value(data=4.0, grad=0.0, op='mul', label='y'), 2 values)
    >>> "{ y | data 4.0000 | grad 0.0000 }" in g.source
    True
    """

    def __init__(
        self,
        root: Value,
        *,
        names: Mapping[Value, str] | None = None,
        model: Module | None = None,
        rankdir: RankDir = "LR",
        max_inline: int | None = 1000,
    ) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"Graph: root must be a Value, got {type(root).__name__}")
        _check_limit(max_inline)
        self._names, self._params = _checked_names("Graph", names, model, rankdir)
        self._root = root
        self._rankdir = rankdir
        self._max_inline = max_inline

    @property
    def root(self) -> Value:
        """The value whose graph this is."""
        return self._root

    @property
    def rankdir(self) -> RankDir:
        """The direction of the layout: ``"LR"`` (inputs on the left), ``"TB"``, ..."""
        return self._rankdir

    @property
    def max_inline(self) -> int | None:
        """The most values a notebook draws inline (``None``: no limit)."""
        return self._max_inline

    @property
    def source(self) -> str:
        """The DOT text of the graph as it is now (see :func:`to_dot`)."""
        return _dot_text(self.root, self._names, self._params, self.rankdir)

    def __len__(self) -> int:
        """The number of values in the graph."""
        seen = {self.root}
        stack = [self.root]
        while stack:
            for parent in stack.pop().parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return len(seen)

    def pipe(self, format: str = "svg") -> bytes:
        """The graph drawn by Graphviz as ``format`` (``"svg"``, ``"png"`` or ``"pdf"``).

        Raises:
            ValueError: the format is unknown.
            RuntimeError: Graphviz is not installed (the message says how to install it), or
                ``dot`` failed.
        """
        return _run_dot(self.source, _image_format(format, "Graph.pipe"))

    def svg(self) -> str:
        """The graph as an SVG document (see :meth:`pipe`)."""
        return self.pipe("svg").decode("utf-8")

    def save(self, path: str | Path, *, format: str | None = None) -> Path:
        """Write the graph to ``path`` and return it; as :func:`render` (format by suffix)."""
        return _write(
            "Graph.save", self.root, path, format, self._names, self._params, self.rankdir
        )

    def _inline_svg(self) -> tuple[str | None, str]:
        """The SVG to show inline, or ``None`` and the reason, for the notebook's formatters."""
        if self.max_inline is not None:
            n = len(self)
            if n > self.max_inline:
                return None, (
                    f"{self!r}: too many values to draw inline (more than max_inline="
                    f"{self.max_inline}); save it to a file with .save('graph.svg'), or draw a "
                    "smaller graph"
                )
        try:
            return self.svg(), repr(self)
        except RuntimeError as error:
            return None, f"{self!r}: cannot draw it: {error}"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """Jupyter's rich display: SVG and text, or only a text saying why there is no picture."""
        svg, text = self._inline_svg()
        bundle = {"text/plain": text}
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle

    def _repr_svg_(self) -> str | None:
        """The SVG for Jupyter, or ``None`` where it cannot be drawn (:meth:`_repr_mimebundle_`
        then says why)."""
        return self._inline_svg()[0]

    def __repr__(self) -> str:
        n = len(self)
        return f"Graph({self.root!r}, {n:,} value{'' if n == 1 else 's'})"


def _check_limit(limit: object) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"Graph: max_inline must be an int >= 1 or None, got {limit!r}")


def _image_format(fmt: object, who: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in _IMAGE_FORMATS:
        raise ValueError(f"{who}: format must be one of {', '.join(_IMAGE_FORMATS)}, got {fmt!r}")
    return fmt.lower()


def draw(
    root: Value,
    *,
    names: Mapping[Value, str] | None = None,
    model: Module | None = None,
    rankdir: RankDir = "LR",
    max_inline: int | None = 1000,
) -> Graph:
    """The :class:`Graph` of ``root``: the last expression of a notebook cell, it shows itself.

    ``draw(loss, model=model)`` names the parameters by their place in ``model``; see
    :class:`Graph` for the rest.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    return Graph(root, names=names, model=model, rankdir=rankdir, max_inline=max_inline)


def _run_dot(text: str, fmt: str) -> bytes:
    """``text`` rendered by Graphviz as ``fmt``."""
    exe = shutil.which("dot")
    if exe is not None:
        try:
            done = subprocess.run([exe, f"-T{fmt}"], input=text.encode(), capture_output=True)
        except OSError as error:  # found, but it cannot be run
            raise RuntimeError(f"Graphviz dot ({exe}) could not be run: {error}") from None
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
