"""Shared pieces of the panes: the header with a title, the empty state, colours."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

PLAYHEAD = QColor("#e0457b")
ACCENT = QColor("#3b6fd8")
HEADER_QSS = """
QFrame#paneHeader { background: palette(window); border-bottom: 1px solid palette(mid); }
QLabel#paneTitle { font-weight: 600; font-size: 13px; }
QLabel#paneInfo { color: palette(placeholder-text); }
"""


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when its text does not fit (it gives way to the controls)."""

    def __init__(self, text: str = "", **kwargs):
        super().__init__(text, **kwargs)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        align = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.style().drawItemText(p, self.rect(), align, self.palette(), self.isEnabled(), text,
                                  self.foregroundRole())


class Pane(QFrame):
    """A titled pane whose body is either an empty-state message or its content."""

    seekRequested = Signal(float)   # seconds

    def __init__(self, title: str, empty_text: str, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.header = QFrame(objectName="paneHeader")
        self.header.setStyleSheet(HEADER_QSS)
        self.title = QLabel(title, objectName="paneTitle")
        # the info gives way first in a narrow pane (it ends in "…"; the controls beside it are never cut)
        self.info = ElidedLabel("", objectName="paneInfo")
        self.header_layout = QHBoxLayout(self.header)
        self.header_layout.setContentsMargins(10, 5, 6, 5)
        self.header_layout.addWidget(self.title)
        self.header_layout.addSpacing(8)
        self.header_layout.addWidget(self.info, 1)
        self.empty = QLabel(empty_text, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.empty.setStyleSheet("color: palette(placeholder-text); font-size: 14px; padding: 24px;")
        self.header_widgets: list[QWidget] = []
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.header)
        lay.addWidget(self.stack, 1)

    def set_body(self, widget: QWidget) -> None:
        self.body = widget
        self.stack.addWidget(widget)

    def show_body(self, on: bool = True) -> None:
        self.stack.setCurrentIndex(1 if on else 0)
        for w in self.header_widgets:
            w.setVisible(on and not w.property("hidden_by_pane"))

    def set_empty_text(self, text: str) -> None:
        self.empty.setText(text)

    def has_content(self) -> bool:
        return self.stack.currentIndex() == 1

    def add_header_widget(self, w: QWidget) -> None:
        self.header_layout.addWidget(w)
        self.header_widgets.append(w)
        w.setVisible(self.has_content())


def fmt_time(t: float) -> str:
    t = max(0.0, t)
    m, s = divmod(t, 60)
    if m >= 60:
        h, m = divmod(m, 60)
        return f"{int(h)}:{int(m):02d}:{s:04.1f}"
    return f"{int(m)}:{s:04.1f}"
