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
    assert all(s.grouped for s in systems)      # a brace and bar lines through the gap: one piano part


@pytest.mark.parametrize("group", [None, "bracket", "brace"])
def test_a_duet_without_a_group_is_two_parts(group):
    """Two staves that share only the system's left line are two parts; a bracket or brace groups them."""
    from music21 import layout, meter, note, stream

    from model.engrave import notation_to_image
    from model.inference.staff_reader import layout_of
    from model.io.types import Notation

    score = stream.Score()
    parts = []
    for pitches in (("A4", "B4", "G4", "A4"), ("D4", "E4", "F4", "E4")):
        part = stream.Part()
        for k in range(3):
            m = stream.Measure(number=k + 1)
            if k == 0:
                m.insert(0, meter.TimeSignature("4/4"))
            m.append([note.Note(p) for p in pitches])
            part.append(m)
        parts.append(part)
        score.insert(0, part)
    if group:
        score.insert(0, layout.StaffGroup(parts, symbol=group, barTogether=False))
    systems, _ = find_systems(notation_to_image(Notation(score), dpi=150).page(0))
    assert [len(s.staves) for s in systems] == [2]
    assert systems[0].grouped == bool(group)
    assert layout_of(2, systems[0].grouped) == ([2] if group else [1, 1])


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


def test_faint_blurred_lines_under_dark_notes_are_a_staff():
    """A blurred phone photo: the staff lines come out half as dark as the note heads on them, and the lines
    still run the staff's whole length."""
    from scipy.ndimage import gaussian_filter

    page = np.full((150, 900), 250.0)
    lines = [50, 60, 70, 80, 90]
    for y in lines:
        page[y:y + 2, 40:860] = 120                     # grey lines
    rng = np.random.default_rng(1)
    for x in range(60, 850, 12):                        # a run of sixteenths: black heads on every line
        y = lines[int(rng.integers(0, 5))]
        page[y - 4:y + 6, x:x + 10] = 0
    photo = gaussian_filter(page, 1.0).astype(np.uint8)
    staves, _ = detect_staves(photo)
    assert len(staves) == 1 and abs(staves[0].lines[0] - 50.5) < 1 and staves[0].right - staves[0].left > 700


def test_staff_line_peaks_are_scipys_peaks():
    """The staff finder's own peak picker (no ``scipy.signal`` import at start-up) finds exactly the peaks
    of ``scipy.signal.find_peaks`` with the same height, prominence and distance, plateaus included."""
    from scipy.signal import find_peaks as scipy_peaks

    from model.omr.staves import find_peaks

    rng = np.random.default_rng(0)
    for t in range(600):
        n = int(rng.integers(3, 300))
        x = rng.random(n) if t % 2 else np.round(rng.random(n) * 4) / 4
        height, prominence = float(rng.uniform(0, 1)), float(rng.uniform(0, 0.5))
        distance = int(rng.integers(1, 6))
        want, props = scipy_peaks(x, height=height, prominence=prominence, distance=distance)
        got, mine = find_peaks(x, height, prominence, distance)
        assert got.tolist() == want.tolist()
        assert np.allclose(mine["peak_heights"], props["peak_heights"])
