"""System LMX <-> per-staff "staff symbol" sequences, for a reader that reads one staff at a time (CTC).

A connectionist temporal classification (CTC) reader needs targets that run left to right across
its image. :func:`staff_sequences` rewrites a system's LMX (:mod:`model.tokenizers.lmx`) as one
symbol sequence per printed staff, top to bottom (part 1 staff 1, part 1 staff 2, ..., part 2 staff
1, ...); :func:`assemble` puts the system's LMX back together from such sequences and
:func:`staff_layout` says how many staves each part has.

A staff's sequence, left to right as the eye meets the symbols:

* at a measure start: the clef (``clef:G2``), the key (``key:fifths:N``), the time as one compound
  (``time:3/4``, ``time:common`` = 4/4, ``time:cut`` = 2/2), then the left barline tokens
  (``barline:X``, ``repeat:forward``; endings ``ending:N ending:TYPE`` on a part's top staff only);
* the measure's events in onset order; within one onset: clef/key changes, then directions
  (``dynamics:X``, ``wedge:X``, ``pedal:X``, ``metronome:quarter.:bpm:96``), then grace notes,
  then the notes and rests of the voices in ascending voice number, chord notes next to their head;
* the right barline tokens, and ``measure`` before each following measure.

A note is ``[grace|grace:slash] [chord] [ACCIDENTAL] PITCH|rest`` followed, unless it is a chord
member, by one duration compound (``d:TYPE[:RATIO][.|..]``, e.g. ``d:eighth:3in2``, ``d:half.``,
or ``rest:measure``) and one voice/stem compound (``v1:up``, ``v2:down``, ``v1`` without a stem:
rests, whole notes); then one beam compound (``b:begin,begin``, ``b:end,backward-hook``) and the LMX
note marks unchanged (``tied:start``, ``tuplet:stop``, ``slur:start``, ``staccato``, ``fermata``...).
Chord members take their head's duration, voice and stem. Hidden rests (``print-object:no``),
``backup`` and ``forward`` are not symbols: :func:`assemble` recomputes every voice's onsets from
the symbol order (a voice's note is no earlier than the event before it on the staff), fills the
gaps of a voice (a voice that starts late, a voice shorter than the measure's longest) with hidden
rests, and writes the streams one per (staff, voice) separated by ``backup``, as the linearizer writes
music21's MusicXML. Symbols a reader might emit that make no sense where they stand are skipped, so
:func:`assemble` never raises and its output always delinearizes.

Measured round trip ``assemble(staff_sequences(x), staff_layout(x))`` against ``x`` (micro SER,
:class:`model.metrics.SER`) on 560 excerpts (random 1-4 measure chunks, as in
``model.evaluate.test_examples``) of 110 training-split corpus pieces after ``unit_scores`` and of 40
generated pieces: first version 0.76% (single staff 0.97% on 217 excerpts, grand staff 0.70% on 339).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from model.tokenizers.lmx_vocab import (
    ACCIDENTALS,
    ARTICULATIONS,
    BAR_STYLES,
    BPM_BINS,
    CLEFS,
    DURATION_TYPES,
    DYNAMICS,
    KEYS,
    ORNAMENTS,
    PITCHES,
    TOKEN_SET,
    TREMOLO_MARKS,
    TREMOLOS,
    TUPLET_RATIOS,
    decompose_duration,
    group_value,
)

__all__ = ["SYMBOLS", "SYMBOL_INDEX", "assemble", "ids", "staff_layout", "staff_sequences", "symbols"]

# -- vocabulary ---------------------------------------------------------------------------------------
_DUR_TYPES = ("breve", "whole", "half", "quarter", "eighth", "16th", "32nd", "64th", "128th")
_RATIOS = ("3in2", "2in3", "4in3", "5in4", "6in4", "7in4", "3in4", "5in2", "5in3", "6in5", "7in8", "9in8")
_BEAM_VALUES = ("begin", "continue", "end", "forward-hook", "backward-hook")
_STEMS = ("up", "down", "none")
_MARKS = (["tied:stop", "tied:start", "tuplet:start", "tuplet:stop", "slur:start", "slur:stop", "fermata",
           "arpeggiate"] + ARTICULATIONS + ORNAMENTS + TREMOLOS + TREMOLO_MARKS)
_BARS = ([f"barline:{s}" for s in BAR_STYLES] + ["repeat:forward", "repeat:backward"]
         + [f"ending:{n}" for n in range(1, 5)] + ["ending:start", "ending:stop", "ending:discontinue"])
_DIRECTIONS = ([f"dynamics:{d}" for d in DYNAMICS] + ["wedge:crescendo", "wedge:diminuendo", "wedge:stop",
                                                        "pedal:start", "pedal:stop"])
_NO_STEM = ("whole", "breve", "long", "maxima", "rest:measure")


def _dur_symbol(dur: list[str]) -> str:
    """LMX duration tokens (``TYPE [RATIO] dot*`` or ``rest:measure``) -> one compound symbol."""
    if dur == ["rest:measure"]:
        return "rest:measure"
    ratio = next((t for t in dur[1:] if t != "dot"), None)
    return f"d:{dur[0]}" + (f":{ratio}" if ratio else "") + "." * dur.count("dot")


def _time_symbols() -> list[str]:
    out = ["time:common", "time:cut"]
    out += [f"time:{b}/{t}" for t in (2, 4, 8, 16) for b in range(1, 33)]
    out += [f"time:{b}/{t}" for t in (1, 32, 64) for b in range(1, 17)]
    return out


def _build_symbols() -> tuple[str, ...]:
    v = ["<blank>", "<unk>", "measure"] + list(CLEFS) + list(KEYS) + _time_symbols() + _BARS
    v += ["grace", "grace:slash", "chord", "rest", "rest:measure"] + list(ACCIDENTALS) + PITCHES
    v += [_dur_symbol([t] + ([r] if r else []) + ["dot"] * d)
          for t in _DUR_TYPES for r in (None,) + _RATIOS for d in range(3)]
    v += [f"d:{t}" for t in ("long", "maxima")]
    v += [f"v{n}" + (f":{s}" if s else "") for n in range(1, 17) for s in (None,) + _STEMS]
    heads = _BEAM_VALUES[:3]
    combos = [(a,) for a in _BEAM_VALUES] + list(itertools.product(heads, _BEAM_VALUES))
    combos += list(itertools.product(heads, heads, _BEAM_VALUES))
    combos += list(itertools.product(heads, heads, heads, _BEAM_VALUES))
    v += ["b:" + ",".join(c) for c in combos]
    v += _MARKS + _DIRECTIONS
    v += [f"metronome:{u}{'.' * d}:bpm:{b}" for u in ("half", "quarter", "eighth") for d in range(2)
          for b in BPM_BINS]
    return tuple(v)


#: the fixed staff-symbol vocabulary; index 0 is the CTC blank
SYMBOLS: tuple[str, ...] = _build_symbols()
SYMBOL_INDEX: dict[str, int] = {s: i for i, s in enumerate(SYMBOLS)}
assert len(SYMBOLS) == len(SYMBOL_INDEX), "duplicate staff symbols"
UNK = 1


def ids(seq: list[str]) -> list[int]:
    """Symbols -> indices of :data:`SYMBOLS` (unknown symbols -> ``<unk>``)."""
    return [SYMBOL_INDEX.get(s, UNK) for s in seq]


def symbols(idx: list[int]) -> list[str]:
    """Indices of :data:`SYMBOLS` -> symbols (out of range -> ``<unk>``)."""
    return [SYMBOLS[i] if 0 <= i < len(SYMBOLS) else "<unk>" for i in idx]


# -- LMX -> staff symbols -------------------------------------------------------------------------------
_PITCH_SET = frozenset(PITCHES)
_LMX_RATIOS = frozenset(TUPLET_RATIOS)
_NOTE_PREFIX = ("print-object:no", "grace", "grace:slash", "chord")
_MARK_SET = frozenset(_MARKS)
_BAR_SET = frozenset(_BARS)


@dataclass
class _Note:
    head: str = "rest"
    hidden: bool = False
    grace: bool = False
    slash: bool = False
    chord: bool = False
    voice: int | None = None
    staff: int | None = None
    dur: list = field(default_factory=list)
    acc: str | None = None
    stem: str | None = None
    beams: list = field(default_factory=list)
    marks: list = field(default_factory=list)


def _read_note(toks: list[str], i: int) -> tuple[_Note | None, int]:
    """One LMX note starting at ``toks[i]`` -> (note or None, index after it)."""
    n = _Note()
    while i < len(toks) and toks[i] in _NOTE_PREFIX:
        setattr(n, {"print-object:no": "hidden", "grace:slash": "slash"}.get(toks[i], toks[i]), True)
        i += 1
    if i >= len(toks) or not (toks[i] == "rest" or toks[i] in _PITCH_SET):
        return None, i
    n.head = toks[i]
    i += 1
    while i < len(toks):
        t = toks[i]
        if t.startswith("voice:"):
            n.voice = int(t[6:])
        elif t in DURATION_TYPES:
            if n.dur:
                break
            n.dur = [t]
        elif t in _LMX_RATIOS or t == "dot":
            if n.dur and n.dur[0] != "rest:measure":
                n.dur.append(t)
        elif t == "rest:measure":
            n.dur = [t]
        elif t in ACCIDENTALS:
            n.acc = t
        elif t.startswith("stem:"):
            n.stem = t[5:]
        elif t.startswith("staff:"):
            n.staff = int(t[6:])
        elif t.startswith("beam:"):
            n.beams.append(t[5:])
        elif t in _MARK_SET:
            n.marks.append(t)
        else:
            break
        i += 1
    if n.grace or n.slash:
        n.grace = True
    return n, i


def _amount(toks: list[str], i: int) -> tuple[Fraction, int]:
    """``(TYPE [RATIO] dot*)+`` from ``toks[i]`` -> (quarters, index after it)."""
    total = Fraction(0)
    while i < len(toks) and toks[i] in DURATION_TYPES:
        group = [toks[i]]
        i += 1
        while i < len(toks) and (toks[i] in _LMX_RATIOS or toks[i] == "dot"):
            group.append(toks[i])
            i += 1
        total += _value(group, Fraction(4))
    return total, i


def _value(dur: list[str], measure_len: Fraction) -> Fraction:
    if not dur:
        return Fraction(0)
    if dur[0] == "rest:measure":
        return measure_len
    ratio = next((t for t in dur[1:] if t != "dot"), None)
    return group_value(dur[0], ratio, dur.count("dot"))


def _read_time(toks: list[str], i: int) -> tuple[str | None, Fraction | None, int]:
    """``time beats:N beat-type:N [time:X]`` from ``toks[i]`` -> (symbol, measure length, index after)."""
    beats = beat_type = sym = None
    i += 1
    while i < len(toks) and toks[i].startswith(("beats:", "beat-type:", "time:")):
        name, val = toks[i].split(":")
        if name == "beats":
            beats = int(val)
        elif name == "beat-type":
            beat_type = int(val)
        else:
            sym = val
        i += 1
    if beats is None or beat_type is None:
        return None, None, i
    length = Fraction(4 * beats, beat_type)
    if (sym, beats, beat_type) in (("common", 4, 4), ("cut", 2, 2)):
        return f"time:{sym}", length, i
    return f"time:{beats}/{beat_type}", length, i


def _read_direction(toks: list[str], i: int) -> tuple[str | None, int | None, int]:
    """A direction from ``toks[i]`` -> (symbol or None, its staff, index after)."""
    t = toks[i]
    i += 1
    sym: str | None = t
    if t == "metronome":
        unit, dots, bpm = None, 0, None
        if i < len(toks) and toks[i] in DURATION_TYPES:
            unit, i = toks[i], i + 1
        while i < len(toks) and toks[i] == "dot":
            dots, i = dots + 1, i + 1
        if i < len(toks) and toks[i].startswith("bpm:"):
            bpm, i = toks[i][4:], i + 1
        sym = f"metronome:{unit}{'.' * dots}:bpm:{bpm}"
    elif t.startswith("bpm:"):
        sym = None
    staff = None
    if i < len(toks) and toks[i].startswith("staff:"):
        staff, i = int(toks[i][6:]), i + 1
    return sym, staff, i


@dataclass
class _PartMeasure:
    clefs: dict = field(default_factory=dict)
    key: str | None = None
    time: str | None = None
    left: list = field(default_factory=list)
    right: list = field(default_factory=list)
    items: list = field(default_factory=list)  # (staff or 0 = all, onset, rank, voice, seq, symbols)
    hidden: int = 0


def _note_symbols(n: _Note, stem: str | None) -> list[str]:
    out = ["grace:slash" if n.slash else "grace"] if n.grace else []
    out += (["chord"] if n.chord else []) + ([n.acc] if n.acc and n.head != "rest" else []) + [n.head]
    if not n.chord:
        out.append(_dur_symbol(n.dur) if n.dur else "<unk>")
        if n.stem is None and (n.head == "rest" or not n.dur or n.dur[0] in _NO_STEM):
            stem = None
        out.append(f"v{n.voice}" + (f":{n.stem or stem}" if (n.stem or stem) else ""))
    if n.beams:
        out.append("b:" + ",".join(n.beams))
    return out + n.marks


def _parse_part_measure(toks: list[str], measure_len: Fraction) -> tuple[_PartMeasure, Fraction]:
    """One part's LMX in one measure -> its header, bars and placed symbol groups (and the time)."""
    pm = _PartMeasure()
    t = last = Fraction(0)
    voice, stem, staff, started, i = 1, None, 1, False, 0
    while i < len(toks):
        tk, seq = toks[i], i
        if tk in _NOTE_PREFIX or tk == "rest" or tk in _PITCH_SET:
            n, i = _read_note(toks, i)
            if n is None:
                continue
            started = True
            voice = n.voice = n.voice or voice
            staff = n.staff = n.staff or staff
            syms = _note_symbols(n, stem)
            stem = n.stem or stem
            onset = last if n.chord else t
            if not (n.chord or n.grace):
                last, t = t, t + _value(n.dur, measure_len)
            if n.hidden:
                pm.hidden += 1
            else:
                pm.items.append((staff, onset, 2 if n.grace else 3, voice, seq, syms))
        elif tk in ("backup", "forward"):
            amount, i = _amount(toks, i + 1)
            t = t - amount if tk == "backup" else t + amount
            started = True
        elif tk in CLEFS or tk.startswith("key:fifths:"):
            i += 1
            s = 0
            if tk in CLEFS:
                s = 1
                if i < len(toks) and toks[i].startswith("staff:"):
                    s, i = int(toks[i][6:]), i + 1
            if started:
                pm.items.append((s, t, 0, 0, seq, [tk]))
            elif tk in CLEFS:
                pm.clefs[s] = tk
            else:
                pm.key = tk
        elif tk == "time":
            sym, length, i = _read_time(toks, i)
            if sym and not started:
                pm.time, measure_len = sym, length
        elif tk in _BAR_SET:
            (pm.right if started else pm.left).append(tk)
            i += 1
        elif tk in _DIRECTIONS or tk == "metronome" or tk.startswith("bpm:"):
            sym, s, i = _read_direction(toks, i)
            if sym:
                pm.items.append((s or 1, t, 1, 0, seq, [sym]))
        else:
            i += 1
    return pm, measure_len


