"""``unimt convert``: every route, and bad input answered with one line, exit 1, nothing written."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest


def unimt(*args, timeout=120):
    exe = shutil.which("unimt")
    cmd = [exe] if exe else [sys.executable, "-m", "model.cli"]
    t = time.monotonic()
    proc = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    proc.seconds = time.monotonic() - t
    return proc


def test_help_lists_every_pair():
    out = unimt("convert", "--help").stdout
    for a in ("image", "notation", "midi", "audio"):
        for b in ("image", "notation", "midi", "audio"):
            if a != b:
                assert f"{a} -> {b}" in " ".join(out.split()), (a, b)


@pytest.mark.parametrize("src,dst", [
    ("musicxml", "mid"), ("mxl", "wav"), ("musicxml", "pdf"), ("mid", "musicxml"), ("mid", "flac"),
    ("mid", "png"), ("pdf", "png"), ("wav", "flac"), ("musicxml", "mxl"),
])
def test_exact_routes(files, tmp_path, src, dst):
    out = tmp_path / f"out.{dst}"
    proc = unimt("convert", files[src], out)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and out.stat().st_size > 0
    assert proc.stderr == ""
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_score_made_from_a_performance_is_named_after_its_file(files, tmp_path):
    """A musician opening the score in a notation editor sees the file's name as its title, not music21's
    "Music21 Fragment" composed by "Music21"."""
    from model.io import load

    src = tmp_path / "Evening_song.mid"
    shutil.copy(files["mid"], src)
    assert unimt("convert", src, tmp_path / "song.musicxml").returncode == 0
    text = (tmp_path / "song.musicxml").read_text(encoding="utf-8")
    assert "Music21" not in text and "<work-title>Evening song</work-title>" in text
    assert load(tmp_path / "song.musicxml").score.metadata.movementName == "Evening song"


def test_systems_option_writes_one_png_per_system(files, tmp_path):
    proc = unimt("convert", files["musicxml"], tmp_path / "sys.png", "--systems", "--font", "Leland")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sys-1.png", "sys-2.png"]


@pytest.mark.parametrize("src,dst", [("png", "musicxml"), ("wav", "mid"), ("pdf", "wav")])
def test_model_directions_say_weights_are_missing(files, tmp_path, src, dst, monkeypatch):
    """Without any weights (the shipped ones hidden behind an empty folder), the model directions say so."""
    empty = tmp_path / "no-weights"
    empty.mkdir()
    proc = unimt("convert", files[src], tmp_path / f"out.{dst}", "--weights", empty)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not a unimt weights folder" in proc.stderr
    assert str(empty) in proc.stderr
    # and with no weights anywhere (the shipped folder emptied too), the message says where it looked
    import model.inference.weights as weights
    from model.errors import ModelUnavailableError

    monkeypatch.setattr(weights, "PACKAGED_WEIGHTS", empty)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("UNIMT_WEIGHTS", raising=False)
    with pytest.raises(ModelUnavailableError, match="no weights are installed .looked in .*no-weights"):
        weights.find_weights()


def test_the_shipped_weights_transcribe_and_say_what_they_cannot(files, tmp_path, monkeypatch):
    """The weights in model/weights are found without a flag: a recording becomes MIDI that matches it; a
    direction they were not trained for fails with one clear line."""
    import pretty_midi

    from model.inference.weights import PACKAGED_WEIGHTS, is_weights_dir, weights_can
    from model.metrics import NoteF1

    if not is_weights_dir(PACKAGED_WEIGHTS):
        pytest.skip("no weights are shipped in model/weights")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert weights_can("audio")
    proc = unimt("convert", files["wav"], tmp_path / "out.mid")
    assert proc.returncode == 0, proc.stderr
    f1 = NoteF1()
    f1.add(pretty_midi.PrettyMIDI(str(tmp_path / "out.mid")), pretty_midi.PrettyMIDI(str(files["mid"])))
    # the chorale: 0.68 with the shipped weights (four voices, doublings)
    assert f1.summary()["onset_f1"] > 0.4
    if not weights_can("image"):
        proc = unimt("convert", files["png"], tmp_path / "out.musicxml")
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1
        assert "not trained to read score images" in proc.stderr and str(files["png"]) in proc.stderr


def test_refuses_to_overwrite_its_input(files, tmp_path):
    src = tmp_path / "in.mid"
    shutil.copy(files["mid"], src)
    proc = unimt("convert", src, src)
    assert proc.returncode == 1 and "never overwrites its input" in proc.stderr


# --- bad input ----------------------------------------------------------------------------------

def _truncate(path, dst, keep=0.3):
    data = path.read_bytes()
    dst.write_bytes(data[: max(16, int(len(data) * keep))])
    return dst


def _corrupt(path, dst):
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    start = min(64, len(data) // 4)
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def _photo(path):
    from PIL import Image
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(1)
    rgb = np.stack([gaussian_filter(rng.random((600, 800)), s) for s in (8, 15, 30)], axis=-1)
    rgb = (255 * (rgb - rgb.min()) / np.ptp(rgb)).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=85)
    return path


def _zip_bomb(path):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("score.musicxml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(260):
                fh.write(chunk)
    return path


XXE = """<?xml version="1.0"?>
<!DOCTYPE score-partwise [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<score-partwise version="4.0"><part-list><score-part id="P1"><part-name>&xxe;</part-name></score-part>
</part-list><part id="P1"><measure number="1"/></part></score-partwise>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE score-partwise [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>
<score-partwise version="4.0"><part-list><score-part id="P1"><part-name>&h;</part-name></score-part>
</part-list><part id="P1"><measure number="1"/></part></score-partwise>"""


def _pdf_10000(path):
    import pymupdf

    doc = pymupdf.open()
    for _ in range(10_000):
        doc.new_page(width=200, height=200)
    doc.save(path)
    return path


def _huge_png(path):
    from PIL import Image

    Image.new("1", (30000, 30000), 1).save(path)
    return path


def _zero_wav(path):
    import soundfile as sf

    sf.write(path, np.zeros((0, 1), np.float32), 44100)
    return path


BAD = {
    "truncated.png": lambda f, d: _truncate(f["png"], d / "truncated.png"),
    "truncated.jpg": lambda f, d: _truncate(f["jpg"], d / "truncated.jpg", 0.01),
    "truncated.tif": lambda f, d: _truncate(f["tif"], d / "truncated.tif"),
    "truncated.pdf": lambda f, d: _truncate(f["pdf"], d / "truncated.pdf", 0.2),
    "truncated.musicxml": lambda f, d: _truncate(f["musicxml"], d / "truncated.musicxml"),
    "truncated.mxl": lambda f, d: _truncate(f["mxl"], d / "truncated.mxl"),
    "truncated.mid": lambda f, d: _truncate(f["mid"], d / "truncated.mid", 0.5),
    "truncated.wav": lambda f, d: _truncate(f["wav"], d / "truncated.wav", 0.00001),
    "truncated.flac": lambda f, d: _truncate(f["flac"], d / "truncated.flac", 0.00002),
    "corrupt.ogg": lambda f, d: _corrupt(f["ogg"], d / "corrupt.ogg"),
    "corrupt.mp3": lambda f, d: _corrupt(f["mp3"], d / "corrupt.mp3"),
    "corrupt.mid": lambda f, d: _corrupt(f["mid"], d / "corrupt.mid"),
    "corrupt.png": lambda f, d: _corrupt(f["png"], d / "corrupt.png"),
    "corrupt.pdf": lambda f, d: _corrupt(f["pdf"], d / "corrupt.pdf"),
    "corrupt.mxl": lambda f, d: _corrupt(f["mxl"], d / "corrupt.mxl"),
    "png-named.mid": lambda f, d: (
        (d / "png-named.mid").write_bytes(f["png"].read_bytes()) and d / "png-named.mid"
    ),
    "empty.musicxml": lambda f, d: (d / "empty.musicxml").write_bytes(b"") or d / "empty.musicxml",
    "empty.wav": lambda f, d: (d / "empty.wav").write_bytes(b"") or d / "empty.wav",
    "photo.jpg": lambda f, d: _photo(d / "photo.jpg"),
    "silence.wav": lambda f, d: _zero_wav(d / "silence.wav"),
    "bomb.mxl": lambda f, d: _zip_bomb(d / "bomb.mxl"),
    "xxe.musicxml": lambda f, d: (d / "xxe.musicxml").write_text(XXE) and d / "xxe.musicxml",
    "laughs.musicxml": lambda f, d: (d / "laughs.musicxml").write_text(LAUGHS) and d / "laughs.musicxml",
    "long.pdf": lambda f, d: _pdf_10000(d / "long.pdf"),
    "huge.png": lambda f, d: _huge_png(d / "huge.png"),
    "notxml.musicxml": lambda f, d: (
        (d / "notxml.musicxml").write_text("hello, not xml") and d / "notxml.musicxml"
    ),
}

TARGET = {"image": "out.musicxml", "notation": "out.wav", "midi": "out.musicxml", "audio": "out.mid"}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_one_line_exit_1_nothing_written(files, tmp_path, name):
    from model.io import modality_of

    src_dir = tmp_path / "in"
    src_dir.mkdir()
    bad = BAD[name](files, src_dir)
    digest = hashlib.sha256(bad.read_bytes()).hexdigest()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / TARGET[modality_of(bad).value]
    proc = unimt("convert", bad, out, timeout=60)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("unimt: error: ") and str(bad) in lines[0]
    assert "Traceback" not in proc.stderr and "unexpected failure" not in proc.stderr
    assert list(out_dir.iterdir()) == []
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == digest
    assert proc.seconds < 30


def test_tokenize_detokenize_round_trip(files, tmp_path):
    from model.io import load
    from model.perform import score_notes

    txt = tmp_path / "score.txt"
    assert unimt("tokenize", files["musicxml"], txt).returncode == 0
    lines = txt.read_text().splitlines()
    assert lines[0] == "# unimt tokens: lmx v1" and len(lines) == 1 + 10  # one line per measure
    proc = unimt("detokenize", txt, tmp_path / "back.musicxml")
    assert proc.returncode == 0, proc.stderr
    assert score_notes(load(tmp_path / "back.musicxml").score) == score_notes(load(files["musicxml"]).score)


def test_malformed_token_file_names_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("# unimt tokens: lmx v1\nmeasure clef:G2 staff:1\nmeasure C4 quarter flurb\n")
    proc = unimt("detokenize", bad, tmp_path / "x.musicxml")
    assert proc.returncode == 1 and "line 3, token 4: unknown LMX token 'flurb'" in proc.stderr
    assert not (tmp_path / "x.musicxml").exists()


def test_a_score_image_tokenizes_to_codec_codes_and_back(files, tmp_path):
    """One line of RQ-VAE codes per system; detokenize draws the systems again, ink where it was."""
    from model.io import load
    from model.tokenizers.score_image import system_canvases

    txt = tmp_path / "page.txt"
    proc = unimt("tokenize", files["png"], txt)
    assert proc.returncode == 0, proc.stderr
    lines = txt.read_text().splitlines()
    assert lines[0] == "# unimt tokens: image v1" and len(lines) >= 3       # the chorale has two systems
    first = lines[1].split()
    assert first[:4] == [f"img:{k}:{first[k].split(':')[2]}" for k in range(4)] and len(first) % (10 * 4) == 0
    proc = unimt("detokenize", txt, tmp_path / "back.png")
    assert proc.returncode == 0, proc.stderr
    page = load(tmp_path / "back.png").page(0)
    assert page.shape[0] == (len(lines) - 1) * (160 + 16)
    systems = system_canvases(load(files["png"]).page(0))
    assert len(systems) == len(lines) - 1
    for i, (_, canvas) in enumerate(systems):                                # the ink comes back where it was
        ink = canvas < 0.5
        drawn = page[i * 176:i * 176 + 160, :ink.shape[1]] < 128
        assert (ink & drawn).sum() > 0.5 * ink.sum() and (ink & drawn).sum() > 0.5 * drawn.sum()
    bad = tmp_path / "bad.txt"
    bad.write_text("# unimt tokens: image v1\n" + " ".join(first[:4] * 10) + "\nimg:0:1 img:7:2\n")
    proc = unimt("detokenize", bad, tmp_path / "x.png")
    assert proc.returncode == 1 and "line 3, token 2: unknown image token 'img:7:2'" in proc.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("src,dst", [("png", "musicxml"), ("wav", "mid")])
def test_a_broken_weights_folder_is_named(files, tmp_path, src, dst):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("not json")
    (broken / "model.safetensors").write_text("not weights")
    proc = unimt("convert", files[src], tmp_path / f"out.{dst}", "--weights", broken)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "unreadable config.json" in proc.stderr and str(broken) in proc.stderr
    assert not (tmp_path / f"out.{dst}").exists()


def test_capabilities_say_what_the_weights_can_and_where_they_were_looked_for(tmp_path, monkeypatch):
    """One typed answer for menus: found or not, where, why not, and each model step (as weights_can says)."""
    import model.inference.weights as weights

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("UNIMT_WEIGHTS", raising=False)
    if weights.is_weights_dir(weights.PACKAGED_WEIGHTS):
        caps = weights.capabilities()
        assert caps.available and caps.folder == weights.PACKAGED_WEIGHTS and caps.problem == ""
        assert all(caps.can(s) == weights.weights_can(s) for s in ("image", "audio", "midi"))
    (tmp_path / "empty").mkdir()
    caps = weights.capabilities(tmp_path / "empty")
    assert not caps.available and caps.looked_in == () and "not a unimt weights folder" in caps.problem
    assert not any(caps.can(s) for s in ("image", "audio", "midi"))
    monkeypatch.setattr(weights, "PACKAGED_WEIGHTS", tmp_path / "not-shipped")
    caps = weights.capabilities()
    assert not caps.available and caps.looked_in[0] == str(tmp_path / "xdg" / "unimt" / "weights")
    assert "looked in" in caps.problem
