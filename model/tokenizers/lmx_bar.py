"""Note values music21 can write, where the notes of one part in one measure may go so that it can write them
(:class:`_BarLine`), and what a part's measures need (lengths, a meter, voices per staff)."""

from __future__ import annotations

import functools
import itertools
import xml.etree.ElementTree as ET
from fractions import Fraction

from model.tokenizers.lmx_events import _LONGEST, _Event, _Note, _Segment
from model.tokenizers.lmx_vocab import (
    DURATION_TYPES,
    group_value,
)


# -- XML writing ------------------------------------------------------------------------------------
def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib) -> ET.Element:
    el = ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrib.items()})
    if text is not None:
        el.text = text
    return el


def _note_value(note: _Note, measure_len: Fraction) -> Fraction:
    if note.grace:
        return Fraction(0)
    if note.measure_rest:
        return min(measure_len, _LONGEST)
    value = group_value(note.type or "quarter", note.ratio, note.dots)
    if value > _LONGEST or (
        note.ratio and not Fraction(1, 32) <= DURATION_TYPES.get(note.type or "", 0) <= 4
    ):
        # music21 cannot write notes longer than a maxima, nor tuplets of breves or 256ths
        note.ratio, note.dots = None, 0
        value = group_value(note.type or "quarter", None, 0)
    return value


def _dur_value(ev: _Event) -> Fraction:
    return sum((group_value(t, r, d) for t, r, d in ev.data["groups"]), Fraction(0))


# Lengths (quarters) of one plain or dotted note value, or of a triplet of 64ths or longer: music21 writes
# them
_PLAIN_LENGTHS = frozenset({v * (2 - Fraction(1, 2 ** d)) for v in DURATION_TYPES.values() for d in range(4)}
                           | {v * Fraction(2, 3) for v in DURATION_TYPES.values() if v >= Fraction(1, 16)})
_MUSIC21_TYPES = frozenset("longa" if t == "long" else t for t in DURATION_TYPES)  # music21's names


def _writable(q: Fraction) -> bool:
    """Whether music21 can write ``q`` quarters as one rest or as tied notes (MusicXML stops at the 1024th).

    music21 fills a hole in a voice with one hidden rest, and splits what straddles a bar line in two; a
    length that only a 2048th tuplet or no note value expresses (a sum of unlike tuplets and very short
    notes) makes its writer fail.
    """
    return q <= 0 or q in _PLAIN_LENGTHS or _music21_writable(q)


def _one_value(q: Fraction) -> bool:
    """Whether music21 writes ``q`` quarters as one note value (maybe in a tuplet), not tied ones."""
    return q in _PLAIN_LENGTHS or _music21_writable(q) and _music21_values(q) == 1


@functools.lru_cache(maxsize=1024)
def _music21_values(q: Fraction) -> int:
    """How many note values music21 ties to write ``q`` quarters."""
    from music21 import duration

    return len(duration.quarterConversion(q).components)


@functools.lru_cache(maxsize=1024)
def _music21_writable(q: Fraction) -> bool:
    """:func:`_writable` asking music21 how it would write ``q`` quarters."""
    from music21 import duration  # only for the rarer lengths

    components, tuplet = duration.quarterConversion(q)
    types = [c.type for c in components]
    if tuplet is not None:
        types += [d.type for d in (tuplet.durationActual, tuplet.durationNormal) if d is not None]
        if min(c.quarterLength for c in components) < Fraction(1, 16):
            return False  # its writer turns a tuplet of very short notes into one of 2048ths
    return all(t in _MUSIC21_TYPES for t in types)


