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
    assert window.statusBar().currentMessage().startswith(SILENT)
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
