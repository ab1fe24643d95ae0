"""Issue 22, practising: tempo (pitch kept, the notes played again), transposition (what plays, the panes and
the exports), muted parts, a loop of chosen bars, a count-in and the bar/beat ruler. The real window
(offscreen), real scores and real FluidSynth; the silent clock where playback must move."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from model.api import Modality


@pytest.fixture(scope="session")
def held(tmp_path_factory):
    """One bar at 120 crotchets a minute: A4 held for a second, then E5 for a second (a 2-s passage)."""
    import music21

    from model.api import Notation, save

    s = music21.stream.Score()
    p = music21.stream.Part()
    p.insert(0, music21.instrument.Piano())
    p.append(music21.tempo.MetronomeMark(number=120))
    p.append(music21.meter.TimeSignature("4/4"))
    p.append(music21.note.Note("A4", quarterLength=2))
    p.append(music21.note.Note("E5", quarterLength=2))
    s.insert(0, p)
    path = tmp_path_factory.mktemp("held") / "held.musicxml"
    save(Notation(s), path)
    return path


@pytest.fixture(scope="session")
def chorale(tmp_path_factory):
    """Bach's chorale BWV 66.6 (music21 corpus): a one-beat pickup (bar 0), then bars of 4/4."""
    from music21 import corpus

    path = tmp_path_factory.mktemp("chorale") / "bwv66.6.musicxml"
    corpus.parse("bach/bwv66.6").write("musicxml", fp=str(path))
    return path


@pytest.fixture
def silent(monkeypatch):
    """No sound card: playback runs on the silent clock."""
    import sounddevice as sd

    def fail(*a, **k):
        raise sd.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sd, "query_devices", fail)
    monkeypatch.setattr(sd, "OutputStream", fail)


def dominant(audio, t0: float, t1: float) -> float:
    """The strongest frequency (Hz) of the audio between t0 and t1 seconds."""
    x = audio.samples.mean(axis=1) if audio.samples.ndim == 2 else audio.samples
    x = x[int(t0 * audio.sample_rate):int(t1 * audio.sample_rate)]
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    return float(np.fft.rfftfreq(8 * len(x), 1.0 / audio.sample_rate)[spec.argmax()])


def arrival(audio, hz: float) -> float:
    """When ``hz`` first dominates the sound (to 20 ms)."""
    for t in np.arange(0.0, audio.duration - 0.1, 0.02):
        if abs(dominant(audio, t, t + 0.1) / hz - 1) < 0.03:
            return float(t)
    raise AssertionError(f"{hz} Hz never dominates")


def band_energy(audio, lo: float, hi: float) -> float:
    x = audio.samples.mean(axis=1)
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / audio.sample_rate)
    return float(spec[(f >= lo) & (f < hi)].sum() / spec.sum())


def playing_audio(window):
    from model.api import Audio

    return Audio(window.player.samples, window.player.sample_rate)


def test_half_tempo_plays_the_passage_twice_as_long_at_the_same_pitch(window, run_job, held, qtbot):
    run_job(lambda: window.open_file(held))
    run_job(lambda: window.translate("audio"))
    plain = playing_audio(window)
    plain_bars = window.bars()
    assert [b.number for b in plain_bars] == ["1"] and plain_bars[0].end == pytest.approx(2.0)
    bar = window.practice_bar
    assert bar.tempo.isEnabled() and bar.tempo.value() == 100
    run_job(lambda: bar.tempo.setValue(50))
    assert window.rehearsal is not None and window.last_error is None
    slow = playing_audio(window)
    assert slow.duration - plain.duration == pytest.approx(2.0, abs=0.02)       # 2 s of music became 4 s
    assert arrival(slow, 659.26) == pytest.approx(2 * arrival(plain, 659.26), abs=0.1)   # E5: twice as late
    a_plain, a_slow = dominant(plain, 0.1, 0.6), dominant(slow, 0.2, 1.2)
    assert a_plain == pytest.approx(440.0, rel=0.01) and a_slow == pytest.approx(a_plain, rel=0.005)
    # the panes, the ruler and the score follow the scaled time
    assert window.roll.data.duration == pytest.approx(4.0, abs=0.01)
    assert window.wave.data.duration == pytest.approx(slow.duration)
    assert window.bars()[0].end == pytest.approx(4.0) and window.rulers[0].bars[0].end == pytest.approx(4.0)
    assert window.roll.plot.getViewBox().viewRange()[0][1] >= 4.0
    notes = window.roll.data.notes
    assert notes[1, 0] == pytest.approx(2.0) and notes[1, 2] == 76           # E5 at 2 s, same pitch
    window.seek(3.0)                                                          # 3 s at 50% is 1.5 s of music
    assert window.score.engraved._playing == 0
    run_job(lambda: bar.tempo.setValue(200))                                  # and faster: half the time
    fast = playing_audio(window)
    assert plain.duration - fast.duration == pytest.approx(1.0, abs=0.02)
    assert window.position == pytest.approx(3.0 * 0.5 / 2.0, abs=0.01)       # the same place in the music
    bar.as_written()                                                          # back: the audio as made
    assert window.rehearsal is None and window.player.samples is window.objects[Modality.AUDIO].samples


