"""``unimt eval``: the paper's metrics on our held-out test split.

    unimt eval [--weights DIR] [--pieces 40] [--excerpts 3] [--seed 0] [--json OUT]

Test material is made the way training data is (:mod:`model.data.build`), but only from music21
corpus files of the **test** split (never seen in training) and performed with the **held-out**
soundfont. Reported, as in the paper (section 6):

* image -> notation: SER on LMX tokens, micro-averaged, apart for clean and degraded images and for
  single-staff and grand-staff (two-staff) excerpts;
* MIDI -> notation (performance to score) and audio -> notation: SER;
* audio -> MIDI and image -> MIDI: note onset F1 and onset-offset F1 (mir_eval, 50 ms). Weights with a
  note head are measured on whole excerpt recordings through the product's own path (overlapping
  windows, stitched), and Spotify's basic-pitch, when installed, transcribes the same recordings.

Tasks the weights were not trained for are skipped and said so.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np


def test_examples(pieces: int, excerpts: int, seed: int, tasks: tuple, log=print, keep_audio: bool = False,
                  split: str = "test", soundfont: str | None = None):
    """(header, array) of excerpts of ``split`` (the test split unless told), deterministic for a seed, played
    with ``soundfont`` (the held-out evaluation piano unless told)."""
    from model.data.build import (
        HELD_OUT_SOUNDFONT,
        TRAIN_SOUNDFONTS,
        BuildSettings,
        excerpt_examples,
        make_tokenizers,
        unit_scores,
    )
    from model.data.split import corpus_files
    from model.evaluate_reader import score_chunks

    files = sorted(corpus_files(split))
    random.Random(seed).shuffle(files)
    sf = soundfont or (HELD_OUT_SOUNDFONT if Path(HELD_OUT_SOUNDFONT).exists() else next(
        (p for p in TRAIN_SOUNDFONTS if Path(p).exists()), None))
    settings = BuildSettings(tasks=tasks, excerpts_per_unit=excerpts, degrade_prob=0.5, audio_prob=1.0,
                             soundfonts=(sf,) if sf else (), keep_audio=keep_audio)
    toks = make_tokenizers()
    out, used = [], 0
    for k, (rel, path) in enumerate(files):
        if used >= pieces:
            break
        rng = np.random.default_rng([seed, k])
        try:
            scores = unit_scores({"path": str(path), "source": rel}, rng)[:1]
            for score in scores:
                for chunk, n_measures in score_chunks(score, rng, excerpts, settings.max_measures):
                    out += excerpt_examples(chunk, n_measures, rng, settings, rel, toks)
            used += 1
        except Exception as exc:  # a piece music21 cannot parse is skipped, as in training
            log(f"skipped {rel}: {type(exc).__name__}")
        if used and used % 10 == 0:
            log(f"{used} pieces, {len(out)} records")
    return out


def _validation_piano() -> str | None:
    """The piano that plays validation recordings: neither a training nor the evaluation soundfont."""
    from model.data.build import VALIDATION_PIANO

    return VALIDATION_PIANO if Path(VALIDATION_PIANO).exists() else None


def _baseline_lmx(midi_ids: list[int], midi_tokenizer) -> list[str]:
    """LMX of the music21 baseline quantiser's score of a performance (empty when it gives up)."""
    from model.io.types import Midi
    from model.quantize import midi_to_notation
    from model.tokenizers.lmx import linearize

    try:
        pm = midi_tokenizer.decode_window(midi_ids, 10.0)
        return linearize(midi_to_notation(Midi(pm)).score)
    except Exception:  # the baseline failing counts as an empty answer
        return []


