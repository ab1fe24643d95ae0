"""What a piece is made of while it is written: events (notes, chords, rests with their marks), harmonic
slots, staves, phrases and the plan of the whole piece."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction as F
from typing import Optional

from model.data.generate.theory import _VALUES, _Chord, _Key, _Meter


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
