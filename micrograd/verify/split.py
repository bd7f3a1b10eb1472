"""A run's rows shared between two processes, for two cores: the same rows, the same table.

What it buys, on a machine of two vCPUs: the default profile in 10.5 s instead of 14.6 s
(seed 1), the quick one in 6.8 s instead of 7.9 s (seed 4).

Both processes go through the same rows in the same order (:func:`micrograd.verify.pipeline.check`
with a :class:`Share`). Rows that do work take turns: the first is checked here, the next in
the helper, and so on; each process sends the cells of its rows to the other. Rows that only
say *skipped* or *not supported* are worked out by both. So both end with the same report, and
both see the same results where later rows depend on earlier ones (the mixed row and the laws
use the operations whose rows passed).

This process shows the rows in order: at a row of the helper's it waits for its cells, which
usually came while it checked its own. The helper waits only where a later row needs all the
rows before it. Examples depend on the seed alone (:func:`~micrograd.verify.pipeline.check`
keeps Hypothesis from mixing in constants of the loaded modules), so which process checks a row
changes nothing in it.

The helper is this package started with this interpreter and ``sys.path``, in its own session
(Ctrl-C reaches this process only, which then kills it). Messages are pickles over its standard
input and output; a thread reads each side's, so neither side's writes can block for long. If
the helper dies, this process checks the rest of the rows itself and the report says so.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO, Any

from .report import Cell

__all__ = ["Share", "helper", "serve"]


class Share:
    """One side of a split run: ``side`` 0 is the process showing the report, 1 the helper."""

    def __init__(self, side: int, send: IO[bytes], receive: IO[bytes]) -> None:
        self.side = side
        self.lost = ""  #: why the other process is gone, if it is
        self._send = send
        self._turn = 0
        self._inbox: queue.Queue[tuple[str, list[Cell]] | None] = queue.Queue()
        threading.Thread(target=_read, args=(receive, self._inbox), daemon=True).start()

    def mine(self) -> bool:
        """Whether the next row that does work is checked here (then :meth:`put` its cells),
        or by the other process (then :meth:`get` them): every other row (two of every three
        for the helper was slower)."""
        turn, self._turn = self._turn, self._turn + 1
        return bool(self.lost) or turn % 2 == self.side

    def put(self, key: str, cells: Sequence[Cell]) -> None:
        """Send the cells of row ``key``, checked here, to the other process."""
        self._write((key, list(cells)))

    def _write(self, message: object) -> None:
        if self.lost:
            return
        try:
            pickle.dump(message, self._send, protocol=pickle.HIGHEST_PROTOCOL)
            self._send.flush()
        except (OSError, ValueError) as exc:
            self._gone(f"sending failed: {exc}")

    def get(self, key: str) -> list[Cell] | None:
        """The other process's cells of row ``key`` (waiting for them); ``None`` if it is gone
        (then this process checks the row)."""
        if self.lost:
            return None
        message = self._inbox.get()
        if message is None:
            self._gone("it exited")
            return None
        got, cells = message
        if got != key:
            self._gone(f"it sent row {got!r} where {key!r} was due")
            return None
        return cells

    def _gone(self, why: str) -> None:
        self.lost = f"the second process stopped ({why}): the rest was checked in this one"


def _read(stream: IO[bytes], inbox: queue.Queue[tuple[str, list[Cell]] | None]) -> None:
    try:
        while True:
            inbox.put(pickle.load(stream))
    except Exception:  # the end of the stream, or the process died mid-message
        inbox.put(None)


class _Helper(Share):
    """This process's side, with the helper process it talks to."""

    def __init__(self, config: dict[str, Any]) -> None:
        boot = (
            f"import sys; sys.path[:] = {sys.path!r}; "
            "from micrograd.verify.split import serve; serve()"
        )
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-c", boot],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                start_new_session=True,  # Ctrl-C is for this process, which then kills it
            )
        except OSError as exc:
            self.process = None
            super().__init__(0, io.BytesIO(), io.BytesIO())
            self._gone(f"it could not be started: {exc}")
            return
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        super().__init__(0, self.process.stdin, self.process.stdout)
        self._write(config)  # the run first: it starts with the rows while this one does

    def close(self) -> None:
        """Kill the helper: every row it sent has been read (or the run was interrupted)."""
        if self.process is None:
            return
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


@contextlib.contextmanager
def helper(config: dict[str, Any]) -> Iterator[Share]:
    """A :class:`Share` with a helper process checking the other rows of the run described by
    ``config``: ``profile``, ``seed``, ``oracles``, ``strict``, ``ops``, ``require`` and
    ``min_depth``, as :func:`micrograd.verify.pipeline.check` takes them."""
    share = _Helper(config)
    try:
        yield share
    finally:
        share.close()


def serve() -> None:
    """The helper's side: the same run, its own rows checked and sent, the others received."""
    from .pipeline import PROFILES, check
    from .report import Report
    from .subjects import REFERENCES, Micrograd

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # what is printed must not mix with the messages
    c = pickle.load(stdin)
    profile, oracles = c["profile"], c["oracles"]
    report = Report(
        "micrograd", profile, PROFILES[profile], c["seed"], oracles, c["strict"], ours=True
    )
    references = [REFERENCES[name]() for name in oracles]
    share = Share(1, stdout, stdin)
    check(
        Micrograd(),
        references,
        report,
        ops=c["ops"],
        require=c["require"],
        min_depth=c["min_depth"],
        share=share,
    )
