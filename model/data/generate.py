"""Procedurally written piano music (training data, issue 4 item 1).

:func:`generate_piece` writes a short piano piece for a seed: a grand staff (one ``instrument.Piano``
part as two ``stream.PartStaff`` objects in a brace ``layout.StaffGroup``) or, for about 15% of the
seeds, a single-staff melody. Everything is deterministic for a seed (a private ``random.Random``).

How a piece is made:

* A plan of phrases (4 bars, the last one absorbs a remainder). Each phrase has a key (key changes at
  phrase boundaries, sometimes with a double bar), a time signature (time changes at phrase
  boundaries), a texture for each hand, an activity level (slow/medium/fast rhythms), a dynamic, and
  flags for staccato/legato playing.
* A harmonic plan per phrase: a Markov chain over functional harmony (I-IV-V-vi and friends, minor
  keys with a raised leading tone), secondary dominants (V/V, V/vi, V7/IV, ...), the Neapolitan and
  borrowed iv, inversions, and a cadence at the phrase end (authentic on the last phrase, half or
  authentic elsewhere).
* Pitches are kept as ``(diatonic index, alter)`` pairs (diatonic index = octave * 7 + letter), so
  everything is spelled from the key and the chord; the melody puts chord tones on strong beats and
  fills the weak ones with passing and neighbour tones, some of them chromatic.
* Rhythms are chosen cell by cell from the beat units of the meter (simple or compound), so every
  voice of every measure is full by construction (and checked).
* Textures: melody (with ornaments, grace notes, slurs, articulations), melody harmonised in thirds
  and sixths, melody in octaves, two and three voices in one staff (held notes under moving ones),
  block chords, scales and runs (16ths, triplets, quintuplets, sextuplets), arpeggios; in the left
  hand Alberti bass, block chords, broken chords across octaves, octaves, waltz and oom-pah
  accompaniments, a held bass under a moving voice, sustained chords, walking bass, runs; and a
  four-part chorale split across the staves.
* Accidentals are decided here (key signature, earlier accidentals of the bar, ties) including
  cautionary ones in the bar after an alteration; the left hand changes to the treble clef when it
  climbs.

Command line (a quick look and timing)::

    python -m model.data.generate --seed 1 --count 20 [--out DIR] [--measures 8] [--style waltz]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction as F
from typing import Any, Optional

__all__ = ["STYLES", "count_features", "generate_piece"]

STYLES: tuple[str, ...] = ("alberti", "block_chords", "arpeggios", "scales", "polyphonic", "chorale", "waltz",
                           "march", "nocturne", "baroque", "mixed", "melody")

# style=None: about 15% single-staff melodies, the rest spread over the piano styles
_STYLE_WEIGHTS = {"alberti": 9, "block_chords": 7, "arpeggios": 8, "scales": 7, "polyphonic": 8, "chorale": 6,
                  "waltz": 7, "march": 6, "nocturne": 7, "baroque": 6, "mixed": 14, "melody": 15}

_LETTERS = "CDEFGAB"
_SEMI = (0, 2, 4, 5, 7, 9, 11)
_SHARP_ORDER = (3, 0, 4, 1, 5, 2, 6)   # F C G D A E B
_FLAT_ORDER = (6, 2, 5, 1, 4, 0, 3)    # B E A D G C F
_BPM = (40, 44, 48, 52, 56, 60, 63, 66, 69, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112, 116, 120, 126,
        132, 138, 144, 152, 160, 168, 176, 184)
# representable note values (quarter lengths), longest first, for splitting long notes with ties
_VALUES = tuple(F(x) for x in ("6", "4", "3", "2", "3/2", "1", "3/4", "1/2", "3/8", "1/4", "1/8"))


def _dia(name: str) -> int:
    """'C4' -> diatonic index (octave * 7 + letter)."""
    return int(name[1:]) * 7 + _LETTERS.index(name[0])


def _semi(dia: int, alter: int) -> int:
    return 12 * (dia // 7) + _SEMI[dia % 7] + alter


def _wchoice(rng: random.Random, items: dict | list) -> Any:
    """Weighted choice from {item: weight} or [(item, weight)]."""
    pairs = list(items.items()) if isinstance(items, dict) else list(items)
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for item, w in pairs:
        x -= w
        if x < 0:
            return item
    return pairs[-1][0]


# -- keys, meters, chords ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Key:
    fifths: int
    minor: bool

    @property
    def tonic(self) -> int:
        t = (self.fifths * 4) % 7
        return (t + 5) % 7 if self.minor else t

    def sig(self, letter: int) -> int:
        if self.fifths > 0 and letter in _SHARP_ORDER[:self.fifths]:
            return 1
        if self.fifths < 0 and letter in _FLAT_ORDER[:-self.fifths]:
            return -1
        return 0

    def degree(self, dia: int) -> int:
        return (dia - self.tonic) % 7

    def alter(self, dia: int, offs: dict) -> int:
        return self.sig(dia % 7) + offs.get(self.degree(dia), 0)

    def name(self) -> str:
        letter = _LETTERS[self.tonic]
        a = self.sig(self.tonic)
        acc = {1: "-sharp", -1: "-flat"}.get(a, "")
        return f"{letter}{acc} {'minor' if self.minor else 'major'}"


@dataclass(frozen=True)
class _Meter:
    num: int
    den: int
    symbol: str = ""   # "common" / "cut"

    @property
    def bar(self) -> F:
        return F(4 * self.num, self.den)

    @property
    def compound(self) -> bool:
        return self.den == 8 and self.num % 3 == 0

    @property
    def units(self) -> list[F]:
        if self.compound:
            return [F(3, 2)] * (self.num // 3)
        return [F(1)] * int(self.bar)

    def halves(self) -> Optional[list[F]]:
        """Unit counts of the two halves when the bar splits evenly (for two chords a bar)."""
        n = len(self.units)
        return None if n % 2 or n < 2 else [n // 2, n // 2]


_METERS = {"4/4": _Meter(4, 4), "C": _Meter(4, 4, "common"), "3/4": _Meter(3, 4), "2/4": _Meter(2, 4),
           "6/8": _Meter(6, 8), "9/8": _Meter(9, 8), "12/8": _Meter(12, 8), "2/2": _Meter(2, 2, "cut"),
           "3/8": _Meter(3, 8), "5/4": _Meter(5, 4), "3/2": _Meter(3, 2)}


@dataclass(frozen=True)
class _Chord:
    name: str
    root: int
    offs: tuple = ()
    seventh: bool = False
    inv: int = 0

    @property
    def degrees(self) -> tuple:
        n = 4 if self.seventh else 3
        return tuple((self.root + 2 * i) % 7 for i in range(n))

    @property
    def bass(self) -> int:
        return self.degrees[self.inv]

    @property
    def od(self) -> dict:
        return dict(self.offs)

    def is_tone(self, key: _Key, dia: int) -> bool:
        return key.degree(dia) in self.degrees


_MAJOR = {"I": (0, {}), "ii": (1, {}), "iii": (2, {}), "IV": (3, {}), "V": (4, {}), "vi": (5, {}),
          "vii°": (6, {}), "V7": (4, {}, 1), "ii7": (1, {}, 1), "V/V": (1, {3: 1}), "V7/V": (1, {3: 1}, 1),
          "V/vi": (2, {4: 1}), "V7/IV": (0, {6: -1}, 1), "V/ii": (5, {0: 1}), "iv": (3, {5: -1})}
_MINOR = {"i": (0, {}), "ii°": (1, {}), "III": (2, {}), "iv": (3, {}), "V": (4, {6: 1}), "V7": (4, {6: 1}, 1),
          "VI": (5, {}), "VII": (6, {}), "V/iv": (0, {2: 1}), "V/V": (1, {3: 1, 5: 1}), "N6": (1, {1: -1}),
          "vii°7": (6, {6: 1}, 1)}
_MAJOR_T = {"I": {"IV": 3, "V": 3, "vi": 3, "ii": 2, "iii": .7}, "ii": {"V": 5, "V7": 2, "vii°": .4},
            "ii7": {"V": 3, "V7": 2}, "iii": {"vi": 3, "IV": 2}, "IV": {"V": 3, "I": 2, "ii": 1.5, "V7": 1},
            "V": {"I": 4, "vi": 2}, "V7": {"I": 4, "vi": 1}, "vi": {"IV": 3, "ii": 3, "V": 2, "ii7": 1, "iii": .5},
            "vii°": {"I": 1}}
_MINOR_T = {"i": {"iv": 3, "V": 3, "VI": 3, "ii°": 1.5, "III": 1, "VII": 1}, "ii°": {"V": 5, "V7": 2},
            "III": {"VI": 3, "iv": 2}, "iv": {"V": 3, "i": 2, "ii°": 1, "V7": 1}, "V": {"i": 4, "VI": 2},
            "V7": {"i": 4, "VI": 1}, "VI": {"iv": 3, "ii°": 2, "V": 2, "III": .5}, "VII": {"III": 3, "i": 1}}
_SECONDARY_MAJOR = {"V": ("V/V", "V7/V"), "V7": ("V/V", "V7/V"), "vi": ("V/vi",), "IV": ("V7/IV",), "ii": ("V/ii",)}
_SECONDARY_MINOR = {"V": ("V/V", "N6"), "V7": ("V/V", "N6"), "iv": ("V/iv",)}


def _chord(key: _Key, name: str, inv: int = 0) -> _Chord:
    spec = (_MINOR if key.minor else _MAJOR)[name]
    seventh = len(spec) > 2
    if name == "N6":
        inv = 1
    return _Chord(name, spec[0], tuple(sorted(spec[1].items())), seventh, inv)


def _progression(rng: random.Random, key: _Key, n: int, cadence: str, p_sec: float) -> list[_Chord]:
    """Chord names for n slots ending with a cadence ('auth', 'half' or 'none')."""
    tonic = "i" if key.minor else "I"
    trans = _MINOR_T if key.minor else _MAJOR_T
    dom = ("V", "V7")
    seq = [tonic if rng.random() < .85 else _wchoice(rng, trans[tonic])]
    for _ in range(1, n):
        seq.append(_wchoice(rng, trans.get(seq[-1], {tonic: 1})))
    pre = ("iv", "ii°", "VI", "i") if key.minor else ("IV", "ii", "vi", "I", "ii7")
    if n >= 2 and cadence == "auth":
        seq[-1] = tonic
        seq[-2] = rng.choice(dom)
        if n >= 3 and seq[-3] in dom:
            seq[-3] = rng.choice(pre)
    elif n >= 2 and cadence == "half":
        seq[-1] = "V"
        if seq[-2] in dom:
            seq[-2] = rng.choice(pre)
    elif n == 1 and cadence == "auth":
        seq[-1] = tonic
    secondary = _SECONDARY_MINOR if key.minor else _SECONDARY_MAJOR
    last_free = n - 2 if cadence == "auth" else n - 1
    for i in range(1, n - 1):
        if i >= last_free:
            break
        target = seq[i + 1]
        if target in secondary and seq[i] not in dom and rng.random() < p_sec:
            seq[i] = rng.choice(secondary[target])
    if not key.minor:
        seq = [("iv" if s == "IV" and i < n - 1 and rng.random() < p_sec * .3 else s) for i, s in enumerate(seq)]
    out = []
    for i, s in enumerate(seq):
        inv = 1 if (i not in (0, n - 1) and s in ("I", "i", "IV", "iv", "V", "V7", "ii", "VI")
                    and rng.random() < .18) else 0
        out.append(_chord(key, s, inv))
    return out


# -- events -------------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Ev:
    """One note, chord or rest of one voice."""

    ql: F
    pitches: tuple = ()                 # ((dia, alter), ...) low to high; empty = rest
    tup: Optional[tuple] = None         # (actual, normal)
    tie: Optional[str] = None           # start / stop / continue
    arts: list = field(default_factory=list)
    orn: Optional[str] = None
    graces: list = field(default_factory=list)   # [(dia, alter)]
    grace_slash: bool = True
    grace_type: str = "eighth"
    fermata: bool = False
    full_rest: bool = False
    hidden: bool = False
    arpeggio: bool = False
    show: list = field(default_factory=list)     # accidental display per pitch
    paren: list = field(default_factory=list)
    gshow: list = field(default_factory=list)


def _add_tie(ev: _Ev, kind: str) -> None:
    if ev.tie is None or ev.tie == kind:
        ev.tie = kind
    else:
        ev.tie = "continue"


def _split(ql: F) -> list[F]:
    out = []
    rem = F(ql)
    while rem > 0:
        v = next((v for v in _VALUES if v <= rem), None)
        if v is None:
            raise ValueError(f"cannot split {ql}")
        out.append(v)
        rem -= v
    return out


def _held(ql: F, pitches: tuple, **kw) -> list[_Ev]:
    """A note/chord of any length: split into tied representable values."""
    parts = _split(ql)
    evs = [_Ev(p, pitches, **kw) for p in parts]
    if pitches and len(evs) > 1:
        for a, b in zip(evs, evs[1:]):
            _add_tie(a, "start")
            _add_tie(b, "stop")
    return evs


@dataclass
class _Slot:
    bar: int
    off: F
    length: F
    chord: _Chord
    key: _Key


@dataclass
class _Staff:
    bars: list                              # bars[b] = [voice, ...], voice = [_Ev, ...]
    clefs: list = field(default_factory=list)
    dynamics: dict = field(default_factory=dict)   # bar -> [(offset, mark)]
    slurs: list = field(default_factory=list)      # [(ev, ev)]
    wedges: list = field(default_factory=list)     # [(ev, ev, 'cresc'|'dim')]
    pedals: list = field(default_factory=list)     # [(ev, ev)]
    mid_clefs: dict = field(default_factory=dict)  # bar -> (offset, clef)


@dataclass
class _Phrase:
    start: int
    length: int
    key: _Key
    meter: _Meter
    rh: str
    lh: str
    activity: str
    cadence: str
    staccato: bool
    legato: bool
    lh_shift: int
    dynamic: Optional[str]
    final: bool = False
    slots: list = field(default_factory=list)       # [_Slot]


# -- rhythm -------------------------------------------------------------------------------------------
def _c(*spec) -> list:
    """Cell from 'a/b' strings with optional tuplet suffix ':a:n'."""
    out = []
    for s in spec:
        parts = s.split(":")
        tup = (int(parts[1]), int(parts[2])) if len(parts) == 3 else None
        out.append((F(parts[0]), tup))
    return out


_Q = {  # one quarter unit: (cell, weights slow/medium/fast)
    "q": (_c("1"), (5, 3, 1)), "ee": (_c("1/2", "1/2"), (3, 4, 2)), "dot": (_c("3/4", "1/4"), (1.5, 1.5, 1)),
    "ssss": (_c(*["1/4"] * 4), (.2, 1, 5)), "ess": (_c("1/2", "1/4", "1/4"), (.5, 1.2, 1.5)),
    "sse": (_c("1/4", "1/4", "1/2"), (.3, 1.2, 1.5)), "trip": (_c(*["1/3:3:2"] * 3), (.3, .8, 1.5)),
    "quint": (_c(*["1/5:5:4"] * 5), (0, .05, .35)), "sext": (_c(*["1/6:6:4"] * 6), (0, .05, .3)),
}
_Q2 = {  # two quarter units
    "h": (_c("2"), (2, .8, .2)), "dq": (_c("3/2", "1/2"), (1.5, 1, .5)), "syn": (_c("1/2", "1", "1/2"), (.4, .6, .4)),
    "qtrip": (_c(*["2/3:3:2"] * 3), (.2, .3, .2)),
}
_D = {  # one dotted-quarter unit (compound meters)
    "dq": (_c("3/2"), (4, 1.5, .3)), "qe": (_c("1", "1/2"), (4, 3, 1)), "eee": (_c("1/2", "1/2", "1/2"), (2, 4, 3)),
    "sic": (_c("3/4", "1/4", "1/2"), (1.5, 1.5, 1)), "s6": (_c(*["1/4"] * 6), (.1, 1, 4)),
    "esse": (_c("1/2", "1/4", "1/4", "1/2"), (.3, 1, 1.5)), "duo": (_c("3/4:2:3", "3/4:2:3"), (.5, .7, .5)),
    "eq": (_c("1/2", "1"), (.5, .7, .3)),
}
_D2 = {"dh": (_c("3"), (1.5, .5, .1))}
_ACT = {"slow": 0, "medium": 1, "fast": 2}


def _bar_rhythm(rng: random.Random, meter: _Meter, activity: str, end: Optional[str],
                tuplets: bool = True, start_rest: bool = False) -> list[tuple]:
    """One bar of melody rhythm: [(ql, tuplet, is_rest)], summing to the bar."""
    units = meter.units
    a = _ACT[activity]
    n = len(units)
    stop = n
    tail: list[tuple] = []
    if end:
        if end == "final" and (n == 1 or rng.random() < .5):
            e = 0
        else:
            e = max(1, n - rng.choice([1, 2] if n >= 3 else [1]))
        rest_unit = end == "phrase" and e < n - 1 and rng.random() < .4
        long_len = sum(units[e:n - 1] if rest_unit else units[e:], F(0))
        tail = [(v, None, False) for v in _split(long_len)]
        if rest_unit:
            tail.append((units[-1], None, True))
        stop = e
    out: list[tuple] = []
    i = 0
    if start_rest and stop >= 1:   # the line enters after a rest
        if meter.compound:
            out = rng.choice([[(F(1, 2), None, True), (F(1, 2), None, False), (F(1, 2), None, False)],
                              [(F(1), None, True), (F(1, 2), None, False)]])
        else:
            out = rng.choice([[(F(1, 2), None, True), (F(1, 2), None, False)], [(F(1), None, True)],
                              [(F(1, 4), None, True), (F(1, 4), None, False), (F(1, 2), None, False)]])
        i = 1
    while i < stop:
        opts = []
        table, table2 = (_D, _D2) if meter.compound else (_Q, _Q2)
        for name, (cell, w) in table.items():
            if not tuplets and cell[0][1]:
                continue
            opts.append((cell, w[a]))
        if i % 2 == 0 and stop - i >= 2:
            for name, (cell, w) in table2.items():
                if not tuplets and cell[0][1]:
                    continue
                opts.append((cell, w[a]))
        cell = _wchoice(rng, opts)
        out += [(ql, tup, False) for ql, tup in cell]
        i += 2 if sum(q for q, _ in cell) > units[0] else 1
    out += tail
    # a rare rest in place of a weak note
    if activity != "fast" and len(out) > 2 and rng.random() < .12:
        j = rng.randrange(1, len(out))
        ql, tup, _ = out[j]
        if tup is None and ql <= 1:
            out[j] = (ql, tup, True)
    return out


# -- melody -------------------------------------------------------------------------------------------
def _chord_at(slots: list[_Slot], bar: int, off: F) -> _Slot:
    best = None
    for s in slots:
        if s.bar == bar and s.off <= off:
            best = s
        elif best is not None and (s.bar > bar or s.off > off):
            break
    if best is None:
        best = next(s for s in slots if s.bar >= bar)
    return best


def _tones(key: _Key, chord: _Chord, lo: int, hi: int) -> list[int]:
    return [d for d in range(lo, hi + 1) if chord.is_tone(key, d)]


def _tones_above(key: _Key, chord: _Chord, start: int, count: int) -> list[int]:
    out, d = [], start
    while len(out) < count:
        if chord.is_tone(key, d):
            out.append(d)
        d += 1
    return out


def _pitch(key: _Key, chord: _Chord, dia: int) -> tuple:
    return (dia, key.alter(dia, chord.od))


def _pick_target(rng, key, chord, prev, lo, hi, bias, degrees=None) -> int:
    cands = _tones(key, chord, lo, hi)
    if degrees:
        c2 = [d for d in cands if key.degree(d) in degrees]
        cands = c2 or cands
    if not cands:
        return max(lo, min(hi, prev))
    ws = []
    for d in cands:
        dist = d - prev
        w = math.exp(-abs(dist) / 1.6) * (0.45 if dist == 0 else 1.0)
        if dist * bias > 0:
            w *= 1.8
        ws.append((d, w))
    return _wchoice(rng, ws)


def _melody(rng: random.Random, ph: _Phrase, meterless_bars: list[list[tuple]], prev: int, lo: int, hi: int,
            p_chrom: float) -> tuple[list[list[_Ev]], int]:
    """Pitches for a phrase's rhythms: chord tones on strong notes, passing/neighbour tones between."""
    items = []  # (bar, off, ql, tup, rest, strong)
    unit = ph.meter.units[0]
    for bi, rhythm in enumerate(meterless_bars):
        off = F(0)
        for ql, tup, rest in rhythm:
            strong = (off % unit == 0) and (tup is None or off % unit == 0)
            items.append((ph.start + bi, off, ql, tup, rest, strong or ql >= unit))
            off += ql
    notes = [i for i, it in enumerate(items) if not it[4]]
    dias: dict[int, int] = {}
    strong_idx = [i for i in notes if items[i][5]]
    if not strong_idx and notes:
        strong_idx = [notes[0]]
    n_strong = len(strong_idx)
    cur = prev
    for k, i in enumerate(strong_idx):
        bar, off = items[i][0], items[i][1]
        slot = _chord_at(ph.slots, bar, off)
        frac = k / max(1, n_strong - 1)
        bias = 1 if frac < .5 else -1
        if cur > hi - 3:
            bias = -1
        elif cur < lo + 3:
            bias = 1
        degrees = None
        if k == n_strong - 1 and ph.cadence == "auth":
            degrees = (0,) if rng.random() < .7 else (0, 2)
        elif k == n_strong - 1 and ph.cadence == "half":
            degrees = (4, 1, 6)
        cur = _pick_target(rng, slot.key, slot.chord, cur, lo, hi, bias, degrees)
        dias[i] = cur
    # weak notes between targets
    cur = prev
    last_target_pos = -1
    order = notes
    targets = [i for i in order if i in dias]
    ti = 0
    prev_dia = prev
    for pos, i in enumerate(order):
        if i in dias:
            prev_dia = dias[i]
            ti += 1
            continue
        nxt = targets[ti] if ti < len(targets) else None
        if nxt is None:
            step = rng.choice([-1, 1])
            d = prev_dia + step
        else:
            remaining = sum(1 for j in order[pos:] if j < nxt) + 1
            dist = dias[nxt] - prev_dia
            if dist == 0:
                d = prev_dia + rng.choice([-1, 1])
            elif abs(dist) > remaining:
                d = prev_dia + int(math.copysign(math.ceil(abs(dist) / remaining), dist))
            elif abs(dist) + 2 <= remaining and rng.random() < .3:
                d = prev_dia - int(math.copysign(1, dist))
            else:
                d = prev_dia + int(math.copysign(1, dist))
        d = max(lo - 2, min(hi + 2, d))
        dias[i] = d
        prev_dia = d
    bars: list[list[_Ev]] = [[] for _ in meterless_bars]
    ordered = list(range(len(items)))
    for idx in ordered:
        bar, off, ql, tup, rest, strong = items[idx]
        if rest:
            bars[bar - ph.start].append(_Ev(ql, (), tup))
            continue
        slot = _chord_at(ph.slots, bar, off)
        d = dias[idx]
        p = _pitch(slot.key, slot.chord, d)
        if slot.key.minor and slot.key.degree(d) == 6:   # melodic minor: raised 7th leading up
            nxt = next((dias[j] for j in range(idx + 1, len(items)) if j in dias), None)
            if nxt == d + 1:
                p = (d, slot.key.sig(d % 7) + 1)
        bars[bar - ph.start].append(_Ev(ql, (p,), tup))
    # chromatic lower/upper neighbours before strong notes
    flat = [e for b in bars for e in b]
    for a, b in zip(flat, flat[1:]):
        if not a.pitches or not b.pitches or a.tup or a.ql > 1 or rng.random() >= p_chrom:
            continue
        (da, aa), (db, ab) = a.pitches[0], b.pitches[0]
        gap = _semi(db, ab) - _semi(da, aa)
        if db == da + 1 and gap == 2:
            a.pitches = ((da, aa + 1),)
        elif db == da - 1 and gap == -2 and rng.random() < .3:
            a.pitches = ((da, aa - 1),)
    last = next((e.pitches[0][0] for e in reversed(flat) if e.pitches), prev)
    return bars, last