class _BarLine:
    """Where the notes of one part in one measure may go so that music21 can write them.

    Content past the measure's length is kept (real scores have such measures), and music21's writer carries
    whatever straddles the bar line -- a note, a rest, or the hidden rest it puts in a hole of a voice -- into
    the next measure, into the same voice, split in two. It fails when it has to carry two things out of the
    last measure ("measure already found"), or from one of several voices into a measure of several voices
    that lacks it (``KeyError``), or a piece with no note value, or one longer than the next measure, or
    (with no time signature) a piece of a rest that needs tied values. Where it would fail, a voice that
    would resume past the bar line after a hole across it resumes where it left off (a backup: what a voice
    change without its backup meant), and a note or rest that would straddle the bar line starts at it (a
    forward).

    music21 also fills every other hole in a voice with one rest, which needs a note value: a hole of an odd
    length (sums of unlike tuplets and very short notes) gets a hidden rest written here instead.
    """

    def __init__(self, length: Fraction, voices: dict[int, set], following: tuple[Fraction, dict] | None,
                 staves: int, meterless: bool = False):
        """``voices``: staff -> the voices of this measure; ``following``: the next measure's length and
        voices (None: this is the last measure); ``meterless``: no time signature is written."""
        self.length = length
        self.meterless = meterless
        self.voices = voices
        self.following = following
        self.staves = staves
        self.carries: set[int] = set()  # staves that carry something over the bar line
        self.end: dict[tuple[int, str], Fraction] = {}  # (staff, voice) -> where its notes end so far
        self.reach = Fraction(0)  # where the notes end at the latest
        self.spans: dict[int, list] = {}  # staff -> (start, end) of its notes and markings so far

    def _may_cross(self, staff: int, voice: str, start: Fraction, end: Fraction, rest: bool) -> bool:
        """Whether music21 can carry ``start..end`` of ``voice`` over the bar line (see the class)."""
        carried = end - self.length
        ok = _writable(self.length - start) and _writable(carried)
        if rest and self.meterless:  # it would leave a piece of tied values unsplit, and fail on it
            ok = ok and _one_value(self.length - start) and _one_value(carried)
        if self.following is None:  # the last measure: music21 adds one for one thing only
            ok = ok and staff not in self.carries
        else:
            next_len, next_voices = self.following
            here, there = self.voices.get(staff, set()), next_voices.get(staff, set())
            key_error = len(here) > 1 and len(there) > 1 and voice not in there
            ok = ok and carried <= next_len and not key_error
        if ok:
            self.carries.add(staff)
        return ok

    def place(self, note: _Note, value: Fraction, pos: Fraction) -> tuple[Fraction, Fraction | None]:
        """Return where ``note`` (not a chord note) of length ``value`` goes, given the position ``pos``, and
        where a hidden rest that fills its voice up to there starts (None: no hidden rest)."""
        staff = min(note.staff, self.staves)
        key = (staff, note.voice)
        end = self.end.get(key, Fraction(0))
        if pos > self.length > end and not self._may_cross(staff, note.voice, end, pos, True):  # a hole
            pos = end
        if pos < self.length < pos + value and not self._may_cross(
            staff, note.voice, pos, pos + value, note.rest
        ):
            pos = self.length
        fill_from = end if pos > end and not self._fillable(staff, end, pos) else None
        self.end[key] = max(end, pos + value)
        self.reach = max(self.reach, pos + value)
        self.spans.setdefault(staff, []).append((fill_from if fill_from is not None else pos, pos + value))
        return pos, fill_from

    def _fillable(self, staff: int, start: Fraction, end: Fraction) -> bool:
        """Whether music21 can fill ``start..end`` of a voice with rests: with one, or (in a staff of one
        voice) with one between each two markings in the way."""
        cuts = []
        if len(self.voices.get(staff, ())) <= 1:
            cuts = sorted({a for a, b in self.spans.get(staff, ()) if a == b and start < a < end})
        points = [start, *cuts, end]
        return _writable(end - start) and all(_writable(b - a) for a, b in itertools.pairwise(points))

    def holes_at_end(self) -> list[tuple[int, str, Fraction]]:
        """(staff, voice, start) of the odd holes before the bar line that hidden rests must fill."""
        return [(staff, voice, end) for (staff, voice), end in self.end.items()
                if end < self.length and not self._fillable(staff, end, self.length)]

    def marking(self, staves: set[int], pos: Fraction) -> Fraction:
        """Return where a direction or an attribute change in ``staves`` goes, given the position ``pos``.

        music21 fills the way to a marking that no note covers, and on to the next thing in its staff, with
        rests: if one would straddle the bar line or has no note value, the marking goes back to the latest
        start or end of a note or marking of those staves (the measure start at the earliest).
        """
        def fits(staff: int, at: Fraction) -> bool:
            spans = self.spans.get(staff, [])
            if at == 0 or any(a <= at <= b for a, b in spans):
                return True
            before = max((b for a, b in spans if b < at), default=Fraction(0))
            after = min((a for a, b in spans if a > at), default=None)
            gaps = [(before, at)] + ([(at, after)] if after is not None else [])
            return all(_writable(b - a) and not a < self.length < b for a, b in gaps)

        times = {t for staff in staves for span in self.spans.get(staff, ()) for t in span if t < pos}
        at = next(
            t for t in [pos, *sorted(times, reverse=True), Fraction(0)] if all(fits(s, t) for s in staves)
        )
        for staff in staves:
            self.spans.setdefault(staff, []).append((at, at))
        return at


def _staff_voices(seg: _Segment | None, staves: int) -> dict[int, set]:
    """Staff -> the voices of its notes in one measure (a chord note may name a voice of its own that the
    writer overrides: it counts too)."""
    out: dict[int, set] = {}
    for ev in seg.events if seg else []:
        if ev.kind == "note":
            out.setdefault(min(ev.note.staff, staves), set()).add(ev.note.voice)
    return out


def _measure_lengths(segments: list[_Segment | None]) -> list[Fraction]:
    """Length in quarters of each measure of one part: its time signature's (4/4 without one).

    Only a time signature at a measure's start counts: the writer drops one inside a measure.
    """
    out = []
    length = Fraction(4)
    for seg in segments:
        for ev in seg.events if seg else []:
            if ev.kind not in ("key", "time", "clef"):
                break
            if ev.kind == "time":
                length = Fraction(4 * (ev.data["beats"] or 4), ev.data["beat_type"] or 4)
        out.append(length)
    return out


def _needs_a_meter(segments: list[_Segment | None], staves: int) -> bool:
    """Whether music21 needs a time signature to write this part, given that it has none.

    Without one, music21 picks a meter for each measure from the length of its notes when it writes (one
    voice in one staff, as in folk tunes without a meter, is fine) but splits long measures by 4/4: it fails
    on several voices or staves, on a forward past the notes (read as no length, or one it cannot fill with
    a rest), and a measure of odd length (a tuplet left open) takes it minutes.
    """
    if staves > 1:
        return True
    for seg in segments:
        if seg is None:
            continue
        if len({ev.note.voice for ev in seg.events if ev.kind == "note"}) > 1:
            return True
        pos = reach = furthest = Fraction(0)
        prev: _Note | None = None
        for ev in seg.events:  # where the notes end at the latest, as the writer places them
            if ev.kind == "note":
                n = ev.note
                if not (
                    n.chord and prev is not None and not prev.rest and not n.rest and prev.grace == n.grace
                ):
                    pos += _note_value(n, Fraction(4))
                    reach = max(reach, pos)
                    prev = n
            elif ev.kind in ("backup", "forward"):
                amount = _dur_value(ev)
                pos = max(pos - amount, Fraction(0)) if ev.kind == "backup" else pos + amount
                prev = None
            elif ev.kind != "time":
                prev = None
            furthest = max(furthest, pos)
        if furthest > reach or reach.denominator & (reach.denominator - 1):  # or a tuplet left open
            return True
    return False
