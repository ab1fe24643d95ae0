"""Plain-Python progress and cancellation, shared by the CLI (tqdm), the app (Qt signals) and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from model.errors import Cancelled

ProgressFn = Callable[[int, int, str], None]
StopFn = Callable[[], bool]


@dataclass
class Reporter:
    """Carries a ``progress(done, total, message)`` callback and a ``should_stop()`` flag."""

    progress: Optional[ProgressFn] = None
    should_stop: Optional[StopFn] = None

    def __call__(self, done: int, total: int, message: str = "") -> None:
        self.check()
        if self.progress is not None:
            self.progress(done, total, message)

    def check(self) -> None:
        """Raise :class:`Cancelled` if the caller asked to stop."""
        if self.should_stop is not None and self.should_stop():
            raise Cancelled()


def as_reporter(
    progress: Optional[ProgressFn | Reporter] = None, should_stop: Optional[StopFn] = None
) -> Reporter:
    if isinstance(progress, Reporter):
        return progress
    return Reporter(progress, should_stop)


def stages_only(report: Reporter) -> Reporter:
    """``report`` hearing messages only, each as an undetermined step (0 of 0): what a model loaded in the
    middle of a translation says, without moving that translation's progress back to zero."""
    progress = report.progress
    return Reporter(None if progress is None else (lambda done, total, message: progress(0, 0, message)),
                    report.should_stop)
