"""Labels: ``Value(x, label=...)``, ``.label``, ``.named()``; kept outside the nodes."""

from __future__ import annotations

import gc
import sys
import threading

import pytest

import micrograd.engine as engine
from micrograd import MLP, Value


def test_a_label_from_the_constructor_the_attribute_or_named() -> None:
    a = Value(2.0, label="a")
    b = Value(-3.0)
    b.label = "b"
    e = a * b
    assert e.named("e") is e  # named() returns the value itself, for chaining
    assert (a.label, b.label, e.label) == ("a", "b", "e")
    d = (e + 10).named("d")
    assert d.label == "d"
    assert Value(1.0).label is None


def test_results_are_not_labelled_by_their_operands() -> None:
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    for v in (a * b, a + 1, -a, a.tanh(), Value.dot([a, b], [1.0, 2.0])):
        assert v.label is None
        assert type(v) is Value


def test_labels_change_nothing_else() -> None:
    def build(labelled: bool) -> tuple[Value, Value, Value]:
        a = Value(0.7, label="a" if labelled else None)
        b = Value(-1.3, label="b" if labelled else None)
        c = a * b + a.tanh() * b.exp()
        if labelled:
            c.label = "c"
        c.backward()
        return a, b, c

    plain, named = build(False), build(True)
    assert [(v.data, v.grad) for v in plain] == [(v.data, v.grad) for v in named]
    a, b, c = named
    assert c.op is not None
    assert c.op.name == "add"
    assert c.parents[0].parents == (a, b)


def test_repr_shows_the_label() -> None:
    assert repr(Value(2.0, label="a")) == "Value(data=2.0, grad=0.0, label='a')"
    e = (Value(2.0) * Value(-3.0)).named("e")
    assert repr(e) == "Value(data=-6.0, grad=0.0, op='mul', label='e')"
    e.label = None
    assert repr(e) == "Value(data=-6.0, grad=0.0, op='mul')"


def label_of(v: Value) -> str | None:
    """``v.label``, read through a call (mypy does not narrow it to what was assigned)."""
    return v.label


def test_none_and_the_empty_string_remove_a_label() -> None:
    a = Value(1.0, label="a")
    a.label = None
    assert a.label is None
    assert type(a) is Value
    a.label = "again"
    assert a.named("") is a
    assert label_of(a) is None
    assert type(a) is Value
    assert Value(1.0, label="").label is None
    b = Value(1.0)
    b.label = None  # removing no label is nothing
    assert b.label is None


def test_relabelling_replaces_the_label() -> None:
    a = Value(1.0, label="first")
    a.label = "second"
    assert a.label == "second"
    a.named("third")
    assert a.label == "third"


class Text(str):
    pass


def test_labels_are_str() -> None:
    a = Value(1.0, label=Text("a"))
    assert a.label == "a"
    assert type(a.label) is str  # a plain copy of a str subclass
    for bad, kind in ((1, "int"), (b"a", "bytes"), (Value(1.0), "Value"), (["a"], "list")):
        with pytest.raises(
            TypeError, match=rf"^Value\(label=\.\.\.\) takes a str or None, got {kind}$"
        ):
            Value(1.0, label=bad)  # type: ignore[arg-type]
        v = Value(1.0)
        with pytest.raises(TypeError, match=rf"^Value\.label takes a str or None, got {kind}$"):
            v.label = bad  # type: ignore[assignment]
        with pytest.raises(
            TypeError, match=rf"^Value\.named\(label\) takes a str or None, got {kind}$"
        ):
            v.named(bad)  # type: ignore[arg-type]
        assert v.label is None
        assert type(v) is Value  # a rejected label changes nothing


def test_the_label_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Value(1.0, "a")  # type: ignore[call-arg]


def test_a_labelled_value_is_still_a_value_with_the_same_layout() -> None:
    a = Value(1.0, label="a")
    assert isinstance(a, Value)
    assert type(a) is not Value
    assert type(a).__name__ == "Value"
    assert vars(type(a))["__slots__"] == ()  # no slots of its own
    assert sys.getsizeof(a) == sys.getsizeof(Value(1.0))
    assert not hasattr(a, "__dict__")
    assert type(a) is type(Value(2.0, label="b"))  # one labelled type per class


def test_unlabelled_values_carry_nothing_for_labels() -> None:
    # Nodes have the same slots as ever: the label is not stored in them.
    assert Value.__slots__ == ("_arg", "_data", "_grad", "_mark", "_op", "_prev")
    before = len(engine._LABELS)
    x = Value(1.0)
    y = x * 2 + 1
    y.backward()
    assert len(engine._LABELS) == before


def test_freed_values_take_their_labels_with_them() -> None:
    gc.collect()
    before = len(engine._LABELS)
    values = [Value(float(i), label=f"v{i}") for i in range(1000)]
    root = sum(values, Value(0.0)).named("sum")
    root.backward()
    assert len(engine._LABELS) == before + 1001
    del values, root
    assert len(engine._LABELS) == before  # by reference counting alone, no collection needed


def test_labelled_graphs_hold_no_reference_cycles() -> None:
    gc.collect()
    gc.disable()
    try:
        a = Value(2.0, label="a")
        b = (a * a).named("b")
        c = (b + a).named("c")
        del a, b, c
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_new_value_at_a_freed_address_has_no_label() -> None:
    seen = set()
    reused = 0
    for _ in range(200):
        v = Value(1.0, label="old")
        seen.add(id(v))
        del v
        w = Value(1.0)
        if id(w) in seen:  # the allocator gave the new value a freed labelled value's memory
            reused += 1
            assert w.label is None
            assert repr(w) == "Value(data=1.0, grad=0.0)"
    assert reused > 0, "no address was reused: the test checked nothing"


def test_subclasses_keep_their_class_and_finaliser() -> None:
    freed: list[str] = []

    class Mine(Value):
        def __del__(self) -> None:
            freed.append("mine")

    m = Mine(1.0, label="m")
    assert isinstance(m, Mine)
    assert m.label == "m"
    m.label = None
    assert type(m) is Mine
    m.label = "m2"
    assert isinstance(m, Mine)
    del m
    assert freed == ["mine"]

    class WithDict(Value):
        pass

    d = WithDict(1.0, label="d")
    d.note = "kept"  # type: ignore[attr-defined]
    assert (d.label, d.note) == ("d", "kept")  # type: ignore[attr-defined]


def test_parameters_can_be_labelled_and_still_train() -> None:
    model = MLP(2, [3, 1], nonlin="tanh", rng=0)
    other = MLP(2, [3, 1], nonlin="tanh", rng=0)
    for name, p in model.named_parameters():
        p.label = name
    for m in (model, other):
        out = m([0.5, -1.0])
        assert isinstance(out, Value)
        out.backward()
    assert [p.grad for p in model.parameters()] == [p.grad for p in other.parameters()]
    assert model.parameters()[0].label == "layers.0.neurons.0.w.0"


def test_labels_from_threads() -> None:
    values = [Value(float(i)) for i in range(400)]

    def name(part: list[Value], prefix: str) -> None:
        for i, v in enumerate(part):
            v.label = f"{prefix}{i}"

    threads = [threading.Thread(target=name, args=(values[k::4], f"t{k}.")) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        assert [v.label for v in values[k::4]] == [f"t{k}.{i}" for i in range(100)]
