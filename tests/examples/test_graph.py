"""micrograd.graph: the DOT text of a graph, its determinism and escaping, and rendering it."""

from __future__ import annotations

import doctest
import inspect
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

import micrograd.graph
from micrograd import MLP, Value
from micrograd.graph import Graph, draw, render, to_dot

NODE = re.compile(r'^  (n\d+) \[shape=record, label="\{ (.*) \}"\];$')
OP = re.compile(r'^  (n\d+op) \[shape=ellipse, label="(.*)"\];$')
EDGE = re.compile(r"^  (n\d+(?:op)?) -> (n\d+(?:op)?);$")

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz `dot` is not installed (apt-get install graphviz): rendering not tested",
)


def parse(text: str) -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    """Record labels, operator labels and edges of ``to_dot`` output; every line must be known."""
    lines = text.splitlines()
    assert lines[0] == "digraph micrograd {"
    assert lines[-1] == "}"
    records: dict[str, str] = {}
    ops: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[3:-1]:
        if m := NODE.match(line):
            records[m[1]] = m[2]
        elif m := OP.match(line):
            ops[m[1]] = m[2]
        elif m := EDGE.match(line):
            edges.append((m[1], m[2]))
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return records, ops, edges


def abc() -> tuple[Value, dict[Value, str]]:
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    e = a * b
    d = e + c
    d.backward()
    return d, {a: "a", b: "b", c: "c", e: "e", d: "d"}


def test_docstring_example() -> None:
    assert doctest.testmod(micrograd.graph).failed == 0


def test_a_times_b_plus_c() -> None:
    d, names = abc()
    records, ops, edges = parse(to_dot(d, names=names))
    by_name = {label.split(" | ")[0]: node for node, label in records.items()}
    assert records[by_name["a"]] == "a | data 2.0000 | grad -3.0000"
    assert records[by_name["b"]] == "b | data -3.0000 | grad 2.0000"
    assert records[by_name["c"]] == "c | data 10.0000 | grad 1.0000"
    assert records[by_name["e"]] == "e | data -6.0000 | grad 1.0000"
    assert records[by_name["d"]] == "d | data 4.0000 | grad 1.0000"
    assert by_name["d"] == "n0"  # the root comes first
    assert sorted(ops.values()) == ["*", "+"]
    mul = next(k for k, v in ops.items() if v == "*")
    add = next(k for k, v in ops.items() if v == "+")
    assert mul == by_name["e"] + "op"
    assert add == by_name["d"] + "op"
    n = by_name
    assert sorted(edges) == sorted(
        [(n["a"], mul), (n["b"], mul), (mul, n["e"]), (n["e"], add), (n["c"], add), (add, n["d"])]
    )
    assert edges.index((n["a"], mul)) < edges.index((n["b"], mul))  # operands in order


def test_rankdir_and_unnamed_values() -> None:
    d, _ = abc()
    text = to_dot(d, rankdir="TB")
    assert "  rankdir=TB;\n" in text
    records, _, _ = parse(text)
    assert records["n0"] == "data 4.0000 | grad 1.0000"


def test_text_is_deterministic() -> None:
    first = to_dot(abc()[0])
    assert to_dot(abc()[0]) == first  # new objects at new addresses, same text
    d, names = abc()
    assert to_dot(d, names=names) == to_dot(d, names=names)


def test_shared_values_appear_once_with_an_edge_per_use() -> None:
    x = Value(3.0)
    y = x * x + x
    records, ops, edges = parse(to_dot(y))
    assert len(records) == 3  # x, x*x, y
    assert sorted(ops.values()) == ["*", "+"]
    x_id = next(k for k, v in records.items() if v.startswith("data 3.0000"))
    mul = next(k for k, v in ops.items() if v == "*")
    add = next(k for k, v in ops.items() if v == "+")
    assert edges.count((x_id, mul)) == 2
    assert edges.count((x_id, add)) == 1


def test_operator_labels() -> None:
    x, y = Value(2.0), Value(3.0)
    cases = {
        x + y: "+",
        x / y: "/",
        x**y: "**",
        x**2: "x ** 2.0",
        x + 10: "x + 10.0",
        x - 1: "x + (-1.0)",
        3 * x: "x * 3.0",
        1 / x: "1.0 / x",
        2**x: "2.0 ** x",
        x.tanh(): "tanh",
        x.relu(): "relu",
        -x: "neg",
        abs(x): "abs",
    }
    for root, label in cases.items():
        _, ops, _ = parse(to_dot(root))
        assert ops == {"n0op": label}


