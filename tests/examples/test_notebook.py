"""docs/learning.ipynb: valid nbformat 4, stored without outputs, and every cell runs, in order.

The code cells run in one namespace, as a kernel runs them, without Jupyter: each cell is
compiled and executed; when it ends in an expression, that expression's value is shown the way
Jupyter shows it (``_repr_mimebundle_`` for a graph), so drawing the graphs is tested too.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from micrograd import Value
from micrograd.graph import Graph

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "learning.ipynb"


def load() -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return notebook


def source(cell: dict[str, Any]) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def code_cells() -> list[str]:
    return [source(c) for c in load()["cells"] if c["cell_type"] == "code"]


def run_cell(code: str, namespace: dict[str, Any], name: str) -> object:
    """Execute ``code`` in ``namespace``; return the value of a final expression, else None."""
    tree = ast.parse(code, filename=name)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and not code.rstrip().endswith(";"):  # `;` hides it in Jupyter
        body = ast.Module(body=tree.body[:-1], type_ignores=[])
        exec(compile(body, name, "exec"), namespace)
        return eval(compile(ast.Expression(last.value), name, "eval"), namespace)
    exec(compile(tree, name, "exec"), namespace)
    return None


def test_the_notebook_is_nbformat_4_without_outputs() -> None:
    notebook = load()
    assert notebook["nbformat"] == 4
    assert notebook["nbformat_minor"] >= 4
    assert notebook["metadata"]["kernelspec"]["language"] == "python"
    cells = notebook["cells"]
    assert {c["cell_type"] for c in cells} == {"markdown", "code"}
    ids = [c["id"] for c in cells]
    assert len(set(ids)) == len(ids)  # unique cell ids (nbformat 4.5)
    for cell in cells:
        assert isinstance(cell["metadata"], dict)
        assert isinstance(cell["source"], (str, list))
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert cell["execution_count"] is None
        else:
            assert "outputs" not in cell
    codes = code_cells()
    assert len(codes) >= 10
    for code in codes:
        for line in code.splitlines():
            assert not line.lstrip().startswith(("%", "!")), f"IPython syntax: {line!r}"
        assert "display(" not in code  # a kernel's builtin, not Python's


def test_the_notebook_covers_what_it_promises() -> None:
    text = "\n".join(code_cells())
    assert 'Value(2.0, label="a")' in text
    assert "draw(c)" in text
    assert "Neuron(" in text
    assert "named_parameters()" in text
    assert "xs = [[2, 3, -1], [3, -1, 0.5], [0.5, 1, 1], [1, 1, -1]]" in text
    assert "ys = [1, -1, -1, 1]" in text
    assert "make_moons(" in text


def test_every_cell_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")  # no window: what an inline backend draws is not shown here
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # anything the notebook writes goes here
    namespace: dict[str, Any] = {"__name__": "__main__"}
    graphs: list[Graph] = []
    shown: list[object] = []
    try:
        for i, code in enumerate(code_cells()):
            try:
                result = run_cell(code, namespace, f"learning.ipynb, code cell {i}")
            except Exception as error:
                raise AssertionError(f"code cell {i} raised {error!r}:\n{code}") from error
            if isinstance(result, Graph):
                graphs.append(result)
            elif result is not None:
                shown.append(result)
    finally:
        plt.close("all")

    # What the cells compute, so a notebook that runs but teaches the wrong thing fails too.
    a, b, e, c = (namespace[k] for k in ("a", "b", "e", "c"))
    assert (c.data, c.label, e.label) == (4.0, "c", "e")
    assert (a.grad, b.grad) == (0.0, 0.0)  # zeroed by the notebook after the doubling
    assert namespace["n"].grad == pytest.approx(0.5)
    assert namespace["w1"].grad == pytest.approx(1.0)
    assert isinstance(namespace["loss"], Value)
    preds = [namespace["model"](x).data for x in namespace["xs"]]
    assert [1 if p > 0 else -1 for p in preds] == namespace["ys"]
    assert namespace["accuracy"](namespace["scores"], namespace["y"]) >= 0.8

    assert len(graphs) == 5  # the expression (twice), the neuron, the Neuron, the MLP
    for graph in graphs:
        bundle = graph._repr_mimebundle_()  # what Jupyter shows
        assert bundle["text/plain"].startswith("Graph(")
        if shutil.which("dot") is not None:
            assert "<svg" in bundle["image/svg+xml"]
        else:
            assert "image/svg+xml" not in bundle
            assert "install Graphviz" in bundle["text/plain"]
    assert "{ a | data 2.0000 | grad 0.0000 }" in graphs[0].source  # drawn as it is now
    assert "{ w.1 | data " in graphs[3].source  # the Neuron's parameter names
    assert "{ layers.0.neurons.3.w.1 | data " in graphs[4].source  # the MLP's
    assert pytest.approx(-3.0, rel=1e-6) in shown  # the finite-difference estimate of a.grad
    assert list(tmp_path.iterdir()) == []  # it wrote no files
