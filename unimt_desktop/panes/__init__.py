"""The three panes: score viewer, piano roll, waveform."""

from unimt_desktop.panes.pianoroll import PianoRollPane
from unimt_desktop.panes.score import ScorePane
from unimt_desktop.panes.waveform import WaveformPane

__all__ = ["PianoRollPane", "ScorePane", "WaveformPane"]
