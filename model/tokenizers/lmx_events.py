"""LMX tokens -> per-measure, per-part events: the delinearizer's first pass
(:mod:`model.tokenizers.lmx_delinearize`).

Forgiving: tokens that cannot be placed are dropped or clipped."""

from __future__ import annotations

from dataclasses import dataclass, field

from model.tokenizers.lmx_vocab import (
    ACCIDENTALS,
    ARTICULATIONS,
    CLEFS,
    DURATION_TYPES,
    ORNAMENTS,
    STEPS,
    TOKEN_SET,
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
            self._note(seg, tok)
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
            kind, value = tok.split(":")[:2]
            self._add(_Event("direction", {"kind": kind, "value": value}), "direction")
        elif tok == "metronome":
            self._add(_Event("direction", {"kind": "metronome"}), "metronome")
        elif tok.startswith("bpm:"):
            if not (ctx == "metronome" and "bpm" not in cur.data):
                cur = self._add(_Event("direction", {"kind": "metronome"}), "metronome")
            cur.data["bpm"] = int(tok.split(":")[1])
        elif tok.startswith(("repeat:", "barline:", "ending:")):
            self._barline(seg, tok)

    def _note(self, seg: _Segment, tok: str) -> None:
        """A rest or a pitch starts a note, with the prefix tokens before it (grace, chord, hidden)."""
        p = self.prefix
        self.prefix = {}
        note = _Note(rest=tok == "rest", voice=seg.voice, staff=seg.staff, stem=seg.stem,
                     grace=bool(p.get("grace") or p.get("grace:slash")), slash=bool(p.get("grace:slash")),
                     chord=bool(p.get("chord")), hidden=bool(p.get("print-object:no")))
        if tok != "rest":
            note.step, note.octave = tok[0], int(tok[1:])
        seg.started = True
        self._add(_Event("note", note=note), "note")

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
