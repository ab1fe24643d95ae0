"""Clef changes written into training excerpts (model.data.clefs), as piano music has them."""

import re

import numpy as np
import pytest

from model.data.clefs import octave_clef, vary_clefs
from model.tokenizers.lmx import delinearize, linearize
from model.tokenizers.staff_symbols import staff_sequences

PITCH = re.compile(r"^[A-G]\d$")


def _grand_staff(bars: int = 4) -> list[str]:
    from music21 import chord, clef, key, layout, meter, note, stream

    score, upper, lower = stream.Score(), stream.PartStaff(), stream.PartStaff()
    for m in range(bars):
        mu, ml = stream.Measure(number=m + 1), stream.Measure(number=m + 1)
        if m == 0:
            mu.append([clef.TrebleClef(), key.KeySignature(-4), meter.TimeSignature("2/4")])
            ml.append([clef.BassClef(), key.KeySignature(-4), meter.TimeSignature("2/4")])
        for p in ("A-5", "C6", "E-6", "A-5"):
            mu.append(note.Note(p, quarterLength=0.5))
        for ps in (("A-2", "E-3"), ("C3", "A-3"), ("E-3", "G3"), ("A-2",)):
            ml.append(chord.Chord(list(ps), quarterLength=0.5))
        upper.append(mu)
        lower.append(ml)
    score.insert(0, upper)
    score.insert(0, lower)
    score.insert(0, layout.StaffGroup([upper, lower], symbol="brace"))
    return linearize(score)


def _pitches(symbols: list[str]) -> list[str]:
    return [s for s in symbols if PITCH.match(s)]


@pytest.mark.parametrize("seed", range(12))
def test_one_staff_changes_clef_and_its_notes_move_by_whole_octaves(seed):
    tokens = _grand_staff()
    varied = linearize(delinearize(vary_clefs(tokens, np.random.default_rng(seed))))
    before, after = staff_sequences(tokens), staff_sequences(varied)
    changed = [s for s in range(2) if after[s] != before[s]]
    assert len(changed) == 1                     # exactly one staff changed; the other is as written
    s = changed[0]
    clefs = [t for t in after[s] if t.startswith("clef:")]
    assert ("clef:F4" if s == 0 else "clef:G2") in clefs
    old, new = _pitches(before[s]), _pitches(after[s])
    assert len(old) == len(new) and [p[0] for p in old] == [p[0] for p in new]
    shifts = {int(b[1]) - int(a[1]) for a, b in zip(old, new)}
    assert shifts <= {-2, -1, 0, 1, 2} and shifts != {0}    # notes moved towards the new clef
    # the MusicXML a renderer gets has the clef where the symbols say
    from music21 import clef, converter

    parsed = converter.parseData(delinearize(varied), format="musicxml")
    found = [c for c in parsed.parts[s].recurse().getElementsByClass(clef.Clef)]
    assert any(isinstance(c, clef.BassClef if s == 0 else clef.TrebleClef) for c in found)


def test_a_change_inside_the_excerpt_goes_back_to_the_written_clef():
    tokens = _grand_staff(6)
    seen = set()
    for seed in range(40):
        after = staff_sequences(linearize(delinearize(vary_clefs(tokens, np.random.default_rng(seed)))))
        for staff in after:
            clefs = [t for t in staff if t.startswith("clef:")]
            if len(clefs) == 3:          # the written clef, the other one, the written one again
                assert clefs[0] == clefs[2] != clefs[1]
                seen.add("there and back")
            if len(clefs) == 2 and staff[0] == clefs[0]:
                seen.add("from a measure inside")
    assert seen == {"there and back", "from a measure inside"}


def test_excerpts_without_a_treble_or_bass_clef_are_left_as_written():
    from music21 import clef, note, stream

    part = stream.Part([clef.AltoClef(), note.Note("C4"), note.Note("D4")])
    tokens = linearize(part)
    assert "clef:C3" in tokens
    assert all(vary_clefs(tokens, np.random.default_rng(s)) == tokens for s in range(5))


