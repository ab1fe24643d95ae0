"""A closable banner above the panes: one message in words a musician understands."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton


class Banner(QFrame):
    """A yellow strip with a message and a close button; closed, it stays closed until :meth:`reset`."""

    closed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet("QFrame#banner { background: #fff4d6; border-bottom: 1px solid #e5c97a; }"
                           "QLabel { color: #5a4300; }")
        self.label = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton(text="✕", autoRaise=True)
        self.close_button.setToolTip("Close this message")
        self.close_button.setAccessibleName("Close the message")
        self.close_button.clicked.connect(self.dismiss)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 6, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.dismissed = False
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def setText(self, text: str) -> None:   # the QLabel name, so the banner reads like one
        self.label.setText(text)

    def show_message(self, show: bool) -> None:
        """Show the message unless the user closed it."""
        self.setVisible(show and not self.dismissed)

    def dismiss(self) -> None:
        self.dismissed = True
        self.hide()
        self.closed.emit()

    def reset(self) -> None:
        """A new file: a closed banner may show again."""
        self.dismissed = False