def basic_pitch_transcriber():
    """Spotify's basic-pitch with its own ONNX weights (``pip install basic-pitch --no-deps`` plus
    onnxruntime, librosa, resampy and scikit-learn), or None when it is not installed."""
    import logging
    import os
    import tempfile

    try:
        logging.disable(logging.WARNING)     # it warns about every runtime it does not find
        from basic_pitch import FilenameSuffix, build_icassp_2022_model_path
        from basic_pitch.inference import Model, predict
    except Exception:
        return None
    finally:
        logging.disable(logging.NOTSET)
    model = Model(build_icassp_2022_model_path(FilenameSuffix.onnx))

    def transcribe(samples: np.ndarray, sample_rate: int):
        from model.io.audio import write_audio
        from model.io.types import Audio

        fd, path = tempfile.mkstemp(suffix=".wav")
        os.close(fd)
        try:
            write_audio(Audio(samples, sample_rate), Path(path), "wav")
            _, pm, _ = predict(path, model)
            return pm
        finally:
            os.unlink(path)

    return transcribe


def evaluate(weights: str | None, pieces: int = 40, excerpts: int = 3, seed: int = 0, device: str = "cpu",
             log=print, basic_pitch: bool = True, split: str = "test", only: tuple = ()) -> dict:
    from model.inference.engine import get_engine
    from model.inference.weights import find_weights
    from model.metrics import SER, NoteF1
    from model.training.data import TASK_TARGET

    folder = find_weights(weights)
    engine = get_engine(folder, device)
    from model.io.types import Audio
    from model.notes import notes_to_midi
    from model.progress import Reporter
    from model.training.data import RECORD_TASK

    tasks = tuple(t for t in TASK_TARGET if engine.supports(t) and (not only or t in only))
    note_head = "audio2notes" in tasks and engine.model.note_head is not None
    t0 = time.time()
    kinds = tuple(sorted({RECORD_TASK.get(t, t) for t in tasks}))
    records = test_examples(pieces, excerpts, seed, kinds, log, keep_audio=note_head, split=split,
                            soundfont=_validation_piano() if split != "test" else None)
    bp = basic_pitch_transcriber() if (note_head and basic_pitch) else None
    if note_head and basic_pitch and bp is None:
        log("basic-pitch is not installed: no comparison (see `unimt eval --help`)")
    log(f"{len(records)} {split} records from {pieces} pieces in {time.time() - t0:.0f} s")
    vocab = engine.vocab
    midi_ids = {t: i for i, t in enumerate(engine.midi.vocab)}

    sers: dict[str, SER] = {}
    f1s: dict[str, NoteF1] = {}
    timings: dict[str, list[float]] = {}
    for header, array in records:
        kind = header["task"]
        jobs = []
        if kind == "image":
            canvas = array.astype(np.float32) / 255.0
            staves = "grand staff" if "staff:2" in header["tgt_lmx"] else "single staff"
            look = "degraded" if header.get("degraded") else "clean"
            if "image2lmx" in tasks:
                jobs.append(
                    ("image2lmx", f"image2lmx {look} {staves}", "image", canvas, "lmx", header["tgt_lmx"])
                )
            if "image2midi" in tasks and header.get("tgt_midi_exact"):
                jobs.append(
                    ("image2midi", f"image2midi {look}", "image", canvas, "midi", header["tgt_midi_exact"])
                )
        elif kind == "midi2lmx" and kind in tasks:
            src = np.asarray([midi_ids[t] + vocab.offset("midi") for t in header["src_midi"]])
            jobs.append((kind, kind, "tokens", src, "lmx", header["tgt_lmx"]))
            # the baseline the model must beat: music21's quantiser on the same performance
            sers.setdefault("midi2lmx baseline (music21 quantiser)", SER()).add(
                _baseline_lmx([midi_ids[t] for t in header["src_midi"]], engine.midi), header["tgt_lmx"])
        elif kind == "audio2lmx" and kind in tasks:
            jobs.append((kind, kind, "audio", array.astype(np.float32), "lmx", header["tgt_lmx"]))
        elif kind == "recording":
            ref_pm = notes_to_midi(header["perf_notes"])
            audio = Audio(array, 16000)
            t = time.time()
            est = engine.transcribe(audio, Reporter())
            timings.setdefault("audio2midi real-time factor", []).append((time.time() - t) / audio.duration)
            f1s.setdefault("audio2midi", NoteF1()).add(est.pm, ref_pm)
            if bp is not None:
                t = time.time()
                f1s.setdefault("audio2midi basic-pitch", NoteF1()).add(bp(array, 16000), ref_pm)
                timings.setdefault("basic-pitch real-time factor", []).append(
                    (time.time() - t) / audio.duration
                )
        elif kind == "audio2midi" and kind in tasks:
            jobs.append((kind, kind, "audio", array.astype(np.float32), "midi", header["tgt_midi"]))
        for task, name, src_kind, src, target, ref in jobs:
            t = time.time()
            hyp = _decode(engine, src_kind, src, target)
            timings.setdefault(task, []).append(time.time() - t)
            if target == "lmx":
                sers.setdefault(name, SER()).add(engine.lmx.ids_to_tokens(hyp), ref)
                if name != task:
                    sers.setdefault(task, SER()).add(engine.lmx.ids_to_tokens(hyp), ref)
            else:
                window = 4.0 if task == "audio2midi" else 10.0
                est = engine.midi.decode_window(hyp, window)
                ref_pm = engine.midi.decode_window([midi_ids[x] for x in ref if x in midi_ids], window)
                f1s.setdefault(name, NoteF1()).add(est, ref_pm)
                if name != task:
                    f1s.setdefault(task, NoteF1()).add(est, ref_pm)
    return _report(engine, folder, split, pieces, seed, sers, f1s, timings, t0)


