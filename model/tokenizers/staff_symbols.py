"""System LMX <-> per-staff "staff symbol" sequences, for a CTC reader that reads one staff at a time.

:func:`staff_sequences` rewrites a system's LMX (:mod:`model.tokenizers.lmx`) as one symbol sequence per
printed staff, top to bottom (part 1 staff 1, part 1 staff 2, ..., part 2 staff 1, ...), monotonic left to
right; :func:`assemble` puts the system's LMX back together (canonical, as the linearizer writes it) and
:func:`staff_layout` gives the staves per part. A staff's sequence, as the eye meets it:

* at a measure start: clef, key (``key:fifths:N``), time as one compound (``time:3/4``, ``time:common`` =
  4/4, ``time:cut`` = 2/2), left bar tokens (endings on a part's top staff only);
* the events in onset order; within one onset: clef/key changes, directions (``dynamics:X``, ``wedge:X``,
  ``pedal:X``, ``metronome:quarter.:bpm:96``), grace notes, then the voices in ascending voice number, chord
  members right after their head; then the right bar tokens; ``measure`` between measures.

A note is ``[grace|grace:slash] [chord] [ACCIDENTAL] PITCH|rest``, then (not for chord members, which copy
their head's) one duration (``d:eighth:3in2``, ``d:half.``, ``rest:measure``) and one voice/stem compound
(``v1:up``, ``v2:down``; ``v1`` for rests and whole notes), then one beam compound (``b:begin,begin``) and
the LMX marks as they are (``tied:start``, ``tuplet:stop``, ``staccato``...). Hidden rests
(``print-object:no``), ``backup`` and ``forward`` are no symbols: :func:`assemble` gives a voice's note the
onset max(voice's time, onset of the event before it on the staff), fills a voice's gaps with hidden rests
(to the meter too where the measure closes a phrase: fermata, right bar, or after a forward repeat; other
short measures are taken for pickups), and writes one stream per (staff, voice) separated by ``backup``. It
skips symbols that make no sense where they stand: it never raises and what it writes delinearizes.

Measured (micro SER of ``assemble(staff_sequences(x), staff_layout(x))`` against ``x``; excerpts are random
1-4 measure chunks as in ``model.evaluate.test_examples``, of training-split corpus pieces after
``unit_scores`` and of ``generate_piece`` pieces): tuning set 560 excerpts (110 pieces + 40 generated) 0.12%
(single staff 0.18% on 217, grand staff 0.10% on 339); held-out set 731 excerpts (150 other pieces + 50
generated) 0.19% (single 0.18% on 229, grand 0.19% on 498). Residual errors: hidden rests the order cannot
imply (0.10% / 0.16% of tokens: a voice that is only a hidden measure rest, short measures filled or not
against the heuristic, a second voice starting late under a longer note), the backup amounts and voice
tokens that follow from them (filling only to the longest voice gave 0.76%). Symbols per staff per measure:
mean 25.4 / 24.2, max 102 / 224; ``<unk>`` 0 of 129,735 symbols. Vocabulary: 1276 symbols.
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


def _build_symbols() -> tuple[str, ...]:
    v = ["<blank>", "<unk>", "measure"] + list(CLEFS) + list(KEYS) + ["time:common", "time:cut"]
    v += [f"time:{b}/{t}" for t in (2, 4, 8, 16, 1, 32, 64) for b in range(1, 33 if t in (2, 4, 8, 16) else 17)]
    v += _BARS
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


def ids(seq: list[str]) -> list[int]:
    """Symbols -> indices of :data:`SYMBOLS` (unknown symbols -> ``<unk>``)."""
    return [SYMBOL_INDEX.get(s, 1) for s in seq]


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
        kind, _, val = t.partition(":")
        if kind in ("voice", "staff"):
            setattr(n, kind, int(val))
        elif kind in ("stem", "beam"):
            n.stem, n.beams = (val, n.beams) if kind == "stem" else (n.stem, n.beams + [val])
        elif (t in DURATION_TYPES and not n.dur) or t == "rest:measure":
            n.dur = [t]
        elif t in _LMX_RATIOS or t == "dot":
            n.dur += [t] if n.dur and n.dur[0] != "rest:measure" else []
        elif t in ACCIDENTALS or t in _MARK_SET:
            n.acc, n.marks = (t, n.marks) if t in ACCIDENTALS else (n.acc, n.marks + [t])
        else:
            break
        i += 1
    n.grace = n.grace or n.slash
    return n, i


def _amount(toks: list[str], i: int) -> tuple[Fraction, int]:
    """``(TYPE [RATIO] dot*)+`` from ``toks[i]`` -> (quarters, index after it)."""
    j = i
    while j < len(toks) and (toks[j] in DURATION_TYPES or toks[j] in _LMX_RATIOS or toks[j] == "dot"):
        j += 1
    starts = [k for k in range(i, j) if toks[k] in DURATION_TYPES] + [j]
    return sum((_value(toks[a:b], Fraction(4)) for a, b in itertools.pairwise(starts)), Fraction(0)), j


def _value(dur: list[str], measure_len: Fraction) -> Fraction:
    if not dur or dur[0] == "rest:measure":
        return measure_len if dur else Fraction(0)
    ratio = next((t for t in dur[1:] if t != "dot"), None)
    return group_value(dur[0], ratio, dur.count("dot"))


def _read_time(toks: list[str], i: int) -> tuple[str | None, Fraction | None, int]:
    """``time beats:N beat-type:N [time:X]`` from ``toks[i]`` -> (symbol, measure length, index after)."""
    got: dict = {}
    i += 1
    while i < len(toks) and toks[i].startswith(("beats:", "beat-type:", "time:")):
        name, val = toks[i].split(":")
        got[name], i = val, i + 1
    if "beats" not in got or "beat-type" not in got:
        return None, None, i
    beats, beat_type, sym = int(got["beats"]), int(got["beat-type"]), got.get("time")
    named = (sym, beats, beat_type) in (("common", 4, 4), ("cut", 2, 2))
    return f"time:{sym}" if named else f"time:{beats}/{beat_type}", Fraction(4 * beats, beat_type), i


def _read_direction(toks: list[str], i: int) -> tuple[str | None, int | None, int]:
    """A direction from ``toks[i]`` -> (symbol or None, its staff, index after)."""
    t = toks[i]
    i += 1
    sym: str | None = None if t.startswith("bpm:") else t
    if t == "metronome":
        j = i
        while j < len(toks) and (toks[j] in DURATION_TYPES or toks[j] == "dot" or toks[j].startswith("bpm:")):
            j += 1
        unit = next((t for t in toks[i:j] if t in DURATION_TYPES), None)
        bpm = next((t[4:] for t in toks[i:j] if t.startswith("bpm:")), None)
        sym, i = f"metronome:{unit}{'.' * toks[i:j].count('dot')}:bpm:{bpm}", j
    staff = None
    if i < len(toks) and toks[i].startswith("staff:"):
        staff, i = int(toks[i][6:]), i + 1
    return sym, staff, i


@dataclass
class _Measure:
    """A part's measure read from LMX, or a staff's read from symbols: header, bars, events."""
    clefs: dict = field(default_factory=dict)   # staff -> clef (a staff's own is staff 0)
    key: str | None = None
    time: str | None = None
    left: list = field(default_factory=list)
    right: list = field(default_factory=list)
    items: list = field(default_factory=list)   # LMX: (staff or 0 = all, onset, rank, voice, seq, symbols);
    hidden: int = 0                             # symbols: ("note", _Note) | ("attr"|"dir", symbol)


def _note_symbols(n: _Note, stem: str | None) -> list[str]:
    out = ["grace:slash" if n.slash else "grace"] if n.grace else []
    out += (["chord"] if n.chord else []) + ([n.acc] if n.acc and n.head != "rest" else []) + [n.head]
    if not n.chord:
        out.append(_dur_symbol(n.dur) if n.dur else "<unk>")
        stem = n.stem or (None if n.head == "rest" or not n.dur or n.dur[0] in _NO_STEM else stem)
        out.append(f"v{n.voice}" + (f":{stem}" if stem else ""))
    if n.beams:
        out.append("b:" + ",".join(n.beams))
    return out + n.marks


def _parse_part_measure(toks: list[str], measure_len: Fraction) -> tuple[_Measure, Fraction]:
    """One part's LMX in one measure -> its header, bars and placed symbol groups (and the time)."""
    pm = _Measure()
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
            pm.hidden += n.hidden
            if not n.hidden:
                pm.items.append((staff, onset, 2 if n.grace else 3, voice, seq, syms))
        elif tk in ("backup", "forward"):
            amount, i = _amount(toks, i + 1)
            t = t - amount if tk == "backup" else t + amount
            started = True
        elif tk in CLEFS or tk.startswith("key:fifths:"):
            i, s = i + 1, int(tk in CLEFS)
            if s and i < len(toks) and toks[i].startswith("staff:"):
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
        if tok == "part":
            out[-1].append([])
        elif tok != "measure":
            out[-1][-1].append(tok)
    return out


