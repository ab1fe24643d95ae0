"""``unimt bench``: how fast the translations run on this machine.

Exact translations: engrave a page (Verovio SVG, then PNG at 150 dpi and vector PDF), synthesise one
minute of piano MIDI (FluidSynth), and read a 20-page PDF (PyMuPDF, every page at 150 dpi).

The model (when weights are installed, or with ``--weights``): a three-minute piano recording
transcribed to MIDI (real-time factor), the same three minutes played as MIDI written as a score, a page of
piano music recognised (seconds per page and per system), and the process's peak memory. ``--threads`` sets
the CPU threads (default 2, the laptop the product is built for).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Optional, TextIO


def _timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def one_minute_of_piano(seed: int = 0):
    """A deterministic minute of two-handed piano MIDI (melody, chords, pedal)."""
    import numpy as np
    import pretty_midi

    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    piano = pretty_midi.Instrument(program=0, name="Piano")
    t = 0.0
    while t < 60.0:
        for k in range(4):
            p = int(rng.integers(60, 84))
            piano.notes.append(
                pretty_midi.Note(int(rng.integers(50, 100)), p, t + k * 0.25, t + k * 0.25 + 0.24)
            )
        root = int(rng.integers(36, 52))
        for p in (root, root + 7, root + 12):
            piano.notes.append(pretty_midi.Note(int(rng.integers(40, 80)), p, t, t + 0.95))
        piano.control_changes.append(pretty_midi.ControlChange(64, 127, t + 0.02))
        piano.control_changes.append(pretty_midi.ControlChange(64, 0, t + 0.98))
        t += 1.0
    pm.instruments.append(piano)
    return pm


def _peak_rss_mb() -> float:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def model_bench(
    weights: Optional[str] = None, device: str = "cpu", threads: int = 2, minutes: float = 3.0
) -> dict:
    """Time the model's translations: audio -> MIDI on ``minutes`` of piano, the same minutes played as MIDI
    -> notation, a page -> notation."""
    import numpy as np
    import pretty_midi
    import torch

    from model.engrave import EngraveOptions, engrave_svg, svg_to_array
    from model.inference.engine import get_engine
    from model.inference.weights import find_weights, trained_for
    from model.io.types import Midi, ScoreImage
    from model.progress import Reporter
    from model.synth import find_soundfont, midi_to_audio

    if threads:
        torch.set_num_threads(threads)
    folder = find_weights(weights)
    t = time.perf_counter()
    engine = get_engine(folder, device)
    results: dict[str, object] = {
        "weights": str(folder),
        "device": engine.device,
        "threads": torch.get_num_threads(),
        "load_s": round(time.perf_counter() - t, 3),
    }
    one = one_minute_of_piano()
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=0, name="Piano")
    for k in range(int(np.ceil(minutes))):
        for n in one.instruments[0].notes:
            if n.start + 60 * k < minutes * 60:
                inst.notes.append(pretty_midi.Note(n.velocity, n.pitch, n.start + 60 * k, n.end + 60 * k))
    pm.instruments.append(inst)
    if engine.supports("audio2notes") or engine.supports("audio2midi"):
        audio = midi_to_audio(Midi(pm), find_soundfont(), sample_rate=16000)
        t = time.perf_counter()
        midi = engine.transcribe(audio, Reporter())
        sec = time.perf_counter() - t
        results["transcribe"] = {
            "audio_s": round(audio.duration, 1),
            "seconds": round(sec, 2),
            "real_time_factor": round(sec / audio.duration, 4),
            "notes": sum(len(i.notes) for i in midi.pm.instruments),
        }
    else:
        results["transcribe"] = "skipped: these weights were not trained to transcribe audio"
    # the same minutes, played (+-20 ms of timing off the beat grid), written as a score by the route
    # `unimt convert` takes for a performance (model.notate), MusicXML included
    from model.io.notation import musicxml_bytes
    from model.notate import performance_to_score

    rng = np.random.default_rng(1)
    played = pretty_midi.PrettyMIDI(initial_tempo=120)
    hand = pretty_midi.Instrument(program=0, name="Piano")
    for n in inst.notes:
        j = float(rng.normal(0.0, 0.02))
        hand.notes.append(pretty_midi.Note(n.velocity, n.pitch, max(0.0, n.start + j), n.end + j))
    played.instruments.append(hand)
    t = time.perf_counter()
    notation, info = performance_to_score(played)
    musicxml_bytes(notation)
    sec = time.perf_counter() - t
    results["notate_midi"] = {"midi_s": round(played.get_end_time(), 1), "notes": len(hand.notes),
                              "seconds": round(sec, 2), "measures": info["measures"], "route": "model.notate"}
    if trained_for("image", folder):
        from music21 import corpus

        from model.inference.pipeline import ModelOptions, recognise_image
        from model.io.notation import musicxml_bytes
        from model.io.types import Notation
        from model.omr.crnn import native_bf16

        xml = musicxml_bytes(Notation(corpus.parse("joplin/maple_leaf_rag")))
        page = svg_to_array(engrave_svg(xml, EngraveOptions())[0], 150)
        t = time.perf_counter()
        notation = recognise_image(
            ScoreImage.from_arrays([page]), ModelOptions(device, str(folder)), Reporter()
        )
        sec = time.perf_counter() - t
        systems = len(notation.recognition.systems)
        results["recognise_page"] = {
            "score": "joplin/maple_leaf_rag page 1, 150 dpi",
            "seconds": round(sec, 2),
            "systems": systems,
            "seconds_per_system": round(sec / max(systems, 1), 2),
            "convolutions": "bfloat16" if native_bf16() else "float32",   # what this CPU reads in
        }
    else:
        results["recognise_page"] = "skipped: these weights were not trained to read score images"
    results["peak_memory_mb"] = _peak_rss_mb()
    return results


def run_model_bench(
    weights: Optional[str],
    device: str,
    threads: int,
    json_out: Optional[Path] = None,
    out: Optional[TextIO] = None,
) -> int:
    import sys

    out = out or sys.stdout
    results = model_bench(weights, device, threads)
    for key, val in results.items():
        print(f"{key}: {val}", file=out)
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2))
    return 0


def run_io_bench(json_out: Optional[Path] = None, out: Optional[TextIO] = None) -> int:
    import sys

    from music21 import corpus

    from model.engrave import EngraveOptions, engrave_svg, svg_to_array, svg_to_pdf_bytes
    from model.io import load
    from model.io.notation import musicxml_bytes
    from model.io.types import Midi, Notation
    from model.synth import find_soundfont, midi_to_audio

    out = out or sys.stdout
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    score = Notation(corpus.parse("joplin/maple_leaf_rag"))
    xml = musicxml_bytes(score)
    t_svg, svgs = _timed(lambda: engrave_svg(xml, EngraveOptions()), 3)
    t_png, _ = _timed(lambda: svg_to_array(svgs[0], 150), 3)
    t_pdf, _ = _timed(lambda: svg_to_pdf_bytes(svgs[0]), 3)
    results["engrave_page"] = {
        "score": "joplin/maple_leaf_rag",
        "pages": len(svgs),
        "verovio_all_pages_s": round(t_svg, 3),
        "verovio_per_page_s": round(t_svg / len(svgs), 3),
        "png_150dpi_s": round(t_png, 3),
        "pdf_page_s": round(t_pdf, 3),
        "page_to_png_s": round(t_svg / len(svgs) + t_png, 3),
    }
    midi = Midi(one_minute_of_piano())
    sf = find_soundfont()
    t_syn, audio = _timed(lambda: midi_to_audio(midi, sf), 2)
    results["synthesise_minute"] = {
        "soundfont": sf.name,
        "audio_s": round(audio.duration, 2),
        "seconds": round(t_syn, 3),
        "x_real_time": round(audio.duration / t_syn, 1),
    }
    with tempfile.TemporaryDirectory() as tmp:
        import pymupdf

        pdf_path = Path(tmp) / "twenty.pdf"
        doc = pymupdf.open()
        page_pdf = pymupdf.open(stream=svg_to_pdf_bytes(svgs[0]), filetype="pdf")
        for _ in range(20):
            doc.insert_pdf(page_pdf)
        doc.save(pdf_path)

        def read_all(dpi):
            img = load(pdf_path, dpi=dpi)
            return [img.page(i).shape for i in range(img.page_count)]

        t150, shapes = _timed(lambda: read_all(150), 2)
        t300, _ = _timed(lambda: read_all(300), 1)
        results["read_pdf_20_pages"] = {
            "pages": len(shapes),
            "page_px_150dpi": list(shapes[0]),
            "seconds_150dpi": round(t150, 3),
            "seconds_300dpi": round(t300, 3),
        }
    for key, val in results.items():
        print(f"{key}: {val}", file=out)
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2))
    return 0


# --- ``unimt bench --limits``: peak memory and time of the largest inputs, each in its own process ---

LARGEST_CORPUS_SCORE = "beethoven/opus132"  # the music21 corpus's largest score (10.9 MB of MusicXML)


def _measure(args: list[str], threads: int) -> dict:
    """Run ``unimt`` in a child process; its wall time, its own peak resident memory, and how it ended."""
    import subprocess
    import sys

    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "model.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t
    peak = usage.ru_maxrss / (1024 * 1024 if platform.system() == "Darwin" else 1024)
    row: dict[str, object] = {
        "seconds": round(seconds, 1),
        "peak_memory_mb": round(peak, 1),
        "exit": proc.returncode,
    }
    if proc.returncode != 0:
        row["error"] = err.strip().splitlines()[-1] if err.strip() else ""
    return row


def long_recording(path: Path, minutes: float, sample_rate: int = 44100) -> float:
    """A recording of ``minutes`` of piano (a synthesised minute, repeated), written block by block."""
    import soundfile as sf

    from model.io.types import Midi
    from model.synth import midi_to_audio

    minute = midi_to_audio(Midi(one_minute_of_piano()), sample_rate=sample_rate).samples[: 60 * sample_rate]
    frames = int(minutes * 60 * sample_rate)
    with sf.SoundFile(str(path), "w", samplerate=sample_rate, channels=2, subtype="PCM_16") as fh:
        done = 0
        while done < frames:
            block = minute[: frames - done]
            fh.write(block)
            done += len(block)
    return frames / sample_rate


def run_limits_bench(
    json_out: Optional[Path] = None,
    out: Optional[TextIO] = None,
    minutes: float = 60.0,
    threads: int = 2,
    device: str = "cpu",
) -> int:
    """Peak memory and time of a long recording to MIDI and of the corpus's largest score to PDF, MIDI
    and WAV."""
    import sys

    from music21 import corpus

    out = out or sys.stdout
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "threads": threads,
    }
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "recording.wav"
        seconds = long_recording(wav, minutes)
        row = _measure(
            ["convert", str(wav), str(Path(tmp) / "recording.mid"), "--device", device, "-q"], threads
        )
        row["recording"] = (
            f"{seconds / 60:.0f} min, 44.1 kHz stereo ({wav.stat().st_size / 1024**2:.0f} MB WAV)"
        )
        if row["exit"] == 0:
            row["real_time_factor"] = round(float(row["seconds"]) / seconds, 4)
        results["recording_to_midi"] = row
        print(f"recording_to_midi: {row}", file=out, flush=True)
        wav.unlink()
        score = str(corpus.getWork(LARGEST_CORPUS_SCORE))
        for ext in ("pdf", "mid", "wav"):
            row = _measure(["convert", score, str(Path(tmp) / f"score.{ext}"), "-q"], threads)
            row["score"] = LARGEST_CORPUS_SCORE
            results[f"largest_score_to_{ext}"] = row
            print(f"largest_score_to_{ext}: {row}", file=out, flush=True)
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2))
    return 0
