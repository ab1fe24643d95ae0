"""Denser music from the windows at hand: two recordings mixed at every use (audio2notes).

The training windows (chorales, songs, procedurally written pieces) are sparser than the piano music that
people record: a ragtime's stride bass under a melody in octaves sounds 15-20 notes a second, four to six at
once. A note head trained on the sparse windows alone misses most notes of such music (the Maple Leaf Rag
played dry by a training piano: onset recall 43%, against 79% for its right hand alone).

:func:`mix` lays a second window over the first, as two pianos heard together: the sum of their mel powers
(``logaddexp`` of the log-mel frames, the second at a gain drawn from +-``max_db`` dB), brought back to the
first window's loudness, and the union of their note labels. Phase between the two is ignored, as in any
power-domain mixture. Every call draws its own partner and gain, so no pair is seen twice.

:func:`reverb` adds a room's diffuse tail in the mel domain and :func:`shift` moves a window up or down in
pitch (mel bands and labels together): the training windows have almost no notes above C6.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

__all__ = ["mix", "mixed", "per_use", "reverb", "shift"]


def mix(a, b, rng: np.random.Generator, max_db: float = 6.0):
    """Example ``a`` (audio2notes: log-mel ``src``, ``labels``) with ``b`` mixed in over ``a``'s length."""
    from model.batching import AUDIO_PAD as floor
    from model.notes import FRAME, OFFSET, ONSET, VELOCITY
    from model.tokenizers.audio import loudness

    n = min(len(a.src), len(b.src))
    if n == 0 or a.labels is None or b.labels is None:
        return a
    gain = float(rng.uniform(-max_db, max_db)) * np.log(10.0) / 10.0        # dB -> natural-log power
    src = a.src.astype(np.float32).copy()
    src[:n] = np.logaddexp(src[:n], b.src[:n].astype(np.float32) + gain)
    level_a, level_mix = loudness(a.src), loudness(src)
    if np.isfinite(level_a) and np.isfinite(level_mix):
        src = src - np.float32(level_mix - level_a)                    # the mixture as loud as ``a``
    src = np.maximum(src, np.float32(floor))

    la, lb = a.labels, b.labels[:n]
    labels = la.copy()
    top = labels[:n]
    top[..., FRAME] = np.maximum(top[..., FRAME], lb[..., FRAME])
    for ch in (ONSET, OFFSET):                          # 1 wins; else "do not learn here" (-1) wins over 0
        x, y = top[..., ch], lb[..., ch]
        top[..., ch] = np.where((x == 1) | (y == 1), 1.0, np.where((x < 0) | (y < 0), -1.0, 0.0))
    top[..., VELOCITY] = np.maximum(top[..., VELOCITY], lb[..., VELOCITY])
    return dataclasses.replace(a, src=src.astype(a.src.dtype), labels=labels)


def mixed(examples, rng: np.random.Generator, prob: float, max_db: float = 6.0, pool: int = 32):
    """``examples`` where audio2notes windows are, with probability ``prob``, mixed with an earlier window
    drawn from a pool of the last ``pool`` (each window also joins the pool as it was)."""
    seen: list = []
    for ex in examples:
        out = ex
        if ex.task == "audio2notes" and ex.labels is not None:
            if seen and rng.random() < prob:
                out = mix(ex, seen[int(rng.integers(len(seen)))], rng, max_db)
            if len(seen) < pool:
                seen.append(ex)
            else:
                seen[int(rng.integers(pool))] = ex
        yield out


def reverb(a, rng: np.random.Generator, drr_db: tuple = (-9.0, 12.0), rt60: tuple = (0.3, 2.0)):
    """Example ``a`` heard further into a room: a diffuse tail added to its mel powers, each band's energy
    decaying exponentially (60 dB over an RT60 drawn from ``rt60`` seconds, shorter in the treble, as air and
    walls absorb it), at a direct-to-reverberant ratio drawn from ``drr_db``; then back at ``a``'s loudness.
    Labels are unchanged: the notes are the same, only harder to hear."""
    from model.batching import AUDIO_PAD as floor
    from model.notes import FPS
    from model.tokenizers.audio import loudness

    src = a.src.astype(np.float64)
    t, f = src.shape
    if t < 2:
        return a
    power = np.exp(src)
    power[src <= floor + 1e-3] = 0.0                                  # silence adds no tail
    t60 = float(rng.uniform(*rt60)) * (1.0 - 0.5 * np.linspace(0.0, 1.0, f) ** 2)     # (F,) seconds
    k = np.arange(1, int(min(t, max(t60) * FPS)) + 1)[:, None]      # (K, 1) frames after the sound
    kernel = np.exp(-6.91 * k / (t60[None, :] * FPS))               # energy, -60 dB at RT60
    n = 1 << int(np.ceil(np.log2(t + len(k))))
    tail = np.fft.irfft(np.fft.rfft(power, n, axis=0) * np.fft.rfft(np.vstack([np.zeros((1, f)), kernel]), n,
                                                                     axis=0), n, axis=0)[:t]
    tail = np.maximum(tail, 0.0)
    direct, late = float(power.sum()), float(tail.sum())
    if direct <= 0 or late <= 0:
        return a
    tail *= direct / late * 10 ** (-float(rng.uniform(*drr_db)) / 10.0)
    out = np.log(np.maximum(power + tail, np.exp(floor)))
    level_a, level_out = loudness(a.src), loudness(out)
    if np.isfinite(level_a) and np.isfinite(level_out):
        out = out - (level_out - level_a)
    return dataclasses.replace(a, src=np.maximum(out, floor).astype(a.src.dtype))