def staff_layout(lmx: list[str]) -> list[int]:
    """Staves per part, e.g. ``[2]`` for a grand staff, ``[1, 1]`` for two one-staff parts."""
    layout: list[int] = []
    for parts in _split(lmx):
        for p, toks in enumerate(parts):
            layout += [1] * (p + 1 - len(layout))
            n = max((int(t[6:]) for t in toks if t.startswith("staff:")), default=1)
            layout[p] = max(layout[p], min(n, 4))
    return layout or [1]


def _staff_measure(pm: _Measure, staff: int) -> list[str]:
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
    layout, stats = staff_layout(lmx), Counter() if stats is None else stats
    first = list(itertools.accumulate([0] + layout))
    seqs: list[list[str]] = [[] for _ in range(first[-1])]
    lengths = [Fraction(4)] * len(layout)
    for m, parts in enumerate(_split(lmx)):
        for p in range(len(layout)):
            pm, lengths[p] = _parse_part_measure(parts[p] if p < len(parts) else [], lengths[p])
            stats["hidden"] += pm.hidden
            for s in range(layout[p]):
                seq = seqs[first[p] + s]
                if m:
                    seq.append("measure")
                seq += _staff_measure(pm, s + 1)
    for seq in seqs:
        stats["symbols"] += len(seq)
        for k, sym in enumerate(seq):
            if sym not in SYMBOL_INDEX:
                seq[k] = "<unk>"
                stats.update(["unk", f"unk:{sym}"])
    return seqs


