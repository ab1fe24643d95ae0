"""Page -> systems: group detected staves into systems and crop each one.

Two neighbouring staves belong to one system when a vertical line (a barline or the system's left
line) joins them. Crops reach halfway to the neighbouring systems, so ledger lines, dynamics and
lyrics stay with their staff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.omr.staves import Staff, _rotate, binarize, detect_staves


@dataclass(frozen=True)
class System:
    staves: tuple[Staff, ...]
    box: tuple[int, int, int, int]   # left, top, right, bottom on the deskewed page

    @property
    def spacing(self) -> float:
        return float(np.median([s.spacing for s in self.staves]))


def _joined(ink: np.ndarray, upper: Staff, lower: Staff) -> bool:
    top, bottom = int(round(upper.bottom)) + 1, int(round(lower.top)) - 1
    if bottom <= top:
        return True
    left = max(0, min(upper.left, lower.left) - int(2 * upper.spacing))
    right = min(ink.shape[1], max(upper.right, lower.right) + 2)
    band = ink[top:bottom, left:right]
    if band.size == 0:
        return False
    coverage = band.mean(axis=0)                       # share of inked rows per column
    return bool((coverage >= 0.9).any())


def find_systems(page: np.ndarray) -> tuple[list[System], np.ndarray]:
    """Systems on a page, top to bottom, and the deskewed page their boxes refer to."""
    staves, angle = detect_staves(page)
    page = page if angle == 0 else _rotate(page, angle)
    if not staves:
        return [], page
    ink = binarize(page)
    groups: list[list[Staff]] = [[staves[0]]]
    for prev, cur in zip(staves, staves[1:]):
        if _joined(ink, prev, cur):
            groups[-1].append(cur)
        else:
            groups.append([cur])
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
        systems.append(System(tuple(group), box))
    return systems, page


def crop(page: np.ndarray, system: System) -> np.ndarray:
    left, top, right, bottom = system.box
    return page[top:bottom, left:right]
