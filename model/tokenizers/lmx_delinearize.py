"""LMX tokens -> MusicXML text (the delinearizer); the grammar is documented in :mod:`model.tokenizers.lmx`.

Decoding is forgiving: any sequence of vocabulary tokens gives well-formed partwise MusicXML that
music21 reads and writes back. Tokens that cannot be placed (a ``dot`` outside a note, a ``chord`` with no
note to join, a ``backup`` longer than the measure so far, a ``forward`` past the bar line and the notes)
are dropped or clipped; a part without a time signature gets a hidden 4/4 where music21 needs one; what
music21 could not write in an overfull measure moves within it (:class:`_BarLine`). It runs in two passes:
tokens -> per-measure, per-part events; then events -> XML with divisions chosen so every
duration is an integer.
"""

from __future__ import annotations

import functools
import itertools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction

from model.tokenizers.lmx_vocab import (
    ACCIDENTALS,
    ARTICULATIONS,
    BEAM_LEVELS,
    CLEFS,
    DURATION_TYPES,
    ORNAMENTS,
    STEPS,
    TOKEN_SET,
    AccidentalState,
    group_value,
    parse_ratio,
)

_NOTATION_TOKENS = frozenset(["fermata", "arpeggiate"] + ARTICULATIONS + ORNAMENTS)
_RATIOS = frozenset(t for t in TOKEN_SET if "in" in t and t.split("in")[0].isdigit())
_LONGEST = DURATION_TYPES["maxima"]
_PREFIX = frozenset(["print-object:no", "grace", "grace:slash", "chord"])
_BY_LENGTH = sorted(DURATION_TYPES.items(), key=lambda kv: -kv[1])
_PITCHES = frozenset(f"{s}{o}" for o in range(10) for s in STEPS)


@dataclass
class _Note:
    rest: bool
    step: str = ""
    octave: int = 4
    voice: str = "1"
    staff: int = 1
    stem: str | None = None
    own_stem: bool = False
    type: str | None = None
    ratio: str | None = None
    dots: int = 0
    measure_rest: bool = False
    grace: bool = False
    slash: bool = False
    chord: bool = False
    hidden: bool = False
    accidental: str | None = None
    beams: list = field(default_factory=list)
    ties: list = field(default_factory=list)
    tuplets: list = field(default_factory=list)
    slurs: list = field(default_factory=list)
    marks: list = field(default_factory=list)  # fermata, articulations, ornaments, tremolo


@dataclass
class _Event:
    kind: str  # note | backup | forward | key | time | clef | direction | barline
    data: dict = field(default_factory=dict)
    note: _Note | None = None


@dataclass
class _Segment:
    """One part's content in one measure."""

    events: list = field(default_factory=list)
    left: list = field(default_factory=list)
    right: list = field(default_factory=list)
    voice: str = "1"
    stem: str | None = None
    staff: int = 1
    started: bool = False  # a note/backup/forward has been seen


