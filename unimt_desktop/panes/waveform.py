"""Waveform and spectrogram (pyqtgraph) with a playhead; click to seek.

The recording is drawn from a min/max envelope pyramid (computed off the GUI thread): whatever the
zoom, only about two points per pixel of the visible range are handed to the plot, so a one-hour file
stays as responsive as a short one. Zoomed in far enough, the raw samples are drawn instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from unimt_desktop.panes.common import PLAYHEAD, Pane, fmt_time
from unimt_desktop.panes.pianoroll import KeyboardAxis

WAVE_COLOUR = "#2f6fdf"
RAW_PER_PIXEL = 8       # draw raw samples when at most this many per pixel are visible


class WaveformPane(Pane):
    spectrogramRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(
            "Audio",
            "Drop a recording here (WAV, FLAC, OGG, MP3), or translate a score or MIDI to audio.",
            parent,
        )
        self.wave_plot = pg.PlotWidget(background="#fbfbfc")
        self.spec_plot = pg.PlotWidget(background="#fbfbfc", axisItems={"left": KeyboardAxis("left")})
        for p in (self.wave_plot, self.spec_plot):
            p.setMenuEnabled(False)
            p.hideButtons()
            p.getAxis("left").setWidth(44)
            p.getViewBox().setMouseEnabled(x=True, y=False)
            p.scene().sigMouseClicked.connect(lambda ev, p=p: self._clicked(p, ev))
        self.wave_plot.setLabel("bottom", "time", units="s")
        self.wave_plot.getAxis("left").setStyle(showValues=False)   # raw amplitudes mean nothing to musicians
        self.spec_plot.setXLink(self.wave_plot)
        self.wave_plot.setYRange(-1, 1, padding=0.02)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(WAVE_COLOUR, width=1))
        self.wave_plot.addItem(self.curve)
        self.spec_image = pg.ImageItem()
        self.spec_image.setColorMap(pg.colormap.get("inferno"))
        self.spec_plot.addItem(self.spec_image)
        self.playheads = []
        for p in (self.wave_plot, self.spec_plot):
            line = pg.InfiniteLine(0, angle=90, movable=True, pen=pg.mkPen(PLAYHEAD, width=2),
                                   hoverPen=pg.mkPen(PLAYHEAD, width=4))
            line.setZValue(10)
            line.sigPositionChangeFinished.connect(
                lambda moved: self.seekRequested.emit(max(0.0, moved.value()))
            )
            p.addItem(line)
            self.playheads.append(line)
        self.spec_plot.hide()
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.wave_plot, 1)
        lay.addWidget(self.spec_plot, 1)
        self.set_body(body)
        self.spec_button = QToolButton(text="Spectrogram", checkable=True, autoRaise=True)
        self.spec_button.setToolTip("Show the spectrogram under the waveform")
        self.spec_button.toggled.connect(self.show_spectrogram)
        self.add_header_widget(self.spec_button)
        self.audio = None
        self.data = None
        self.spec = None
        self._range_timer = QTimer(self, singleShot=True, interval=30, timeout=self._update_detail)
        self.wave_plot.getViewBox().sigXRangeChanged.connect(lambda *a: self._range_timer.start())

    def set_data(self, audio, data) -> None:
        """``audio`` is the model's Audio; ``data`` its :class:`unimt_desktop.jobs.WaveData` (None clears)."""
        self.audio, self.data, self.spec = audio, data, None
        self.set_stale("")
        self.spec_image.clear()
        if data is None:
            self.curve.clear()
            self.info.setText("")
            self.show_body(False)
            return
        ch = "stereo" if getattr(audio, "channels", 1) == 2 else ("mono" if getattr(audio, "channels", 1) == 1
                                                                  else f"{audio.channels} channels")
        self._about = f"{fmt_time(data.duration)} · {data.sample_rate} Hz · {ch}"
        self.info.setText(self._about)
        vb = self.wave_plot.getViewBox()
        vb.setLimits(xMin=-0.5, xMax=data.duration + 0.5)
        self.wave_plot.setXRange(0, max(data.duration, 0.1), padding=0.01)
        peak = max(data.peak, 0.05)
        self.wave_plot.setYRange(-peak, peak, padding=0.05)
        self._update_detail()
        self.show_body(True)
        if self.spec_button.isChecked():
            self.spectrogramRequested.emit()

    def set_stale(self, why: str) -> None:
        """Grey the waveform and say ``why`` it is out of date (the notes were edited since), or, with ``why``
        empty, show it as the sound that plays."""
        self.stale = why
        self.curve.setPen(pg.mkPen("#a9aeb6" if why else WAVE_COLOUR, width=1))
        self.info.setText(why or (getattr(self, "_about", "") if self.data is not None else ""))
        self.info.setToolTip(why)

    def set_spectrogram(self, spec) -> None:
        self.spec = spec
        if spec is None:
            self.spec_image.clear()
            return
        self.spec_image.setImage(spec.db, autoLevels=True)
        self.spec_image.setRect(0, spec.low, spec.duration, spec.high - spec.low)
        self.spec_plot.setYRange(spec.low, spec.high, padding=0)

    def show_spectrogram(self, on: bool) -> None:
        self.spec_plot.setVisible(on)
        if on and self.spec is None and self.audio is not None:
            self.spectrogramRequested.emit()

    def set_position(self, t: float) -> None:
        for line in self.playheads:
            if not line.moving:
                line.setValue(t)

    def _update_detail(self) -> None:
        """Hand the plot about two points per pixel of the visible range: raw samples or an envelope level."""
        if self.data is None or self.audio is None:
            return
        x0, x1 = self.wave_plot.getViewBox().viewRange()[0]
        x0, x1 = max(0.0, x0), min(self.data.duration, x1)
        if x1 <= x0:
            return
        width = max(200, self.wave_plot.getViewBox().width())
        sr = self.data.sample_rate
        a, b = int(x0 * sr), min(len(self.audio.samples), int(x1 * sr) + 2)
        if b - a <= RAW_PER_PIXEL * width:
            x = self.audio.samples[a:b]
            if x.ndim == 2:
                x = x.mean(axis=1)
            self.curve.setData(np.arange(a, b) / sr, x.astype(np.float32))
        else:
            self.curve.setData(*self.data.envelope(x0, x1, int(width)))

    def _clicked(self, plot, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.data is None or ev.double():
            return
        pos = plot.getViewBox().mapSceneToView(ev.scenePos())
        self.seekRequested.emit(max(0.0, min(float(pos.x()), self.data.duration)))
