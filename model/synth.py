"""MIDI -> audio with FluidSynth, offline (no sound card), and the soundfont search.

Soundfont order: the explicit argument, ``UNIMT_SOUNDFONT``, the system's General MIDI soundfonts,
then the small TimGM6mb soundfont that pretty_midi ships.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from model.errors import BadInputError, LimitError, MissingDependencyError
from model.io.formats import MAX_SYNTH_SECONDS
from model.io.types import Audio, Midi
from model.progress import ProgressFn, as_reporter

SAMPLE_RATE = 44100
TAIL_SECONDS = 1.5

SYSTEM_SOUNDFONTS = [
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
    "C:/soundfonts/default.sf2",
]

INSTALL_FLUIDSYNTH = (
    "FluidSynth is not installed: on Debian/Ubuntu run 'sudo apt-get install libfluidsynth3', "
    "on macOS 'brew install fluid-synth', on Windows put libfluidsynth-3.dll on PATH"
)
INSTALL_SOUNDFONT = (
    "no General MIDI soundfont found: install one ('sudo apt-get install fluid-soundfont-gm') "
    "or pass --soundfont FILE.sf2"
)


def find_soundfont(explicit: Optional[str | Path] = None) -> Path:
    """The soundfont to use, or MissingDependencyError saying what to install."""
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise BadInputError("soundfont not found", p)
        if p.suffix.lower() not in (".sf2", ".sf3"):
            raise BadInputError("a soundfont must be a .sf2 or .sf3 file", p)
        return p
    env = os.environ.get("UNIMT_SOUNDFONT")
    if env and Path(env).is_file():
        return Path(env)
    for cand in SYSTEM_SOUNDFONTS:
        if Path(cand).is_file():
            return Path(cand)
    try:
        import pretty_midi

        bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    raise MissingDependencyError(INSTALL_SOUNDFONT)


def _fluidsynth():
    try:
        import fluidsynth
    except (ImportError, OSError):
        raise MissingDependencyError(INSTALL_FLUIDSYNTH) from None
    if not hasattr(fluidsynth, "Synth"):
        raise MissingDependencyError(INSTALL_FLUIDSYNTH)
    return fluidsynth


def _events(pm) -> list[tuple[float, int, int, int, int, int]]:
    """(time, order, kind, channel, a, b) with kind 0=program 1=cc 2=note-off 3=note-on."""
    events = []
    channel = 0
    for inst in pm.instruments:
        if inst.is_drum:
            ch = 9
        else:
            ch = channel if channel != 9 else 10
            channel = (ch + 1) % 16
        events.append((0.0, 0, 0, ch, int(inst.program), 128 if inst.is_drum else 0))
        for cc in inst.control_changes:
            events.append((float(cc.time), 1, 1, ch, int(cc.number), int(cc.value)))
        for n in inst.notes:
            if n.end <= n.start:
                continue
            events.append((float(n.start), 3, 3, ch, int(n.pitch), int(n.velocity)))
            events.append((float(n.end), 2, 2, ch, int(n.pitch), 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def midi_to_audio(
    midi: Midi,
    soundfont: Optional[str | Path] = None,
    sample_rate: int = SAMPLE_RATE,
    gain: float = 0.5,
    progress: Optional[ProgressFn] = None,
    should_stop=None,
) -> Audio:
    """Render MIDI offline with FluidSynth. Returns stereo float32 audio."""
    from model.io.midiscan import duration_text

    end_time = float(midi.pm.get_end_time())
    if end_time > MAX_SYNTH_SECONDS:  # checked before any sample is made: the audio is held in memory
        raise LimitError(
            f"the music plays for {duration_text(end_time)}; unimt synthesises at most "
            f"{duration_text(MAX_SYNTH_SECONDS)}",
            midi.source,
        )
    fluidsynth = _fluidsynth()
    sf_path = find_soundfont(soundfont)
    report = as_reporter(progress, should_stop)
    synth = fluidsynth.Synth(samplerate=float(sample_rate), gain=gain)
    try:
        sfid = synth.sfload(str(sf_path))
        if sfid == -1:
            raise BadInputError("FluidSynth cannot load this soundfont", sf_path)
        events = _events(midi.pm)
        end = max([e[0] for e in events], default=0.0) + TAIL_SECONDS
        total = int(end * sample_rate)
        chunks: list[np.ndarray] = []
        done = 0
        selected: set[int] = set()
        for t, _, kind, ch, a, b in events:
            target = min(int(round(t * sample_rate)), total)
            while target > done:  # at most 10 s at a time: bounded allocations, and Cancel heard
                step = min(target - done, 10 * sample_rate)
                chunks.append(synth.get_samples(step))
                done += step
                report(done, total, "synthesising")
            if kind == 0:
                bank = 128 if b == 128 else 0
                if synth.program_select(ch, sfid, bank, a) != 0 and bank == 0:
                    synth.program_select(ch, sfid, 0, 0)
                selected.add(ch)
            elif kind == 1:
                synth.cc(ch, a, b)
            elif kind == 2:
                synth.noteoff(ch, a)
            else:
                if ch not in selected:
                    synth.program_select(ch, sfid, 128 if ch == 9 else 0, 0)
                    selected.add(ch)
                synth.noteon(ch, a, b)
        while total > done:
            step = min(total - done, 10 * sample_rate)
            chunks.append(synth.get_samples(step))
            done += step
        report(total, total, "synthesising")
    finally:
        synth.delete()
    return Audio(_normalised(chunks), sample_rate)


def _normalised(chunks: list[np.ndarray]) -> np.ndarray:
    """Interleaved int16 chunks -> (n, 2) float32 at -1 dBFS peak (FluidSynth's level depends on the
    soundfont),
    converted chunk by chunk: memory is the float result, not two copies of it."""
    total = sum(len(c) for c in chunks) // 2
    stereo = np.zeros((max(total, 1), 2), dtype=np.float32)
    peak, at = 0, 0
    for k in range(len(chunks)):
        c, chunks[k] = chunks[k].reshape(-1, 2), None  # type: ignore[call-overload]
        stereo[at : at + len(c)] = c
        peak = max(peak, int(np.abs(c.astype(np.int32)).max()) if c.size else 0)
        at += len(c)
    if peak > 0:
        stereo *= np.float32(0.89 / peak)
    return stereo


if sys.platform == "win32":  # pragma: no cover - paths differ on Windows
    SYSTEM_SOUNDFONTS.insert(
        0, str(Path(os.environ.get("PROGRAMDATA", "C:/ProgramData")) / "soundfonts/default.sf2")
    )
