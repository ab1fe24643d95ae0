"""Hostile input: small files that mean too much, broken files, attacks, and outputs that cannot be written.

Every file is made here, at test time. Every conversion runs through the real command line in a subprocess
under a 2 GiB address-space cap and 30 s: it exits 0 with a correct output, or 1 with exactly one stderr line
naming the file and the problem in words; the input is unchanged and nothing partial is left behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import resource
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

CAP = 2 * 1024**3
TIMEOUT = 30


def run_cli(*args, fsize: int | None = None):
    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    t = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "model.cli", "convert", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=limits,
        env=env,
    )
    proc.seconds = time.monotonic() - t
    return proc


# --- files -----------------------------------------------------------------------------------------


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def smf(tracks: list[bytes], tpq: int = 480) -> bytes:
    """A standard MIDI file (type 1) from raw track event bytes (each gets an end-of-track)."""
    head = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), tpq)
    body = b"".join(b"MTrk" + struct.pack(">I", len(t) + 4) + t + b"\x00\xff\x2f\x00" for t in tracks)
    return head + body


def note(pitch: int = 60, ticks: int = 480, delta: int = 0) -> bytes:
    return _vlq(delta) + bytes([0x90, pitch, 80]) + _vlq(ticks) + bytes([0x80, pitch, 0])


def score(parts: int = 1, measures: str = "", title: str = "", times: int | None = None) -> str:
    """A small partwise MusicXML: ``parts`` parts of one C4 whole note (a repeat taken ``times`` times)."""
    repeat_l = '<barline location="left"><repeat direction="forward"/></barline>' if times else ""
    repeat_r = (
        (
            f'<barline location="right"><bar-style>light-heavy</bar-style>'
            f'<repeat direction="backward" times="{times}"/></barline>'
        )
        if times
        else ""
    )
    measure = (
        '<measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats>'
        f'<beat-type>4</beat-type></time></attributes>{repeat_l}<note><pitch><step>C</step><octave>4</octave>'
        f'</pitch><duration>4</duration><type>whole</type></note>{repeat_r}</measure>'
    )
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<score-partwise version="4.0">'
        f'<work><work-title>{title}</work-title></work><part-list>'
    )
    plist = "".join(f'<score-part id="P{i}"><part-name>P{i}</part-name></score-part>' for i in range(parts))
    body = "".join(f'<part id="P{i}">{measure}{measures}</part>' for i in range(parts))
    return head + plist + "</part-list>" + body + "</score-partwise>\n"


def sparse_wav(path, seconds: float, sr: int, channels: int):
    """A WAV of silence that takes no disk space: the header, then a hole as long as the data."""
    data = int(seconds * sr) * channels * 2
    hdr = (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, sr, sr * channels * 2, channels * 2, 16)
        + b"data"
        + struct.pack("<I", data)
    )
    with open(path, "wb") as fh:
        fh.write(hdr)
        fh.truncate(len(hdr) + data)
    return path


def tone_wav(path, seconds: float = 1.0, sr: int = 16000):
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    return path


def mxl(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def text_bomb_mxl(path, chars: int):
    """An .mxl whose title is ``chars`` characters of low-entropy text (compresses about 10:1, no zip
    bomb)."""
    rng = np.random.default_rng(0)
    title = rng.choice(np.frombuffer(b"ab", np.uint8), chars, p=[0.97, 0.03]).tobytes().decode()
    return mxl(path, {"score.musicxml": score(title=title).encode()})


def pdf_huge_page(path):
    import pymupdf

    doc = pymupdf.open()
    doc.new_page(width=14400, height=14400)
    doc.save(path)
    return path


def png_bomb(path):
    """A 100,000 x 100,000 PNG header on a few bytes of data: a decompression bomb."""
    import zlib

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 1, 0, 0, 0, 0)
    raw = zlib.compress(b"\0" * 200_000)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    return path


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefg", "bcdefgh"))
    + ']><score-partwise version="4.0"><part-list><score-part id="P1"><part-name>&h;</part-name>'
    '</score-part></part-list><part id="P1"><measure number="1"/></part></score-partwise>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<score-partwise version="4.0"><part-list><score-part id="P1"><part-name>&x;</part-name></score-part>'
    '</part-list><part id="P1"><measure number="1"/></part></score-partwise>'
)


def w(name, data):
    """A maker that writes ``data`` (bytes, or text as UTF-8) to ``name``."""

    def make(d):
        p = d / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p

    return make


# name -> (make(dir) -> input, output file name, expected exit, words the error line must hold)
CASES = {
    # small files that mean too much
    "repeat-million-to-mid": (
        w("rep.musicxml", score(times=1_000_000)),
        "out.mid",
        1,
        "the repeats make this score 1,000,000 measures long; at most 20,000",
    ),
    "repeat-million-to-wav": (w("rep.musicxml", score(times=1_000_000)), "out.wav", 1, "1,000,000 measures"),
    "repeat-million-to-pdf": (w("rep.musicxml", score(times=1_000_000)), "out.pdf", 1, "1,000,000 measures"),
    "repeat-twice-to-mid": (w("rep2.musicxml", score(times=2)), "out.mid", 0, ""),
    "score-14-hour-note-to-wav": (
        w("long.musicxml", score().replace("<duration>4<", "<duration>100000<")),
        "out.wav",
        1,
        "the score plays for 13.9 hours; at most 4.0 hours",
    ),
    "midi-4-year-delta-to-wav": (
        w("years.mid", smf([note(ticks=0x0FFFFFFF)], tpq=1)),
        "out.wav",
        1,
        "plays for 4 years; at most 4.0 hours",
    ),
    "midi-4-year-delta-to-musicxml": (
        w("years.mid", smf([note(ticks=0x0FFFFFFF)], tpq=1)),
        "out.musicxml",
        1,
        "plays for 4 years",
    ),
    "midi-10-hour-note-to-wav": (
        w("ten.mid", smf([note(ticks=10 * 3600 * 960)])),
        "out.wav",
        1,
        "plays for 10.0 hours",
    ),
    "midi-3-hour-note-to-wav": (
        w("three.mid", smf([note(ticks=3 * 3600 * 960)])),
        "out.wav",
        1,
        "unimt synthesises at most 2.0 hours",
    ),
    "midi-600k-notes-to-musicxml": (
        w("many.mid", smf([note(ticks=1) * 600_000])),
        "out.musicxml",
        1,
        "600,000 notes; at most 500,000",
    ),
    "midi-5000-tracks-to-musicxml": (
        w("tracks.mid", smf([note()] * 5000)),
        "out.musicxml",
        1,
        "more than 256 tracks",
    ),
    "midi-4mb-track-name-to-musicxml": (
        w("name.mid", smf([b"\x00\xff\x03" + _vlq(4_000_000) + b"N" * 4_000_000 + note()])),
        "out.musicxml",
        1,
        "4,000,000 characters",
    ),
    "score-10000-parts-to-pdf": (
        w("parts.musicxml", score(parts=10_000)),
        "out.pdf",
        1,
        "10,000 parts; at most 128",
    ),
    "score-4mb-title-to-png": (
        w("title.musicxml", score(title="A" * 4_000_000)),
        "out.png",
        1,
        "4,000,000 characters long",
    ),
    "mxl-30mb-text-to-png": (
        lambda d: text_bomb_mxl(d / "text.mxl", 30_000_000),
        "out.png",
        1,
        "30,000,000 characters long",
    ),
    "audio-192k-stereo-hour-streamed": (
        lambda d: sparse_wav(d / "hour.wav", 3600, 192000, 2),
        "out.mid",
        1,
        "not a unimt weights folder",
    ),  # read in blocks: no 5.5 GB array
    "audio-5-hours": (
        lambda d: sparse_wav(d / "five.wav", 5 * 3600, 16000, 1),
        "out.mid",
        1,
        "5.0 hours long; at most 4.0 hours",
    ),
    "audio-1000-channels": (
        lambda d: sparse_wav(d / "chans.wav", 1, 8000, 1000),
        "out.flac",
        1,
        "1,000 channels; at most 32",
    ),
    "audio-sample-rate-1hz": (
        lambda d: sparse_wav(d / "slow.wav", 3000, 1, 1),
        "out.flac",
        1,
        "sample rate 1 Hz",
    ),
    # encodings
    "utf16-bom-musicxml": (
        w("u16.musicxml", score().replace("UTF-8", "UTF-16").encode("utf-16")),
        "out.mid",
        0,
        "",
    ),
    "utf16-bom-declared-utf8": (w("u16u8.musicxml", score().encode("utf-16")), "out.mid", 0, ""),
    "utf16-be-no-bom-musicxml": (
        w("u16be.musicxml", score().replace("UTF-8", "UTF-16").encode("utf-16-be")),
        "out.mid",
        0,
        "",
    ),
    "utf8-bom-musicxml": (w("u8.musicxml", score().encode("utf-8-sig")), "out.mid", 0, ""),
    # the ones that already held
    "billion-laughs": (w("laughs.musicxml", LAUGHS), "out.mid", 1, "declares entities"),
    "external-entity": (w("xxe.musicxml", XXE), "out.mid", 1, "declares entities"),
    "zip-bomb-mxl": (
        lambda d: mxl(d / "bomb.mxl", {"score.musicxml": b"\0" * 300 * 1024**2}),
        "out.mid",
        1,
        "zip bomb",
    ),
    "path-traversal-mxl": (
        lambda d: mxl(d / "trav.mxl", {"../../evil.musicxml": score().encode()}),
        "out.mid",
        0,
        "",
    ),
    "truncated-mid": (w("trunc.mid", smf([note() * 50])[:60]), "out.wav", 1, "MIDI"),
    "truncated-wav": (
        lambda d: w("trunc.wav", tone_wav(d / "t.wav").read_bytes()[:30])(d),
        "out.flac",
        1,
        "",
    ),
    "empty-mid": (w("empty.mid", b""), "out.wav", 1, "the file is empty"),
    "empty-mxl": (w("empty.mxl", b""), "out.mid", 1, "the file is empty"),
    "png-bomb": (lambda d: png_bomb(d / "bomb.png"), "out.musicxml", 1, "megapixels"),
    "pdf-huge-page": (lambda d: pdf_huge_page(d / "huge.pdf"), "out.png", 0, ""),  # rendered at a lower dpi
    # names
    "newline-in-name": (w("bad\nname.mid", b"MThd garbage"), "out.wav", 1, "bad\\nname.mid"),
}


def _digest(path):
    """SHA-256 of a file; of its size, time and first and last MiB when it is a long (sparse) recording."""
    st = path.stat()
    with open(path, "rb") as fh:
        if st.st_size <= 64 * 1024**2:
            return hashlib.sha256(fh.read()).hexdigest()
        head = fh.read(1 << 20)
        fh.seek(-(1 << 20), 2)
        return st.st_size, st.st_mtime_ns, hashlib.sha256(head + fh.read()).hexdigest()


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(tmp_path, name):
    make, out_name, expected, words = CASES[name]
    src = tmp_path / "in"
    src.mkdir()
    bad = make(src)
    digest = _digest(bad)
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / out_name
    extra = ["--weights", tmp_path] if out_name == "out.mid" and bad.suffix == ".wav" else []
    proc = run_cli(bad, out, *extra)
    assert proc.returncode == expected, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    if expected == 1:
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and proc.stderr.endswith("\n"), proc.stderr
        assert lines[0].startswith("unimt: error: "), lines[0]
        named = str(tmp_path) if extra and "weights" in words else str(bad).replace("\n", "\\n")
        assert named in lines[0], lines[0]
        assert words in lines[0], lines[0]
        assert "unexpected failure" not in lines[0] and not re.search(r"\w+(Error|Exception)\b", lines[0]), (
            lines[0]
        )
        assert list(outdir.iterdir()) == []
    else:
        assert proc.stderr == "", proc.stderr
        assert out.exists() and out.stat().st_size > 0
        assert [p.name for p in outdir.iterdir()] == [out.name]
    assert _digest(bad) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # nothing written outside the output
    assert proc.seconds < TIMEOUT


def test_utf16_musicxml_reads_as_its_utf8_twin(tmp_path):
    from model.io import load
    from model.perform import score_notes

    (tmp_path / "a.musicxml").write_bytes(score(times=2).encode("utf-8"))
    (tmp_path / "b.musicxml").write_bytes(score(times=2).encode("utf-16"))
    notes = score_notes(load(tmp_path / "a.musicxml").score)
    assert len(notes) == 2 and score_notes(load(tmp_path / "b.musicxml").score) == notes


# --- outputs that cannot be written --------------------------------------------------------------------


@pytest.fixture()
def small_mid(tmp_path):
    p = tmp_path / "in.mid"
    p.write_bytes(smf([note(60) + note(64) + note(67)]))
    return p


def _one_line_naming_output(proc, out, words):
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"unimt: error: {out}: cannot write the output: "), (
        proc.stderr
    )
    assert words in lines[0], lines[0]


def test_output_is_a_folder(tmp_path, small_mid):
    out = tmp_path / "out.wav"
    out.mkdir()
    _one_line_naming_output(run_cli(small_mid, out), out, "it is a folder")
    assert list(out.iterdir()) == []


def test_output_name_too_long(tmp_path, small_mid):
    out = tmp_path / ("x" * 300 + ".wav")
    _one_line_naming_output(run_cli(small_mid, out), out, "the file name is too long")


def test_output_in_a_read_only_folder(tmp_path, small_mid):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            folder = None
            for cand in ("/sys", "/proc"):  # root writes anywhere it may: use a read-only mount
                if os.path.isdir(cand):
                    folder = type(tmp_path)(cand)
                    break
        out = folder / "out.wav"
        proc = run_cli(small_mid, out)
        _one_line_naming_output(proc, out, "no permission")
        assert not out.exists()
    finally:
        (tmp_path / "ro").chmod(0o755)


@pytest.mark.parametrize("ext", ["wav", "flac", "mid", "png"])
def test_output_larger_than_allowed(tmp_path, small_mid, ext):
    """A write that the system stops part-way (RLIMIT_FSIZE: EFBIG, as a full disk gives ENOSPC)."""
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / f"out.{ext}"
    src = small_mid if ext != "png" else w("s.musicxml", score())(tmp_path)
    proc = run_cli(src, out, fsize={"wav": 20_000, "flac": 2000, "mid": 40, "png": 2000}[ext])
    _one_line_naming_output(proc, out, "larger than this system allows")
    assert list(outdir.iterdir()) == []


def test_a_full_disk_is_named(tmp_path):
    """ENOSPC met while writing (a real OSError from the writer) becomes "the disk is full", nothing left."""
    from model.errors import OutputError
    from model.io.atomic import atomic_path

    target = tmp_path / "out.mid"
    with pytest.raises(OutputError, match=r"out\.mid: cannot write the output: the disk is full$"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


def test_control_characters_in_names_are_escaped():
    from model.errors import BadInputError

    err = BadInputError("the file is empty", "a\nb\tc\x1b.mid")
    assert str(err) == "a\\nb\\tc\\x1b.mid: the file is empty" and "\n" not in str(err)


# --- long recordings: transcribed from the file, the same notes as whole -------------------------------


def test_streamed_transcription_matches_the_whole_recording(tmp_path):
    """The segment-by-segment path (3 s segments, 2 s look-ahead here; 60 s and 30 s in use) gives exactly the
    notes of the whole-recording path, from a recording at 22.05 kHz that it resamples block by block."""
    import soundfile as sf

    from model.bench import one_minute_of_piano
    from model.inference.engine import get_engine
    from model.inference.longaudio import transcribe_streamed
    from model.inference.weights import PACKAGED_WEIGHTS, is_weights_dir
    from model.io import load
    from model.io.types import Midi
    from model.notes import roll_to_notes
    from model.progress import Reporter
    from model.synth import midi_to_audio

    if not is_weights_dir(PACKAGED_WEIGHTS):
        pytest.skip("no weights are shipped in model/weights")
    pm = one_minute_of_piano()
    for inst in pm.instruments:
        inst.notes = [n for n in inst.notes if n.end < 12]
        inst.control_changes = [c for c in inst.control_changes if c.time < 12]
    audio = midi_to_audio(Midi(pm), sample_rate=22050)
    sf.write(tmp_path / "twelve.wav", audio.samples, 22050)
    audio = load(tmp_path / "twelve.wav")
    engine = get_engine(PACKAGED_WEIGHTS, "cpu")
    probs = engine.note_probabilities(engine.note_frames(audio.mono(16000)), Reporter())
    whole = roll_to_notes(
        probs,
        fps=100,
        onset_threshold=float(engine.inference.get("onset_threshold", 0.5)),
        frame_threshold=float(engine.inference.get("frame_threshold", 0.4)),
    )
    streamed = transcribe_streamed(engine, audio, Reporter(), segment_s=3.0, lookahead_s=2.0)
    got = [
        (n.pitch, round(n.start, 4), round(n.end, 4), n.velocity) for n in streamed.pm.instruments[0].notes
    ]
    assert len(whole) > 40
    assert got == [(p, round(s, 4), round(e, 4), v) for p, s, e, v, _ in whole]
