"""Choosing the note head's onset and frame thresholds (and the audio level) on validation material, never on
test, and writing them into a bundle's ``config.json``; :mod:`model.notes` reads notes out with them.

    python -m model.training.thresholds tune WEIGHTS [--piano SF2] [--pieces 20] [--levels 8.0,8.7,9.4]
    [--dry-run] [--conditions dry,living,reverberant]

With ``--conditions``, the recordings are those of ``unimt eval --only rooms`` on the VALIDATION split
instead: validation pieces with human dynamics, the validation piano
(:data:`model.data.pianos.VALIDATION_BANKS`) and rooms of the held-out family (never drawn in training), one
set per condition, all scored together.
"""

from __future__ import annotations

import numpy as np

from model.data.build import VALIDATION_PIANO
from model.notes import notes_to_midi, roll_to_notes

ONSET_GRID = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)
FRAME_GRID = (0.2, 0.3, 0.4, 0.5)


def tune_thresholds(weights: str, data_dir: str, windows: int = 160, log=print) -> dict:
    """Pick the onset and frame thresholds that give the best onset-offset-weighted F1 on validation windows
    of a data build (never the test split), and write them into the bundle's ``config.json``."""
    import torch

    from model.batching import collate
    from model.bundle import load_bundle
    from model.training.data import ShardSource

    model, config = load_bundle(weights, "cpu")
    src = ShardSource(data_dir)
    vocab = src.meta()["vocab"]
    exs = []
    for ex in src.examples("audio2notes", "validation", seed=0):
        exs.append(ex)
        if len(exs) >= windows:
            break
    probs = []
    with torch.inference_mode():
        for i in range(0, len(exs), 8):
            b = collate(exs[i:i + 8], vocab["bos"], vocab["eos"])
            p = torch.sigmoid(model.notes(b.src, b.target_modality, b.src_pad)).numpy()
            probs += [pr[:len(e.src)] for e, pr in zip(exs[i:i + 8], p)]
    refs = [notes_to_midi(roll_to_notes(np.clip(e.labels, 0, 1))) for e in exs]
    grid = grid_scores(probs, refs, onsets=(0.1, 0.15, 0.2) + ONSET_GRID)
    best = _best(grid, log)
    write_thresholds(weights, best, f"{len(exs)} validation windows of {data_dir}")
    return {**best, "windows": len(exs)}


def validation_recordings(piano: str, pieces: int = 20, excerpts: int = 2, seed: int = 0, log=print) -> list:
    """(reference notes, 16 kHz samples) of whole validation-split excerpts played by ``piano``, a soundfont
    that is neither a training piano nor the held-out evaluation piano (so thresholds tuned here are honest
    about pianos the model has never heard)."""
    from pathlib import Path

    from model.data.build import TRAIN_SOUNDFONTS, held_out_soundfont
    from model.errors import UnimtError
    from model.evaluate import test_examples

    if not Path(piano).exists():
        raise UnimtError("validation piano not found (Debian: apt-get install csound-soundfont)", piano)
    if held_out_soundfont(piano) or Path(piano).name in {Path(p).name for p in TRAIN_SOUNDFONTS}:
        raise UnimtError("a training or evaluation soundfont cannot validate: choose another piano", piano)
    records = test_examples(pieces, excerpts, seed, ("audio2midi",), log, keep_audio=True, split="validation",
                            soundfont=piano)
    return [(h["perf_notes"], a) for h, a in records if h["task"] == "recording"]


def room_recordings(conditions: tuple, pieces: int = 20, excerpts: int = 2, seed: int = 0, log=print) -> list:
    """(reference notes, 16 kHz samples) of validation-split performances played by the validation piano and
    recorded in every one of ``conditions`` of :mod:`model.evaluate_rooms` (held-out rooms; never test)."""
    from model.evaluate_rooms import performances, recordings

    performed = performances(pieces, excerpts, seed, split="validation", log=log)
    recs = recordings(performed, tuple(conditions), seed)
    return [([[n.pitch, n.start, n.end, n.velocity] for i in ref.instruments for n in i.notes], audio)
            for items in recs.values() for audio, ref, _ in items]


def grid_scores(probs: list, refs: list, onsets=ONSET_GRID, frames=FRAME_GRID) -> list[dict]:
    """Onset and onset-offset F1 (micro over notes, mir_eval 50 ms) of every threshold pair."""
    from model.metrics import NoteF1

    out = []
    for on in onsets:
        for fr in frames:
            f1 = NoteF1()
            for pr, ref in zip(probs, refs):
                f1.add(notes_to_midi(roll_to_notes(pr, onset_threshold=on, frame_threshold=fr)), ref)
            s = f1.summary()
            out.append({"onset_threshold": on, "frame_threshold": fr, **{k: round(v, 4) for k, v in s.items()
                                                                         if isinstance(v, float)}})
    return out


