"""Issue 22, the app as a musician's workbench: playback without a sound card, printed bar numbers,
honest states and a layout that keeps every control reachable. The real window, offscreen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from model.api import Modality


@pytest.fixture(scope="session")
def chorale(tmp_path_factory):
    """Bach's chorale BWV 66.6 from the music21 corpus: it starts with a one-beat pickup (bar 0)."""
    from music21 import corpus

    path = tmp_path_factory.mktemp("chorale") / "bwv66.6.musicxml"
    corpus.parse("bach/bwv66.6").write("musicxml", fp=str(path))
    return path


def _no_device(*a, **k):
    import sounddevice as sd

    raise sd.PortAudioError("Error querying device -1")


@pytest.fixture(params=["no device", "stream fails"])
def no_sound_card(request, monkeypatch):
    """A machine without a sound card: PortAudio finds no output, or finds one that will not open."""
    import sounddevice as sd

    if request.param == "no device":
        monkeypatch.setattr(sd, "query_devices", _no_device)
    else:
        monkeypatch.setattr(sd, "query_devices", lambda *a, **k: {"name": "a card that is not there"})
    monkeypatch.setattr(sd, "OutputStream", _no_device)
    return request.param


def _heads(window) -> dict[str, float]:
    return {"score": window.score.position, "roll": window.roll.playhead.value(),
            "waveform": window.wave.playheads[0].value()}


def test_silent_clock_plays_through_all_three_panes(no_sound_card, window, run_job, chorale, qtbot):
    from unimt_desktop.playback import SILENT

    run_job(lambda: window.open_file(chorale))
    assert window.play_action.isEnabled()          # Play is never greyed out for want of a sound card
    run_job(lambda: window.play_action.trigger())  # Play first makes the performance, then plays it
    assert Modality.AUDIO in window.objects and Modality.MIDI in window.objects
    assert window.player.playing and window.player.silent
    assert window.audio_label.isVisible() and window.audio_label.text() == SILENT
    assert "Error" not in window.audio_label.toolTip() and "-1" not in window.audio_label.toolTip()
    start = _heads(window)
    qtbot.wait(1000)
    now = _heads(window)
    for pane in now:
        assert 0.5 < now[pane] - start[pane] < 6.0, (pane, start, now)
    assert window.score.engraved._playing >= 1     # the pickup (0.625 s) is over: bar 1 is lit
    assert window.time_label.text() != "0:00.0"

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.roll.plot, Qt.Key.Key_Space)   # Space pauses: the playhead stops where it is
    assert not window.player.playing
    paused = _heads(window)
    qtbot.wait(300)
    assert _heads(window) == paused
    qtbot.keyClick(window.score.engraved, Qt.Key.Key_Space)   # and plays on, silently again
    assert window.player.playing and window.player.silent
    qtbot.wait(300)
    assert window.roll.playhead.value() > paused["roll"]


def test_silent_loop_and_end_of_piece(no_sound_card, window, run_job, chorale, qtbot):
    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("audio"))
    player = window.player
    player.set_loop(1.0, 1.4)
    window.seek(1.0)
    window.toggle_play()
    qtbot.wait(900)
    assert player.playing and 1.0 <= player.position() <= 1.4     # went round the loop at least twice
    player.set_loop(None)
    window.seek(player.duration() - 0.2)
    qtbot.waitUntil(lambda: not player.playing, timeout=3000)    # stops by itself at the end
    assert player.position() == pytest.approx(player.duration(), abs=0.05)


def _click_measure(qtbot, view, i: int) -> None:
    from PySide6.QtCore import QPoint

    r = view.measure_rect(i)
    view.ensureVisible(r)
    pt = view.mapFromScene(r.center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pt.x(), pt.y()))


@pytest.mark.parametrize("no_sound_card", ["no device"], indirect=True)
def test_bar_numbers_follow_the_printed_numbering(no_sound_card, window, run_job, chorale, qtbot):
    """BWV 66.6 opens with a one-beat pickup, printed as bar 0: the next bar is printed bar 1. With audio
    loaded a click seeks through the player, whose position is a whole sample: a bar starting between two
    samples must still be the one lit (it used to light the bar before)."""
    run_job(lambda: window.open_file(chorale))
    view = window.score.engraved
    qtbot.waitUntil(lambda: view.pages_loaded() >= 1)
    assert view.numbers[:4] == ["0", "1", "2", "3"]
    window.seek(0.2)
    assert "measure 0" in window.score.info.text()          # the pickup is bar 0, not "measure 1"
    run_job(lambda: window.translate("audio"))              # seeking now goes through the player
    for printed in ("2", "4", "1"):
        i = view.numbers.index(printed)
        _click_measure(qtbot, view, i)
        assert window.position == pytest.approx(view.times[i], abs=1e-3)
        assert view._playing == i, (printed, view._playing)
        assert f"measure {printed}" in window.score.info.text()
    window.seek(view.times[4] + 1.0)                         # inside printed bar 4
    assert "measure 4" in window.score.info.text()


