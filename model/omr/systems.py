"""Page -> systems: group detected staves into systems and crop each one.

Two neighbouring staves belong to one system when a vertical line (a barline or the system's left
line) joins them. Crops reach halfway to the neighbouring systems, so ledger lines, dynamics and
lyrics stay with their staff. A system whose staves are grouped (a piano's grand staff: a brace, or bar
lines from staff to staff) is told from one whose staves share only the system's left line (a duet
engraved without a group: each staff a part of its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.omr.staves import Staff, _rotate, binarize, detect_staves


@dataclass(frozen=True)
class System:
    staves: tuple[Staff, ...]
    box: tuple[int, int, int, int]   # left, top, right, bottom on the deskewed page
    grouped: bool = True             # a brace, bracket or bar line joins its staves, not only the left line

    @property
    def spacing(self) -> float:
        return float(np.median([s.spacing for s in self.staves]))


def _joins(ink: np.ndarray, upper: Staff, lower: Staff) -> np.ndarray | None:
    """Page columns where a vertical line crosses the gap between two staves (None: no gap)."""
    top, bottom = int(round(upper.bottom)) + 1, int(round(lower.top)) - 1
    if bottom <= top:
        return None
    left = max(0, min(upper.left, lower.left) - int(2 * upper.spacing))
    right = min(ink.shape[1], max(upper.right, lower.right) + 2)
    band = ink[top:bottom, left:right]
    if band.size == 0:
        return np.zeros(0, dtype=np.int64)
    coverage = band.mean(axis=0)                       # share of inked rows per column
    return left + np.flatnonzero(coverage >= 0.9)


def _grouped(ink: np.ndarray, upper: Staff, lower: Staff, cols: np.ndarray | None) -> bool:
    """Whether more than the system's left line joins two staves (``cols``: :func:`_joins`): a bar line drawn
    through the gap, or a brace or bracket left of that line (ink on most rows from the upper staff's top to
    the lower's bottom; a part's name there covers far fewer)."""
    if cols is None or cols.size == 0:
        return True
    sp = upper.spacing
    line = int(cols[cols <= cols[0] + 2 * sp].max())     # the left line (a bracket may stand left of it)
    if (cols > line + 2 * sp).any():
        return True
    start = line
    while start - 1 in cols:
        start -= 1
    left, right = max(0, int(start - 3 * sp)), max(0, int(start - max(2.0, 0.3 * sp)))
    band = ink[int(upper.top):int(lower.bottom) + 1, left:right]
    return band.size > 0 and float(band.any(axis=1).mean()) >= 0.6


def find_systems(page: np.ndarray) -> tuple[list[System], np.ndarray]:
    """Systems on a page, top to bottom, and the deskewed page their boxes refer to."""
    staves, angle = detect_staves(page)
    page = page if angle == 0 else _rotate(page, angle)
    if not staves:
        return [], page
    ink = binarize(page)
    groups: list[list[Staff]] = [[staves[0]]]
    grouped = [True]
    for prev, cur in zip(staves, staves[1:]):
        cols = _joins(ink, prev, cur)
        if cols is None or cols.size > 0:
            groups[-1].append(cur)
            grouped[-1] = grouped[-1] and _grouped(ink, prev, cur, cols)
        else:
            groups.append([cur])
            grouped.append(True)
    h, w = page.shape
    systems = []
    for i, group in enumerate(groups):
        sp = float(np.median([s.spacing for s in group]))
        top = group[0].top - 6 * sp
        bottom = group[-1].bottom + 6 * sp
        if i > 0:
            top = max(top, (groups[i - 1][-1].bottom + group[0].top) / 2)
        if i + 1 < len(groups):
            bottom = min(bottom, (group[-1].bottom + groups[i + 1][0].top) / 2)
        left = min(s.left for s in group) - 3 * sp
        right = max(s.right for s in group) + 2 * sp
        box = (int(max(0, left)), int(max(0, top)), int(min(w, right)), int(min(h, bottom)))
        systems.append(System(tuple(group), box, grouped[i]))
    return systems, page


def crop(page: np.ndarray, system: System) -> np.ndarray:
    left, top, right, bottom = system.box
    return page[top:bottom, left:right]
