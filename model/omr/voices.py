"""Voices read again where one of them holds more than its measure, from the reader's next-best voice symbols.

The reader reads every note's voice (and stem) as one symbol after its note value (``d:half``, ``v2:up``),
each on its own. A lone second voice that starts late (a half note under a dotted half, over a hidden rest)
looks much like a note of the first voice, and read as voice 1 it makes that voice a beat or more too long;
the join then writes the measure with backups that no engraver would. Where a voice of a measure holds more
than the measure, :func:`fit_voices` chooses the voices of its notes again among the reader's next-best voice
symbols at each note's own output frame: the choice with the least loss of log-probability after which no
voice is longer than the measure and the staff's main voice (its lowest-numbered) fills it, taken only when
that loss is at most ``max_cost`` nats. It runs before the note values are fitted
(:func:`model.omr.durations.fit_durations`) and before the time signature is checked against the
measures' lengths (:func:`model.omr.header.read_header`), which then count the voices as they were written.

Measured with ``python -m tools.reader_steps --split validation`` (360 readings, the shipped reader14), LMX
SER: all 8.10% -> 7.70%; grand staves Verovio clean 9.34% -> 8.66%, degraded 11.75% -> 11.15%, MuseScore 3
9.77% -> 9.26%; single staves unchanged. At most 1, 2, 4, 8, 16 nats: 7.85%, 7.81%, 7.70%, 7.88%, 8.26%.
Also re-choosing where the main voice is short while another voice is read: 7.73% (not done).
"""

from __future__ import annotations

from fractions import Fraction

from model.omr.durations import Alternatives, measure_notes, timed_measures
from model.omr.header import duration_value
from model.tokenizers.staff_symbols import _VOICE_SYMS

# the most states kept while choosing (the cheapest): a measure has a few voices and at most a few dozen notes
_BEAM = 400


def voice_number(symbol: str) -> int | None:
    """The voice of a voice symbol (``v2:up`` -> 2), else None."""
    voice = _VOICE_SYMS.get(symbol)
    return None if voice is None else voice[0]


def _events(out: list[int], symbols: list[str], a: int, b: int) -> list[tuple[int, Fraction]] | None:
    """Where each note's voice symbol is in ``out[a:b]`` and its value
    (:func:`model.omr.durations.measure_notes`); None for a whole-measure rest or a value the measure cannot
    count."""
    events = []
    for j, _ in measure_notes(out, symbols, a, b) or []:
        value = duration_value(symbols[out[j]])
        if value is None:
            return None
        events.append((j + 1, value))
    return events


def _totals(events: list[tuple[int, Fraction]], out: list[int], symbols: list[str]) -> dict[int, Fraction]:
    totals: dict[int, Fraction] = {}
    for j, value in events:
        v = voice_number(symbols[out[j]])
        totals[v] = totals.get(v, Fraction(0)) + value
    return totals


def _best_voices(options: list[list[tuple[int, float, int]]], values: list[Fraction], length: Fraction,
                 short_ok: bool):
    """The cheapest choice of one (voice, cost, symbol) per note after which no voice holds more than
    ``length`` and the lowest voice holds all of it (or less, where ``short_ok``): (cost, symbols) or None."""
    states: dict[tuple, tuple[float, list[int]]] = {(): (0.0, [])}
    for opts, value in zip(options, values):
        nxt: dict[tuple, tuple[float, list[int]]] = {}
        for key, (cost, chosen) in states.items():
            totals = dict(key)
            for voice, c, sym in opts:
                total = totals.get(voice, Fraction(0)) + value
                if total > length:
                    continue
                k = tuple(sorted({**totals, voice: total}.items()))
                if k not in nxt or cost + c < nxt[k][0]:
                    nxt[k] = (cost + c, chosen + [sym])
        states = dict(sorted(nxt.items(), key=lambda kv: kv[1][0])[:_BEAM])
        if not states:
            return None
    done = [v for k, v in states.items() if k and (short_ok or k[0][1] == length)]
    return min(done, key=lambda v: v[0]) if done else None


def fit_voices(ids: list[int], alternatives: Alternatives, symbols: list[str], length: Fraction | None,
               opens: bool = True, closes: bool = True, max_cost: float = 4.0) -> list[int]:
    """A staff's read symbols with the voices of each measure where a voice is too long re-chosen (see the
    module's note); ``alternatives``: per read symbol, the reader's best (symbol id, log-probability) at its
    frame, best first (voice symbols get voice symbols); ``length``, ``opens`` and ``closes`` as for
    :func:`model.omr.durations.fit_durations`."""
    out = list(ids)
    for a, b, measure, short_ok in timed_measures(ids, symbols, length, opens, closes):
        events = _events(out, symbols, a, b)
        if not events or max(_totals(events, out, symbols).values()) <= measure:
            continue
        options = []
        for j, _ in events:
            alts = alternatives[j] if j < len(alternatives) else []
            top = alts[0][1] if alts else 0.0
            cheapest: dict[int, tuple[int, float, int]] = {}
            for s, lp in alts:
                v = voice_number(symbols[s])
                if v is not None and top - lp <= max_cost and v not in cheapest:
                    cheapest[v] = (v, top - lp, s)
            options.append(list(cheapest.values()) or [(voice_number(symbols[out[j]]), 0.0, out[j])])
        best = _best_voices(options, [v for _, v in events], measure, short_ok)
        if best is not None and best[0] <= max_cost:
            for (j, _), sym in zip(events, best[1]):
                out[j] = sym
    return out