# -- staff symbols -> LMX -------------------------------------------------------------------------------
_DUR_SYMS = {s: s[2:].rstrip(".").split(":") + ["dot"] * (len(s) - len(s.rstrip(".")))
             for s in SYMBOLS if s.startswith("d:")} | {"rest:measure": ["rest:measure"]}
_VOICE_SYMS = {s: (int(s[1:].split(":")[0]), s.split(":")[1] if ":" in s else None)
               for s in SYMBOLS if s[0] == "v" and s[1:2].isdigit()}
_KEY_SET = frozenset(KEYS)
_ATTR_SET = frozenset(CLEFS) | _KEY_SET | frozenset(s for s in SYMBOLS if s.startswith("time:"))
_DIR_SET = frozenset(_DIRECTIONS) | frozenset(s for s in SYMBOLS if s.startswith("metronome:"))
_BEAM_SET = frozenset(s for s in SYMBOLS if s.startswith("b:"))


def _attach(n: _Note, s: str) -> bool:
    """Give symbol ``s`` to the note just read; False when ``s`` is no note symbol."""
    if s in _DUR_SYMS:
        if not n.dur and not n.chord and (s != "rest:measure" or (n.head == "rest" and not n.grace)):
            n.dur = list(_DUR_SYMS[s])
    elif s in _VOICE_SYMS:
        n.voice, n.stem = _VOICE_SYMS[s] if n.voice is None and not n.chord else (n.voice, n.stem)
    elif s in _BEAM_SET:
        n.beams = n.beams or s[2:].split(",")
    elif s in _MARK_SET:
        n.marks.append(s)
    else:
        return False
    return True


