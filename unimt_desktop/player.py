"""Playback with sounddevice: one position (seconds) that every pane's playhead follows.

The audio callback runs on PortAudio's thread and only copies samples; a QTimer on the GUI thread
publishes the position. Without an output device (or without PortAudio) playback is unavailable and
``reason`` says why; everything else in the app keeps working.
"""

from __future__ import annotations

import threading
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal


def _first_line(exc: Exception) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Player(QObject):
    positionChanged = Signal(float)
    stateChanged = Signal(bool)      # playing

    def __init__(self, parent=None):
        super().__init__(parent)
        self.samples: Optional[np.ndarray] = None   # (n, channels) float32
        self.sample_rate = 44100
        self.frame = 0
        self.loop: Optional[tuple[int, int]] = None
        self.stream = None
        self.playing = False
        self.reason = ""
        self._lock = threading.Lock()
        self._available: Optional[bool] = None
        self.timer = QTimer(self, interval=33, timeout=self._tick)

    # -- device
    def available(self) -> bool:
        if self._available is None:
            try:
                import sounddevice as sd

                sd.query_devices(kind="output")
                self._available = True
            except Exception as exc:  # PortAudio missing, no device: playback off, the rest works
                self.reason = f"no audio output device ({_first_line(exc)})"
                self._available = False
        return self._available

    # -- content
    def set_audio(self, samples: Optional[np.ndarray], sample_rate: int = 44100) -> None:
        self.stop()
        if samples is not None:
            samples = np.asarray(samples, dtype=np.float32)
            if samples.ndim == 1:
                samples = samples[:, None]
        with self._lock:
            self.samples, self.sample_rate, self.frame = samples, int(sample_rate), 0
            self.loop = None
        self.positionChanged.emit(0.0)

    def has_audio(self) -> bool:
        return self.samples is not None and len(self.samples) > 0

    def duration(self) -> float:
        return len(self.samples) / self.sample_rate if self.has_audio() else 0.0

    def position(self) -> float:
        return self.frame / self.sample_rate if self.sample_rate else 0.0

    def seek(self, t: float) -> None:
        with self._lock:
            n = len(self.samples) if self.samples is not None else 0
            self.frame = int(max(0, min(n, round(t * self.sample_rate))))
        self.positionChanged.emit(self.position())

    def set_loop(self, start: Optional[float], end: Optional[float] = None) -> None:
        with self._lock:
            if start is None or end is None or end - start < 0.05:
                self.loop = None
            else:
                self.loop = (int(start * self.sample_rate), int(end * self.sample_rate))

    # -- transport
    def play(self) -> bool:
        if not self.has_audio() or not self.available():
            return False
        import sounddevice as sd

        if self.frame >= len(self.samples):
            self.frame = 0
        try:
            if self.stream is None:
                self.stream = sd.OutputStream(samplerate=self.sample_rate, channels=self.samples.shape[1],
                                              dtype="float32", callback=self._callback)
            self.stream.start()
        except Exception as exc:
            self.reason = f"cannot play audio ({_first_line(exc)})"
            self._available = False
            self._close()
            return False
        self.playing = True
        self.timer.start()
        self.stateChanged.emit(True)
        return True

    def pause(self) -> None:
        if self.stream is not None:
            try:
                self.stream.stop()
            except Exception:
                self._close()
        was = self.playing
        self.playing = False
        self.timer.stop()
        if was:
            self.stateChanged.emit(False)
        self.positionChanged.emit(self.position())

    def toggle(self) -> bool:
        if self.playing:
            self.pause()
            return True
        return self.play()

    def stop(self) -> None:
        self.pause()
        self._close()

    def _close(self) -> None:
        if self.stream is not None:
            try:
                self.stream.close()
            except Exception:
                pass
            self.stream = None

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio's thread
        with self._lock:
            x, i = self.samples, self.frame
            if x is None:
                outdata.fill(0)
                return
            end = len(x) if self.loop is None else min(len(x), self.loop[1])
            n = max(0, min(frames, end - i))
            outdata[:n] = x[i:i + n]
            if n < frames:
                if self.loop is not None:
                    i = self.loop[0]
                    m = min(frames - n, end - i)
                    outdata[n:n + m] = x[i:i + m]
                    outdata[n + m:] = 0
                    self.frame = i + m
                    return
                outdata[n:] = 0
            self.frame = i + n

    def _tick(self) -> None:
        self.positionChanged.emit(self.position())
        if (
            self.playing
            and self.samples is not None
            and self.frame >= len(self.samples)
            and self.loop is None
        ):
            self.pause()
