"""What a MIDI file means, read from its bytes before any library builds objects for it.

:func:`scan_midi` walks the chunks and events once, storing nothing per event: the number of tracks,
notes and events, the largest tick, and the tempo changes of the first track (the ones pretty_midi
uses). :func:`check_midi_limits` turns those into refusals with a clear line (a 4-year delta time, a
million notes, 5,000 tracks) before mido or pretty_midi allocate anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from model.errors import LimitError, limit_text
from model.io.formats import MAX_NOTES, MAX_PERFORMED_SECONDS, MAX_TEXT_CHARS, MAX_TRACKS

MAX_EVENTS = 2_000_000        # all events of all tracks (notes, pedal, controllers, meta)


@dataclass
class MidiFacts:
    ticks_per_beat: int = 480
    tracks: int = 0
    notes: int = 0
    events: int = 0
    max_tick: int = 0
    longest_text: int = 0    # the longest text event (track name, lyric, marker...), in bytes
    tempos: list[tuple[int, int]] = field(default_factory=list)   # (tick, microseconds per quarter), track 0

    def seconds(self, tick: int | None = None) -> float:
        """Seconds at ``tick`` (the last event by default) under the first track's tempo map."""
        tick = self.max_tick if tick is None else tick
        tpb = max(1, self.ticks_per_beat)
        secs, prev_tick, tempo = 0.0, 0, 500_000
        for at, new in sorted(self.tempos):
            if at >= tick:
                break
            secs += (at - prev_tick) * tempo / 1e6 / tpb
            prev_tick, tempo = at, new
        return secs + (tick - prev_tick) * tempo / 1e6 / tpb


def _vlq(data: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if i >= end:
            raise EOFError
        b = data[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i
    return value, i


def _scan_track(data: bytes, i: int, end: int, facts: MidiFacts, first: bool) -> None:
    tick, status = 0, 0
    while i < end:
        delta, i = _vlq(data, i, end)
        tick += delta
        facts.events += 1
        if facts.events > MAX_EVENTS:
            return
        b = data[i] if i < end else 0
        if b >= 0x80:
            i += 1
            if b < 0xF0:
                status = b
        else:
            b = status              # running status
        if b == 0xFF:
            kind = data[i] if i < end else 0
            length, i = _vlq(data, i + 1, end)
            if first and kind == 0x51 and length == 3 and i + 3 <= end:
                facts.tempos.append((tick, int.from_bytes(data[i:i + 3], "big") or 1))
            elif 0x01 <= kind <= 0x0F:
                facts.longest_text = max(facts.longest_text, length)
            i += length
            if kind == 0x2F:
                break
        elif b in (0xF0, 0xF7):
            length, i = _vlq(data, i, end)
            i += length
        elif b >= 0x80:
            kind = b & 0xF0
            if kind in (0xC0, 0xD0):
                i += 1
            else:
                if kind == 0x90 and i + 1 < end and data[i + 1] > 0:
                    facts.notes += 1
                i += 2
        else:                       # a data byte with no status: corrupt; mido will say so
            return
    facts.max_tick = max(facts.max_tick, tick)


def scan_midi(data: bytes) -> MidiFacts:
    """Tracks, notes, events, the last tick and the first track's tempos, counted from the bytes (no objects)."""
    facts = MidiFacts()
    if len(data) >= 14 and data[:4] == b"MThd":
        division = int.from_bytes(data[12:14], "big")
        facts.ticks_per_beat = division if division < 0x8000 else 480
    i = 8 + int.from_bytes(data[4:8], "big") if data[:4] == b"MThd" else 0
    while i + 8 <= len(data):
        kind, length = data[i:i + 4], int.from_bytes(data[i + 4:i + 8], "big")
        start, end = i + 8, min(len(data), i + 8 + length)
        if kind == b"MTrk":
            facts.tracks += 1
            if facts.tracks > MAX_TRACKS:
                break
            try:
                _scan_track(data, start, end, facts, facts.tracks == 1)
            except (EOFError, IndexError):
                pass
            if facts.events > MAX_EVENTS:
                break
        i = start + length
    return facts


def check_midi_limits(facts: MidiFacts, path: Path | None, what: str = "the MIDI file") -> None:
    """Refuse a MIDI file whose tracks, notes, events or length are past what unimt supports."""
    if facts.tracks > MAX_TRACKS:
        raise LimitError(f"{what} has more than {limit_text(MAX_TRACKS)} tracks; at most "
                         f"{limit_text(MAX_TRACKS)} are supported", path)
    if facts.events > MAX_EVENTS:
        raise LimitError(f"{what} has more than {limit_text(MAX_EVENTS)} events; at most "
                         f"{limit_text(MAX_EVENTS)} are supported", path)
    if facts.notes > MAX_NOTES:
        raise LimitError(f"{what} has {limit_text(facts.notes)} notes; at most {limit_text(MAX_NOTES)} are "
                         "supported", path)
    if facts.longest_text > MAX_TEXT_CHARS:
        raise LimitError(f"a text in {what} is {limit_text(facts.longest_text)} characters long; at most "
                         f"{limit_text(MAX_TEXT_CHARS)} are supported", path)
    seconds = facts.seconds()
    if seconds > MAX_PERFORMED_SECONDS:
        raise LimitError(f"{what} plays for {duration_text(seconds)}; at most "
                         f"{duration_text(MAX_PERFORMED_SECONDS)} are supported", path)


def duration_text(seconds: float) -> str:
    """4.0 hours, 12.5 minutes, 30 seconds; years for the absurd."""
    if seconds >= 2 * 365 * 86400:
        return f"{seconds / (365.25 * 86400):,.0f} years"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.1f} hours"
    if seconds >= 120:
        return f"{seconds / 60:,.1f} minutes"
    return f"{seconds:,.0f} seconds"
