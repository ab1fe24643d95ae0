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


def darkness(page: np.ndarray) -> np.ndarray:
    """Ink darkness in [0, 1] relative to the paper (anti-aliased lines keep their full weight)."""
    paper = float(np.percentile(page, 90))
    paper = max(paper, 1.0)
    return np.clip((paper - page.astype(np.float32)) / paper, 0.0, 1.0)


def _windowed_fill(dark: np.ndarray, window: int) -> np.ndarray:
    """Per row, the darkest mean over windows of ``window`` columns (half a window apart)."""
    w = min(window, dark.shape[1])
    cs = np.concatenate([np.zeros((dark.shape[0], 1), np.float64), np.cumsum(dark, axis=1, dtype=np.float64)],
                        axis=1)
    starts = np.arange(0, dark.shape[1] - w + 1, max(1, w // 2))
    return ((cs[:, starts + w] - cs[:, starts]) / w).max(axis=1).astype(np.float32)


def find_peaks(x: np.ndarray, height: float, prominence: float, distance: int) -> tuple[np.ndarray, dict]:
    """``scipy.signal.find_peaks(x, height=, prominence=, distance=)``, the same peaks, without importing
    ``scipy.signal`` (most of a second at start-up): local maxima (a plateau's middle), then those at least
    ``height``, then the highest of those closer than ``distance``, then those at least ``prominence``
    above the higher of the lowest points on either side before a higher sample."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    peaks, i = [], 1
    while i < n - 1:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < n - 1 and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peaks.append((i + ahead - 1) // 2)
                i = ahead
        i += 1
    p = np.array(peaks, dtype=np.intp)
    p = p[x[p] >= height]
    keep = np.ones(len(p), bool)
    for j in np.argsort(x[p])[::-1]:
        if keep[j]:
            near = np.abs(p - p[j]) < distance
            near[j] = False
            keep[near] = False
    p = p[keep]
    prom = np.empty(len(p))
    for k, r in enumerate(p):
        higher = np.flatnonzero(x[:r] > x[r])
        left = x[higher[-1] + 1 if higher.size else 0:r + 1].min()
        higher = np.flatnonzero(x[r + 1:] > x[r])
        right = x[r:r + 1 + higher[0] if higher.size else n].min()
        prom[k] = x[r] - max(left, right)
    p = p[prom >= prominence]
    return p, {"peak_heights": x[p]}


def _line_rows(dark: np.ndarray, min_fill: float, window: int | None = None) -> list[tuple[float, float]]:
    """Staff-line candidates as (y centre, strength): peaks of the row darkness profile.

    Two-row sums keep anti-aliased lines whole; peak prominence separates a line from a beam lying
    on it (the beam covers part of the row, the line all of it).
    """
    fill = dark.mean(axis=1) if window is None else _windowed_fill(dark, window)
    pair = fill + np.concatenate([fill[1:], [0.0]])
    peaks, props = find_peaks(pair, height=min_fill, prominence=0.15, distance=3)
    out = []
    for r, height in zip(peaks, props["peak_heights"]):
        seg = fill[r:r + 2]
        centre = r + (float(seg[1]) / float(seg.sum()) if seg.sum() > 0 else 0.0)
        out.append((centre, float(height)))
    return out


def _spacing_estimate(ys: list[float]) -> float | None:
    gaps = np.diff(ys)
    gaps = gaps[(gaps >= 3) & (gaps <= 60)]
    if gaps.size < 4:
        return None
    hist, edges = np.histogram(gaps, bins=np.arange(3, 61, 1.0))
    k = int(np.argmax(hist))
    near = gaps[(gaps >= edges[k] - 1) & (gaps <= edges[k + 1] + 1)]
    return float(np.median(near))


def _group_staves(lines: list[tuple[float, float]]) -> list[tuple[float, ...]]:
    """Sets of five equally spaced lines; candidates in between (beams, ledger lines) are skipped."""
    ys = [y for y, _ in lines]
    g0 = _spacing_estimate(ys)
    if g0 is None:
        return []
    used: set[int] = set()
    staves = []
    for i in range(len(ys)):
        if i in used:
            continue
        picks, g = [i], g0
        for _ in range(4):
            target = ys[picks[-1]] + g
            tol = max(1.5, 0.2 * g0)
            cands = [m for m in range(picks[-1] + 1, len(ys)) if abs(ys[m] - target) <= tol and m not in used]
            if not cands:
                break
            picks.append(min(cands, key=lambda m: abs(ys[m] - target)))
            g = (ys[picks[-1]] - ys[picks[0]]) / (len(picks) - 1)
        if len(picks) == 5:
            used.update(picks)
            staves.append(tuple(ys[m] for m in picks))
    staves.sort()
    return staves


def _rotate(page: np.ndarray, angle: float) -> np.ndarray:
    from scipy.ndimage import rotate

    return rotate(page, angle, reshape=False, order=1, mode="constant", cval=255)


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a 1-D boolean array."""
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return int((stops - starts).max())


def _line_length(dark: np.ndarray, lines: tuple) -> float:
    """The middle value, over the five lines, of the longest run along each line, in staff spaces.

    A run allows gaps of a fifth of a space (faded or broken lines of a scan) and counts pixels at
    least 0.3 as dark as the line's darkest tenth (a blurred photo's lines are half as dark as its notes).
    """
    from scipy.ndimage import binary_closing

    spacing = max(1.0, (lines[-1] - lines[0]) / 4.0)
    gap = max(1, int(round(spacing / 5)))
    runs = []
    for y in lines:
        r = int(round(y))
        band = dark[max(0, r - 1):r + 2]
        if band.size == 0:
            runs.append(0.0)
            continue
        row = band.max(axis=0)
        mask = row > max(0.1, 0.3 * float(np.percentile(row, 90)))
        if gap > 1:
            mask = binary_closing(mask, structure=np.ones(gap, bool))
        runs.append(_longest_run(mask) / spacing)
    return sorted(runs)[2]


def _inked_columns(dark: np.ndarray) -> np.ndarray:
    """The columns from the first to the last one with ink: a short staff on a wide page (one or two
    bars) then fills its row as a long one does."""
    cols = np.nonzero((dark > 0.5).sum(axis=0) >= 2)[0]
    if cols.size == 0 or cols[-1] - cols[0] < 64:
        return dark
    return dark[:, cols[0]:cols[-1] + 1]


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
    # whole rows first; if no angle finds a staff, look at the rows piece by piece (a staff much
    # shorter than the page: a bar or two)
    for windowed in (False, True):
        for angle in angles:
            img = small if angle == 0 else _rotate(small, angle)
            full = darkness(img)
            dark = _inked_columns(full)
            window = max(64, dark.shape[1] // 6) if windowed else None
            staves = _group_staves(_line_rows(dark, min_fill=0.35, window=window))
            if staves and max(_line_length(full, st) for st in staves) < 4.0:
                staves = []   # rows of text, not staves: no "line" runs unbroken for four spaces
            if len(staves) > best[0]:
                best = (len(staves), angle, staves)
            if angle == 0 and staves:
                break   # straight pages are the common case; stop early when lines are crisp
        if best[2]:
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
