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


# ---------------------------------------------------------------- humanize

def _piano_piece(seconds: float = 20.0):
    """A two-hand piano piece at 120 bpm in 4/4: a melody with staccato bars over block chords and
    an Alberti bass, one instrument per hand (the score-exact MIDI humanize() gets)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    rh = pretty_midi.Instrument(program=0, name="right hand")
    lh = pretty_midi.Instrument(program=0, name="left hand")
    rng = np.random.default_rng(7)
    chords = [(48, 52, 55), (53, 57, 60), (55, 59, 62), (48, 52, 55)]
    bars = int(seconds / 2.0)
    for bar in range(bars):
        t0 = bar * 2.0
        c = chords[bar % 4]
        if bar % 2 == 0:   # block chord under a melody: melody on top of a right-hand chord
            for beat in range(4):
                t = t0 + beat * 0.5
                top = int(72 + rng.integers(-3, 5))
                for p in (top, top - 5, top - 8):
                    rh.notes.append(pretty_midi.Note(80, p, t, t + 0.5))
            for p in c:
                lh.notes.append(pretty_midi.Note(70, p, t0, t0 + 2.0))
        else:              # staccato eighths over an Alberti bass
            for e in range(8):
                t = t0 + e * 0.25
                rh.notes.append(pretty_midi.Note(85, int(76 + rng.integers(-4, 4)), t, t + 0.1))
            for e, k in enumerate([0, 2, 1, 2] * 2):
                t = t0 + e * 0.25
                lh.notes.append(pretty_midi.Note(65, c[k], t, t + 0.25))
    pm.instruments += [rh, lh]
    return pm


def _snapshot(pm):
    return [(i.program, i.is_drum, [(n.start, n.end, n.pitch, n.velocity) for n in i.notes],
             [(c.number, c.value, c.time) for c in i.control_changes]) for i in pm.instruments]


def test_humanize_keeps_notes_and_input():
    from model.data.humanize import humanize

    pm = _piano_piece()
    before = _snapshot(pm)
    assert abs(pm.get_end_time() - 20.0) < 0.01
    for seed in range(3):
        out = humanize(pm, np.random.default_rng(seed), 1.0)
        assert out is not pm
        assert len(out.instruments) == len(pm.instruments)
        for a, b in zip(pm.instruments, out.instruments):
            assert (a.program, a.is_drum) == (b.program, b.is_drum)
            assert len(a.notes) == len(b.notes)
            assert [n.pitch for n in a.notes] == [n.pitch for n in b.notes]
            s0 = np.array([n.start for n in a.notes])
            s1 = np.array([n.start for n in b.notes])
            e1 = np.array([n.end for n in b.notes])
            assert np.abs(s1 - s0).max() < 0.5
            assert np.abs(s1 - s0).max() > 0.005          # it did something
            assert (s1 >= 0).all() and (e1 - s1 >= 0.03 - 1e-9).all()
            assert all(1 <= n.velocity <= 127 for n in b.notes)
            assert len({n.velocity for n in b.notes}) > 5
            # input order kept; time-sorted input stays sorted up to chord jitter
            assert (np.diff(s1) > -0.06).all()
    assert _snapshot(pm) == before


def test_humanize_is_deterministic_and_amount_zero_is_exact():
    from model.data.humanize import humanize

    pm = _piano_piece(8.0)
    a = _snapshot(humanize(pm, np.random.default_rng(3)))
    assert a == _snapshot(humanize(pm, np.random.default_rng(3)))
    assert a != _snapshot(humanize(pm, np.random.default_rng(4)))
    exact = humanize(pm, np.random.default_rng(3), amount=0.0, pedal=False)
    for x, y in zip(pm.instruments, exact.instruments):
        assert [(n.start, n.pitch, n.velocity) for n in x.notes] == \
            [(pytest.approx(n.start, abs=1e-6), n.pitch, n.velocity) for n in y.notes]
        assert not y.control_changes


def test_humanize_pedal_is_balanced():
    from model.data.humanize import humanize

    pm = _piano_piece()
    for seed in range(3):
        out = humanize(pm, np.random.default_rng(seed), 1.0)
        last_note = max(n.end for i in out.instruments for n in i.notes)
        for inst in out.instruments:
            ped = [(c.time, c.value) for c in inst.control_changes if c.number == 64]
            assert len(ped) >= 2 * 8             # at least about one change a bar
            assert [v for _, v in ped] == [127, 0] * (len(ped) // 2)
            times = [t for t, _ in ped]
            assert times == sorted(times) and times[0] >= 0
            assert ped[-1][1] == 0 and ped[-1][0] >= last_note - 0.01
    no_pedal = humanize(pm, np.random.default_rng(0), 1.0, pedal=False)
    assert not any(i.control_changes for i in no_pedal.instruments)


def test_humanize_expression():
    """Melody notes lead their chords, staccato notes get shorter, the second hand is offset."""
    from model.data.humanize import humanize

    pm = _piano_piece()
    leads, stacc, legato = [], [], []
    for seed in range(4):
        out = humanize(pm, np.random.default_rng(seed), 1.0)
        rh_in, rh = pm.instruments[0].notes, out.instruments[0].notes
        for i in range(0, len(rh_in) - 2):
            a, b, c = rh_in[i:i + 3]
            if a.start == b.start == c.start:      # melody on top of a right-hand chord
                leads.append((rh[i + 1].start + rh[i + 2].start) / 2 - rh[i].start)
        for x, y in zip(rh_in, rh):
            (stacc if x.end - x.start < 0.2 else legato).append((y.end - y.start) / (x.end - x.start))
    assert np.mean(leads) > 0.003
    assert np.median(stacc) < np.median(legato)


def test_humanize_writes_a_midi_file(tmp_path):
    import pretty_midi

    from model.data.humanize import humanize

    out = humanize(_piano_piece(6.0), np.random.default_rng(0))
    out.write(str(tmp_path / "p.mid"))
    back = pretty_midi.PrettyMIDI(str(tmp_path / "p.mid"))
    assert sum(len(i.notes) for i in back.instruments) == sum(len(i.notes) for i in out.instruments)


# ---------------------------------------------------------------- audio_aug

@pytest.fixture(scope="module")
def piano_audio():
    """About 8 s of the piano piece, performed and rendered by FluidSynth at 16 kHz (mono)."""
    from model.data.humanize import humanize
    from model.io.types import Midi
    from model.synth import midi_to_audio

    pm = humanize(_piano_piece(6.0), np.random.default_rng(0))
    return midi_to_audio(Midi(pm), sample_rate=16000).mono().astype(np.float32)


def test_augment_audio_basic(piano_audio):
    from model.data.audio_aug import augment

    x = piano_audio
    before = x.copy()
    assert np.abs(x).max() > 0.1
    outs = []
    for seed in range(12):
        params: dict = {}
        y = augment(x, 16000, np.random.default_rng(seed), 1.0 if seed % 2 else 0.5, params=params)
        assert y.dtype == np.float32 and y.shape == x.shape
        assert np.isfinite(y).all() and np.abs(y).max() <= 1.0
        assert np.abs(y).max() > 1e-3, params      # still audible
        outs.append(y)
    assert np.array_equal(outs[0], augment(x, 16000, np.random.default_rng(0), 0.5))
    assert not np.array_equal(outs[0], outs[2])
    assert sum(not np.allclose(y, x) for y in outs) >= 11
    assert np.array_equal(x, before)
    assert np.array_equal(augment(x, 16000, np.random.default_rng(0), 0.0), x)


def test_augment_audio_extremes():
    """Loud, clipped, silent and NaN-holding inputs all come back finite and within [-1, 1]."""
    from model.data.audio_aug import augment

    sr = 16000
    t = np.arange(sr * 2) / sr
    loud = (1.5 * np.sign(np.sin(2 * np.pi * 110 * t))).astype(np.float32)
    silent = np.zeros(sr, dtype=np.float32)
    holes = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    holes[100:200] = np.nan
    for x in (loud, silent, holes, np.zeros(0, dtype=np.float32)):
        for seed in range(6):
            y = augment(x, sr, np.random.default_rng(seed), 1.0)
            assert y.shape == x.shape and y.dtype == np.float32
            assert np.isfinite(y).all() and (y.size == 0 or np.abs(y).max() <= 1.0)


def test_augment_reverb_adds_a_tail():
    """A click followed by silence gets a decaying tail when the room is on (and noise floors are low)."""
    from model.data.audio_aug import augment

    sr = 16000
    x = np.zeros(sr * 2, dtype=np.float32)
    x[1000] = 0.9
    tails = []
    for seed in range(20):
        params: dict = {}
        y = augment(x, sr, np.random.default_rng(seed), 1.0, params=params)
        if "reverb" in params and "noise" not in params and "hum" not in params:
            tails.append(np.sqrt(np.mean(y[1000 + sr // 10:1000 + sr // 5] ** 2)))
    assert tails and min(tails) > 1e-4