def _split(lmx: list[str]) -> list[list[list[str]]]:
    """LMX -> [measure][part] -> tokens."""
    out: list[list[list[str]]] = []
    for tok in lmx:
        if tok == "measure" or not out:
            out.append([[]])
            if tok == "measure":
                continue
        if tok == "part":
            out[-1].append([])
        else:
            out[-1][-1].append(tok)
    return out


def staff_layout(lmx: list[str]) -> list[int]:
    """Staves per part, e.g. ``[2]`` for a grand staff, ``[1, 1]`` for two one-staff parts."""
    layout: list[int] = []
    for parts in _split(lmx):
        for p, toks in enumerate(parts):
            if p >= len(layout):
                layout.append(1)
            n = max((int(t[6:]) for t in toks if t.startswith("staff:")), default=1)
            layout[p] = max(layout[p], min(n, 4))
    return layout or [1]


def _staff_measure(pm: _PartMeasure, staff: int) -> list[str]:
    out = [pm.clefs[staff]] if staff in pm.clefs else []
    out += [x for x in (pm.key, pm.time) if x]
    bars = (lambda toks: toks) if staff == 1 else (lambda toks: [t for t in toks if not t.startswith("ending:")])
    out += bars(pm.left)
    for item in sorted((it for it in pm.items if it[0] in (0, staff)), key=lambda it: it[1:5]):
        out += item[5]
    return out + bars(pm.right)


