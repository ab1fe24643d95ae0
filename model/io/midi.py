"""MIDI files: type 0 and 1, tempo maps and sustain pedal, read with checks and written atomically."""

from __future__ import annotations

import io
from pathlib import Path

from model.errors import BadInputError, reason
from model.io.atomic import atomic_path
from model.io.formats import MAX_MIDI_BYTES
from model.io.types import Midi

MAX_TICK = 10**9  # pretty_midi's default (1e7) rejects long files written at 10080 ticks per quarter


def read_midi_bytes(data: bytes, path: Path | None = None) -> Midi:
    import mido
    import pretty_midi

    try:
        mf = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise BadInputError(f"corrupt or truncated MIDI ({reason(exc)})", path) from None
    if mf.type == 2:
        raise BadInputError("MIDI type 2 (independent sequences) is not supported", path)
    pretty_midi.pretty_midi.MAX_TICK = max(pretty_midi.pretty_midi.MAX_TICK, MAX_TICK)
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:
        raise BadInputError(f"cannot read the MIDI ({type(exc).__name__}: {exc})", path) from None
    return Midi(pm, source=path)


def read_midi(path: Path) -> Midi:
    size = path.stat().st_size
    if size > MAX_MIDI_BYTES:
        raise BadInputError(f"the MIDI file is {size / 1024**2:.0f} MiB; refused", path)
    return read_midi_bytes(path.read_bytes(), path)


def write_midi(midi: Midi, path: Path) -> list[Path]:
    with atomic_path(path) as tmp:
        midi.pm.write(str(tmp))
    return [path]