def test_a_cancelled_rehearsal_leaves_the_controls_on_what_plays(window, run_job, samples, qtbot):
    run_job(lambda: window.open_file(samples / "long.mid"))
    bar = window.practice_bar
    with qtbot.waitSignal(window.jobFinished, timeout=30_000):
        bar.tempo.setValue(25)
        qtbot.waitUntil(lambda: window.busy() and window.job.name == "rehearse", timeout=5000)
        assert window.progress.isVisible() and window.cancel_button.isVisible()
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    assert window.rehearsal is None and "Cancelled" in window.statusBar().currentMessage()
    assert bar.tempo.value() == 100 and window.practice.plain() and window.settings.tempo_percent == 100


def test_transposition_is_heard_shown_and_exported(window, run_job, held, samples, tmp_path):
    from music21 import converter

    from model.api import load

    run_job(lambda: window.open_file(samples / "study.musicxml"))
    run_job(lambda: window.translate("midi"))
    plain_roll = window.roll.data.notes.copy()
    written = sorted(n.pitch for i in window.objects[Modality.MIDI].pm.instruments for n in i.notes)
    run_job(lambda: window.practice_bar.transpose.setValue(3))
    assert window.rehearsal.engraved is not None                              # the score is engraved again
    assert window.score._sets["engraved"] is window.rehearsal.engraved
    np.testing.assert_array_equal(window.roll.data.notes[:, 2], plain_roll[:, 2] + 3)
    run_job(lambda: window.export_to(tmp_path / "up.mid"))
    assert "transposed +3" in window.statusBar().currentMessage()
    exported = sorted(n.pitch for i in load(tmp_path / "up.mid").pm.instruments for n in i.notes)
    assert exported == [p + 3 for p in written]
    run_job(lambda: window.export_to(tmp_path / "up.musicxml"))
    score = converter.parse(str(tmp_path / "up.musicxml"))
    assert sorted(p.midi for p in score.pitches) == sorted(p.midi + 3 for p in converter.parse(
        str(samples / "study.musicxml")).pitches)
    run_job(lambda: window.open_file(held))                                   # audio: A4 is heard as C5
    run_job(lambda: window.export_to(tmp_path / "up.wav"))
    assert dominant(load(tmp_path / "up.wav"), 0.1, 0.6) == pytest.approx(523.25, rel=0.01)
    assert (samples / "study.musicxml").stat().st_size > 0 and window.last_error is None