def staff_sequences(lmx: list[str], stats: Counter | None = None) -> list[list[str]]:
    """One staff-symbol sequence per printed staff, top to bottom (see the module docstring).

    Args:
        lmx: a system's LMX tokens (e.g. a chunk of :func:`~model.tokenizers.lmx.linearize_chunks`).
        stats: if given, counts ``symbols``, ``unk`` (symbols outside :data:`SYMBOLS`, written as
            ``<unk>``), ``unk:<symbol>`` and ``hidden`` (hidden rests left out).
    """
    layout = staff_layout(lmx)
    first = list(itertools.accumulate([0] + layout))
    seqs: list[list[str]] = [[] for _ in range(first[-1])]
    lengths = [Fraction(4)] * len(layout)
    for m, parts in enumerate(_split(lmx)):
        for p in range(len(layout)):
            pm, lengths[p] = _parse_part_measure(parts[p] if p < len(parts) else [], lengths[p])
            if stats is not None:
                stats["hidden"] += pm.hidden
            for s in range(layout[p]):
                seq = seqs[first[p] + s]
                if m:
                    seq.append("measure")
                seq += _staff_measure(pm, s + 1)
    for seq in seqs:
        for k, sym in enumerate(seq):
            if sym not in SYMBOL_INDEX:
                seq[k] = "<unk>"
                if stats is not None:
                    stats["unk"] += 1
                    stats[f"unk:{sym}"] += 1
        if stats is not None:
            stats["symbols"] += len(seq)
    return seqs


