"""The engine under test, in a child process the kit can time out, kill and restart."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, NoReturn

__all__ = ["EngineCrashed", "EngineProcess", "EngineTimeout", "LoadError", "wire_table"]

_WORKER = Path(__file__).with_name("_worker.py")


class EngineTimeout(Exception):
    """The engine did not answer in time; its process was killed."""


class EngineCrashed(Exception):
    """The engine's process died (a crash, ``os._exit``, a signal)."""


class LoadError(Exception):
    """The engine could not be imported, or no usable class was found."""


MEMORY = 2048  # MiB an engine's process may allocate, by default


class EngineProcess:
    """One child process running the engine; restarted on demand after a timeout or a crash.

    Args:
        target: What ``--engine`` names (module, file or package, optionally ``:Name``).
        import_timeout: Seconds the import may take (engines that train at import are slow).
        cwd: Working directory of the child (the target is resolved from it).
        memory: MiB of memory the child may allocate (``RLIMIT_DATA``; beyond, its allocations
            fail with ``MemoryError``).
    """

    def __init__(
        self,
        target: str,
        *,
        import_timeout: float = 120.0,
        cwd: str | None = None,
        memory: int = MEMORY,
    ):
        self.target = target
        self.import_timeout = import_timeout
        self.memory = memory
        self.cwd = cwd or os.getcwd()
        self._dir = tempfile.TemporaryDirectory(prefix="micrograd-conformance-")
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._capture = ""
        self.starts = 0

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Start the child and import the engine; returns what the child reported.

        Raises :class:`LoadError` if the import fails, :class:`EngineTimeout` or
        :class:`EngineCrashed` if it hangs or dies while importing.
        """
        self.close()
        self.starts += 1
        if self._capture:  # the last process's output has been read
            with contextlib.suppress(OSError):
                os.remove(self._capture)
        capture = os.path.join(self._dir.name, f"output-{self.starts}.txt")
        config = {
            "target": self.target,
            "operations": wire_table(),
            "capture": capture,
            "memory": self.memory * 2**20,
        }
        self._capture = capture
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        self._proc = subprocess.Popen(
            [sys.executable, str(_WORKER), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.cwd,
            env=env,
            text=True,
            encoding="utf-8",
            # a Ctrl-C in the terminal is for the kit, which then stops the engine: in the
            # engine's process group it would kill the engine first and look like its crash
            start_new_session=True,
        )
        self._replies = queue.Queue()
        assert self._proc.stdout is not None
        threading.Thread(target=_pump, args=(self._proc.stdout, self._replies), daemon=True).start()
        t0 = time.perf_counter()
        hello = self._receive(self.import_timeout, "importing the engine")
        hello.setdefault("seconds", time.perf_counter() - t0)
        if not hello.get("hello"):
            self.close()
            raise LoadError(hello.get("error", "the engine could not be loaded"), hello)
        return hello

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # the whole process group: processes the engine started may hold the reply pipe open
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # a process that ignores SIGKILL
            proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()

    def cleanup(self) -> None:
        self.close()
        self._dir.cleanup()

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # --- requests -------------------------------------------------------------------------------

    def request(
        self, message: dict[str, Any], timeout: float, doing: str | None = None
    ) -> dict[str, Any]:
        """Send one request and wait for its reply; (re)starts the child when needed.

        On a timeout the child is killed (:class:`EngineTimeout`); if it dies,
        :class:`EngineCrashed`. The next request starts a fresh one.
        """
        if self._proc is None or self._proc.poll() is not None:
            self.start()
        assert self._proc is not None
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(message) + "\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._lost("sending a request")
        return self._receive(timeout, doing or str(message.get("kind", "a request")))

    def _receive(self, timeout: float, doing: str) -> dict[str, Any]:
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise EngineTimeout(
                f"hung: no answer within {timeout:g} s while {doing} (the process was killed)"
            ) from None
        if line is None:
            self._lost(doing)
        assert line is not None
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self.close()
            raise EngineCrashed(
                f"the engine's process wrote {line[:100]!r} where its answer belonged, while "
                f"{doing} (the process was killed)"
            )
        return reply

    def _lost(self, doing: str) -> NoReturn:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=1)
            except subprocess.TimeoutExpired:  # it closed its output and lives on
                self.close()
                raise EngineCrashed(
                    f"the engine's process closed its reply channel and did not exit, while "
                    f"{doing} (the process was killed)"
                ) from None
        tail = ""
        try:
            with open(self._capture, "rb") as fh:  # its last output only: it may be huge
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - 600))
                text = fh.read().decode("utf-8", "replace").strip()
            tail = f"; its last output: {text!r}" if text else ""
        except OSError:
            pass
        self.close()
        raise EngineCrashed(f"the engine's process exited with code {code} while {doing}{tail}")


def wire_table() -> dict[str, list[Any]]:
    """What the engine's process needs to know of each operation, by adapter method (it cannot
    import micrograd): ``[values, takes a number, the method it calls on the value, if any]``."""
    from ..testing.opinfo import OPERATIONS

    table: dict[str, list[Any]] = {}
    for op in OPERATIONS.values():
        if op.method is not None:
            call = re.fullmatch(r"\{0\}\.([A-Za-z_]\w*)\(\)", op.syntax)
            table[op.method] = [op.arity, op.has_const, call.group(1) if call else None]
    return table


def _pump(stream: IO[str], replies: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            replies.put(line)
    except (OSError, ValueError):
        pass
    replies.put(None)
