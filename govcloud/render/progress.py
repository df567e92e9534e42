"""How progress is shown: the renderer of the progress port (``govcloud.base.progress``).

* stderr is a terminal and the output is text: rich bars on stderr — per phase its words in the
  user's language, a spinner, the bar, done/total, elapsed time, the time left (ETA) and what is being
  worked on now (a file, a host, a system's step and its hosts); per-item phases (one per migrating
  system) disappear when done, the others stay as a record of what ran and how long it took.
  ``note`` lines (migration events) print above the bars.
* ``--output json``: nothing (stdout carries exactly one JSON document; stderr only diagnostics).
* stderr not a terminal (piped, CI, a log file): no bars, no redraws, no escape sequences — nothing,
  except ``note`` lines where a command asks for them (``migrate``: one plain line per event, as a
  log of a long run).

:func:`progress_for` opens the right one for a command and closes it (stops the live display) at
the end, also on an error.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

from govcloud.base.progress import NULL, Phase, Progress
from govcloud.render.console import clean, safe, stderr
from govcloud.render.i18n import t

# the words of every phase key the code reports (render.i18n LABELS "progress.<key>")
KEYS = ("load", "validate", "export.tables", "export.rows", "export.manifest", "import.read", "import.records", "import.changes",
        "import.validate", "import.write", "discover.hosts", "plan.build", "plan.check", "plan.write",
        "report.inputs", "report.render", "compliance.hosts", "migrate.systems", "migrate.steps",
        "migrate.snapshot", "generate.build", "generate.write")


def label(key: str, lang: str) -> str:
    return t("progress." + key, lang)


def _columns() -> list[Any]:
    """Spinner, words, bar, done/total, elapsed, time left, current item. A phase without a count
    (building the tables) shows no numbers and no time left, only its spinner and elapsed time."""
    from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.text import Text

    class Count(ProgressColumn):
        def render(self, task: Any) -> Text:
            if not task.fields.get("counted"):
                return Text("")
            total = "?" if task.total is None else f"{int(task.total):,}"
            return Text(f"{int(task.completed):,}/{total}", style="progress.download")

    class Left(TimeRemainingColumn):
        def render(self, task: Any) -> Text:
            return super().render(task) if task.fields.get("counted") and not task.finished else Text("")

    return [SpinnerColumn(finished_text="✓"), TextColumn("{task.description}", markup=False), BarColumn(bar_width=24), Count(),
            TimeElapsedColumn(), Left(compact=True), TextColumn("{task.fields[item]}", markup=False)]


class _RichPhase:
    def __init__(self, owner: "RichProgress", task: Any) -> None:
        self.owner, self.task = owner, task

    def advance(self, n: int = 1, item: str | None = None) -> None:
        fields: dict[str, Any] = {"counted": True} if n else {}
        if item is not None:
            fields["item"] = clean(item, newlines=False)[:80]
        self.owner.bars.update(self.task, advance=n, **fields)

    def set_total(self, total: int | None) -> None:
        self.owner.bars.update(self.task, total=total, counted=True)


class RichProgress:
    """Bars on a terminal console (stderr). Thread-safe: the migration's systems report from
    worker threads."""

    def __init__(self, console: Any, lang: str) -> None:
        from rich.progress import Progress as Bars
        self.console, self.lang = console, lang
        self._lock = threading.Lock()
        self.bars = Bars(*_columns(), console=console, transient=False,
                         refresh_per_second=8, redirect_stdout=False, redirect_stderr=False)
        self.started = False

    def _start(self) -> None:
        with self._lock:
            if not self.started:
                self.bars.start()
                self.started = True

    def stop(self) -> None:
        with self._lock:
            if self.started:
                self.bars.stop()
                self.started = False

    @contextmanager
    def phase(self, key: str, total: int | None = None, *, subject: str | None = None) -> Iterator[Phase]:
        self._start()
        words = label(key, self.lang)
        if subject:
            words = f"{words} {clean(subject, newlines=False)[:60]}"
        task = self.bars.add_task(words, total=total, item="", counted=total is not None)
        finished = False
        try:
            yield _RichPhase(self, task)
            finished = True
        finally:
            if subject:       # one of many (a migrating system): gone when done, the overall bar counts it
                self.bars.remove_task(task)
            else:
                state = next(x for x in self.bars.tasks if x.id == task)
                if state.total is None or finished:   # a finished phase shows full; a failed one where it stopped
                    n = state.completed if state.total is None else state.total
                    self.bars.update(task, total=max(n, 1) if not state.fields.get("counted") else n,
                                     completed=(max(n, 1) if not state.fields.get("counted") else n) if finished
                                     else state.completed)
                self.bars.update(task, item="")
                self.bars.stop_task(task)

    def note(self, text: str) -> None:
        self._start()
        self.console.print(safe(text), highlight=False, soft_wrap=True)


class LinesProgress:
    """No bars; ``note`` lines as plain text (a piped ``migrate``: its events as a log)."""

    def __init__(self, console: Any) -> None:
        self.console = console

    @contextmanager
    def phase(self, key: str, total: int | None = None, *, subject: str | None = None) -> Iterator[Phase]:
        with NULL.phase(key, total, subject=subject) as ph:
            yield ph

    def note(self, text: str) -> None:
        self.console.print(safe(text), highlight=False, soft_wrap=True)


def _on_terminal(console: Any, given: bool) -> bool:
    """A console handed in (tests: ``force_terminal=True``) counts as it says; stderr itself must
    really be a terminal — FORCE_COLOR in a CI log does not make bars and redraws welcome there."""
    if not console.is_terminal:
        return False
    if given:
        return True
    try:
        return bool(console.file.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress_for(output: Any, lang: str, *, notes: bool = False, console: Any = None) -> Iterator[Progress]:
    """The progress a command reports to: bars on a terminal for text output, else nothing (with
    ``notes``: the event lines, plainly). ``output`` is ``render.console.Output`` (or its value)."""
    if str(getattr(output, "value", output)) == "json":
        yield NULL
        return
    err = console if console is not None else stderr()
    if _on_terminal(err, console is not None):
        bars = RichProgress(err, lang)
        try:
            yield bars
        finally:
            bars.stop()
    elif notes:
        yield LinesProgress(err)
    else:
        yield NULL