# -- decoration ---------------------------------------------------------------------------------------
def _decorate(rng: random.Random, ph: _Phrase, bars: list[list[_Ev]], staff: _Staff, style: dict,
              lo: int) -> None:
    """Ornaments, grace notes, articulations and slurs on a single melodic line."""
    p_orn = style.get("ornaments", .04)
    p_grace = style.get("graces", .04)
    unit = ph.meter.units[0]
    multi = ph.rh in ("two_voices", "three_voices")
    for bi, bar in enumerate(bars):
        off = F(0)
        for i, ev in enumerate(bar):
            strong = off % unit == 0
            onset = off
            off += ev.ql
            if not ev.pitches or ev.tie in ("stop", "continue") or ev.tup:
                continue
            dia, alt = ev.pitches[-1]
            r = rng.random()
            if ev.ql >= 1 and r < p_orn:
                ev.orn = "trill"
            elif ev.ql >= F(1, 2) and strong and r < p_orn * 2:
                ev.orn = rng.choice(["mordent", "inverted-mordent", "inverted-mordent", "turn"])
            elif rng.random() < p_grace:
                key = ph.key
                if rng.random() < .75:
                    g = dia + (1 if rng.random() < .6 else -1)
                    ev.graces = [(g, key.sig(g % 7))]
                    ev.grace_type = rng.choice(["eighth", "eighth", "16th"])
                    ev.grace_slash = rng.random() < .8
                else:
                    ev.graces = [(dia - 2, key.sig((dia - 2) % 7)), (dia - 1, key.sig((dia - 1) % 7))]
                    ev.grace_type = "16th"
                    ev.grace_slash = False
            if ph.staccato and ev.ql <= F(1, 2) and rng.random() < .7:
                ev.arts.append("staccato")
            elif strong and rng.random() < style.get("accents", .04):
                ev.arts.append(rng.choice(["accent", "accent", "accent", "strong-accent"]))
                if not multi and onset > 0 and rng.random() < .3:
                    staff.dynamics.setdefault(ph.start + bi, []).append((onset, rng.choice(["sf", "sfz", "fp"])))
            elif ev.ql >= 1 and rng.random() < .03:
                ev.arts.append("tenuto")
    if ph.legato or (not ph.staccato and rng.random() < .5):
        for bar in bars:
            run: list[_Ev] = []
            for ev in bar + [None]:
                if ev is not None and ev.pitches:
                    run.append(ev)
                    continue
                if len(run) >= 2 and rng.random() < .7:
                    if len(run) > 4 and rng.random() < .5:
                        cut = rng.randrange(2, len(run) - 1)
                        staff.slurs += [(run[0], run[cut - 1]), (run[cut], run[-1])]
                    else:
                        staff.slurs.append((run[0], run[-1]))
                run = []
    elif ph.staccato:
        for bar in bars:
            for a, b in zip(bar, bar[1:]):
                if a.pitches and b.pitches and a.ql < 1 and "staccato" in b.arts and "staccato" not in a.arts \
                        and rng.random() < .15:
                    staff.slurs.append((a, b))


