"""A staff's opening, read: the key and time signature from the reader's header head, checked against the
measures read after them.

The reader (:mod:`model.omr.crnn`) writes clef, key and time through CTC too, but it writes them at
the strip's first column, before the glyphs, and reads them there barely better than its prior; its
header head reads them where they are printed. :func:`read_header` puts the head's choice into what CTC
read, for all the staves of one system at once (they share key and time): the time signature is the
head's best among those whose measure length is the length most measures were read with (when one of
its ten best is), because a 3/4 read as 4/4 makes every bar of the score wrong in a notation editor.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from model.tokenizers.lmx_vocab import PITCH_SET, group_value

NOTE_HEADS = PITCH_SET | {"rest"}   # the symbols that start a note or a rest


def header_symbols(symbols: list[str]) -> tuple[list[int], list[int]]:
    """The symbol ids of the header head's classes: key signatures, then time signatures."""
    keys = [i for i, s in enumerate(symbols) if s.startswith("key:")]
    times = [i for i, s in enumerate(symbols) if s.startswith("time:")]
    return keys, times


def header_labels(target: list[int], keys: list[int], times: list[int], reach: int = 4) -> tuple[int, int]:
    """(key class, time class) of a strip's target: the first key and time symbols among its first ``reach``
    symbols (a strip's opening); -100 (ignored) where there is none."""
    k = t = -100
    for sym in target[:reach]:
        if k < 0 and sym in keys:
            k = keys.index(sym)
        if t < 0 and sym in times:
            t = times.index(sym)
    return k, t


def set_header(ids: list[int], key: int, time: int, keys: list[int], times: list[int], reach: int = 4
               ) -> list[int]:
    """A strip's read symbols with the first key and time signature of its opening (its first ``reach``
    symbols, where the CTC path writes them) replaced by ``key`` and ``time`` (symbol ids). A strip read
    without a key or time signature keeps none."""
    out = list(ids)
    done_k = done_t = False
    for j in range(min(reach, len(out))):
        if not done_k and out[j] in keys:
            out[j], done_k = key, True
        elif not done_t and out[j] in times:
            out[j], done_t = time, True
    return out


def time_length(symbol: str) -> Fraction | None:
    """Quarters in a measure of a time signature symbol (``time:3/4`` -> 3, ``time:common`` -> 4)."""
    name = symbol.split(":", 1)[1]
    if name in ("common", "cut"):
        return Fraction(4)
    beats, _, beat_type = name.partition("/")
    return Fraction(4 * int(beats), int(beat_type)) if beats.isdigit() and beat_type.isdigit() else None


def duration_value(symbol: str) -> Fraction | None:
    """Quarters of a duration symbol (``d:eighth:3in2.``), None for anything else."""
    if not symbol.startswith("d:"):
        return None
    body = symbol[2:]
    dots = len(body) - len(body.rstrip("."))
    kind, _, ratio = body.rstrip(".").partition(":")
    try:
        return group_value(kind, ratio or None, dots)
    except (KeyError, ValueError):
        return None


def measure_lengths(staves: list[list[str]]) -> list[Fraction]:
    """The length of every complete measure read, by its first voice (grace notes, chord members and
    whole-measure rests left out): what the time signature has to agree with."""
    out = []
    for seq in staves:
        total, grace, whole = Fraction(0), False, False
        for i, sym in enumerate(seq):
            if sym == "measure":
                if total > 0 and not whole:
                    out.append(total)
                total, grace, whole = Fraction(0), False, False
            elif sym.startswith("grace"):
                grace = True
            elif sym == "rest:measure":
                whole = True
            elif sym.startswith("d:"):
                voice = seq[i + 1] if i + 1 < len(seq) else ""
                value = duration_value(sym)
                if value is not None and not grace and voice.split(":")[0] == "v1":
                    total += value
                grace = False
        if total > 0 and not whole:
            out.append(total)
    return out


def choose_time(scores, times: list[int], symbols: list[str], lengths: list[Fraction], top: int = 10) -> int:
    """The time signature (symbol id): the best-scored of the head's ``top`` whose measure length is the
    most common of ``lengths`` (any of them, when several are as common: a pickup and one full measure); the
    best-scored when none is, or when nothing was measured."""
    order = sorted(range(len(times)), key=lambda c: -float(scores[c]))
    if lengths:
        counts = Counter(lengths)
        common = {n for n, k in counts.items() if k == max(counts.values())}
        for c in order[:top]:
            if time_length(symbols[times[c]]) in common:
                return times[c]
    return times[order[0]]


def smooth_keys(scores: list, change: float = 6.0) -> list[int]:
    """The key class of every system of a score: the path through the systems that best fits the header
    head's key log-probabilities (summed over each system's staves) when each change of key costs
    ``change`` (in nats): a key change is read where the head is sure of it, not where it wavers."""
    if not scores:
        return []
    n = len(scores[0])
    best = [float(v) for v in scores[0]]
    back: list[list[int]] = []
    for row in scores[1:]:
        top = max(range(n), key=lambda c: best[c])
        step, new = [], []
        for c in range(n):
            stay, move = best[c], best[top] - change
            step.append(c if stay >= move else top)
            new.append(max(stay, move) + float(row[c]))
        back.append(step)
        best = new
    path = [max(range(n), key=lambda c: best[c])]
    for step in reversed(back):
        path.append(step[path[-1]])
    return path[::-1]


def key_changes(reads: list[list[int]], symbols: list[str], now: int, then: int | None,
                reach: int = 4) -> list[list[int]]:
    """A system's staves with the key changes CTC read inside them (past the opening) made to agree with
    the key the header head reads at the next system: changed to it (``then``, a symbol id) when the next
    system's key differs from this one's (``now``), dropped when it does not. In the last system
    (``then`` None) a change is kept only where every staff reads the same one."""
    keys = set(header_symbols(symbols)[0])
    inner = [[i for i in ids[reach:] if i in keys] for ids in reads]
    if then is None:
        agreed = len({tuple(k) for k in inner}) == 1
        return [list(ids) for ids in reads] if agreed else [
            ids[:reach] + [i for i in ids[reach:] if i not in keys] for ids in reads]
    if then == now:
        return [ids[:reach] + [i for i in ids[reach:] if i not in keys] for ids in reads]
    return [ids[:reach] + [then if i in keys else i for i in ids[reach:]] for ids in reads]


def read_header(reads: list[list[int]], key_scores, time_scores, symbols: list[str],
                key: int | None = None) -> list[list[int]]:
    """The staves of one system as read by CTC (symbol ids), with the key and time signature of their
    opening chosen from the header head's scores (summed over the staves); ``key`` (a class) when the key
    was chosen over the whole score."""
    keys, times = header_symbols(symbols)
    lengths = measure_lengths([[symbols[i] for i in ids] for ids in reads])
    if key is None:
        key = max(range(len(keys)), key=lambda c: float(key_scores[c]))
    key = keys[key]
    time = choose_time(time_scores, times, symbols, lengths)
    return [set_header(ids, key, time, keys, times) for ids in reads]


def drop_courtesy(ids: list[int], symbols: list[str]) -> list[int]:
    """A staff's read symbols without a last measure that holds no note or rest: what follows the last bar
    line of a system is then a courtesy key or time signature (the next system prints it again), read as
    the start of a measure of its own."""
    last = max((j for j, i in enumerate(ids) if symbols[i] == "measure"), default=None)
    if last is None:
        return list(ids)
    tail = [symbols[i] for i in ids[last + 1:]]
    if any(s in NOTE_HEADS for s in tail):
        return list(ids)
    return list(ids[:last])
