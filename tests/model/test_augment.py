"""Training-data augmentation: scanned-looking score images, human-like performances, recorded-sounding audio.

Real inputs: the chorale engraved by Verovio (conftest's ``chorale``), and its score-exact MIDI.
"""

from __future__ import annotations

import numpy as np
import pytest


# ---------------------------------------------------------------- degrade

def _shrink(img: np.ndarray, k: int = 4) -> np.ndarray:
    h, w = (img.shape[0] // k) * k, (img.shape[1] // k) * k
    return img[:h, :w].astype(float).reshape(h // k, k, w // k, k).mean(axis=(1, 3))


@pytest.fixture(scope="module")
def page_image(chorale):
    """The chorale's first page, engraved, cropped to its two systems (8 staves; page-like)."""
    from model.engrave import notation_to_image

    page = notation_to_image(chorale).page(0)
    return np.ascontiguousarray(page[80:1020])


@pytest.fixture(scope="module")
def strip_image(page_image):
    """A one-staff strip about 160 x 1240 (the soprano staff of the first system)."""
    from model.omr.staves import detect_staves

    staves, _ = detect_staves(page_image)
    top = int(staves[0].top - 3 * staves[0].spacing)
    return np.ascontiguousarray(page_image[max(0, top):top + 160])


def test_degrade_shape_dtype_and_determinism(strip_image):
    from model.data.degrade import degrade

    a = degrade(strip_image, np.random.default_rng(1), 0.7)
    b = degrade(strip_image, np.random.default_rng(1), 0.7)
    c = degrade(strip_image, np.random.default_rng(2), 0.7)
    assert a.shape == strip_image.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, strip_image)


def test_degrade_strength_zero_is_close_and_input_untouched(strip_image):
    from model.data.degrade import degrade

    before = strip_image.copy()
    assert np.array_equal(degrade(strip_image, np.random.default_rng(0), 0.0), strip_image)
    diffs = []
    for seed in range(4):
        out = degrade(strip_image, np.random.default_rng(seed), 0.05)
        diffs.append(np.abs(out.astype(int) - strip_image.astype(int)).mean())
        # sub-pixel shifts from a tiny rotation flip thin-line pixels; at 1/4 size nothing moves
        assert np.percentile(np.abs(_shrink(out) - _shrink(strip_image)), 99) < 40, seed
    assert max(diffs) < 10.0, diffs      # a slightly darker paper at most
    strong = np.mean([np.abs(degrade(strip_image, np.random.default_rng(s), 1.0).astype(int)
                             - strip_image.astype(int)).mean() for s in range(4)])
    assert strong > max(diffs)
    assert np.array_equal(strip_image, before)


def test_degrade_keeps_staves_detectable(page_image, strip_image):
    from model.data.degrade import degrade
    from model.omr.staves import detect_staves

    n_page = len(detect_staves(page_image)[0])
    assert n_page == 8
    for seed in range(3):
        params: dict = {}
        out = degrade(page_image, np.random.default_rng(seed), 0.5, params=params)
        assert len(detect_staves(out)[0]) == n_page, (seed, params)
    for seed in range(4):
        out = degrade(strip_image, np.random.default_rng(100 + seed), 1.0)
        assert len(detect_staves(out)[0]) == 1, seed


def test_degrade_ink_stays_dark(strip_image):
    """The music is still there: about as much clearly dark ink as before, well apart from the paper."""
    from model.data.degrade import degrade

    ink0 = (strip_image < 128).mean()
    for seed in range(6):
        out = degrade(strip_image, np.random.default_rng(seed), 1.0)
        paper = np.percentile(out, 90)
        assert paper - np.percentile(out, 1) > 90, seed
        ink = (out < paper - 60).mean()
        assert 0.4 * ink0 < ink < 2.5 * ink0, (seed, ink, ink0)


def test_contact_sheet(strip_image, page_image):
    from model.data.degrade import contact_sheet

    sheet = contact_sheet([strip_image, page_image, strip_image], columns=2, width=800)
    assert sheet.dtype == np.uint8 and sheet.ndim == 2 and sheet.shape[1] == 800
    assert (sheet == 160).any()    # separators
    assert sheet.shape[0] > page_image.shape[0] * 398 / page_image.shape[1]
