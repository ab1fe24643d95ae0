"""The desktop app, offscreen: loading, translating, cancelling, exporting, bad files, responsiveness."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QElapsedTimer, QTimer

from model.api import Modality


@pytest.mark.parametrize(
    "name, modality",
    [
        ("study.musicxml", Modality.NOTATION),
        ("study.mid", Modality.MIDI),
        ("study.wav", Modality.AUDIO),
        ("study.png", Modality.IMAGE),
    ],
)
def test_each_modality_loads_into_its_pane(window, run_job, samples, dialogs, name, modality):
    run_job(lambda: window.open_file(samples / name))
    assert dialogs.warnings == []
    assert window.origin is modality
    pane = window.panes[modality]
    assert pane.has_content()
    others = {window.score, window.roll, window.wave} - {pane}
    assert not any(p.has_content() for p in others)
    if modality is Modality.MIDI:
        assert len(window.roll.data.notes) == 24
    if modality is Modality.AUDIO:
        assert window.wave.data.duration > 5
    if modality in (Modality.IMAGE, Modality.NOTATION):
        view = window.score.scan if modality is Modality.IMAGE else window.score.engraved
        assert view.pages_loaded() == 1
    assert window.windowTitle().startswith(name)


def test_translation_fills_the_panes(window, run_job, samples, dialogs):
    run_job(lambda: window.open_file(samples / "study.musicxml"))
    run_job(lambda: window.translate("midi"))
    assert window.roll.has_content() and not window.wave.has_content()
    run_job(lambda: window.translate("audio"))
    assert window.wave.has_content()
    assert window.player.has_audio()
    assert dialogs.warnings == []
    assert Modality.MIDI in window.objects and Modality.AUDIO in window.objects


def test_midi_to_all_engraves_a_score(window, run_job, samples, dialogs):
    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.translate("all"))
    assert dialogs.warnings == []
    assert window.score.has_content() and window.score.engraved.pages_loaded() >= 1
    assert window.wave.has_content()


def test_cancel_keeps_the_panes(window, run_job, samples, dialogs, qtbot):
    run_job(lambda: window.open_file(samples / "long.mid"))
    with qtbot.waitSignal(window.jobFinished, timeout=30_000):
        window.translate("audio")
        assert window.cancel_button.isVisible() or not window.busy()
        window.cancel()
    assert Modality.AUDIO not in window.objects
    assert not window.wave.has_content()
    assert window.roll.has_content()
    assert dialogs.warnings == []
    assert not window.cancel_button.isVisible()


def test_model_direction_without_weights(window, run_job, samples, dialogs, monkeypatch, tmp_path):
    import model.inference.weights as weights

    monkeypatch.setenv("UNIMT_WEIGHTS", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(weights, "PACKAGED_WEIGHTS", tmp_path / "not-shipped")   # as if none were shipped
    run_job(lambda: window.open_file(samples / "study.wav"))
    assert window.banner.isVisibleTo(window)
    assert "No model installed" in window.banner.text()
    assert not window.translate_actions["score"].isEnabled()
    run_job(lambda: window.translate("midi"))   # forced anyway: a dialog with one line, panes unchanged
    assert len(dialogs.warnings) == 1 and "\n" not in dialogs.warnings[0]
    assert "weights" in dialogs.warnings[0].lower() or "model" in dialogs.warnings[0].lower()
    assert window.wave.has_content() and not window.roll.has_content()


def test_export_writes_files_and_asks_before_overwriting(window, run_job, samples, dialogs, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    run_job(lambda: window.open_file(samples / "study.musicxml"))
    for ext in (".mid", ".musicxml", ".pdf"):
        out = tmp_path / f"out{ext}"
        run_job(lambda out=out: window.export_to(out))
        assert out.stat().st_size > 100, ext
    assert dialogs.warnings == []
    out = tmp_path / "out.mid"
    before = out.stat().st_mtime_ns
    dialogs.answer = QMessageBox.StandardButton.No
    assert window.export_to(out) is False
    assert len(dialogs.questions) == 1 and out.stat().st_mtime_ns == before
    assert window.settings.folder("export") == str(tmp_path)


def test_bad_file_gives_a_dialog_and_no_crash(window, run_job, samples, dialogs):
    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.open_file(samples / "broken.mid"))
    assert len(dialogs.warnings) == 1
    assert "broken.mid" in dialogs.warnings[0] and "\n" not in dialogs.warnings[0]
    assert window.origin is Modality.MIDI and window.roll.has_content()   # what was there stays
    run_job(lambda: window.open_file(samples / "missing.wav"))
    assert len(dialogs.warnings) == 2


def test_gui_stays_responsive_during_translation(window, run_job, samples, qtbot):
    run_job(lambda: window.open_file(samples / "long.mid"))
    gaps, clock = [], QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer(interval=10, timeout=tick)
    timer.start()
    t0 = time.monotonic()
    run_job(lambda: window.translate("all"), timeout=60_000)
    timer.stop()
    assert window.wave.has_content() and window.score.has_content()
    assert len(gaps) > 5
    print(f"translation {time.monotonic() - t0:.2f} s, {len(gaps)} ticks, max gap {max(gaps)} ms")
    # about 90 ms on an idle 2-core machine; the bound leaves room for a busy CI box, a freeze is seconds
    assert max(gaps) < 600 and sorted(gaps)[len(gaps) // 2] < 50


def test_settings_recent_files_and_window_state(window, run_job, samples):
    from unimt_desktop.settings import Settings

    run_job(lambda: window.open_file(samples / "study.mid"))
    window.resize(1111, 777)
    window.close()
    s = Settings()
    assert s.recent_files()[0] == str((samples / "study.mid").resolve())
    assert s.window_state()[0] is not None
    assert "config" in s.store.fileName()


def test_playback_without_an_audio_device(window, run_job, samples, monkeypatch):
    run_job(lambda: window.open_file(samples / "study.wav"))
    monkeypatch.setattr(window.player, "_device", False)
    window.toggle_play()
    assert window.audio_label.text() == "No audio output found: playing silently"
    assert window.player.playing and window.player.silent     # on the clock, without sound
    window.toggle_play()
    window.seek(2.5)  # the playhead still moves
    assert abs(window.roll.playhead.value() - 2.5) < 1e-3
    assert abs(window.wave.playheads[0].value() - 2.5) < 1e-3


class _Ticks:
    """Largest gap between the ticks of a 10 ms QTimer: how long the event loop was blocked."""

    def __init__(self):
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last, self.gaps = 0, []
        self.timer = QTimer(interval=10, timeout=self.tick)

    def tick(self):
        now = self.clock.elapsed()
        self.gaps.append(now - self.last)
        self.last = now

    def __enter__(self):
        self.last = self.clock.elapsed()
        self.timer.start()
        return self

    def __exit__(self, *a):
        self.timer.stop()


@pytest.fixture(scope="session")
def big_files(tmp_path_factory, samples):
    """A 20-page PDF and a ten-minute recording."""
    import numpy as np
    import soundfile as sf

    from model.api import ScoreImage, load, save

    d = tmp_path_factory.mktemp("big")
    page = load(samples / "study.png").page(0)
    save(ScoreImage.from_arrays([page] * 20, dpi=150), d / "twenty.pdf")
    sr = 22050
    t = np.arange(600 * sr, dtype=np.float32) / sr
    x = (0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t))).astype(np.float32)
    sf.write(d / "ten-minutes.flac", x, sr)
    return d


@pytest.mark.parametrize("name", ["twenty.pdf", "ten-minutes.flac"])
def test_big_files_never_freeze_the_window(window, run_job, big_files, dialogs, qtbot, name):
    with _Ticks() as ticks:
        run_job(lambda: window.open_file(big_files / name), timeout=60_000)
        if name.endswith(".pdf"):
            qtbot.waitUntil(lambda: window.score.scan.pages_loaded() == 20, timeout=20_000)
        else:
            window.wave.spec_button.setChecked(True)
            qtbot.waitUntil(lambda: window.wave.spec is not None, timeout=30_000)
            window.wave.wave_plot.setXRange(100, 101)     # zoomed in: raw samples
            qtbot.wait(200)
    assert dialogs.warnings == []
    print(f"{name}: max event-loop gap {max(ticks.gaps)} ms over {len(ticks.gaps)} ticks")
    assert max(ticks.gaps) < 600 and sorted(ticks.gaps)[len(ticks.gaps) // 2] < 50


def test_playhead_highlights_the_measure_and_a_click_seeks(window, run_job, samples, qtbot):
    from PySide6.QtCore import QPoint, Qt

    run_job(lambda: window.open_file(samples / "study.musicxml"))
    view = window.score.engraved
    qtbot.waitUntil(lambda: view.pages_loaded() == 1)
    assert len(view.measures) == 4 and view.times[1] == pytest.approx(2.0)   # 4/4 at 120 bpm
    window.seek(4.5)
    assert view._playing == 2 and view.playing_item is not None
    assert "measure 3" in window.score.info.text()
    r = view.measure_rect(1)
    pt = view.mapFromScene(r.center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pt.x(), pt.y()))
    assert window.position == pytest.approx(2.0)
    assert view._playing == 1


def test_a_file_dropped_on_any_pane_goes_to_its_own_pane(window, run_job, samples, qtbot):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(samples / "study.mid"))])
    target = window.wave.empty            # dropped on the (empty) waveform pane
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    # Qt delivers real drops from its drag manager only; hand the event to the pane's drop filter as it would
    run_job(lambda: window.drops.eventFilter(target, ev))
    assert window.origin is Modality.MIDI and window.roll.has_content() and not window.wave.has_content()


def test_settings_dialog_round_trip(window):
    from unimt_desktop.dialogs import SettingsDialog
    from unimt_desktop.settings import Settings

    dlg = SettingsDialog(window.settings, window)
    dlg.device.setCurrentIndex(1)
    dlg.dpi.setValue(300)
    dlg.soundfont.setText("/tmp/some.sf2")
    dlg.accept()
    s = Settings()
    assert (s.device, s.pdf_dpi, s.soundfont) == ("cpu", 300, "/tmp/some.sf2")
    assert window.translate_options().model.device == "cpu"
    assert window.translate_options().soundfont == "/tmp/some.sf2"


def test_recognition_outlines_systems_and_finds_doubtful_measures(window, run_job, samples):
    from types import SimpleNamespace

    from unimt_desktop.jobs import PageSet

    run_job(lambda: window.open_file(samples / "study.png"))
    page = window.score._sets["scan"].pages[0]
    h, w = page.shape
    rec = SimpleNamespace(systems=[(0, (100, 200, w - 100, 400))], system_measures=[4],
                          measure_confidence=[0.95, 0.3, 0.99, 0.5])
    window.score.set_pages("engraved", PageSet([page], 150, recognition=rec))
    window.score.scan._timer.stop()
    window.score.scan._apply_overlays()
    view = window.score.scan
    assert len(view.measure_rects) == 4
    assert view.next_doubtful(-1) == 1 and view.next_doubtful(1) == 3 and view.next_doubtful(3) == 1
    assert window.score.mode() == 2   # scan and engraved side by side


def test_one_piano_track_shows_two_hands():
    import pretty_midi

    from model.api import Midi
    from unimt_desktop.jobs import roll_data

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0, name="Piano")
    inst.notes = [pretty_midi.Note(velocity=80, pitch=p, start=i * 0.5, end=i * 0.5 + 0.4)
                  for i, p in enumerate([72, 48, 76, 55])]
    pm.instruments.append(inst)
    data = roll_data(Midi(pm))
    assert data.tracks == ["Piano (upper)", "Piano (lower)"]
    assert [int(t) for t in data.notes[:, 4]] == [0, 1, 0, 1]


def test_doubtful_transcribed_notes_are_marked(window):
    """Notes the model was unsure of (confidence below 0.6) are counted and outlined in the piano roll."""
    from model.api import Midi
    from model.notes import notes_to_midi
    from unimt_desktop.jobs import roll_data

    midi = Midi(notes_to_midi([(60, 0.0, 0.5, 80), (64, 0.5, 1.0, 70), (67, 1.0, 1.5, 60)]))
    midi.note_confidence = [0.95, 0.3, 0.8]
    data = roll_data(midi)
    assert data.confidence is not None and list(data.confidence) == [0.95, 0.3, 0.8]
    window.roll.set_data(data)
    assert "3 notes" in window.roll.info.text() and "1 doubtful" in window.roll.info.text()
    window.roll.set_data(roll_data(Midi(notes_to_midi([(60, 0.0, 0.5, 80)]))))   # a file: no confidence
    assert "doubtful" not in window.roll.info.text()


def test_playing_measure_follows_repeats():
    """A repeated passage is highlighted each time it plays; a click seeks to its first playing."""
    from music21 import bar, meter, note, stream

    from model.api import Notation, measure_times

    score, part = stream.Score(), stream.Part()
    for i in range(4):
        m = stream.Measure(number=i + 1)
        if i == 0:
            m.insert(0, meter.TimeSignature("4/4"))
        m.append(note.Note("C5", type="whole"))
        if i == 1:
            m.rightBarline = bar.Repeat(direction="end")
        part.append(m)
    score.insert(0, part)
    first, order = measure_times(Notation(score))
    assert first == [0.0, 2.0, 8.0, 10.0]
    assert [i for _, i in order] == [0, 1, 0, 1, 2, 3]


def _tiny_weights(folder, tasks: dict, **model):
    """Random tiny weights, self-describing like real ones, trained (in name) for ``tasks``. Seeded, and with
    the end-of-sequence embedding zeroed (its logit is 0, below the best of hundreds of random ones), so the
    nonsense they read is never empty."""
    from dataclasses import asdict

    import torch

    from model.bundle import save_bundle
    from model.tokenizers.audio import MelConfig
    from model.tokenizers.lmx import LMXTokenizer
    from model.tokenizers.midi import MidiTokenizer
    from model.tokenizers.score_image import SystemImageConfig
    from model.training.data import make_vocabulary
    from model.transformer import ModelConfig, Seq2Seq

    lmx, midi = LMXTokenizer(), MidiTokenizer()
    vocab = make_vocabulary(lmx, midi)
    torch.manual_seed(0)
    net = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=vocab.size, max_tgt_len=48, **model))
    with torch.no_grad():
        net.tgt_embed.weight[vocab.eos] = 0.0
    save_bundle(
        folder,
        net,
        {
            "vocab": vocab.to_dict(),
            "tasks": tasks,
            "inference": {"audio_window_s": 4.0},
            "tokenizers": {
                "lmx": {"config": asdict(lmx.config)},
                "midi": {"config": asdict(midi.config)},
                "image": {"config": asdict(SystemImageConfig())},
                "audio": {"config": asdict(MelConfig())},
            },
        },
    )
    return folder


def test_weights_that_only_transcribe(window, run_job, samples, dialogs, monkeypatch, tmp_path):
    """Weights trained for transcription only: a scan says so in the banner and its translations are off;
    a recording is transcribed by the note head into the piano roll."""
    from model.api import Modality

    monkeypatch.setenv("UNIMT_WEIGHTS", str(_tiny_weights(tmp_path / "notes", {"audio2notes": 1.0},
                                                          audio_stem="conv2d", note_head=True,
                                                          audio_channels=(4, 8), n_mels=229)))
    run_job(lambda: window.open_file(samples / "study.png"))
    assert window.banner.isVisibleTo(window) and "cannot read score images" in window.banner.text()
    assert not window.translate_actions["score"].isEnabled()
    assert "cannot read score images" in window.translate_actions["midi"].toolTip()
    run_job(lambda: window.open_file(samples / "study.wav"))
    assert not window.banner.isVisibleTo(window) and window.translate_actions["midi"].isEnabled()
    run_job(lambda: window.translate("midi"), timeout=120_000)
    assert dialogs.warnings == [] and Modality.MIDI in window.objects
    assert window.roll.data is not None and window.roll.data.confidence is not None


def test_a_scan_translated_by_a_tiny_model_fills_the_score_pane(
    window, run_job, samples, dialogs, monkeypatch, tmp_path
):
    """The model path end to end in the app (random tiny weights: nonsense notes, but a real score), and the
    status bar names the device the model ran on."""
    from model.api import Modality

    monkeypatch.setenv("UNIMT_WEIGHTS", str(_tiny_weights(tmp_path / "tiny", {"image2lmx": 1.0})))
    run_job(lambda: window.open_file(samples / "study.png"))
    run_job(lambda: window.translate("score"), timeout=120_000)
    assert dialogs.warnings == []
    assert Modality.NOTATION in window.objects and window.score.has_content()
    assert "ran on: CPU" in window.device_label.text()


def test_the_first_translation_shows_the_model_loading_stage_by_stage(window, run_job, samples, dialogs,
                                                                       monkeypatch):
    """The model loads lazily: the first scan read in a fresh process shows its loading in the status bar,
    stage by stage, with a determinate bar that moves as the weights are read; the next one does not load."""
    from model.api import Modality
    from model.inference import engine, staff_reader

    monkeypatch.setattr(engine, "_cache", {})         # as in a fresh process
    monkeypatch.setattr(staff_reader, "_cache", {})
    seen = []
    shown = window._progress

    def progress(w, done, total, msg):
        shown(w, done, total, msg)
        seen.append((window.progress.value(), window.progress.maximum(), window.statusBar().currentMessage()))
    monkeypatch.setattr(window, "_progress", progress)
    run_job(lambda: window.open_file(samples / "study.png"))
    seen.clear()
    run_job(lambda: window.translate("score"), timeout=120_000)
    assert dialogs.warnings == [] and Modality.NOTATION in window.objects
    stages = list(dict.fromkeys(m for _, _, m in seen))
    loading = [m for m in stages if m.startswith("Loading the score reader")]
    assert loading[0] == "Loading the score reader: reading its configuration (reader.json)…"
    assert loading[1].startswith("Loading the score reader: reading its weights (reader.safetensors")
    reading = [(v, n) for v, n, m in seen if m == loading[1]]
    assert all(n > 0 for _, n in reading) and len({v for v, _ in reading}) > 5     # determinate, moving
    assert [v for v, _ in reading] == sorted(v for v, _ in reading)
    after = stages.index(loading[-1])
    assert len(stages) > after + 1                    # then the reading itself, its own steps
    seen.clear()
    run_job(lambda: window.open_file(samples / "study.png"))
    run_job(lambda: window.translate("score"), timeout=120_000)
    assert not any("Loading" in m for _, _, m in seen)     # loaded once


def test_progress_shows_the_step_beside_a_bar_that_fits_it(window):
    """The bar says how far (its text fits its 260 px); the status bar beside it says what is being done."""
    job = object()
    window.job = job
    try:
        window._progress(job, 3, 10, "writing passages 1 to 3 of 3 as notation")
        assert window.progress.text() == "30%"
        assert window.statusBar().currentMessage() == "Writing passages 1 to 3 of 3 as notation…"
        window._progress(object(), 9, 10, "another job")      # a finished job's late report changes nothing
        assert window.progress.text() == "30%"
    finally:
        window.job = None


def test_to_audio_from_a_score_asks_for_the_route_once(samples, monkeypatch):
    """The job plans the route once and runs it in one go; every step's result comes back, with its view, and
    progress only moves forward."""
    import model.graph
    import model.translate
    from unimt_desktop import jobs

    calls = []
    real = model.graph.route

    def counting(src, dst):
        calls.append((src, dst))
        return real(src, dst)

    monkeypatch.setattr(model.graph, "route", counting)
    monkeypatch.setattr(model.translate, "route", counting)
    loaded = jobs.load_job(samples / "study.musicxml", progress=lambda *a: None, should_stop=lambda: False)
    calls.clear()
    seen = []
    res = jobs.translate_job(loaded.objects, [Modality.AUDIO], progress=lambda d, n, m: seen.append((d, n)),
                             should_stop=lambda: False)
    assert calls == [(Modality.NOTATION, Modality.AUDIO)]
    assert set(res.objects) == {Modality.MIDI, Modality.AUDIO} and res.error is None
    assert {"roll", "wave"} <= set(res.views)
    assert seen and all(a[0] <= b[0] for a, b in zip(seen, seen[1:])) and all(d <= n for d, n in seen)
