"""One part's events -> MusicXML measures: the delinearizer's second pass
(:mod:`model.tokenizers.lmx_delinearize`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from model.tokenizers.lmx_bar import (
    _BarLine,
    _dur_value,
    _measure_lengths,
    _needs_a_meter,
    _note_value,
    _staff_voices,
    _sub,
)
from model.tokenizers.lmx_events import _BY_LENGTH, _Event, _Note, _Segment
from model.tokenizers.lmx_vocab import (
    ACCIDENTALS,
    ARTICULATIONS,
    BEAM_LEVELS,
    CLEFS,
    DURATION_TYPES,
    ORNAMENTS,
    AccidentalState,
    group_value,
    parse_ratio,
)


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