# -- staff symbols -> LMX -------------------------------------------------------------------------------
def _dur_table() -> dict[str, list[str]]:
    out = {"rest:measure": ["rest:measure"]}
    for sym in SYMBOLS:
        if sym.startswith("d:"):
            body = sym[2:].rstrip(".")
            parts = body.split(":")
            out[sym] = [parts[0]] + parts[1:] + ["dot"] * (len(sym) - 2 - len(body))
    return out


_DUR_SYMS = _dur_table()
_VOICE_SYMS = {s: (int(s[1:].split(":")[0]), s.split(":")[1] if ":" in s else None)
               for s in SYMBOLS if s[0] == "v" and s[1:2].isdigit()}
_KEY_SET = frozenset(KEYS)
_TIME_SET = frozenset(s for s in SYMBOLS if s.startswith("time:"))
_ATTR_SET = frozenset(CLEFS) | _KEY_SET | _TIME_SET
_DIR_SET = frozenset(_DIRECTIONS) | frozenset(s for s in SYMBOLS if s.startswith("metronome:"))
_BEAM_SET = frozenset(s for s in SYMBOLS if s.startswith("b:"))


@dataclass
class _StaffMeasure:
    clef: str | None = None
    key: str | None = None
    time: str | None = None
    left: list = field(default_factory=list)
    right: list = field(default_factory=list)
    events: list = field(default_factory=list)  # ("note", _Note) | ("attr", symbol) | ("dir", symbol)


