"""The bar/beat ruler above the piano roll and the waveform: bars labelled with their printed numbers,
beats as "bar.beat" when there is room, and faint bar lines down through the plot. It stands on the shared
time axis (:mod:`unimt_desktop.timeaxis`), so a bar's line is at the same x in both panes. Dragging across
bars on it chooses them for the loop (:attr:`BarAxis.barsDragged`, snapped to bar lines by the window)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal

BAR_PIXELS = 26      # the least room a labelled bar gets (otherwise every 2nd, 4th... bar is labelled)
BEAT_PIXELS = 9      # beats get ticks from this many pixels apart
BEAT_LABEL_PIXELS = 34
LOOP_COLOUR, LOOP_EDGE = (224, 69, 123, 28), (224, 69, 123, 140)
STEPS = (1, 2, 4, 5, 10, 20, 50, 100, 200, 500, 1000)


class BarAxis(pg.AxisItem):
    """A top axis whose ticks are the bars and beats of :class:`model.api.Bar` s (in playing time).

    A drag on it with the left button sends ``barsDragged(t0, t1, done)``: the times (playing time) where
    it started and where it is now, ``done`` on release; it does not pan the view."""

    barsDragged = Signal(float, float, bool)

    def __init__(self):
        super().__init__("top")
        self.bars: list = []
        self.labels: dict[float, str] = {}
        self.setStyle(tickTextOffset=2, autoExpandTextSpace=True)
        self.setHeight(20)
        self.hide()

    def set_bars(self, bars: list) -> None:
        self.bars = list(bars)
        self.labels = {}
        for b in self.bars:
            for t, k in b.beats:
                self.labels.setdefault(round(t, 6), f"{b.number}.{k}")
            self.labels[round(b.start, 6)] = b.number
        self.setVisible(bool(self.bars))
        self.picture = None
        self.update()

    def mouseDragEvent(self, event):
        view = self.linkedView()
        on_ruler = QRectF(0, 0, self.width(), self.height()).contains(event.buttonDownPos())
        if not self.bars or view is None or event.button() != Qt.MouseButton.LeftButton or not on_ruler:
            return super().mouseDragEvent(event)      # below the ruler (its bar lines): the plot's own drag
        event.accept()
        t0 = view.mapSceneToView(event.buttonDownScenePos()).x()
        t1 = view.mapSceneToView(event.scenePos()).x()
        self.barsDragged.emit(float(t0), float(t1), bool(event.isFinish()))

    def tickValues(self, minVal, maxVal, size):
        if not self.bars or maxVal <= minVal or size <= 0:
            return []
        px = size / (maxVal - minVal)       # pixels per second
        lengths = [b.end - b.start for b in self.bars if b.end > b.start]
        bar = float(np.median(lengths)) if lengths else 1.0
        step = next((s for s in STEPS if s * bar * px >= BAR_PIXELS), STEPS[-1])
        shown = [(i, b) for i, b in enumerate(self.bars) if b.end >= minVal and b.start <= maxVal]
        levels = [(bar * step, [b.start for i, b in shown if i % step == 0 and minVal <= b.start <= maxVal])]
        beats = [t for _, b in shown for t, k in b.beats if abs(t - b.start) > 1e-6 and minVal <= t <= maxVal]
        if step == 1 and beats:
            beat = bar / max(1, max(len(b.beats) for _, b in shown))
            if beat * px >= BEAT_PIXELS:
                levels.append((beat, beats))
        return levels

    def tickStrings(self, values, scale, spacing):
        px = self.width() if self.orientation in ("top", "bottom") else self.height()
        view = self.linkedView()
        span = view.viewRange()[0] if view is not None else None
        room = px / (span[1] - span[0]) * spacing if span and span[1] > span[0] else 0
        out = []
        for v in values:
            text = self.labels.get(round(v, 6), "")
            if "." in text and room < BEAT_LABEL_PIXELS:
                text = ""      # beats too close to label: ticks only
            out.append(text)
        return out


def install(*plots) -> list[BarAxis]:
    """A bar ruler on top of each plot (it shows once there are bars); faint bar lines through them."""
    axes = []
    for plot in plots:
        axis = BarAxis()
        plot.setAxisItems({"top": axis})
        axis.setGrid(90)
        axes.append(axis)
    return axes


def bars_between(bars: list, t0: float, t1: float) -> tuple[int, int] | None:
    """The indices of the first and last bars a drag from ``t0`` to ``t1`` covers (either way round),
    snapped to whole bars; None when there are no bars."""
    if not bars:
        return None
    lo, hi = sorted((t0, t1))

    def at(t: float) -> int:
        return next((k for k, b in enumerate(bars) if t < b.end), len(bars) - 1) if t >= bars[0].start else 0
    return at(lo), at(hi)


def set_bars(axes: list[BarAxis], bars: list) -> None:
    for axis in axes:
        axis.set_bars(bars)


def loop_regions(*plots) -> list[pg.LinearRegionItem]:
    """A shaded band in each plot for the bars that loop (hidden until a loop is chosen)."""
    regions = []
    for plot in plots:
        region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(LOOP_COLOUR),
                                     pen=pg.mkPen(LOOP_EDGE, width=1))
        region.setZValue(-5)
        region.hide()
        plot.addItem(region)
        regions.append(region)
    return regions


def show_loop(regions: list[pg.LinearRegionItem], span) -> None:
    for region in regions:
        if span is not None:
            region.setRegion(span)
        region.setVisible(span is not None)