def test_export_as_heard_writes_what_plays_and_export_stays_as_written(window, run_job, samples, tmp_path):
    """At 50% with the left hand muted: File ▸ Export audio as heard writes that sound (twice as long, no
    left hand); Export writes MIDI and audio at the written tempo with both hands, and says so. Transposed
    just before, with no rehearsal made yet, the sound as heard is made for the export."""
    from model.api import load

    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.translate("audio"))
    plain = playing_audio(window)
    bar = window.practice_bar
    assert window.heard_action.isEnabled()
    run_job(lambda: bar.tempo.setValue(50))
    run_job(lambda: bar.part_actions()[1].setChecked(False))
    run_job(lambda: window.export_heard_to(tmp_path / "heard.wav"))
    assert "as heard: 50% tempo, Piano (lower) muted" in window.statusBar().currentMessage()
    heard = load(tmp_path / "heard.wav")
    assert heard.duration == pytest.approx(window.rehearsal.audio.duration, abs=0.05)
    assert heard.duration > 1.8 * plain.duration - 2.0                        # the music takes twice as long
    assert band_energy(heard, 60, 400) < 0.1 * band_energy(plain, 60, 400)    # the left hand is not heard
    run_job(lambda: window.export_to(tmp_path / "written.wav", confirm=False))
    assert "at the written tempo with every part" in window.statusBar().currentMessage()
    written = load(tmp_path / "written.wav")
    assert written.duration == pytest.approx(plain.duration, abs=0.1)
    assert band_energy(written, 60, 400) > 0.5 * band_energy(plain, 60, 400)
    run_job(lambda: window.export_to(tmp_path / "written.mid", confirm=False))
    notes = [n for i in load(tmp_path / "written.mid").pm.instruments for n in i.notes]
    assert len(notes) == sum(len(i.notes) for i in window.objects[Modality.MIDI].pm.instruments)
    end = window.objects[Modality.MIDI].pm.get_end_time()
    assert max(n.end for n in notes) == pytest.approx(end, abs=0.01)
    bar.transpose.setValue(12)                                # not made yet: the export makes it
    run_job(lambda: window.export_heard_to(tmp_path / "octave.flac"))
    octave = load(tmp_path / "octave.flac")
    assert heard.duration == pytest.approx(octave.duration, abs=0.3)
    assert dominant(octave, 0.2, 1.0) == pytest.approx(2 * dominant(heard, 0.2, 1.0), rel=0.02)
    window.export_heard_to(tmp_path / "heard.mid")
    assert "WAV or FLAC" in window.last_error


def test_a_recording_alone_cannot_be_slowed_or_transposed_and_says_why(window, run_job, samples, dialogs,
                                                                        tmp_path):
    from unimt_desktop.rehearsal import NEEDS_NOTES

    run_job(lambda: window.open_file(samples / "study.wav"))
    bar = window.practice_bar
    assert not bar.tempo.isEnabled() and bar.tempo.toolTip() == NEEDS_NOTES
    window.practice = type(window.practice)(1.0, 2)            # as if remembered from another piece
    run_job(lambda: window.export_to(tmp_path / "up.wav"))
    assert len(dialogs.warnings) == 1 and "translate it to MIDI first" in dialogs.warnings[0]
    assert not (tmp_path / "up.wav").exists()


def test_muting_the_left_hand_takes_its_notes_out_of_what_plays(window, run_job, samples):
    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.translate("audio"))
    plain = playing_audio(window)
    parts = window.practice_bar.part_actions()
    assert [a.text() for a in parts] == ["Piano (upper)", "Piano (lower)"]
    run_job(lambda: parts[1].setChecked(False))
    played = window.rehearsal.midi.pm
    pitches = [n.pitch for i in played.instruments for n in i.notes]
    assert pitches and min(pitches) >= 60                    # the left hand's chords (C3-D4) are gone
    assert sorted(pitches) == sorted(n.pitch for n in window.objects[Modality.MIDI].pm.instruments[0].notes)
    assert set(window.roll.data.notes[:, 4]) == {0.0}        # the roll shows the hand that plays
    muted = playing_audio(window)
    assert band_energy(muted, 60, 400) < 0.1 * band_energy(plain, 60, 400)     # and it is not heard
    assert "Piano (lower) muted" in window.statusBar().currentMessage()


