"""Recordings as people make them: room impulse responses, microphones and channels, pianos, dynamics, and the
recording conditions of ``unimt eval --only rooms``.

Real parts throughout (numpy rooms, scipy filters, a real ffmpeg where installed, real soundfonts where
installed); every test takes a few seconds at most.
"""

from __future__ import annotations

import numpy as np
import pytest

SR = 16000

# ---------------------------------------------------------------- rooms


@pytest.mark.parametrize("held_out", [False, True])
def test_room_responses_measure_the_wanted_drr_and_rt60(held_out):
    from model.data.rooms import _direct_peak, draw_room, impulse_response, measure_drr, measure_rt60

    rng = np.random.default_rng(3 + held_out)
    for drr, rt60 in [((-15, -10), (1.5, 2.5)), ((-8, -4), (0.6, 1.5)), ((0, 4), (0.2, 0.5)),
                      ((10, 15), (0.3, 0.8)), ((-15, 15), (0.2, 2.5))]:
        room = draw_room(rng, drr, rt60, held_out=held_out)
        ir = impulse_response(room, rng, SR)
        got_drr, got_rt60 = measure_drr(ir, SR), measure_rt60(ir, SR)
        assert drr[0] - 0.1 <= got_drr <= drr[1] + 0.1, (room, got_drr)
        assert abs(got_drr - room.drr_db) < 0.1
        assert abs(got_rt60 / room.rt60 - 1.0) < 0.08, (room, got_rt60)
        assert np.all(np.isfinite(ir)) and _direct_peak(ir) == 8        # the recording is not delayed
        assert 0.5 - 1e-6 <= room.distance <= 10.0 + 1e-6
        assert 0.2 <= room.rt60 <= 2.5


def test_measures_read_known_responses():
    """A delta over an exponential tail of known energy and decay: the measures read back what was made."""
    from model.data.rooms import measure_drr, measure_rt60

    rng = np.random.default_rng(0)
    t = np.arange(int(1.5 * SR)) / SR
    tail = rng.standard_normal(t.size) * np.exp(-6.908 * t / 1.2)
    tail[: int(0.003 * SR)] = 0.0                                   # nothing inside the direct window
    ir = np.concatenate([[0.0] * 8, [1.0], tail * np.sqrt(10 ** (6 / 10) / np.sum(tail ** 2))])
    assert measure_drr(ir, SR) == pytest.approx(-6.0, abs=0.01)
    assert measure_rt60(ir, SR) == pytest.approx(1.2, rel=0.05)


def test_training_sampler_never_draws_the_held_out_rooms():
    from model.data.rooms import draw_room, is_held_out

    rng = np.random.default_rng(11)
    train = [draw_room(rng) for _ in range(3000)]
    assert not any(is_held_out(r) for r in train)
    assert max(r.aspect for r in train) <= 2.0 + 1e-9 and max(r.brightness for r in train) <= 0.8
    held = [draw_room(rng, held_out=True) for _ in range(200)]
    assert all(is_held_out(r) for r in held)
    assert min(r.aspect for r in held) >= 2.2 - 1e-9 and min(r.brightness for r in held) >= 0.82


def test_reverberate_keeps_length_and_direct_timing():
    from model.data.rooms import Room, impulse_response, reverberate

    room = Room((8.0, 5.0, 3.0), (2.0, 2.0, 1.1), (5.0, 3.0, 1.5), 0.8, 0.0, 0.6)
    ir = impulse_response(room, np.random.default_rng(0), SR)
    x = np.zeros(SR)
    x[4000] = 1.0
    y = reverberate(x, ir)
    assert y.shape == x.shape and int(np.argmax(np.abs(y))) == 4000    # the direct sound is not delayed


# ---------------------------------------------------------------- channel and the training chain

def _music(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = np.zeros(t.size)
    for _ in range(20):
        s, f = rng.uniform(0, seconds - 0.5), 440 * 2 ** rng.uniform(-2, 2)
        x += 0.1 * np.sin(2 * np.pi * f * t) * np.exp(-np.maximum(t - s, 0) * 3) * (t >= s)
    return x.astype(np.float32)


def test_recorded_is_deterministic_finite_bounded_same_length():
    from model.data.recording import recorded

    x = _music()
    outs = []
    for seed in (1, 1, 2, 3, 4):
        p: dict = {}
        y = recorded(x, SR, np.random.default_rng(seed), params=p)
        assert y.dtype == np.float32 and y.shape == x.shape
        assert np.all(np.isfinite(y)) and float(np.abs(y).max()) <= 1.0
        outs.append(y)
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])
    loud = recorded(x * 50.0, SR, np.random.default_rng(5))               # clipping input: still bounded
    assert float(np.abs(loud).max()) <= 1.0


