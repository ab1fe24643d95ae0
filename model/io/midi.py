"""MIDI files: type 0 and 1, tempo maps and sustain pedal, read with checks and written atomically.

A file is first scanned (:mod:`model.io.midiscan`) so that its tracks, notes and length are checked before
any library builds objects for it; it is then read into a PrettyMIDI whose tick-to-seconds clock is computed
from the tempo changes, never stored per tick (pretty_midi allocates one float per tick, gigabytes for a
48-byte file with a 4-year delta time).
"""

from __future__ import annotations

import bisect
import io
import math
import sys
from pathlib import Path

import pretty_midi

from model.errors import BadInputError, LimitError, reason
from model.io.atomic import atomic_path
from model.io.formats import MAX_MIDI_BYTES
from model.io.midiscan import check_midi_limits, scan_midi
from model.io.types import Midi


class TickClock:
    """Seconds of any tick from pretty_midi's ``_tick_scales`` [(tick, seconds per tick)], in O(log tempi)."""

    def __init__(self, tick_scales: list[tuple[int, float]]):
        self.ticks = [int(t) for t, _ in tick_scales]
        self.scales = [float(s) for _, s in tick_scales]
        self.times = [0.0]
        for k in range(1, len(self.ticks)):
            self.times.append(self.times[-1] + (self.ticks[k] - self.ticks[k - 1]) * self.scales[k - 1])

    def __len__(self) -> int:
        return sys.maxsize

    def __getitem__(self, tick) -> float:
        k = max(0, bisect.bisect_right(self.ticks, int(tick)) - 1)
        return self.times[k] + (int(tick) - self.ticks[k]) * self.scales[k]

    def tick(self, seconds: float) -> int:
        k = max(0, bisect.bisect_right(self.times, float(seconds)) - 1)
        return int(round(self.ticks[k] + (float(seconds) - self.times[k]) / self.scales[k]))


class EventMidi(pretty_midi.PrettyMIDI):
    """A PrettyMIDI built from a mido file's events, with a :class:`TickClock` instead of per-tick arrays."""

    def _update_tick_to_time(self, max_tick):
        self._PrettyMIDI__tick_to_time = TickClock(self._tick_scales)

    def tick_to_time(self, tick):
        return self._PrettyMIDI__tick_to_time[int(tick)]

    def time_to_tick(self, time):
        return self._PrettyMIDI__tick_to_time.tick(time)

    @classmethod
    def from_mido(cls, mf, charset: str = "latin1") -> "EventMidi":
        pm = cls.__new__(cls)
        for track in mf.tracks:            # absolute ticks, as pretty_midi's own reader makes them
            tick = 0
            for event in track:
                event.time += tick
                tick = event.time
        pm.resolution = mf.ticks_per_beat
        pm._load_tempo_changes(mf)
        pm._update_tick_to_time(0)
        pm._load_metadata(mf)
        pm._load_instruments(mf)
        pm._charset = charset
        return pm


def read_midi_bytes(data: bytes, path: Path | None = None) -> Midi:
    import mido

    facts = scan_midi(data)
    check_midi_limits(facts, path)
    try:
        mf = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise BadInputError(f"corrupt or truncated MIDI ({reason(exc)})", path) from None
    if mf.type == 2:
        raise BadInputError("MIDI type 2 (independent sequences) is not supported", path)
    if mf.ticks_per_beat <= 0:
        raise BadInputError("the MIDI file has no valid time division", path)
    try:
        pm = EventMidi.from_mido(mf)
    except LimitError:
        raise
    except Exception as exc:
        raise BadInputError(f"cannot read the MIDI ({type(exc).__name__}: {reason(exc)})", path) from None
    end = pm.get_end_time()
    if not math.isfinite(end):
        raise BadInputError("the MIDI file's timing is invalid", path)
    return Midi(pm, source=path)


def read_midi(path: Path) -> Midi:
    size = path.stat().st_size
    if size > MAX_MIDI_BYTES:
        raise LimitError(f"the MIDI file is {size / 1024**2:.0f} MiB; at most {MAX_MIDI_BYTES // 1024**2} MiB "
                         "are supported", path)
    return read_midi_bytes(path.read_bytes(), path)


def write_midi(midi: Midi, path: Path) -> list[Path]:
    with atomic_path(path) as tmp:
        midi.pm.write(str(tmp))
    return [path]
