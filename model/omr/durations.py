"""Note values re-chosen so that each voice of a measure fills the measure, where the reader wavered.

The reader (CTC, greedy) reads every note value on its own. A half note read as a quarter leaves its voice
a beat short of the time signature, and the join (:func:`model.tokenizers.staff_symbols.assemble`) then
writes wrong backups and hidden rests after it. Where a voice's values do not add up to the measure, the
values are chosen again among the reader's next-best duration symbols at each note's own output frame: the
choice with the least loss of log-probability that makes the voice fill the measure exactly, taken only when
that loss is at most ``max_cost`` nats. The staff's main voice (its lowest-numbered) is fitted when it is
short or long; other voices only when long, since a second voice may start late over hidden rests the staff
does not print. The score's first and last measures are only fitted where long: a pickup or a closing
measure is written short.

Measured on 360 readings of 120 validation-split excerpts (Verovio clean and degraded, MuseScore 3), LMX
SER over all: 16.0% as read, 15.1% (``max_cost`` 3), 14.95% (8), 14.9% (12), 15.0% (no limit, where
single staves get worse); grand staves gain most (clean 16.9% -> 15.5%).
"""

from __future__ import annotations

from fractions import Fraction

from model.omr.header import duration_value, time_length
from model.tokenizers.staff_symbols import _VOICE_SYMS

# per read symbol: (symbol id of its kind, log-probability), best first
Alternatives = list[list[tuple[int, float]]]


def symbol_alternatives(log_probs, ids: list[int], pos: list[int], kind_ids, top: int = 4) -> Alternatives:
    """For every read symbol of a kind (``kind_ids``: the note values, say, or the pitches), the ``top``
    symbols of that kind at its output frame with their log-probabilities (``log_probs``: frames x symbols,
    a tensor); an empty list for other symbols."""
    if not len(kind_ids):
        return [[] for _ in ids]
    index = {int(d) for d in kind_ids.tolist()}
    out: Alternatives = []
    for i, t in zip(ids, pos):
        if i not in index:
            out.append([])
            continue
        values, where = log_probs[t, kind_ids].topk(min(top, len(index)))
        out.append([(int(kind_ids[w]), float(v)) for v, w in zip(values, where)])
    return out


def gap_alternatives(log_probs, ids: list[int], pos: list[int], prefix_ids: set[int], head_ids: set[int],
                     pitch_ids, top: int = 4) -> Alternatives:
    """For every read note prefix (``prefix_ids``: a chord mark, an accidental) that no note head
    (``head_ids``: pitches, a rest) follows, only more prefixes, the ``top`` pitches the reader saw best in
    the frames after it, up to the next symbol read, with their log-probabilities (each at its best frame);
    an empty list elsewhere. :func:`model.omr.chords.missing_pitches` reads them."""
    out: Alternatives = [[] for _ in ids]
    for j, i in enumerate(ids):
        if i not in prefix_ids or (j + 1 < len(ids) and (ids[j + 1] in prefix_ids or ids[j + 1] in head_ids)):
            continue
        end = pos[j + 1] if j + 1 < len(ids) else log_probs.shape[0]
        if end - pos[j] < 2:
            continue
        values, _ = log_probs[pos[j] + 1:end][:, pitch_ids].max(0)
        best, where = values.topk(min(top, len(pitch_ids)))
        out[j] = [(int(pitch_ids[w]), float(v)) for v, w in zip(best, where)]
    return out


def _best_fill(notes: list[list[tuple[Fraction, float, int]]], length: Fraction):
    """The cheapest choice of one option per note whose values sum to ``length``: (cost, symbol ids), or
    None when there is none."""
    states: dict[Fraction, tuple[float, list[int]]] = {Fraction(0): (0.0, [])}
    for options in notes:
        nxt: dict[Fraction, tuple[float, list[int]]] = {}
        for total, (cost, chosen) in states.items():
            for value, c, sym in options:
                s = total + value
                if s > length:
                    continue
                if s not in nxt or cost + c < nxt[s][0]:
                    nxt[s] = (cost + c, chosen + [sym])
        states = nxt
        if not states:
            return None
    return states.get(length)


def fit_durations(ids: list[int], alternatives: Alternatives, symbols: list[str],
                  length: Fraction | None, opens: bool = True, closes: bool = True,
                  max_cost: float = 8.0) -> list[int]:
    """A staff's read symbols with note values re-chosen measure by measure (see the module's note);
    ``length``: quarters in a measure where the staff opens without a time signature (carried from the
    systems before), None when unknown; ``opens`` / ``closes``: the staff holds the score's first / last
    measure, which may be short (a pickup, the closing measure), so it is only fitted where it is long."""
    out = list(ids)
    for a, b, measure_length, short_ok in timed_measures(ids, symbols, length, opens, closes):
        _fit_measure(out, alternatives, symbols, a, b, measure_length, short_ok, max_cost)
    return out


def timed_measures(ids: list[int], symbols: list[str], length: Fraction | None, opens: bool, closes: bool):
    """Each measure of a staff's read symbols whose length is known: (start, end) in ``ids``, its length
    in quarters (from the last time signature read, else ``length``) and whether it may be short (the
    score's first measure where the staff ``opens`` it, its last where it ``closes`` it)."""
    bounds, start = [], 0
    for j, i in enumerate(ids):
        if symbols[i] == "measure":
            bounds.append((start, j))
            start = j + 1
    bounds.append((start, len(ids)))
    for m, (a, b) in enumerate(bounds):
        for j in range(a, b):
            if symbols[ids[j]].startswith("time:"):
                length = time_length(symbols[ids[j]])
        if length is not None:
            yield a, b, length, (m == 0 and opens) or (m == len(bounds) - 1 and closes)


def measure_notes(out: list[int], symbols: list[str], a: int, b: int) -> list[tuple[int, int]] | None:
    """Every note or rest of ``out[a:b]`` that counts in its measure (grace notes do not): where its note
    value is and its voice (read in the symbol after the value); None for a whole-measure rest."""
    notes, grace = [], False
    for j in range(a, b):
        sym = symbols[out[j]]
        if sym == "rest:measure":
            return None
        if sym.startswith("grace"):
            grace = True
        elif sym.startswith("d:"):
            voice = _VOICE_SYMS.get(symbols[out[j + 1]]) if j + 1 < b else None
            if not grace and voice is not None:
                notes.append((j, voice[0]))
            grace = False
    return notes


def _fit_measure(out: list[int], alternatives: Alternatives, symbols: list[str], a: int, b: int,
                 length: Fraction, short_ok: bool, max_cost: float) -> None:
    voices: dict[int, list[int]] = {}
    for j, voice in measure_notes(out, symbols, a, b) or []:
        voices.setdefault(voice, []).append(j)
    if not voices:
        return
    main = min(voices)
    for voice, where in voices.items():
        values = [duration_value(symbols[out[j]]) for j in where]
        if any(v is None for v in values):
            continue
        total = sum(values, Fraction(0))
        if total == length or ((voice != main or short_ok) and total < length):
            continue
        notes = []
        for j in where:
            alts = alternatives[j]
            if not alts:
                notes.append([(duration_value(symbols[out[j]]), 0.0, out[j])])
                continue
            top = alts[0][1]
            opts = [(duration_value(symbols[s]), top - lp, s) for s, lp in alts]
            notes.append([o for o in opts if o[0] is not None and o[1] <= max_cost] or
                         [(duration_value(symbols[out[j]]), 0.0, out[j])])
        best = _best_fill(notes, length)
        if best is not None and best[0] <= max_cost:
            for j, sym in zip(where, best[1]):
                out[j] = sym
