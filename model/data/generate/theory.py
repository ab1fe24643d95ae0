"""Keys, meters and chords: pitch spelling, the harmonic vocabulary of major and minor keys, and a Markov
chain of progressions with secondary dominants and cadences."""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction as F
from typing import Any, Optional

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
_MAJOR_T = {
    "I": {"IV": 3, "V": 3, "vi": 3, "ii": 2, "iii": 0.7},
    "ii": {"V": 5, "V7": 2, "vii°": 0.4},
    "ii7": {"V": 3, "V7": 2},
    "iii": {"vi": 3, "IV": 2},
    "IV": {"V": 3, "I": 2, "ii": 1.5, "V7": 1},
    "V": {"I": 4, "vi": 2},
    "V7": {"I": 4, "vi": 1},
    "vi": {"IV": 3, "ii": 3, "V": 2, "ii7": 1, "iii": 0.5},
    "vii°": {"I": 1},
}
_MINOR_T = {"i": {"iv": 3, "V": 3, "VI": 3, "ii°": 1.5, "III": 1, "VII": 1}, "ii°": {"V": 5, "V7": 2},
            "III": {"VI": 3, "iv": 2}, "iv": {"V": 3, "i": 2, "ii°": 1, "V7": 1}, "V": {"i": 4, "VI": 2},
            "V7": {"i": 4, "VI": 1}, "VI": {"iv": 3, "ii°": 2, "V": 2, "III": .5}, "VII": {"III": 3, "i": 1}}
_SECONDARY_MAJOR = {
    "V": ("V/V", "V7/V"),
    "V7": ("V/V", "V7/V"),
    "vi": ("V/vi",),
    "IV": ("V7/IV",),
    "ii": ("V/ii",),
}
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
        seq = [
            ("iv" if s == "IV" and i < n - 1 and rng.random() < p_sec * 0.3 else s) for i, s in enumerate(seq)
        ]
    out = []
    for i, s in enumerate(seq):
        inv = 1 if (i not in (0, n - 1) and s in ("I", "i", "IV", "iv", "V", "V7", "ii", "VI")
                    and rng.random() < .18) else 0
        out.append(_chord(key, s, inv))
    return out