def _read_staff_measure(syms: list[str]) -> _Measure:
    """One staff's symbols in one measure -> header, bars and events; nonsense is skipped."""
    sm, note, prefix, acc = _Measure(), None, set(), None
    for s in syms:
        if s == "rest" or s in _PITCH_SET:
            note = _Note(head=s, grace=bool(prefix & {"grace", "grace:slash"}), slash="grace:slash" in prefix,
                         chord="chord" in prefix, acc=acc if s != "rest" else None)
            sm.items.append(("note", note))
            prefix, acc = set(), None
            continue
        if s in ("grace", "grace:slash", "chord") or s in ACCIDENTALS:
            acc, note = s if s in ACCIDENTALS else acc, None
            prefix |= {s} - set(ACCIDENTALS)
            continue
        prefix, acc = set(), None
        if note is not None and _attach(note, s):
            continue
        note = None
        if s in _ATTR_SET:
            slot = "clef" if s in CLEFS else "key" if s in _KEY_SET else "time"
            if not sm.items and not sm.left and (sm.clefs.get(0) if slot == "clef" else getattr(sm, slot)) is None:
                sm.clefs.update({0: s}) if slot == "clef" else setattr(sm, slot, s)
            else:
                sm.items.append(("attr", s))
        elif s in _BAR_SET:
            started = any(k == "note" for k, _ in sm.items)
            (sm.right if started else sm.left).append(s)
        elif s in _DIR_SET:
            sm.items.append(("dir", s))
    return sm


def _groups(amount: Fraction) -> list[list[str]]:
    """A duration as LMX groups ``[TYPE, RATIO?, dot*]`` (rounded to a 1/48 grid if need be)."""
    toks = decompose_duration(amount) or decompose_duration(Fraction(round(amount * 48), 48))
    starts = [k for k, t in enumerate(toks) if t in DURATION_TYPES] + [len(toks)]
    return [toks[a:b] for a, b in itertools.pairwise(starts)]


def _place_staff(sm: _Measure, staff: int, streams: dict, ends: dict, measure_len: Fraction,
                 first: bool, fill: bool = True) -> None:
    """Give every event of one staff an onset and a stream (staff, voice); gaps get hidden-rest fills."""
    prev = Fraction(0)
    pending: list = [(-1, "attr", sm.clefs[0])] if 0 in sm.clefs and staff > 1 and not first else []
    placed: list = []   # directions and clef/key changes: (onset, seq, kind, symbol)
    starts: dict = {}   # onset -> voices with a note starting there, in staff order
    heads: dict = {}
    voice = staff
    for seq, (kind, obj) in enumerate(sm.items):
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
            onset = max(end, prev) if fill in (True, "gaps") else end
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
    if not mine:  # an empty staff: a measure rest
        rest = _Note(head="rest", voice=voice, staff=staff, dur=["rest:measure"])
        streams[(staff, voice)], ends[(staff, voice)], mine = [(Fraction(0), -1, "note", rest)], measure_len, [voice]
    end = max(ends.get((staff, v), Fraction(0)) for v in mine)
    placed += [(end, s, k, o) for s, k, o in pending]
    starts.setdefault(end, []).extend(v for v in mine if ends.get((staff, v)) == end and v not in starts.get(end, []))
    for onset, s, k, o in placed:
        cands = starts.get(onset) or mine
        # pedal marks hang on the bass voice's notes (the last voice), other marks on the first
        v = max(cands) if o.startswith("pedal:") else cands[0]
        streams[(staff, v)].append((onset, s, k, o))


def _note_tokens(n: _Note, st: dict, staves: int) -> list[str]:
    """A note in LMX; ``voice:``, ``stem:`` and ``staff:`` only where they change (state ``st``)."""
    out = ["print-object:no"] * n.hidden + ["grace"] * n.grace + ["grace:slash"] * (n.grace and n.slash)
    out += ["chord"] * n.chord + [n.head] + [f"voice:{n.voice}"] * (n.voice != st["voice"]) + n.dur
    out += [n.acc] if n.acc else []
    out += [f"stem:{n.stem}"] if n.stem and (n.stem != st["stem"] or n.dur[0] in _NO_STEM) else []
    out += [f"staff:{n.staff}"] if staves > 1 and n.staff != st["staff"] else []
    st.update(voice=n.voice, stem=n.stem or st["stem"], staff=n.staff if staves > 1 else None)
    return out + [f"beam:{b}" for b in n.beams] + n.marks


