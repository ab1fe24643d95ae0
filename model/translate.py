"""Run a route of the translation graph on a loaded object: any modality to any other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

from model.engrave import EngraveOptions
from model.graph import AUDIO, IMAGE, MIDI, NOTATION, Edge, route
from model.inference.pipeline import ModelOptions
from model.io.types import Modality
from model.progress import ProgressFn, Reporter, StopFn, as_reporter


@dataclass
class TranslateOptions:
    """Everything a translation may need; defaults suit a musician's laptop."""

    soundfont: Optional[str] = None
    engrave: EngraveOptions = field(default_factory=EngraveOptions)
    image_dpi: int = 150
    model: ModelOptions = field(default_factory=ModelOptions)


def _step(edge: Edge, obj, options: TranslateOptions, report: Reporter):
    if edge.src is NOTATION and edge.dst is IMAGE:
        from model.engrave import notation_to_image

        return notation_to_image(obj, options.engrave, options.image_dpi, report)
    if edge.src is NOTATION and edge.dst is MIDI:
        from model.perform import notation_to_midi

        return notation_to_midi(obj)
    if edge.src is MIDI and edge.dst is AUDIO:
        from model.synth import midi_to_audio

        return midi_to_audio(obj, options.soundfont, progress=report)
    if edge.src is MIDI and edge.dst is NOTATION:
        from model.inference.pipeline import notate_midi

        return notate_midi(obj, options.model, report)
    if edge.src is IMAGE and edge.dst is NOTATION:
        from model.inference.pipeline import recognise_image

        return recognise_image(obj, options.model, report)
    if edge.src is AUDIO and edge.dst is MIDI:
        from model.inference.pipeline import transcribe_audio

        return transcribe_audio(obj, options.model, report)
    raise ValueError(f"no implementation for {edge}")  # pragma: no cover


def translate(obj, target: Modality, options: Optional[TranslateOptions] = None,
              progress: Optional[ProgressFn] = None, should_stop: Optional[StopFn] = None):
    """Translate a loaded object into ``target`` along the graph's route.

    Args:
        obj: a ScoreImage, Notation, Midi or Audio (from :func:`model.io.load` or another translation).
        target: the modality wanted.
        options: soundfont, engraving layout, model device and weights.
        progress: ``progress(done, total, message)`` callback.
        should_stop: returns True to cancel; the work then raises :class:`model.errors.Cancelled`.
    """
    results = [obj] + [out for _, out in run_route(obj, route(obj.modality, target), options, progress,
                                                   should_stop)]
    return results[-1]


def run_route(obj, steps: list[Edge], options: Optional[TranslateOptions] = None,
              progress: Optional[ProgressFn] = None, should_stop: Optional[StopFn] = None) -> Iterator[tuple]:
    """Run a route planned already (:func:`model.graph.route`, :func:`model.graph.best_route`) from ``obj``,
    yielding ``(edge, result)`` after each step, so that a caller keeps every step's result without asking
    for the route again. Progress is on one scale for the whole route: ``progress(done, 1000, message)``."""
    options = options or TranslateOptions()
    for i, edge in enumerate(steps):
        def step_progress(done, total, message, _i=i, _edge=edge):
            if progress is not None:
                frac = (done / total) if total else 0.0
                progress(int(1000 * (_i + frac) / len(steps)), 1000, message or _edge.name)

        report = as_reporter(step_progress, should_stop)
        report.check()
        obj = _step(edge, obj, options, report)
        yield edge, obj


def load_model(src: Modality, options: Optional[TranslateOptions] = None,
               progress: Optional[ProgressFn] = None, should_stop: Optional[StopFn] = None) -> bool:
    """Load the model a translation from ``src`` (a score image or a recording) runs on, before it runs:
    ``progress(done, total, message)`` hears each stage ("loading the model: reading its configuration",
    every weight file read with its bytes done of its size, the network put on its device). The model is
    loaded lazily and once per process: False when there is nothing to load (loaded already, no weights,
    or no model step from ``src``)."""
    from model.inference.pipeline import load_model as _load

    options = options or TranslateOptions()
    if src not in (IMAGE, AUDIO):
        return False
    return _load(src.value, options.model, as_reporter(progress, should_stop))