def _harmonise(rng: random.Random, ph: _Phrase, bars: list[list[_Ev]], mode: str, floor: int) -> None:
    """Add chord tones under melody notes (thirds/sixths/full chords) or octaves."""
    for bi, bar in enumerate(bars):
        off = F(0)
        for ev in bar:
            o = off
            off += ev.ql
            if not ev.pitches or ev.tup or ev.tie or ev.ql < F(1, 2):
                continue
            dia, alt = ev.pitches[-1]
            slot = _chord_at(ph.slots, ph.start + bi, o)
            if mode == "octaves":
                if dia - 7 >= floor:
                    ev.pitches = (_octave(dia - 7, dia, alt),) + ev.pitches
                continue
            if rng.random() > (.8 if ev.ql >= 1 else .45):
                continue
            if not slot.chord.is_tone(slot.key, dia):
                continue
            below = [d for d in _tones(slot.key, slot.chord, max(floor, dia - 7), dia - 2)]
            if not below:
                continue
            k = 1 if (ev.ql < 1 or rng.random() < .5) else 2
            chosen = sorted(below[-k:]) if rng.random() < .6 else sorted(rng.sample(below, min(k, len(below))))
            ev.pitches = tuple(_pitch(slot.key, slot.chord, d) for d in chosen) + ev.pitches


def _octave(d: int, top: int, alt: int) -> tuple:
    return (d, alt)


# -- right-hand textures ------------------------------------------------------------------------------
def _rh_runs(rng: random.Random, ph: _Phrase, prev: int, lo: int, hi: int) -> tuple[list[list[_Ev]], int]:
    """Scales and arpeggio runs: 16ths (or triplets / sextuplets / quintuplets per beat)."""
    bars = []
    cur = prev
    direction = 1 if cur < (lo + hi) // 2 else -1
    for bi in range(ph.length):
        b = ph.start + bi
        meter = ph.meter
        evs: list[_Ev] = []
        last_bar = bi == ph.length - 1
        off = F(0)
        for ui, u in enumerate(meter.units):
            slot = _chord_at(ph.slots, b, off)
            if last_bar and ui >= len(meter.units) - (1 if len(meter.units) < 3 else 2):
                # end of the phrase: a chord tone held to the bar end
                rest = meter.bar - off
                t = _pick_target(rng, slot.key, slot.chord, cur, lo, hi, 0,
                                 (0,) if ph.cadence == "auth" else None)
                evs += _held(rest, (_pitch(slot.key, slot.chord, t),))
                cur = t
                break
            if meter.compound:
                kind = _wchoice(rng, {"s": 5, "e": 2, "duo": .3})
                vals = {"s": [(F(1, 4), None)] * 6, "e": [(F(1, 2), None)] * 3,
                        "duo": [(F(3, 4), (2, 3))] * 2}[kind]
            else:
                kind = _wchoice(rng, {"s": 6, "t": 1.5, "x": .6, "q": .5, "e": 1})
                vals = {"s": [(F(1, 4), None)] * 4, "t": [(F(1, 3), (3, 2))] * 3, "x": [(F(1, 6), (6, 4))] * 6,
                        "q": [(F(1, 5), (5, 4))] * 5, "e": [(F(1, 2), None)] * 2}[kind]
                vals = vals * int(u)
            arpeggio = rng.random() < .3
            for j, (ql, tup) in enumerate(vals):
                if j == 0 and not slot.chord.is_tone(slot.key, cur):
                    cur += 1 if direction > 0 else -1
                    if not slot.chord.is_tone(slot.key, cur):
                        cur = _pick_target(rng, slot.key, slot.chord, cur, lo, hi, direction)
                elif j > 0:
                    if arpeggio:
                        nxt = [d for d in _tones(slot.key, slot.chord, lo - 3, hi + 3) if (d - cur) * direction > 0]
                        cur = (min(nxt) if direction > 0 else max(nxt)) if nxt else cur - direction
                    else:
                        cur += direction
                if cur >= hi + 2:
                    direction = -1
                elif cur <= lo - 2:
                    direction = 1
                evs.append(_Ev(ql, (_pitch(slot.key, slot.chord, cur),), tup))
            off += u
            if rng.random() < .35:
                direction = -direction
        bars.append(evs)
    return bars, cur


