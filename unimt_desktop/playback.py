"""The window's transport: play, pause, stop, loop and seek, and one position every pane follows.

Without an audio output the player plays silently on a clock; the status bar says so in words.
"""

from __future__ import annotations

from PySide6.QtWidgets import QStyle

from unimt_desktop import timeaxis
from unimt_desktop.panes.common import fmt_time

SILENT = "No audio output found: playing silently"
SILENT_TIP = ("This computer has no sound output that unimt can use (no sound card, or it is busy or "
              "muted by the system). Playback still runs: the playhead moves through the score, the piano "
              "roll and the waveform. Connect speakers or headphones and restart unimt to hear it.")


class PlaybackMixin:
    """Playback for :class:`unimt_desktop.mainwindow.MainWindow` (its player, panes and actions)."""

    def _check_audio(self) -> None:
        """Find out (after the window is up) whether there is an audio output; say so when there is none."""
        if not self.player.has_output():
            self._say_silent()

    def _say_silent(self) -> None:
        self.audio_label.setText(SILENT)
        self.audio_label.setToolTip(SILENT_TIP)
        self.audio_label.show()

    def toggle_play(self) -> None:
        if self.player.playing:
            self.player.pause()
        elif self.wants_rehearsal():     # another tempo, key or parts: play once it is made
            self._play_after = True
            self.rehearse()
        elif self.player.has_audio():
            self.start_playing()         # (after a count-in when it is on)
        elif self.objects and not self.busy():
            self._play_after = True
            self.translate("audio")

    def stop_playback(self) -> None:
        self.player.pause()
        self.seek(0.0)

    def toggle_loop(self) -> None:
        if self.loop_action.isChecked():
            self.practice_bar.loop.setChecked(False)    # one loop at a time: the view, not the bars
            vb = (self.wave.wave_plot if self.wave.has_content() else self.roll.plot).getViewBox()
            x0, x1 = vb.viewRange()[0]
            self.player.set_loop(max(0.0, x0), x1)
            self.statusBar().showMessage(f"Looping {fmt_time(max(0.0, x0))} to {fmt_time(x1)}.", 5000)
        else:
            self.player.set_loop(None)

    def seek(self, t: float) -> None:
        if self.player.has_audio():
            self.player.seek(t)
        else:
            self._position_changed(t)

    def _position_changed(self, t: float) -> None:
        self.position = t
        if self.player.playing:
            timeaxis.follow(self.roll, self.wave, t)
        self.roll.set_position(t)
        self.wave.set_position(t)
        self.score.set_position(t, follow=self.player.playing)
        self.time_label.setText(fmt_time(t))

    def _play_state(self, playing: bool) -> None:
        SP = QStyle.StandardPixmap
        self.play_action.setIcon(self.style().standardIcon(SP.SP_MediaPause if playing else SP.SP_MediaPlay))
        self.play_action.setText("Pause" if playing else "Play")