def test_a_soloed_part_is_the_only_one_heard(window, run_job, samples):
    """Solo the left hand: only its notes are played again and heard; solo both hands: everything; a muted
    part stays silent when soloed; the solo is kept when the sound is made again."""
    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.translate("audio"))
    plain = playing_audio(window)
    bar = window.practice_bar
    solos = bar.solo_actions()
    assert [a.text() for a in solos] == ["Solo Piano (upper)", "Solo Piano (lower)"]
    assert not any(a.isChecked() for a in solos) and all(a.isChecked() for a in bar.part_actions())
    run_job(lambda: solos[1].setChecked(True))
    lower = sorted(n.pitch for n in window.objects[Modality.MIDI].pm.instruments[1].notes)
    played = sorted(n.pitch for i in window.rehearsal.midi.pm.instruments for n in i.notes)
    assert played == lower and max(played) < 60             # the right hand (C5-C6) is not played
    assert set(window.roll.data.notes[:, 4]) == {1.0}        # the roll shows the hand that plays
    solo = playing_audio(window)
    # the right hand's fundamentals (C5-C6, 523-1047 Hz) are gone (the left hand's harmonics stay there);
    # the left hand's (C3-D4) are all there
    assert band_energy(solo, 500, 1100) < 0.35 * band_energy(plain, 500, 1100)
    assert band_energy(solo, 60, 300) > band_energy(plain, 60, 300)
    assert "Piano (lower) solo" in window.statusBar().currentMessage()
    assert bar.parts_button.text() == "Parts: solo"
    run_job(lambda: solos[0].setChecked(True))               # both soloed: both heard
    both = sorted(n.pitch for i in window.rehearsal.midi.pm.instruments for n in i.notes)
    assert both == sorted(n.pitch for i in window.objects[Modality.MIDI].pm.instruments for n in i.notes)
    assert band_energy(playing_audio(window), 500, 1100) > 0.5 * band_energy(plain, 500, 1100)
    run_job(lambda: bar.part_actions()[0].setChecked(False))  # muted and soloed: muted wins
    assert sorted(n.pitch for i in window.rehearsal.midi.pm.instruments for n in i.notes) == lower
    assert (window.practice.muted, window.practice.soloed) == ({0}, {0, 1})
    run_job(lambda: bar.tempo.setValue(50))                  # made again at another tempo: the solo stays
    assert sorted(n.pitch for i in window.rehearsal.midi.pm.instruments for n in i.notes) == lower
    assert [a.isChecked() for a in bar.solo_actions()] == [True, True]
    bar.part_actions()[0].setChecked(True)
    for a in bar.solo_actions():
        a.setChecked(False)
    bar.as_written()
    assert window.practice.plain() and window.rehearsal is None and bar.parts_button.text() == "Parts"


def test_loop_of_bars_two_to_three_goes_back_to_bar_two(silent, window, run_job, chorale, qtbot):
    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("audio"))
    bar = window.practice_bar
    assert [bar.loop_from.itemText(i) for i in range(3)] == ["0", "1", "2"]
    bar.choose_bars("2", "3")
    bars = {b.number: b for b in window.bars()}
    start, end = bars["2"].start, bars["3"].end
    sr = window.player.sample_rate
    assert window.player.loop == (int(start * sr), int(end * sr))
    assert window.position == pytest.approx(start, abs=1e-3)           # it went to bar 2
    window.seek(end - 0.3)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.position < bars["3"].start, timeout=5000)   # round the loop
    assert start <= window.position < start + 1.0
    assert window.score.engraved.numbers[window.score.engraved._playing] == "2"
    window.toggle_play()
    run_job(lambda: bar.tempo.setValue(50))                            # slower: the same bars, twice as long
    assert window.player.loop == (int(2 * start * sr), int(2 * end * sr))
    window.loop_action.trigger()                                       # the view loop replaces the bar loop
    assert not bar.loop.isChecked()


def ruler_point(plot, axis, t: float):
    """The point of ``plot``'s viewport on its bar ruler ``axis`` at playing time ``t``."""
    from PySide6.QtCore import QPointF

    x = plot.getViewBox().mapViewToScene(QPointF(t, 0)).x()
    strip = axis.mapRectToScene(0, 0, axis.width(), axis.height())      # the ruler, not its bar lines
    return plot.mapFromScene(QPointF(x, strip.center().y()))


