"""Make synthesised piano audio sound recorded: room, microphone, preamp and noise floor.

:func:`augment` applies a random subset of, in signal-chain order:

* room reverb: convolution (``scipy.signal.fftconvolve``) with a synthetic impulse response: a
  pre-delay, a few early reflections and an exponentially decaying, darkening noise tail with RT60
  0.2-1.5 s, mixed 10-40 % wet;
* EQ: one to three RBJ biquads (low shelf, high shelf, peaking), each within +-6 dB;
* a mild low-pass (laptop or phone microphone: 3.5-7.5 kHz, sometimes with a high-pass too);
* compression: a soft tanh saturation or a simple RMS compressor (ratio 2-6);
* level change: -20..0 dB;
* additive white or pink noise at 20-50 dB SNR, and mains hum (50 or 60 Hz and harmonics) well below
  the music.

The magnitudes scale with ``strength`` (0: the input as it is; 1: all ranges open). The output is
float32, the same length, finite, and its peak never exceeds 1.0 (scaled down only when needed).
Everything comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import numpy as np

from model.data.channel import safe as _safe

__all__ = ["augment"]


def _biquad(kind: str, f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """RBJ audio-EQ-cookbook biquad as one SOS row."""
    a_ = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * f0 / sr
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2.0 * q)
    if kind == "peak":
        b = [1 + alpha * a_, -2 * cw, 1 - alpha * a_]
        a = [1 + alpha / a_, -2 * cw, 1 - alpha / a_]
    else:
        sq = 2.0 * np.sqrt(a_) * alpha
        if kind == "lowshelf":
            b = [a_ * ((a_ + 1) - (a_ - 1) * cw + sq), 2 * a_ * ((a_ - 1) - (a_ + 1) * cw),
                 a_ * ((a_ + 1) - (a_ - 1) * cw - sq)]
            a = [
                (a_ + 1) + (a_ - 1) * cw + sq,
                -2 * ((a_ - 1) + (a_ + 1) * cw),
                (a_ + 1) + (a_ - 1) * cw - sq,
            ]
        else:  # highshelf
            b = [a_ * ((a_ + 1) + (a_ - 1) * cw + sq), -2 * a_ * ((a_ - 1) + (a_ + 1) * cw),
                 a_ * ((a_ + 1) + (a_ - 1) * cw - sq)]
            a = [(a_ + 1) - (a_ - 1) * cw + sq, 2 * ((a_ - 1) - (a_ + 1) * cw), (a_ + 1) - (a_ - 1) * cw - sq]
    b, a = np.asarray(b) / a[0], np.asarray(a) / a[0]
    return np.concatenate([b, a])[None, :]


def _impulse_response(rng: np.random.Generator, sr: int, rt60: float) -> np.ndarray:
    from scipy.signal import lfilter

    length = int(min(rt60 * 1.2, 2.0) * sr)
    t = np.arange(length) / sr
    tail = rng.standard_normal(length) * np.exp(-6.908 * t / rt60)
    # higher frequencies die sooner: a one-pole low-pass whose cutoff falls along the tail
    dark = lfilter([0.35], [1.0, -0.65], tail)
    mix = np.clip(t / rt60, 0.0, 1.0)
    tail = (1.0 - mix) * tail + mix * dark
    pre = int(rng.uniform(0.005, 0.02) * sr)
    ir = np.zeros(pre + length)
    ir[pre:] = tail
    for _ in range(int(rng.integers(3, 8))):       # early reflections
        k = pre + int(rng.uniform(0.002, 0.04) * sr)
        if k < ir.size:
            ir[k] += rng.uniform(-0.8, 0.8)
    ir[0] = 0.0
    return ir / max(float(np.sqrt(np.sum(ir ** 2))), 1e-12)


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    pink = np.fft.irfft(spec / np.sqrt(f), n)
    return pink / max(float(pink.std()), 1e-12)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2))) if x.size else 0.0


def _eq(y: np.ndarray, sr: int, rng: np.random.Generator, s: float, p: dict) -> np.ndarray:
    """One to three shelf or peak filters of up to +-6 dB (times ``s``)."""
    from scipy.signal import sosfilt

    u = rng.uniform
    rows = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(["lowshelf", "highshelf", "peak"]))
        gain = u(-6.0, 6.0) * s
        if kind == "lowshelf":
            f0 = u(80.0, 400.0)
        elif kind == "highshelf":
            f0 = u(2000.0, 6000.0)
        else:
            f0 = u(200.0, 5000.0)
        f0 = min(f0, 0.4 * sr)
        rows.append(_biquad(kind, f0, gain, u(0.5, 2.0) if kind == "peak" else 0.707, sr))
        p.setdefault("eq", []).append((kind, round(f0), round(gain, 1)))
    return sosfilt(np.concatenate(rows), y)


def _compress(y: np.ndarray, sr: int, rng: np.random.Generator, s: float, level_in: float,
              p: dict) -> np.ndarray:
    """A tanh saturation, or an RMS compressor with make-up gain back to ``level_in``."""
    from scipy.signal import lfilter

    u = rng.uniform
    peak = max(float(np.abs(y).max()), 1e-9)
    if rng.random() < 0.5:
        drive = 1.0 + u(0.5, 3.0) * s
        p["compress"] = ("tanh", round(drive, 2))
        return np.tanh(drive * y / peak) / np.tanh(drive) * peak
    a = np.exp(-1.0 / (u(0.01, 0.05) * sr))
    env = np.sqrt(np.maximum(lfilter([1.0 - a], [1.0, -a], y ** 2), 1e-12))
    thr = _rms(y) * 10.0 ** (u(-6.0, 3.0) / 20.0)
    ratio = 1.0 + u(1.0, 5.0) * s
    gain = np.where(env > thr, (env / max(thr, 1e-9)) ** (1.0 / ratio - 1.0), 1.0)
    y = y * gain
    y *= level_in / max(_rms(y), 1e-12)     # make-up gain
    p["compress"] = ("rms", round(ratio, 1))
    return y


def augment(x: np.ndarray, sr: int, rng: np.random.Generator, strength: float = 0.5,
            params: dict | None = None) -> np.ndarray:
    """A recorded-sounding copy of mono audio.

    Args:
        x: float32 mono samples (n,), nominally in [-1, 1].
        sr: sample rate in Hz.
        rng: the source of every random choice.
        strength: 0 (unchanged) to 1 (all effect ranges open).
        params: if given, filled with the effects applied and their settings.

    Returns:
        float32 (n,), finite, peak <= 1.
    """
    from scipy.signal import butter, fftconvolve, sosfilt

    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"augment wants mono audio of shape (n,), got {x.shape}")
    p = params if params is not None else {}
    s = float(np.clip(strength, 0.0, 1.0))
    n = x.size
    if s <= 0.0 or n == 0:
        return _safe(x)
    y = np.nan_to_num(x.astype(np.float64))
    u = rng.uniform
    nyq = sr / 2.0
    level_in = max(_rms(y), 1e-6)

    if rng.random() < 0.6:   # room
        rt60 = u(0.2, 0.2 + 1.3 * s)
        wet = u(0.1, 0.1 + 0.3 * s)
        ir = _impulse_response(rng, sr, rt60)
        rev = fftconvolve(y, ir, mode="full")[:n]
        rev *= _rms(y) / max(_rms(rev), 1e-12)
        y = (1.0 - wet) * y + wet * rev
        p["reverb"] = (round(rt60, 2), round(wet, 2))

    if rng.random() < 0.6:   # EQ
        y = _eq(y, sr, rng, s, p)

    if rng.random() < 0.15 + 0.15 * s:   # a small microphone
        cut = min(u(3500.0, 7500.0), 0.45 * sr)
        if cut < 0.95 * nyq:
            y = sosfilt(butter(4, cut / nyq, btype="low", output="sos"), y)
            p["lowpass"] = round(cut)
        if rng.random() < 0.3:
            hp = u(80.0, 300.0)
            y = sosfilt(butter(2, hp / nyq, btype="high", output="sos"), y)
            p["highpass"] = round(hp)

    if rng.random() < 0.4:   # compression
        y = _compress(y, sr, rng, s, level_in, p)

    if rng.random() < 0.6:   # level
        db = u(-20.0, 0.0) * s
        y = y * 10.0 ** (db / 20.0)
        p["level_db"] = round(db, 1)

    sig = max(_rms(y), 1e-4)
    if rng.random() < 0.6:   # noise floor
        snr = u(50.0 - 30.0 * s, 50.0)
        pink = rng.random() < 0.5
        noise = _pink(rng, n) if pink else rng.standard_normal(n)
        y = y + noise * sig * 10.0 ** (-snr / 20.0)
        p["noise"] = ("pink" if pink else "white", round(snr, 1))
    if rng.random() < 0.2:   # mains hum
        f0 = 50.0 if rng.random() < 0.5 else 60.0
        t = np.arange(n) / sr
        hum = np.zeros(n)
        for k in range(1, 6):
            if k * f0 < nyq:
                hum += u(0.2, 1.0) / k * np.sin(2 * np.pi * k * f0 * t + u(0, 2 * np.pi))
        below = u(50.0 - 15.0 * s, 55.0)
        y = y + hum / max(_rms(hum), 1e-12) * sig * 10.0 ** (-below / 20.0)
        p["hum"] = (f0, round(below, 1))

    return _safe(y)
