"""Dropping a file on any pane."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal


class DropFilter(QObject):
    """Lets any pane (and its viewport) take a dropped file; the window decides where it goes."""

    dropped = Signal(str)

    def eventFilter(self, obj, ev) -> bool:
        t = ev.type()
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if ev.mimeData().hasUrls():
                ev.acceptProposedAction()
                return True
        elif t == QEvent.Type.Drop and ev.mimeData().hasUrls():
            urls = [u for u in ev.mimeData().urls() if u.isLocalFile()]
            if urls:
                ev.acceptProposedAction()
                self.dropped.emit(urls[0].toLocalFile())
                return True
        return False
