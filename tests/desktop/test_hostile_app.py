"""Hostile files opened in the app: each gives one message in words (no exception names) naming the file,
the window stays responsive, and what was open before stays open."""

from __future__ import annotations

import re
import struct
import zipfile

import pytest

from model.api import Modality


def _smf(tracks: list[bytes], tpq: int = 480) -> bytes:
    head = b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), tpq)
    return head + b"".join(b"MTrk" + struct.pack(">I", len(t)) + t for t in tracks)


def _note(delta: bytes = b"\x00", length: bytes = b"\x83\x60") -> bytes:
    return delta + b"\x90\x3c\x40" + length + b"\x80\x3c\x00\x00\xff\x2f\x00"


def _score(repeat_times: int) -> str:
    measure = ('<measure number="{n}">{attr}<note><pitch><step>C</step><octave>4</octave></pitch>'
               '<duration>4</duration><type>whole</type></note>{bar}</measure>')
    attr = ("<attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>"
            "<clef><sign>G</sign><line>2</line></clef></attributes>")
    bar = (f'<barline location="right"><repeat direction="backward" times="{repeat_times}"/></barline>')
    return ('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
            '<score-part id="P1"><part-name>P</part-name></score-part></part-list><part id="P1">'
            + measure.format(n=1, attr=attr, bar="") + measure.format(n=2, attr="", bar=bar)
            + "</part></score-partwise>")


def _zip_bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container><rootfiles>'
                   '<rootfile full-path="s.xml"/></rootfiles></container>')
        z.writestr("s.xml", "<" + "a" * (200 * 1024 * 1024))


MAKERS = {
    "million-repeats.musicxml": lambda p: p.write_text(_score(1_000_000)),
    "four-years.mid": lambda p: p.write_bytes(_smf([_note(length=b"\xff\xff\xff\x7f")], tpq=1)),
    "tracks.mid": lambda p: p.write_bytes(_smf([_note()] * 5000)),
    "text.mid": lambda p: p.write_text("this is not a MIDI file\n"),
    "cut.png": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"),
    "bomb.mxl": _zip_bomb,
    "empty.wav": lambda p: p.write_bytes(b""),
    "line\nbreak.musicxml": lambda p: p.write_text("<score-partwise"),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_a_hostile_file_gives_one_message_in_words(window, run_job, samples, dialogs, tmp_path, name):
    run_job(lambda: window.open_file(samples / "study.mid"))
    bad = tmp_path / name
    MAKERS[name](bad)
    before = bad.read_bytes()
    run_job(lambda: window.open_file(bad), timeout=60_000)
    assert len(dialogs.warnings) == 1, dialogs.warnings
    text = dialogs.warnings[0]
    assert "\n" not in text and len(text) < 400, text
    assert bad.name.replace("\n", "\\n") in text, text
    assert not re.search(r"\w+(Error|Exception)\b|Traceback|unexpected failure", text), text
    assert bad.read_bytes() == before
    assert window.origin is Modality.MIDI and window.roll.has_content()     # what was open stays open
    run_job(lambda: window.open_file(samples / "study.musicxml"))          # and the window still works
    assert window.origin is Modality.NOTATION and len(dialogs.warnings) == 1


def test_unforeseen_failures_are_said_in_words():
    from unimt_desktop.workers import one_line

    denied = PermissionError(13, "Permission denied", "/music/a\nb.wav")
    assert one_line(denied) == "/music/a\\nb.wav: permission denied"
    for exc in (ValueError("bad value"), KeyError("k"), RuntimeError("a\nb"), OSError("no errno")):
        text = one_line(exc)
        assert "\n" not in text and not re.search(r"\w+(Error|Exception)\b", text), text
        assert "unexpected problem" in text
