"""Rhythms chosen cell by cell from the beat units of the meter (simple or compound), so every voice of every
measure is full by construction."""

from __future__ import annotations

import random
from fractions import Fraction as F
from typing import Optional

from model.data.generate.events import _split
from model.data.generate.theory import _Meter, _wchoice


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
    "h": (_c("2"), (2, 0.8, 0.2)),
    "dq": (_c("3/2", "1/2"), (1.5, 1, 0.5)),
    "syn": (_c("1/2", "1", "1/2"), (0.4, 0.6, 0.4)),
    "qtrip": (_c(*["2/3:3:2"] * 3), (0.2, 0.3, 0.2)),
}
_D = {  # one dotted-quarter unit (compound meters)
    "dq": (_c("3/2"), (4, 1.5, 0.3)),
    "qe": (_c("1", "1/2"), (4, 3, 1)),
    "eee": (_c("1/2", "1/2", "1/2"), (2, 4, 3)),
    "sic": (_c("3/4", "1/4", "1/2"), (1.5, 1.5, 1)),
    "s6": (_c(*["1/4"] * 6), (0.1, 1, 4)),
    "esse": (_c("1/2", "1/4", "1/4", "1/2"), (0.3, 1, 1.5)),
    "duo": (_c("3/4:2:3", "3/4:2:3"), (0.5, 0.7, 0.5)),
    "eq": (_c("1/2", "1"), (0.5, 0.7, 0.3)),
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
        for _name, (cell, w) in table.items():
            if not tuplets and cell[0][1]:
                continue
            opts.append((cell, w[a]))
        if i % 2 == 0 and stop - i >= 2:
            for _name, (cell, w) in table2.items():
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
