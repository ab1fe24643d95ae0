"""The staff reader's parts: strips cut at a fixed size per staff space, the network's shapes, CTC decoding."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from model.omr.crnn import ReaderConfig, StaffReader, greedy_decode
from model.omr.strips import STAFF_SPACE, STRIP_HEIGHT, STRIP_SPACES, staff_strips

GRAND = """<?xml version="1.0"?><score-partwise version="3.1"><part-list><score-part id="P1"><part-name/></score-part>
</part-list><part id="P1"><measure number="1"><attributes><divisions>1</divisions><key><fifths>0</fifths></key>
<time><beats>4</beats><beat-type>4</beat-type></time><staves>2</staves><clef number="1"><sign>G</sign><line>2</line>
</clef><clef number="2"><sign>F</sign><line>4</line></clef></attributes>
<note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration><voice>1</voice><type>whole</type><staff>1</staff></note>
<backup><duration>4</duration></backup>
<note><pitch><step>C</step><octave>3</octave></pitch><duration>4</duration><voice>5</voice><type>whole</type><staff>2</staff></note>
</measure></part></score-partwise>"""


def _engrave(xml: str, space_px: float) -> np.ndarray:
    import verovio

    from model.engrave import svg_to_array

    tk = verovio.toolkit()
    tk.setOptions({"breaks": "none", "adjustPageHeight": True, "adjustPageWidth": True, "header": "none",
                   "footer": "none", "mmOutput": True, "scale": 100})
    assert tk.loadData(xml)
    return svg_to_array(tk.renderToSVG(1), dpi=int(space_px / 1.8 * 25.4))


@pytest.mark.parametrize("space_px,space", [(10.0, STAFF_SPACE), (15.0, STAFF_SPACE), (15.0, 10), (20.0, 12)])
def test_grand_staff_becomes_two_strips_with_lines_at_fixed_rows(space_px, space):
    systems, _ = staff_strips(_engrave(GRAND, space_px), space)
    assert [len(row) for row in systems] == [2]
    for strip in systems[0]:
        assert strip.image.shape[0] == STRIP_SPACES * space
        profile = strip.image.mean(axis=1)
        centre = STRIP_SPACES * space // 2
        # the five staff lines are the darkest rows of the strip's middle half (the other staff's lines may
        # reach its edges), one staff space apart around the middle
        quarter = STRIP_SPACES * space // 4
        lines = sorted(quarter + np.argsort(profile[quarter:-quarter])[-5:])
        expected = [centre + k * space for k in (-2, -1, 0, 1, 2)]
        assert all(abs(a - b) <= 1.5 for a, b in zip(lines, expected)), (lines, expected)
    a, b = systems[0]
    assert a.image.shape[1] == b.image.shape[1]        # shared system edges: columns line up
    assert a.box[1] < b.box[1]


def test_reader_output_positions_follow_strip_width():
    torch.manual_seed(0)
    model = StaffReader(ReaderConfig(classes=20, slots=3)).eval()
    x = torch.rand(2, 1, STRIP_HEIGHT, 96)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 96 // 4 * 3, 20)
    assert torch.allclose(y.exp().sum(-1), torch.ones(2, 72), atol=1e-4)
    assert model.output_lengths(torch.tensor([96, 40])).tolist() == [72, 30]


def test_greedy_decode_drops_blanks_and_repeats_and_keeps_positions():
    path = [0, 3, 3, 0, 3, 5, 5, 0, 0]
    lp = torch.full((1, len(path), 6), -10.0)
    for t, k in enumerate(path):
        lp[0, t, k] = 0.0
    ((ids, probs, pos),) = greedy_decode(lp, torch.tensor([len(path)]))
    assert ids == [3, 3, 5]
    assert pos == [1, 4, 5]
    assert all(p > 0.99 for p in probs)
    ((ids, _, _),) = greedy_decode(lp, torch.tensor([3]))   # only the first three positions count
    assert ids == [3]


def _pool_piece():
    from music21 import corpus

    from model.data.staff_images import piece_measures

    headed, plain = piece_measures(corpus.parse("bach/bwv66.6").parts[0])
    return {"source": "bach/bwv66.6", "headed": headed, "plain": plain}


def test_pool_excerpts_are_whole_measures_with_a_header():
    from model.data.staff_images import random_excerpt
    from model.tokenizers.lmx import delinearize

    piece = _pool_piece()
    rng = np.random.default_rng(0)
    for _ in range(5):
        tokens = random_excerpt(piece, rng, 3)
        assert tokens[0] == "measure" and 1 <= tokens.count("measure") <= 3
        assert any(t.startswith("key:") for t in tokens[:4]) and "clef:G2" in tokens
        delinearize(tokens)          # valid LMX


@pytest.mark.parametrize("space", [STAFF_SPACE, 12])
def test_training_strips_pair_each_staff_with_its_symbols(space):
    from model.data.staff_images import random_excerpt, staff_examples
    from model.tokenizers.staff_symbols import ids, staff_sequences

    piece = _pool_piece()
    rng = np.random.default_rng(3)
    made = 0
    for _ in range(4):
        tokens = random_excerpt(piece, rng, 2)
        examples = staff_examples(tokens, rng, degrade_prob=0.5, space=space)
        if not examples:
            continue
        made += 1
        (strip, target), = examples
        assert strip.dtype == np.uint8 and strip.shape[0] == STRIP_SPACES * space
        assert target == ids(staff_sequences(tokens)[0])
        assert strip.mean() < 60          # mostly paper (0), ink bright
    assert made >= 3


def test_shipped_reader_reads_an_engraved_melody(tmp_path):
    """The product's front door on a page it never saw: a chorale melody engraved by Verovio, read back."""
    from music21 import corpus, metadata

    from model.cli import main
    from model.inference.weights import PACKAGED_WEIGHTS, has_reader
    from model.io import load
    from model.metrics import SER
    from model.tokenizers.lmx import linearize

    if not has_reader(PACKAGED_WEIGHTS):
        pytest.skip("the shipped weights carry no staff reader yet (not shipped until it reads)")
    src = tmp_path / "melody.musicxml"
    melody = corpus.parse("bach/bwv66.6").parts[0]
    melody.metadata = metadata.Metadata(title="Chorale melody")   # music21 titles a cached parse otherwise
    melody.write("musicxml", fp=str(src))
    assert main(["convert", str(src), str(tmp_path / "melody.png"), "-q"]) == 0
    page = next(tmp_path.glob("melody*.png"))
    out = tmp_path / "read.musicxml"
    assert main(["convert", str(page), str(out), "-q", "--weights", str(PACKAGED_WEIGHTS)]) == 0
    ref, hyp = linearize(src), linearize(out)
    # titled after the scan (not music21's "Music21 Fragment"), and music21 reads what was written
    written = load(out).score
    assert written.metadata.movementName == page.stem and written.metadata.composer in (None, "")
    # the pickup's bar line right after two beamed eighths is read or missed as the page's scale moves by
    # half a percent (a title of another length): both the session-15 and session-16 readers miss it on
    # some pages, so one measure may be lost
    assert abs(hyp.count("measure") - ref.count("measure")) <= 1
    assert SER().add(hyp, ref) < 0.35


