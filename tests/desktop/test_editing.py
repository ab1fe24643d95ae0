"""Corrections in place, in the real window (offscreen): notes edited in the piano roll change what Export
writes and the engraved score; undo and redo; a scan's measure beside the recognised bar; the score handed
to a notation editor."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def midi_notes(path) -> list[tuple]:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    return sorted((n.pitch, round(n.start, 3), round(n.end, 3), n.velocity) for i in pm.instruments
                  for n in i.notes)


def score_pitches(path) -> list[int]:
    import music21

    s = music21.converter.parse(str(path))
    return sorted(p.midi for n in s.recurse().notes for p in n.pitches)


def at(window, t: float, pitch: float) -> QPoint:
    """The point of the roll's viewport where time ``t`` and ``pitch`` are drawn."""
    plot = window.roll.plot
    scene = plot.getViewBox().mapViewToScene(QPointF(t, pitch))
    return plot.mapFromScene(scene)


def apart(qtbot) -> None:
    """Let a double-click's time pass, so two gestures in a row stay two gestures."""
    qtbot.wait(QApplication.doubleClickInterval() + 50)


def click_note(qtbot, window, row: int) -> None:
    s, e, p = window.roll.data.notes[row, :3]
    apart(qtbot)
    qtbot.mouseClick(window.roll.plot.viewport(), Qt.MouseButton.LeftButton, pos=at(window, (s + e) / 2, p))


def double_click(qtbot, widget, pos: QPoint) -> None:
    """What the system sends for a double-click: press, release, double-click, release."""
    apart(qtbot)
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(widget, Qt.MouseButton.LeftButton, pos=pos)      # (the double-click event alone)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)


def drag(qtbot, widget, a: QPoint, b: QPoint, steps: int = 8) -> None:
    """Press at ``a``, move to ``b`` with the button held, release: a real drag."""
    apart(qtbot)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, steps + 1):
        p = QPointF(a + (b - a) * (k / steps))
        ev = QMouseEvent(QEvent.Type.MouseMove, p, widget.mapToGlobal(p), Qt.MouseButton.NoButton,
                         Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, ev)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def settle(qtbot, window, timeout: int = 120_000) -> None:
    """Wait until no job runs and the score is written from the notes shown."""
    from model.api import Modality

    def done():
        take = window._take
        return not window.busy() and (take is None or not take.score_due) and \
            Modality.NOTATION in window.objects
    qtbot.waitUntil(done, timeout=timeout)


def export(run_job, window, path):
    run_job(lambda: window.export_to(path, confirm=False), timeout=120_000)
    assert path.exists()
    return path


@pytest.fixture
def score_and_midi(window, run_job, samples):
    from model.api import Modality

    run_job(lambda: window.open_file(samples / "study.musicxml"))
    run_job(lambda: window.translate("midi"), timeout=120_000)
    assert Modality.MIDI in window.objects and window.roll.data is not None
    return window


