"""MusicXML written by unimt opens in a real notation program (MuseScore 3, headless)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

MSCORE = shutil.which("mscore3") or shutil.which("musescore3") or shutil.which("mscore")


@pytest.mark.skipif(MSCORE is None, reason="MuseScore 3 is not installed (sudo apt-get install musescore3)")
@pytest.mark.parametrize("source", ["chorale", "quantised"])
def test_musescore_converts_our_musicxml_to_pdf(chorale, tmp_path, source):
    from model.io import load, save
    from model.perform import notation_to_midi
    from model.quantize import midi_to_notation

    notation = chorale if source == "chorale" else midi_to_notation(notation_to_midi(chorale))
    (xml,) = save(notation, tmp_path / "ours.musicxml")
    (mxl,) = save(notation, tmp_path / "ours.mxl")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(tmp_path))
    for src in (xml, mxl):
        pdf = tmp_path / f"{src.suffix[1:]}.pdf"
        proc = subprocess.run([MSCORE, "-o", str(pdf), str(src)], capture_output=True, text=True, env=env,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert pdf.exists() and pdf.stat().st_size > 1000
        pages = load(pdf)
        assert pages.page_count >= 1 and pages.page(0).min() < 60  # ink on the page