def test_a_single_staffs_short_voice_is_read_with_a_hidden_rest(tmp_path):
    """On one staff, a voice that starts late under another voice's second note starts with a hidden rest,
    as the engraver wrote it."""
    from music21 import clef, meter, note, stream

    from model.cli import main
    from model.inference.weights import PACKAGED_WEIGHTS, has_reader
    from model.tokenizers.lmx import linearize

    if not has_reader(PACKAGED_WEIGHTS):
        pytest.skip("the shipped weights carry no staff reader")
    first = stream.Measure(number=1)
    first.append([clef.TrebleClef(), meter.TimeSignature("3/4")])
    hidden = note.Rest(quarterLength=1)
    hidden.style.hideObjectOnPrint = True
    first.insert(0, stream.Voice([note.Note("E5", quarterLength=1), note.Note("F5", quarterLength=2)]))
    first.insert(0, stream.Voice([hidden, note.Note("C4", quarterLength=2)]))
    part = stream.Part([first, stream.Measure([note.Note("D5", quarterLength=3)], number=2)])
    src = tmp_path / "voices.musicxml"
    part.write("musicxml", fp=str(src))
    assert main(["convert", str(src), str(tmp_path / "voices.png"), "-q"]) == 0
    out = tmp_path / "read.musicxml"
    assert main(["convert", str(next(tmp_path.glob("voices*.png"))), str(out), "-q"]) == 0
    hyp = linearize(out)
    assert "print-object:no" in hyp and hyp.count("measure") == 2
    assert hyp.index("print-object:no") < hyp.index("C4")
    assert [t for t in hyp if t in ("E5", "F5", "C4", "D5")] == ["E5", "F5", "C4", "D5"]


def test_reading_assembles_without_invisible_rests():
    """A reader's voice that comes out short stays short: no hidden rests or extra backups are invented."""
    from model.tokenizers.lmx import delinearize
    from model.tokenizers.staff_symbols import assemble

    # 3/4, voice 1 read as a half note only, voice 2 full; then a measure with one voice
    staff = ["clef:G2", "key:fifths:0", "time:3/4", "E5", "d:half", "v1:down", "C4", "d:half.", "v2:up",
             "measure", "D5", "d:half.", "v1:down"]
    filled = assemble([staff], [1], fill=True)
    plain = assemble([staff], [1], fill=False)
    assert "print-object:no" in filled
    assert "print-object:no" not in plain
    assert plain.count("measure") == 2 and plain.count("E5") == plain.count("C4") == plain.count("D5") == 1
    delinearize(plain)


def test_header_head_reads_key_and_time_beside_ctc():
    from model.omr.header import header_labels, header_symbols, set_header
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    keys, times = header_symbols(list(SYMBOLS))
    assert [SYMBOLS[k] for k in keys] == [f"key:fifths:{i}" for i in range(-7, 8)]
    assert "time:3/4" in [SYMBOLS[t] for t in times] and len(set(keys) & set(times)) == 0
    model = StaffReader(ReaderConfig(classes=len(SYMBOLS), slots=3, keys=len(keys), times=len(times))).eval()
    with torch.no_grad():
        log_probs, key_logits, time_logits = model(torch.rand(2, 1, STRIP_HEIGHT, 40), header=True)
    assert log_probs.shape == (2, 30, len(SYMBOLS))          # a strip narrower than the head's reach is padded
    assert key_logits.shape == (2, 15) and time_logits.shape == (2, len(times))

    read = [SYMBOL_INDEX[s] for s in ["clef:G2", "key:fifths:0", "time:3/4", "C5", "d:quarter", "key:fifths:0"]]
    fixed = set_header(read, SYMBOL_INDEX["key:fifths:-3"], SYMBOL_INDEX["time:6/8"], keys, times)
    assert [SYMBOLS[i] for i in fixed][:3] == ["clef:G2", "key:fifths:-3", "time:6/8"]
    assert SYMBOLS[fixed[-1]] == "key:fifths:0"                # a key change later in the staff is the CTC's
    assert header_labels(fixed, keys, times) == (keys.index(SYMBOL_INDEX["key:fifths:-3"]),
                                                 times.index(SYMBOL_INDEX["time:6/8"]))
    untimed = [i for i in read if SYMBOLS[i] != "time:3/4"]   # no time signature read: none is invented
    assert set_header(untimed, keys[0], times[0], keys, times)[2] == SYMBOL_INDEX["C5"]
    assert header_labels(untimed[2:4], keys, times) == (-100, -100)


