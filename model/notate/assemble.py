"""Quantised staves and voices -> a music21 score with measures, ties across bar lines, rests, key and time
signatures, beams, stems and accidentals (written out by the project's MusicXML writer like any score)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from model.notate.key import spell
from model.notate.meter import Meter
from model.notate.quantise import TPB

# written values (quarter lengths) a single note may have, longest first
VALUES = tuple(
    sorted(
        {
            Fraction(v)
            for v in (
                4,
                3,
                2,
                Fraction(3, 2),
                1,
                Fraction(3, 4),
                Fraction(1, 2),
                Fraction(3, 8),
                Fraction(1, 4),
                Fraction(1, 8),
                Fraction(4, 3),
                Fraction(2, 3),
                Fraction(1, 3),
                Fraction(1, 6),
            )
        },
        reverse=True,
    )
)


@dataclass
class Event:
    on: int  # ticks
    end: int
    pitches: tuple  # MIDI pitches, low to high


@dataclass
class Staff:
    clef: str  # treble | bass
    voices: list = field(default_factory=list)  # list[list[Event]] sorted by onset, no overlaps in a voice
    lines: bool = False  # the voices are lines written in every measure (rests where one is silent)


@dataclass
class Part:
    name: str
    staves: list  # one or two Staff


@lru_cache(maxsize=4096)
def split_value(ql: Fraction) -> tuple:
    """A duration as the fewest written values (tied), longest first; () if it cannot be written."""
    if ql <= 0:
        return ()
    if ql in VALUES:
        return (ql,)
    best: tuple | None = None
    for v in VALUES:
        if v < ql:
            rest = split_value(ql - v)
            if rest and (best is None or len(rest) + 1 < len(best)):
                best = (v,) + rest
                if len(best) == 2:
                    break
    return best or ()


def _ql(ticks: int, meter: Meter) -> Fraction:
    return Fraction(ticks, TPB) * meter.beat_ql


def _segments(voice: list, start: int, stop: int) -> list:
    """(on, end, pitches, tie_in, tie_out) pieces of a voice inside [start, stop), rests as pitches None."""
    out, t = [], start
    for ev in voice:
        if ev.end <= start or ev.on >= stop:
            continue
        a, b = max(ev.on, start), min(ev.end, stop)
        if a > t:
            out.append((t, a, None, False, False))
        out.append((a, b, ev.pitches, ev.on < start, ev.end > stop))
        t = b
    if t < stop:
        out.append((t, stop, None, False, False))
    return out


def _elements(seg, meter: Meter, fifths: int, stem: str | None):
    from music21 import chord, note, pitch, tie

    on, end, pitches, tie_in, tie_out = seg
    ql = _ql(end - on, meter)
    # a length no written value makes (only from odd input): the nearest thirty-second notes
    values = split_value(ql) or split_value(max(Fraction(round(ql * 8), 8), Fraction(1, 8)))
    els = []
    for k, v in enumerate(values):
        if pitches is None:
            el = note.Rest(quarterLength=v)
        else:
            ps = []
            for p in pitches:
                step, alter, octave = spell(int(p), fifths)
                pp = pitch.Pitch(step=step, octave=octave)
                if alter:
                    pp.accidental = pitch.Accidental(alter)
                ps.append(pp)
            el = note.Note(ps[0], quarterLength=v) if len(ps) == 1 else chord.Chord(ps, quarterLength=v)
            first, last = k == 0 and not tie_in, k == len(values) - 1 and not tie_out
            kind = None if (first and last) else ("start" if first else ("stop" if last else "continue"))
            if kind:
                el.tie = tie.Tie(kind)
            if stem and v < 4:
                el.stemDirection = stem
        els.append(el)
    return els


def _stem(voice: list, staff: Staff) -> str | None:
    """Stem direction of a one-voice measure: down when its notes sit mostly above the middle line."""
    middle = 71 if staff.clef == "treble" else 50
    ps = [sum(ev.pitches) / len(ev.pitches) for ev in voice]
    if not ps:
        return None
    return "down" if sum(ps) / len(ps) >= middle else "up"


def _voice_stem(k: int, pitches) -> str | None:
    """Stems of a voice of a piano staff: up in the upper voice, down in the lower."""
    return None if pitches is None else ("up" if k == 0 else "down")


def _line_stem(pitches, staff: Staff) -> str | None:
    """Stems of one line of a reduction, as the line is written on its own: down from the middle line up
    (judged by the note farthest from it)."""
    if pitches is None:
        return None
    middle = 71 if staff.clef == "treble" else 50
    far = max(pitches, key=lambda p: abs(p - middle))
    return "down" if far >= middle else "up"


def _measure(staff: Staff, number: int, start: int, stop: int, meter: Meter, fifths: int):
    from music21 import stream

    m = stream.Measure(number=number)
    active = [v for v in staff.voices if any(ev.on < stop and ev.end > start for ev in v)] or staff.voices[:1]
    if staff.lines:
        active = staff.voices
    if len(active) <= 1:
        voice = active[0] if active else []
        stem = None
        t = Fraction(0)
        for seg in _segments(voice, start, stop):
            for el in _elements(seg, meter, fifths, stem if seg[2] is not None else None):
                m.insert(t, el)
                t += el.quarterLength
        return m
    for k, voice in enumerate(active):
        v = stream.Voice(id=str(k + 1))
        t = Fraction(0)
        for seg in _segments(voice, start, stop):
            for el in _elements(
                seg, meter, fifths, _line_stem(seg[2], staff) if staff.lines else _voice_stem(k, seg[2])
            ):
                v.insert(t, el)
                t += el.quarterLength
        m.insert(0, v)
    return m


def bar_lines(meter: Meter, first_on: int, last_tick: int) -> list[tuple[int, int]]:
    """[start, stop) ticks of every measure: the pickup (if any notes start before the first bar line),
    then full bars covering ``last_tick``."""
    bars = []
    if meter.pickup_ticks and first_on < meter.pickup_ticks:
        bars.append((0, meter.pickup_ticks))
    t = meter.pickup_ticks
    while t < last_tick or not bars:
        bars.append((t, t + meter.bar_ticks))
        t += meter.bar_ticks
    return bars


def build_score(parts: list, meter: Meter, fifths: int, title: str | None = None):
    """A music21 Score of the parts (a two-staff part becomes a braced grand staff)."""
    from music21 import clef, instrument, key, layout, metadata, stream
    from music21 import meter as m21meter

    events = [ev for p in parts for s in p.staves for v in s.voices for ev in v]
    last = max((ev.end for ev in events), default=1)
    bars = bar_lines(meter, min((ev.on for ev in events), default=0), last)
    last_on = max((ev.on for ev in events), default=0)
    if len(bars) > 1 and last_on < bars[-1][0] and last - bars[-1][0] <= meter.bar_ticks // 2:
        # the last notes held a little past the last bar line (a final ritardando): they end on it
        bars.pop()
        for ev in events:
            ev.end = min(ev.end, bars[-1][1])
    pickup = bars[0][1] - bars[0][0] < meter.bar_ticks
    score = stream.Score()
    score.metadata = metadata.Metadata()
    score.metadata.title = title or "Performance"
    for part in parts:
        staves = []
        for si, staff in enumerate(part.staves):
            ps = stream.PartStaff() if len(part.staves) > 1 else stream.Part()
            ps.partName = part.name
            if si == 0:
                ps.insert(0, instrument.Piano() if part.name == "Piano" else instrument.Instrument(part.name))
            for i, (a, b) in enumerate(bars):
                m = _measure(staff, i if pickup else i + 1, a, b, meter, fifths)
                if i == 0:
                    m.insert(0, clef.TrebleClef() if staff.clef == "treble" else clef.BassClef())
                    m.insert(0, key.KeySignature(fifths))
                    m.insert(0, m21meter.TimeSignature(meter.label))
                    if pickup:
                        m.paddingLeft = float(_ql(meter.bar_ticks - (b - a), meter))
                ps.append(m)
            _finish(ps)
            staves.append(ps)
            score.insert(0, ps)
        if len(staves) > 1:
            score.insert(0, layout.StaffGroup(staves, name=part.name, symbol="brace", barTogether=True))
    return score


def _finish(part) -> None:
    """Beams, tuplet brackets and accidentals, measure by measure."""
    from music21 import stream
    from music21.stream import makeNotation

    for m in part.getElementsByClass(stream.Measure):
        containers = list(m.voices) or [m]
        for c in containers:
            try:
                makeNotation.makeTupletBrackets(c, inPlace=True)
            except Exception:  # noqa: BLE001, S110 - brackets are cosmetic
                pass
        try:
            m.makeBeams(inPlace=True)
        except Exception:  # noqa: BLE001, S110 - a measure music21 cannot beam is left unbeamed
            pass
    try:
        part.makeAccidentals(inPlace=True, cautionaryNotImmediateRepeat=False)
    except Exception:  # noqa: BLE001, S110 - accidentals are then the spelled ones only
        pass
