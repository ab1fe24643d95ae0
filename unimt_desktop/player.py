"""Playback with sounddevice: one position (seconds) that every pane's playhead follows.

The audio callback runs on PortAudio's thread and only copies samples; a QTimer on the GUI thread
publishes the position. Without an output device (no sound card, no PortAudio, a stream that will not
open) playback goes on silently: a monotonic clock (QElapsedTimer) advances the position instead of the
sound card, so the playhead still moves through every pane, and ``reason`` says in words why there is no
sound.

A count-in (one bar of clicks, made by the model package) can lead into playback: the clicks sound first
while the position waits where playing starts.
"""

from __future__ import annotations

import threading
from typing import Optional

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal


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
        self.detail = ""         # PortAudio's own words, for a log or a bug report
        self._device: Optional[bool] = None
        self.silent = False      # playing on the clock, without sound
        self.clock = QElapsedTimer()
        self._clock_frame = 0    # the frame the clock started from
        self.count_in: Optional[np.ndarray] = None   # clicks to sound before playing starts (when set)
        self._pre: Optional[np.ndarray] = None       # the count-in now sounding
        self._pre_frame = 0
        self.timer = QTimer(self, interval=33, timeout=self._tick)

    # -- device
    def has_output(self) -> bool:
        """Whether there is an audio output to play on (asked once; without one playback is silent)."""
        if self._device is None:
            try:
                import sounddevice as sd

                sd.query_devices(kind="output")
                self._device = True
            except Exception as exc:  # PortAudio missing, no device: silent playback, the rest works
                self._no_output(exc)
        return self._device

    def _no_output(self, exc: Exception) -> None:
        self._device = False
        self.detail = _first_line(exc)
        self.reason = "no audio output found"

    def available(self) -> bool:
        """Playback always works: with sound when there is an output, silently on a clock otherwise."""
        return True

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
        self._advance_clock()
        return self.frame / self.sample_rate if self.sample_rate else 0.0

    def seek(self, t: float) -> None:
        with self._lock:
            self._pre = None          # a seek ends a count-in
            n = len(self.samples) if self.samples is not None else 0
            self.frame = int(max(0, min(n, round(t * self.sample_rate))))
        self._restart_clock()
        self.positionChanged.emit(self.position())

    # -- the silent clock
    def _restart_clock(self) -> None:
        self._clock_frame = self.frame
        self.clock.restart()

    def _advance_clock(self) -> None:
        """Silent playback: move the frame on by the time the clock has run, looping as the sound would."""
        if not (self.silent and self.playing and self.clock.isValid()):
            return
        frame = self._clock_frame + int(self.clock.elapsed() * self.sample_rate / 1000)
        if self._pre is not None:      # the count-in first: the position waits
            self._pre_frame = frame - self._clock_frame
            if self._pre_frame < len(self._pre):
                return
            self._clock_frame -= len(self._pre)     # the clock ran the clicks first
            frame -= len(self._pre)
            self._pre = None
        n = len(self.samples) if self.samples is not None else 0
        if self.loop is not None and frame >= self.loop[1] > self.loop[0]:
            a, b = self.loop
            frame = a + (frame - b) % (b - a)
            self._clock_frame = frame
            self.clock.restart()
        self.frame = min(frame, n)

    def set_loop(self, start: Optional[float], end: Optional[float] = None) -> None:
        with self._lock:
            if start is None or end is None or end - start < 0.05:
                self.loop = None
            else:
                self.loop = (int(start * self.sample_rate), int(end * self.sample_rate))

    # -- transport
    def play(self) -> bool:
        """Start playing: on the audio output, or silently on the clock when there is none."""
        if not self.has_audio():
            return False
        if self.frame >= len(self.samples):
            self.frame = 0
        with self._lock:
            self._pre, self._pre_frame = self.count_in, 0
        self.silent = not (self.has_output() and self._start_stream())
        if self.silent:
            self._restart_clock()
        self.playing = True
        self.timer.start()
        self.stateChanged.emit(True)
        return True

    def _start_stream(self) -> bool:
        try:
            import sounddevice as sd

            if self.stream is None:
                self.stream = sd.OutputStream(samplerate=self.sample_rate, channels=self.samples.shape[1],
                                              dtype="float32", callback=self._callback)
            self.stream.start()
            return True
        except Exception as exc:  # PortAudioError and friends: no sound, but the clock plays on
            self._no_output(exc)
            self._close()
            return False

    def counting_in(self) -> bool:
        """Whether the count-in's clicks are sounding (playback starts after them)."""
        self._advance_clock()
        return self.playing and self._pre is not None and self._pre_frame < len(self._pre)

    def pause(self) -> None:
        self._advance_clock()
        self._pre = None
        if self.stream is not None:
            try:
                self.stream.stop()
            except Exception:
                self._close()
        was = self.playing
        self.playing = False
        self.silent = False
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
            if self._pre is not None:          # the count-in's clicks, then the music
                pre, j = self._pre, self._pre_frame
                k = max(0, min(frames, len(pre) - j))
                outdata[:k] = pre[j:j + k, :outdata.shape[1]]
                self._pre_frame = j + k
                if k == frames:
                    return
                self._pre = None
                outdata, frames = outdata[k:], frames - k
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
        self.positionChanged.emit(self.position())   # (silently: the clock moves the frame on)
        if (
            self.playing
            and self.samples is not None
            and self.frame >= len(self.samples)
            and self.loop is None
        ):
            self.pause()