def _decode(engine, kind: str, src, target: str) -> list[int]:
    """One greedy decoding of ``src`` into ``target`` (ids local to the target's tokenizer), capped as the
    product caps it."""
    import torch

    from model.batching import Example, collate
    from model.inference.engine import notation_length_cap

    vocab = engine.vocab
    ex = Example("eval", kind, src, [], vocab.target_id(target))
    b = collate([ex], vocab.bos, vocab.eos)
    max_len = engine.model.config.max_tgt_len - 1
    if kind == "tokens" and target == "lmx":      # as the product does (Engine.notate)
        max_len = min(max_len, notation_length_cap(len(src)))
    with torch.inference_mode():
        ids, _ = engine._generate(kind, b.src, b.src_pad, target, max_len)
    lo, hi = vocab.range(target)
    return [t - lo for t in ids[0] if lo <= t < hi]


def _report(engine, folder, split: str, pieces: int, seed: int, sers: dict, f1s: dict, timings: dict,
            t0: float) -> dict:
    """What ``unimt eval`` prints and writes as JSON."""
    from model.training.data import TASK_TARGET

    report = {
        "weights": str(folder),
        "device": engine.device,
        "split": split,
        "pieces": pieces,
        "seed": seed,
        "trained_tasks": list(engine.tasks),
        "skipped_tasks": [t for t in TASK_TARGET if not engine.supports(t)],
        "ser": {
            k: {"ser": round(v.value, 4), "sequences": v.count, "reference_tokens": v.reference}
            for k, v in sorted(sers.items())
        },
        "note_f1": {
            k: {
                **{m: round(x, 4) for m, x in v.summary().items() if isinstance(x, float)},
                "sequences": len(v.per_piece),
            }
            for k, v in sorted(f1s.items())
        },
        "seconds_per_sequence": {k: round(float(np.mean(v)), 3) for k, v in timings.items()},
        "seconds": round(time.time() - t0, 1),
    }
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default=None, help="weights folder (default: the installed weights)")
    parser.add_argument("--pieces", type=int, default=40, help="test-split corpus pieces")
    parser.add_argument("--excerpts", type=int, default=3, help="excerpts per piece")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    parser.add_argument(
        "--split",
        choices=["test", "validation"],
        default="test",
        help="validation: for choosing checkpoints and settings (never choose on the test split)",
    )
    parser.add_argument("--only", default="", help="comma-separated tasks to measure (default: all trained); "
                        "'rooms': audio -> MIDI recorded in held-out rooms (model/evaluate_rooms.py); "
                        "'audio2score': recordings -> scores (model/evaluate_audio_score.py)")
    parser.add_argument("--dense", action="store_true",
                        help="--only rooms: the densest excerpts of four times as many pieces (piano music)")
    parser.add_argument("--transpose", type=int, default=0,
                        help="--only rooms: every excerpt moved by this many semitones (12: octave higher)")
    parser.add_argument("--conditions", default="",
                        help="--only rooms: comma-separated recording conditions (default: dry, living, "
                        "reverberant, drr+10, drr0, drr-6, drr-12; --only audio2score: dry, living)")
    parser.add_argument("--no-musescore", dest="musescore", action="store_false",
                        help="score reading: skip the MuseScore 3 engravings")
    parser.add_argument("--variants", default="",
                        help="score reading: also read each excerpt engraved clean by Verovio with 'clefs' "
                        "(one staff in the other clef for some measures) and/or 'text' (lyrics, words, "
                        "fingerings), 'octave' (a treble staff in the tenor's clef, G2-8), and the "
                        "excerpts engraved by LilyPond ('lilypond', an engraver never trained on); "
                        "comma-separated, kept out of the overall figure")
    parser.add_argument("--no-writer", dest="writer", action="store_false",
                        help="--only midi2lmx: skip the seq2seq writer (about 10 s an excerpt on a CPU)")
    parser.add_argument(
        "--no-basic-pitch",
        dest="basic_pitch",
        action="store_false",
        help="skip the basic-pitch comparison (installed with `pip install basic-pitch --no-deps "
        "onnxruntime librosa 'resampy<0.4.3' scikit-learn`)",
    )


