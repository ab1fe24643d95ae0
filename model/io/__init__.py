"""Readers and writers, one module per format, behind ``load(path)`` and ``save(obj, path)``.

``load`` checks that the file exists, is not empty, has a supported extension and content that
matches it, then returns one of the modality objects in :mod:`model.io.types`. Every failure is a
:class:`model.errors.UnimtError` whose message is one line naming the file and the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from model.errors import UnimtError
from model.io.formats import READ_FORMATS, WRITE_FORMATS, check_input, output_format
from model.io.types import Audio, Midi, Modality, Notation, ScoreImage

Loaded = Union[ScoreImage, Notation, Midi, Audio]

__all__ = [
    "Audio", "Loaded", "Midi", "Modality", "Notation", "READ_FORMATS", "ScoreImage", "WRITE_FORMATS",
    "load", "modality_of", "output_format", "save",
]


def modality_of(path: str | Path) -> Optional[Modality]:
    """The modality a path's extension stands for (None if unknown)."""
    entry = READ_FORMATS.get(Path(path).suffix.lower()) or WRITE_FORMATS.get(Path(path).suffix.lower())
    return entry[0] if entry else None


def load(path: str | Path, dpi: Optional[int] = None) -> Loaded:
    """Read any supported file into its modality object.

    Args:
        path: the file; its extension picks the reader, its content must match.
        dpi: resolution for rendering PDF pages.
    """
    path, modality, fmt = check_input(path)
    try:
        if modality is Modality.IMAGE:
            from model.io.image import read_image

            return read_image(path, fmt, dpi)
        if modality is Modality.NOTATION:
            from model.io.notation import read_notation

            return read_notation(path, fmt)
        if modality is Modality.MIDI:
            from model.io.midi import read_midi

            return read_midi(path)
        from model.io.audio import read_audio

        return read_audio(path)
    except UnimtError:
        raise
    except MemoryError:
        raise UnimtError("not enough memory to read this file", path) from None
    except Exception as exc:  # a reader's unexpected failure still becomes one clear line
        raise UnimtError(f"cannot read the file ({type(exc).__name__}: {exc})", path) from None


def save(obj: Loaded, path: str | Path, to: Optional[str] = None) -> list[Path]:
    """Write a modality object to ``path`` (format from the extension, or ``to``); atomic.

    Returns:
        The paths written (several for multi-page PNG/SVG: ``out-1.png``, ``out-2.png``, ...).
    """
    path = Path(path)
    modality, fmt = output_format(path, to)
    if obj.modality is not modality:
        raise UnimtError(f"cannot write a {obj.modality.label} as {fmt}", path)
    if modality is Modality.IMAGE:
        from model.io.image import write_image

        return write_image(obj, path, fmt)
    if modality is Modality.NOTATION:
        from model.io.notation import write_notation

        return write_notation(obj, path, fmt)
    if modality is Modality.MIDI:
        from model.io.midi import write_midi

        return write_midi(obj, path)
    from model.io.audio import write_audio

    return write_audio(obj, path, fmt)