@pytest.fixture
def no_model(monkeypatch, tmp_path):
    """No weights anywhere: as on a fresh install."""
    import model.inference.weights as weights

    monkeypatch.setenv("UNIMT_WEIGHTS", str(tmp_path / "nowhere"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(weights, "PACKAGED_WEIGHTS", tmp_path / "not-shipped")


def _developer_words(text: str) -> list[str]:
    return [w for w in ("--", "/", "\\\\", "UNIMT_", "weights", "Error", "pass ") if w in text]


def test_a_scan_without_a_model_says_so_in_words_and_offers_only_what_can_be_made(
    no_model, window, run_job, samples, dialogs, qtbot, tmp_path
):
    run_job(lambda: window.open_file(samples / "study.png"))
    banner = window.banner
    assert banner.isVisibleTo(window) and "No model installed" in banner.text()
    assert "Reading score images" in banner.text()
    assert _developer_words(banner.text().replace("</b>", "")) == [], banner.text()
    assert _developer_words(banner.toolTip()) == []
    # Export offers the pages (PDF, PNG, SVG) and nothing the missing model would have to make
    assert window.exportable() == [Modality.IMAGE]
    offered = window.export_filter()
    assert "PDF" in offered and "PNG" in offered and "SVG" in offered
    assert "MusicXML" not in offered and "MIDI" not in offered and "audio" not in offered
    assert not window.play_action.isEnabled()            # nothing to play without the model
    assert window.export_to(tmp_path / "scan.mid") is False
    assert len(dialogs.warnings) == 1 and _developer_words(dialogs.warnings[0]) == [], dialogs.warnings
    run_job(lambda: window.export_to(tmp_path / "scan.pdf"))
    assert (tmp_path / "scan.pdf").stat().st_size > 100
    run_job(lambda: window.translate("midi"))            # forced anyway: one message, in words
    assert len(dialogs.warnings) == 2 and "model" in dialogs.warnings[1]
    assert _developer_words(dialogs.warnings[1]) == [], dialogs.warnings[1]
    # the banner can be closed, stays closed for this file, and comes back for the next
    qtbot.mouseClick(banner.close_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisibleTo(window)
    window._update_actions()
    assert not banner.isVisibleTo(window)
    run_job(lambda: window.open_file(samples / "study.png"))
    assert banner.isVisibleTo(window)


def test_model_device_is_cleared_when_no_model_ran(window, run_job, samples):
    window._show_device("cpu")                            # as after a scan read on the CPU
    assert "ran on: CPU" in window.device_label.text()
    run_job(lambda: window.open_file(samples / "study.musicxml"))
    assert "ran on" not in window.device_label.text()
    window._show_device("cpu")
    run_job(lambda: window.translate("midi"))             # the quantiser-free route: no model step
    assert "ran on" not in window.device_label.text()


def test_about_shows_the_version_and_settings_are_under_edit(window, monkeypatch):
    from importlib.metadata import version

    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda parent, title, text: shown.append(text)))
    window.about()
    assert version("unimt") in shown[0]
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert window.settings_action in menus["Edit"].actions()
    assert window.settings_action not in menus["File"].actions()
    assert "Edit > Settings" in (__import__("pathlib").Path(__file__).parents[2] / "README.md").read_text()


def test_quit_with_unexported_results_asks(window, run_job, samples, dialogs, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    B = QMessageBox.StandardButton
    run_job(lambda: window.open_file(samples / "study.musicxml"))
    run_job(lambda: window.translate("midi"))
    assert window.unexported == {Modality.MIDI}
    for answer in (B.Cancel, B.No):
        dialogs.answer = answer
        assert window.close() is False
        assert window.isVisible()
    assert len(dialogs.questions) == 2 and "MIDI" in dialogs.questions[0]
    run_job(lambda: window.export_to(tmp_path / "study.mid"))
    assert window.unexported == set()
    dialogs.answer = B.Cancel
    assert window.close() is True and not window.isVisible()   # nothing unexported: no question
    assert len(dialogs.questions) == 2


def test_quit_discarding_unexported_results(window, run_job, samples, dialogs):
    from PySide6.QtWidgets import QMessageBox

    run_job(lambda: window.open_file(samples / "study.mid"))
    run_job(lambda: window.translate("audio"))
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.close() is True and not window.isVisible()
    assert len(dialogs.questions) == 1 and "audio" in dialogs.questions[0]


def _clipped(window) -> list[str]:
    """The controls that do not fit where they are: toolbar overflow, header widgets cut off."""
    from PySide6.QtWidgets import QToolButton

    bad = []
    ext = window.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    if ext is not None and ext.isVisible():
        bad.append("toolbar overflow")
    for action in window.toolbar.actions():
        w = window.toolbar.widgetForAction(action)
        if w is not None and action.isVisible() and not action.isSeparator() and not w.isVisible():
            bad.append(f"toolbar: {action.text()}")
    for pane in (window.score, window.roll, window.wave):
        header = pane.header
        for w in [pane.title, *pane.header_widgets]:
            cut = w.geometry().right() > header.width() or w.width() < w.minimumSizeHint().width()
            if w.isVisible() and cut:
                bad.append(f"{pane.title.text()}: {w.text() if hasattr(w, 'text') else type(w).__name__}")
    return bad


def test_the_smallest_window_keeps_every_control_reachable(window, run_job, samples, qtbot):
    """The busiest state (a scan beside its engraving, doubtful measures, roll, waveform and spectrogram)
    at the minimum size: nothing in the toolbar overflow, no header control cut off, Play in reach."""
    from types import SimpleNamespace

    from unimt_desktop.jobs import PageSet
    from unimt_desktop.mainwindow import MIN_SIZE

    run_job(lambda: window.open_file(samples / "study.musicxml"))
    run_job(lambda: window.translate("all"))
    page = window.score._sets["engraved"].pages[0]
    rec = SimpleNamespace(systems=[(0, (100, 200, 900, 400))], system_measures=[4],
                          measure_confidence=[0.95, 0.3, 0.99, 0.5])
    window.score.set_pages("scan", PageSet([page] * 3, 150))
    window.score._sets["engraved"].recognition = rec
    window.score.set_pages("engraved", window.score._sets["engraved"])
    window.wave.spec_button.setChecked(True)
    assert window.score.mode() == 2 and window.score.doubt_button.isVisibleTo(window)
    assert (window.minimumWidth(), window.minimumHeight()) == MIN_SIZE
    window.resize(600, 400)                      # asked smaller, it stays at the minimum
    qtbot.wait(100)
    assert (window.width(), window.height()) == MIN_SIZE
    assert _clipped(window) == []
    play = window.toolbar.widgetForAction(window.play_action)
    assert play.isVisible() and window.toolbar.rect().contains(play.geometry())
    for w in (window.score, window.roll, window.wave):
        assert w.width() >= 200 and w.height() >= 150, w


def test_thumbnails_stay_in_one_scrolling_column(window, run_job, samples, qtbot):
    from unimt_desktop.jobs import PageSet

    run_job(lambda: window.open_file(samples / "study.png"))
    page = window.score._sets["scan"].pages[0]
    window.score.set_pages("scan", PageSet([page] * 9, 150))
    thumbs = window.score.thumbs
    qtbot.waitUntil(lambda: thumbs.count() == 9)
    qtbot.wait(50)
    xs = {thumbs.visualItemRect(thumbs.item(i)).x() for i in range(9)}
    assert len(xs) == 1                                         # one column
    assert thumbs.verticalScrollBar().maximum() > 0             # that scrolls
    assert thumbs.horizontalScrollBar().maximum() == 0
    thumbs.scrollToItem(thumbs.item(8))
    assert thumbs.viewport().rect().intersects(thumbs.visualItemRect(thumbs.item(8)))


@pytest.mark.parametrize("no_sound_card", ["no device"], indirect=True)
def test_roll_and_waveform_share_one_time_axis(no_sound_card, window, run_job, chorale, qtbot):
    """The same range, the same left margin: the one playhead stands at the same x in both panes, zoomed
    out, zoomed in, and after a seek; playing zoomed in, the view turns the page to follow it."""
    from unimt_desktop.timeaxis import x_on_screen

    run_job(lambda: window.open_file(chorale))
    run_job(lambda: window.translate("all"))
    roll, wave = window.roll.plot, window.wave.wave_plot
    qtbot.wait(50)

    def same_x(t: float) -> None:
        window.seek(t)
        qtbot.wait(20)
        x_roll = x_on_screen(roll, window.roll.playhead.value())
        x_wave = x_on_screen(wave, window.wave.playheads[0].value())
        assert abs(x_roll - x_wave) <= 1.0, (t, x_roll, x_wave)
        assert roll.getViewBox().viewRange()[0] == pytest.approx(wave.getViewBox().viewRange()[0], abs=0.05)

    end = max(window.roll.data.duration, window.wave.data.duration)
    x0, x1 = roll.getViewBox().viewRange()[0]
    assert x0 <= 0.0 and end <= x1 <= end * 1.05          # the whole piece, not past it
    same_x(7.0)
    roll.setXRange(5.0, 9.0, padding=0)                    # zoom the roll: the waveform follows
    qtbot.wait(50)
    same_x(6.5)
    roll.getViewBox().scaleBy(x=100)                       # zooming out stops at the piece
    qtbot.wait(50)
    x0, x1 = roll.getViewBox().viewRange()[0]
    assert x0 >= -0.02 * end and x1 <= end * 1.03
    roll.setXRange(0.0, 2.0, padding=0)
    window.seek(1.5)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.position > 2.2, timeout=3000)
    qtbot.wait(100)
    x0, x1 = roll.getViewBox().viewRange()[0]
    assert x0 <= window.position <= x1                     # the view followed the playhead
    window.toggle_play()
    same_x(window.position)