class _Parser:
    def __init__(self) -> None:
        self.measures: list[list[_Segment]] = []
        self.seg: _Segment | None = None
        self.ctx: str | None = None
        self.cur: _Event | None = None
        self.prefix: dict = {}
        self.ending_num = "1"

    def _new_measure(self) -> None:
        self.measures.append([_Segment()])
        self.seg = self.measures[-1][0]

    def _segment(self) -> _Segment:
        if self.seg is None:
            self._new_measure()
        return self.seg

    def _add(self, ev: _Event, ctx: str | None) -> _Event:
        self._segment().events.append(ev)
        self.cur, self.ctx = ev, ctx
        return ev

    def feed(self, tok: str) -> None:
        """Consume one token (any vocabulary token is accepted)."""
        if tok == "<pad>":
            return
        ctx, cur = self.ctx, self.cur
        if ctx == "prefix" and tok not in _PREFIX and tok != "rest" and tok not in _PITCHES:
            self.prefix = {}
        if tok == "measure":
            self._new_measure()
            self.ctx = None
            return
        if tok == "part":
            self._segment()
            self.measures[-1].append(_Segment())
            self.seg = self.measures[-1][-1]
            self.ctx = None
            return
        seg = self._segment()
        if tok.startswith("key:fifths:"):
            self._add(_Event("key", {"fifths": int(tok.rsplit(":", 1)[1])}), None)
        elif tok in ("time", "time:common", "time:cut") or tok.startswith(("beats:", "beat-type:")):
            self._time(seg, tok)
        elif tok in CLEFS:
            self._add(_Event("clef", {"clef": tok, "staff": 1}), "clef")
        elif tok.startswith("staff:"):
            n = int(tok.split(":")[1])
            if ctx == "clef" or ctx in ("direction", "metronome"):
                cur.data["staff"] = n
            else:
                seg.staff = n
                if ctx == "note":
                    cur.note.staff = n
            self.ctx = None if ctx != "note" else "note"
        elif tok in _PREFIX:
            if ctx != "prefix":
                self.prefix = {}
            self.prefix[tok] = True
            self.ctx = "prefix"
        elif tok == "rest" or tok in _PITCHES:
            p = self.prefix
            self.prefix = {}
            note = _Note(rest=tok == "rest", voice=seg.voice, staff=seg.staff, stem=seg.stem,
                         grace=bool(p.get("grace") or p.get("grace:slash")), slash=bool(p.get("grace:slash")),
                         chord=bool(p.get("chord")), hidden=bool(p.get("print-object:no")))
            if tok != "rest":
                note.step, note.octave = tok[0], int(tok[1:])
            seg.started = True
            self._add(_Event("note", note=note), "note")
        elif tok.startswith("voice:"):
            seg.voice = tok.split(":")[1]
            if ctx == "note":
                cur.note.voice = seg.voice
        elif tok.startswith("stem:"):
            seg.stem = tok.split(":")[1]
            if ctx == "note":
                cur.note.stem = seg.stem
                cur.note.own_stem = True
        elif tok in DURATION_TYPES:
            if ctx == "note" and cur.note.type is None and not cur.note.measure_rest:
                cur.note.type = tok
            elif ctx == "dur":
                cur.data["groups"].append([tok, None, 0])
            elif ctx == "metronome" and cur.data.get("unit") is None:
                cur.data["unit"] = tok
        elif tok in _RATIOS:
            if ctx == "note" and cur.note.ratio is None and cur.note.type is not None:
                cur.note.ratio = tok
            elif ctx == "dur" and cur.data["groups"] and cur.data["groups"][-1][1] is None:
                cur.data["groups"][-1][1] = tok
        elif tok == "dot":
            if ctx == "note" and cur.note.type is not None and cur.note.dots < 4:
                cur.note.dots += 1
            elif ctx == "dur" and cur.data["groups"] and cur.data["groups"][-1][2] < 4:
                cur.data["groups"][-1][2] += 1
            elif ctx == "metronome" and cur.data.get("unit") and cur.data.get("dots", 0) < 2:
                cur.data["dots"] = cur.data.get("dots", 0) + 1
        elif tok == "rest:measure":
            if ctx == "note" and cur.note.rest and cur.note.type is None and not cur.note.grace:
                cur.note.measure_rest = True
        elif tok in ACCIDENTALS:
            if ctx == "note" and not cur.note.rest:
                cur.note.accidental = tok
        elif tok.startswith("beam:"):
            if ctx == "note":
                cur.note.beams.append(tok.split(":")[1].replace("-", " "))
        elif tok.startswith(("tied:", "tuplet:", "slur:")):
            if ctx == "note":
                kind, val = tok.split(":")
                {"tied": cur.note.ties, "tuplet": cur.note.tuplets, "slur": cur.note.slurs}[kind].append(val)
        elif tok in _NOTATION_TOKENS or tok.startswith(("tremolo:", "tremolo-marks:")):
            if ctx == "note" and tok not in cur.note.marks:
                cur.note.marks.append(tok)
        elif tok in ("backup", "forward"):
            seg.started = True
            self._add(_Event(tok, {"groups": []}), "dur")
        elif tok.startswith(("dynamics:", "wedge:", "pedal:")):
            self._add(
                _Event("direction", {"kind": tok.split(":")[0], "value": tok.split(":")[1]}), "direction"
            )
        elif tok == "metronome":
            self._add(_Event("direction", {"kind": "metronome"}), "metronome")
        elif tok.startswith("bpm:"):
            if not (ctx == "metronome" and "bpm" not in cur.data):
                cur = self._add(_Event("direction", {"kind": "metronome"}), "metronome")
            cur.data["bpm"] = int(tok.split(":")[1])
        elif tok.startswith(("repeat:", "barline:", "ending:")):
            self._barline(seg, tok)

    def _time(self, seg: _Segment, tok: str) -> None:
        """Time signature tokens; dropped inside a measure (music21 cannot take them there)."""
        if seg.started:
            self.ctx = None
            return
        cur = self.cur
        if tok == "time":
            self._add(_Event("time", {"beats": None, "beat_type": None, "symbol": None}), "time")
        elif tok in ("time:common", "time:cut"):
            if self.ctx == "time":
                cur.data["symbol"] = tok.split(":")[1]
        else:
            name, val = tok.split(":")
            name = "beats" if name == "beats" else "beat_type"
            if not (self.ctx == "time" and cur.data[name] is None):
                cur = self._add(_Event("time", {"beats": None, "beat_type": None, "symbol": None}), "time")
            cur.data[name] = int(val)

    def _barline(self, seg: _Segment, tok: str) -> None:
        kind, val = tok.split(":")
        if kind == "ending" and val.isdigit():  # the number waits for its type
            self.ending_num = val
            self.ctx = "ending"
            return
        if kind == "ending":
            num = self.ending_num if self.ctx == "ending" else "1"
            side = "left" if val == "start" else "right"
            item = {"ending": (num, val)}
        else:
            if kind == "repeat":
                side = "left" if val == "forward" else "right"
            else:
                side = "right" if seg.started else "left"
            item = {kind: val}
        (seg.left if side == "left" else seg.right).append(item)
        self.ctx = None


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