def test_numbers_are_compact() -> None:
    cases = {
        0.0: "data 0.0000",
        -1.5: "data -1.5000",
        123456.789: "data 123456.7890",
        1e6: "data 1.0000e+06",
        1.5e-5: "data 1.5000e-05",
        -2.5e300: "data -2.5000e+300",
        float("inf"): "data inf",
        float("-inf"): "data -inf",
        float("nan"): "data nan",
    }
    for x, text in cases.items():
        records, _, _ = parse(to_dot(Value(x)))
        assert records["n0"] == f"{text} | grad 0.0000"


def test_names_are_escaped() -> None:
    v = Value(1.0)
    nasty = 'a{b}|c<d>"e"\\f\ng'
    text = to_dot(v, names={v: nasty})
    records, _, _ = parse(text)
    assert records["n0"] == r"a\{b\}\|c\<d\>\"e\"\\f\ng | data 1.0000 | grad 0.0000"


def test_deep_chain_needs_no_recursion_and_is_fast() -> None:
    x = Value(1.0)
    root = x
    for i in range(5_000):  # 10,000 nodes
        root = (root * 1.0001).tanh() if i % 2 else (root + 0.5).relu()
    depth = len(inspect.stack(0))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 50)  # a recursive walk would fail
    try:
        start = time.perf_counter()
        text = to_dot(root)
        seconds = time.perf_counter() - start
    finally:
        sys.setrecursionlimit(limit)
    records, ops, edges = parse(text)
    assert len(records) == 10_001
    assert len(ops) == 10_000
    assert len(edges) == 20_000
    assert seconds < 2.0, f"to_dot took {seconds:.2f} s for 10,000 nodes"


def test_argument_errors() -> None:
    with pytest.raises(TypeError, match="root must be a Value, got float"):
        to_dot(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir must be one of"):
        to_dot(Value(1.0), rankdir="up")  # type: ignore[arg-type]


# --- render -------------------------------------------------------------------------------------


def test_render_dot_needs_no_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    d, names = abc()
    for name in ("g.dot", "g.gv"):
        out = render(d, tmp_path / name, names=names)
        assert out.read_text(encoding="utf-8") == to_dot(d, names=names)
    out = render(d, tmp_path / "picture.txt", format="dot")
    assert out.read_text(encoding="utf-8") == to_dot(d)


def test_render_without_graphviz_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    with pytest.raises(RuntimeError, match="apt-get install graphviz") as info:
        render(abc()[0], tmp_path / "g.svg")
    assert "pip install graphviz" in str(info.value)
    assert not (tmp_path / "g.svg").exists()


def fake_graphviz(found: bool, piped: list[tuple[str, str]]) -> types.ModuleType:
    """Stands in for the ``graphviz`` package: ``Source(text).pipe(format=...)``."""

    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, text: str) -> None:
            self.text = text

        def pipe(self, format: str) -> bytes:
            if not found:
                raise ExecutableNotFound("failed to execute PosixPath('dot')")
            piped.append((self.text, format))
            return b"<svg/>"

    module = types.ModuleType("graphviz")
    vars(module).update(Source=Source, ExecutableNotFound=ExecutableNotFound)
    return module


def test_render_falls_back_to_the_graphviz_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    piped: list[tuple[str, str]] = []
    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz(True, piped))
    d, names = abc()
    assert render(d, tmp_path / "g.svg", names=names).read_bytes() == b"<svg/>"
    assert piped == [(to_dot(d, names=names), "svg")]

    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz(False, piped))
    with pytest.raises(RuntimeError, match="which the graphviz package did not find: install"):
        render(d, tmp_path / "h.png")
    assert not (tmp_path / "h.png").exists()


def test_render_rejects_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"format must be one of svg, png, pdf, dot, gv, got 'jpg'"
    ):
        render(Value(1.0), tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="got ''"):
        render(Value(1.0), tmp_path / "g")


