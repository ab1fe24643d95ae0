"""Page -> staff strips: every staff cut out on its own, at a fixed size per staff space.

The staff reader (:mod:`model.omr.crnn`) reads one staff at a time. A strip is the staff's system
width, ``STRIP_HEIGHT`` rows centred on the staff's middle line, scaled so that one staff space is
``STAFF_SPACE`` pixels (a line-to-space pitch step is then half a space, 4 px: legible after the
network's downsampling). A grand staff becomes two strips that share the system's left and right
edges, so their columns line up and their bars can be joined.

Training images go through exactly this function too, so the reader learns on what it will see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.omr.staves import darkness
from model.omr.systems import find_systems

STAFF_SPACE = 8        # pixels between two staff lines in a strip (a reader may be made for another)
STRIP_SPACES = 16      # a strip's height in staff spaces: the staff (4) and 6 above and below it
STRIP_HEIGHT = STRIP_SPACES * STAFF_SPACE
MAX_STRIP_WIDTH = 4096


@dataclass(frozen=True)
class StaffStrip:
    """One staff, normalised: ``image`` is float32 (STRIP_SPACES * space, W), ink 1 and paper 0."""

    image: np.ndarray
    system: int                          # index of its system on the page, top to bottom
    staff: int                           # index of the staff inside its system
    box: tuple[int, int, int, int]       # left, top, right, bottom on the deskewed page
    scale: float                         # strip pixels per page pixel
    grouped: bool = True                 # its system's staves are grouped (see ``System.grouped``)


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    pil = Image.fromarray(img)
    method = Image.BOX if width < img.shape[1] else Image.BILINEAR
    return np.asarray(pil.resize((width, height), method))


def cut_strip(page: np.ndarray, lines: tuple[float, ...], left: int, right: int,
              spacing: float | None = None, space: int = STAFF_SPACE) -> tuple[np.ndarray, tuple, float]:
    """The strip of one staff (its line ys) between columns ``left`` and ``right`` of ``page``, scaled by
    ``spacing`` (the staff's own line spacing unless told: a system's staves share one scale) to ``space``
    pixels a staff space, ``STRIP_SPACES * space`` rows high."""
    spacing = max(spacing or (lines[-1] - lines[0]) / 4.0, 1.0)
    scale = space / spacing
    height = STRIP_SPACES * space
    centre = (lines[0] + lines[-1]) / 2.0
    half = height / 2.0 / scale
    top, bottom = int(round(centre - half)), int(round(centre + half))
    h, w = page.shape
    left, right = max(0, int(left)), min(w, int(right))
    crop = np.full((bottom - top, max(1, right - left)), 255, dtype=np.uint8)
    y0, y1 = max(0, top), min(h, bottom)
    if y1 > y0 and right > left:
        crop[y0 - top:y1 - top] = page[y0:y1, left:right]
    width = int(np.clip(round(crop.shape[1] * scale), 8, MAX_STRIP_WIDTH))
    small = _resize(crop, width, height)
    return darkness(small), (left, top, right, bottom), scale


def staff_strips(page: np.ndarray, space: int = STAFF_SPACE) -> tuple[list[list[StaffStrip]], np.ndarray]:
    """The strips of every system on a page (systems top to bottom, staves top to bottom), ``space`` pixels a
    staff space, and the deskewed page their boxes refer to."""
    page = np.asarray(page, dtype=np.uint8)
    systems, straight = find_systems(page)
    out: list[list[StaffStrip]] = []
    for i, system in enumerate(systems):
        left, _, right, _ = system.box
        row = []
        for j, staff in enumerate(system.staves):
            image, box, scale = cut_strip(straight, staff.lines, left, right, system.spacing, space)
            row.append(StaffStrip(image, i, j, box, scale, system.grouped))
        out.append(row)
    return out, straight
