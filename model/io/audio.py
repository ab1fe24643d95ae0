"""Audio: WAV, FLAC, OGG and MP3 read (via libsndfile); WAV and FLAC written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.errors import BadInputError, reason
from model.io.atomic import atomic_path
from model.io.formats import MAX_AUDIO_SECONDS
from model.io.types import Audio

BLOCK = 1 << 20


def read_audio(path: Path) -> Audio:
    """Read an audio file. Files longer than ten minutes are downmixed to mono while reading."""
    import soundfile as sf

    try:
        with sf.SoundFile(path) as fh:
            sr, channels, frames = fh.samplerate, fh.channels, fh.frames
            if sr <= 0:
                raise BadInputError("invalid sample rate", path)
            if frames == 0:
                raise BadInputError("contains no audio (0 seconds)", path)
            if frames > MAX_AUDIO_SECONDS * sr:
                raise BadInputError(f"is {frames / sr / 3600:.1f} hours long; unimt reads at most "
                                    f"{MAX_AUDIO_SECONDS // 3600} hours", path)
            to_mono = channels > 1 and frames > 600 * sr
            blocks = []
            for block in fh.blocks(blocksize=BLOCK, dtype="float32", always_2d=True):
                blocks.append(block.mean(axis=1) if to_mono else block)
    except BadInputError:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        why = reason(exc)
        if "does not exist" in why or "unimplemented format" in why:
            why = "unrecognised or corrupt audio data"
        raise BadInputError(f"cannot decode the audio ({why})", path) from None
    if not blocks:
        raise BadInputError("contains no audio (0 seconds)", path)
    samples = np.concatenate(blocks, axis=0)
    if samples.ndim == 2 and samples.shape[1] == 1:
        samples = samples[:, 0]
    if len(samples) == 0:
        raise BadInputError("contains no audio (0 seconds)", path)
    if not np.isfinite(samples).all():
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return Audio(np.ascontiguousarray(samples), int(sr), source=path)



def write_audio(audio: Audio, path: Path, fmt: str) -> list[Path]:
    import soundfile as sf

    x = np.clip(np.asarray(audio.samples, dtype=np.float32), -1.0, 1.0)
    subtype = "PCM_16" if fmt == "wav" else "PCM_16"
    with atomic_path(path) as tmp:
        sf.write(str(tmp), x, audio.sample_rate, format=fmt.upper(), subtype=subtype)
    return [path]