def _reader_folder(weights: str | None) -> Path | None:
    """The folder of a staff reader bundle to measure: ``--weights`` itself when it is one, or the installed
    weights' reader."""
    from model.errors import UnimtError
    from model.inference.staff_reader import has_reader
    from model.inference.weights import find_weights

    if weights and has_reader(weights):
        return Path(weights)
    try:
        folder = find_weights(weights)
    except UnimtError:
        return None
    return folder if has_reader(folder) else None


def run(args) -> int:
    only = tuple(t.strip() for t in args.only.split(",") if t.strip())
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    reader = _reader_folder(args.weights) if (not only or "image2lmx" in only) else None
    if reader is not None:
        from model.evaluate_reader import evaluate_reader

        rep = evaluate_reader(reader, args.pieces, args.excerpts, args.seed, args.split, args.musescore, log,
                              variants=tuple(v.strip() for v in args.variants.split(",") if v.strip()))
        for name, r in rep["ser"].items():
            print(
                f"SER {name:40s} {r['ser']:.2%}  ({r['sequences']} sequences, {r['reference_tokens']} tokens)"
            )
        print(f"reading: {rep['seconds_per_page']} s per page")
        if args.json:
            args.json.with_suffix(".reader.json").write_text(json.dumps(rep, indent=2))
        from model.inference.weights import is_weights_dir
        from model.training.data import TASK_TARGET

        only = tuple(t for t in (only or TASK_TARGET) if t != "image2lmx")
        if not only or (args.weights and not is_weights_dir(Path(args.weights))):
            return 0      # a reader alone (a training run's folder): nothing else to measure
    report = evaluate(args.weights, args.pieces, args.excerpts, args.seed, args.device,
                      log=log, basic_pitch=args.basic_pitch, split=args.split, only=only)
    for name, r in report["ser"].items():
        print(f"SER {name:40s} {r['ser']:.2%}  ({r['sequences']} sequences, {r['reference_tokens']} tokens)")
    for name, r in report["note_f1"].items():
        print(
            f"F1  {name:40s} onset {r.get('onset_f1', 0):.2%}  onset-offset {r.get('onset_offset_f1', 0):.2%}"
            f"  ({r['sequences']} sequences)"
        )
    if report["skipped_tasks"]:
        print("not trained for:", ", ".join(report["skipped_tasks"]))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