def mouse_drag(qtbot, widget, a, b, steps: int = 8) -> None:
    """Press at ``a``, move to ``b`` with the left button held, release: a real drag."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    qtbot.wait(QApplication.doubleClickInterval() + 50)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, steps + 1):
        p = QPointF(a + (b - a) * (k / steps))
        QApplication.sendEvent(widget, QMouseEvent(QEvent.Type.MouseMove, p, widget.mapToGlobal(p),
                                                   Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def test_dragging_across_bars_on_the_ruler_loops_them(silent, window, run_job, chorale, qtbot):
    """Drag on the roll's ruler from inside bar 3 to inside bar 4: bars 3 to 4 loop (snapped to their bar
    lines, the same choice as the Loop bars boxes) and playing goes round them; a drag backwards on the
    waveform's ruler chooses bars 1 to 2."""
    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("audio"))
    bars = {b.number: b for b in window.bars()}
    plot, axis = window.roll.plot, window.rulers[0]
    view_before = plot.getViewBox().viewRange()[0]
    a = ruler_point(plot, axis, bars["3"].start + 0.3 * (bars["3"].end - bars["3"].start))
    b = ruler_point(plot, axis, bars["4"].start + 0.6 * (bars["4"].end - bars["4"].start))
    mouse_drag(qtbot, plot.viewport(), a, b)
    bar = window.practice_bar
    assert bar.loop.isChecked() and (bar.loop_from.currentText(), bar.loop_to.currentText()) == ("3", "4")
    sr = window.player.sample_rate
    assert window.player.loop == (int(bars["3"].start * sr), int(bars["4"].end * sr))
    assert plot.getViewBox().viewRange()[0] == pytest.approx(view_before)    # the drag did not pan the roll
    assert all(r.isVisible() and r.getRegion() == pytest.approx((bars["3"].start, bars["4"].end))
               for r in window.loop_regions)
    window.seek(bars["4"].end - 0.3)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.position < bars["4"].start, timeout=5000)   # round the loop: bar 3
    assert bars["3"].start - 1e-3 <= window.position < bars["3"].end
    window.toggle_play()
    wave = window.wave.wave_plot
    a = ruler_point(wave, window.rulers[1], bars["2"].start + 0.5)
    b = ruler_point(wave, window.rulers[1], bars["1"].start + 0.2)
    mouse_drag(qtbot, wave.viewport(), a, b)
    assert (bar.loop_from.currentText(), bar.loop_to.currentText()) == ("1", "2")
    assert window.player.loop == (int(bars["1"].start * sr), int(bars["2"].end * sr))


def test_bars_three_to_four_chosen_in_the_score_loop_and_play(silent, window, run_job, chorale, qtbot):
    """Click printed bar 3 in the score, Shift+click bar 4: bars 3 to 4 loop; played from the end of bar 4 it
    goes back to bar 3 and the score lights bar 3."""
    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("audio"))
    view = window.score.engraved
    qtbot.waitUntil(view.pages_loaded)

    def click(number: str, shift: bool = False) -> None:
        r = view.measure_rect(view.numbers.index(number))
        view.ensureVisible(r)
        mod = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        qtbot.wait(300)
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, mod, view.mapFromScene(r.center()))
    bars = {b.number: b for b in window.bars()}
    click("3")
    assert window.position == pytest.approx(bars["3"].start, abs=1e-3)      # a click plays from the bar
    click("4", shift=True)
    bar = window.practice_bar
    assert bar.loop.isChecked() and (bar.loop_from.currentText(), bar.loop_to.currentText()) == ("3", "4")
    sr = window.player.sample_rate
    assert window.player.loop == (int(bars["3"].start * sr), int(bars["4"].end * sr))
    window.seek(bars["4"].end - 0.3)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.position < bars["4"].start, timeout=5000)   # round the loop
    assert bars["3"].start - 1e-3 <= window.position < bars["3"].end
    qtbot.waitUntil(lambda: view.numbers[view._playing] == "3", timeout=2000)
    window.toggle_play()


