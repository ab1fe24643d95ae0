"""LMX in the order a reader's eye meets the symbols: left to right across the system.

LMX follows MusicXML document order: within a measure the upper staff's voice comes first, then a
``backup`` and the next voice or staff, so a token's place in the sequence says little about where its
symbol stands on the page. :func:`visual_order` rewrites a system's LMX as columns instead: the
clefs, key and time at the left, then for every onset in every measure its noteheads and rests from
the top staff down (highest pitch first), each as ``[accidental] PITCH|rest TYPE [dot]*``, and
``measure`` at every barline after the first measure. Voices, stems, beams, ties, slurs and directions
are left out.

The result is monotonic in x, which is what connectionist temporal classification (CTC) needs: an
auxiliary CTC head on the encoder can then learn, at every image column, which symbols stand there
(dense supervision of the reading itself, see ``ctc_weight`` in :mod:`model.training.train`).
"""

from __future__ import annotations

from fractions import Fraction

from model.tokenizers.lmx_vocab import (
    ACCIDENTALS,
    CLEFS,
    DURATION_TYPES,
    PITCHES,
    TUPLET_RATIOS,
    VOCAB,
    group_value,
)

_PITCH_RANK = {p: i for i, p in enumerate(PITCHES)}
_RATIOS = frozenset(TUPLET_RATIOS)
_NOTE_START = frozenset({"print-object:no", "grace", "chord", "rest"}) | frozenset(PITCHES)
_AMOUNT = frozenset(DURATION_TYPES) | _RATIOS | {"dot"}
_NOT_IN_NOTE = ("clef:", "key:", "time", "beats:", "beat-type:", "dynamics:", "wedge:", "metronome", "pedal:",
                "barline:", "repeat:", "ending:")
_INDEX = {t: i for i, t in enumerate(VOCAB)}


def _groups_value(tokens: list[str]) -> Fraction:
    """Length in quarters of ``(TYPE [RATIO] [dot]*)+`` (a backup/forward amount)."""
    total, i = Fraction(0), 0
    while i < len(tokens):
        t = tokens[i]
        i += 1
        if t not in DURATION_TYPES:
            continue
        ratio, dots = None, 0
        while i < len(tokens) and (tokens[i] in _RATIOS or tokens[i] == "dot"):
            if tokens[i] == "dot":
                dots += 1
            else:
                ratio = tokens[i]
            i += 1
        total += group_value(t, ratio, dots)
    return total


def _segments(tokens: list[str]) -> list[list[str]]:
    """Split LMX into measures/parts, notes, backups/forwards and single other tokens."""
    out: list[list[str]] = []
    cur: list[str] | None = None
    for t in tokens:
        in_note = cur is not None and cur[0] == "note"
        if t in _NOTE_START:
            # "grace chord C5": one note
            if in_note and not any(x == "rest" or x in _PITCH_RANK for x in cur):
                cur.append(t)
                continue
            cur = ["note", t]
            out.append(cur)
        elif t in ("backup", "forward"):
            cur = [t]
            out.append(cur)
        elif (cur is not None and cur[0] in ("backup", "forward") and t in _AMOUNT) or (
                in_note and t not in ("measure", "part") and not t.startswith(_NOT_IN_NOTE)):
            cur.append(t)
        else:
            cur = None
            out.append([t])
    return out


def visual_order(tokens: list[str]) -> list[str]:
    """The system's LMX as left-to-right columns (see the module docstring)."""
    measures: list[list[tuple]] = []      # per measure: (onset, staff order, rank, tokens)
    beats = Fraction(4)
    t = last_onset = Fraction(0)
    part = -1
    staff = 1
    header_seq = 0

    def emit(onset, stave, rank, toks):
        if not measures:
            measures.append([])
        measures[-1].append((onset, stave, rank, toks))

    segs = _segments(tokens)
    i = 0
    while i < len(segs):
        seg = segs[i]
        i += 1
        head = seg[0]
        if head == "measure":
            measures.append([])
            t = last_onset = Fraction(0)
            part, staff = 0, 1
            continue
        if head == "part":
            part += 1
            t = last_onset = Fraction(0)
            staff = 1
            continue
        base = max(part, 0) * 4
        if head in CLEFS:
            stave = 1
            if i < len(segs) and segs[i][0].startswith("staff:"):
                stave = int(segs[i][0].split(":")[1])
                i += 1
            header_seq += 1
            emit(t - Fraction(1, 64) if t else Fraction(-3), base + stave, header_seq, [head])
            continue
        if head.startswith("key:"):
            emit(t - Fraction(1, 128) if t else Fraction(-2), 0, 0, [head])
            continue
        if head == "time":
            toks = [head]
            while i < len(segs) and segs[i][0].startswith(("beats:", "beat-type:", "time:")):
                toks.append(segs[i][0])
                i += 1
            b = next((int(x.split(":")[1]) for x in toks if x.startswith("beats:")), 4)
            bt = next((int(x.split(":")[1]) for x in toks if x.startswith("beat-type:")), 4)
            beats = Fraction(4 * b, bt)
            emit(t - Fraction(1, 256) if t else Fraction(-1), 0, 0, toks)
            continue
        if head in ("backup", "forward"):
            amount = _groups_value(seg[1:])
            t = t - amount if head == "backup" else t + amount
            continue
        if head != "note":
            continue
        body = seg[1:]
        for x in body:
            if x.startswith("staff:"):
                staff = int(x.split(":")[1])
        note = next((x for x in body if x == "rest" or x in _PITCH_RANK), None)
        if note is None:
            continue
        grace, chord = "grace" in body, "chord" in body
        dtype = next((x for x in body if x in DURATION_TYPES), None)
        dots = body.count("dot")
        ratio = next((x for x in body if x in _RATIOS), None)
        dur = beats if "rest:measure" in body else (group_value(dtype, ratio, dots) if dtype else Fraction(0))
        if chord:
            onset = last_onset
        elif grace:
            onset = t - Fraction(1, 512)
        else:
            onset = t
            last_onset = t
            t = t + dur
        if "print-object:no" in body:
            continue
        toks = [x for x in body if x in ACCIDENTALS] + [note]
        toks += [dtype] + ["dot"] * dots if dtype else []
        rank = 10_000 if note == "rest" else -_PITCH_RANK[note]
        emit(onset, base + staff, rank, toks)
    out: list[str] = []
    for k, m in enumerate(measures):
        if k:
            out.append("measure")
        for _, _, _, toks in sorted(m, key=lambda e: (e[0], e[1], e[2])):
            out.extend(toks)
    return out


def visual_ids(lmx_ids: list[int]) -> list[int]:
    """:func:`visual_order` on LMX-local ids (indices of :data:`~model.tokenizers.lmx_vocab.VOCAB`)."""
    return [_INDEX[t] for t in visual_order([VOCAB[i] for i in lmx_ids])]