def _attach(n: _Note, s: str) -> bool:
    """Give symbol ``s`` to the note just read; False when ``s`` is no note symbol."""
    if s in _DUR_SYMS:
        if not n.dur and not n.chord and (s != "rest:measure" or (n.head == "rest" and not n.grace)):
            n.dur = list(_DUR_SYMS[s])
    elif s in _VOICE_SYMS:
        if n.voice is None and not n.chord:
            n.voice, n.stem = _VOICE_SYMS[s]
    elif s in _BEAM_SET:
        if not n.beams:
            n.beams = s[2:].split(",")
    elif s in _MARK_SET:
        n.marks.append(s)
    else:
        return False
    return True


def _read_staff_measure(syms: list[str]) -> _StaffMeasure:
    """One staff's symbols in one measure -> header, bars and events; nonsense is skipped."""
    sm = _StaffMeasure()
    note: _Note | None = None
    prefix: set = set()
    acc = None
    for s in syms:
        if s == "rest" or s in _PITCH_SET:
            note = _Note(head=s, grace=bool(prefix & {"grace", "grace:slash"}), slash="grace:slash" in prefix,
                         chord="chord" in prefix, acc=acc if s != "rest" else None)
            sm.events.append(("note", note))
            prefix, acc = set(), None
            continue
        if s in ("grace", "grace:slash", "chord"):
            prefix.add(s)
            note = None
            continue
        if s in ACCIDENTALS:
            acc, note = s, None
            continue
        prefix, acc = set(), None
        if note is not None and _attach(note, s):
            continue
        note = None
        if s in _ATTR_SET:
            slot = "clef" if s in CLEFS else "key" if s in _KEY_SET else "time"
            if not sm.events and not sm.left and getattr(sm, slot) is None:
                setattr(sm, slot, s)
            else:
                sm.events.append(("attr", s))
        elif s in _BAR_SET:
            started = any(k == "note" for k, _ in sm.events)
            (sm.right if started else sm.left).append(s)
        elif s in _DIR_SET:
            sm.events.append(("dir", s))
    return sm


