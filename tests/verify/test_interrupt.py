"""Ctrl-C during a run stops it, and only ever between whole steps that must not be cut.

An oracle's backend is imported in one piece: a ``KeyboardInterrupt`` in the middle of PyTorch's
import left NumPy half imported without stopping the run, and the next import (JAX's) failed
with ``RecursionError``: a traceback and exit status 1 instead of the run stopping with 130.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from micrograd import _interrupt
from micrograd.testing import Expr, Node
from micrograd.testing.oracles import Oracle


def test_ctrl_c_in_a_deferred_block_is_raised_at_its_end() -> None:
    done = []

    def ctrl_c_then_more() -> None:
        with _interrupt.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("the rest of the block")

    with _interrupt.interruptible(), pytest.raises(KeyboardInterrupt):
        ctrl_c_then_more()
    assert done == ["the rest of the block"]


def test_ctrl_c_while_an_oracle_is_imported_stops_after_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "interrupted_backend.py").write_text(
        "import os, signal\n"
        "os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, halfway through the import\n"
        "WHOLE = True\n"
        "def evaluate(expr):\n"
        "    raise AssertionError('the run went on after Ctrl-C')\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    oracle = Oracle("slow", "a backend", ("os",), "", False, "interrupted_backend")
    expr = Expr(1, (Node("exp", (0,)),), ((1.0,),))
    try:
        with _interrupt.interruptible(), pytest.raises(KeyboardInterrupt):
            oracle.evaluate(expr)
        assert sys.modules["interrupted_backend"].WHOLE
    finally:
        sys.modules.pop("interrupted_backend", None)
