"""Piano roll (pyqtgraph): notes coloured by track and shaded by velocity, a keyboard axis, a playhead."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QLabel

from unimt_desktop.panes.common import PLAYHEAD, Pane, fmt_time

NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
BLACK = {1, 3, 6, 8, 10}
# one hue per track: blue and orange first (the two hands of a piano score), then more
DOUBTFUL, DOUBT = 0.6, "#d0342c"   # notes the model is less sure of than this get a red dashed outline
TRACK_COLOURS = ["#2f6fdf", "#e8772e", "#2aa876", "#b04fcf", "#d23c5a", "#1aa6b7", "#8a8f2a", "#7d5a3c"]


def note_name(p: int) -> str:
    return f"{NAMES[p % 12]}{p // 12 - 1}"


def note_colour(track: int, velocity: float) -> QColor:
    c = QColor(TRACK_COLOURS[int(track) % len(TRACK_COLOURS)])
    h, s, v, _ = c.getHsvF()
    k = max(0.0, min(1.0, velocity / 127.0))
    # soft notes are pale, loud notes saturated and dark
    return QColor.fromHsvF(h, 0.25 + 0.75 * k, 1.0 - 0.35 * k)


class KeyboardAxis(pg.AxisItem):
    """Note names on the C of each octave, every note when zoomed in."""

    def tickValues(self, minVal, maxVal, size):
        span = maxVal - minVal
        if span <= 0:
            return []
        if size / span > 14:
            return [(1, list(range(int(np.ceil(minVal)), int(maxVal) + 1)))]
        return [(12, [p for p in range(int(np.ceil(minVal)), int(maxVal) + 1) if p % 12 == 0])]

    def tickStrings(self, values, scale, spacing):
        return [note_name(int(round(v))) for v in values]


class NotesItem(pg.GraphicsObject):
    """All the notes as one cached picture, over the keyboard's black-key stripes."""

    def __init__(self):
        super().__init__()
        self.picture = QPicture()
        self._rect = QRectF(0, 21, 1, 88)

    def set_notes(self, notes: np.ndarray, duration: float, confidence=None) -> None:
        self.prepareGeometryChange()
        lo = int(min(21, notes[:, 2].min())) if len(notes) else 21
        hi = int(max(108, notes[:, 2].max())) if len(notes) else 108
        end = max(duration, 1.0)
        pic = QPicture()
        p = QPainter(pic)
        p.setPen(Qt.PenStyle.NoPen)
        for pitch in range(lo, hi + 1):
            if pitch % 12 in BLACK:
                p.setBrush(QColor(0, 0, 0, 16))
                p.drawRect(QRectF(0, pitch - 0.5, end, 1))
            if pitch % 12 == 0:
                p.setBrush(QColor(0, 0, 0, 40))
                p.drawRect(QRectF(0, pitch - 0.5, end, 0.04))
        pen = QPen(QColor(0, 0, 0, 110))
        pen.setCosmetic(True)
        pen.setWidthF(0.6)
        p.setPen(pen)
        doubt = QPen(QColor(DOUBT))
        doubt.setCosmetic(True)
        doubt.setWidthF(1.6)
        doubt.setStyle(Qt.PenStyle.DashLine)
        order = np.argsort(notes[:, 3]) if len(notes) else []
        for i in order:
            s, e, pitch, vel, tr = notes[i]
            p.setPen(doubt if confidence is not None and confidence[i] < DOUBTFUL else pen)
            p.setBrush(QBrush(note_colour(int(tr), vel)))
            p.drawRect(QRectF(s, pitch - 0.42, max(e - s, 0.01), 0.84))
        p.end()
        self.picture = pic
        self._rect = QRectF(0, lo - 0.5, end, hi - lo + 1)
        self.update()

    def paint(self, p, *args):
        self.picture.play(p)

    def boundingRect(self):
        return self._rect


class PianoRollPane(Pane):
    def __init__(self, parent=None):
        super().__init__(
            "Piano roll", "Drop a MIDI file here, or translate a score or a recording to MIDI.", parent
        )
        self.plot = pg.PlotWidget(axisItems={"left": KeyboardAxis("left")}, background="#fbfbfc")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=False, alpha=0.15)
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.getAxis("left").setWidth(44)
        vb = self.plot.getViewBox()
        vb.setMouseEnabled(x=True, y=True)
        vb.setLimits(yMin=0, yMax=128, xMin=-1)
        self.notes = NotesItem()
        self.plot.addItem(self.notes)
        self.playhead = pg.InfiniteLine(0, angle=90, movable=True, pen=pg.mkPen(PLAYHEAD, width=2),
                                        hoverPen=pg.mkPen(PLAYHEAD, width=4))
        self.playhead.setZValue(10)
        self.playhead.sigPositionChangeFinished.connect(
            lambda moved: self.seekRequested.emit(max(0.0, moved.value()))
        )
        self.plot.addItem(self.playhead)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.add_header_widget(self.legend)
        self.set_body(self.plot)
        self.data = None

    def set_data(self, data) -> None:
        """``data`` is a :class:`unimt_desktop.jobs.RollData` (or None to clear)."""
        self.data = data
        if data is None:
            self.show_body(False)
            self.info.setText("")
            self.legend.setText("")
            return
        conf = getattr(data, "confidence", None)
        self.notes.set_notes(data.notes, data.duration, conf)
        n = len(data.notes)
        text = f"{n} notes · {fmt_time(data.duration)}"
        if conf is not None and n:
            text += f" · {int((conf < DOUBTFUL).sum())} doubtful (red outline)"
        self.info.setText(text)
        used = sorted(set(int(t) for t in data.notes[:, 4])) if n else []
        self.legend.setText(
            "&nbsp;&nbsp;&nbsp;".join(
                f'<span style="color:{TRACK_COLOURS[k % len(TRACK_COLOURS)]}; font-size:15px">■</span>'
                f'&nbsp;{data.tracks[k]}'
                for k in used[:6]
            )
            + "&nbsp;"
        )
        self.legend.setMinimumWidth(self.legend.sizeHint().width())
        lo = float(data.notes[:, 2].min()) - 3 if n else 48
        hi = float(data.notes[:, 2].max()) + 3 if n else 84
        # never zoomed out past the notes (an octave either side) nor the piece (the window fits the time)
        self.plot.getViewBox().setLimits(xMax=max(data.duration, 1.0) + 5, yMin=max(0.0, lo - 12),
                                         yMax=min(128.0, hi + 12))
        self.plot.setXRange(0, min(max(data.duration, 1.0), 30.0), padding=0.01)
        self.plot.setYRange(lo, hi, padding=0)
        self.show_body(True)

    def set_position(self, t: float) -> None:
        if not self.playhead.moving:
            self.playhead.setValue(t)

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.data is None:
            return
        pos = self.plot.getViewBox().mapSceneToView(ev.scenePos())
        self.seekRequested.emit(max(0.0, float(pos.x())))
