"""One time axis for the piano roll and the waveform: the same range, the same left margin, so one time
stands at the same x in both panes and the one playhead is one vertical line across them."""

from __future__ import annotations

AXIS_WIDTH = 44      # the left axis of every time plot (keyboard, level): the same left margin


def link(roll, wave) -> None:
    """Link the waveform's time axis to the roll's (pyqtgraph lines linked views up on screen)."""
    for plot in (roll.plot, wave.wave_plot, wave.spec_plot):
        plot.getAxis("left").setWidth(AXIS_WIDTH)
    wave.wave_plot.setXLink(roll.plot)


def fit(roll, wave) -> None:
    """Both panes span the whole piece (the longer of the notes and the recording), and cannot be
    scrolled or zoomed out past it."""
    ends = [d.duration for d in (roll.data, wave.data) if d is not None]
    if not ends:
        return
    end = max(max(ends), 0.5)
    pad = 0.01 * end
    for plot in (roll.plot, wave.wave_plot, wave.spec_plot):
        plot.getViewBox().setLimits(xMin=-pad, xMax=end + pad, maxXRange=end + 2 * pad)
    plot = roll.plot if roll.data is not None else wave.wave_plot
    plot.setXRange(0, end, padding=0.01)


def follow(roll, wave, t: float) -> None:
    """While playing zoomed in: when the playhead leaves the view, turn the page so it is near the left."""
    plot = roll.plot if roll.data is not None else wave.wave_plot
    x0, x1 = plot.getViewBox().viewRange()[0]
    if x0 <= t <= x1:
        return
    span = x1 - x0
    plot.setXRange(t - 0.05 * span, t + 0.95 * span, padding=0)


def x_on_screen(plot, t: float) -> float:
    """The global x (pixels) where time ``t`` stands in ``plot``."""
    from PySide6.QtCore import QPointF

    scene = plot.getViewBox().mapViewToScene(QPointF(t, 0))
    return plot.mapToGlobal(plot.mapFromScene(scene)).x()
