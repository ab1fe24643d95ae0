"""Audio -> frames: log-mel features for transcription, and the interface a learned codec will fill.

The mel filterbank follows librosa's defaults (Slaney mel scale, area normalisation); the STFT runs in
torch (``torch.stft``), so no torchaudio is needed. 16 kHz, 10 ms hop: one frame per MIDI time step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from model.tokenizers.base import Tokenizer, TokenSequence


@dataclass
class MelConfig:
    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 160       # 10 ms
    n_mels: int = 229           # as Onsets and Frames
    fmin: float = 30.0
    fmax: float = 8000.0
    log_floor: float = 1e-5

    @property
    def frames_per_second(self) -> float:
        return self.sample_rate / self.hop_length


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


@lru_cache(maxsize=8)
def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, Slaney-normalised (librosa.filters.mel defaults)."""
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_pts = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_pts[2:n_mels + 2] - mel_pts[:n_mels]))[:, None]
    return weights.astype(np.float32)


def _mel_power(samples: np.ndarray, config: MelConfig):
    """(n_mels, T) mel power of mono float32 samples already at ``config.sample_rate`` (a torch tensor)."""
    import torch

    x = torch.as_tensor(np.ascontiguousarray(samples, dtype=np.float32))
    if x.numel() < config.n_fft:
        x = torch.nn.functional.pad(x, (0, config.n_fft - x.numel()))
    window = torch.hann_window(config.n_fft)
    spec = torch.stft(x, config.n_fft, config.hop_length, window=window, center=True, return_complex=True)
    fb = torch.as_tensor(mel_filterbank(config.sample_rate, config.n_fft, config.n_mels, config.fmin,
                                        config.fmax))
    return fb @ (spec.abs() ** 2)


def _log(mel, config: MelConfig) -> np.ndarray:
    import torch

    return torch.log(torch.clamp(mel, min=config.log_floor)).T.contiguous().numpy()


def log_mel(samples: np.ndarray, config: MelConfig | None = None) -> np.ndarray:
    """Log-mel frames (T, n_mels) of mono float32 samples already at ``config.sample_rate``."""
    config = config or MelConfig()
    return _log(_mel_power(samples, config), config)


def loudness(frames: np.ndarray) -> float:
    """A recording's level as the model hears it: the 95th percentile over frames of the log of the frame's
    summed mel power (natural-log units; +1 is +4.3 dB). Loud passages set it, not silences."""
    if len(frames) == 0:
        return float("-inf")
    return float(np.percentile(np.logaddexp.reduce(frames.astype(np.float64), axis=1), 95))


def _level_gain(level: float, target: float, config: MelConfig, max_gain_db: float) -> float:
    """The power factor from :func:`loudness` ``level`` to ``target`` (at most +-``max_gain_db``; 1 for
    silence)."""
    silence = float(np.log(config.log_floor * config.n_mels))     # every bin of a frame at the floor
    if not np.isfinite(level) or level <= silence + 1.0:
        return 1.0
    limit = max_gain_db * np.log(10.0) / 10.0
    return float(np.exp(np.clip(target - level, -limit, limit)))


def level_gain(samples: np.ndarray, target: float, config: MelConfig | None = None,
               max_gain_db: float = 40.0) -> float:
    """The amplitude factor that brings mono ``samples`` to the :func:`loudness` ``target`` (at most
    +-``max_gain_db``; 1.0 for silence)."""
    config = config or MelConfig()
    return float(np.sqrt(_level_gain(loudness(log_mel(samples, config)), target, config, max_gain_db)))


def level_mel(samples: np.ndarray, target: float | None, config: MelConfig | None = None,
              max_gain_db: float = 40.0) -> np.ndarray:
    """Log-mel frames of mono ``samples`` played at the loudness ``target`` (as they are when None). The gain
    goes on the mel power before the log floor, exactly as if on the samples, so a recording made 20 dB down
    keeps the quiet partials that the floor would otherwise cut off; one STFT either way."""
    config = config or MelConfig()
    mel = _mel_power(samples, config)
    if target is None:
        return _log(mel, config)
    return _log(mel * _level_gain(loudness(_log(mel, config)), target, config, max_gain_db), config)


class AudioFrames(Tokenizer):
    """Continuous front-end: audio -> log-mel frames. ``ids`` are frame indices; features in ``frames``."""

    modality = "audio"

    @classmethod
    def default_config(cls) -> MelConfig:
        return MelConfig()

    @property
    def vocab(self) -> list[str]:
        return []

    def features(self, obj: Any) -> np.ndarray:
        from model.io import load
        from model.io.types import Audio

        audio = obj if isinstance(obj, Audio) else load(obj)
        return log_mel(audio.mono(self.config.sample_rate), self.config)

    def _encode(self, obj: Any) -> TokenSequence:
        feats = self.features(obj)
        seq = TokenSequence(list(range(len(feats))), [])
        seq.frames = feats  # type: ignore[attr-defined]
        return seq

    def _decode(self, ids: list[int]) -> Any:
        raise NotImplementedError("log-mel frames are an analysis front-end; a learned codec can decode")


class AudioCodec:
    """What a learned audio codec (DAC-style residual VQ) provides; no implementation ships yet."""

    frame_rate: float
    n_codebooks: int
    codebook_size: int

    def encode(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:  # (T, n_codebooks) int
        raise NotImplementedError

    def decode(self, codes: np.ndarray) -> np.ndarray:  # float32 samples
        raise NotImplementedError