def test_the_evaluation_reads_the_variants_apart_and_leaves_the_usual_readings_as_they_were():
    from model.evaluate_reader import readings

    items = [("built", _grand_staff())]
    usual = list(readings(items, seed=0, musescore=False))
    both = list(readings(items, seed=0, musescore=False, variants=("clefs", "text")))
    assert [k for _, k, _, _ in usual] == ["verovio clean", "verovio degraded"]
    assert [k for _, k, _, _ in both] == ["verovio clean", "verovio degraded", "verovio clef changes",
                                          "verovio with text"]
    for (_, _, pages, ref), (_, _, again, ref2) in zip(usual, both):
        assert ref == ref2 and all(np.array_equal(a, b) for a, b in zip(pages, again))
    _, _, _, clef_ref = both[2]
    clefs = [[t for t in q if t.startswith("clef:")] for q in staff_sequences(clef_ref)]
    assert clefs != [["clef:G2"], ["clef:F4"]] and ("clef:F4" in clefs[0] or "clef:G2" in clefs[1])
    assert both[3][3] == items[0][1]           # text is not read: the reference is the excerpt's own


def test_a_treble_staff_in_the_tenors_clef_sounds_an_octave_lower_and_engraves_with_its_eight():
    tokens = _grand_staff()
    tenor = octave_clef(tokens, np.random.default_rng(0))
    before, after = staff_sequences(tokens), staff_sequences(tenor)
    assert after[1] == before[1]                 # the bass staff is as written
    assert [t for t in after[0] if t.startswith("clef:")] == ["clef:G2-8"]
    old, new = _pitches(before[0]), _pitches(after[0])
    assert [p[0] for p in old] == [p[0] for p in new]
    assert {int(a[1]) - int(b[1]) for a, b in zip(old, new)} == {1}
    assert linearize(delinearize(tenor)) == tenor
    from music21 import clef, converter

    parsed = converter.parseData(delinearize(tenor), format="musicxml")
    assert isinstance(parsed.parts[0].recurse().getElementsByClass(clef.Clef).first(), clef.Treble8vbClef)
    # several parts number their staves alike; a staff that already changes clef keeps its clefs
    two_parts = tokens[:1] + ["part"] + tokens[1:]
    assert octave_clef(two_parts, np.random.default_rng(0)) == two_parts
    for seed in range(6):
        varied = linearize(delinearize(vary_clefs(tokens, np.random.default_rng(seed))))
        tenor = octave_clef(varied, np.random.default_rng(0))
        for was, now in zip(staff_sequences(varied), staff_sequences(tenor)):
            if sum(t.startswith("clef:") for t in was) > 1:
                assert now == was

def test_the_tenor_clef_variant_reads_apart():
    from model.evaluate_reader import readings

    items = [("built", _grand_staff())]
    both = list(readings(items, seed=0, musescore=False, variants=("octave",)))
    assert [k for _, k, _, _ in both] == ["verovio clean", "verovio degraded", "verovio tenor clef"]
    assert "clef:G2-8" in both[2][3] and "clef:G2-8" not in both[0][3]


def test_an_octave_clefs_pitches_are_labelled_where_they_stand_and_read_back_as_they_sound():
    from model.data.staff_images import strips_of
    from model.engrave import EngraveOptions, engrave_svg, svg_to_array
    from model.tokenizers.clef_octaves import as_drawn, as_sounding
    from model.tokenizers.staff_symbols import SYMBOLS

    tokens = _grand_staff(2)
    tenor = octave_clef(tokens, np.random.default_rng(0))
    plain, moved = staff_sequences(tokens), staff_sequences(tenor)
    # drawn, the tenor's staff is the treble staff but for its clef's glyph; the bass staff is untouched
    drawn = as_drawn(moved[0])
    assert drawn == [("clef:G2-8" if s == "clef:G2" else s) for s in plain[0]] and drawn != moved[0]
    assert as_drawn(moved[1]) == moved[1] and as_sounding(drawn) == moved[0]
    # a clef change inside a staff moves only the pitches after it, and back
    seq = ["clef:G2", "C5", "d:quarter", "clef:G2-8", "C5", "d:quarter", "clef:F4-8", "C3", "clef:G2", "C5"]
    assert as_drawn(seq) == ["clef:G2", "C5", "d:quarter", "clef:G2-8", "C6", "d:quarter", "clef:F4-8", "C4",
                             "clef:G2", "C5"]
    assert as_sounding(as_drawn(seq)) == seq
    # the training strips of an engraved tenor's staff are labelled as drawn
    page = svg_to_array(engrave_svg(delinearize(tenor), EngraveOptions())[0], 150)
    pairs = strips_of(page, tenor)
    assert len(pairs) == 2 and [SYMBOLS[k] for k in pairs[0][1]] == drawn