def _time_tokens(sym: str) -> tuple[list[str], Fraction]:
    named = {"time:common": (4, 4), "time:cut": (2, 2)}
    b, t = named.get(sym) or (int(x) for x in sym[5:].split("/"))
    return ["time", f"beats:{b}", f"beat-type:{t}"] + [sym] * (sym in named), Fraction(4 * b, t)


def _bar_tokens(syms: list[str]) -> list[str]:
    """Bar symbols in the linearizer's order: barline, ending number and type, repeat."""
    style, num, kind, repeat = (next((s for s in syms if s.startswith(p) and ok(s[7:])), None) for p, ok in (
        ("barline:", bool), ("ending:", str.isdigit), ("ending:", lambda v: not v.isdigit()), ("repeat:", bool)))
    return [s for s in [style] + ([num or "ending:1", kind] if kind else []) + [repeat] if s]


def _stream_tokens(key: tuple, entries: list, st: dict, staves: int) -> list[str]:
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


def _closes_phrase(streams: dict, top: _Measure) -> bool:
    """Whether a short measure is filled to the meter (with hidden rests): when it ends a phrase
    (a fermata on a voice's last note, a right barline) or starts after a forward repeat (music21's
    abc tunes); other short measures are pickups."""
    if top.right or "repeat:forward" in top.left:
        return True
    last = [max((e for e in entries if e[2] == "note"), key=lambda e: (e[0], e[1]), default=None)
            for entries in streams.values()]
    return any(e is not None and "fermata" in e[3].marks for e in last)


def _assemble_part(sms: list[_Measure], length: Fraction, first: bool,
                   fill: bool = True) -> tuple[list[str], Fraction]:
    """One part's staves in one measure -> LMX tokens (and the measure length in force)."""
    staves = len(sms)
    out = [k for k in (next((sm.key for sm in sms if sm.key), None),) if k]
    time = next((sm.time for sm in sms if sm.time), None)
    if time:
        toks, length = _time_tokens(time)
        out += toks
    for s, sm in enumerate(sms, 1):
        out += [sm.clefs[0], f"staff:{s}"] if 0 in sm.clefs and (first or s == 1) else []
    out += _bar_tokens(sms[0].left)
    streams: dict = {}
    ends: dict = {}   # (staff, voice) -> where the voice's last note ends
    for s, sm in enumerate(sms, 1):
        _place_staff(sm, s, streams, ends, length, first, fill)
    total = max(ends.values(), default=Fraction(0))
    total = max(total, length) if _closes_phrase(streams, sms[0]) else total
    st: dict = {"voice": None, "stem": None, "staff": None}
    for k, key in enumerate(sorted(streams)):
        if k and total > 0:
            out += ["backup"] + [t for g in _groups(total) for t in g]
        if fill in (True, "ends") and ends.get(key, Fraction(0)) < total:
            streams[key].append((ends.get(key, Fraction(0)), float("inf"), "fill", total))
        out += _stream_tokens(key, streams[key], st, staves)
    return out + _bar_tokens(sms[0].right), length


def _measures_of(seq: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for s in seq:
        out.append([]) if s == "measure" else out[-1].append(s)
    return out


def assemble(sequences: list[list[str]], layout: list[int], fill: bool | str = True) -> list[str]:
    """Staff-symbol sequences (top to bottom) and the staves per part -> the system's LMX tokens.

    ``fill``: where hidden rests are written back: True (gaps in a voice, voices short of the measure; exact
    symbols round-trip best so), ``"gaps"``, ``"ends"``, or False: a reader's misread durations would grow
    into fills never on the page (grand staves read by the staff reader: LMX SER 41.4% with, 29.5% without).

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
            sms = [_read_staff_measure(per_staff[s][m] if m < len(per_staff[s]) else [])
                   for s in range(first[p], first[p] + staves)]
            toks, lengths[p] = _assemble_part(sms, lengths[p], m == 0, fill)
            out += ["part"] * (p > 0) + toks
    return [t for t in out if t in TOKEN_SET]