class _PartWriter:
    def __init__(self, segments: list[_Segment | None], divisions: int, staves: int, first: bool):
        self.segments = segments
        self.div = divisions
        self.staves = staves
        self.acc = AccidentalState()
        self.state = {"fifths": None, "time": None, "clefs": {}}
        self.beams_open: dict[str, set] = {}
        self.tuplets_open: list[int] = []
        self.slurs_open: list[int] = []
        self.meterless = True  # no time signature written so far
        # a pedal line or a hairpin started and not stopped
        self.open_lines = {"pedal": False, "wedge": False}

    def measure_len(self) -> Fraction:
        t = self.state["time"]
        return Fraction(4 * t[0], t[1]) if t else Fraction(4)

    def write(self, part: ET.Element) -> None:
        lengths = _measure_lengths(self.segments)
        voices = [_staff_voices(seg, self.staves) for seg in self.segments]
        for i, seg in enumerate(self.segments):
            measure = _sub(part, "measure", number=str(i + 1))
            self.acc.new_measure()
            self.beams_open.clear()
            following = (lengths[i + 1], voices[i + 1]) if i + 1 < len(self.segments) else None
            self._measure(measure, seg or _Segment(), i == 0, voices[i], following)

    def _attrs(self, measure: ET.Element, events: list[_Event], first: bool, header: bool) -> None:
        key = time = None
        clefs: dict[int, str] = {}
        for ev in events:
            if ev.kind == "key":
                key = ev.data["fifths"]
            elif ev.kind == "time":
                d = ev.data
                time = (d["beats"] or 4, d["beat_type"] or 4, d["symbol"])
            elif ev.kind == "clef":
                clefs[min(ev.data["staff"], self.staves)] = ev.data["clef"]
        if header and not first:  # a chunk header re-states what is in force: drop repeats
            key = None if key == self.state["fifths"] else key
            time = None if time == self.state["time"] else time
            clefs = {s: c for s, c in clefs.items() if self.state["clefs"].get(s) != c}
        if not (first or key is not None or time is not None or clefs):
            return
        attrs = _sub(measure, "attributes")
        if first:
            _sub(attrs, "divisions", str(self.div))
        if key is not None:
            _sub(_sub(attrs, "key"), "fifths", str(key))
            self.state["fifths"] = key
            self.acc.fifths = key
        if time is not None:
            el = _sub(attrs, "time", **({"symbol": time[2]} if time[2] else {}))
            _sub(el, "beats", str(time[0]))
            _sub(el, "beat-type", str(time[1]))
            self.state["time"] = time
        elif first and _needs_a_meter(self.segments, self.staves):
            # No time signature, but music21 needs one (see _needs_a_meter): the 4/4 that measure rests
            # assume, not printed
            el = _sub(attrs, "time", print_object="no")
            _sub(el, "beats", "4")
            _sub(el, "beat-type", "4")
            self.meterless = False
        self.meterless = self.meterless and self.state["time"] is None
        if first and self.staves > 1:
            _sub(attrs, "staves", str(self.staves))
        for staff in sorted(clefs):
            sign, line, octave = CLEFS[clefs[staff]]
            el = _sub(attrs, "clef", **({"number": str(staff)} if self.staves > 1 else {}))
            _sub(el, "sign", sign)
            if sign != "percussion":
                _sub(el, "line", line)
            if octave:
                _sub(el, "clef-octave-change", str(octave))
            self.state["clefs"][staff] = clefs[staff]

    def _barline(self, measure: ET.Element, items: list[dict], location: str) -> None:
        if not items:
            return
        bar = _sub(measure, "barline", location=location)
        merged: dict = {}
        for it in items:
            merged.update(it)
        if "barline" in merged:
            _sub(bar, "bar-style", merged["barline"])
        if "ending" in merged:
            num, typ = merged["ending"]
            _sub(bar, "ending", num, number=num, type=typ)
        if "repeat" in merged:
            _sub(bar, "repeat", direction=merged["repeat"])

    def _measure(self, measure: ET.Element, seg: _Segment, first: bool, voices: dict[int, set],
                 following: tuple[Fraction, dict] | None) -> None:
        events = seg.events
        n_header = next(
            (i for i, ev in enumerate(events) if ev.kind not in ("key", "time", "clef")), len(events)
        )
        self._attrs(measure, events[:n_header], first, header=True)
        self._barline(measure, seg.left, "left")
        bar = _BarLine(self.measure_len(), voices, following, self.staves, self.meterless)
        pos = Fraction(0)
        prev_note: _Note | None = None
        pending_attrs: list[_Event] = []
        body = events[n_header:] + [_Event("end")]
        last_note = max((i for i, ev in enumerate(body) if ev.kind == "note"), default=-1)
        for i, ev in enumerate(body):
            if ev.kind == "time":  # music21 cannot take a time signature inside a measure: drop it
                continue
            if ev.kind in ("key", "clef"):
                pending_attrs.append(ev)
                continue
            if pending_attrs:
                staves = {min(e.data["staff"], self.staves) for e in pending_attrs if e.kind == "clef"}
                if any(e.kind == "key" for e in pending_attrs):
                    staves = set(range(1, self.staves + 1))
                at = self._place(measure, bar.marking(staves, pos), pos)
                self._attrs(measure, pending_attrs, False, header=False)
                self._place(measure, pos, at)
                pending_attrs = []
                prev_note = None
            if ev.kind == "note":
                note = ev.note
                can_chord = (prev_note is not None and not prev_note.rest and not note.rest
                             and prev_note.grace == note.grace)
                note.chord = note.chord and can_chord
                value = _note_value(note, bar.length)
                if note.chord:
                    note.voice = prev_note.voice
                else:
                    at, fill_from = bar.place(note, value, pos)
                    if fill_from is not None:
                        pos = self._hidden_rest(measure, note.staff, note.voice, fill_from, at, pos)
                    pos = self._place(measure, at, pos)
                self._note(measure, note, value)
                if not note.chord:
                    pos += value
                prev_note = note
            elif ev.kind in ("backup", "forward"):
                amount = _dur_value(ev)
                if ev.kind == "backup":
                    amount = min(amount, pos)
                elif i > last_note:  # a forward to no note: no further than the bar line or the notes
                    amount = min(amount, max(bar.length, bar.reach) - pos)  # (music21 would fill the way)
                if amount > 0:
                    _sub(_sub(measure, ev.kind), "duration", str(int(amount * self.div)))
                    pos += amount if ev.kind == "forward" else -amount
                prev_note = None
            elif ev.kind == "direction":
                staves = {min(ev.data.get("staff", 1), self.staves)}
                if ev.data["kind"] == "metronome":
                    staves.add(1)  # music21 puts a tempo in the top staff
                at = self._place(measure, bar.marking(staves, pos), pos)
                self._direction(measure, ev.data)
                self._place(measure, pos, at)
                prev_note = None
        for staff, voice, start in bar.holes_at_end():
            pos = self._hidden_rest(measure, staff, voice, start, bar.length, pos)
        self._barline(measure, seg.right, "right")

    def _hidden_rest(self, measure: ET.Element, staff: int, voice: str, start: Fraction, end: Fraction,
                     pos: Fraction) -> Fraction:
        """Write a hidden rest from ``start`` to ``end`` (moving there from ``pos``); return ``end``.

        Its length has no note value (see :class:`_BarLine`): the type is only nominal, and music21 keeps the
        length as it is.
        """
        self._place(measure, start, pos)
        el = _sub(measure, "note", print_object="no")
        _sub(el, "rest")
        _sub(el, "duration", str(int((end - start) * self.div)))
        _sub(el, "voice", voice)
        _sub(el, "type", next((t for t, v in _BY_LENGTH if v <= end - start), "1024th"))
        if self.staves > 1:
            _sub(el, "staff", str(min(staff, self.staves)))
        return end

    def _place(self, measure: ET.Element, new: Fraction, pos: Fraction) -> Fraction:
        """Move the position from ``pos`` to ``new`` (a backup or forward); return ``new``."""
        if new != pos:
            move = _sub(measure, "backup" if new < pos else "forward")
            _sub(move, "duration", str(int(abs(new - pos) * self.div)))
        return new

    def _direction(self, measure: ET.Element, d: dict) -> None:
        kind = d["kind"]
        if kind in self.open_lines:         # lines must pair: notation programs reject a stop nothing started
            stop = d["value"] == "stop"
            if stop != self.open_lines[kind]:
                # a stray stop, or a pedal pressed again while down: nothing to write
                if stop or kind == "pedal":
                    return
                self._direction(measure, {**d, "value": "stop"})   # a new hairpin ends the one before
            self.open_lines[kind] = not stop
        direction = _sub(measure, "direction", placement="below" if kind != "metronome" else "above")
        dt = _sub(direction, "direction-type")
        sound = None
        if kind == "dynamics":
            _sub(_sub(dt, "dynamics"), d["value"])
        elif kind == "wedge":
            _sub(dt, "wedge", type=d["value"])
        elif kind == "pedal":
            _sub(dt, "pedal", type=d["value"], line="yes")
        else:
            unit, bpm = d.get("unit") or "quarter", d.get("bpm") or 120
            met = _sub(dt, "metronome")
            _sub(met, "beat-unit", unit)
            for _ in range(d.get("dots", 0)):
                _sub(met, "beat-unit-dot")
            _sub(met, "per-minute", str(bpm))
            sound = float(bpm * group_value(unit, None, d.get("dots", 0)))
        if self.staves > 1:
            _sub(direction, "staff", str(min(d.get("staff", 1), self.staves)))
        if sound is not None:
            _sub(direction, "sound", tempo=f"{sound:g}")

    def _note(self, measure: ET.Element, n: _Note, value: Fraction) -> None:
        el = _sub(measure, "note", **({"print-object": "no"} if n.hidden else {}))
        if n.grace:
            _sub(el, "grace", **({"slash": "yes"} if n.slash else {}))
        if n.chord:
            _sub(el, "chord")
        staff = min(n.staff, self.staves)
        ties = set(n.ties)
        if n.rest:
            _sub(el, "rest", **({"measure": "yes"} if n.measure_rest else {}))
        else:
            if n.accidental:
                alter = ACCIDENTALS[n.accidental]
            else:
                alter = self.acc.infer(staff, n.step, n.octave, "stop" in ties)
            self.acc.apply(staff, n.step, n.octave, alter, n.accidental is not None,
                           "start" in ties, "stop" in ties)
            p = _sub(el, "pitch")
            _sub(p, "step", n.step)
            if alter:
                _sub(p, "alter", str(alter))
            _sub(p, "octave", str(n.octave))
        if not n.grace:
            _sub(el, "duration", str(int(value * self.div)))
        for t in ("stop", "start"):
            if t in ties:
                _sub(el, "tie", type=t)
        _sub(el, "voice", n.voice)
        ntype = n.type
        if ntype is None and not n.measure_rest:
            ntype = "quarter"
        if ntype:
            _sub(el, "type", ntype)
            for _ in range(n.dots):
                _sub(el, "dot")
        if n.accidental:
            _sub(el, "accidental", n.accidental)
        if n.ratio and ntype:
            a, m = parse_ratio(n.ratio)
            tm = _sub(el, "time-modification")
            _sub(tm, "actual-notes", str(a))
            _sub(tm, "normal-notes", str(m))
        if n.stem and not n.rest and (n.own_stem or DURATION_TYPES.get(ntype or "", 0) < 4):
            _sub(el, "stem", n.stem)
        if self.staves > 1:
            _sub(el, "staff", str(staff))
        self._beams(el, n, ntype)
        self._notations(el, n, ties)

    def _beams(self, el: ET.Element, n: _Note, ntype: str | None) -> None:
        levels = BEAM_LEVELS.get(ntype or "", 0)
        open_ = self.beams_open.setdefault((n.voice, n.grace), set())
        if n.chord or n.rest and not n.beams:
            return
        values = {}
        for i, b in enumerate(n.beams[:levels], 1):
            values[i] = b
        for lvl in sorted(open_):
            if lvl <= levels and lvl not in values:
                values[lvl] = "continue"
        for lvl in sorted(values):
            _sub(el, "beam", values[lvl], number=str(lvl))
            if values[lvl] == "begin":
                open_.add(lvl)
            elif values[lvl] == "end":
                open_.discard(lvl)
        if not levels:
            open_.clear()

    def _notations(self, el: ET.Element, n: _Note, ties: set) -> None:
        items = []
        for t in ("stop", "start"):
            if t in ties:
                items.append(("tied", {"type": t}))
        for s in n.slurs:
            if s == "start":
                num = next((i for i in range(1, 17) if i not in self.slurs_open), 16)
                self.slurs_open.append(num)
            else:
                num = self.slurs_open.pop() if self.slurs_open else 1
            items.append(("slur", {"type": s, "number": str(num)}))
        for t in n.tuplets:
            if t == "start":
                self.tuplets_open.append(len(self.tuplets_open) + 1)
                num = self.tuplets_open[-1]
            else:
                num = self.tuplets_open.pop() if self.tuplets_open else 1
            items.append(("tuplet", {"type": t, "number": str(num)}))
        if not items and not n.marks:
            return
        notations = _sub(el, "notations")
        for tag, attrib in items:
            _sub(notations, tag, **attrib)
        orn = [m for m in n.marks if m in ORNAMENTS or m.startswith("tremolo:")]
        if orn:
            ornaments = _sub(notations, "ornaments")
            marks = next((m.split(":")[1] for m in n.marks if m.startswith("tremolo-marks:")), None)
            for m in orn:
                if m.startswith("tremolo:"):
                    _sub(ornaments, "tremolo", marks or "3", type=m.split(":")[1])
                else:
                    _sub(ornaments, m)
        arts = [m for m in n.marks if m in ARTICULATIONS]
        if arts:
            articulations = _sub(notations, "articulations")
            for m in arts:
                _sub(articulations, m)
        if "fermata" in n.marks:
            _sub(notations, "fermata", type="upright")
        if "arpeggiate" in n.marks:
            _sub(notations, "arpeggiate")