def test_an_edit_changes_the_export_and_the_score_and_undo_restores_it(
        score_and_midi, run_job, qtbot, tmp_path, dialogs):
    from model.api import Modality

    window = score_and_midi
    midi0, score0 = window.objects[Modality.MIDI], window.objects[Modality.NOTATION]
    before = midi_notes(export(run_job, window, tmp_path / "before.mid"))
    pitches0 = score_pitches(export(run_job, window, tmp_path / "before.musicxml"))
    assert len(before) == len(pitches0) == len(window.roll.data.notes)

    # delete: click a note, press Delete
    click_note(qtbot, window, 3)
    assert window.roll.selected == 3 and window.delete_note_action.isEnabled()
    gone = window.roll.data.notes[3]
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Delete)
    settle(qtbot, window)
    after = midi_notes(export(run_job, window, tmp_path / "deleted.mid"))
    assert len(after) == len(before) - 1
    assert (int(gone[2]), round(gone[0], 3)) not in [(p, s) for p, s, _, _ in after]
    pitches = score_pitches(export(run_job, window, tmp_path / "deleted.musicxml"))
    assert len(pitches) == len(pitches0) - 1
    assert window.objects[Modality.NOTATION] is not score0
    assert window.objects[Modality.NOTATION].score.metadata.bestTitle == "Little study"    # kept
    assert window.undo_action.isEnabled() and window.undo_action.text() == "&Undo Delete note"

    # move: select a note, Up twice: two semitones higher in the export and the score
    click_note(qtbot, window, 0)
    row = window.roll.selected
    start, pitch = float(window.roll.data.notes[row, 0]), int(window.roll.data.notes[row, 2])
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Up)
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Up)
    settle(qtbot, window)
    moved = midi_notes(export(run_job, window, tmp_path / "moved.mid"))
    at_start = [p for p, s, _, _ in moved if abs(s - start) < 1e-3]
    assert pitch + 2 in at_start and pitch not in at_start and len(moved) == len(after)
    pitches2 = score_pitches(export(run_job, window, tmp_path / "moved.musicxml"))
    assert pitches2.count(pitch + 2) == pitches.count(pitch + 2) + 1
    assert pitches2.count(pitch) == pitches.count(pitch) - 1 and len(pitches2) == len(pitches)

    # undo everything: the very objects loaded, and the same export
    for _ in range(3):
        window.undo_action.trigger()
    settle(qtbot, window)
    assert window.objects[Modality.MIDI] is midi0 and window.objects[Modality.NOTATION] is score0
    assert midi_notes(export(run_job, window, tmp_path / "undone.mid")) == before
    assert score_pitches(export(run_job, window, tmp_path / "undone.musicxml")) == pitches0
    assert not window.undo_action.isEnabled()

    # redo everything: the edits again
    for _ in range(3):
        window.redo_action.trigger()
    settle(qtbot, window)
    assert midi_notes(export(run_job, window, tmp_path / "redone.mid")) == moved
    assert dialogs.warnings == []


def test_the_score_written_after_an_edit_keeps_the_pickup_as_bar_zero(window, run_job, qtbot, tmp_path):
    """Bach's BWV 66.6 (music21 corpus) opens with a one-beat pickup, printed bar 0. After an edit in the roll
    the score is written again from the notes: the pickup is still bar 0, every bar keeps its number (the
    engraving, the ruler, the Loop bars boxes) and the exported score numbers its measures from 0."""
    import music21

    from model.api import Modality

    path = tmp_path / "bwv66.6.musicxml"
    music21.corpus.parse("bach/bwv66.6").write("musicxml", fp=str(path))
    run_job(lambda: window.open_file(path))
    run_job(lambda: window.translate("midi"), timeout=120_000)
    numbers = [b.number for b in window.bars()]
    starts = [b.start for b in window.bars()]
    assert numbers[:3] == ["0", "1", "2"]
    click_note(qtbot, window, 5)
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Up)
    settle(qtbot, window)
    assert window.undo_action.text() == "&Undo Move note" and window._take.views["bars:notation"]
    assert [b.number for b in window.bars()] == numbers
    assert [b.start for b in window.bars()] == pytest.approx(starts, abs=1e-3)
    assert window.score.engraved.numbers[:3] == ["0", "1", "2"]
    assert window.rulers[0].labels[round(starts[1], 6)] == "1"
    bar = window.practice_bar
    assert [bar.loop_from.itemText(i) for i in range(3)] == ["0", "1", "2"]
    written = export(run_job, window, tmp_path / "edited.musicxml")
    m0, m1 = list(music21.converter.parse(str(written)).parts[0].getElementsByClass("Measure"))[:2]
    assert (m0.number, m1.number) == (0, 1) and m0.duration.quarterLength == 1.0
    assert m0.getTimeSignatures()[0].ratioString == "4/4"
    assert Modality.NOTATION in window.objects


