"""Bar lines agreed between the two staves of a grand staff.

A piano's bar lines run through both staves, so the two staves of a grand staff have their bar lines in the
same columns. The reader reads each staff on its own and sometimes misses a bar line in a crowded staff
(runs of sixteenths) or reads a double bar line as two; the join then writes a measure too many, with one
staff's notes in it and a whole-measure rest on the other. Here, within a staff, two bar lines a few columns
apart with no note between them are one; and a bar line read on one staff only is given to the other, at
the same column.

A system never opens with an empty measure, but the reader may read a bar line before the first note: the
left hook of a first-ending bracket that starts the system, or its opening bar line (the Maple Leaf Rag's
three pages were read with an empty measure there, a measure too many). :func:`drop_opening_bar` removes a
bar line read before any note or rest when every staff of the system has one.
"""

from __future__ import annotations

from model.omr.header import NOTE_HEADS

Read = tuple[list[int], list[float], list[int]]   # symbol ids, their probabilities, their output positions


def _dedupe(read: Read, alts: list, symbols: list[str], bar: int, near: int) -> tuple[Read, list]:
    ids, probs, pos = read
    keep, last, note_since = [], None, True
    for j, i in enumerate(ids):
        if i == bar:
            if last is not None and not note_since and pos[j] - last <= near:
                continue
            last, note_since = pos[j], False
        elif symbols[i] in NOTE_HEADS:
            note_since = True
        keep.append(j)
    return ([ids[j] for j in keep], [probs[j] for j in keep], [pos[j] for j in keep]), [alts[j] for j in keep]


def _insert(read: Read, alts: list, bar: int, at: int) -> tuple[Read, list]:
    ids, probs, pos = read
    k = next((j for j, p in enumerate(pos) if p >= at), len(pos))
    return ((ids[:k] + [bar] + ids[k:], probs[:k] + [0.5] + probs[k:], pos[:k] + [at] + pos[k:]),
            alts[:k] + [[]] + alts[k:])


def agree_bars(reads: list[Read], alts: list, symbols: list[str], slots: int, near: int = 3
               ) -> tuple[list[Read], list]:
    """The two staves of a grand staff (``reads``, with their duration alternatives ``alts``) with their bar
    lines made to agree (see the module's note); ``near``: columns (4 pixels each) within which two bar lines
    are the same. Other systems are returned as read."""
    if len(reads) != 2:
        return reads, alts
    bar = symbols.index("measure")
    near_pos = near * slots
    done = [_dedupe(r, a, symbols, bar, near_pos) for r, a in zip(reads, alts)]
    bars = [[p for i, p in zip(r[0], r[2]) if i == bar] for r, _ in done]
    out = []
    for s, (read, alt) in enumerate(done):
        for p in bars[1 - s]:
            if not any(abs(p - q) <= near_pos for q in bars[s]) and read[2] and p < read[2][-1]:
                read, alt = _insert(read, alt, bar, p)
        out.append((read, alt))
    return [r for r, _ in out], [a for _, a in out]


def drop_opening_bar(reads: list[Read], alts: list, symbols: list[str]) -> tuple[list[Read], list]:
    """A system's staves (``reads`` and their duration alternatives ``alts``) without the bar line each read
    before its first note or rest, when every staff has one (see the module's note)."""
    bar = symbols.index("measure")
    first = []
    for ids, _, _ in reads:
        k = next((j for j, i in enumerate(ids) if i == bar or symbols[i] in NOTE_HEADS), None)
        first.append(k if k is not None and ids[k] == bar else None)
    if not first or None in first:
        return reads, alts
    out = [tuple(v[:k] + v[k + 1:] for v in read) for read, k in zip(reads, first)]
    return out, [a[:k] + a[k + 1:] for a, k in zip(alts, first)]
