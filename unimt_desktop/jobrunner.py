"""Running the window's jobs: one translation at a time in a worker, its progress and Cancel in the status
bar, its result, error or cancellation back on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QMessageBox

from unimt_desktop.workers import Worker

APP_NAME = "unimt"


class JobsMixin:
    """For MainWindow: ``self.pool``, ``self.job``, ``self.workers``, ``self.progress``,
    ``self.cancel_button`` and ``self.jobFinished`` are the window's."""

    def _start(self, worker: Worker, on_result) -> None:
        if self.job is not None and not self.job.done:
            self.job.quit()
        self.job = worker
        self.workers.add(worker)
        s = worker.signals
        s.progress.connect(lambda d, n, msg, w=worker: self._progress(w, d, n, msg))
        s.returned.connect(lambda r, w=worker: self._returned(w, r, on_result))
        s.errored.connect(lambda msg, w=worker: self._errored(w, msg))
        s.aborted.connect(lambda w=worker: self._aborted(w))
        s.finished.connect(lambda w=worker: self._finished(w))
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.progress.show()
        self.cancel_button.show()
        self._update_actions()
        self.pool.start(worker)

    def _progress(self, w: Worker, done: int, total: int, msg: str) -> None:
        if w is not self.job:
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat("%p%")        # the step itself is in the status bar beside it
        if msg:
            self.statusBar().showMessage(msg[:1].upper() + msg[1:] + "…")

    def _returned(self, w: Worker, result, on_result) -> None:
        if w is self.job:
            self.last_error = None
            if getattr(result, "capabilities", None) is not None:
                self.caps = result.capabilities
            on_result(result)

    def _errored(self, w: Worker, msg: str) -> None:
        if w is self.job:
            self._play_after = False
            self._error(msg)

    def _aborted(self, w: Worker) -> None:
        if w is self.job:
            self._play_after = False
            self.statusBar().showMessage("Cancelled.", 5000)

    def _finished(self, w: Worker) -> None:
        self.workers.discard(w)
        if w is self.job:
            self.job = None
            self.progress.hide()
            self.cancel_button.hide()
            self._update_actions()
            self.jobFinished.emit(w.name)

    @Slot()
    def cancel(self) -> None:
        if self.job is not None:
            self.job.quit()
            self.statusBar().showMessage("Cancelling…")

    def busy(self) -> bool:
        return self.job is not None

    def _error(self, msg: str) -> None:
        self.last_error = msg
        self.statusBar().showMessage(msg, 10000)
        QMessageBox.warning(self, APP_NAME, msg)
