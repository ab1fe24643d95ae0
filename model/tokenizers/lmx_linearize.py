"""MusicXML -> LMX tokens (the linearizer); the grammar is documented in :mod:`model.tokenizers.lmx`.

Works on the partwise MusicXML tree (``xml.etree``). Parts are interleaved per measure: each
measure is ``measure`` + part 1's content, then ``part`` + part 2's content, and so on. A chunk
of measures (:func:`linearize_measures`) starts with a full header (key, time, every staff's clef)
so that it can be delinearized on its own.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction

from model.tokenizers.base import TokenizationError
from model.tokenizers.lmx_vocab import (
    ACCIDENTALS,
    ALTER_TO_ACCIDENTAL,
    ARTICULATIONS,
    BAR_STYLES,
    CLEF_LOOKUP,
    DURATION_TYPES,
    DYNAMICS,
    ORNAMENTS,
    TOKEN_SET,
    AccidentalState,
    decompose_duration,
    group_value,
    nearest_bpm,
    ratio_token,
)

_NOTE_START = ("note", "backup", "forward")
_NO_STEM_TYPES = ("whole", "breve", "long", "maxima", "rest:measure")


def _text(el: ET.Element | None, path: str, default: str = "") -> str:
    if el is None:
        return default
    t = el.findtext(path)
    return t.strip() if t else default


def _int(text: str, default: int = 0) -> int:
    try:
        return int(float(text))
    except (TypeError, ValueError):
        return default


def parse_root(source: str | bytes | ET.Element) -> ET.Element:
    """Parse MusicXML text/bytes (or pass an element through) and return ``<score-partwise>``.

    Raises:
        TokenizationError: when the text is not partwise MusicXML.
    """
    if isinstance(source, ET.Element):
        root = source
    else:
        data = source.encode("utf-8") if isinstance(source, str) else source
        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            raise TokenizationError(f"not well-formed MusicXML: {exc}") from exc
    if root.tag == "part":
        wrapper = ET.Element("score-partwise")
        wrapper.append(root)
        return wrapper
    if root.tag != "score-partwise":
        raise TokenizationError(f"expected <score-partwise> MusicXML, got <{root.tag}>")
    return root


@dataclass
class _PartState:
    divisions: int = 1
    fifths: int | None = None
    time: tuple | None = None  # (beats, beat_type, symbol)
    clefs: dict = field(default_factory=dict)  # staff -> clef token
    staves: int = 1
    acc: AccidentalState = field(default_factory=AccidentalState)
    voice_map: dict = field(default_factory=dict)


def _time_tokens(time: tuple) -> list[str]:
    beats, beat_type, symbol = time
    out = ["time", f"beats:{beats}", f"beat-type:{beat_type}"]
    if symbol in ("common", "cut"):
        out.append(f"time:{symbol}")
    return [t for t in out if t in TOKEN_SET]


def _clef_tokens(token: str, staff: int) -> list[str]:
    return [token, f"staff:{staff}"]


def _read_attributes(attrs: ET.Element, st: _PartState) -> list[str]:
    """Update the part state from ``<attributes>`` and return the tokens it stands for."""
    out: list[str] = []
    if attrs.find("divisions") is not None:
        st.divisions = max(1, _int(_text(attrs, "divisions"), 1))
    if attrs.find("staves") is not None:
        st.staves = max(1, _int(_text(attrs, "staves"), 1))
    key = attrs.find("key")
    if key is not None and key.find("fifths") is not None:
        st.fifths = max(-7, min(7, _int(_text(key, "fifths"))))
        st.acc.fifths = st.fifths
        out.append(f"key:fifths:{st.fifths}")
    time = attrs.find("time")
    if time is not None and time.find("beats") is not None:
        beats_text = _text(time, "beats")
        beats = sum(_int(b) for b in re.split(r"[+]", beats_text)) if "+" in beats_text else _int(beats_text)
        st.time = (beats, _int(_text(time, "beat-type"), 4), time.get("symbol"))
        out += _time_tokens(st.time)
    for clef in attrs.findall("clef"):
        staff = _int(clef.get("number", "1"), 1)
        sign = _text(clef, "sign")
        line = _text(clef, "line") or {"G": "2", "F": "4", "C": "3", "percussion": "2", "TAB": "5"}.get(
            sign, ""
        )
        tok = CLEF_LOOKUP.get((sign, line, _int(_text(clef, "clef-octave-change"), 0)))
        if tok is None:
            tok = CLEF_LOOKUP.get((sign, line, 0))
        if tok is not None:
            st.clefs[staff] = tok
            out += _clef_tokens(tok, staff)
    return out


def _header(st: _PartState) -> list[str]:
    out: list[str] = []
    if st.fifths is not None:
        out.append(f"key:fifths:{st.fifths}")
    if st.time is not None:
        out += _time_tokens(st.time)
    for staff in sorted(st.clefs):
        out += _clef_tokens(st.clefs[staff], staff)
    return out


def _barline_tokens(bar: ET.Element) -> list[str]:
    out: list[str] = []
    style = _text(bar, "bar-style")
    if style in BAR_STYLES:
        out.append(f"barline:{style}")
    ending = bar.find("ending")
    if ending is not None:
        nums = re.findall(r"\d+", ending.get("number", "1")) or ["1"]
        num = min(4, max(1, int(nums[0])))
        out += [f"ending:{num}", f"ending:{ending.get('type', 'start')}"]
    repeat = bar.find("repeat")
    if repeat is not None and repeat.get("direction") in ("forward", "backward"):
        out.append(f"repeat:{repeat.get('direction')}")
    return [t for t in out if t in TOKEN_SET]


def _direction_tokens(direction: ET.Element, st: _PartState) -> list[str]:
    out: list[str] = []
    for dt in direction.findall("direction-type"):
        for el in dt:
            if el.tag == "dynamics":
                out += [f"dynamics:{d.tag}" for d in el if d.tag in DYNAMICS]
            elif el.tag == "wedge" and el.get("type") in ("crescendo", "diminuendo", "stop"):
                out.append(f"wedge:{el.get('type')}")
            elif el.tag == "metronome":
                unit = _text(el, "beat-unit")
                bpm = re.findall(r"\d+(?:\.\d+)?", _text(el, "per-minute"))
                if unit in DURATION_TYPES and bpm:
                    out += ["metronome", unit] + ["dot"] * len(el.findall("beat-unit-dot"))
                    out.append(f"bpm:{nearest_bpm(float(bpm[0]))}")
            elif el.tag == "pedal" and el.get("type") in ("start", "stop"):
                out.append(f"pedal:{el.get('type')}")
    if out and st.staves > 1 and direction.find("staff") is not None:
        out.append(f"staff:{min(4, max(1, _int(_text(direction, 'staff'), 1)))}")
    return out


class _MeasureWriter:
    """Linearizes the content of one part's measure."""

    def __init__(self, st: _PartState):
        self.st = st
        self.out: list[str] = []
        self.voice: str | None = None
        self.stem: str | None = None
        self.staff: int | None = None
        self.prev_type: list[str] = ["quarter"]
        self.voices_seen: dict[str, str] = {}
        self.src_pos = Fraction(0)  # position in the MusicXML
        self.tok_pos = Fraction(0)  # position the delinearizer will compute
        self.onsets: dict[Fraction, Fraction] = {Fraction(0): Fraction(0)}

    def _voice_token(self, label: str) -> str:
        if label not in self.voices_seen:
            n = _int(label, 0)
            used = set(self.voices_seen.values())
            if not 1 <= n <= 16 or str(n) in used:
                n = next((i for i in range(1, 17) if str(i) not in used), 16)
            self.voices_seen[label] = str(n)
        return f"voice:{self.voices_seen[label]}"

    def _map(self, src: Fraction) -> Fraction:
        """Token-time position of a source position (they differ when source durations are inexact)."""
        if src in self.onsets:
            return self.onsets[src]
        near = min(self.onsets, key=lambda k: abs(k - src))
        return self.onsets[near] + (src - near)

    def duration_amount(self, tag: str, el: ET.Element) -> None:
        q = Fraction(_int(_text(el, "duration")), self.st.divisions)
        target = self.src_pos - q if tag == "backup" else self.src_pos + q
        tok_target = self._map(target)
        self.src_pos = target
        amount = self.tok_pos - tok_target if tag == "backup" else tok_target - self.tok_pos
        if amount <= 0:
            return
        group = decompose_duration(amount)
        if not group:  # unrepresentable: round to a 1/48-quarter grid
            group = decompose_duration(Fraction(round(amount * 48), 48))
        if group:
            self.out += [tag] + group
            self.tok_pos += amount if tag == "forward" else -amount
            self.onsets.setdefault(self.src_pos, self.tok_pos)

    def _advance(self, note: ET.Element, group: list[str], src_dur: Fraction) -> None:
        if note.find("chord") is not None or note.find("grace") is not None:
            return
        if group == ["rest:measure"]:
            tok_dur = self._measure_length()
        else:
            tok_dur = Fraction(0)
            i = 0
            while i < len(group):
                ratio = group[i + 1] if i + 1 < len(group) and "in" in group[i + 1] else None
                j = i + 1 + (ratio is not None)
                dots = 0
                while j < len(group) and group[j] == "dot":
                    dots, j = dots + 1, j + 1
                tok_dur += group_value(group[i], ratio, dots)
                i = j
        self.src_pos += src_dur
        self.tok_pos += tok_dur
        self.onsets.setdefault(self.src_pos, self.tok_pos)

    def note(self, note: ET.Element) -> None:
        st = self.st
        out = self.out
        if note.get("print-object") == "no":
            out.append("print-object:no")
        grace = note.find("grace")
        if grace is not None:
            out.append("grace")
            if grace.get("slash") == "yes":
                out.append("grace:slash")
        if note.find("chord") is not None:
            out.append("chord")
        rest = note.find("rest")
        pitch = note.find("pitch")
        unpitched = note.find("unpitched")
        step = octave = None
        alter = 0
        if rest is not None or (pitch is None and unpitched is None):
            out.append("rest")
        else:
            if pitch is not None:
                step, octave = _text(pitch, "step"), _int(_text(pitch, "octave"), 4)
                alter = round(float(_text(pitch, "alter", "0") or 0))
            else:
                step = _text(unpitched, "display-step", "B")
                octave = _int(_text(unpitched, "display-octave"), 4)
            octave = max(0, min(9, octave))
            out.append(f"{step}{octave}")
        voice = self._voice_token(_text(note, "voice", "1"))
        if voice != self.voice:
            out.append(voice)
            self.voice = voice
        # rhythm
        dur_q = Fraction(_int(_text(note, "duration")), st.divisions)
        tm = note.find("time-modification")
        ratio = None
        if tm is not None:
            ratio = ratio_token(_int(_text(tm, "actual-notes"), 1), _int(_text(tm, "normal-notes"), 1))
        ntype = _text(note, "type")
        dots = len(note.findall("dot"))
        group: list[str] | None = None
        if rest is not None and rest.get("measure") == "yes" and grace is None \
                and dur_q == self._measure_length():
            group = ["rest:measure"]
        elif ntype in DURATION_TYPES:
            group = [ntype] + ([ratio] if ratio else []) + ["dot"] * dots
            if grace is None and group_value(ntype, ratio, dots) != dur_q:
                alt = decompose_duration(dur_q)
                if alt and sum(1 for t in alt if t in DURATION_TYPES) == 1:
                    group = alt
        elif grace is None:
            measure_q = self._measure_length()
            if rest is not None and (rest.get("measure") == "yes" or note.find("type") is None) \
                    and dur_q == measure_q:
                group = ["rest:measure"]
            else:
                alt = decompose_duration(dur_q)
                if alt and sum(1 for t in alt if t in DURATION_TYPES) == 1:
                    group = alt
                elif rest is not None:
                    group = ["rest:measure"]
        if group is None:
            group = list(self.prev_type)
        out += group
        self._advance(note, group, dur_q)
        self.prev_type = group if group != ["rest:measure"] else self.prev_type
        # ties (needed for the accidental inference)
        tie_types = {t.get("type") for t in note.findall("tie")}
        tie_types |= {t.get("type") for t in note.findall("notations/tied")}
        if "continue" in tie_types:
            tie_types |= {"start", "stop"}
        staff = min(4, max(1, _int(_text(note, "staff", "1"), 1)))
        if step is not None:
            inferred = st.acc.infer(staff, step, octave, "stop" in tie_types)
            src = _text(note, "accidental")
            token = None
            if src in ACCIDENTALS and ACCIDENTALS[src] == alter:
                token = src
            elif (src or inferred != alter) and alter in ALTER_TO_ACCIDENTAL:
                token = ALTER_TO_ACCIDENTAL[alter]
            if token:
                out.append(token)
            st.acc.apply(staff, step, octave, alter, token is not None, "start" in tie_types,
                         "stop" in tie_types)
        stem = _text(note, "stem")
        if stem in ("up", "down", "none") and (stem != self.stem or group[0] in _NO_STEM_TYPES):
            out.append(f"stem:{stem}")
            self.stem = stem
        if st.staves > 1 and staff != self.staff:
            out.append(f"staff:{staff}")
            self.staff = staff
        self._beams(note, group[0])
        for t in ("stop", "start"):
            if t in tie_types:
                out.append(f"tied:{t}")
        for tup in note.findall("notations/tuplet"):
            if tup.get("type") in ("start", "stop"):
                out.append(f"tuplet:{tup.get('type')}")
        self._notations(note)

    def _measure_length(self) -> Fraction:
        if self.st.time is None:
            return Fraction(4)
        beats, beat_type, _ = self.st.time
        return Fraction(4 * beats, max(1, beat_type))

    def _beams(self, note: ET.Element, type_name: str) -> None:
        beams = sorted(note.findall("beam"), key=lambda b: _int(b.get("number", "1"), 1))
        values = [(b.text or "").strip().replace(" ", "-") for b in beams]
        while values and values[-1] == "continue":
            values.pop()
        self.out += [f"beam:{v}" for v in values if f"beam:{v}" in TOKEN_SET]

    def _notations(self, note: ET.Element) -> None:
        notations = note.find("notations")
        if notations is None:
            return
        out = self.out
        for slur in notations.findall("slur"):
            if slur.get("type") in ("start", "stop"):
                out.append(f"slur:{slur.get('type')}")
        if notations.find("fermata") is not None:
            out.append("fermata")
        if notations.find("arpeggiate") is not None:
            out.append("arpeggiate")
        for art in ARTICULATIONS:
            if notations.find(f"articulations/{art}") is not None:
                out.append(art)
        trem = notations.find("ornaments/tremolo")
        if trem is not None:
            kind = trem.get("type", "single")
            if f"tremolo:{kind}" in TOKEN_SET:
                out.append(f"tremolo:{kind}")
                marks = _int(trem.text or "0", 0)
                if 1 <= marks <= 4:
                    out.append(f"tremolo-marks:{marks}")
        for orn in ORNAMENTS:
            if notations.find(f"ornaments/{orn}") is not None:
                out.append(orn)


