"""Check the exact translations over a split of the music21 corpus.

For every file music21 parses: notation -> MIDI whose notes match music21's own (pitch, onset and
duration in quarters, after repeats are expanded and ties merged by music21), notation -> PNG and PDF,
and notation -> WAV that is not silent and lasts as long as the score sounds.

    python -m tools.exact_corpus --split test --workers 2 --json exact_test.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

TOLERANCE_Q = 2 / 960  # two ticks


def music21_notes(score) -> dict[int, set[tuple[int, float, float]]]:
    """music21's own notes per part: expandRepeats + stripTies, grace notes left out."""
    from model.perform import expand_repeats

    played = expand_repeats(score)
    out: dict[int, set] = {}
    # parts without notes have an empty MIDI track, which pretty_midi does not list: skip them in the count
    sounding = [part for part in played.parts if any(True for _ in part.recurse().notes)]
    for p, part in enumerate(sounding):
        notes = set()
        for el in part.stripTies().flatten().notes:
            if el.duration.isGrace or el.duration.quarterLength <= 0:
                continue
            for pitch in el.pitches:
                if 0 <= pitch.midi <= 127:
                    notes.add(
                        (
                            int(pitch.midi),
                            round(float(el.offset), 3),
                            round(float(el.duration.quarterLength), 3),
                        )
                    )
        out[p] = notes
    return out, played


def midi_notes(midi) -> dict[int, set[tuple[int, float, float]]]:
    pm = midi.pm
    res = pm.resolution
    out = {}
    for p, inst in enumerate(pm.instruments):
        out[p] = {(n.pitch, round(pm.time_to_tick(n.start) / res, 3),
                   round((pm.time_to_tick(n.end) - pm.time_to_tick(n.start)) / res, 3)) for n in inst.notes}
    return out


def _same(a: set, b: set) -> tuple[int, int]:
    """(missing from b, extra in b), matching within the tolerance."""
    def key(n):
        return (n[0], round(n[1] * 96), round(n[2] * 96))
    ka, kb = Counter(key(n) for n in a), Counter(key(n) for n in b)
    return sum((ka - kb).values()), sum((kb - ka).values())


def sounding_seconds(played) -> float:
    """When the last note ends, in seconds, under the tempo map the performance plays."""
    end_q = 0.0
    for el in played.flatten().notes:
        if not el.duration.isGrace:
            end_q = max(end_q, float(el.offset + el.duration.quarterLength))
    from model.perform import quarters_to_seconds, tempo_map

    return quarters_to_seconds([end_q], tempo_map(played))[0]


def _timeout(signum, frame):
    raise TimeoutError("took more than 15 minutes")


def check_file(rel: str, path: str) -> dict:
    import numpy as np
    from music21 import converter

    from model.engrave import notation_to_image
    from model.io import load, save
    from model.io.types import Notation
    from model.perform import notation_to_midi
    from model.synth import TAIL_SECONDS, midi_to_audio

    signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(900)
    rec = {"rel": rel, "ok": False, "stage": "parse"}
    t0 = time.perf_counter()
    try:
        score = converter.parse(path)
        if not hasattr(score, "parts") or not score.parts:
            from music21 import stream

            if hasattr(score, "scores") and list(score.scores):
                score = list(score.scores)[0]
            else:
                s2 = stream.Score()
                s2.insert(0, score)
                score = s2
    except Exception as exc:
        rec.update(parsed=False, error=f"music21 cannot parse: {type(exc).__name__}: {exc}"[:300])
        return rec
    rec["parsed"] = True
    notation = Notation(score)
    try:
        rec["stage"] = "midi"
        midi = notation_to_midi(notation)
        ref, played = music21_notes(score)
        ours = midi_notes(midi)
        missing = extra = 0
        for p, notes in ref.items():
            m, e = _same(notes, ours.get(p, set()))
            missing, extra = missing + m, extra + e
        rec["notes"] = sum(len(v) for v in ref.values())
        rec["midi_missing"], rec["midi_extra"] = missing, extra
        rec["midi_ok"] = missing == 0 and extra == 0 and rec["notes"] > 0
        with tempfile.TemporaryDirectory() as tmp:
            rec["stage"] = "engrave"
            image = notation_to_image(notation, dpi=100)
            pngs = save(image, Path(tmp) / "s.png")
            (pdf,) = save(image, Path(tmp) / "s.pdf")
            rec["pages"] = image.page_count
            rec["png_ok"] = len(pngs) == image.page_count and int(load(pngs[0]).page(0).min()) < 100
            rec["pdf_ok"] = load(pdf).page_count == image.page_count
            rec["stage"] = "audio"
            audio = midi_to_audio(midi)
            (wav,) = save(audio, Path(tmp) / "s.wav")
            back = load(wav)
            expected = sounding_seconds(played) + TAIL_SECONDS
            rec["audio_s"], rec["expected_s"] = round(back.duration, 3), round(expected, 3)
            rms = float(np.sqrt(np.mean(back.mono() ** 2)))
            rec["rms"] = round(rms, 5)
            rec["wav_ok"] = rms > 1e-3 and abs(back.duration - expected) <= 0.1
        rec["ok"] = bool(rec["midi_ok"] and rec["png_ok"] and rec["pdf_ok"] and rec["wav_ok"])
        rec["stage"] = "done"
    except Exception as exc:
        rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
    rec["seconds"] = round(time.perf_counter() - t0, 2)
    return rec


