"""The progress port: what long work reports while it runs, and nothing about how it is shown.

Use cases and the loops under them (loading an inventory file by file, writing an export's rows,
discovering hosts, the migration steps per system) take a :class:`Progress` and report phases::

    with progress.phase("export.rows", total=rows) as ph:
        for row in rows:
            ...
            ph.advance(item=table)          # one more done; ``item`` names what is being worked on

A phase's ``key`` names it for the renderer (``render/progress.py`` holds its words in Chinese and
English; ``subject`` adds an id such as the system); ``total`` may be unknown (None) or set later
(:meth:`Phase.set_total`). :meth:`Progress.note` is a line for a person (a migration event), printed
above the bars on a terminal. The renderer decides what a person sees: rich bars with counts and ETA
on a terminal, nothing for ``--output json`` or when stderr is not a terminal. :data:`NULL` shows
nothing and is every parameter's default, so a library call or a test reports nowhere.

The port is on the ground floor (pure typing, no I/O) so every floor may report through it; only
``render/`` draws.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, contextmanager
from typing import Iterator, Protocol, runtime_checkable


@runtime_checkable
class Phase(Protocol):
    def advance(self, n: int = 1, item: str | None = None) -> None:
        """``n`` more units done (0: only show ``item``, what is being worked on now)."""
        ...

    def set_total(self, total: int | None) -> None:
        """The number of units, once known."""
        ...


@runtime_checkable
class Progress(Protocol):
    def phase(self, key: str, total: int | None = None, *, subject: str | None = None) -> AbstractContextManager[Phase]:
        """A phase of the work: started on entry, finished on exit (also on an exception)."""
        ...

    def note(self, text: str) -> None:
        """One line for a person (a migration event); shown above the bars."""
        ...


class _NullPhase:
    def advance(self, n: int = 1, item: str | None = None) -> None:
        return None

    def set_total(self, total: int | None) -> None:
        return None


class NullProgress:
    """Shows nothing: ``--output json``, stderr not a terminal, library calls, tests."""

    _phase = _NullPhase()

    @contextmanager
    def phase(self, key: str, total: int | None = None, *, subject: str | None = None) -> Iterator[Phase]:
        yield self._phase

    def note(self, text: str) -> None:
        return None


NULL: Progress = NullProgress()
NULL_PHASE: Phase = _NullPhase()     # a phase that reports nowhere (a default parameter)


class Recorder:
    """Keeps every report in order, for tests: ("start", key, subject, total), ("advance", key, n,
    item), ("total", key, total), ("done", key, subject), ("note", text)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    @contextmanager
    def phase(self, key: str, total: int | None = None, *, subject: str | None = None) -> Iterator[Phase]:
        self.events.append(("start", key, subject, total))
        rec = self

        class _P:
            def advance(self, n: int = 1, item: str | None = None) -> None:
                rec.events.append(("advance", key, n, item))

            def set_total(self, total: int | None) -> None:
                rec.events.append(("total", key, total))
        try:
            yield _P()
        finally:
            self.events.append(("done", key, subject))

    def note(self, text: str) -> None:
        self.events.append(("note", text))

    def done(self, key: str) -> int:
        """Units reported done in phases named ``key``."""
        return sum(e[2] for e in self.events if e[0] == "advance" and e[1] == key)