def test_untimed_excerpts_drop_the_whole_time_signature():
    from model.data.staff_images import random_excerpt, without_time
    from model.tokenizers.lmx import delinearize

    piece = _pool_piece()
    tokens = random_excerpt(piece, np.random.default_rng(0), 2, untimed=1.0)
    assert "time" not in tokens and not any(t.startswith(("beats:", "beat-type:")) for t in tokens)
    assert "<time" not in delinearize(tokens)
    assert without_time(["measure", "key:fifths:1", "time", "beats:3", "beat-type:4", "clef:G2"]) == [
        "measure", "key:fifths:1", "clef:G2"]


def test_the_time_signature_agrees_with_the_measures_read():
    from model.omr.header import choose_time, header_symbols, measure_lengths, read_header, time_length
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    assert time_length("time:6/8") == 3 and time_length("time:cut") == 4 and time_length("time:3/2") == 6
    staff = ["clef:G2", "key:fifths:0", "time:4/4", "C5", "d:quarter", "v1", "chord", "E5", "D5", "d:half.",
             "v1", "C4", "d:whole", "v2", "measure", "grace", "B4", "d:eighth", "v1", "C5", "d:quarter.", "v1",
             "D5", "d:eighth", "v1", "E5", "d:quarter:3in2", "v1", "F5", "d:quarter:3in2", "v1", "G5",
             "d:quarter:3in2", "v1", "measure", "rest:measure", "v1"]
    assert measure_lengths([staff]) == [4, 4]          # voice 1 only; grace notes and measure rests left out
    keys, times = header_symbols(list(SYMBOLS))
    scores = [0.0] * len(times)
    scores[times.index(SYMBOL_INDEX["time:3/4"])] = 5.0    # the head prefers 3/4 ...
    scores[times.index(SYMBOL_INDEX["time:4/4"])] = 4.0    # ... the measures say 4 quarters
    assert SYMBOLS[choose_time(scores, times, list(SYMBOLS), measure_lengths([staff]))] == "time:4/4"
    assert SYMBOLS[choose_time(scores, times, list(SYMBOLS), [])] == "time:3/4"   # nothing measured
    # a pickup of one quarter and one full measure are as common: the head's choice among them stands
    scores[times.index(SYMBOL_INDEX["time:1/4"])] = 1.0
    assert SYMBOLS[choose_time(scores, times, list(SYMBOLS), [1, 3])] == "time:3/4"
    assert SYMBOLS[choose_time(scores, times, list(SYMBOLS), [1, 4])] == "time:4/4"
    scores[times.index(SYMBOL_INDEX["time:1/4"])] = 0.0
    key_scores = [0.0] * len(keys)
    key_scores[keys.index(SYMBOL_INDEX["key:fifths:-2"])] = 1.0
    (fixed,) = read_header([[SYMBOL_INDEX[s] for s in staff]], key_scores, scores, list(SYMBOLS))
    assert [SYMBOLS[i] for i in fixed[:3]] == ["clef:G2", "key:fifths:-2", "time:4/4"]


def test_keys_change_across_systems_only_where_the_head_is_sure():
    from model.omr.header import smooth_keys

    def scores(sure: int, p: float):          # log-probabilities over 3 keys, ``p`` on ``sure``
        rest = (1 - p) / 2
        return [np.log(p if c == sure else rest) for c in range(3)]

    wavering = [scores(0, 0.9), scores(1, 0.5), scores(0, 0.9), scores(2, 0.45)]
    assert smooth_keys(wavering) == [0, 0, 0, 0]
    modulating = [scores(0, 0.99), scores(0, 0.99), scores(2, 0.999), scores(2, 0.999), scores(2, 0.999)]
    assert smooth_keys(modulating) == [0, 0, 2, 2, 2]
    assert smooth_keys([]) == [] and smooth_keys([scores(1, 0.6)]) == [1]


def test_key_changes_inside_a_system_agree_with_the_next_systems_key():
    from model.omr.header import key_changes
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    def ids(*syms):
        return [SYMBOL_INDEX[s] for s in syms]

    k = {n: SYMBOL_INDEX[f"key:fifths:{n}"] for n in (-5, -4, -2, -1)}
    upper = ids("clef:G2", "key:fifths:-4", "C5", "d:half", "measure", "key:fifths:-2", "D5", "d:half")
    lower = ids("clef:F4", "key:fifths:-4", "C3", "d:half", "measure", "key:fifths:-1", "D3", "d:half")
    symbols = list(SYMBOLS)
    changed = key_changes([upper, lower], symbols, k[-4], k[-5])       # the next system opens in 5 flats
    assert [SYMBOLS[i] for i in changed[0]][5] == "key:fifths:-5" and changed[1][5] == k[-5]
    dropped = key_changes([upper, lower], symbols, k[-4], k[-4])       # it opens in 4 flats: no change
    assert all(not any(i in k.values() for i in ids_[4:]) for ids_ in dropped)
    assert dropped[0][:4] == upper[:4] and len(dropped[0]) == len(upper) - 1
    assert key_changes([upper, lower], symbols, k[-4], None)[0] == dropped[0]     # last system, staves disagree
    agreeing = ids("clef:F4", "key:fifths:-4", "C3", "d:half", "measure", "key:fifths:-2", "D3", "d:half")
    assert key_changes([upper, agreeing], symbols, k[-4], None) == [upper, agreeing]


