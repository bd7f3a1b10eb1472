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
from micrograd import Value
from micrograd.graph import render, to_dot

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
