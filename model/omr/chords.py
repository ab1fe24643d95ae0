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

A chord's note is sometimes read as its chord mark (and accidental) alone, with no pitch after it: 25 times in
the 360 validation readings of reader14, mostly in the Roman-numeral realisations' dense chords.
:func:`missing_pitches` puts back the pitch the reader saw best in the frames between the mark and the next
symbol read. Validation LMX SER (reader14, every other step): all 7.70% -> 7.66%; single staves clean 3.26% ->
3.16%, degraded 3.34% -> 3.14%, MuseScore 3 3.97% -> 3.91%; grand staves unchanged. Taken when the pitch's
log-probability is at least -1, -3, -6, -20: all 7.70%, 7.66%, 7.66%, 7.67% (clean single 3.26%, 3.18%,
3.16%, 3.19%).
"""

from __future__ import annotations

import math

from model.omr.ties import _chords, _notes
from model.tokenizers.lmx_vocab import ACCIDENTALS
from model.tokenizers.staff_symbols import _PITCH_SET

_STEPS = "CDEFGAB"
NOTE_PREFIXES = frozenset(("chord", *ACCIDENTALS))   # what a note may be read with before its pitch


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


def missing_pitches(read: tuple[list[int], list[float], list[int]], alternatives: list, symbols: list[str],
                    min_log_prob: float = -6.0) -> tuple[tuple[list[int], list[float], list[int]], list]:
    """A staff's reading (symbol ids, probabilities, positions) with the pitch of a note read without one
    (a chord mark or accidental followed by no pitch) put back: the best pitch the reader saw after it
    (``alternatives`` of that mark, from :func:`model.omr.durations.gap_alternatives`), when its
    log-probability is at least ``min_log_prob``. The alternatives are kept aligned; the new pitch gets the
    mark's position and its own pitch alternatives."""
    ids, probs, pos = read
    out_ids, out_probs, out_pos, out_alts = [], [], [], []
    for j, i in enumerate(ids):
        alts = alternatives[j] if j < len(alternatives) else []
        gap = bool(alts) and symbols[i] in NOTE_PREFIXES and symbols[alts[0][0]] in _PITCH_SET
        out_ids.append(i)
        out_probs.append(probs[j])
        out_pos.append(pos[j])
        out_alts.append([] if gap else alts)
        if gap and alts[0][1] >= min_log_prob:
            out_ids.append(alts[0][0])
            out_probs.append(math.exp(alts[0][1]))
            out_pos.append(pos[j])
            out_alts.append(alts)
    return (out_ids, out_probs, out_pos), out_alts