@needs_dot
def test_render_svg_shows_the_labels(tmp_path: Path) -> None:
    d, names = abc()
    names[d] = 'd <"out"> {1|2}'
    out = render(d, tmp_path / "g.svg", names=names)
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for text in ("data 4.0000", "grad 1.0000", "grad &#45;3.0000", "*", "+", "a", "e"):
        assert text in texts, text
    assert "d &lt;&quot;out&quot;&gt; {1|2}" in texts  # the escaped name, shown literally


@needs_dot
def test_render_png_and_pdf(tmp_path: Path) -> None:
    d, names = abc()
    assert render(d, tmp_path / "g.png", names=names).read_bytes().startswith(b"\x89PNG")
    out = render(d, tmp_path / "picture", format="pdf", names=names)
    assert out.read_bytes().startswith(b"%PDF")


@needs_dot
def test_dot_accepts_every_escaped_name() -> None:
    v = Value(1.0)
    name = '{}|<>"\\ \n\\n\\N end'
    done = subprocess.run(
        ["dot", "-Tplain"], input=to_dot(v, names={v: name}).encode(), capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert not done.stderr  # no syntax warnings either


# --- labels and parameter names -----------------------------------------------------------------


def test_labels_name_the_values() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = (a * b).named("e")
    d = e + 10
    records, _, _ = parse(to_dot(d))
    assert records["n0"] == "data 4.0000 | grad 0.0000"  # d has no label
    assert sorted(r.split(" | ")[0] for r in records.values() if not r.startswith("data")) == [
        "a",
        "b",
        "e",
    ]
    assert to_dot(d, names={e: "e", a: "a", b: "b"}) == to_dot(d)  # as if named by a mapping


def test_a_names_mapping_wins_over_labels_and_labels_over_parameter_names() -> None:
    model = MLP(1, [1], rng=0)
    w, bias = model.parameters()
    out = model([Value(2.0, label="x")])
    assert isinstance(out, Value)
    bias.label = "the bias"
    records, _, _ = parse(to_dot(out, model=model, names={out: "out"}))
    firsts = sorted(r.split(" | ")[0] for r in records.values() if not r.startswith("data"))
    assert firsts == ["layers.0.neurons.0.w.0", "out", "the bias", "x"]
    records, _, _ = parse(to_dot(out, model=model, names={w: "weight"}))
    assert any(r.startswith("weight | ") for r in records.values())


def test_names_and_model_are_checked() -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match=r"^to_dot: names must be a mapping from values to names"):
        to_dot(v, names=[("a", v)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^to_dot: model must be a micrograd Module, got list$"):
        to_dot(v, model=[v])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^render: root must be a Value, got int$"):
        render(1, "g.dot")  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^render: path must be a str or a pathlib\.Path, got int$"
    ):
        render(v, 3)  # type: ignore[arg-type]


def test_render_names_parameters(tmp_path: Path) -> None:
    model = MLP(2, [1], rng=0)
    out = model([1.0, 2.0])
    assert isinstance(out, Value)
    text = render(out, tmp_path / "g.dot", model=model, rankdir="TB").read_text("utf-8")
    assert text == to_dot(out, model=model, rankdir="TB")
    assert "{ layers.0.neurons.0.w.1 | data " in text


# --- Graph: inline in Jupyter, saved to files ---------------------------------------------------


def test_a_graph_is_a_view_that_shows_the_gradients_after_backward() -> None:
    d, names = abc()
    d.grad = 0.0
    for v in names:
        v.grad = 0.0
    g = draw(d, names=names)
    assert "grad -3.0000" not in g.source
    d.backward()
    assert "{ a | data 2.0000 | grad -3.0000 }" in g.source  # drawn as the values are now
    assert g.source == to_dot(d, names=names)
    assert len(g) == 5
    assert repr(g) == "Graph(Value(data=4.0, grad=1.0, op='add'), 5 values)"
    assert repr(draw(Value(1.0))) == "Graph(Value(data=1.0, grad=0.0), 1 value)"


def test_graph_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match=r"^draw: root must be a Value, got float$"):
        draw(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^Graph: root must be a Value, got str$"):
        Graph("a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^Graph: rankdir must be one of"):
        draw(Value(1.0), rankdir="up")  # type: ignore[arg-type]
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match=r"^Graph: max_inline must be an int >= 1 or None"):
            Graph(Value(1.0), max_inline=bad)  # type: ignore[arg-type]
    g = draw(Value(1.0))
    with pytest.raises(
        ValueError, match=r"^Graph\.pipe: format must be one of svg, png, pdf, got 'dot'"
    ):
        g.pipe("dot")
    with pytest.raises(
        ValueError, match=r"^Graph\.save: format must be one of svg, png, pdf, dot, gv"
    ):
        g.save("g.jpg")


