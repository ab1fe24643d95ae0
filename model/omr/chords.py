"""Chords read with a pitch twice, or out of order, read again from the reader's next-best pitches.

A chord's notes are written bottom to top: in the training split's staff symbols 99.6% of 11,300 chords
ascend strictly (the rest are two-voice unisons and a few ABC tunes). The reader reads each notehead on
its own, and in a dense chord (a second between two noteheads puts one on the other side of the stem) it
often reads one pitch twice: 49 of 369 chords read in 360 validation readings held a pitch twice, none of
the written ones did. :func:`fix_chords` chooses the pitches of such a chord again among the reader's
next-best pitch symbols at each note's own output frame: the choice that ascends with the least loss of
log-probability, taken only when that loss is at most ``max_cost`` nats.

Measured with ``python -m tools.reader_steps --split validation`` (360 readings, the shipped reader12), LMX
SER: all 9.60% -> 9.55%; single staves clean 5.13% -> 5.00%, degraded 5.60% -> 5.34%, MuseScore 3 5.44% ->
5.34%; grand staves within 0.01 points.
"""

from __future__ import annotations

from model.omr.ties import _chords, _notes
from model.tokenizers.staff_symbols import _PITCH_SET

_STEPS = "CDEFGAB"


def _height(symbol: str) -> int | None:
    """Diatonic steps above C0 of a pitch symbol (``E4``), else None."""
    return _STEPS.index(symbol[0]) + 7 * int(symbol[1]) if symbol in _PITCH_SET else None


def _best_ascending(options: list[list[tuple[int, float, int]]]):
    """The cheapest choice of one (height, cost, symbol) per note whose heights ascend strictly:
    (cost, symbols), or None."""
    states: dict[int, tuple[float, list[int]]] = {-1: (0.0, [])}
    for opts in options:
        nxt: dict[int, tuple[float, list[int]]] = {}
        for last, (cost, chosen) in states.items():
            for h, c, sym in opts:
                if h > last and (h not in nxt or cost + c < nxt[h][0]):
                    nxt[h] = (cost + c, chosen + [sym])
        states = nxt
        if not states:
            return None
    return min(states.values(), key=lambda v: v[0])


def fix_chords(ids: list[int], alternatives: list, symbols: list[str], max_cost: float = 4.0) -> list[int]:
    """A staff's read symbols with every chord that does not ascend read again (see the module's note);
    ``alternatives``: per read symbol, the reader's best (symbol id, log-probability) at its frame, best
    first (pitch symbols get pitches)."""
    out = list(ids)
    seq = [symbols[i] for i in ids]
    notes = _notes(seq)
    for _, _, members in _chords(seq, notes):
        chord = [notes[n][4] for n in members]   # where each pitch of the chord is in ``ids``
        if len(chord) < 2:
            continue
        heights = [_height(symbols[ids[j]]) for j in chord]
        if all(a < b for a, b in zip(heights, heights[1:])):
            continue
        options = []
        for j in chord:
            alts = alternatives[j] if j < len(alternatives) else []
            top = alts[0][1] if alts else 0.0
            opts = [(_height(symbols[s]), top - lp, s) for s, lp in alts if _height(symbols[s]) is not None]
            options.append([o for o in opts if o[1] <= max_cost] or [(_height(symbols[ids[j]]), 0.0, ids[j])])
        best = _best_ascending(options)
        if best is not None and best[0] <= max_cost:
            for j, sym in zip(chord, best[1]):
                out[j] = sym
    return out