def test_channel_stages():
    from model.data import channel

    x = _music().astype(np.float64)
    for kind in channel.NOISES:
        y = channel.noise(x, SR, np.random.default_rng(0), 30.0, (kind,))
        snr = 10 * np.log10(np.mean(x ** 2) / np.mean((y - x) ** 2))
        assert snr == pytest.approx(30.0, abs=0.01) and y.shape == x.shape
    for kind in channel.MICROPHONES:
        y = channel.microphone(x, SR, np.random.default_rng(1), kind)
        assert y.shape == x.shape and np.all(np.isfinite(y))
    p: dict = {}
    y = channel.limiter(x * 20.0, SR, np.random.default_rng(2), params=p)
    assert float(np.abs(y).max()) <= 10 ** ((p["limiter_db"] + 0.05) / 20.0)      # its ceiling (rounded)
    quiet = channel.agc(x * 0.01, SR, np.random.default_rng(3))
    assert np.sqrt(np.mean(quiet ** 2)) > np.sqrt(np.mean((x * 0.01) ** 2))   # a quiet room turned up


def test_codecs_round_trip_aligned_when_ffmpeg_has_them():
    from model.data.channel import available_codecs, codec

    have = available_codecs()
    if not have:
        pytest.skip("ffmpeg with an MP3, Opus or AAC encoder is not installed")
    x = _music(2.0).astype(np.float64)
    for name in have:
        p: dict = {}
        y = codec(x, SR, np.random.default_rng(0), name, 64, params=p)
        assert p["codec"] == (name, 64) and y.shape == x.shape
        assert 10 * np.log10(np.sum(x ** 2) / np.sum((y - x) ** 2)) > 15.0    # aligned to the sample


def test_codecs_skipped_cleanly_when_absent(tmp_path, monkeypatch):
    from model.data import channel

    x = _music(1.0).astype(np.float64)
    p: dict = {}
    assert np.array_equal(channel.codec(x, SR, np.random.default_rng(0), "vorbis", 64, params=p), x)
    assert "skipped" in p["codec"]
    monkeypatch.setenv("PATH", str(tmp_path))                 # a machine without ffmpeg
    channel.available_codecs.cache_clear()
    try:
        assert channel.available_codecs() == ()
        p = {}
        assert np.array_equal(channel.codec(x, SR, np.random.default_rng(0), params=p), x)
        assert p["codec"] is None
        p = {}
        assert np.array_equal(channel.codec(x, SR, np.random.default_rng(0), "mp3", 64, params=p), x)
        assert "skipped" in p["codec"]
    finally:
        channel.available_codecs.cache_clear()


# ---------------------------------------------------------------- pianos and dynamics

def test_piano_banks_keep_test_and_validation_out_of_training():
    from model.data.pianos import draw_piano, pianos

    train = pianos("train")
    assert not any("MuseScore" in p.name or "sf_GMbank" in p.name for p in train)
    assert all(p.name.startswith("sf_GMbank") for p in pianos("validation"))
    assert all(p.name.startswith("MuseScore_General") for p in pianos("test"))
    rng = np.random.default_rng(0)
    drawn = [draw_piano(rng) for _ in range(300)]
    assert all(abs(p.detune_cents) <= 20.0 for p in drawn)
    assert any(p.path is None for p in drawn)                  # the additive piano takes part
    assert not any(p.path and ("MuseScore" in p.path or "sf_GMbank" in p.path) for p in drawn)


def _one_note(pitch: int = 69, velocity: int = 100):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes.append(pretty_midi.Note(velocity, pitch, 0.1, 1.6))
    pm.instruments.append(inst)
    return pm


def _cents_of_a4(y: np.ndarray) -> float:
    seg = y[int(0.3 * SR):int(1.5 * SR)] * np.hanning(int(1.2 * SR))
    spec = np.abs(np.fft.rfft(seg, 2 ** 20))
    f = np.fft.rfftfreq(2 ** 20, 1 / SR)
    sel = (f > 400) & (f < 480)
    return float(1200 * np.log2(f[sel][np.argmax(spec[sel])] / 440.0))


def test_additive_piano_is_detuned_and_inharmonic():
    from model.data.pianos import Piano, play

    for cents in (-20.0, 0.0, 20.0):
        y = play(_one_note(), Piano("additive", None, detune_cents=cents, seed=4))
        assert y.dtype == np.float32 and np.all(np.isfinite(y)) and float(np.abs(y).max()) <= 1.0
        assert _cents_of_a4(y) == pytest.approx(cents, abs=4.0)
    # partials above a low note sit above the harmonic series (stretched): the 10th of A1 is sharp
    y = play(_one_note(33, 110), Piano("additive", None, seed=4)).astype(np.float64)
    spec = np.abs(np.fft.rfft(y[: SR] * np.hanning(SR), 2 ** 20))
    f = np.fft.rfftfreq(2 ** 20, 1 / SR)
    sel = (f > 540) & (f < 580)
    assert f[sel][np.argmax(spec[sel])] > 550.0 + 0.5


