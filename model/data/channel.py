"""What happens to a room's sound on its way into a file: microphone, noise, automatic gain, limiter, codec.

Each stage takes mono float audio, a sample rate and a ``numpy.random.Generator``, and draws all of its
settings from the generator at every call; ``params``, when given, is filled with what was drawn.

* :func:`microphone`: a phone, laptop or handheld-recorder capsule: a high-pass (80-400 Hz), a low-pass
  (3.4-7.8 kHz; the top of a 16 kHz recording), and one to three resonances of +2..+9 dB (1-5 kHz, the
  capsule's port and the case), sometimes a dip;
* :func:`noise`: pink noise, mains hum (50/60 Hz and harmonics, sometimes buzzy), HVAC (rumble below
  200 Hz with a slowly beating fan tone, plus hiss), and babble: several speech-like voices made here
  (glottal pulses through vowel formants, syllables of 100-300 ms), or segments of other recordings passed in;
  mixed at a drawn signal-to-noise ratio (RMS over RMS);
* :func:`agc`: a phone's automatic gain control: 10 ms RMS frames, attack 5-50 ms, release 0.2-1.5 s,
  towards -26..-14 dBFS, at most +10..+30 dB of gain;
* :func:`limiter`: a look-ahead (5 ms) peak limiter at -6..-0.5 dBFS with a 50-300 ms release;
* :func:`codec`: MP3 (LAME), Opus or AAC at 32-128 kbit/s through ``ffmpeg`` when it is installed with that
  encoder (:func:`available_codecs`); without one the audio passes unchanged and ``params["codec"]`` says
  why. The decoded audio is re-aligned with the input (cross-correlation, +-100 ms) and cut to its length.

Everything returns float64 of the input's length; :func:`safe` makes float32 with peak <= 1.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

import numpy as np

__all__ = ["agc", "available_codecs", "codec", "limiter", "microphone", "noise", "safe", "MICROPHONES",
           "NOISES", "CODECS"]

MICROPHONES = ("phone", "laptop", "recorder")
NOISES = ("pink", "hum", "hvac", "babble")
CODECS = {"mp3": "libmp3lame", "opus": "libopus", "aac": "aac"}
_FORMAT = {"mp3": "mp3", "opus": "ogg", "aac": "adts"}


def safe(x: np.ndarray) -> np.ndarray:
    """float32, finite, peak <= 1 (scaled down only when needed)."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > 1.0:
        x = x * (0.999 / peak)
    return x.astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def _peak_sos(f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """RBJ peaking biquad as one SOS row."""
    a_ = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2.0 * q)
    b = np.array([1 + alpha * a_, -2 * np.cos(w0), 1 - alpha * a_])
    a = np.array([1 + alpha / a_, -2 * np.cos(w0), 1 - alpha / a_])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


def microphone(x: np.ndarray, sr: int, rng: np.random.Generator, kind: str | None = None,
               params: dict | None = None) -> np.ndarray:
    """``x`` through a small microphone of ``kind`` (drawn from :data:`MICROPHONES` when None)."""
    from scipy.signal import butter, sosfilt

    p = params if params is not None else {}
    kind = kind or str(rng.choice(MICROPHONES))
    u = rng.uniform
    nyq = sr / 2.0
    hp, lp = {"phone": (u(100, 400), u(3400, 7800)), "laptop": (u(150, 400), u(5000, 7800)),
              "recorder": (u(40, 120), u(6500, 7900))}[kind]
    rows = [butter(2 if kind == "recorder" else 4, hp / nyq, btype="high", output="sos")]
    if lp < 0.95 * nyq:
        rows.append(butter(int(rng.integers(2, 7)), min(lp, 0.45 * sr) / nyq, btype="low", output="sos"))
    peaks = []
    for _ in range(int(rng.integers(1, 4))):
        f0, g = u(1000.0, min(5000.0, 0.42 * sr)), u(2.0, 9.0) * (1 if rng.random() < 0.8 else -1)
        rows.append(_peak_sos(f0, g, u(1.0, 4.0), sr))
        peaks.append((round(f0), round(g, 1)))
    p["microphone"] = (kind, round(hp), round(lp), peaks)
    return sosfilt(np.concatenate(rows), np.asarray(x, dtype=np.float64))


# -- noise -------------------------------------------------------------------------------------------
def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power ~ 1/f**exponent (1: pink, 2: brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(max(n, 2)))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    y = np.fft.irfft(spec / f ** (exponent / 2.0), max(n, 2))[:n]
    return y / max(_rms(y), 1e-12)


