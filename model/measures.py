"""Where the measures of an engraved score are and when they play: boxes on the page, start times, printed
numbers. The app draws them (the highlighted bar, a click that seeks); they are computed here, beside the
engraving and the performance they come from.
"""

from __future__ import annotations

import re

from model.perform import quarters_to_seconds, tempo_map

_TAG = re.compile(r'class="(measure|system)"')
_HLINE = re.compile(r'<path d="M(-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?) L(-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)"')
_VIEWBOX = re.compile(r'class="definition-scale"[^>]*viewBox="0 0 (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)"')
_MARGIN = re.compile(r'class="page-margin" transform="translate\((-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)\)"')


def measure_boxes(
    svg_pages: list[str], shapes: list[tuple[int, int]]
) -> list[tuple[int, float, float, float, float]]:
    """Each engraved measure's box on its page, in page pixels, from the staff lines in Verovio's SVG."""
    out = []
    for p, (svg, (h, w)) in enumerate(zip(svg_pages, shapes)):
        vb, mg = _VIEWBOX.search(svg), _MARGIN.search(svg)
        if vb is None:
            continue
        sx, sy = w / float(vb.group(1)), h / float(vb.group(2))
        tx, ty = (float(mg.group(1)), float(mg.group(2))) if mg else (0.0, 0.0)
        tags = list(_TAG.finditer(svg))
        for i, m in enumerate(tags):
            if m.group(1) != "measure":
                continue
            end = tags[i + 1].start() if i + 1 < len(tags) else len(svg)
            xs, ys = [], []
            for x1, y1, x2, y2 in _HLINE.findall(svg, m.end(), end):
                if y1 == y2:
                    xs += [float(x1), float(x2)]
                    ys.append(float(y1))
            if xs:
                pad = 0.5 * (max(ys) - min(ys)) / max(1, len(set(ys)) - 1) * 3 if len(set(ys)) > 1 else 200
                out.append((p, (min(xs) + tx) * sx, (min(ys) - pad + ty) * sy, (max(xs) + tx) * sx,
                            (max(ys) + pad + ty) * sy))
    return out


def _seconds(offsets: list[float], score) -> list[float]:
    """Quarter offsets -> seconds under the tempo map the performance plays (120 where there is none)."""
    return quarters_to_seconds(offsets, tempo_map(score))


def measure_times(notation) -> tuple[list[float], list[tuple[float, int]]]:
    """When each written measure (first part) plays, following the metronome marks and the repeats.

    Returns the first start of each measure in seconds, and the play order: (start, measure index)
    for every measure as performed, repeats and endings written out as the MIDI plays them.
    """
    from model.perform import expand_repeats

    try:
        score = notation.score
        written = list(score.parts[0].getElementsByClass("Measure"))
        first = _seconds([float(m.offset) for m in written], score)
    except Exception:
        return [], []
    order = [(t, i) for i, t in enumerate(first)]
    try:
        played = expand_repeats(score)
        if played is not score:
            index: dict = {}
            for i, m in enumerate(written):   # music21 marks repeated copies with a suffix ("1a")
                index.setdefault((m.number, m.numberSuffix), i)
                index.setdefault(m.number, i)
            measures = list(played.parts[0].getElementsByClass("Measure"))
            starts = _seconds([float(m.offset) for m in measures], played)
            seq = [
                (t, index.get((m.number, m.numberSuffix), index.get(m.number)))
                for m, t in zip(measures, starts)
            ]
            if all(i is not None for _, i in seq):
                order = seq
                seen: dict[int, float] = {}
                for t, i in order:
                    seen.setdefault(i, t)
                first = [seen.get(i, t) for i, t in enumerate(first)]
    except Exception:
        pass  # the written order is the fallback
    return first, order


def measure_numbers(notation) -> list[str]:
    """Each written measure's number as the score prints it: a pickup is 0 (or whatever the file says),
    a numbered suffix ("12a") is kept; measures without a number count on from the one before."""
    try:
        written = list(notation.score.parts[0].getElementsByClass("Measure"))
    except Exception:
        return []
    out, last = [], 0
    for m in written:
        number = m.number if isinstance(m.number, int) and (m.number or not out) else last + 1
        out.append(f"{number}{m.numberSuffix or ''}")
        last = number
    return out


