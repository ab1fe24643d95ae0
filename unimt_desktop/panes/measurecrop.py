"""The measure selected in a score read from a scan: the scan's crop of it beside the bar as recognised."""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout

CROP_HEIGHT = 96        # pixels on screen for each crop, at least (more in a tall pane: up to MAX_HEIGHT)
MAX_HEIGHT = 200
MARGIN = 6              # page pixels kept around a measure's box


def crop(page: np.ndarray, box) -> np.ndarray:
    """The part of ``page`` inside ``box`` (x0, y0, x1, y1 in page pixels) with a small margin, clipped to
    the page."""
    h, w = page.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, y0 = max(0, min(x0, x1) - MARGIN), max(0, min(y0, y1) - MARGIN)
    x1, y1 = min(w, max(x0 + 1, x1 + MARGIN)), min(h, max(y0 + 1, y1 + MARGIN))
    return np.ascontiguousarray(page[y0:y1, x0:x1], dtype=np.uint8)


def to_pixmap(img: np.ndarray, height: int) -> QPixmap:
    h, w = img.shape[:2]
    q = QImage(img.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(q).scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)


class MeasureCompare(QFrame):
    """A strip under the score: "Scan" (the crop of the page) and "Recognised" (the engraved bar)."""

    closed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("measureCompare")
        self.setStyleSheet("QFrame#measureCompare { background: palette(base); border-top: 1px solid "
                           "palette(mid); } QLabel#cropCaption { color: palette(placeholder-text); }")
        self.caption = QLabel("", objectName="cropCaption")
        close = QToolButton(text="×", autoRaise=True, toolTip="Hide the measure's crop")
        close.clicked.connect(self._close)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.caption, 1)
        head.addWidget(close)
        self.scan_label, self.read_label = QLabel(), QLabel()
        for lab in (self.scan_label, self.read_label):
            lab.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            lab.setMinimumHeight(CROP_HEIGHT)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for title, lab in (("Scan", self.scan_label), ("Recognised", self.read_label)):
            col = QVBoxLayout()
            col.setSpacing(2)
            col.addWidget(QLabel(f"<b>{title}</b>"))
            col.addWidget(lab)
            row.addLayout(col)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 6)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addLayout(row)
        self.scan_crop: Optional[np.ndarray] = None
        self.read_crop: Optional[np.ndarray] = None
        self.hide()

    def show_measure(self, caption: str, scan: Optional[np.ndarray], read: Optional[np.ndarray],
                     tall: int = CROP_HEIGHT) -> None:
        """Show the crops (either may be None: "not on the page"), ``tall`` pixels high at most."""
        tall = max(CROP_HEIGHT, min(MAX_HEIGHT, tall))
        self.scan_crop, self.read_crop = scan, read
        self.caption.setText(caption)
        # each crop gets at most half the strip's width; both at the same height
        width = max(120, (self.width() or 600) // 2 - 24)
        for lab, img in ((self.scan_label, scan), (self.read_label, read)):
            if img is None or not img.size:
                lab.clear()
                lab.setText("(not found on the page)")
                continue
            h, w = img.shape[:2]
            height = int(min(tall, width * h / max(1, w)))
            lab.setPixmap(to_pixmap(img, max(24, height)))
        self.show()

    def _close(self) -> None:
        self.hide()
        self.closed.emit()