def test_a_widened_reader_reads_exactly_as_the_one_it_grew_from_and_its_new_channels_learn():
    from model.training.widen import widen

    torch.manual_seed(0)
    base = dict(classes=40, keys=15, times=20, header_pool=True, feature=40)
    old = StaffReader(ReaderConfig(**base, channels=(8, 12, 16, 24, 32), hidden=24))
    for mod in old.modules():  # trained batch-norm statistics, not the defaults
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-1, 1)
            mod.running_var.uniform_(0.5, 2)
    wide = StaffReader(ReaderConfig(**base, channels=(12, 16, 24, 32, 48), hidden=40))
    wide.load_state_dict(widen(old.state_dict(), old.config, wide))
    old.eval()
    wide.eval()
    x = torch.rand(2, 1, 128, 160)
    for a, b in zip(old(x, header=True), wide(x, header=True)):
        assert torch.allclose(a, b, atol=1e-5)
    wide.train()
    wide(x).sum().backward()
    assert wide.slots.weight.grad[:, 24:40].abs().sum() > 0   # a new LSTM unit's outgoing weights move
    assert wide.project[0].weight.grad[:, 32 * 4:].abs().sum() > 0   # so do a new channel's
    with pytest.raises(ValueError):
        widen(wide.state_dict(), wide.config, old)


def _read_with_second_choice(staff: list[str], kind_ids, where: int, second: str, second_lp: float,
                             read_lp: float):
    """A reading of ``staff`` (every symbol at ``read_lp`` on a frame of its own) with ``second`` the next
    best at symbol ``where``'s frame: the symbol ids and their alternatives among ``kind_ids``."""
    from model.omr.durations import symbol_alternatives
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    ids = [SYMBOL_INDEX[s] for s in staff]
    pos = list(range(0, 2 * len(ids), 2))
    log_probs = torch.full((2 * len(ids), len(SYMBOLS)), -20.0)
    for i, t in zip(ids, pos):
        log_probs[t, i] = read_lp
    log_probs[pos[where], SYMBOL_INDEX[second]] = second_lp
    return ids, symbol_alternatives(log_probs, ids, pos, kind_ids)


def test_a_voice_that_overfills_its_measure_is_read_again_from_the_next_best_voices():
    from model.omr.voices import fit_voices
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    symbols = list(SYMBOLS)
    voices = torch.tensor([i for i, s in enumerate(SYMBOLS) if s[:1] == "v" and s[1:2].isdigit()])

    def read(staff: list[str], second: float):
        """Symbol ids and their voice alternatives, the lower half note's second choice ``v2:up`` at ``second``."""
        return _read_with_second_choice(staff, voices, staff.index("C4") + 2, "v2:up", second, -0.6)

    # 3/4: a dotted half over a late half note, both read as voice 1 (five beats), then a full measure
    staff = ["clef:G2", "time:3/4", "E5", "d:half.", "v1:down", "C4", "d:half", "v1:down", "measure",
             "D5", "d:half.", "v1:down"]
    ids, alts = read(staff, -0.9)
    fixed = [SYMBOLS[i] for i in fit_voices(ids, alts, symbols, None)]
    assert fixed == staff[:7] + ["v2:up"] + staff[8:]
    assert fit_voices(ids, alts, symbols, None, max_cost=0.2) == ids            # too unsure a change
    ids, alts = read(staff, -20.0)
    assert fit_voices(ids, alts, symbols, None) == ids                          # no second voice in sight
    # voices that fit are left alone, however unsure; the time signature carries from the system before
    fits = ["E5", "d:half", "v1:down", "C4", "d:quarter", "v1:down", "measure", "D5", "d:half.", "v1:down"]
    fits_ids = [SYMBOL_INDEX[s] for s in fits]
    assert fit_voices(fits_ids, [[(i, 0.0)] for i in fits_ids], symbols, Fraction(3)) == fits_ids
    ids, alts = read(staff[2:], -0.9)
    assert fit_voices(ids, alts, symbols, Fraction(3))[5] == SYMBOL_INDEX["v2:up"]
    assert fit_voices(ids, alts, symbols, None) == ids                          # no time signature known


