"""The small public API the desktop app (and scripts) use to reach the model package.

Everything here is plain Python: no Qt. Long calls take ``progress(done, total, message)`` and
``should_stop()`` callables and raise :class:`Cancelled` when stopped.
"""

from __future__ import annotations

from model.edit import (
    DEFAULT_VELOCITY,
    NoteRef,
    add_note,
    beat_at,
    delete_note,
    move_note,
    note_ref,
    note_row,
    note_values,
    resize_note,
    set_velocity,
    snap,
    snap_grid,
)
from model.engrave import FONTS, EngraveOptions, engrave_svg, notation_to_image
from model.errors import BadInputError, Cancelled, MissingDependencyError, ModelUnavailableError, UnimtError
from model.graph import best_route, describe, needs_model, route, supported_pairs
from model.inference.engine import resolve_device
from model.inference.pipeline import ModelOptions
from model.inference.weights import Capabilities, capabilities, find_weights, weights_available, weights_can
from model.io import READ_FORMATS, WRITE_FORMATS, load, modality_of, output_format, save
from model.io.notation import musicxml_bytes, name_untitled
from model.io.types import Audio, Midi, Modality, Notation, ScoreImage
from model.measures import measure_boxes, measure_numbers, measure_times
from model.perform import expand_repeats, notation_to_midi, quarters_to_seconds, tempo_map
from model.practice import (
    MAX_SEMITONES,
    MAX_TEMPO,
    MIN_TEMPO,
    Bar,
    bars,
    click_track,
    note_parts,
    part_names,
    rehearsal,
    rehearse,
    transpose,
)
from model.quantize import SPLIT_PITCH, one_piano_track_both_hands
from model.synth import find_soundfont, midi_to_audio
from model.translate import TranslateOptions, load_model, run_route, translate

__all__ = [
    "DEFAULT_VELOCITY",
    "NoteRef",
    "add_note",
    "beat_at",
    "delete_note",
    "move_note",
    "note_ref",
    "note_row",
    "note_values",
    "resize_note",
    "set_velocity",
    "snap",
    "snap_grid",
    "Bar",
    "MAX_SEMITONES",
    "MAX_TEMPO",
    "MIN_TEMPO",
    "bars",
    "click_track",
    "note_parts",
    "part_names",
    "rehearsal",
    "rehearse",
    "transpose",
    "Capabilities",
    "capabilities",
    "Audio",
    "BadInputError",
    "Cancelled",
    "EngraveOptions",
    "FONTS",
    "Midi",
    "MissingDependencyError",
    "Modality",
    "ModelOptions",
    "ModelUnavailableError",
    "Notation",
    "READ_FORMATS",
    "SPLIT_PITCH",
    "ScoreImage",
    "TranslateOptions",
    "UnimtError",
    "WRITE_FORMATS",
    "best_route",
    "describe",
    "engrave_svg",
    "expand_repeats",
    "find_soundfont",
    "find_weights",
    "load",
    "load_model",
    "midi_to_audio",
    "modality_of",
    "musicxml_bytes",
    "name_untitled",
    "needs_model",
    "notation_to_image",
    "notation_to_midi",
    "one_piano_track_both_hands",
    "output_format",
    "measure_boxes",
    "measure_numbers",
    "measure_times",
    "quarters_to_seconds",
    "resolve_device",
    "route",
    "run_route",
    "save",
    "supported_pairs",
    "tempo_map",
    "translate",
    "weights_available",
    "weights_can",
]
