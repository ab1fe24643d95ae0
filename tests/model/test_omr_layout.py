"""Staff and system detection on engraved pages, straight and skewed, and on a photo without music."""

from __future__ import annotations

import numpy as np
import pytest

from model.omr.staves import detect_staves
from model.omr.systems import crop, find_systems


@pytest.fixture(scope="module")
def piano_page():
    from music21 import corpus

    from model.engrave import notation_to_image
    from model.io.types import Notation

    return notation_to_image(Notation(corpus.parse("joplin/maple_leaf_rag")), dpi=150).page(0)


def test_chorale_page_has_two_systems_of_four_staves(files):
    from model.io import load

    page = load(files["png"]).page(0)
    systems, _ = find_systems(page)
    assert [len(s.staves) for s in systems] == [4, 4]
    assert all(crop(page, s).shape[0] > 100 for s in systems)


def test_piano_page_gives_grand_staff_systems(piano_page):
    systems, _ = find_systems(piano_page)
    assert len(systems) >= 4 and all(len(s.staves) == 2 for s in systems)
    assert all(9 <= s.spacing <= 13 for s in systems)


@pytest.mark.parametrize("angle", [1.0, -1.5])
def test_skewed_scan_is_deskewed(piano_page, angle):
    from scipy.ndimage import rotate

    straight, _ = detect_staves(piano_page)
    skewed = rotate(piano_page, angle, reshape=False, order=1, cval=255)
    staves, found = detect_staves(skewed)
    assert abs(found + angle) <= 0.3
    assert len(staves) == len(straight)


def test_no_staves_in_noise():
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    photo = gaussian_filter(rng.random((700, 900)), 12)
    photo = (255 * (photo - photo.min()) / np.ptp(photo)).astype(np.uint8)
    assert detect_staves(photo)[0] == []


def test_a_one_bar_score_is_found():
    """A staff far shorter than the page (one bar) is still a staff."""
    from music21 import meter, note, stream

    from model.engrave import notation_to_image
    from model.io.types import Notation

    score, part, m = stream.Score(), stream.Part(), stream.Measure(number=1)
    m.insert(0, meter.TimeSignature("4/4"))
    for p in ("C5", "E5", "G5", "C6"):
        m.append(note.Note(p))
    part.append(m)
    score.insert(0, part)
    page = notation_to_image(Notation(score), dpi=150).page(0)
    staves, _ = detect_staves(page)
    assert len(staves) == 1 and staves[0].right - staves[0].left < page.shape[1] / 2


def test_a_page_of_bold_text_has_no_staves():
    """Evenly spaced dark rows of text are not staff lines (their runs break between letters)."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 16)
    for y in range(60, 1700, 21):
        draw.text((80, y), "The quick brown fox jumps over the lazy dog " * 3, font=font, fill=0)
    assert detect_staves(np.asarray(page))[0] == []
