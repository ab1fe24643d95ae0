"""Shared fixtures for model tests: real files made from the music21 corpus."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chorale():
    """A four-part Bach chorale as a Notation (10 measures, pickup, fermatas)."""
    from music21 import corpus

    from model.io.types import Notation

    return Notation(corpus.parse("bach/bwv66.6"))


@pytest.fixture(scope="session")
def files(tmp_path_factory, chorale):
    """Real files of every format, made once per session from the chorale."""
    import numpy as np
    import soundfile as sf

    from model.engrave import notation_to_image
    from model.io import save
    from model.perform import notation_to_midi
    from model.synth import midi_to_audio

    d = tmp_path_factory.mktemp("files")
    out = {}
    save(chorale, d / "score.musicxml")
    save(chorale, d / "score.mxl")
    midi = notation_to_midi(chorale)
    save(midi, d / "score.mid")
    audio = midi_to_audio(midi)
    save(audio, d / "score.wav")
    save(audio, d / "score.flac")
    sf.write(d / "score.ogg", audio.samples, audio.sample_rate, format="OGG", subtype="VORBIS")
    sf.write(d / "score.mp3", audio.samples, audio.sample_rate, format="MP3", subtype="MPEG_LAYER_III")
    image = notation_to_image(chorale)
    save(image, d / "score.png")
    save(image, d / "score.pdf")
    from PIL import Image

    page = Image.fromarray(image.page(0))
    page.convert("RGB").save(d / "score.jpg", quality=90)
    page.save(d / "score.tif", save_all=True, append_images=[page.rotate(0.5, fillcolor=255)])
    for name in ["musicxml", "mxl", "mid", "wav", "flac", "ogg", "mp3", "png", "pdf", "jpg", "tif"]:
        out[name] = d / f"score.{name}"
    out["dir"] = d
    assert np.abs(audio.samples).max() > 0.1
    return out
