"""Fixtures for the desktop tests: redirected settings, real sample files, a window, a job waiter."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_settings(tmp_path, monkeypatch):
    """Settings go to a temporary INI file, never to the real user's."""
    monkeypatch.setenv("UNIMT_CONFIG_DIR", str(tmp_path / "config"))


def _make_score(parts: int = 2, repeats: int = 1):
    import music21

    s = music21.stream.Score()
    rh, lh = music21.stream.Part(), music21.stream.Part()
    rh.insert(0, music21.instrument.Piano())
    lh.insert(0, music21.instrument.Piano())
    rh.append(music21.tempo.MetronomeMark(number=120))
    for _ in range(repeats):
        for p in "C5 D5 E5 F5 G5 A5 G5 F5 E5 D5 C5 E5 G5 C6 G5 E5".split():
            rh.append(music21.note.Note(p, quarterLength=1))
        for p in ("C3", "G2", "F2", "G2"):
            lh.append(music21.chord.Chord([p, music21.pitch.Pitch(p).transpose(7)], quarterLength=4))
    lh.insert(0, music21.clef.BassClef())
    s.insert(0, rh)
    s.insert(0, lh)
    s.insert(0, music21.metadata.Metadata(title="Little study", composer="unimt tests"))
    return s


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """One real file per modality (plus a bad one), made through model.api."""
    from model.api import Modality, Notation, midi_to_audio, notation_to_midi, save, translate

    d = tmp_path_factory.mktemp("samples")
    n = Notation(_make_score())
    save(n, d / "study.musicxml")
    m = notation_to_midi(n)
    save(m, d / "study.mid")
    save(midi_to_audio(m), d / "study.wav")
    save(translate(n, Modality.IMAGE), d / "study.png")
    (d / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    long = Notation(_make_score(repeats=12))
    save(notation_to_midi(long), d / "long.mid")
    return d


class Dialogs:
    """Records the message boxes the window would show."""

    def __init__(self):
        self.warnings: list[str] = []
        self.questions: list[str] = []
        self.answer = None


@pytest.fixture
def dialogs(monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    rec = Dialogs()
    rec.answer = QMessageBox.StandardButton.Yes

    def warning(parent, title, text, *a, **k):
        rec.warnings.append(text)
        return QMessageBox.StandardButton.Ok

    def question(parent, title, text, *a, **k):
        rec.questions.append(text)
        return rec.answer

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(warning))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return rec


@pytest.fixture
def window(qtbot, dialogs):
    from unimt_desktop.mainwindow import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.unexported.clear()    # closing at teardown must not ask (a real message box would wait for a click)
    w.shutdown()


@pytest.fixture
def run_job(qtbot, window):
    """Start something that runs a job and wait until the window has applied its result."""

    def run(start, timeout=30_000):
        with qtbot.waitSignal(window.jobFinished, timeout=timeout):
            start()
        qtbot.wait(20)

    return run
