"""LMX tokens -> MusicXML text (the delinearizer); the grammar is documented in :mod:`model.tokenizers.lmx`.

Decoding is forgiving: any sequence of vocabulary tokens gives well-formed partwise MusicXML that
music21 reads. Tokens that cannot be placed (a ``dot`` outside a note, a ``chord`` with no note to
join, a ``backup`` longer than the measure so far) are dropped or clipped. It runs in two passes:
tokens -> per-measure, per-part events; then events -> XML with divisions chosen so every
duration is an integer.
"""

from __future__ import annotations

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
            self._add(_Event("direction", {"kind": tok.split(":")[0], "value": tok.split(":")[1]}), "direction")
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
    if value > _LONGEST or (note.ratio and not Fraction(1, 32) <= DURATION_TYPES.get(note.type or "", 0) <= 4):
        # music21 cannot write notes longer than a maxima, nor tuplets of breves or 256ths
        note.ratio, note.dots = None, 0
        value = group_value(note.type or "quarter", None, 0)
    return value


def _dur_value(ev: _Event) -> Fraction:
    return sum((group_value(t, r, d) for t, r, d in ev.data["groups"]), Fraction(0))


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

    def measure_len(self) -> Fraction:
        t = self.state["time"]
        return Fraction(4 * t[0], t[1]) if t else Fraction(4)

    def write(self, part: ET.Element) -> None:
        for i, seg in enumerate(self.segments):
            measure = _sub(part, "measure", number=str(i + 1))
            self.acc.new_measure()
            self.beams_open.clear()
            self._measure(measure, seg or _Segment(), i == 0)

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

    def _measure(self, measure: ET.Element, seg: _Segment, first: bool) -> None:
        events = seg.events
        n_header = next((i for i, ev in enumerate(events) if ev.kind not in ("key", "time", "clef")), len(events))
        self._attrs(measure, events[:n_header], first, header=True)
        self._barline(measure, seg.left, "left")
        pos = Fraction(0)
        prev_note: _Note | None = None
        pending_attrs: list[_Event] = []
        for ev in events[n_header:] + [_Event("end")]:
            if ev.kind == "time":  # music21 cannot take a time signature inside a measure: drop it
                continue
            if ev.kind in ("key", "clef"):
                pending_attrs.append(ev)
                continue
            if pending_attrs:
                self._attrs(measure, pending_attrs, False, header=False)
                pending_attrs = []
                prev_note = None
            if ev.kind == "note":
                note = ev.note
                can_chord = (prev_note is not None and not prev_note.rest and not note.rest
                             and prev_note.grace == note.grace)
                note.chord = note.chord and can_chord
                value = _note_value(note, self.measure_len())
                if note.chord:
                    note.voice = prev_note.voice
                self._note(measure, note, value)
                if not note.chord:
                    pos += value
                prev_note = note
            elif ev.kind in ("backup", "forward"):
                amount = _dur_value(ev)
                if ev.kind == "backup":
                    amount = min(amount, pos)
                if amount > 0:
                    _sub(_sub(measure, ev.kind), "duration", str(int(amount * self.div)))
                    pos += amount if ev.kind == "forward" else -amount
                prev_note = None
            elif ev.kind == "direction":
                self._direction(measure, ev.data)
                prev_note = None
        self._barline(measure, seg.right, "right")

    def _direction(self, measure: ET.Element, d: dict) -> None:
        kind = d["kind"]
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


def _part_layout(segments: list[_Segment | None]) -> tuple[int, int]:
    """Return (divisions, staves) of one part."""
    den = 1
    staves = 1
    measure_len = Fraction(4)
    for seg in segments:
        if seg is None:
            continue
        for ev in seg.events:
            if ev.kind == "time":
                measure_len = Fraction(4 * (ev.data["beats"] or 4), ev.data["beat_type"] or 4)
            values = []
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
        div, staves = _part_layout(segments)
        part = _sub(root, "part", id=f"P{p + 1}")
        _PartWriter(segments, div, staves, True).write(part)
        _no_empty_grace_measures(part, div)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">\n' + ET.tostring(root, encoding="unicode"))
