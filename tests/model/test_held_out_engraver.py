"""LilyPond as an engraver the reader never trains on: the evaluation's ``lilypond`` set."""

import numpy as np
import pytest

from model.omr.strips import staff_strips


def _melody() -> list[str]:
    from music21 import corpus

    from model.tokenizers.lmx import linearize

    soprano = corpus.parse("bach/bwv66.6").parts[0].measures(1, 4)
    return linearize(soprano)


def _grand_staff() -> list[str]:
    from music21 import corpus

    from model.tokenizers.lmx import linearize

    return linearize(corpus.parse("joplin/maple_leaf_rag").measures(1, 2))


def test_lilypond_engraves_single_and_grand_staves_that_the_reader_reads():
    from model.evaluate_reader import VARIANT_SETS, readings
    from model.inference.staff_reader import get_reader
    from model.inference.weights import PACKAGED_WEIGHTS, has_reader
    from model.io.types import ScoreImage
    from model.metrics import SER
    from model.progress import Reporter

    melody, grand = _melody(), _grand_staff()
    assert "staff:2" in grand and "staff:2" not in melody
    got = [(k, name, pages, ref) for k, name, pages, ref in readings(
        [("melody", melody), ("rag", grand)], seed=0, musescore=False, variants=("lilypond",))]
    names = [(k, name) for k, name, _, _ in got]
    assert names == [(0, "verovio clean"), (0, "verovio degraded"), (0, VARIANT_SETS["lilypond"]),
                     (1, "verovio clean"), (1, "verovio degraded"), (1, VARIANT_SETS["lilypond"])]
    for (_, _, pages, ref), want, staves in ((got[2], melody, 1), (got[5], grand, 2)):
        assert ref == want and len(pages) == 1 and pages[0].dtype == np.uint8
        systems, _ = staff_strips(pages[0])
        # one system of one or two staves (a grand staff's lower staff kept), no title or tagline read
        assert [len(row) for row in systems] == [staves]
    if not has_reader(PACKAGED_WEIGHTS):
        pytest.skip("the shipped weights carry no staff reader")
    for (_, _, pages, ref), most in ((got[2], 0.25), (got[5], 0.4)):
        hyp = get_reader(PACKAGED_WEIGHTS).read(ScoreImage.from_arrays(pages), Reporter()).tokens
        assert hyp.count("measure") == ref.count("measure")
        assert SER().add(hyp, ref) < most


def test_musescore_training_engravings_take_a_drawn_look(tmp_path):
    """``musescore --styles``: each batch in a look of its own (font, line widths, spacing), the labels
    unchanged; thicker lines and stems in the style are thicker on the page."""
    import re
    from xml.etree import ElementTree

    from model.data.staff_images import MUSESCORE_FONTS, load_musescore, musescore_batch, musescore_style

    rng = np.random.default_rng(0)
    looks = [ElementTree.fromstring(f"<Style>{musescore_style(rng)}</Style>") for _ in range(12)]
    assert {s.findtext("musicalSymbolFont") for s in looks} <= set(MUSESCORE_FONTS)
    assert len({s.findtext("musicalSymbolFont") for s in looks}) > 1
    assert all(0.06 <= float(s.findtext("staffLineWidth")) <= 0.16 for s in looks)
    melody = _melody()
    style = musescore_style(np.random.default_rng(1))
    inks = []
    for name, width in (("thin", "0.060"), ("thick", "0.160")):
        look = re.sub(r"<(staffLineWidth|stemWidth|ledgerLineWidth)>[^<]*<", rf"<\1>{width}<", style)
        (tmp_path / name).mkdir()
        assert musescore_batch([melody], tmp_path / name / "b.npz", style=look) == 1
        (img, tokens), = load_musescore(tmp_path / name)
        assert tokens == melody
        inks.append(float((255 - img.astype(np.float64)).sum()))
    assert inks[1] > 1.15 * inks[0]