def test_drag_moves_and_lengthens_double_click_adds_and_velocity_sets(window, run_job, samples, qtbot,
                                                                      tmp_path, dialogs):
    from model.api import Modality, beat_at

    run_job(lambda: window.open_file(samples / "study.mid"))
    roll, vp = window.roll, window.roll.plot.viewport()
    n0 = len(roll.data.notes)
    beat = beat_at(window.bars(), 0.0)
    # drag a note one beat later and a tone up
    click_note(qtbot, window, 1)
    s, e, p = roll.data.notes[1, :3]
    drag(qtbot, vp, at(window, s + 0.3 * (e - s), p), at(window, s + 0.3 * (e - s) + beat, p + 2))
    assert window.undo_action.text() == "&Undo Move note"
    s2, e2, p2 = roll.data.notes[1, :3]
    assert (p2, s2, e2 - s2) == (p + 2, pytest.approx(s + beat), pytest.approx(e - s))
    # drag its right edge one beat further: longer by a beat
    drag(qtbot, vp, at(window, e2 - 0.01, p2), at(window, e2 + beat - 0.01, p2))
    assert window.undo_action.text() == "&Undo Lengthen note"
    assert roll.data.notes[1, 1] - roll.data.notes[1, 0] == pytest.approx(e - s + beat)
    # double-click on empty space: a note a beat long, there, and selected
    notes = roll.data.notes
    t = float(notes[:, 1].max()) - 1.5 * beat
    pitch = next(q for q in range(int(notes[:, 2].min()) + 1, 100)
                 if not any(n[0] <= t + 0.01 <= n[1] and n[2] == q for n in notes))
    double_click(qtbot, vp, at(window, t + 0.01, pitch))
    assert len(roll.data.notes) == n0 + 1 and roll.selected >= 0
    new = roll.data.notes[roll.selected]
    assert int(new[2]) == pitch and new[0] == pytest.approx(t, abs=beat / 4)
    assert new[1] - new[0] == pytest.approx(beat)
    # velocity: two steps of the box are one undo step
    roll.velocity.setValue(30)
    roll.velocity.setValue(31)
    assert int(roll.data.notes[roll.selected, 3]) == 31
    count = window.undo_stack.count()
    written = midi_notes(export(run_job, window, tmp_path / "edited.mid"))
    assert (pitch, 31) in [(q, v) for q, _, _, v in written] and len(written) == n0 + 1
    window.undo_action.trigger()
    assert int(roll.data.notes[roll.selected, 3]) == 80 and window.undo_stack.count() == count
    assert Modality.NOTATION not in window.objects      # a MIDI file: no score was asked for
    assert dialogs.warnings == []


def test_the_sound_is_made_again_after_an_edit(window, run_job, samples, qtbot):
    from model.api import Modality

    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.translate("audio"), timeout=120_000)
    audio = window.objects[Modality.AUDIO]
    click_note(qtbot, window, 2)
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Delete)
    assert Modality.AUDIO not in window.objects and not window.player.has_audio()
    assert window.wave.stale and "edited" in window.wave.info.text()
    run_job(window.toggle_play, timeout=120_000)      # Play makes the sound from the edited notes
    assert window.objects[Modality.AUDIO] is not audio and not window.wave.stale
    window.player.pause()
    window.undo_action.trigger()
    assert window.objects[Modality.AUDIO] is audio and not window.wave.stale


def test_edits_wait_for_the_music_as_written(score_and_midi, qtbot):
    window = score_and_midi
    window.practice_bar.transpose.setValue(3)
    qtbot.waitUntil(lambda: window.rehearsal is not None and not window.busy(), timeout=120_000)
    assert not window.roll.editable and not window.delete_note_action.isEnabled()
    click_note(qtbot, window, 0)
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Delete)
    assert window.undo_stack.count() == 0
    window.practice_bar.transpose.setValue(0)
    qtbot.waitUntil(lambda: window.rehearsal is None, timeout=10_000)
    assert window.roll.editable