def test_a_chord_note_read_without_its_pitch_gets_the_pitch_seen_after_its_mark():
    from model.omr.chords import missing_pitches
    from model.omr.durations import gap_alternatives
    from model.tokenizers.staff_symbols import _PITCH_SET, SYMBOL_INDEX, SYMBOLS

    symbols = list(SYMBOLS)
    pitches = torch.tensor([i for i, s in enumerate(SYMBOLS) if s in _PITCH_SET])
    prefixes = {SYMBOL_INDEX[s] for s in ("chord", "flat", "sharp", "natural")}
    heads = {i for i, s in enumerate(SYMBOLS) if s in _PITCH_SET or s == "rest"}
    # C4-E4-G4, the G read as its chord mark and flat only: its pitch was seen (at -1.2) between them and the bar
    staff = ["C4", "d:whole", "v1", "chord", "E4", "chord", "flat", "measure", "D4", "d:whole", "v1"]
    ids = [SYMBOL_INDEX[s] for s in staff]
    pos = [3 * k for k in range(len(ids))]
    log_probs = torch.full((3 * len(ids), len(SYMBOLS)), -20.0)
    for i, t in zip(ids, pos):
        log_probs[t, i] = -0.1
    log_probs[pos[6] + 1, SYMBOL_INDEX["G4"]] = -1.2
    log_probs[pos[6] + 2, SYMBOL_INDEX["A4"]] = -2.5
    log_probs[pos[2] + 1, SYMBOL_INDEX["F4"]] = -0.5     # after a voice, not a mark: nothing is missing there
    gaps = gap_alternatives(log_probs, ids, pos, prefixes, heads, pitches)
    assert [k for k, g in enumerate(gaps) if g] == [6]            # the flat, the last mark before the gap
    assert gaps[6][:2] == [(SYMBOL_INDEX["G4"], pytest.approx(-1.2)), (SYMBOL_INDEX["A4"], pytest.approx(-2.5))]
    probs = [0.9] * len(ids)
    (fixed, fixed_probs, fixed_pos), alts = missing_pitches((ids, probs, pos), gaps, symbols)
    assert [SYMBOLS[i] for i in fixed] == staff[:7] + ["G4"] + staff[7:]
    assert len(fixed_probs) == len(fixed_pos) == len(alts) == len(fixed) and fixed_pos[7] == pos[6]
    assert alts[6] == [] and alts[7] == gaps[6] and fixed_probs[7] == pytest.approx(math.exp(-1.2))
    # too faint a pitch is not put back, and a reading with nothing missing is unchanged
    assert missing_pitches((ids, probs, pos), gaps, symbols, min_log_prob=-1.0)[0][0] == ids
    whole = staff[:7] + ["G4"] + staff[7:]
    whole_ids = [SYMBOL_INDEX[s] for s in whole]
    whole_pos = [3 * k for k in range(len(whole))]
    assert not any(gap_alternatives(torch.zeros(3 * len(whole), len(SYMBOLS)) - 1, whole_ids, whole_pos,
                                    prefixes, heads, pitches))


def test_note_values_are_rechosen_so_a_voice_fills_its_measure():
    from model.omr.durations import fit_durations
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    symbols = list(SYMBOLS)
    durations = torch.tensor([i for i, s in enumerate(SYMBOLS) if s.startswith("d:")])

    def read(staff: list[str], second: float):
        """Symbol ids and their duration alternatives, the eighth's second choice a quarter at ``second``."""
        return _read_with_second_choice(staff, durations, staff.index("d:eighth"), "d:quarter", second, -0.1)

    four = ["C5", "d:quarter", "v1:up"] * 4
    short = ["D5", "d:quarter", "v1:up", "E5", "d:half", "v1:up", "F5", "d:eighth", "v1:up"]   # an eighth short
    staff = ["clef:G2", "time:4/4"] + four + ["measure"] + short + ["measure"] + four
    eighth = staff.index("d:eighth")
    ids, alts = read(staff, -1.0)
    assert alts[0] == [] and alts[eighth][0][0] == SYMBOL_INDEX["d:eighth"] and len(alts[eighth]) == 4
    fixed = fit_durations(ids, alts, symbols, None)
    assert [SYMBOLS[i] for i in fixed] == staff[:eighth] + ["d:quarter"] + staff[eighth + 1:]
    assert fit_durations(ids, alts, symbols, None, max_cost=0.5) == ids        # too unsure a change
    ids, alts = read(staff, -20.0)
    assert fit_durations(ids, alts, symbols, None) == ids                      # no quarter in sight

    # the score's first measure may be a pickup, a second voice may start late: neither is filled
    pickup = ["clef:G2", "time:4/4"] + short + ["measure"] + four
    ids, alts = read(pickup, -1.0)
    assert fit_durations(ids, alts, symbols, None) == ids
    opened = fit_durations(ids, alts, symbols, None, opens=False)
    assert opened[pickup.index("d:eighth")] == SYMBOL_INDEX["d:quarter"]
    late = staff[:15] + four + [s.replace("v1:up", "v2:down") for s in short] + staff[24:]
    ids, alts = read(late, -1.0)
    assert fit_durations(ids, alts, symbols, None) == ids
    # a staff opening without a time signature is fitted to the one carried from the system before
    untimed = four + ["measure"] + short + ["measure"] + four
    ids, alts = read(untimed, -1.0)
    assert fit_durations(ids, alts, symbols, None) == ids
    assert fit_durations(ids, alts, symbols, Fraction(4))[untimed.index("d:eighth")] == SYMBOL_INDEX["d:quarter"]


def test_a_tie_read_at_its_end_only_gets_its_start():
    from model.omr.ties import complete_ties

    staff = ["clef:G2", "G4", "d:half", "v1:up", "C5", "d:half", "v1:up", "b:begin", "measure",
             "C5", "d:quarter", "v1:up", "tied:stop", "G4", "d:quarter", "v2:down", "tied:stop", "E5", "d:half",
             "v1:up", "tied:stop"]
    done = complete_ties(staff)
    assert done[:8] + done[9:] == staff and done[8] == "tied:start"   # after the C's marks, before the bar
    assert done.count("tied:start") == 1    # G4 of another voice, E5 with nothing before it: left alone
    assert complete_ties(done) == done
    far = staff[:8] + ["measure", "D5", "d:whole", "v1"] + staff[8:]   # two bar lines away
    assert complete_ties(far) == far