def test_count_in_clicks_one_bar_before_playing(silent, window, run_job, chorale, qtbot):
    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("audio"))
    window.practice_bar.count_in.setChecked(True)
    assert window.settings.count_in
    window.seek(0.0)                              # from the pickup: it counts the full bar after it
    window.toggle_play()
    player = window.player
    assert player.counting_in()
    clicks, sr = player.count_in, player.sample_rate
    bar = window.bars()[1].end - window.bars()[1].start
    assert len(clicks) / sr == pytest.approx(bar, abs=1e-3)            # one bar of 4/4 (at 96 a minute)
    loud = np.flatnonzero(np.abs(clicks[:, 0]) > 0.3)
    onsets = loud[np.r_[True, np.diff(loud) > 0.1 * sr]]
    assert len(onsets) == 4 and np.allclose(np.diff(onsets) / sr, bar / 4, atol=0.01)   # one a beat
    qtbot.wait(300)
    assert player.counting_in() and window.position == 0.0     # the playhead waits for the clicks
    window.toggle_play()
    run_job(lambda: window.practice_bar.tempo.setValue(50))
    window.seek(window.bars()[3].start)
    window.toggle_play()
    assert len(player.count_in) / sr == pytest.approx(2 * bar, abs=1e-3)
    window.toggle_play()


def test_the_ruler_counts_bars_and_beats_on_both_panes(window, run_job, chorale, qtbot):
    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("all"))
    roll_axis, wave_axis = window.rulers
    assert roll_axis.isVisible() and wave_axis.isVisible()
    view = window.score.engraved
    bars, times = window.bars(), list(view.times)
    assert [b.start for b in bars[:len(view.times)]] == pytest.approx(view.times[:len(bars)])

    def ticks(axis):
        (x0, x1), size = axis.linkedView().viewRange()[0], axis.width()
        levels = axis.tickValues(x0, x1, size)
        return [(list(v), axis.tickStrings(v, 1, s)) for s, v in levels]

    whole = ticks(roll_axis)
    assert whole == ticks(wave_axis)                        # one ruler on the shared axis
    values, labels = whole[0]
    assert values[:3] == pytest.approx([b.start for b in bars[:3]])
    assert labels[:4] == ["0", "1", "2", "3"]              # printed numbers, pickup included
    window.roll.plot.setXRange(bars[2].start, bars[3].end, padding=0)     # two bars: the beats show
    qtbot.wait(50)
    zoomed = ticks(roll_axis)
    assert len(zoomed) == 2 and zoomed == ticks(wave_axis)
    assert {"2.2", "2.3", "2.4", "3.2"} <= set(zoomed[1][1])
    assert zoomed[1][0][0] == pytest.approx(bars[2].beats[1][0])
    run_job(lambda: window.practice_bar.tempo.setValue(50))
    assert roll_axis.bars[2].start == pytest.approx(2 * bars[2].start)
    assert view.times[2] == pytest.approx(2 * times[2])


def test_practice_settings_are_remembered_and_fit_the_smallest_window(window, qtbot):
    from PySide6.QtWidgets import QToolButton

    from unimt_desktop.mainwindow import MIN_SIZE, MainWindow

    bar = window.practice_bar
    bar.tempo.setValue(75)
    bar.transpose.setValue(-2)
    bar.count_in.setChecked(True)
    window.save_state()
    again = MainWindow()
    qtbot.addWidget(again)
    assert (again.practice_bar.tempo.value(), again.practice_bar.transpose.value()) == (75, -2)
    assert again.practice_bar.transpose.text() == "−2" and again.practice_bar.count_in.isChecked()
    assert (again.practice.tempo, again.practice.semitones) == (0.75, -2)
    again.show()
    again.practice_bar.set_parts(["Soprano", "Alto", "Tenor", "Bass"], muted={3})   # the widest Parts button
    assert again.practice_bar.parts_button.text() == "Parts: muted"
    again.resize(*MIN_SIZE)
    qtbot.wait(100)
    ext = again.practice_bar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert ext is None or not ext.isVisible()
    for action in again.practice_bar.actions():
        w = again.practice_bar.widgetForAction(action)
        assert w is None or action.isSeparator() or w.isVisible(), action.text()
    again.shutdown()
