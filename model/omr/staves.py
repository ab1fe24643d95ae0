"""Staff detection on page images: finds five-line staves by horizontal projection.

Used to reject images that hold no music, to normalise staff height before recognition, and to cut
pages into systems. Copes with mild skew by trying small rotations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Staff:
    """A five-line staff: the y of each line (pixels, top to bottom) and its horizontal extent."""

    lines: tuple[float, ...]
    left: int
    right: int

    @property
    def top(self) -> float:
        return self.lines[0]

    @property
    def bottom(self) -> float:
        return self.lines[-1]

    @property
    def spacing(self) -> float:
        return (self.lines[-1] - self.lines[0]) / 4.0

    @property
    def height(self) -> float:
        return self.lines[-1] - self.lines[0]


def binarize(page: np.ndarray) -> np.ndarray:
    """Dark pixels as True, with a threshold between paper and ink (Otsu on a histogram)."""
    hist = np.bincount(page.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    omega = np.cumsum(hist) / total
    mu = np.cumsum(hist * np.arange(256)) / total
    sigma_b = (mu[-1] * omega - mu) ** 2 / np.maximum(omega * (1 - omega), 1e-12)
    threshold = int(np.argmax(sigma_b))
    return page <= min(threshold, 200)


def _line_rows(ink: np.ndarray, min_fill: float) -> list[tuple[float, float]]:
    """Rows where a long stretch is dark, merged into (centre, strength) line candidates."""
    h, w = ink.shape
    fill = ink.mean(axis=1)
    rows = np.nonzero(fill >= min_fill)[0]
    lines = []
    start = prev = None
    for r in rows:
        if start is None:
            start = prev = r
        elif r == prev + 1:
            prev = r
        else:
            lines.append((start, prev))
            start = prev = r
    if start is not None:
        lines.append((start, prev))
    out = []
    for a, b in lines:
        if b - a > max(6, h // 150):  # a thick dark band is not a staff line
            continue
        seg = fill[a:b + 1]
        out.append((float((np.arange(a, b + 1) * seg).sum() / seg.sum()), float(seg.max())))
    return out


def _group_staves(lines: list[tuple[float, float]]) -> list[tuple[float, ...]]:
    ys = [y for y, _ in lines]
    staves = []
    i = 0
    while i + 4 < len(ys):
        five = ys[i:i + 5]
        gaps = np.diff(five)
        g = float(np.median(gaps))
        if g >= 3 and np.all(np.abs(gaps - g) <= max(1.5, 0.2 * g)):
            staves.append(tuple(five))
            i += 5
        else:
            i += 1
    return staves


def _rotate(page: np.ndarray, angle: float) -> np.ndarray:
    from scipy.ndimage import rotate

    return rotate(page, angle, reshape=False, order=1, mode="constant", cval=255)


def detect_staves(page: np.ndarray, max_skew: float = 2.0) -> tuple[list[Staff], float]:
    """Find staves on a grayscale page.

    Args:
        page: uint8 grayscale (H, W), dark ink on light paper.
        max_skew: largest rotation in degrees to try.

    Returns:
        (staves on the deskewed page, the rotation in degrees that deskews it).
    """
    page = np.asarray(page, dtype=np.uint8)
    h, w = page.shape
    scale = 1.0
    if max(h, w) > 2400:  # detection works on a reduced copy
        scale = 2400 / max(h, w)
        from PIL import Image

        small = np.asarray(Image.fromarray(page).resize((max(1, int(w * scale)), max(1, int(h * scale))),
                                                        Image.BILINEAR))
    else:
        small = page
    best: tuple[int, float, list] = (-1, 0.0, [])
    angles = [0.0] + [a for s in np.arange(0.25, max_skew + 1e-9, 0.25) for a in (s, -s)]
    for angle in angles:
        img = small if angle == 0 else _rotate(small, angle)
        ink = binarize(img)
        staves = _group_staves(_line_rows(ink, min_fill=0.35))
        if len(staves) > best[0]:
            best = (len(staves), angle, staves)
        if angle == 0 and staves and len(staves) >= 1:
            # straight pages are the common case; stop early when lines are crisp
            break
    _, angle, staves = best
    result = []
    ink = binarize(small if angle == 0 else _rotate(small, angle))
    for lines in staves:
        band = ink[int(lines[2]) - 1:int(lines[2]) + 2].any(axis=0)
        cols = np.nonzero(band)[0]
        left, right = (int(cols.min()), int(cols.max())) if cols.size else (0, small.shape[1] - 1)
        result.append(Staff(tuple(y / scale for y in lines), int(left / scale), int(right / scale)))
    return result, angle


def has_music(page: np.ndarray) -> bool:
    """True when at least one five-line staff is found."""
    staves, _ = detect_staves(page)
    return len(staves) > 0