def _open_tuplets_of_128ths(segments: list[_Segment | None]) -> None:
    """Drop the ratio of the notes of a tuplet of 128ths left incomplete in its voice and measure.

    music21 completes such a tuplet by splitting the next note (or the rest it fills the voice with) in two,
    and the pieces have no note value that MusicXML can write.
    """
    for seg in segments:
        runs: dict[tuple[int, str], list[_Note]] = {}  # (staff, voice) -> its notes of one tuplet so far
        for ev in seg.events if seg else []:
            n = ev.note
            if ev.kind != "note" or n.chord or n.grace:
                continue
            key = (n.staff, n.voice)
            run = runs.get(key)
            if run and (run[0].type, run[0].ratio, run[0].dots) != (n.type, n.ratio, n.dots):
                _close_tuplet(runs.pop(key))
            if n.type == "128th" and n.ratio:
                runs.setdefault(key, []).append(n)
        for run in runs.values():
            _close_tuplet(run)


def _close_tuplet(notes: list[_Note]) -> None:
    """Drop the ratio of ``notes`` (one tuplet's, in a row) unless they fill whole tuplets."""
    first = notes[0]
    whole = group_value(first.type, None, first.dots) * parse_ratio(first.ratio)[1]
    if sum(group_value(n.type, n.ratio, n.dots) for n in notes) % whole:
        for n in notes:
            n.ratio = None


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