def _check_star(item) -> dict:
    rel, path = item
    try:
        return check_file(rel, str(path))
    except BaseException as exc:  # a worker must always answer
        return {"rel": rel, "ok": False, "parsed": True, "error": f"{type(exc).__name__}: {exc}"[:300]}


def main(argv=None) -> int:
    from model.data.split import corpus_files

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="test", choices=["test", "validation", "train"])
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="the report; also written after every file (a partial report)")
    ap.add_argument("--resume", action="store_true", help="keep the files already checked in --json")
    args = ap.parse_args(argv)
    files = list(corpus_files(args.split))
    if args.limit:
        files = files[: args.limit]
    results = []
    if args.resume and args.json and args.json.exists():
        known = {r["rel"]: r for r in json.loads(args.json.read_text()).get("files", [])}
        results = [known[rel] for rel, _ in files if rel in known]
        files = [(rel, p) for rel, p in files if rel not in known]
        print(f"resuming: {len(results)} files already checked", file=sys.stderr, flush=True)
    total = len(results) + len(files)
    with multiprocessing.Pool(args.workers, maxtasksperchild=10) as pool:
        for rec in pool.imap_unordered(_check_star, files):
            results.append(rec)
            flag = "ok" if rec["ok"] else ("unparsed" if not rec.get("parsed") else "FAIL")
            print(f"[{len(results)}/{total}] {flag:8} {rec['rel']} {rec.get('error', '')}", file=sys.stderr,
                  flush=True)
            if args.json:
                _write(args.json, {"summary": {"partial": True}, "files": results})
    parsed = [r for r in results if r.get("parsed")]
    summary = {
        "split": args.split, "files": len(results), "parsed": len(parsed),
        "all_ok": sum(r["ok"] for r in parsed),
        "midi_ok": sum(bool(r.get("midi_ok")) for r in parsed),
        "png_ok": sum(bool(r.get("png_ok")) for r in parsed),
        "pdf_ok": sum(bool(r.get("pdf_ok")) for r in parsed),
        "wav_ok": sum(bool(r.get("wav_ok")) for r in parsed),
        "notes_checked": sum(r.get("notes", 0) for r in parsed),
        "failures": sorted(({"rel": r["rel"], "error": r.get("error"), "midi_missing": r.get("midi_missing"),
                             "midi_extra": r.get("midi_extra"), "audio_s": r.get("audio_s"),
                             "expected_s": r.get("expected_s")} for r in parsed if not r["ok"]),
                           key=lambda r: r["rel"]),
        "unparsed": sorted((r["rel"], r.get("error")) for r in results if not r.get("parsed")),
    }
    print(json.dumps({k: v for k, v in summary.items() if k not in ("failures", "unparsed")}, indent=1))
    if args.json:
        _write(args.json, {"summary": summary, "files": results})
    return 0


def _write(path: Path, report: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
