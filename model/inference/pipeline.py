"""Model-backed translations: score image -> notation, audio -> MIDI, performance MIDI -> notation.

Until weights are installed these check their input (so a photo without music is told so) and then
raise :class:`model.errors.ModelUnavailableError` naming where weights were looked for.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Optional

from model.errors import BadInputError, ModelUnavailableError
from model.inference.weights import find_weights, has_reader, notates_midi, trained_for
from model.io.types import Audio, Midi, Notation, ScoreImage
from model.progress import Reporter, stages_only


@dataclass
class ModelOptions:
    device: str = "auto"          # auto | cpu | cuda | mps
    weights: Optional[str] = None
    log: Optional[Callable[[str], None]] = None    # told which route a translation takes (the CLI's -v)


def check_score_pages(image: ScoreImage, report: Reporter) -> list[int]:
    """Indices of pages with at least one staff; BadInputError if none has any."""
    from model.omr.staves import detect_staves

    pages = []
    for i in range(image.page_count):
        report(i, image.page_count, "finding staves")
        staves, _ = detect_staves(image.page(i))
        if staves:
            pages.append(i)
    if not pages:
        raise BadInputError("no music staves found in the image; is this a score?", image.source)
    return pages


def recognise_image(image: ScoreImage, options: ModelOptions, report: Reporter) -> Notation:
    """Optical music recognition of every page into one score."""
    from model.inference.engine import get_engine

    try:
        folder = find_weights(options.weights)
    except ModelUnavailableError:
        check_score_pages(image, report)  # a photo without music is told so, weights or not
        raise
    if not trained_for("image", folder):
        check_score_pages(image, report)
        raise ModelUnavailableError(
            f"the installed weights ({folder}) were not trained to read score images; "
            "pass --weights DIR with weights that are",
            image.source,
        )
    if has_reader(folder):
        from model.inference.staff_reader import recognise

        return recognise(folder, image, report)
    return get_engine(folder, options.device, stages_only(report)).recognise(image, report)


def transcribe_audio(audio: Audio, options: ModelOptions, report: Reporter) -> Midi:
    """Piano transcription of a recording into MIDI."""
    from model.inference.engine import get_engine

    if audio.duration < 0.05:
        raise BadInputError("the recording is too short to transcribe", audio.source)
    folder = find_weights(options.weights)
    if not trained_for("audio", folder):
        raise ModelUnavailableError(
            f"the installed weights ({folder}) were not trained to transcribe recordings; "
            "pass --weights DIR with weights that are",
            audio.source,
        )
    return get_engine(folder, options.device, stages_only(report)).transcribe(audio, report)


def played_on_one_instrument(pm) -> bool:
    """What the model was trained to write: one instrument's notes (a piano performance), played by a person
    (off the file's beat grid). Several instruments keep their parts through the quantiser, and a file on its
    beat grid (exported from a notation program) is read almost exactly by it."""
    from model.quantize import on_the_grid

    tracks = [inst for inst in pm.instruments if not inst.is_drum and inst.notes]
    return len(tracks) == 1 and not on_the_grid(pm)


def notate_midi(midi: Midi, options: ModelOptions, report: Reporter) -> Notation:
    """MIDI -> a score, by what the file is:

    * on its beat grid (exported from a notation program or a sequencer): the music21 quantiser, which
      reads it almost exactly with the file's own meter and key;
    * a performance: beats, meter, key, hands and voices recovered by :mod:`model.notate` (one piano
      track split into two hands; several tracks kept as staves on one shared beat grid);
    * the seq2seq writer only for weights marked as measured better
    (:func:`model.inference.weights.notates_midi`).
    """
    from model.quantize import midi_to_notation, on_the_grid

    say = options.log or (lambda _msg: None)
    if on_the_grid(midi.pm):
        say("MIDI -> score: on its beat grid, read by the quantiser with the file's own meter and key")
        return midi_to_notation(midi, progress=report)
    try:
        folder = find_weights(options.weights)
    except ModelUnavailableError:
        folder = None
    if folder is not None and notates_midi(folder) and played_on_one_instrument(midi.pm):
        from model.inference.engine import get_engine

        say(f"MIDI -> score: a performance, written by the seq2seq writer of {folder}")
        return get_engine(folder, options.device, stages_only(report)).notate(midi, report)
    from model.notate import performance_to_score

    heard = midi.note_confidence is not None   # a transcription: meter weighed for heard notes
    notation, info = performance_to_score(midi.pm, progress=report, source=midi.source, transcribed=heard)
    what = "a performance heard in a recording" if heard else "a performance"
    say(f"MIDI -> score: {what}, {info['route']}: {info['meter']}, key signature "
        f"{info['key_fifths']:+d} fifths, {info['bpm']} beats a minute, {info['measures']} measures")
    return notation


def load_model(src: str, options: ModelOptions, report: Reporter) -> bool:
    """Load (once per process) what translating from ``src`` ("image" or "audio") runs on, telling ``report``
    each stage: the configuration read, every weight file read (by bytes), the network put on its device.
    False when there is nothing to load (no weights for it, or loaded already)."""
    from model.inference import engine, staff_reader

    try:
        folder = find_weights(options.weights)
    except ModelUnavailableError:
        return False
    if not trained_for(src, folder):
        return False
    if "torch" not in sys.modules:         # the first model of the process: PyTorch itself takes seconds
        report(0, 0, "loading the model: starting PyTorch")
        import torch  # noqa: F401
    if src == "image" and has_reader(folder):
        if staff_reader.is_loaded(folder):
            return False
        staff_reader.get_reader(folder, report)
        return True
    if engine.is_loaded(folder, options.device):
        return False
    engine.get_engine(folder, options.device, report)
    return True