def test_a_chord_tied_on_some_notes_is_tied_on_all():
    """A chord followed in its voice by the same chord, with a tie read on one of its notes, gets every
    note's start and stop (a stop before a start already there); another chord, or one not tied, is kept."""
    from model.omr.ties import tie_chords

    first = ["C5", "d:half", "v1:up", "tied:start", "chord", "flat", "E5", "chord", "G5"]
    second = ["C5", "d:half", "v1:up", "tied:stop", "chord", "flat", "E5", "chord", "G5", "tied:start"]
    staff = ["clef:G2", *first, "measure", *second]
    done = tie_chords(staff)
    assert done == ["clef:G2", *first[:7], "tied:start", "chord", "G5", "tied:start", "measure",
                    *second[:7], "tied:stop", "chord", "G5", "tied:stop", "tied:start"]
    assert tie_chords(done) == done
    other = ["clef:G2", *first, "measure", "C5", "d:half", "v1:up", "tied:stop", "chord", "F5", "chord", "G5"]
    untied = ["clef:G2", *[s for s in first if s != "tied:start"], "measure", *second[:3], *second[4:9]]
    assert tie_chords(other) == other and tie_chords(untied) == untied


def test_pedal_marks_are_kept_only_in_pairs_within_a_staff():
    from model.omr.ties import pair_pedals
    from model.tokenizers.lmx import delinearize, linearize
    from model.tokenizers.staff_symbols import assemble

    note = ["C3", "d:quarter", "v5:down"]
    paired = ["clef:F4", "pedal:start", *note, *note, "pedal:stop", *note, "measure", "pedal:start", *note]
    kept = pair_pedals(paired)
    assert kept == paired[:-4] + note                    # the start left open at the staff's end is dropped
    assert pair_pedals(["pedal:stop", *note, "pedal:start", *note, "pedal:stop"]) == [*note, "pedal:start",
                                                                                     *note, "pedal:stop"]
    # what the score says: a pedal line that starts and stops, none left open to the end of the piece
    lmx = linearize(delinearize(assemble([kept], [1], fill=False)))
    assert lmx.count("pedal:start") == lmx.count("pedal:stop") == 1


def test_ties_and_slurs_to_nothing_at_a_scores_two_ends_are_dropped_and_none_between():
    """A tie stop in the score's first measure with no start before it, a tie or slur start in its last measure
    with no stop after it: nothing on a page draws them. Unpaired ends inside the score, and paired ones at
    its ends, are kept; a system between the first and the last is left alone."""
    from model.omr.ties import drop_dangling_ends

    head = "measure key:fifths:0 time beats:2 beat-type:4 clef:G2".split()
    first = "C5 voice:1 quarter tied:stop E5 quarter tied:start slur:start measure E5 quarter tied:stop".split()
    last = "G5 quarter slur:stop tied:start measure G5 quarter tied:stop A5 quarter tied:start slur:start".split()
    score = head + first + last
    kept = drop_dangling_ends(score, True, True)
    assert kept == head + first[:3] + first[4:] + last[:-2]
    assert drop_dangling_ends(score, False, False) == score
    inner = head + "C5 voice:1 quarter tied:stop measure D5 quarter slur:start".split()
    assert drop_dangling_ends(inner, False, True) == inner[:-1]
    assert drop_dangling_ends(inner, True, False) == inner[:9] + inner[10:]


def test_a_courtesy_key_after_a_systems_last_bar_line_makes_no_measure():
    from model.omr.header import drop_courtesy
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    def ids(*syms):
        return [SYMBOL_INDEX[s] for s in syms]

    body = ids("clef:G2", "key:fifths:-4", "C5", "d:whole", "v1", "measure", "D5", "d:whole", "v1")
    assert drop_courtesy(body + ids("measure", "key:fifths:-5"), list(SYMBOLS)) == body
    assert drop_courtesy(body + ids("measure", "rest", "rest:measure", "v1"), list(SYMBOLS)) == \
        body + ids("measure", "rest", "rest:measure", "v1")
    assert drop_courtesy(body, list(SYMBOLS)) == body and drop_courtesy(body[:5], list(SYMBOLS)) == body[:5]