def test_soundfont_piano_detuned():
    from dataclasses import replace

    from model.data.pianos import pianos, play

    train = pianos("train")
    if not train:
        pytest.skip("no training soundfont installed (fluid-soundfont-gm, timgm6mb-soundfont)")
    y = play(_one_note(), replace(train[0], detune_cents=15.0))
    assert _cents_of_a4(y) == pytest.approx(15.0, abs=4.0)


def test_dynamics_keep_notes_and_shape_voices(chorale):
    from model.data.dynamics import dynamics
    from model.data.humanize import humanize
    from model.perform import notation_to_midi

    perf = humanize(notation_to_midi(chorale, expand=False).pm, np.random.default_rng(0))
    lows, highs, melody, inner = [], [], [], []
    for seed in range(6):
        out = dynamics(perf, np.random.default_rng(seed))
        a = [n for i in perf.instruments for n in i.notes]
        b = [n for i in out.instruments for n in i.notes]
        assert [(n.pitch, n.start, n.end) for n in a] == [(n.pitch, n.start, n.end) for n in b]
        v = np.array([n.velocity for n in b])
        assert v.min() >= 15 and v.max() <= 127
        lows.append(v.min())
        highs.append(v.max())
        from model.data.dynamics import _groups, _roles

        starts = np.array([n.start for n in b])
        role = _roles(_groups(starts), np.array([n.pitch for n in b]))
        melody.append(v[role == 1].mean())
        inner.append(v[role == 0].mean())
    assert min(lows) <= 30 and max(highs) >= 110                  # pp to ff over a few excerpts
    assert np.mean(melody) > np.mean(inner) + 10                  # soft inner voices under the melody
    assert np.array_equal([n.velocity for i in dynamics(perf, np.random.default_rng(9)).instruments
                           for n in i.notes],
                          [n.velocity for i in dynamics(perf, np.random.default_rng(9)).instruments
                           for n in i.notes])


# ---------------------------------------------------------------- the evaluation's conditions

@pytest.mark.parametrize("name", ["reverberant", "living", "drr-6"])
def test_eval_conditions_give_audio_with_the_measured_drr(name):
    """The recording's own impulse response, recovered from the audio by deconvolution, measures the DRR that
    the condition reports, inside the condition's range."""
    from dataclasses import replace

    from model.data.rooms import measure_drr, measure_rt60
    from model.evaluate_rooms import CONDITIONS, record

    rng = np.random.default_rng(0)
    dry = np.concatenate([rng.standard_normal(3 * SR) * 0.1, np.zeros(2 * SR)]).astype(np.float32)
    cond = CONDITIONS[name]
    audio, meta = record(dry, replace(cond, snr_db=None), np.random.default_rng(1))
    assert audio.dtype == np.float32 and audio.shape == dry.shape and float(np.abs(audio).max()) <= 1.0
    assert cond.drr_db[0] - 0.1 <= meta["drr_db"] <= cond.drr_db[1] + 0.1
    assert cond.rt60[0] * 0.92 <= meta["rt60"] <= cond.rt60[1] * 1.08
    n = 2 ** int(np.ceil(np.log2(dry.size * 2)))
    h = np.fft.irfft(np.fft.rfft(audio, n) / np.fft.rfft(dry, n), n)[: int(1.8 * SR)]
    assert measure_drr(h, SR) == pytest.approx(meta["drr_db"], abs=0.3)
    assert measure_rt60(h, SR) == pytest.approx(meta["rt60"], rel=0.05)
    noisy, meta = record(dry, cond, np.random.default_rng(1))
    assert cond.snr_db[0] <= meta["snr_db"] <= cond.snr_db[1] and np.all(np.isfinite(noisy))


def test_excerpts_moved_up_keep_their_timing_and_leave_off_what_falls_off_the_keyboard():
    import pretty_midi

    from model.evaluate_rooms import _transposed

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(80, p, 0.5 * k, 0.5 * k + 0.4) for k, p in enumerate((60, 72, 96, 100))]
    pm.instruments.append(inst)
    up = _transposed(pm, 12)
    assert [(n.pitch, n.start) for n in up.instruments[0].notes] == [(72, 0.0), (84, 0.5), (108, 1.0)]
    assert [n.pitch for n in pm.instruments[0].notes] == [60, 72, 96, 100]       # the excerpt is not changed