def _linearize_measure(measure: ET.Element, st: _PartState, chunk_start: bool) -> list[str]:
    st.acc.new_measure()
    elements = list(measure)
    first_content = next((i for i, el in enumerate(elements) if el.tag in _NOTE_START), len(elements))
    w = _MeasureWriter(st)
    header: list[str] = []
    for el in elements[:first_content]:
        if el.tag == "attributes":
            header += _read_attributes(el, st)
    w.out += _header(st) if chunk_start else header
    right_bar: list[str] = []
    for el in elements:
        if el.tag == "barline":
            toks = _barline_tokens(el)
            if el.get("location", "right") == "left":
                w.out += toks
            else:
                right_bar += toks
    for i, el in enumerate(elements):
        if el.tag == "attributes" and i >= first_content:
            w.out += _read_attributes(el, st)
        elif el.tag == "note":
            w.note(el)
        elif el.tag in ("backup", "forward"):
            w.duration_amount(el.tag, el)
        elif el.tag == "direction":
            w.out += _direction_tokens(el, st)
    return w.out + right_bar


def linearize_parts(source: str | bytes | ET.Element, start: int = 0, stop: int | None = None,
                    chunk_starts: frozenset[int] = frozenset()) -> list[list[str]]:
    """Linearize measures ``start..stop-1`` and return one token list per measure (parts joined).

    Args:
        source: MusicXML text/bytes or a parsed element (``<score-partwise>`` or one ``<part>``).
        start: first measure index (0-based, counting ``<measure>`` elements of the first part).
        stop: one past the last measure index (None: to the end).
        chunk_starts: further measure indices that start a chunk (they get a full header too).

    Returns:
        ``[tokens of measure start, tokens of measure start+1, ...]``; each begins with ``measure``.
    """
    root = parse_root(source)
    parts = root.findall("part")
    per_part: list[list[list[str]]] = []
    n_measures = max((len(p.findall("measure")) for p in parts), default=0)
    stop = n_measures if stop is None else min(stop, n_measures)
    for part in parts:
        st = _PartState()
        measures = part.findall("measure")
        toks: list[list[str]] = []
        for i, measure in enumerate(measures[:stop]):
            seq = _linearize_measure(measure, st, chunk_start=(i == start or i in chunk_starts))
            if i >= start:
                toks.append(seq)
        per_part.append(toks)
    out = []
    for m in range(max(0, stop - start)):
        seq = ["measure"]
        for p, toks in enumerate(per_part):
            if p:
                seq.append("part")
            if m < len(toks):
                seq += toks[m]
        out.append(seq)
    return out