@functools.lru_cache(maxsize=1)
def _mel_grid():
    """(centre frequency, bandwidth) of every mel band of the audio tokenizer (Hz)."""
    from model.tokenizers.audio import MelConfig, _hz_to_mel, _mel_to_hz

    c = MelConfig()
    pts = _mel_to_hz(np.linspace(_hz_to_mel(c.fmin), _hz_to_mel(c.fmax), c.n_mels + 2))
    return pts[1:-1], pts[2:] - pts[:-2]


def shift(a, rng: np.random.Generator, down: int = 5, up: int = 12, semitones: int | None = None):
    """Example ``a`` played higher or lower: its mel powers moved by ``k`` semitones (``semitones``, or drawn
    from -``down`` to +``up``, never past the keyboard's ends for the notes it has), its labels by ``k`` keys.

    Training windows have few notes above C6 (0.4 %), and a note head trained on them alone never finds one.
    Each band takes the power at its centre frequency / 2^(k/12), interpolated between bands, corrected for
    the bands' widths (the filters are area-normalised: a tone's power in a band falls as the band widens),
    then the window goes back to ``a``'s loudness. The timbre moves with the pitch (a shifted C4 keeps C4's
    long decay), which no piano does, so only a share of the windows are shifted."""
    from model.batching import AUDIO_PAD as floor
    from model.notes import FRAME
    from model.tokenizers.audio import loudness

    if a.labels is None or len(a.src) < 2:
        return a
    keys = np.flatnonzero(a.labels[..., FRAME].max(axis=0) > 0)
    n_keys = a.labels.shape[1]
    lo, hi = -down, up
    if keys.size:
        lo, hi = max(lo, -int(keys[0])), min(hi, n_keys - 1 - int(keys[-1]))
    k = semitones if semitones is not None else (int(rng.integers(lo, hi + 1)) if hi >= lo else 0)
    if k == 0:
        return a
    centre, width = _mel_grid()
    source = centre / 2.0 ** (k / 12.0)
    pos = np.interp(source, centre, np.arange(centre.size), left=-1.0, right=-1.0)
    src = a.src.astype(np.float64)
    i0 = np.clip(np.floor(pos).astype(int), 0, centre.size - 2)
    frac = np.clip(pos - i0, 0.0, 1.0)
    out = src[:, i0] * (1.0 - frac) + src[:, i0 + 1] * frac
    out += np.log(np.interp(source, centre, width) / width)[None, :]
    out[:, pos < 0] = floor                                        # no sound comes from outside the bands
    level_a, level_out = loudness(a.src), loudness(out)
    if np.isfinite(level_a) and np.isfinite(level_out):
        out = out - (level_out - level_a)
    labels = np.zeros_like(a.labels)
    if k > 0:
        labels[:, k:] = a.labels[:, :-k]
    else:
        labels[:, :k] = a.labels[:, -k:]
    return dataclasses.replace(a, src=np.maximum(out, floor).astype(a.src.dtype), labels=labels)


def per_use(examples, rng: np.random.Generator, mix_prob: float = 0.0, reverb_prob: float = 0.0,
            shift_prob: float = 0.0, shift_up: int = 12):
    """``examples`` through what is drawn afresh at every use: :func:`shift` (``shift_prob``, at most
    ``shift_up`` semitones up) and :func:`mixed` windows (``mix_prob``), then :func:`reverb` on audio2notes
    windows (``reverb_prob``)."""
    if shift_prob > 0:
        examples = (shift(ex, rng, up=shift_up) if ex.task == "audio2notes" and rng.random() < shift_prob
                    else ex for ex in examples)
    if mix_prob > 0:
        examples = mixed(examples, rng, mix_prob)
    for ex in examples:
        if reverb_prob > 0 and ex.task == "audio2notes" and rng.random() < reverb_prob:
            ex = reverb(ex, rng)
        yield ex
