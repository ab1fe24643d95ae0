"""``unimt eval --only audio2score``: recordings written as scores, beside the same performances as MIDI.

    unimt eval --only audio2score [--pieces 200 --excerpts 1] [--conditions dry,living] [--split validation]

The performances are those of ``unimt eval --only midi2lmx`` (one track, humanised test-split excerpts,
:func:`model.evaluate_notation.one_track_performances`). Each is played by the evaluation piano (never
trained on; the validation piano with ``--split validation``) and recorded in each condition of
:mod:`model.evaluate_rooms` (held-out rooms), then goes through the product's own path, as ``unimt convert
recording.wav score.musicxml`` does: transcription by the installed weights (``transcribe_audio`` of
:mod:`model.inference.pipeline`), then the score (``notate_midi``).
Beside it the performance itself, as MIDI, through the same ``notate_midi``. Reported per row: SER on LMX
tokens, time signature right, key right, measure count within one of the reference, seconds per excerpt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np

DEFAULT_CONDITIONS = ("dry", "living")


def evaluate_audio_score(pieces: int = 200, excerpts: int = 1, seed: int = 0, split: str = "test",
                         weights: str | None = None, device: str = "cpu",
                         conditions: tuple = DEFAULT_CONDITIONS, log: Callable = print) -> dict:
    """The report: {"sets": {"recordings": {row: Tally summary}}} and what was run."""
    from model.data.pianos import pianos, play
    from model.evaluate_notation import Tally, _linearize, one_track_performances
    from model.evaluate_rooms import CONDITIONS, SR, record
    from model.inference.pipeline import ModelOptions, notate_midi, transcribe_audio
    from model.io.types import Audio, Midi
    from model.progress import Reporter

    t0 = time.time()
    items = one_track_performances(pieces, excerpts, seed, split, log)
    bank = pianos("test" if split == "test" else "validation")
    if not bank:
        raise FileNotFoundError(f"no {split} piano installed (musescore-general-soundfont, csound-soundfont)")
    options = ModelOptions(device=device, weights=weights)
    rows = {"the performance as MIDI": Tally(), **{f"recorded, {c}": Tally() for c in conditions}}

    def written(midi) -> list:
        try:
            return _linearize(notate_midi(midi, options, Reporter()).score)
        except Exception:  # noqa: BLE001 - a failed excerpt scores an empty answer
            return []

    for k, (pm, ref) in enumerate(items):
        t = time.perf_counter()
        rows["the performance as MIDI"].add(written(Midi(pm)), ref, time.perf_counter() - t)
        dry = play(pm, bank[0], SR)
        for c, name in enumerate(conditions):
            audio, _ = record(dry, CONDITIONS[name], np.random.default_rng([seed, k, c, 11]))
            t = time.perf_counter()
            heard = transcribe_audio(Audio(audio, SR), options, Reporter())
            rows[f"recorded, {name}"].add(written(heard), ref, time.perf_counter() - t)
        if (k + 1) % 25 == 0:
            log(f"{k + 1}/{len(items)} recordings written")
    return {"split": split, "pieces": pieces, "excerpts": excerpts, "seed": seed, "piano": bank[0].name,
            "conditions": list(conditions), "sets": {"recordings": {n: r.summary() for n, r in rows.items()}},
            "seconds": round(time.time() - t0, 1)}


def run(args, log: Callable) -> int:
    """``unimt eval --only audio2score``."""
    from model.evaluate_notation import print_report

    names = tuple(c.strip() for c in args.conditions.split(",") if c.strip()) or DEFAULT_CONDITIONS
    report = evaluate_audio_score(args.pieces, args.excerpts, args.seed, args.split, args.weights,
                                  args.device, names, log)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0
