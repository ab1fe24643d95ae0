"""The practice toolbar: tempo, transposition, the parts that play, a loop of chosen bars and a count-in.

Only controls live here; :class:`unimt_desktop.practicing.PracticeMixin` acts on them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QSpinBox, QToolBar, QToolButton

TEMPO_TIP = ("Play slower or faster (25% to 200% of the written tempo). The pitch stays: the notes are "
             "played again at the new tempo, not stretched.")
TRANSPOSE_TIP = ("Transpose up or down, up to an octave. What plays, the piano roll, the score and what "
                 "Export writes (score, MIDI and audio) are transposed.")
RESET_TIP = "Back to the written tempo and key, every part playing"
PARTS_TIP = ("Choose the parts that play: untick a part (a hand, a voice, an instrument) to mute it, or solo "
             "parts to hear only them.")
SOLO_TIP = "Hear only the soloed parts (solo several to hear them together); a muted part stays silent."
LOOP_TIP = ("Play the chosen bars over and over (bar numbers as printed in the score). Or drag across "
            "bars on the bar ruler above the piano roll or the waveform, or click a bar in the score and "
            "Shift+click another.")
COUNT_IN_TIP = "Before playing starts, one bar of clicks at the tempo of the bar it starts in."


class SignedSpinBox(QSpinBox):
    """Shows +3 and −3 (and 0): a transposition reads as a direction."""

    def textFromValue(self, value: int) -> str:
        return f"+{value}" if value > 0 else (f"−{-value}" if value < 0 else "0")

    def valueFromText(self, text: str) -> int:
        try:
            return int(text.replace("−", "-").replace("+", "").strip() or 0)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        from PySide6.QtGui import QValidator

        t = text.replace("−", "-").replace("+", "").strip()
        if t in ("", "-"):
            return QValidator.State.Intermediate, text, pos
        try:
            v = int(t)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        ok = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


class PracticeBar(QToolBar):
    """The controls; ``changed`` when tempo, transposition or the parts that play change."""

    changed = Signal()
    loopChanged = Signal()

    def __init__(self, parent=None):
        super().__init__("Practice", parent, objectName="practiceToolbar", movable=False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.tempo = QSpinBox(minimum=25, maximum=200, singleStep=5, value=100, suffix=" %",
                              keyboardTracking=False, toolTip=TEMPO_TIP, objectName="tempo")
        self.transpose = SignedSpinBox(minimum=-12, maximum=12, value=0, keyboardTracking=False,
                                       toolTip=TRANSPOSE_TIP, objectName="transpose")
        self.parts_menu = QMenu(self)
        self.parts_button = QToolButton(text="Parts", toolTip=PARTS_TIP, objectName="parts",
                                        popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.parts_button.setMenu(self.parts_menu)
        self._plays: list[QAction] = []     # one "Plays" and one "Solo" entry per part (set_parts)
        self._solos: list[QAction] = []
        self.loop_from = QComboBox(toolTip=LOOP_TIP, objectName="loopFrom", minimumContentsLength=3)
        self.loop_to = QComboBox(toolTip=LOOP_TIP, objectName="loopTo", minimumContentsLength=3)
        self.loop = QAction("Loop bars", self, checkable=True, toolTip=LOOP_TIP)
        self.count_in = QAction("Count-in", self, checkable=True, toolTip=COUNT_IN_TIP)
        self.reset = QAction("As written", self, toolTip=RESET_TIP)
        self.addWidget(QLabel(" Tempo "))
        self.addWidget(self.tempo)
        self.addWidget(QLabel("  Transpose "))
        self.addWidget(self.transpose)
        self.addWidget(self.parts_button)
        self.addAction(self.reset)
        self.addSeparator()
        self.addAction(self.loop)
        self.addWidget(self.loop_from)
        self.addWidget(QLabel("to"))
        self.addWidget(self.loop_to)
        self.addSeparator()
        self.addAction(self.count_in)
        self.tempo.valueChanged.connect(self.changed)
        self.transpose.valueChanged.connect(self.changed)
        self.reset.triggered.connect(self.as_written)
        self.loop.toggled.connect(self.loopChanged)
        self.loop_from.activated.connect(self._bars_chosen)
        self.loop_to.activated.connect(self._bars_chosen)

    # -- parts
    def set_parts(self, names: list[str], muted=frozenset(), soloed=frozenset()) -> None:
        """Two checkable entries per part: under "Plays" (ticked: it plays, unticked: muted) and under "Solo"
        (ticked: only the soloed parts play)."""
        self.parts_menu.clear()
        self._plays, self._solos = [], []
        if names:
            self.parts_menu.addSection("Plays")
        for k, name in enumerate(names):
            self._plays.append(self._part_action(name, k not in muted, PARTS_TIP))
        if names:
            self.parts_menu.addSection("Solo")
        for k, name in enumerate(names):
            self._solos.append(self._part_action(f"Solo {name}", k in soloed, SOLO_TIP))
        self.parts_button.setEnabled(bool(names))
        self._show_solo()

    def _part_action(self, text: str, on: bool, tip: str) -> QAction:
        a = self.parts_menu.addAction(text)
        a.setCheckable(True)
        a.setChecked(on)
        a.setToolTip(tip)
        a.toggled.connect(self._parts_toggled)
        return a

    def _parts_toggled(self) -> None:
        self._show_solo()
        self.changed.emit()

    def _show_solo(self) -> None:
        """The button says when parts are soloed or muted (the menu is closed while playing)."""
        solo, muted = self.soloed(), self.muted()
        self.parts_button.setText("Parts: solo" if solo else ("Parts: muted" if muted else "Parts"))

    def part_actions(self) -> list[QAction]:
        """The "Plays" entries, one per part (ticked: not muted)."""
        return list(self._plays)

    def solo_actions(self) -> list[QAction]:
        """The "Solo" entries, one per part."""
        return list(self._solos)

    def muted(self) -> frozenset:
        return frozenset(k for k, a in enumerate(self.part_actions()) if not a.isChecked())

    def soloed(self) -> frozenset:
        return frozenset(k for k, a in enumerate(self.solo_actions()) if a.isChecked())

    # -- bars
    def set_bars(self, numbers: list[str]) -> None:
        """The printed bar numbers the loop can run between (each once, in playing order)."""
        keep_a, keep_b = self.loop_from.currentText(), self.loop_to.currentText()
        seen = list(dict.fromkeys(numbers))
        for box, keep, default in ((self.loop_from, keep_a, 0), (self.loop_to, keep_b, len(seen) - 1)):
            box.blockSignals(True)
            box.clear()
            box.addItems(seen)
            box.setCurrentIndex(seen.index(keep) if keep in seen else max(0, default))
            box.blockSignals(False)
        if not seen:
            self.loop.setChecked(False)

    def choose_bars(self, first: str, last: str) -> None:
        """Loop from printed bar ``first`` to printed bar ``last`` (and turn the loop on)."""
        self.loop_from.setCurrentText(first)
        self.loop_to.setCurrentText(last)
        if self.loop.isChecked():
            self.loopChanged.emit()
        else:
            self.loop.setChecked(True)

    def _bars_chosen(self) -> None:
        if self.loop_to.currentIndex() < self.loop_from.currentIndex():
            self.loop_to.setCurrentIndex(self.loop_from.currentIndex())
        if self.loop.isChecked():
            self.loopChanged.emit()

    # -- all of it
    def set_values(self, tempo_percent: int, semitones: int, muted=frozenset(), soloed=frozenset()) -> None:
        """Show these values without announcing a change."""
        for w in (self.tempo, self.transpose):
            w.blockSignals(True)
        self.tempo.setValue(tempo_percent)
        self.transpose.setValue(semitones)
        for w in (self.tempo, self.transpose):
            w.blockSignals(False)
        for actions, on in ((self.part_actions(), lambda k: k not in muted),
                            (self.solo_actions(), lambda k: k in soloed)):
            for k, a in enumerate(actions):
                a.blockSignals(True)
                a.setChecked(on(k))
                a.blockSignals(False)
        self._show_solo()

    def as_written(self) -> None:
        self.set_values(100, 0)
        self.changed.emit()

    def set_practice_enabled(self, on: bool, why: str = "") -> None:
        """Tempo, transposition and parts need the notes; without them they say why."""
        tips = ((self.tempo, TEMPO_TIP), (self.transpose, TRANSPOSE_TIP), (self.parts_button, PARTS_TIP))
        for w, tip in tips:
            w.setEnabled(on and (w is not self.parts_button or bool(self.part_actions())))
            w.setToolTip(tip if on or not why else why)
        self.reset.setEnabled(on)

    def set_loop_enabled(self, on: bool) -> None:
        for w in (self.loop_from, self.loop_to):
            w.setEnabled(on)
        self.loop.setEnabled(on)