def _groups(amount: Fraction) -> list[list[str]]:
    """A duration as LMX groups ``[TYPE, RATIO?, dot*]`` (rounded to a 1/48 grid if need be)."""
    toks = decompose_duration(amount) or decompose_duration(Fraction(round(amount * 48), 48))
    out: list[list[str]] = []
    for t in toks:
        if t in DURATION_TYPES:
            out.append([t])
        elif out:
            out[-1].append(t)
    return out


def _place_staff(sm: _StaffMeasure, staff: int, streams: dict, ends: dict, measure_len: Fraction,
                 first: bool) -> None:
    """Give every event of one staff an onset and a stream (staff, voice); gaps get hidden-rest fills."""
    prev = Fraction(0)
    pending: list = [(-1, "attr", sm.clef)] if sm.clef and staff > 1 and not first else []
    placed: list = []   # directions and clef/key changes: (onset, seq, kind, symbol)
    starts: dict = {}   # onset -> voices with a note starting there, in staff order
    heads: dict = {}
    voice = staff
    for seq, (kind, obj) in enumerate(sm.events):
        if kind != "note":
            pending.append((seq, kind, obj))
            continue
        n: _Note = obj
        if n.chord and (staff, voice) in heads:
            onset, head = heads[(staff, voice)]
            n.voice, n.dur = voice, head.dur
            n.stem = head.stem if head.dur[0] in _NO_STEM else None
        else:
            n.chord = False
            voice = n.voice = n.voice or voice
            stream = streams.setdefault((staff, voice), [])
            if not n.dur:
                n.dur = next((e[3].dur for e in reversed(stream) if e[2] == "note" and e[3].dur != ["rest:measure"]),
                             ["quarter"])
            end = ends.get((staff, voice), Fraction(0))
            onset = max(end, prev)
            if onset > end:
                stream.append((end, seq - 0.5, "fill", onset))
            ends[(staff, voice)] = onset if n.grace else onset + _value(n.dur, measure_len)
            if not n.grace:
                heads[(staff, voice)] = (onset, n)
            prev = onset
            starts.setdefault(onset, []).append(voice)
        n.staff = staff
        placed += [(onset, s, k, o) for s, k, o in pending]
        pending = []
        streams[(staff, voice)].append((onset, seq, "note", n))
    mine = sorted(v for st, v in streams if st == staff)
    if not mine:
        streams[(staff, voice)] = [(Fraction(0), -1, "note", _Note(head="rest", voice=voice, staff=staff,
                                                                     dur=["rest:measure"]))]
        ends[(staff, voice)] = measure_len
        mine = [voice]
    end = max(ends.get((staff, v), Fraction(0)) for v in mine)
    placed += [(end, s, k, o) for s, k, o in pending]
    starts.setdefault(end, []).extend(v for v in mine if ends.get((staff, v)) == end and v not in starts.get(end, []))
    for onset, s, k, o in placed:
        cands = starts.get(onset) or mine
        # pedal marks hang on the bass voice's notes (the last voice), other marks on the first
        v = max(cands) if o.startswith("pedal:") else cands[0]
        streams[(staff, v)].append((onset, s, k, o))


