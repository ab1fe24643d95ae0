"""Long jobs off the GUI thread: a QRunnable with a separate signals QObject (the superqt shape).

The job is a plain function ``fn(*args, progress=..., should_stop=...)``; it reports with
``progress(done, total, message)`` and raises ``Cancelled`` when ``should_stop()`` turns True.
Only plain data (numpy arrays, model objects, strings) travels back through the signals.
"""

from __future__ import annotations

import traceback
from typing import Callable

from PySide6.QtCore import QObject, QRunnable, Signal, Slot


class WorkerSignals(QObject):
    progress = Signal(int, int, str)   # done, total, message
    returned = Signal(object)          # the job's result
    errored = Signal(str)              # one-line reason
    aborted = Signal()
    finished = Signal()                # always, last


def one_line(exc: BaseException) -> str:
    from model.api import UnimtError
    from unimt_desktop.jobs import in_words

    if isinstance(exc, UnimtError):
        return in_words(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory for this job"
    if isinstance(exc, OSError) and exc.strerror:      # the system's own words, and the file it names
        where = f"{exc.filename}: " if exc.filename else ""
        return (where + exc.strerror[:1].lower() + exc.strerror[1:]).replace("\n", "\\n")[:300]
    # a failure unimt did not foresee: said in words; the details go to the terminal (printed by the worker)
    return ("unimt could not finish this job: an unexpected problem "
            "(details in the terminal output; please report it)")


class Worker(QRunnable):
    def __init__(self, fn: Callable, *args, name: str = "", **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.name = name
        self.signals = WorkerSignals()
        self.abort_requested = False
        self.done = False

    def quit(self) -> None:
        self.abort_requested = True

    def _progress(self, done: int, total: int, message: str = "") -> None:
        if self.abort_requested:
            from model.api import Cancelled

            raise Cancelled()
        self.signals.progress.emit(int(done), int(total), str(message or ""))

    @Slot()
    def run(self) -> None:
        from model.api import Cancelled

        try:
            result = self.fn(*self.args, progress=self._progress, should_stop=lambda: self.abort_requested,
                             **self.kwargs)
        except Cancelled:
            self.signals.aborted.emit()
        except BaseException as exc:  # every failure reaches the user as one line
            if not isinstance(exc, Exception):
                raise
            from model.api import UnimtError

            if not isinstance(exc, UnimtError):
                traceback.print_exc()
            self.signals.errored.emit(one_line(exc))
        else:
            if self.abort_requested:
                self.signals.aborted.emit()
            else:
                self.signals.returned.emit(result)
        finally:
            self.done = True
            self.signals.finished.emit()