def tune_on_recordings(weights: str, piano: str = VALIDATION_PIANO, pieces: int = 20, excerpts: int = 2,
                       write: bool = True, levels: tuple = (), conditions: tuple = (), log=print) -> dict:
    """Thresholds that give the best onset F1 (ties: onset-offset F1) on whole validation recordings played by
    an unseen piano, through the product's own windowing and level; with ``levels``, also the ``audio_level``
    the recordings are brought to, chosen from those. Written into the bundle's ``config.json`` unless
    ``write`` is false. With ``conditions`` (names of :data:`model.evaluate_rooms.CONDITIONS`), the recordings
    are :func:`room_recordings` instead (``piano`` is then the validation bank's)."""
    from pathlib import Path

    from model.inference.engine import Engine

    if conditions:
        from model.data.pianos import VALIDATION_BANKS

        recs = room_recordings(conditions, pieces, excerpts, log=log)
        piano, where = VALIDATION_BANKS[0], f" in held-out rooms ({', '.join(conditions)})"
    else:
        recs, where = validation_recordings(piano, pieces, excerpts, log=log), ""
    engine = Engine(weights, "cpu")
    refs = [notes_to_midi(n) for n, _ in recs]
    best = None
    for level in levels or (engine.audio_level,):
        engine.audio_level = level
        if levels:
            log(f"level {level}")
        probs = [engine.note_probabilities(engine.note_frames(a)) for _, a in recs]
        top = {**_best(grid_scores(probs, refs), log), "audio_level": level}
        if best is None or _merit(top) > _merit(best):
            best = top
    if write:
        write_thresholds(
            weights, best, f"{len(recs)} validation-split recordings played by {Path(piano).name}{where}"
        )
    return {**best, "recordings": len(recs), "piano": Path(piano).name}


def _merit(g: dict) -> float:
    return g["onset_f1"] + 0.25 * g["onset_offset_f1"]


def _best(grid: list[dict], log=print) -> dict:
    """Log every threshold pair's scores; the best by onset F1 plus a quarter of onset-offset F1."""
    for g in grid:
        log(
            f"onset {g['onset_threshold']:.2f} frame {g['frame_threshold']:.2f}: "
            f"onset F1 {g['onset_f1']:.3f} (P {g['onset_precision']:.3f} R {g['onset_recall']:.3f}), "
            f"onset-offset F1 {g['onset_offset_f1']:.3f}"
        )
    return max(grid, key=_merit)


def write_thresholds(weights: str, best: dict, tuned_on: str) -> None:
    """Put the chosen thresholds into the bundle's ``config.json`` (atomically)."""
    import json
    import os
    from pathlib import Path

    path = Path(weights) / "config.json"
    cfg = json.loads(path.read_text())
    chosen = {
        k: best[k] for k in ("onset_threshold", "frame_threshold", "audio_level") if best.get(k) is not None
    }
    cfg.setdefault("inference", {}).update({**chosen, "tuned_on": tuned_on})
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(cfg, indent=1))
    os.replace(tmp, path)


def main(argv=None) -> int:
    """python -m model.training.thresholds tune WEIGHTS [--piano SF2] [--pieces 20] [--levels 8.0,8.7,9.4]
    [--dry-run] python -m model.training.thresholds tune WEIGHTS --data data/v1 --windows 400     (older:
    validation windows of a build)"""
    import argparse

    ap = argparse.ArgumentParser(description="tune the note head's thresholds on validation recordings")
    ap.add_argument("command", choices=["tune"])
    ap.add_argument("weights")
    ap.add_argument("--piano", default=VALIDATION_PIANO, help="a soundfont neither trained nor tested on")
    ap.add_argument("--pieces", type=int, default=20)
    ap.add_argument("--excerpts", type=int, default=2)
    ap.add_argument("--dry-run", action="store_true", help="score the grid, do not write the thresholds")
    ap.add_argument("--conditions", default="", help="tune on validation recordings in these held-out room "
                                                     "conditions instead, e.g. dry,living,reverberant")
    ap.add_argument("--data", default=None, help="tune on validation windows of this data build instead")
    ap.add_argument("--windows", type=int, default=160)
    ap.add_argument("--levels", default="", help="comma-separated audio levels to choose from as well, e.g. "
                                                 "7.3,8.0,8.7,9.4,10.0 (default: the bundle's)")
    args = ap.parse_args(argv)
    if args.data:
        print(tune_thresholds(args.weights, args.data, args.windows))
    else:
        levels = tuple(float(x) for x in args.levels.split(",") if x.strip())
        conditions = tuple(c.strip() for c in args.conditions.split(",") if c.strip())
        print(tune_on_recordings(args.weights, args.piano, args.pieces, args.excerpts, write=not args.dry_run,
                                 levels=levels, conditions=conditions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
