"""MIDI event tokens and the unified vocabulary: round trips, windows, pedal, forgiving decoding."""

import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.tokenizers.base import TokenizationError
from model.tokenizers.midi import MidiTokenizer
from model.vocab import Vocabulary

TOK = MidiTokenizer()
SPS = TOK.config.steps_per_second


def make_pm(notes, pedal=(), program=0):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(v, p, s, e) for p, s, e, v in notes]
    inst.control_changes = [pretty_midi.ControlChange(64, val, t) for t, val in pedal]
    pm.instruments.append(inst)
    return pm


def round_trip(pm, window_s=10.0):
    seqs = TOK.encode_windows(pm, window_s)
    return TOK.stitch([TOK.decode(s.ids) for s in seqs], window_s)


def grid(pm):
    return TOK.quantise(pm)


def test_notes_velocity_and_pedal_survive_windows():
    notes = [(60, 0.0, 0.5, 100), (64, 0.25, 12.5, 40), (67, 9.99, 10.01, 70), (72, 19.5, 21.0, 127)]
    pm = make_pm(notes, pedal=[(0.1, 100), (3.0, 0), (9.5, 127), (15.0, 10)])
    back = round_trip(pm)
    a, pa = grid(pm)
    b, pb = grid(back)
    assert [(n.pitch, n.on, n.off) for n in a] == [(n.pitch, n.on, n.off) for n in b]
    assert all(abs(x.vbin - y.vbin) <= 1 for x, y in zip(a, b))
    assert pa == pb


def test_note_tied_over_two_window_borders_comes_back_as_one_note():
    pm = make_pm([(48, 1.0, 25.0, 80)])
    back = round_trip(pm)
    assert [(n.pitch, round(n.start, 2), round(n.end, 2)) for i in back.instruments for n in i.notes] == [
        (48, 1.0, 25.0)
    ]


def test_restruck_key_ends_the_earlier_note():
    pm = make_pm([(60, 0.0, 3.0, 80), (60, 1.0, 2.0, 80)])
    notes, _ = grid(pm)
    assert [(n.on, n.off) for n in notes] == [(0, SPS), (SPS, 2 * SPS)]
    assert grid(round_trip(pm))[0] == notes


def test_unknown_token_and_out_of_range_id_raise():
    with pytest.raises(TokenizationError):
        TOK.tokens_to_ids(["pitch:60", "banana"])
    with pytest.raises(TokenizationError):
        TOK.decode([TOK.vocab_size + 5])


notes_strategy = st.lists(
    st.tuples(st.integers(21, 108), st.integers(0, 2500), st.integers(1, 400), st.integers(1, 127)),
    min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notes_strategy, st.lists(st.tuples(st.integers(0, 2500), st.booleans()), max_size=8),
       st.sampled_from([0, 24, 40]))
def test_encode_decode_is_exact_on_the_10ms_grid(raw, pedal, program):
    notes = [(p, s / SPS, (s + d) / SPS, v) for p, s, d, v in raw]
    pm = make_pm(notes, pedal=[(t / SPS, 127 if down else 0) for t, down in pedal], program=program)
    a, pa = grid(pm)
    b, pb = grid(round_trip(pm))
    assert [(n.program, n.pitch, n.on, n.off) for n in a] == [(n.program, n.pitch, n.on, n.off) for n in b]
    assert all(abs(x.vbin - y.vbin) <= 1 for x, y in zip(a, b))
    assert pa == pb


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, TOK.vocab_size - 1), max_size=200))
def test_any_valid_ids_decode(ids):
    pm = TOK.decode(ids)
    for inst in pm.instruments:
        for n in inst.notes:
            assert 0 <= n.start < n.end and 1 <= n.velocity <= 127


def test_vocabulary_lays_out_modalities_and_round_trips(tmp_path):
    from model.tokenizers.lmx import LMXTokenizer

    vocab = Vocabulary.from_tokenizers({"lmx": LMXTokenizer(), "midi": TOK})
    lo_l, hi_l = vocab.range("lmx")
    lo_m, hi_m = vocab.range("midi")
    assert hi_l - lo_l == LMXTokenizer().vocab_size and hi_m - lo_m == TOK.vocab_size
    assert hi_l <= lo_m or hi_m <= lo_l
    specials = {vocab.pad, vocab.bos, vocab.eos, vocab.unk}
    assert len(specials) == 4 and not any(lo_l <= s < hi_l or lo_m <= s < hi_m for s in specials)
    mask = vocab.modality_mask("midi")
    assert all(mask[lo_m:hi_m]) and mask[vocab.eos] and not any(mask[lo_l:hi_l])
    assert vocab.to_local("midi", vocab.to_global("midi", [0, 5, 7])) == [0, 5, 7]
    assert vocab.target_id("lmx") != vocab.target_id("midi")
    vocab.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == vocab