def test_next_doubtful_selects_the_measure_and_shows_the_scan_beside_the_bar(window, run_job, samples, qtbot):
    """A score read from a scan (the scan: the study engraved; the recognition: where each measure is on it,
    and how sure the reader was)."""
    from types import SimpleNamespace

    import numpy as np

    from model.api import Modality, load
    from unimt_desktop import jobs
    from unimt_desktop.panes.measurecrop import crop

    run_job(lambda: window.open_file(samples / "study.png"))
    scan = window.score._sets["scan"].pages[0]
    boxes = jobs.views_for(load(samples / "study.musicxml"))["engraved"].measures   # where the bars are
    n = len(boxes)
    assert n >= 4
    xs0, ys0 = min(b[1] for b in boxes), min(b[2] for b in boxes)
    xs1, ys1 = max(b[3] for b in boxes), max(b[4] for b in boxes)
    notation = load(samples / "study.musicxml")
    notation.recognition = SimpleNamespace(
        systems=[(0, (xs0, ys0, xs1, ys1))], system_measures=[n],
        measure_confidence=[0.95, 0.3, 0.99, 0.5] + [0.9] * (n - 4),
        measure_boxes=[(p, (x0, y0, x1, y1)) for p, x0, y0, x1, y1 in boxes])
    views = jobs.views_for(notation)
    window._translated(jobs.Result({Modality.NOTATION: notation, "engraved": views.pop("_image")}, views))
    qtbot.waitUntil(lambda: len(window.score.scan.measure_rects) == n
                    and window.score.engraved.pages_loaded())
    score = window.score
    assert score.doubt_button.isVisibleTo(window) and not score.compare.isVisibleTo(window)

    for expected in (1, 3, 1):
        qtbot.mouseClick(score.doubt_button, Qt.MouseButton.LeftButton)
        assert score.selected_measure == expected
        mark = score.scan.mark_item
        assert mark.isVisible() and mark.rect() == score.scan.measure_rects[expected]
        assert score.engraved.mark_item.rect() == score.engraved.measure_rect(expected)
        assert score.compare.isVisibleTo(window)
        _, x0, y0, x1, y1 = boxes[expected]
        assert np.array_equal(score.compare.scan_crop, crop(scan, (x0, y0, x1, y1)))
        assert score.compare.read_crop is not None and score.compare.read_crop.size
        assert not score.compare.scan_label.pixmap().isNull()
        assert f"Measure {score.engraved.number(expected)}" in score.compare.caption.text()
    assert "30% sure" in score.compare.caption.text()

    # a click on a bar of the engraving selects it too, and the crop follows
    r = score.engraved.measure_rect(2)
    score.engraved.ensureVisible(r)
    qtbot.mouseClick(score.engraved.viewport(), Qt.MouseButton.LeftButton,
                     pos=score.engraved.mapFromScene(r.center()))
    assert score.selected_measure == 2
    _, x0, y0, x1, y1 = boxes[2]
    assert np.array_equal(score.compare.scan_crop, crop(scan, (x0, y0, x1, y1)))


class Handler(QObject):
    """A notation editor for the test: records the file it is handed."""

    def __init__(self):
        super().__init__()
        self.urls = []

    @Slot(QUrl)
    def open(self, url) -> None:
        self.urls.append(url)


def test_open_in_notation_editor(window, run_job, samples, dialogs):
    from PySide6.QtGui import QDesktopServices

    from model.api import Modality

    assert not window.editor_action.isEnabled() and "no score" in window.editor_action.toolTip()
    run_job(lambda: window.open_file(samples / "study.mid"))
    assert not window.editor_action.isEnabled()
    run_job(lambda: window.open_file(samples / "study.musicxml"))
    assert window.editor_action.isEnabled()

    # no program for MusicXML on this (offscreen) system: a message in words, no path, no flag
    run_job(window.editor_action.trigger)
    assert len(dialogs.warnings) == 1 and "MuseScore" in dialogs.warnings[0]
    assert "/" not in dialogs.warnings[0] and "--" not in dialogs.warnings[0]
    written = window.editor_file
    assert written.suffix == ".musicxml"
    assert score_pitches(written) == score_pitches(samples / "study.musicxml")

    # an editor registered for files: it gets the score, and no message
    handler = Handler()
    QDesktopServices.setUrlHandler("file", handler, "open")
    try:
        run_job(window.editor_action.trigger)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert len(dialogs.warnings) == 1 and len(handler.urls) == 1
    assert handler.urls[0].toLocalFile() == str(window.editor_file)
    assert Modality.NOTATION in window.objects and "notation editor" in window.statusBar().currentMessage()