def test_a_grand_staffs_bar_lines_agree_between_its_staves():
    from model.omr.bars import agree_bars
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS

    def read(*items):            # (symbol, column) -> ids, probabilities, output positions (3 slots a column)
        return [SYMBOL_INDEX[s] for s, _ in items], [0.9] * len(items), [3 * c for _, c in items]

    upper = read(("clef:G2", 1), ("C5", 10), ("d:half", 10), ("v1", 10), ("D5", 25), ("d:half", 25), ("v1", 25),
                 ("E5", 45), ("d:whole", 45), ("v1", 45), ("measure", 60), ("F5", 70), ("d:whole", 70), ("v1", 70))
    lower = read(("clef:F4", 1), ("C3", 10), ("d:whole", 10), ("v1", 10), ("measure", 40), ("E3", 45),
                 ("d:whole", 45), ("v1", 45), ("measure", 59), ("measure", 62), ("F3", 70), ("d:whole", 70),
                 ("v1", 70))
    alts = [[[] for _ in upper[0]], [[] for _ in lower[0]]]
    (up, low), (a_up, a_low) = agree_bars([upper, lower], alts, list(SYMBOLS), slots=3)
    bars = [[p // 3 for i, p in zip(r[0], r[2]) if i == SYMBOL_INDEX["measure"]] for r in (up, low)]
    assert bars == [[40, 60], [40, 59]]      # the bar line missed above is given to it, the double one is one
    assert [SYMBOLS[i] for i in up[0][4:8]] == ["D5", "d:half", "v1", "measure"]
    assert len(up[0]) == len(up[1]) == len(up[2]) == len(a_up) and len(low[0]) == len(a_low) == len(lower[0]) - 1
    single = [upper]
    assert agree_bars(single, alts[:1], list(SYMBOLS), slots=3) == (single, alts[:1])


def test_a_bar_line_read_before_a_systems_first_note_makes_no_empty_measure():
    from model.omr.bars import drop_opening_bar
    from model.tokenizers.staff_symbols import SYMBOL_INDEX, SYMBOLS, assemble

    def read(*items):
        return [SYMBOL_INDEX[s] for s, _ in items], [0.9] * len(items), [3 * c for _, c in items]

    # a first-ending bracket's hook at the system's start, read as a bar line on both staves
    upper = read(("clef:G2", 1), ("measure", 6), ("C5", 10), ("d:whole", 10), ("v1", 10), ("measure", 40),
                 ("D5", 45), ("d:whole", 45), ("v1", 45))
    lower = read(("clef:F4", 1), ("measure", 6), ("C3", 10), ("d:whole", 10), ("v1", 10), ("measure", 40),
                 ("D3", 45), ("d:whole", 45), ("v1", 45))
    alts = [[[] for _ in upper[0]], [[] for _ in lower[0]]]
    reads, kept_alts = drop_opening_bar([upper, lower], alts, list(SYMBOLS))
    for before, after, alt in zip((upper, lower), reads, kept_alts):
        assert after == tuple(v[:1] + v[2:] for v in before) and len(alt) == len(after[0])
    lmx = assemble([[SYMBOLS[i] for i in r[0]] for r in reads], [2], fill=False)
    assert lmx.count("measure") == 2 and "rest:measure" not in lmx
    # a staff that starts with a note keeps the other staff's bar line: that is agree_bars's to judge
    mixed = [upper, read(("clef:F4", 1), ("C3", 10), ("d:whole", 10), ("v1", 10))]
    assert drop_opening_bar(mixed, alts, list(SYMBOLS)) == (mixed, alts)


def test_a_reader_made_for_another_staff_space_is_grown_from_one_and_reads_pages_at_its_own(tmp_path):
    """A run with ``--space 10`` starts from an 8-px reader: the projection is resampled to the taller strips'
    rows, the training staves and the product's strips are cut at 10 px a staff space, and a page is read."""
    import argparse
    import json

    from model.inference.staff_reader import StaffReaderEngine
    from model.io.types import ScoreImage
    from model.progress import Reporter
    from model.tokenizers.staff_symbols import SYMBOLS
    from model.training.reader import _config, _restore, resample_rows, save_best, ship

    torch.manual_seed(0)
    base = dict(classes=len(SYMBOLS), keys=15, times=178, header_pool=True, channels=(8, 8, 8, 8, 8), hidden=8,
                feature=16)
    old = StaffReader(ReaderConfig(**base))
    (tmp_path / "old").mkdir()
    save_best(old, tmp_path / "old")
    ship(tmp_path / "old", tmp_path / "w8")
    args = argparse.Namespace(init=str(tmp_path / "w8"), channels=None, hidden=None, space=10)
    new = StaffReader(_config(args, None, len(SYMBOLS), 15, 178))
    assert (new.config.space, new.config.height) == (10, 160)
    opt = torch.optim.AdamW(new.parameters())
    _restore(new, opt, None, args)
    assert torch.equal(new.stem[0].weight, old.stem[0].weight.half().float())   # every other weight kept
    # the projection: a channel's weights over the rows are the old ones stretched (constant rows stay constant)
    w = torch.tensor([1.0, 2.0, 3.0]).repeat_interleave(4).expand(2, 12)
    assert torch.allclose(resample_rows(w, 3, 5), torch.tensor([1.0, 2.0, 3.0]).repeat_interleave(5).expand(2, 15) * 0.8)
    (tmp_path / "run").mkdir()
    save_best(new, tmp_path / "run")
    ship(tmp_path / "run", tmp_path / "w10")
    assert json.loads((tmp_path / "w10" / "reader.json").read_text())["config"]["space"] == 10
    engine = StaffReaderEngine(tmp_path / "w10")
    page = _engrave(GRAND, 15.0)
    read = engine.read(ScoreImage.from_arrays([page]), Reporter())   # an untrained reader: it only has to run
    assert len(read.systems) == 1


def test_a_reader_shipped_as_int8_is_half_the_size_and_reads_the_page_as_in_float16(tmp_path):
    """``--ship DIR --int8``: the reader's large weights as int8 with a scale per group of inputs. Each
    weight comes back within half a step of its group's scale, and a page engraved by Verovio is read to the
    same symbols as with the same reader shipped in float16 (a doubtful one may flip)."""
    from music21 import corpus
    from safetensors.torch import load_file

    from model.bundle import INT8_SCALE, dequantize
    from model.inference.staff_reader import StaffReaderEngine
    from model.inference.weights import PACKAGED_WEIGHTS, has_reader
    from model.io.types import ScoreImage
    from model.metrics import SER
    from model.progress import Reporter
    from model.training.reader import save_best, ship

    if not has_reader(PACKAGED_WEIGHTS):
        pytest.skip("the shipped weights carry no staff reader")
    (tmp_path / "run").mkdir()
    trained = StaffReaderEngine(PACKAGED_WEIGHTS).model
    save_best(trained, tmp_path / "run")
    ship(tmp_path / "run", tmp_path / "w16")
    ship(tmp_path / "run", tmp_path / "w8", int8=True)
    small, half = ((tmp_path / w / "reader.safetensors").stat().st_size for w in ("w8", "w16"))
    assert small < 0.55 * half
    stored = load_file(str(tmp_path / "w8" / "reader.safetensors"))
    assert stored["rnn.weight_hh_l0"].dtype == torch.int8 and "rnn.weight_hh_l0" + INT8_SCALE in stored
    back, orig = dequantize(stored), trained.state_dict()
    for name, q in stored.items():
        if q.dtype == torch.int8:
            step = stored[name + INT8_SCALE].float().max()
            assert (back[name] - orig[name]).abs().max() <= step / 2 + 1e-3 * step
    xml = corpus.parse("bach/bwv66.6").parts[0].measures(1, 4).write("musicxml", fp=str(tmp_path / "m.xml"))
    image = ScoreImage.from_arrays([_engrave(open(xml).read(), 12.0)])
    read, ref = (StaffReaderEngine(tmp_path / w).read(image, Reporter()).tokens for w in ("w8", "w16"))
    # a symbol the reader is unsure of (the mark over a fermata) may flip; nothing else does
    assert read.count("measure") >= 4 and SER().add(read, ref) <= 0.02


def test_strips_read_at_several_widths_keep_the_surest_reading_with_bars_where_the_page_has_them(tmp_path):
    """Each strip is read at every width in ``SCALES``; a reading of stretched strips gives its measures'
    boxes at the page's own scale: the same bar lines as a reading at the strip's own width, to a few pixels."""
    from music21 import corpus

    from model.inference.staff_reader import SCALES, StaffReaderEngine
    from model.inference.weights import PACKAGED_WEIGHTS, has_reader
    from model.io.types import ScoreImage
    from model.progress import Reporter

    if not has_reader(PACKAGED_WEIGHTS):
        pytest.skip("the shipped weights carry no staff reader")
    assert len(SCALES) > 1 and 1.0 in SCALES
    xml = corpus.parse("bach/bwv66.6").parts[0].measures(1, 4).write("musicxml", fp=str(tmp_path / "m.xml"))
    image = ScoreImage.from_arrays([_engrave(open(xml).read(), 12.0)])
    engine = StaffReaderEngine(PACKAGED_WEIGHTS)
    assert engine.read(image, Reporter()).tokens.count("measure") >= 4
    engine.scales = (max(SCALES),)
    wide = engine.read(image, Reporter())
    engine.scales = (1.0,)
    one = engine.read(image, Reporter())
    assert wide.tokens.count("measure") == one.tokens.count("measure") >= 4
    edges = [[m.box[2] for m in r.measures] for r in (wide, one)]
    assert len(edges[0]) == len(edges[1]) and max(abs(a - b) for a, b in zip(*edges)) <= 12


def test_the_tenor_clef_validation_set_holds_only_staves_in_that_clef(tmp_path):
    import gzip
    import json

    from model.tokenizers.staff_symbols import SYMBOLS
    from model.training.reader import validation_set

    pool = tmp_path / "pool.jsonl.gz"
    with gzip.open(pool, "wt") as f:
        f.write(json.dumps(_pool_piece()) + "\n")
    made = validation_set(pool, 3, 5, tmp_path / "octave.npz", octave=1.0)
    again = validation_set(pool, 3, 5, tmp_path / "octave.npz", octave=1.0)   # kept, read back alike
    assert len(made) >= 3 and len(again) == len(made)
    for (strip, target), (strip2, target2) in zip(made, again):
        assert "clef:G2-8" in [SYMBOLS[k] for k in target] and list(target) == list(target2)
        assert np.array_equal(strip, strip2)


def test_convolutions_in_bfloat16_read_a_page_as_in_float32(tmp_path):
    """Where the CPU computes bfloat16 natively the reader's convolutions run in it (about half their time);
    the page reads to the same symbols (a doubtful one may flip), and only the copy that reads is changed."""
    from music21 import corpus

    from model.inference.staff_reader import StaffReaderEngine
    from model.inference.weights import PACKAGED_WEIGHTS, has_reader
    from model.io.types import ScoreImage
    from model.metrics import SER
    from model.progress import Reporter

    if not has_reader(PACKAGED_WEIGHTS):
        pytest.skip("the shipped weights carry no staff reader")
    engine = StaffReaderEngine(PACKAGED_WEIGHTS)
    xml = corpus.parse("bach/bwv66.6").parts[0].measures(1, 4).write("musicxml", fp=str(tmp_path / "m.xml"))
    image = ScoreImage.from_arrays([_engrave(open(xml).read(), 12.0)])
    reads = []
    for bf16 in (False, True):
        engine.fast = engine.model.fused(bf16=bf16)
        assert engine.fast.bf16_convolutions is bf16 and not engine.model.bf16_convolutions
        reads.append(engine.read(image, Reporter()).tokens)
    assert reads[0].count("measure") >= 4 and SER().add(reads[1], reads[0]) <= 0.02


def test_a_run_keeps_the_weights_best_by_the_mean_of_its_validation_sets(tmp_path):
    import json

    from model.training.reader import _validate, evaluate_ser

    model = StaffReader(ReaderConfig(classes=40, channels=(4, 8, 8, 8, 8), hidden=8, feature=16, slot_dim=8)).eval()
    rng = np.random.default_rng(0)
    sets = {name: [(rng.integers(0, 255, (STRIP_HEIGHT, 64), dtype=np.uint8), [1 + i % 5, 2, 3])
                   for i in range(n)] for name, n in (("plain", 3), ("octave", 2))}
    state = {"step": 7, "hours": 0.5, "best": 0.01, "criterion": "plain"}
    _validate(model, sets, tmp_path, state, {"loss": 1.0, "lr": 1e-4, "measures": 4})
    rec = json.loads((tmp_path / "history.jsonl").read_text())
    mean = (evaluate_ser(model, sets["plain"])[0] + evaluate_ser(model, sets["octave"])[0]) / 2
    # a new criterion starts its best afresh: these weights are kept although worse than the old best
    assert state["criterion"] == "plain and octave" and abs(state["best"] - mean) < 1e-9
    assert rec["step"] == 7 and "val_octave" in rec and (tmp_path / "reader.safetensors").exists()