def _rh_chords(rng: random.Random, ph: _Phrase, prev: int, lo: int, hi: int, style: dict) -> tuple[list, int]:
    """Block chords in the right hand: a slow top line, 3-4 note chords under it."""
    rhythms = [_bar_rhythm(rng, ph.meter, "slow", _end(ph, bi), tuplets=False) for bi in range(ph.length)]
    bars, last = _melody(rng, ph, rhythms, prev, lo + 4, hi, 0)
    for bi, bar in enumerate(bars):
        off = F(0)
        for ev in bar:
            o = off
            off += ev.ql
            if not ev.pitches:
                continue
            slot = _chord_at(ph.slots, ph.start + bi, o)
            top = ev.pitches[-1][0]
            if not slot.chord.is_tone(slot.key, top):
                continue
            n = rng.choice([2, 3, 3]) if ev.ql >= F(1, 2) else 1
            below = _tones(slot.key, slot.chord, top - 7, top - 1)[-n:]
            ev.pitches = tuple(_pitch(slot.key, slot.chord, d) for d in below) + ev.pitches
    # repeated chords keep ties consistent: tied notes must have the same pitches
    flat = [e for b in bars for e in b]
    for a, b in zip(flat, flat[1:]):
        if a.tie in ("start", "continue") and b.pitches:
            b.pitches = a.pitches
    return bars, last


def _rh_arpeggio(rng: random.Random, ph: _Phrase, lo: int, hi: int) -> list[list[_Ev]]:
    bars = []
    for bi in range(ph.length):
        b = ph.start + bi
        evs: list[_Ev] = []
        off = F(0)
        last_bar = bi == ph.length - 1
        compound = ph.meter.compound
        triplets = not compound and rng.random() < .35
        for ui, u in enumerate(ph.meter.units):
            slot = _chord_at(ph.slots, b, off)
            if last_bar and ui == len(ph.meter.units) - 1 and ui > 0:
                top = _tones_above(slot.key, slot.chord, lo, 3)
                evs += _held(u, tuple(_pitch(slot.key, slot.chord, d) for d in top))
                off += u
                continue
            start = _tones_above(slot.key, slot.chord, lo + rng.randrange(0, 3), 1)[0]
            if compound:
                n, ql, tup = 6, F(1, 4), None
            elif triplets:
                n, ql, tup = 3 * int(u), F(1, 3), (3, 2)
            else:
                n, ql, tup = 4 * int(u), F(1, 4), None
            seq = _tones_above(slot.key, slot.chord, start, n)
            if rng.random() < .4:   # up and down
                half = (n + 1) // 2
                seq = seq[:half] + seq[:half][::-1][1:n - half + 1]
                seq = (seq + seq)[:n]
            seq = [d for d in seq]
            seq = [d if d <= hi + 3 else d - 7 for d in seq]
            evs += [_Ev(ql, (_pitch(slot.key, slot.chord, d),), tup) for d in seq]
            off += u
        bars.append(evs)
    return bars


def _lower_voice(rng: random.Random, ph: _Phrase, upper: list[list[_Ev]], floor: int, gap: int,
                 held: bool, p_hide: float = 0.0) -> list[list[_Ev]]:
    """A voice under ``upper``: per chord slot a held chord tone (or two halves), below the upper voice.

    With ``p_hide`` a slot is an invisible rest instead (the voice comes and goes, as in real scores).
    """
    bars = []
    for bi, ubar in enumerate(upper):
        b = ph.start + bi
        slots = [s for s in ph.slots if s.bar == b]
        evs: list[_Ev] = []
        for s in slots:
            # lowest pitch of the upper voice during the slot
            off, mins = F(0), []
            for ev in ubar:
                if s.off <= off < s.off + s.length or (off < s.off < off + ev.ql):
                    mins += [p[0] for p in ev.pitches]
                off += ev.ql
            ceiling = (min(mins) if mins else floor + 9) - gap
            cands = _tones(s.key, s.chord, floor, ceiling)
            if not cands or rng.random() < p_hide:
                evs += [_Ev(v, hidden=bool(cands)) for v in _split(s.length)]
                continue
            parts = [s.length]
            if not held and s.length >= 2 and s.length % 2 == 0:
                parts = [s.length / 2] * 2
            elif not held and s.length == 3:
                parts = [F(2), F(1)] if rng.random() < .5 else [F(1)] * 3
            for pl in parts:
                d = rng.choice(cands[-3:])
                evs += _held(pl, (_pitch(s.key, s.chord, d),))
        bars.append(evs)
    return bars


def _end(ph: _Phrase, bi: int) -> Optional[str]:
    if bi != ph.length - 1:
        return None
    return "final" if ph.cadence == "auth" and ph.final else "phrase"