def _hum(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    f0 = 50.0 if rng.random() < 0.5 else 60.0
    t = np.arange(n) / sr
    y = np.zeros(n)
    buzzy = rng.random() < 0.3
    for k in range(1, 12 if buzzy else 6):
        if k * f0 < 0.45 * sr:
            y += rng.uniform(0.2, 1.0) / (k ** (0.5 if buzzy else 1.2)) * np.sin(2 * np.pi * k * f0 * t +
                                                                                  rng.uniform(0, 2 * np.pi))
    return y / max(_rms(y), 1e-12)


def _hvac(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Air conditioning: brown rumble low-passed at 100-200 Hz, a fan tone (blade rate 20-120 Hz) whose level
    beats slowly, and a little hiss."""
    from scipy.signal import butter, sosfilt

    t = np.arange(n) / sr
    rumble = sosfilt(butter(2, rng.uniform(100, 200) / (sr / 2), output="sos"), _coloured(rng, n, 2.0))
    rumble /= max(_rms(rumble), 1e-12)
    blade = rng.uniform(20.0, 120.0)
    beat = 1.0 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t)
    fan = beat * (np.sin(2 * np.pi * blade * t) + 0.4 * np.sin(4 * np.pi * blade * t + 1.0))
    hiss = sosfilt(butter(2, [min(1000.0, 0.3 * sr) / (sr / 2), 0.9], btype="band", output="sos"),
                   rng.standard_normal(n))
    y = rumble + rng.uniform(0.2, 0.8) * fan / max(_rms(fan), 1e-12) + rng.uniform(0.1, 0.4) * hiss / max(
        _rms(hiss), 1e-12)
    return y / max(_rms(y), 1e-12)


_VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410),
           (660, 1720, 2410), (490, 1350, 1690))


def _voice(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """One speech-like voice: a glottal pulse train (90-250 Hz, wandering) through vowel formants that change
    every 100-300 ms, with pauses."""
    from scipy.signal import lfilter

    f0 = rng.uniform(90.0, 250.0) * np.exp(np.cumsum(rng.standard_normal(n)) * 2e-4)
    phase = np.cumsum(f0 / sr)
    src = np.diff(np.floor(phase), prepend=0.0)            # one impulse per period
    src = lfilter([1.0], [1.0, -0.95], src)                 # glottal roll-off
    out = np.zeros(n)
    at = 0
    while at < n:
        seg = int(rng.uniform(0.1, 0.3) * sr)
        stop = min(n, at + seg)
        if rng.random() < 0.8:                               # a syllable (else a pause)
            y = src[at:stop]
            for f, bw in zip(_VOWELS[int(rng.integers(len(_VOWELS)))], (80, 100, 120), strict=True):
                if f < 0.45 * sr:
                    r = np.exp(-np.pi * bw / sr)
                    y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], y)
            out[at:stop] = y * np.hanning(stop - at)
        at = stop
    return out / max(_rms(out), 1e-12)


def _babble(rng: np.random.Generator, n: int, sr: int, others: tuple = ()) -> np.ndarray:
    """Several voices at once (3-8 made here), or segments of ``others`` (other recordings) summed."""
    y = np.zeros(n)
    pool = [np.asarray(o, dtype=np.float64) for o in others if len(o) > 0]
    for _ in range(int(rng.integers(3, 9))):
        if pool and rng.random() < 0.5:
            src = pool[int(rng.integers(len(pool)))]
            start = int(rng.integers(0, max(1, src.size - n)))
            seg = np.resize(src[start:start + n], n)
            y += seg / max(_rms(seg), 1e-12) * rng.uniform(0.3, 1.0)
        else:
            y += _voice(rng, n, sr) * rng.uniform(0.3, 1.0)
    return y / max(_rms(y), 1e-12)


def noise(x: np.ndarray, sr: int, rng: np.random.Generator, snr_db: float, kinds: tuple | None = None,
          others: tuple = (), params: dict | None = None) -> np.ndarray:
    """``x`` plus noise of one or two ``kinds`` (drawn from :data:`NOISES` when None), ``snr_db`` below the
    signal's RMS in total."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    p = params if params is not None else {}
    if kinds is None:
        kinds = tuple(rng.choice(NOISES, size=int(rng.integers(1, 3)), replace=False))
    total = np.zeros(n)
    for kind in kinds:
        if kind == "pink":
            y = _coloured(rng, n, 1.0)
        elif kind == "hum":
            y = _hum(rng, n, sr)
        elif kind == "hvac":
            y = _hvac(rng, n, sr)
        elif kind == "babble":
            y = _babble(rng, n, sr, others)
        else:
            raise ValueError(f"unknown noise {kind!r}; one of {NOISES}")
        total += y * rng.uniform(0.5, 1.0)
    total *= max(_rms(x), 1e-5) * 10.0 ** (-snr_db / 20.0) / max(_rms(total), 1e-12)
    p["noise"] = (tuple(str(k) for k in kinds), round(float(snr_db), 1))
    return x + total


# -- level -------------------------------------------------------------------------------------------
def agc(x: np.ndarray, sr: int, rng: np.random.Generator, params: dict | None = None) -> np.ndarray:
    """A phone's automatic gain control (see the module's docstring)."""
    x = np.asarray(x, dtype=np.float64)
    hop = max(1, int(0.01 * sr))
    frames = max(1, int(np.ceil(x.size / hop)))
    pad = np.zeros(frames * hop)
    pad[:x.size] = x
    rms_db = 10.0 * np.log10(np.maximum(np.mean(pad.reshape(frames, hop) ** 2, axis=1), 1e-10))
    target, max_gain = rng.uniform(-26.0, -14.0), rng.uniform(10.0, 30.0)
    att = np.exp(-0.01 / rng.uniform(0.005, 0.05))
    rel = np.exp(-0.01 / rng.uniform(0.2, 1.5))
    gate = target - 45.0                 # below this a frame is silence: hold the gain
    want = np.clip(target - rms_db, -30.0, max_gain)
    gain = np.zeros(frames)
    g = float(want[0])
    for k in range(frames):
        if rms_db[k] > gate:
            c = att if want[k] < g else rel                  # turn down fast, up slowly
            g = c * g + (1.0 - c) * want[k]
        gain[k] = g
    per_sample = np.interp(np.arange(x.size), np.arange(frames) * hop + hop / 2, gain)
    if params is not None:
        params["agc"] = (round(target, 1), round(max_gain, 1))
    return x * 10.0 ** (per_sample / 20.0)


def limiter(x: np.ndarray, sr: int, rng: np.random.Generator, params: dict | None = None) -> np.ndarray:
    """A look-ahead peak limiter (see the module's docstring); the output's peak is at most its ceiling."""
    from scipy.ndimage import minimum_filter1d
    from scipy.signal import lfilter

    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x
    ceiling = 10.0 ** (rng.uniform(-6.0, -0.5) / 20.0)
    look = max(1, int(0.005 * sr))
    want = np.minimum(1.0, ceiling / np.maximum(np.abs(x), 1e-12))
    want = minimum_filter1d(want, 2 * look + 1)               # start turning down before the peak
    a = np.exp(-1.0 / (rng.uniform(0.05, 0.3) * sr))
    smooth = 1.0 - lfilter([1.0 - a], [1.0, -a], 1.0 - want)   # released slowly
    gain = np.minimum(want, smooth)
    if params is not None:
        params["limiter_db"] = round(float(20.0 * np.log10(ceiling)), 1)
    return np.clip(x * gain, -ceiling, ceiling)


# -- codecs ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def available_codecs() -> tuple:
    """The codecs of :data:`CODECS` whose encoder this machine's ``ffmpeg`` has (empty without ffmpeg)."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return ()
    try:
        out = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    names = {line.split()[1] for line in out.splitlines() if len(line.split()) > 1}
    return tuple(c for c, enc in CODECS.items() if enc in names)


def _run_ffmpeg(args: list, data: bytes) -> bytes:
    exe = shutil.which("ffmpeg")
    res = subprocess.run([exe, "-hide_banner", "-loglevel", "error", *args], input=data, capture_output=True,
                         timeout=120, check=True)
    return res.stdout


def _align(y: np.ndarray, x: np.ndarray, sr: int) -> np.ndarray:
    """``y`` shifted to line up with ``x`` (cross-correlation within +-100 ms), cut or padded to its
    length."""
    from scipy.signal import correlate

    m = int(0.1 * sr)
    n = min(x.size, y.size, 10 * sr)
    lag = 0
    if n > 2 * m:
        c = correlate(y[:n + m], x[:n], mode="full", method="fft")
        mid = x[:n].size - 1
        window = c[mid - m: mid + m + 1]
        lag = int(np.argmax(window)) - m
    y = y[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), y])
    out = np.zeros(x.size)
    out[:min(x.size, y.size)] = y[:x.size]
    return out


def codec(x: np.ndarray, sr: int, rng: np.random.Generator, name: str | None = None, kbps: int | None = None,
          params: dict | None = None) -> np.ndarray:
    """``x`` encoded and decoded by a lossy codec (drawn from those available when ``name`` is None), at
    ``kbps`` (drawn from 32-128 when None). Unchanged when the codec or ffmpeg is absent."""
    p = params if params is not None else {}
    x = np.asarray(x, dtype=np.float64)
    have = available_codecs()
    kbps = int(kbps or rng.choice([32, 48, 64, 96, 128]))
    name = name or (str(rng.choice(have)) if have else None)
    if name is None or name not in have:
        p["codec"] = None if name is None else f"{name} skipped: no ffmpeg encoder {CODECS.get(name, '?')}"
        return x
    pcm = np.clip(x, -1.0, 1.0).astype("<f4").tobytes()
    raw = ["-f", "f32le", "-ar", str(sr), "-ac", "1"]
    try:
        enc = _run_ffmpeg([*raw, "-i", "pipe:0", "-c:a", CODECS[name], "-b:a", f"{kbps}k",
                           *(["-ar", "48000"] if name == "opus" else []), "-f", _FORMAT[name], "pipe:1"], pcm)
        dec = _run_ffmpeg(["-i", "pipe:0", *raw, "pipe:1"], enc)
    except (OSError, subprocess.SubprocessError) as exc:
        p["codec"] = f"{name} failed: {type(exc).__name__}"
        return x
    p["codec"] = (name, kbps)
    return _align(np.frombuffer(dec, dtype="<f4").astype(np.float64), x, sr)
