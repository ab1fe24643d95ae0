"""Waveform and spectrogram (pyqtgraph) with a playhead; click to seek.

The whole recording is drawn from a min/max envelope of at most 200,000 blocks (computed off the GUI
thread), so a one-hour file stays responsive; zoomed in below a few seconds, the raw samples of the
visible range are drawn instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from unimt_desktop.panes.common import PLAYHEAD, Pane, fmt_time
from unimt_desktop.panes.pianoroll import KeyboardAxis

WAVE_COLOUR = "#2f6fdf"
RAW_SAMPLES = 400_000   # draw raw samples when fewer than this many are visible


class WaveformPane(Pane):
    spectrogramRequested = Signal()

    def __init__(self, parent=None):
        super().__init__("Audio", "Drop a recording here (WAV, FLAC, OGG, MP3), or translate a score or MIDI to audio.",
                         parent)
        self.wave_plot = pg.PlotWidget(background="#fbfbfc")
        self.spec_plot = pg.PlotWidget(background="#fbfbfc", axisItems={"left": KeyboardAxis("left")})
        for p in (self.wave_plot, self.spec_plot):
            p.setMenuEnabled(False)
            p.hideButtons()
            p.getAxis("left").setWidth(44)
            p.getViewBox().setMouseEnabled(x=True, y=False)
            p.scene().sigMouseClicked.connect(lambda ev, p=p: self._clicked(p, ev))
        self.wave_plot.setLabel("bottom", "time", units="s")
        self.spec_plot.setXLink(self.wave_plot)
        self.wave_plot.setYRange(-1, 1, padding=0.02)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(WAVE_COLOUR, width=1))
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.wave_plot.addItem(self.curve)
        self.spec_image = pg.ImageItem()
        self.spec_image.setColorMap(pg.colormap.get("inferno"))
        self.spec_plot.addItem(self.spec_image)
        self.playheads = []
        for p in (self.wave_plot, self.spec_plot):
            line = pg.InfiniteLine(0, angle=90, movable=True, pen=pg.mkPen(PLAYHEAD, width=2),
                                   hoverPen=pg.mkPen(PLAYHEAD, width=4))
            line.setZValue(10)
            line.sigPositionChangeFinished.connect(lambda l: self.seekRequested.emit(max(0.0, l.value())))
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
        self._raw = False
        self._range_timer = QTimer(self, singleShot=True, interval=60, timeout=self._update_detail)
        self.wave_plot.getViewBox().sigXRangeChanged.connect(lambda *a: self._range_timer.start())

    def set_data(self, audio, data) -> None:
        """``audio`` is the model's Audio; ``data`` its :class:`unimt_desktop.jobs.WaveData` (None clears)."""
        self.audio, self.data, self.spec = audio, data, None
        self.spec_image.clear()
        if data is None:
            self.curve.clear()
            self.info.setText("")
            self.show_body(False)
            return
        self._raw = False
        self.curve.setData(data.env_x, data.env_y)
        ch = "stereo" if getattr(audio, "channels", 1) == 2 else ("mono" if getattr(audio, "channels", 1) == 1
                                                                  else f"{audio.channels} channels")
        self.info.setText(f"{fmt_time(data.duration)} · {data.sample_rate} Hz · {ch}")
        vb = self.wave_plot.getViewBox()
        vb.setLimits(xMin=-0.5, xMax=data.duration + 0.5)
        self.wave_plot.setXRange(0, max(data.duration, 0.1), padding=0.01)
        peak = float(np.abs(data.env_y).max()) if len(data.env_y) else 1.0
        self.wave_plot.setYRange(-max(peak, 0.05), max(peak, 0.05), padding=0.05)
        self.show_body(True)
        if self.spec_button.isChecked():
            self.spectrogramRequested.emit()

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
        """Raw samples when zoomed in far enough, the envelope otherwise."""
        if self.data is None or self.audio is None:
            return
        x0, x1 = self.wave_plot.getViewBox().viewRange()[0]
        sr = self.data.sample_rate
        a, b = max(0, int(x0 * sr)), min(len(self.audio.samples), int(x1 * sr) + 1)
        if self.data.block > 1 and 0 < b - a < RAW_SAMPLES:
            x = self.audio.samples[a:b]
            if x.ndim == 2:
                x = x.mean(axis=1)
            self.curve.setData(np.arange(a, b) / sr, x.astype(np.float32))
            self._raw = True
        elif self._raw:
            self.curve.setData(self.data.env_x, self.data.env_y)
            self._raw = False

    def _clicked(self, plot, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self.data is None or ev.double():
            return
        pos = plot.getViewBox().mapSceneToView(ev.scenePos())
        self.seekRequested.emit(max(0.0, min(float(pos.x()), self.data.duration)))