@dataclass
class _State:
    voice: int | None = None
    stem: str | None = None
    staff: int | None = None


def _note_tokens(n: _Note, st: _State, staves: int) -> list[str]:
    out = ["print-object:no"] if n.hidden else []
    out += (["grace"] + (["grace:slash"] if n.slash else [])) if n.grace else []
    out += (["chord"] if n.chord else []) + [n.head]
    if n.voice != st.voice:
        out.append(f"voice:{n.voice}")
        st.voice = n.voice
    out += n.dur
    if n.acc:
        out.append(n.acc)
    if n.stem and (n.stem != st.stem or n.dur[0] in _NO_STEM):
        out.append(f"stem:{n.stem}")
        st.stem = n.stem
    if staves > 1 and n.staff != st.staff:
        out.append(f"staff:{n.staff}")
        st.staff = n.staff
    return out + [f"beam:{b}" for b in n.beams] + n.marks


def _time_tokens(sym: str) -> tuple[list[str], Fraction]:
    if sym in ("time:common", "time:cut"):
        b, t = (4, 4) if sym == "time:common" else (2, 2)
        return ["time", f"beats:{b}", f"beat-type:{t}", sym], Fraction(4 * b, t)
    b, t = (int(x) for x in sym[5:].split("/"))
    return ["time", f"beats:{b}", f"beat-type:{t}"], Fraction(4 * b, t)


def _bar_tokens(syms: list[str]) -> list[str]:
    """Bar symbols in the linearizer's order: barline, ending number and type, repeat."""
    style = next((s for s in syms if s.startswith("barline:")), None)
    num = next((s for s in syms if s.startswith("ending:") and s[7:].isdigit()), None)
    kind = next((s for s in syms if s.startswith("ending:") and not s[7:].isdigit()), None)
    repeat = next((s for s in syms if s.startswith("repeat:")), None)
    ending = [num or "ending:1", kind] if kind else []
    return [s for s in [style] + ending + [repeat] if s]