# -- left-hand textures -------------------------------------------------------------------------------
def _bass_dia(key: _Key, chord: _Chord, lo: int, hi: int, prev: Optional[int]) -> int:
    cands = [d for d in range(lo, hi + 1) if key.degree(d) == chord.bass]
    if prev is None:
        return cands[len(cands) // 2]
    return min(cands, key=lambda d: (abs(d - prev), d))


def _lh_slot(rng: random.Random, kind: str, s: _Slot, meter: _Meter, lo: int, prev: Optional[int],
             nxt: Optional[_Slot], fast: bool, staccato: bool, last: bool) -> tuple[list, int]:
    """Left-hand events for one chord slot; returns (voices, bass dia). voices: one list or two (held bass)."""
    key, ch, L = s.key, s.chord, s.length
    P = lambda d: _pitch(key, ch, d)  # noqa: E731
    unit = meter.units[0]
    bass = _bass_dia(key, ch, lo, lo + 7, prev)
    if last:
        pitches = [bass] + _tones_above(key, ch, bass + 2, 2)
        if rng.random() < .4 and bass - 7 >= lo - 4:
            pitches = [bass - 7, bass]
        return [_held(L, tuple(P(d) for d in pitches))], bass
    if kind == "alberti":
        tri = _tones_above(key, ch, max(bass, lo + 5), 3)
        if rng.random() < .25:
            tri = [bass] + _tones_above(key, ch, bass + 3, 2)
        step = F(1, 4) if fast and not meter.compound and L <= 2 else F(1, 2)
        pat = [0, 2, 1, 2, 1, 2] if meter.compound else [0, 2, 1, 2]
        n = int(L / step)
        return [[_Ev(step, (P(tri[pat[i % len(pat)]]),)) for i in range(n)]], tri[0]
    if kind in ("broken", "arp"):
        seq = [bass] + _tones_above(key, ch, bass + 3, 4)
        if meter.compound:
            step, tup, n = F(1, 2), None, int(L * 2)
            if fast and rng.random() < .5:
                step, n = F(1, 4), int(L * 4)
        else:
            choice = _wchoice(rng, {"e": 3, "t": 2 if int(L) == L else 0, "s": 1 if fast else .2})
            step, tup = {"e": (F(1, 2), None), "t": (F(1, 3), (3, 2)), "s": (F(1, 4), None)}[choice]
            n = int(L / step)
        order = list(range(len(seq))) + list(range(len(seq) - 2, 0, -1))
        return [[_Ev(step, (P(seq[order[i % len(order)]]),), tup if not meter.compound else None)
                 for i in range(n)]], bass
    if kind == "block":
        tri = [bass] + _tones_above(key, ch, bass + 2, rng.choice([2, 2, 3]))
        if rng.random() < .3:
            tri = _tones_above(key, ch, max(bass, lo + 5), 3)
        pitches = tuple(P(d) for d in tri)
        if L > unit and rng.random() < .5:
            return [_held(L, pitches)], bass
        out = []
        for _ in range(int(L / unit)):
            ev = _Ev(unit, pitches, arts=["staccato"] if staccato else [])
            out.append(ev)
        return [out], bass
    if kind == "octaves":
        if bass - 7 < lo - 3:
            bass += 7
        pitches = (P(bass - 7), P(bass))
        if L >= 2 * unit and rng.random() < .5:
            return [_held(L, pitches)], bass
        out = []
        fifth = _tones_above(key, ch, bass + 1, 2)[-1] - 7
        for i in range(int(L / unit)):
            d = bass if i % 2 == 0 else fifth
            out.append(_Ev(unit, (P(d - 7), P(d)), arts=["accent"] if i == 0 and rng.random() < .15 else []))
        return [out], bass
    if kind in ("waltz", "oompah"):
        chord_notes = tuple(P(d) for d in _tones_above(key, ch, max(bass + 2, lo + 7), 3))
        out = []
        nu = int(L / unit)
        if meter.compound:   # bass on the beat, chord on the last eighth pair
            for i in range(nu):
                out += [_Ev(F(1), (P(bass if i % 2 == 0 else bass - 3),)),
                        _Ev(F(1, 2), chord_notes, arts=["staccato"] if staccato else [])]
            return [out], bass
        for i in range(nu):
            if i == 0 or (kind == "oompah" and i % 2 == 0):
                b = bass if (i == 0 or rng.random() < .5) else _tones_above(key, ch, bass - 4, 1)[0]
                pitches = (P(b),) if rng.random() < .7 or b - 7 < lo - 4 else (P(b - 7), P(b))
                out.append(_Ev(unit, pitches))
            else:
                out.append(_Ev(unit, chord_notes, arts=["staccato"] if staccato or rng.random() < .3 else []))
        return [out], bass
    if kind == "held":
        upper = _tones_above(key, ch, bass + 2, 3)
        step = F(1, 2)
        n = int(L / step)
        pat = rng.choice([[0, 1, 2, 1], [0, 2, 1, 2], [1, 0, 2, 0]])
        v1 = [_Ev(step, (P(upper[pat[i % len(pat)]]),)) for i in range(n)]
        v2 = _held(L, (P(bass),))
        return [v1, v2], bass
    if kind == "sustained":
        pitches = [bass] + _tones_above(key, ch, bass + 4, 2)
        return [_held(L, tuple(P(d) for d in pitches))], bass
    if kind == "walking":
        nu = int(L / unit)
        out = [_Ev(unit, (P(bass),))]
        target = _bass_dia(nxt.key, nxt.chord, lo, lo + 7, bass) if nxt else bass
        cur = bass
        for i in range(1, nu):
            left = nu - i
            dist = target - cur
            if abs(dist) > left:
                cur += int(math.copysign(1, dist))
            elif dist == 0:
                cur += rng.choice([-1, 1])
            else:
                cur += int(math.copysign(1, dist)) if rng.random() < .8 else -int(math.copysign(1, dist))
            p = P(cur)
            if i == nu - 1 and target - cur == 1 and _semi(target, key.alter(target, {})) - _semi(*p) == 2 \
                    and rng.random() < .4:
                p = (p[0], p[1] + 1)
            out.append(_Ev(unit, (p,)))
        return [out], bass
    if kind == "run":
        n = int(L / F(1, 4)) if not meter.compound else int(L * 4)
        cur = bass
        direction = 1
        out = []
        for i in range(n):
            out.append(_Ev(F(1, 4), (P(cur),)))
            cur += direction
            if cur > lo + 12:
                direction = -1
        return [out], bass
    raise ValueError(kind)


def _left_hand(rng: random.Random, ph: _Phrase, kind: str, prev: Optional[int], fast: bool) -> tuple[list, int]:
    lo = _dia("D2") + ph.lh_shift
    bars = []
    for bi in range(ph.length):
        b = ph.start + bi
        slots = [s for s in ph.slots if s.bar == b]
        voices_per_slot = []
        for si, s in enumerate(slots):
            idx = ph.slots.index(s)
            nxt = ph.slots[idx + 1] if idx + 1 < len(ph.slots) else None
            last = ph.final and bi == ph.length - 1 and si == len(slots) - 1
            k = kind
            if k == "waltz" and len(ph.meter.units) != 3:
                k = "oompah"
            if k in ("walking", "waltz", "oompah", "block", "octaves") and s.length % ph.meter.units[0]:
                k = "held"
            vs, prev = _lh_slot(rng, k, s, ph.meter, lo, prev, nxt, fast, ph.staccato, last)
            voices_per_slot.append(vs)
        nv = max(len(v) for v in voices_per_slot)
        if nv == 1:
            bars.append([[e for vs in voices_per_slot for e in vs[0]]])
        else:
            v1, v2 = [], []
            for vs in voices_per_slot:
                if len(vs) == 2:
                    v1 += vs[0]
                    v2 += vs[1]
                else:   # one voice slot inside a two-voice bar: the chord's bass goes to voice 2
                    evs = vs[0]
                    total = sum((e.ql for e in evs), F(0))
                    lowest = evs[0].pitches[:1] if evs and evs[0].pitches else ()
                    v1 += evs
                    v2 += _held(total, lowest) if lowest else [_Ev(v) for v in _split(total)]
            bars.append([v1, v2])
    return bars, prev


# -- chorale -------------------------------------------------------------------------------------------
def _chorale(rng: random.Random, ph: _Phrase, prev: Optional[list]) -> tuple[list, list, list]:
    """Four-part chorale: soprano+alto in the right hand, tenor+bass in the left (two voices each)."""
    S_rng, A_rng, T_rng, B_rng = (_dia("E4"), _dia("G5")), (_dia("G3"), _dia("C5")), (_dia("C3"), _dia("F4")), \
        (_dia("E2"), _dia("C4"))
    prev = prev or [_dia("B4"), _dia("E4"), _dia("G3"), _dia("C3")]
    chords = []
    n = len(ph.slots)
    for k, s in enumerate(ph.slots):
        key, ch = s.key, s.chord
        degrees = None
        if k == n - 1:
            degrees = (0, 2) if ph.cadence == "auth" else None
        sop = _pick_target(rng, key, ch, prev[0], *S_rng, 0, degrees)
        bass = _bass_dia(key, ch, B_rng[0], B_rng[1], prev[3])
        best, best_cost = None, None
        for a in _tones(key, ch, max(A_rng[0], sop - 7), min(A_rng[1], sop - 1)):
            for t in _tones(key, ch, max(T_rng[0], a - 7, bass + 1), min(T_rng[1], a - 1)):
                degs = {key.degree(x) for x in (sop, a, t, bass)}
                cost = abs(a - prev[1]) + abs(t - prev[2]) + rng.random() * 1.5
                if ch.degrees[0] not in degs or ch.degrees[1] not in degs:
                    cost += 6
                if ch.seventh and ch.degrees[3] not in degs:
                    cost += 3
                if best_cost is None or cost < best_cost:
                    best, best_cost = (a, t), cost
        if best is None:
            best = (sop - 2, bass + 4)
        chords.append((sop, best[0], best[1], bass))
        prev = [sop, best[0], best[1], bass]
    # voices: events per bar, passing eighths where a voice moves by a third over a quarter slot
    voices = [[[] for _ in range(ph.length)] for _ in range(4)]
    for k, s in enumerate(ph.slots):
        bi = s.bar - ph.start
        for v in range(4):
            d = chords[k][v]
            p = _pitch(s.key, s.chord, d)
            nxt = chords[k + 1][v] if k + 1 < n else None
            if nxt is not None and abs(nxt - d) == 2 and s.length == 1 and rng.random() < .35:
                mid = (d + nxt) // 2
                voices[v][bi] += [_Ev(F(1, 2), (p,)), _Ev(F(1, 2), (_pitch(s.key, s.chord, mid),))]
            else:
                voices[v][bi] += _held(s.length, (p,))
    if ph.final:
        for v in range(4):
            voices[v][-1][-1].fermata = True
    rh = [[voices[0][bi], voices[1][bi]] for bi in range(ph.length)]
    lh = [[voices[2][bi], voices[3][bi]] for bi in range(ph.length)]
    # merge two voices into chords where their rhythms match (hymnal style), sometimes
    for bars in (rh, lh):
        for bi, (v1, v2) in enumerate(bars):
            if len(v1) == len(v2) and all(a.ql == b.ql and a.tie == b.tie for a, b in zip(v1, v2)) \
                    and rng.random() < .5:
                merged = []
                for a, b in zip(v1, v2):
                    ps = tuple(sorted(set(b.pitches + a.pitches)))
                    merged.append(_Ev(a.ql, ps, tie=a.tie, fermata=a.fermata))
                bars[bi] = [merged]
    return rh, lh, prev


# -- phrase plan ----------------------------------------------------------------------------------------
_STYLE_DEFS = {
    "alberti": dict(meters={"4/4": 4, "C": 1, "3/4": 3, "2/4": 2}, rh={"melody": 6, "harm": 2, "runs": 1},
                    lh={"alberti": 8, "block": 1}, tempo=(100, 152), ornaments=.03, graces=.03, pedal=.1),
    "block_chords": dict(meters={"4/4": 4, "3/4": 3, "2/4": 1, "6/8": 1, "2/2": 1},
                         rh={"chords": 5, "harm": 3, "octaves": 1}, lh={"block": 5, "octaves": 2, "sustained": 1},
                         tempo=(66, 120), pedal=.3, arpeggiate=.1),
    "arpeggios": dict(meters={"4/4": 3, "3/4": 2, "6/8": 2, "12/8": 1, "2/4": 1},
                      rh={"melody": 3, "arpeggio": 3, "octaves": 1}, lh={"broken": 6, "held": 1}, tempo=(60, 132),
                      pedal=.6, arpeggiate=.08),
    "scales": dict(meters={"4/4": 4, "2/4": 2, "3/4": 2, "6/8": 1, "12/8": 1}, rh={"runs": 6, "melody": 1},
                   lh={"block": 3, "octaves": 2, "held": 1, "run": 1, "alberti": 1}, tempo=(88, 160),
                   activity={"fast": 3, "medium": 1}),
    "polyphonic": dict(meters={"4/4": 4, "3/4": 2, "2/2": 1, "6/8": 1, "3/2": .5},
                       rh={"two_voices": 5, "three_voices": 2, "melody": 1}, lh={"held": 4, "walking": 3, "block": 1},
                       tempo=(56, 108)),
    "chorale": dict(meters={"4/4": 5, "3/4": 2, "3/2": .5, "2/2": .5}, rh={"chorale": 1}, lh={"chorale": 1},
                    tempo=(52, 92), activity={"slow": 1}, pedal=0),
    "waltz": dict(meters={"3/4": 8, "3/8": 1}, rh={"melody": 4, "harm": 2, "octaves": 1, "two_voices": .5},
                  lh={"waltz": 8, "held": 1}, tempo=(120, 184), graces=.06,
                  pedal=.4),
    "march": dict(meters={"2/4": 4, "4/4": 3, "2/2": 2, "6/8": 2}, rh={"melody": 3, "harm": 3, "chords": 2, "octaves": 1},
                  lh={"oompah": 5, "octaves": 3, "block": 1}, tempo=(96, 132), accents=.12, staccato=.5, pedal=.1),
    "nocturne": dict(meters={"12/8": 2, "6/8": 2, "4/4": 2, "3/4": 2, "9/8": 1},
                     rh={"melody": 5, "two_voices": 1, "harm": 1}, lh={"broken": 7, "held": 1, "sustained": 1},
                     tempo=(48, 84), ornaments=.07, graces=.08, chromatic=.3, activity={"medium": 3, "slow": 1, "fast": 1},
                     pedal=.8, arpeggiate=.12),
    "baroque": dict(meters={"4/4": 3, "3/4": 2, "2/4": 1, "6/8": 1, "12/8": 1, "3/8": 1, "C": 1},
                    rh={"melody": 4, "runs": 1, "two_voices": 1}, lh={"walking": 4, "held": 1, "run": 1},
                    tempo=(72, 132), ornaments=.12, graces=.05, activity={"medium": 2, "fast": 2}, pedal=0),
    "mixed": dict(meters={"4/4": 4, "3/4": 3, "2/4": 2, "6/8": 2, "12/8": 1, "2/2": 1, "9/8": .5, "3/8": .5,
                          "5/4": .4, "3/2": .3, "C": 1},
                  rh={"melody": 4, "harm": 2, "octaves": 1, "chords": 2, "runs": 2, "arpeggio": 1, "two_voices": 2,
                      "three_voices": 1, "chorale": 1},
                  lh={"alberti": 2, "block": 2, "broken": 2, "octaves": 1, "waltz": 1, "oompah": 1, "held": 2,
                      "sustained": 1, "walking": 1, "run": .5}, tempo=(56, 160), ornaments=.05, graces=.05,
                  pedal=.3, arpeggiate=.05),
    "melody": dict(meters={"4/4": 4, "3/4": 3, "2/4": 2, "6/8": 2, "12/8": .5, "9/8": .5, "3/8": .5, "2/2": .5,
                           "5/4": .3, "C": .5}, rh={"melody": 1}, lh={}, tempo=(60, 160), ornaments=.05, graces=.06),
}


def _phrase_lengths(rng: random.Random, measures: int) -> list[int]:
    out, left = [], measures
    while left > 0:
        n = 4 if left >= 6 or left == 4 else left
        if left >= 6 and rng.random() < .15:
            n = 2
        out.append(n)
        left -= n
    return out


def _slots_for(rng: random.Random, ph: _Phrase, per_unit: bool) -> list[tuple]:
    """(bar, off, length) of the chord slots of a phrase."""
    out = []
    units = ph.meter.units
    for bi in range(ph.length):
        b = ph.start + bi
        if per_unit:
            if bi == ph.length - 1 and len(units) >= 2:   # cadence: one chord, then the final one held
                out += [(b, F(0), units[0]), (b, units[0], ph.meter.bar - units[0])]
            else:
                off = F(0)
                for u in units:
                    out.append((b, off, u))
                    off += u
            continue
        halves = ph.meter.halves()
        two = halves and (bi == ph.length - 1 or rng.random() < .35)
        if two:
            h = sum(units[:halves[0]], F(0))
            out += [(b, F(0), h), (b, h, ph.meter.bar - h)]
        else:
            out.append((b, F(0), ph.meter.bar))
    return out


# -- the piece -------------------------------------------------------------------------------------------
@dataclass
class _Plan:
    style: str
    single: bool
    phrases: list
    rh: _Staff
    lh: Optional[_Staff]
    bar_key: list
    bar_meter: list
    tempo: Optional[tuple]
    title: str
    final_fermata: bool
    double_bars: set = field(default_factory=set)   # bars ending with a double bar line
    repeats: tuple = ()                             # (start bar or None, end bar)


def _plan(rng: random.Random, measures: int, style: str) -> _Plan:
    sd = _STYLE_DEFS[style]
    single = style == "melody"
    minor = rng.random() < .35
    fifths = _wchoice(rng, {0: 4, 1: 4, -1: 4, 2: 3, -2: 3, 3: 2, -3: 2, 4: 1.2, -4: 1.2, 5: .5, -5: .5,
                            6: .2, -6: .2, 7: .05, -7: .05})
    key = _Key(fifths, minor)
    meter = _METERS[_wchoice(rng, sd["meters"])]
    lengths = _phrase_lengths(rng, measures)
    phrases = []
    start = 0
    p_key_change = .3 if style == "mixed" else .2
    p_time_change = .25 if style == "mixed" else .1
    dyn_levels = ["pp", "p", "mp", "mf", "f", "ff"]
    level = rng.choice([1, 2, 3, 3, 4])
    for pi, n in enumerate(lengths):
        final = pi == len(lengths) - 1
        if pi > 0 and rng.random() < p_key_change:
            rel = _wchoice(rng, {"dom": 3, "sub": 2, "rel": 3, "par": 1, "any": 1})
            if rel == "dom":
                key = _Key(key.fifths + 1, key.minor)
            elif rel == "sub":
                key = _Key(key.fifths - 1, key.minor)
            elif rel == "rel":
                key = _Key(key.fifths, not key.minor)
            elif rel == "par":
                key = _Key(key.fifths + (3 if key.minor else -3), not key.minor)
            else:
                key = _Key(rng.randint(-5, 5), rng.random() < .35)
            if abs(key.fifths) > 7:
                key = _Key(key.fifths - 12 * (1 if key.fifths > 0 else -1), key.minor)
        if pi > 0 and rng.random() < p_time_change:
            meter = _METERS[_wchoice(rng, {k: v for k, v in _STYLE_DEFS["mixed"]["meters"].items()
                                           if _METERS[k] != meter})]
        rh = _wchoice(rng, sd["rh"])
        lh = _wchoice(rng, sd["lh"]) if sd["lh"] else ""
        if rh == "chorale" or lh == "chorale":
            rh = lh = "chorale" if not single else "melody"
        if style != "mixed" and not single and rng.random() < .15:   # a contrasting phrase
            rh = _wchoice(rng, _STYLE_DEFS["mixed"]["rh"])
            lh = _wchoice(rng, _STYLE_DEFS["mixed"]["lh"])
            if rh == "chorale":
                lh = "chorale"
            elif lh == "chorale":
                lh = "block"
        activity = _wchoice(rng, sd.get("activity", {"slow": 1, "medium": 3, "fast": 1}))
        cadence = "auth" if final or rng.random() < .4 else "half"
        staccato = rng.random() < sd.get("staccato", .15)
        legato = not staccato and rng.random() < .5
        lh_shift = 7 if lh in ("broken", "held", "alberti", "block", "run") and rng.random() < .2 else 0
        dyn = None
        if pi == 0 and rng.random() < .8 or pi > 0 and rng.random() < .5:
            level = max(0, min(5, level + rng.choice([-2, -1, 1, 1, 2]) if pi else level))
            dyn = dyn_levels[level]
        ph = _Phrase(start, n, key, meter, rh, lh, activity, cadence, staccato, legato, lh_shift, dyn, final)
        per_unit = rh == "chorale"
        spans = _slots_for(rng, ph, per_unit)
        p_sec = sd.get("secondary", .25)
        prog = _progression(rng, key, len(spans), cadence, p_sec)
        ph.slots = [_Slot(b, o, ln, c, key) for (b, o, ln), c in zip(spans, prog)]
        phrases.append(ph)
        start += n
    bar_key = [ph.key for ph in phrases for _ in range(ph.length)]
    bar_meter = [ph.meter for ph in phrases for _ in range(ph.length)]
    tempo = None
    if rng.random() < .6:
        lo, hi = sd["tempo"]
        bpm = rng.choice([b for b in _BPM if lo <= b <= hi])
        compound = phrases[0].meter.compound
        if compound:
            bpm = rng.choice([b for b in _BPM if lo // 3 <= b <= hi // 2] or [60])
        tempo = (bpm, "quarter" if not compound else "dotted")
    kind = {"alberti": "Sonatina", "block_chords": "Song", "arpeggios": "Study", "scales": "Etude",
            "polyphonic": "Invention", "chorale": "Chorale", "waltz": "Waltz", "march": "March",
            "nocturne": "Nocturne", "baroque": "Prelude", "mixed": "Piece", "melody": "Melody"}[style]
    title = f"{kind} in {phrases[0].key.name().replace('-', ' ')}"
    plan = _Plan(style, single, phrases, _Staff([]), None if single else _Staff([]), bar_key, bar_meter, tempo,
                 title, rng.random() < .7)
    for ph in phrases[1:]:
        b = ph.start - 1
        if (bar_key[b] != bar_key[b + 1] and rng.random() < .75) or rng.random() < .06:
            plan.double_bars.add(b)
    if len(phrases) >= 2 and rng.random() < .1:
        end = rng.randrange(len(phrases))
        begin = rng.randint(0, end)
        start_bar = phrases[begin].start if begin > 0 or rng.random() < .3 else None
        plan.repeats = (start_bar, phrases[end].start + phrases[end].length - 1)
    return plan


def _write(rng: random.Random, plan: _Plan, sd: dict) -> None:
    """Fill the staves of a plan phrase by phrase."""
    rh, lh = plan.rh, plan.lh
    bass_clef_melody = plan.single and rng.random() < .35
    if bass_clef_melody:
        mel_lo, mel_hi = _dia("F2"), _dia("D4")
    else:
        mel_lo, mel_hi = _dia("E4"), _dia("A5") if rng.random() < .7 else _dia("C6")
    prev = (mel_lo + mel_hi) // 2
    bass_prev = None
    chorale_prev = None
    for ph in plan.phrases:
        style = dict(sd)
        fast = ph.activity == "fast"
        rhythms = [_bar_rhythm(rng, ph.meter, ph.activity, _end(ph, bi), start_rest=bi == 0 and rng.random() < .2)
                   for bi in range(ph.length)]
        rh_bars: list[list[list[_Ev]]]
        lh_bars = None
        if ph.rh == "chorale":
            rh_bars, lh_bars, chorale_prev = _chorale(rng, ph, chorale_prev)
        elif ph.rh == "runs":
            line, prev = _rh_runs(rng, ph, prev, mel_lo, mel_hi + 2)
            rh_bars = [[b] for b in line]
        elif ph.rh == "arpeggio":
            rh_bars = [[b] for b in _rh_arpeggio(rng, ph, mel_lo - 2, mel_hi + 3)]
        elif ph.rh == "chords":
            line, prev = _rh_chords(rng, ph, prev, mel_lo, mel_hi, style)
            rh_bars = [[b] for b in line]
        else:
            lo = mel_lo + (3 if ph.rh in ("two_voices", "three_voices") else 0)
            line, prev = _melody(rng, ph, rhythms, prev, lo, mel_hi, style.get("chromatic", .15))
            _melody_ties(rng, line)
            _decorate(rng, ph, line, rh, style, mel_lo)
            if ph.rh in ("harm", "octaves"):
                _harmonise(rng, ph, line, "octaves" if ph.rh == "octaves" else "harm", _dia("G3"))
            if ph.rh == "two_voices":
                v2 = _lower_voice(rng, ph, line, _dia("A3"), 2, rng.random() < .5, rng.choice([0, 0, .3]))
                rh_bars = [[a, b] for a, b in zip(line, v2)]
            elif ph.rh == "three_voices":
                v2 = _lower_voice(rng, ph, line, _dia("D4"), 1, False)
                v3 = _lower_voice(rng, ph, v2, _dia("G3"), 1, True)
                rh_bars = [[a, b, c] for a, b, c in zip(line, v2, v3)]
            else:
                rh_bars = [[b] for b in line]
        if plan.single:
            rh.bars += rh_bars
        else:
            if lh_bars is None:
                lh_bars, bass_prev = _left_hand(rng, ph, ph.lh, bass_prev, fast)
            rh.bars += rh_bars
            lh.bars += lh_bars
            if ph.lh not in ("walking", "run") and rng.random() < sd.get("pedal", .15):
                _pedal(ph, lh)
        p_arp = sd.get("arpeggiate", .02)
        for staff in (rh, lh):
            for bar in (staff.bars[ph.start:] if staff is not None else []):
                for voice in bar:
                    for ev in voice:
                        if len(ev.pitches) >= 3 and ev.tie in (None, "start") and rng.random() < p_arp:
                            ev.arpeggio = True
        # dynamics and wedges (right hand staff)
        if ph.dynamic:
            rh.dynamics.setdefault(ph.start, []).append((F(0), ph.dynamic))
        if ph.length >= 2 and rng.random() < .25:
            b0 = ph.start + rng.randrange(0, ph.length - 1)
            evs = [e for e in rh.bars[b0][0] if e.pitches] + [e for e in rh.bars[b0 + 1][0] if e.pitches][:1]
            if len(evs) >= 2:
                rh.wedges.append((evs[0], evs[-1], rng.choice(["cresc", "cresc", "dim"])))
    # a hand (or the melody) resting for a whole bar
    n = len(rh.bars)
    if not plan.single and n >= 3 and rng.random() < .05:
        _rest_bar(rh, 0, plan.bar_meter[0].bar)
    elif plan.single:
        for ph in plan.phrases[1:]:
            if ph.start < n - 1 and rng.random() < .15:
                _rest_bar(rh, ph.start, plan.bar_meter[ph.start].bar)
    # final fermata
    if plan.final_fermata:
        for staff in (rh, lh):
            if staff is None:
                continue
            for voice in staff.bars[-1][:1]:
                if voice and voice[-1].pitches:
                    voice[-1].fermata = True


def _pedal(ph: _Phrase, staff: _Staff) -> None:
    """Sustain pedal per chord slot, from the slot's first bass note to its last."""
    for bi in range(ph.length):
        b = ph.start + bi
        voice = staff.bars[b][-1]
        onsets, off = [], F(0)
        for ev in voice:
            onsets.append((off, ev))
            off += ev.ql
        for s in ph.slots:
            if s.bar != b:
                continue
            evs = [ev for o, ev in onsets if s.off <= o < s.off + s.length and ev.pitches]
            if evs:
                staff.pedals.append((evs[0], evs[-1]))


def _rest_bar(staff: _Staff, b: int, bar: F) -> None:
    """Replace bar ``b`` of a staff by a whole-measure rest (ties into and out of it removed)."""
    if b > 0:
        for v in staff.bars[b - 1]:
            if v and v[-1].tie in ("start", "continue"):
                v[-1].tie = None if v[-1].tie == "start" else "stop"
    if b + 1 < len(staff.bars):
        for v in staff.bars[b + 1]:
            if v and v[0].tie in ("stop", "continue"):
                v[0].tie = None if v[0].tie == "stop" else "start"
    staff.bars[b] = [[_Ev(bar, full_rest=True)]]


def _melody_ties(rng: random.Random, bars: list[list[_Ev]]) -> None:
    """Syncopation/suspensions: the first note of a bar tied from the last note of the bar before."""
    for a, b in zip(bars, bars[1:]):
        if not a or not b:
            continue
        x, y = a[-1], b[0]
        if x.pitches and y.pitches and not x.tup and not y.tup and x.tie is None and y.tie is None \
                and len(b) > 1 and rng.random() < .15:
            y.pitches = x.pitches
            _add_tie(x, "start")
            _add_tie(y, "stop")


def _lh_ties(rng: random.Random, staff: _Staff) -> None:
    """Repeated held bass notes across a bar line are often tied."""
    for a, b in zip(staff.bars, staff.bars[1:]):
        for va, vb in zip(a, b):
            if not va or not vb:
                continue
            x, y = va[-1], vb[0]
            if x.pitches and x.pitches == y.pitches and not x.tup and not y.tup and x.tie in (None, "stop") \
                    and y.tie in (None, "start") and x.ql >= 1 and rng.random() < .5:
                _add_tie(x, "start")
                _add_tie(y, "stop")


def _clefs(plan: _Plan) -> None:
    """Clef per bar: the left hand goes to the treble clef when it climbs (with hysteresis)."""
    def mean(bar):
        ds = [p[0] for v in bar for e in v for p in e.pitches]
        return sum(ds) / len(ds) if ds else None
    if plan.single:
        ds = [mean(b) for b in plan.rh.bars]
        ds = [d for d in ds if d is not None]
        m = sum(ds) / max(1, len(ds))
        plan.rh.clefs = ["bass" if m < _dia("C4") else "treble"] * len(plan.rh.bars)
        return
    plan.rh.clefs = ["treble"] * len(plan.rh.bars)
    cur = "bass"
    for b, bar in enumerate(plan.lh.bars):
        segments = [(F(0), bar)]
        halves = plan.bar_meter[b].halves()
        if len(bar) == 1 and halves:   # one voice: the clef may change at the half bar
            h = sum(plan.bar_meter[b].units[:halves[0]], F(0))
            off, first, second = F(0), [], []
            for e in bar[0]:
                (first if off < h else second).append(e)
                off += e.ql
            if sum((e.ql for e in first), F(0)) == h and first and second and first[-1].tie in (None, "stop"):
                segments = [(F(0), [first]), (h, [second])]
        for off, seg in segments:
            m = mean(seg)
            if m is not None:
                if cur == "bass" and m >= _dia("D4") + .5:
                    cur = "treble"
                elif cur == "treble" and m < _dia("A3"):
                    cur = "bass"
            if off == 0:
                plan.lh.clefs.append(cur)
            elif cur != plan.lh.clefs[-1]:
                plan.lh.mid_clefs[b] = (off, cur)


def _accidentals(rng: random.Random, staff: _Staff, bar_key: list) -> None:
    """Decide which accidentals are shown (key, earlier accidentals in the bar, ties, cautionary)."""
    prev_altered: dict[int, int] = {}
    for b, voices in enumerate(staff.bars):
        key = bar_key[b]
        if b > 0 and bar_key[b] != bar_key[b - 1]:
            prev_altered = {}
        state: dict[int, int] = {}
        cur_altered: dict[int, int] = {}
        items = []
        for vi, voice in enumerate(voices):
            off = F(0)
            for ev in voice:
                ev.show = [False] * len(ev.pitches)
                ev.paren = [False] * len(ev.pitches)
                ev.gshow = [False] * len(ev.graces)
                for gi in range(len(ev.graces)):
                    items.append((off, gi - len(ev.graces), vi, ev, gi))
                if ev.pitches:
                    items.append((off, 0, vi, ev, None))
                off += ev.ql
        doc_items = list(items)
        items.sort(key=lambda t: (t[0], t[1], t[2]))
        for off, _, vi, ev, gi in items:
            pitches = [ev.graces[gi]] if gi is not None else ev.pitches
            for k, (dia, alt) in enumerate(pitches):
                sig = key.sig(dia % 7)
                tied_in = gi is None and ev.tie in ("stop", "continue")
                if tied_in:
                    show = False
                else:
                    expected = state.get(dia, sig)
                    show = alt != expected
                    if not show and dia not in state and dia in prev_altered and prev_altered[dia] != alt \
                            and rng.random() < .8:
                        show = True
                        if gi is None:
                            ev.paren[k] = rng.random() < .25
                    state[dia] = alt
                if alt != sig:
                    cur_altered[dia] = alt
                elif dia in cur_altered and not tied_in:
                    del cur_altered[dia]
                if gi is None:
                    ev.show[k] = show
                else:
                    ev.gshow[gi] = show
        # readers that infer alters in document order (voice after voice) must see the same pitches
        dstate: dict[int, int] = {}
        for off, _, vi, ev, gi in doc_items:
            pitches = [ev.graces[gi]] if gi is not None else ev.pitches
            for k, (dia, alt) in enumerate(pitches):
                if gi is None and ev.tie in ("stop", "continue"):
                    continue
                if alt != dstate.get(dia, key.sig(dia % 7)):
                    if gi is None:
                        ev.show[k] = True
                    else:
                        ev.gshow[gi] = True
                dstate[dia] = alt
        prev_altered = cur_altered


def _check_full(plan: _Plan) -> None:
    for staff in (plan.rh, plan.lh):
        if staff is None:
            continue
        for b, voices in enumerate(staff.bars):
            bar = plan.bar_meter[b].bar
            for v in voices:
                total = sum((e.ql for e in v), F(0))
                if total != bar:
                    raise AssertionError(f"bar {b + 1}: voice lasts {total}, bar is {bar}")


# -- music21 ------------------------------------------------------------------------------------------
def _m21_pitch(dia: int, alt: int, show: bool, paren: bool):
    from music21 import pitch

    name = _LETTERS[dia % 7] + ("#" * alt if alt > 0 else "-" * -alt) + str(dia // 7)
    p = pitch.Pitch(name)
    if show:
        if p.accidental is None:
            p.accidental = pitch.Accidental("natural")
        p.accidental.displayStatus = True
        if paren:
            p.accidental.displayStyle = "parentheses"
    elif p.accidental is not None:
        p.accidental.displayStatus = False
    return p


def _m21_duration(ql: F, tup: Optional[tuple]):
    from music21 import duration

    if tup is None:
        return duration.Duration(quarterLength=ql)
    a, n = tup
    d = duration.Duration(quarterLength=ql * a / n)
    t = duration.Tuplet(a, n, d.type)
    t.setDurationType(d.type, d.dots)
    d.appendTuplet(t)
    return d


_ORN = {"trill": "Trill", "mordent": "Mordent", "inverted-mordent": "InvertedMordent", "turn": "Turn"}
_ARTS = {"staccato": "Staccato", "accent": "Accent", "tenuto": "Tenuto", "strong-accent": "StrongAccent"}


def _m21_event(ev: _Ev, stem: Optional[str]) -> list:
    from music21 import articulations, chord, expressions, note, tie

    out = []
    for gi, g in enumerate(ev.graces):
        gn = note.Note(_m21_pitch(g[0], g[1], ev.gshow[gi], False), type=ev.grace_type)
        gn = gn.getGrace(appoggiatura=not ev.grace_slash)
        if len(ev.graces) > 1:
            gn.duration.slash = False
        if stem:
            gn.stemDirection = stem
        out.append(gn)
    if not ev.pitches:
        n = note.Rest()
        n.duration = _m21_duration(ev.ql, ev.tup)
        if ev.full_rest:
            n.fullMeasure = True
        if ev.hidden:
            n.style.hideObjectOnPrint = True
    elif len(ev.pitches) == 1:
        n = note.Note(_m21_pitch(*ev.pitches[0], ev.show[0], ev.paren[0]))
        n.duration = _m21_duration(ev.ql, ev.tup)
    else:
        n = chord.Chord([_m21_pitch(*p, ev.show[k], ev.paren[k]) for k, p in enumerate(ev.pitches)])
        n.duration = _m21_duration(ev.ql, ev.tup)
    if ev.pitches:
        if ev.tie:
            n.tie = tie.Tie(ev.tie)
        if stem:
            n.stemDirection = stem
        for a in ev.arts:
            n.articulations.append(getattr(articulations, _ARTS[a])())
        if ev.orn:
            n.expressions.append(getattr(expressions, _ORN[ev.orn])())
        if ev.arpeggio and len(ev.pitches) > 1:
            n.expressions.append(expressions.ArpeggioMark())
    if ev.fermata:
        n.expressions.append(expressions.Fermata())
    out.append(n)
    return out


def _m21_staff(plan: _Plan, staff: _Staff, part, first: bool, ev_map: dict) -> None:
    from music21 import bar as m21bar
    from music21 import clef, dynamics, expressions, key, meter, note, spanner, stream, tempo

    n_bars = len(staff.bars)
    make_clef = lambda name: clef.TrebleClef() if name == "treble" else clef.BassClef()  # noqa: E731
    for b, voices in enumerate(staff.bars):
        m = stream.Measure(number=b + 1)
        in_force = staff.mid_clefs[b - 1][1] if b - 1 in staff.mid_clefs else (staff.clefs[b - 1] if b else None)
        if b == 0 or staff.clefs[b] != in_force:
            m.insert(0, make_clef(staff.clefs[b]))

        k = plan.bar_key[b]
        if b == 0 or k != plan.bar_key[b - 1]:
            if b > 0 and k.fifths == plan.bar_key[b - 1].fifths:
                pass   # relative major/minor: same signature
            else:
                m.insert(0, key.KeySignature(k.fifths))
        mt = plan.bar_meter[b]
        if b == 0 or mt != plan.bar_meter[b - 1]:
            ts = meter.TimeSignature(f"{mt.num}/{mt.den}")
            if mt.symbol:
                ts.symbol = mt.symbol
            m.insert(0, ts)
        if b == 0 and first and plan.tempo:
            bpm, unit = plan.tempo
            ref = note.Note(type="quarter", dots=1) if unit == "dotted" else note.Note(type="quarter")
            m.insert(0, tempo.MetronomeMark(number=bpm, referent=ref.duration))
        multi = len(voices) > 1
        stems = ["up", "down", "down"] if len(voices) == 3 else ["up", "down"]
        containers = []
        for vi, voice in enumerate(voices):
            target = m
            if multi:
                target = stream.Voice(id=str(vi + 1))
                containers.append(target)
            for ev in voice:
                objs = _m21_event(ev, stems[vi] if multi else None)
                ev_map[id(ev)] = objs[-1]
                for o in objs:
                    target.append(o)
        for v in containers:
            m.insert(0, v)
        # zero-length objects inside the bar go in after the notes (append would start after them)
        for off, mark in staff.dynamics.get(b, []):
            m.insert(off, dynamics.Dynamic(mark))
        if b in staff.mid_clefs:
            m.insert(staff.mid_clefs[b][0], make_clef(staff.mid_clefs[b][1]))
        if plan.repeats and b == plan.repeats[1]:
            m.rightBarline = m21bar.Repeat(direction="end")
        elif b == n_bars - 1:
            m.rightBarline = m21bar.Barline("final")
        elif b in plan.double_bars:
            m.rightBarline = m21bar.Barline("double")
        if plan.repeats and b == plan.repeats[0]:
            m.leftBarline = m21bar.Repeat(direction="start")
        part.append(m)
    for a, z in staff.slurs:
        if id(a) in ev_map and id(z) in ev_map and a is not z:
            part.insert(0, spanner.Slur(ev_map[id(a)], ev_map[id(z)]))
    for a, z, kind in staff.wedges:
        if id(a) in ev_map and id(z) in ev_map and a is not z:
            w = dynamics.Crescendo(ev_map[id(a)], ev_map[id(z)]) if kind == "cresc" else \
                dynamics.Diminuendo(ev_map[id(a)], ev_map[id(z)])
            part.insert(0, w)
    for a, z in staff.pedals:
        if id(a) in ev_map and id(z) in ev_map:
            ends = [ev_map[id(a)]] if a is z else [ev_map[id(a)], ev_map[id(z)]]
            part.insert(0, expressions.PedalMark(*ends))


def _to_music21(plan: _Plan):
    from music21 import instrument, layout, metadata, stream

    score = stream.Score()
    md = metadata.Metadata()
    md.title = plan.title
    md.composer = ""
    score.insert(0, md)
    ev_map: dict = {}
    piano = instrument.Piano()
    piano.partId = "P1"
    piano.instrumentId = "P1-I1"
    if plan.single:
        part = stream.Part(id="P1")
        part.insert(0, piano)
        _m21_staff(plan, plan.rh, part, True, ev_map)
        score.insert(0, part)
        return score
    rh = stream.PartStaff(id="P1-Staff1")
    lh = stream.PartStaff(id="P1-Staff2")
    rh.insert(0, piano)
    _m21_staff(plan, plan.rh, rh, True, ev_map)
    _m21_staff(plan, plan.lh, lh, False, ev_map)
    score.insert(0, rh)
    score.insert(0, lh)
    score.insert(0, layout.StaffGroup([rh, lh], name="Piano", abbreviation="Pno.", symbol="brace",
                                      barTogether=True))
    return score


# -- public -----------------------------------------------------------------------------------------------
def generate_piece(seed: int, measures: int = 8, style: Optional[str] = None):
    """Write a piano piece for ``seed`` (deterministic) as a music21 ``stream.Score``.

    Args:
        seed: any integer; the same seed (with the same other arguments) gives the same piece.
        measures: number of measures (>= 1), numbered from 1.
        style: one of :data:`STYLES`, or None to pick one at random (about 15% single-staff melodies).

    Returns:
        A Score with one piano part on two staves (``PartStaff`` pair in a brace ``StaffGroup``), or a
        single ``Part`` for the ``melody`` style.
    """
    if measures < 1:
        raise ValueError("measures must be >= 1")
    rng = random.Random(f"unimt-generate:{seed}")
    if style is None:
        style = _wchoice(rng, _STYLE_WEIGHTS)
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    plan = _plan(rng, measures, style)
    _write(rng, plan, _STYLE_DEFS[style])
    if plan.lh is not None:
        _lh_ties(rng, plan.lh)
    _clefs(plan)
    for staff in (plan.rh, plan.lh):
        if staff is not None:
            _accidentals(rng, staff, plan.bar_key)
    _check_full(plan)
    score = _to_music21(plan)
    score.generator_style = style   # for statistics
    return score


# -- statistics -------------------------------------------------------------------------------------------
def count_features(score) -> Counter:
    """Count notation features of a score (for tests and the dataset card)."""
    from music21 import chord, clef, dynamics, expressions, key, meter, note, spanner, stream

    c: Counter = Counter()
    for part in score.parts:
        c["staves"] += 1
        for m in part.getElementsByClass(stream.Measure):
            c["measures"] += 1
            if m.voices:
                c["measures_with_voices"] += 1
                c["voices"] += len(m.voices)
            for el in m.recurse():
                if isinstance(el, note.GeneralNote):
                    if el.duration.isGrace:
                        c["grace_notes"] += 1
                        continue
                    if isinstance(el, note.Rest):
                        c["rests"] += 1
                    else:
                        c["notes"] += 1
                    if isinstance(el, chord.Chord):
                        c["chords"] += 1
                    if el.duration.tuplets:
                        c["tuplet_notes"] += 1
                    if el.duration.dots:
                        c["dotted"] += 1
                    if getattr(el, "tie", None) is not None and el.tie.type in ("start", "continue"):
                        c["ties"] += 1
                    for p in getattr(el, "pitches", ()):
                        if p.accidental is not None and p.accidental.displayStatus:
                            c["accidentals"] += 1
                            if p.accidental.name == "natural" or p.accidental.displayStyle == "parentheses":
                                c["naturals_or_cautionary"] += 1
                    for e in el.expressions:
                        if isinstance(e, expressions.Fermata):
                            c["fermatas"] += 1
                        elif isinstance(e, (expressions.Trill, expressions.GeneralMordent, expressions.Turn)):
                            c["ornaments"] += 1
                    c["articulations"] += len(el.articulations)
                elif isinstance(el, clef.Clef) and m.number > 1:
                    c["clef_changes"] += 1
                elif isinstance(el, key.KeySignature) and m.number > 1:
                    c["key_changes"] += 1
                elif isinstance(el, meter.TimeSignature) and m.number > 1:
                    c["time_changes"] += 1
                elif isinstance(el, dynamics.Dynamic):
                    c["dynamics"] += 1
        for sp in part.spanners:
            if isinstance(sp, spanner.Slur):
                c["slurs"] += 1
            elif isinstance(sp, dynamics.DynamicWedge):
                c["wedges"] += 1
    if len(score.parts) == 1:
        c["single_staff_pieces"] += 1
    return c


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--measures", type=int, default=8)
    ap.add_argument("--style", choices=STYLES)
    ap.add_argument("--out", help="write seed_N.musicxml files here")
    ap.add_argument("--export", action="store_true", help="also time the MusicXML export")
    args = ap.parse_args(argv)
    from pathlib import Path

    from music21.musicxml.m21ToXml import GeneralObjectExporter

    total = Counter()
    t0 = time.perf_counter()
    t_gen = 0.0
    for s in range(args.seed, args.seed + args.count):
        t = time.perf_counter()
        score = generate_piece(s, args.measures, args.style)
        t_gen += time.perf_counter() - t
        total += count_features(score)
        if args.out or args.export:
            data = GeneralObjectExporter(score).parse()
            if args.out:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                (Path(args.out) / f"seed_{s}.musicxml").write_bytes(data)
    dt = time.perf_counter() - t0
    print(f"{args.count} pieces: generate {args.count / t_gen:.1f}/s, with stats/export {args.count / dt:.1f}/s")
    for k, v in sorted(total.items()):
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
