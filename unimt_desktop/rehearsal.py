"""The rehearsal job (no Qt): the piece at another tempo, transposed, with parts muted, synthesised again
from its MIDI by the model package (:func:`model.api.rehearse`), and what the panes draw of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from unimt_desktop import jobs

NEEDS_NOTES = ("Tempo, transposition and muting play the notes again, and this recording has none yet: "
               "translate it to MIDI first.")


@dataclass(frozen=True)
class Practice:
    """How the musician wants to hear the piece: tempo (1.0 as written), semitones, the parts muted and the
    parts soloed (indices into :func:`model.api.part_names`). As on a mixing desk, a solo silences every
    part not soloed (several can be soloed), and a muted part stays silent even when soloed."""

    tempo: float = 1.0
    semitones: int = 0
    muted: frozenset = field(default_factory=frozenset)
    soloed: frozenset = field(default_factory=frozenset)

    def plain(self) -> bool:
        """As written: the piece plays as loaded or translated, nothing is made again."""
        return self.tempo == 1.0 and self.semitones == 0 and not self.muted and not self.soloed

    def silent(self, parts: int) -> frozenset:
        """The parts not heard, of a piece with ``parts`` parts."""
        if not self.soloed:
            return frozenset(self.muted)
        return frozenset(k for k in range(parts) if k not in self.soloed) | frozenset(self.muted)


@dataclass
class Rehearsal:
    practice: Practice
    midi: Any                  # model.api.Midi as it plays (scaled, transposed, muted parts left out)
    audio: Any                 # model.api.Audio: its sound
    roll: jobs.RollData        # what the roll draws: the notes as they play, in the piece's colours
    wave: jobs.WaveData
    parts: list[str]           # the parts of the piece (model.api.part_names)
    engraved: Optional[jobs.PageSet] = None   # the transposed score's engraving (None: as written)
    engraved_image: Any = None


def source_midi(objects: dict, progress=None):
    """The MIDI the rehearsal plays from: the one at hand, or the score performed (not kept)."""
    from model.api import Modality, UnimtError, translate

    if Modality.MIDI in objects:
        return objects[Modality.MIDI]
    if Modality.NOTATION in objects:
        return translate(objects[Modality.NOTATION], Modality.MIDI, progress=progress)
    raise UnimtError(NEEDS_NOTES)


def rehearsal_roll(midi, practice: Practice, silent=frozenset()) -> jobs.RollData:
    """The piece's roll as the rehearsal plays it: times scaled, pitched notes moved, ``silent`` parts gone;
    each note keeps its part's colour."""
    roll = jobs.roll_data(midi)
    notes = roll.notes.copy()
    drum = np.concatenate([[inst.is_drum] * len(inst.notes) for inst in midi.pm.instruments] or [[]])
    drum = drum.astype(bool)[:len(notes)]
    notes[:, :2] /= practice.tempo
    notes[~drum, 2] += practice.semitones
    pitched = (notes[:, 2] >= 0) & (notes[:, 2] <= 127)
    keep = ~np.isin(notes[:, 4].astype(int), sorted(silent)) & pitched
    conf = roll.confidence[keep] if roll.confidence is not None else None
    return jobs.RollData(notes[keep], roll.tracks, roll.duration / practice.tempo, conf)


def rehearse_job(objects: dict, practice: Practice, soundfont=None, engrave: bool = True, *, progress,
                 should_stop) -> Rehearsal:
    """Make the rehearsal: the performance again (:func:`model.api.rehearse`, off the GUI thread), its
    waveform and roll, and, when it is transposed and there is a score, the transposed score engraved."""
    from model.api import Cancelled, Modality, part_names, rehearse, transpose

    steps = jobs._Steps(progress, 3 if engrave else 2)
    midi = source_midi(objects, steps.sub)
    parts = part_names(midi)
    silent = practice.silent(len(parts))
    played, audio = rehearse(midi, practice.tempo, practice.semitones, silent, soundfont,
                             progress=steps.sub, should_stop=should_stop)
    steps.next()
    res = Rehearsal(practice, played, audio, rehearsal_roll(midi, practice, silent),
                    jobs.wave_data(audio, steps.sub), parts)
    steps.next()
    if should_stop():
        raise Cancelled()
    if engrave and practice.semitones and Modality.NOTATION in objects:
        views = jobs.views_for(transpose(objects[Modality.NOTATION], practice.semitones), steps.sub)
        res.engraved, res.engraved_image = views.get("engraved"), views.get("_image")
    return res


def heard_words(practice: Practice, parts: list[str]) -> str:
    """How the piece is heard, in words: "75% tempo, +2 semitones, Bass muted" ("as written" when plain)."""
    muted = ", ".join(parts[k] for k in sorted(practice.muted) if k < len(parts))
    solo = " and ".join(parts[k] for k in sorted(practice.soloed) if k < len(parts))
    words = [f"{round(practice.tempo * 100)}% tempo" if practice.tempo != 1.0 else "",
             f"{practice.semitones:+d} semitones" if practice.semitones else "",
             f"{solo} solo" if solo else "", f"{muted} muted" if muted else ""]
    return ", ".join(w for w in words if w) or "as written"


def heard_export_job(objects: dict, practice: Practice, path: str, soundfont=None, audio=None, *, progress,
                     should_stop) -> list:
    """Write the sound as heard (the practice tempo, transposition, parts muted or soloed) to ``path``
    (WAV or FLAC): ``audio`` when it is made already (the rehearsal playing), else made again here."""
    from model.api import part_names, rehearse, save

    if audio is None:
        midi = source_midi(objects, progress)
        silent = practice.silent(len(part_names(midi)))
        _, audio = rehearse(midi, practice.tempo, practice.semitones, silent, soundfont, progress=progress,
                            should_stop=should_stop)
    progress(0, 1, "writing the audio")
    return [str(p) for p in save(audio, path)]
