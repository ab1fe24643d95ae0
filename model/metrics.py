"""The paper's metrics: symbol error rate on LMX tokens and note F1 with mir_eval.

SER is micro-averaged: the summed edit distances over the summed reference lengths (paper 6.1).
Note F1 follows mir_eval's transcription metrics with a 50 ms onset tolerance; "onset-offset" also
asks the offset to be within 20% of the note's duration or 50 ms, whichever is larger (paper 6.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance between two sequences (substitution, insertion, deletion cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@dataclass
class SER:
    """Accumulates the micro-averaged symbol error rate."""

    errors: int = 0
    reference: int = 0
    count: int = 0

    def add(self, hypothesis: Sequence[str], reference: Sequence[str]) -> float:
        d = edit_distance(list(hypothesis), list(reference))
        self.errors += d
        self.reference += len(reference)
        self.count += 1
        return d / max(1, len(reference))

    @property
    def value(self) -> float:
        return self.errors / max(1, self.reference)


def notes_array(pm) -> tuple[np.ndarray, np.ndarray]:
    """(intervals (N, 2) seconds, pitches (N,) Hz) of a PrettyMIDI's pitched notes."""
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        return np.zeros((0, 2)), np.zeros(0)
    iv = np.array([[n.start, max(n.end, n.start + 1e-3)] for n in notes], dtype=float)
    hz = 440.0 * 2.0 ** ((np.array([n.pitch for n in notes], dtype=float) - 69) / 12)
    return iv, hz


@dataclass
class NoteF1:
    """Accumulates note precision/recall/F1 (micro: counts summed over pieces)."""

    onset: list = field(default_factory=lambda: [0, 0, 0])         # matched, reference, estimated
    onset_offset: list = field(default_factory=lambda: [0, 0, 0])
    per_piece: list = field(default_factory=list)

    def add(self, estimate_pm, reference_pm) -> float:
        import mir_eval

        ref_iv, ref_hz = notes_array(reference_pm)
        est_iv, est_hz = notes_array(estimate_pm)
        m_on = m_off = 0
        if len(ref_iv) and len(est_iv):
            m_on = len(
                mir_eval.transcription.match_notes(
                    ref_iv, ref_hz, est_iv, est_hz, onset_tolerance=0.05, offset_ratio=None
                )
            )
            m_off = len(
                mir_eval.transcription.match_notes(
                    ref_iv,
                    ref_hz,
                    est_iv,
                    est_hz,
                    onset_tolerance=0.05,
                    offset_ratio=0.2,
                    offset_min_tolerance=0.05,
                )
            )
        for acc, m in ((self.onset, m_on), (self.onset_offset, m_off)):
            acc[0] += m
            acc[1] += len(ref_iv)
            acc[2] += len(est_iv)
        f = _f1(m_on, len(ref_iv), len(est_iv))
        self.per_piece.append(f)
        return f

    @property
    def onset_f1(self) -> float:
        return _f1(*self.onset)

    @property
    def onset_offset_f1(self) -> float:
        return _f1(*self.onset_offset)

    def summary(self) -> dict:
        m, r, e = self.onset
        return {"onset_f1": round(self.onset_f1, 4), "onset_offset_f1": round(self.onset_offset_f1, 4),
                "onset_precision": round(m / max(1, e), 4), "onset_recall": round(m / max(1, r), 4),
                "pieces": len(self.per_piece), "reference_notes": r}


def _f1(matched: int, reference: int, estimated: int) -> float:
    if reference == 0 and estimated == 0:
        return 1.0
    p = matched / max(1, estimated)
    r = matched / max(1, reference)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)
