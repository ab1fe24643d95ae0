"""Piano roll (pyqtgraph): notes coloured by track and shaded by velocity, a keyboard axis, a playhead.

The notes can be edited: click selects a note, Delete removes it, a double-click on empty space adds one,
dragging a note moves it (time and pitch), dragging its right edge lengthens it, Up/Down move it a
semitone (Shift: an octave) and the Velocity box sets how hard it is played. The pane only turns gestures
into requests (:attr:`PianoRollPane.editRequested`); the window makes the edit through ``model.api``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QSpinBox

from unimt_desktop.panes.common import PLAYHEAD, Pane, fmt_time

NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
BLACK = {1, 3, 6, 8, 10}
# one hue per track: blue and orange first (the two hands of a piano score), then more
DOUBTFUL, DOUBT = 0.6, "#d0342c"   # notes the model is less sure of than this get a red dashed outline
TRACK_COLOURS = ["#2f6fdf", "#e8772e", "#2aa876", "#b04fcf", "#d23c5a", "#1aa6b7", "#8a8f2a", "#7d5a3c"]
SELECTED = "#111111"
EDGE_PX = 6         # the right edge a drag lengthens: this many pixels at the end of a note


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
        self.pane = None        # the PianoRollPane whose notes these are (gestures go to it)
        self._drag = None

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

    # -- gestures, for the pane that owns it
    def mouseClickEvent(self, ev) -> None:
        pane = self.pane
        if ev.button() != Qt.MouseButton.LeftButton or pane is None or not pane.editable:
            return
        if ev.double():
            return              # the pane adds a note (anywhere in the plot, past the last note too)
        row = pane.note_at(ev.pos().x(), ev.pos().y())
        pane.select(row)
        if row >= 0:
            ev.accept()         # a note chosen, not a seek
        pane.plot.setFocus()

    def mouseDragEvent(self, ev) -> None:
        pane = self.pane
        if ev.button() != Qt.MouseButton.LeftButton or pane is None or not pane.editable:
            ev.ignore()
            return
        if ev.isStart():
            down = ev.buttonDownPos()
            row = pane.note_at(down.x(), down.y())
            if row < 0:
                ev.ignore()     # empty space: the view pans
                return
            pane.select(row)
            s, e = pane.data.notes[row, 0], pane.data.notes[row, 1]
            px = pane.plot.getViewBox().viewPixelSize()[0]
            self._drag = (row, "resize" if down.x() >= e - min(EDGE_PX * px, 0.4 * (e - s)) else "move")
        drag = getattr(self, "_drag", None)
        if drag is None:
            ev.ignore()
            return
        ev.accept()
        row, mode = drag
        s, e, p = pane.data.notes[row, :3]
        dx = float(ev.pos().x() - ev.buttonDownPos().x())
        dp = int(round(ev.pos().y() - ev.buttonDownPos().y()))
        if mode == "resize":
            end = max(e + dx, s + 0.01)
            pane.show_box(s, end, p)
        else:
            pane.show_box(max(0.0, s + dx), max(0.0, s + dx) + e - s, p + dp)
        if ev.isFinish():
            self._drag = None
            if mode == "resize" and abs(dx) > 0:
                pane.request("resize", (row, float(end)))
            elif mode == "move" and (abs(dx) > 0 or dp):
                pane.request("move", (row, dx, dp))
            else:
                pane.select(row)


class _Keys(QObject):
    """Delete, Backspace, Up and Down on the roll edit the selected note."""

    def __init__(self, pane: "PianoRollPane"):
        super().__init__(pane)
        self.pane = pane

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() != QEvent.Type.KeyPress:
            return False
        pane, key = self.pane, ev.key()
        if pane.selected < 0 or not pane.editable:
            return False
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            pane.request("delete", pane.selected)
            return True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = 12 if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            pane.request("move", (pane.selected, 0.0, step if key == Qt.Key.Key_Up else -step))
            return True
        return False


class PianoRollPane(Pane):
    editRequested = Signal(str, object)    # "add" | "delete" | "move" | "resize" | "velocity", its arguments
    noteSelected = Signal(int)             # the row of the note selected (-1: none)

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
        self.velocity = QSpinBox(minimum=1, maximum=127, value=80, prefix="Velocity ", keyboardTracking=False)
        self.velocity.setToolTip("How hard the selected note is played (1-127)")
        self.velocity.setEnabled(False)
        self.velocity.valueChanged.connect(self._velocity_changed)
        self.add_header_widget(self.velocity)
        self.set_body(self.plot)
        self.data = None
        # editing: the note selected, outlined; gestures become requests
        self.editable = True
        self.selected = -1
        self.notes.pane = self
        self.box = QGraphicsRectItem()
        pen = QPen(QColor(SELECTED), 2)
        pen.setCosmetic(True)
        self.box.setPen(pen)
        self.box.setBrush(QBrush(QColor(255, 255, 255, 70)))
        self.box.setZValue(8)
        self.box.hide()
        self.plot.addItem(self.box)
        self._keys = _Keys(self)
        self.plot.installEventFilter(self._keys)
        self.plot.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def set_data(self, data, keep_view: bool = False, select: int = -1) -> None:
        """``data`` is a :class:`unimt_desktop.jobs.RollData` (or None to clear); ``keep_view``: the same time
        and pitch range as before (an edit); ``select``: the row of the note to select then."""
        self.data = data
        self.select(select if data is not None and 0 <= select < len(data.notes) else -1)
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
        if keep_view and self.has_content():
            return
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

    # -- editing
    def note_at(self, t: float, pitch: float) -> int:
        """The row of the note drawn at time ``t`` and ``pitch`` (the latest starting one), or -1."""
        if self.data is None or not len(self.data.notes):
            return -1
        n = self.data.notes
        px = self.plot.getViewBox().viewPixelSize()[0]
        hit = (n[:, 0] <= t) & (t <= np.maximum(n[:, 1], n[:, 0] + 3 * px))
        hit &= np.abs(n[:, 2] - pitch) <= 0.45
        rows = np.flatnonzero(hit)
        return int(rows[np.argmax(n[rows, 0])]) if len(rows) else -1

    def select(self, row: int) -> None:
        """Select the note in ``row`` (-1: none): outlined, its velocity in the header box."""
        self.selected = row if self.data is not None and 0 <= row < len(self.data.notes) else -1
        self.velocity.setEnabled(self.selected >= 0 and self.editable)
        if self.selected < 0:
            self.box.hide()
        else:
            s, e, p, v = self.data.notes[self.selected, :4]
            self.show_box(s, e, p)
            self.velocity.blockSignals(True)
            self.velocity.setValue(int(v))
            self.velocity.blockSignals(False)
        self.noteSelected.emit(self.selected)

    def show_box(self, start: float, end: float, pitch: float) -> None:
        self.box.setRect(QRectF(start, pitch - 0.5, max(end - start, 0.01), 1.0))
        self.box.show()

    def request(self, op: str, args) -> None:
        if self.editable and self.data is not None:
            self.editRequested.emit(op, args)

    def set_editable(self, on: bool, why: str = "") -> None:
        self.editable = on
        self.velocity.setEnabled(on and self.selected >= 0)
        self.velocity.setToolTip("How hard the selected note is played (1-127)" if on else why)

    def _velocity_changed(self, v: int) -> None:
        if self.selected >= 0:
            self.request("velocity", (self.selected, int(v)))

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.data is None or ev.isAccepted():
            return
        if ev.double():
            pos = self.plot.getViewBox().mapSceneToView(ev.scenePos())
            if self.note_at(pos.x(), pos.y()) < 0 and self.plot.getViewBox().sceneBoundingRect().contains(
                    ev.scenePos()):
                self.request("add", (max(0.0, float(pos.x())), int(round(pos.y()))))
            return
        pos = self.plot.getViewBox().mapSceneToView(ev.scenePos())
        self.seekRequested.emit(max(0.0, float(pos.x())))