def _part_layout(segments: list[_Segment | None]) -> tuple[int, int]:
    """Return (divisions, staves) of one part."""
    den = 1
    staves = 1
    for seg, measure_len in zip(segments, _measure_lengths(segments)):
        if seg is None:
            continue
        values = [measure_len]  # the bar line (a forward may go to it)
        for ev in seg.events:
            if ev.kind == "note":
                values.append(_note_value(ev.note, measure_len))
                staves = max(staves, ev.note.staff)
            elif ev.kind in ("backup", "forward"):
                values += [group_value(t, r, d) for t, r, d in ev.data["groups"]]
            elif ev.kind in ("clef", "direction"):
                staves = max(staves, ev.data.get("staff", 1))
        for v in values:
            den = den * v.denominator // math.gcd(den, v.denominator)
    return den, staves


def _no_empty_grace_measures(part: ET.Element, div: int) -> None:
    """A measure of grace notes only (a model can write one) gets a quarter rest after them: grace
    notes need a note to lean on, and readers (music21) fail on a measure that lasts no time."""
    for m in part.findall("measure"):
        notes = m.findall("note")
        if notes and all(n.find("grace") is not None for n in notes) and m.find("forward") is None:
            rest = _sub(m, "note")
            _sub(rest, "rest")
            _sub(rest, "duration", str(div))
            _sub(rest, "voice", "1")
            _sub(rest, "type", "quarter")


def delinearize(tokens: list[str]) -> str:
    """Turn LMX tokens into partwise MusicXML text (forgiving: see the module docstring).

    Args:
        tokens: LMX token strings, all in the vocabulary.

    Returns:
        MusicXML 4.0 text.
    """
    parser = _Parser()
    for tok in tokens:
        parser.feed(tok)
    measures = parser.measures or [[_Segment()]]
    n_parts = max(len(m) for m in measures)
    root = ET.Element("score-partwise", version="4.0")
    part_list = _sub(root, "part-list")
    for p in range(n_parts):
        sp = _sub(part_list, "score-part", id=f"P{p + 1}")
        _sub(sp, "part-name", f"Part {p + 1}")
    for p in range(n_parts):
        segments = [m[p] if p < len(m) else None for m in measures]
        _open_tuplets_of_128ths(segments)
        div, staves = _part_layout(segments)
        part = _sub(root, "part", id=f"P{p + 1}")
        _PartWriter(segments, div, staves, True).write(part)
        _no_empty_grace_measures(part, div)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">\n' + ET.tostring(root, encoding="unicode"))