def test_graph_save_writes_dot_text_without_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    d, names = abc()
    g = draw(d, names=names, rankdir="TB")
    assert g.save(tmp_path / "g.gv").read_text(encoding="utf-8") == g.source
    assert g.save(str(tmp_path / "g.txt"), format="dot") == tmp_path / "g.txt"
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.save(tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


def test_without_graphviz_the_notebook_shows_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    g = draw(abc()[0])
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    text = bundle["text/plain"]
    assert text.startswith("Graph(Value(data=4.0, grad=1.0, op='add'), 5 values): cannot draw it:")
    assert "apt-get install graphviz" in text
    assert "pip install graphviz" in text
    assert g._repr_svg_() is None
    with pytest.raises(RuntimeError, match="needs the Graphviz `dot` program"):
        g.svg()


def test_the_graphviz_package_draws_inline_where_dot_is_not_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    piped: list[tuple[str, str]] = []
    monkeypatch.setitem(sys.modules, "graphviz", fake_graphviz(True, piped))
    d, names = abc()
    g = draw(d, names=names)
    assert g._repr_mimebundle_() == {"text/plain": repr(g), "image/svg+xml": "<svg/>"}
    assert g._repr_svg_() == "<svg/>"
    assert piped == [(g.source, "svg")] * 2


def test_large_graphs_are_not_drawn_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []

    def run_dot(text: str, fmt: str) -> bytes:
        drawn.append(fmt)
        return b"<svg/>"

    monkeypatch.setattr(micrograd.graph, "_run_dot", run_dot)
    x = Value(1.0)
    y = x
    for _ in range(10):
        y = y * x  # 11 values
    g = draw(y, max_inline=10)
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "too many values to draw inline (more than max_inline=10)" in bundle["text/plain"]
    assert "save it to a file with .save('graph.svg')" in bundle["text/plain"]
    assert g._repr_svg_() is None
    assert drawn == []  # Graphviz was not even started
    assert "image/svg+xml" in draw(y, max_inline=11)._repr_mimebundle_()
    assert "image/svg+xml" in draw(y, max_inline=None)._repr_mimebundle_()
    assert drawn == ["svg", "svg"]


@needs_dot
def test_graph_inline_svg_and_saved_files(tmp_path: Path) -> None:
    d, names = abc()
    g = draw(d, names=names)
    bundle = g._repr_mimebundle_()
    assert bundle["text/plain"] == repr(g)
    svg = bundle["image/svg+xml"]
    assert "<svg" in svg
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "grad &#45;3.0000" in texts  # a's gradient, after backward()
    assert g._repr_svg_() == svg
    assert g.svg() == svg
    assert g.pipe("png").startswith(b"\x89PNG")
    assert "<svg" in g.save(tmp_path / "g.svg").read_text(encoding="utf-8")
    assert g.save(tmp_path / "g.PNG").read_bytes().startswith(b"\x89PNG")  # format by suffix
    assert g.save(tmp_path / "g.out", format="pdf").read_bytes().startswith(b"%PDF")


def test_public_names() -> None:
    assert micrograd.graph.__all__ == ["Graph", "draw", "render", "to_dot"]
    for name in micrograd.graph.__all__:
        assert getattr(micrograd.graph, name).__doc__


def test_a_dot_that_cannot_run_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "dot"
    broken.write_text("not a program", encoding="utf-8")
    broken.chmod(0o644)  # not executable
    monkeypatch.setattr(shutil, "which", lambda name: str(broken))
    g = draw(abc()[0])
    with pytest.raises(RuntimeError, match=r"^Graphviz dot \(.*dot\) could not be run: "):
        g.svg()
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "could not be run" in bundle["text/plain"]
    assert g.root.data == 4.0
    assert (g.rankdir, g.max_inline) == ("LR", 1000)