def _stream_tokens(key: tuple, entries: list, st: _State, staves: int, length: Fraction) -> list[str]:
    staff, voice = key
    out: list[str] = []
    for onset, _, kind, obj in sorted(entries, key=lambda e: (e[0], e[1])):
        if kind == "note":
            out += _note_tokens(obj, st, staves)
        elif kind == "fill":
            for g in _groups(obj - onset):
                out += _note_tokens(_Note(head="rest", hidden=True, voice=voice, staff=staff, dur=g), st, staves)
        elif kind == "dir":
            if obj.startswith("metronome:"):
                _, unit, _, bpm = obj.split(":")
                out += ["metronome", unit.rstrip(".")] + ["dot"] * unit.count(".") + [f"bpm:{bpm}"]
            else:
                out.append(obj)
            out += [f"staff:{staff}"] if staves > 1 else []
        elif obj in CLEFS:
            out += [obj, f"staff:{staff}"]
        elif obj in _KEY_SET and staff == 1:
            out.append(obj)
    return out


def _closes_phrase(streams: dict, top: _StaffMeasure) -> bool:
    """Whether a short measure is filled to the meter (with hidden rests): when it ends a phrase
    (a fermata on a voice's last note, a right barline) or starts after a forward repeat (music21's
    abc tunes); other short measures are pickups."""
    if top.right or "repeat:forward" in top.left:
        return True
    last = [max((e for e in entries if e[2] == "note"), key=lambda e: (e[0], e[1]), default=None)
            for entries in streams.values()]
    return any(e is not None and "fermata" in e[3].marks for e in last)


def _assemble_part(sms: list[_StaffMeasure], length: Fraction, first: bool) -> tuple[list[str], Fraction]:
    """One part's staves in one measure -> LMX tokens (and the measure length in force)."""
    staves = len(sms)
    out = [k for k in (next((sm.key for sm in sms if sm.key), None),) if k]
    time = next((sm.time for sm in sms if sm.time), None)
    if time:
        toks, length = _time_tokens(time)
        out += toks
    for s, sm in enumerate(sms, 1):
        out += [sm.clef, f"staff:{s}"] if sm.clef and (first or s == 1) else []
    out += _bar_tokens(sms[0].left)
    streams: dict = {}
    ends: dict = {}
    for s, sm in enumerate(sms, 1):
        _place_staff(sm, s, streams, ends, length, first)
    total = max(ends.values(), default=Fraction(0))
    if _closes_phrase(streams, sms[0]):
        total = max(total, length)
    st = _State()
    for k, key in enumerate(sorted(streams)):
        if k and total > 0:
            out += ["backup"] + [t for g in _groups(total) for t in g]
        if ends.get(key, Fraction(0)) < total:
            streams[key].append((ends.get(key, Fraction(0)), float("inf"), "fill", total))
        out += _stream_tokens(key, streams[key], st, staves, length)
    return out + _bar_tokens(sms[0].right), length


def _measures_of(seq: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for s in seq:
        if s == "measure":
            out.append([])
        else:
            out[-1].append(s)
    return out


def assemble(sequences: list[list[str]], layout: list[int]) -> list[str]:
    """Staff-symbol sequences (top to bottom) and the staves per part -> the system's LMX tokens.

    Never raises on any list of strings: symbols that are unknown or make no sense where they stand
    are skipped, missing staves and measures are filled with measure rests, and every token written
    is an LMX vocabulary token, so :func:`~model.tokenizers.lmx.delinearize` accepts the result.
    """
    layout = [min(4, max(1, int(n))) for n in layout][:16] or [1]
    seqs = [[s for s in seq if isinstance(s, str)] for seq in sequences][: sum(layout)]
    seqs += [[] for _ in range(sum(layout) - len(seqs))]
    per_staff = [_measures_of(seq) for seq in seqs]
    n_measures = max(len(m) for m in per_staff)
    first = list(itertools.accumulate([0] + layout))
    lengths = [Fraction(4)] * len(layout)
    out: list[str] = []
    for m in range(n_measures):
        out.append("measure")
        for p, staves in enumerate(layout):
            if p:
                out.append("part")
            sms = [_read_staff_measure(per_staff[s][m] if m < len(per_staff[s]) else [])
                   for s in range(first[p], first[p] + staves)]
            toks, lengths[p] = _assemble_part(sms, lengths[p], m == 0)
            out += toks
    return [t for t in out if t in TOKEN_SET]
