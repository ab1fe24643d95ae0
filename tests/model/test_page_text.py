"""Lyrics, words and fingerings written onto training pages (model.data.text): seen, never read."""

import numpy as np

from model.data.text import add_text
from model.tokenizers.lmx import delinearize, linearize


def _excerpt() -> list[str]:
    from music21 import corpus

    from model.data.staff_images import piece_measures

    headed, plain = piece_measures(corpus.parse("bach/bwv66.6"))
    return headed[0] + [t for m in plain[1:4] for t in m]


def test_text_is_added_to_the_page_and_not_to_what_is_read():
    xml = delinearize(_excerpt())
    kinds = set()
    for seed in range(12):
        texted = add_text(xml, np.random.default_rng(seed))
        assert linearize(texted) == linearize(xml)           # the symbols to read are unchanged
        kinds |= {k for k in ("<lyric", "<words", "<fingering") if k in texted}
    assert kinds == {"<lyric", "<words", "<fingering"}


def test_a_page_with_text_is_engraved_and_cut_into_the_same_staves():
    from model.data.staff_images import engrave_system, strips_of

    tokens = _excerpt()
    xml = delinearize(tokens)
    texted = add_text(xml, np.random.default_rng(0), lyrics=1.0, words=1.0, fingering=1.0)
    assert texted.count("<lyric") >= 8 and "<fingering>" in texted
    plain, with_text = (engrave_system(x, np.random.default_rng(4)) for x in (xml, texted))
    assert (255 - with_text.astype(int)).sum() > 1.05 * (255 - plain.astype(int)).sum()   # more ink: the text
    pairs, plain_pairs = strips_of(with_text, tokens), strips_of(plain, tokens)
    assert len(pairs) == len(plain_pairs) >= 1
    assert [ids for _, ids in pairs] == [ids for _, ids in plain_pairs]
