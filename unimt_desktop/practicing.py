"""Practising in the window: another tempo, another key, parts muted (a rehearsal made again from the MIDI
off the GUI thread), a loop of chosen bars, a count-in, and the bar/beat ruler.

Times: the player, the roll, the waveform and the ruler all run in playing time, which is the piece's time
divided by the tempo (at 50% a bar lasts twice as long); the score's measures are retimed to match.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QTimer

from model.api import Modality
from unimt_desktop import rehearsal as rh
from unimt_desktop import ruler, timeaxis
from unimt_desktop.transport import PracticeBar
from unimt_desktop.workers import Worker

DEBOUNCE_MS = 350       # a spin box run up or down makes one rehearsal, not one per step


class PracticeMixin:
    """For :class:`unimt_desktop.mainwindow.MainWindow` (its player, panes, settings and jobs)."""

    def _build_practice(self) -> None:
        self.practice = rh.Practice(self.settings.tempo_percent / 100.0, self.settings.semitones)
        self.rehearsal: Optional[rh.Rehearsal] = None
        self._rehearsing: Optional[rh.Practice] = None    # what the running rehearsal job makes
        self.plain_views: dict = {}      # the panes' views as written: roll, wave, engraved
        self.bar_sets: dict = {}         # "notation" | "midi": the piece's bars (model.api.Bar), piece time
        self.practice_bar = bar = PracticeBar(self)
        bar.set_values(self.settings.tempo_percent, self.settings.semitones)
        bar.count_in.setChecked(self.settings.count_in)
        bar.changed.connect(self.practice_changed)
        bar.loopChanged.connect(self.apply_loop)
        bar.count_in.toggled.connect(lambda on: setattr(self.settings, "count_in", on))
        self.addToolBarBreak()
        self.addToolBar(bar)
        self.rulers = ruler.install(self.roll.plot, self.wave.wave_plot)
        self.loop_regions = ruler.loop_regions(self.roll.plot, self.wave.wave_plot)
        for axis in self.rulers:
            axis.barsDragged.connect(self.bars_dragged)
        self.score.barsChosen.connect(self.score_bars_chosen)
        self._practice_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self.rehearse)
        self.jobFinished.connect(self._practice_job_finished)

    # -- state
    def tempo(self) -> float:
        """The tempo of what the player holds (1.0: as written)."""
        return self.rehearsal.practice.tempo if self.rehearsal is not None else 1.0

    def bars(self) -> list:
        """The bars as they play now (playing time), from the score when it is the source, else the MIDI."""
        score_first = self.origin in (Modality.NOTATION, Modality.IMAGE)
        prefer = ("notation", "midi") if score_first else ("midi", "notation")
        piece = next((self.bar_sets[k] for k in prefer if self.bar_sets.get(k)), [])
        k = 1.0 / self.tempo()
        return [b.scaled(k) for b in piece] if k != 1.0 else list(piece)

    def can_rehearse(self) -> bool:
        return Modality.MIDI in self.objects or Modality.NOTATION in self.objects

    def reset_practice(self) -> None:
        """A new file: nothing made for the last one is kept; tempo and key stay as chosen."""
        self.rehearsal, self.plain_views, self.bar_sets = None, {}, {}
        self.practice = rh.Practice(self.practice.tempo, self.practice.semitones)
        self.practice_bar.set_parts([])
        self.practice_bar.set_bars([])
        self.practice_bar.loop.setChecked(False)

    def _update_practice_actions(self) -> None:
        have = any(isinstance(m, Modality) for m in self.objects)
        self.practice_bar.set_practice_enabled(have and self.can_rehearse(), rh.NEEDS_NOTES if have else "")
        self.practice_bar.set_loop_enabled(bool(self.bars()))
        self._update_edit_actions()

    # -- views (called after every load and translation)
    def views_applied(self, views: dict) -> None:
        for key in ("roll", "wave", "engraved"):
            if key in views:
                self.plain_views[key] = views[key]
        for key in ("notation", "midi"):
            if f"bars:{key}" in views:
                self.bar_sets[key] = views[f"bars:{key}"]
        if "roll" in views and self.rehearsal is None:
            self.practice_bar.set_parts(views["roll"].tracks, self.practice.muted, self.practice.soloed)
        if self.rehearsal is not None and ("roll" in views or "wave" in views
                                           or ("engraved" in views and self.practice.semitones)):
            self._play_as_written()    # what the rehearsal was made from changed: make it again
        self.retime()
        if not self.practice.plain() and self.can_rehearse():
            self._practice_timer.start()

    def retime(self) -> None:
        """Bars, the score's measures and the loop in playing time."""
        bars = self.bars()
        ruler.set_bars(self.rulers, bars)
        self.roll.plot.showGrid(x=not bars, y=False, alpha=0.15)     # bar lines rather than seconds
        self.practice_bar.set_bars([b.number for b in bars])
        ps = self.score._sets.get("engraved")
        if ps is not None and getattr(ps, "measure_times", None):
            k = 1.0 / self.tempo()
            self.score.engraved.set_measures(ps.measures, [t * k for t in ps.measure_times],
                                             [(t * k, i) for t, i in ps.play_order], ps.measure_numbers)
            self.score.set_position(self.position)
        self.apply_loop(seek=False)
        self._update_practice_actions()

    # -- tempo, transposition, parts
    def practice_changed(self) -> None:
        bar = self.practice_bar
        self.practice = rh.Practice(bar.tempo.value() / 100.0, bar.transpose.value(), bar.muted(),
                                    bar.soloed())
        self.settings.tempo_percent, self.settings.semitones = bar.tempo.value(), bar.transpose.value()
        if self.practice.plain():
            self._practice_timer.stop()
            if self.rehearsal is not None:
                self._play_as_written()
        elif self.can_rehearse():
            self._practice_timer.start()

    def rehearse(self) -> None:
        """Make the rehearsal for the practice chosen (unless it is made or being made)."""
        self._practice_timer.stop()
        want = self.practice
        if want.plain() or not self.can_rehearse():
            return
        if (self.rehearsal is not None and self.rehearsal.practice == want) or \
                (self._rehearsing == want and self.busy()):
            return
        if self.busy() and self.job.name != "rehearse":
            return      # after the running translation or export (_practice_job_finished)
        engrave = want.semitones != 0 and Modality.NOTATION in self.objects and not (
            self.rehearsal is not None and self.rehearsal.practice.semitones == want.semitones
            and self.rehearsal.engraved is not None)
        self._rehearsing = want
        what = [f"{round(want.tempo * 100)}%" if want.tempo != 1.0 else "",
                f"{want.semitones:+d} semitones" if want.semitones else "",
                f"{len(want.muted)} part{'s' if len(want.muted) > 1 else ''} muted" if want.muted else "",
                f"{len(want.soloed)} part{'s' if len(want.soloed) > 1 else ''} solo" if want.soloed else ""]
        self.statusBar().showMessage("Playing it again: " + ", ".join(w for w in what if w) + "…")
        self._start(Worker(rh.rehearse_job, dict(self.objects), want, self.settings.soundfont or None,
                           engrave, name="rehearse"), self._rehearsed)

    def _rehearsed(self, res: rh.Rehearsal) -> None:
        old = self.rehearsal
        if res.engraved is None and old is not None and res.practice.semitones == old.practice.semitones:
            res.engraved = old.engraved        # the same key: the same transposed score
        piece_t = self.position * self.tempo()
        playing = self.player.playing
        self.rehearsal = res
        self._show(res.roll, res.audio, res.wave, res.engraved or self.plain_views.get("engraved"))
        self.seek(piece_t / res.practice.tempo)
        p = res.practice
        muted = ", ".join(res.parts[k] for k in sorted(p.muted) if k < len(res.parts))
        solo = " and ".join(res.parts[k] for k in sorted(p.soloed) if k < len(res.parts))
        self.statusBar().showMessage(f"Ready: {round(p.tempo * 100)}% tempo"
                                     + (f", {p.semitones:+d} semitones" if p.semitones else "")
                                     + (f", {solo} solo" if solo else "")
                                     + (f", {muted} muted" if muted else "") + ".", 8000)
        if playing or self._play_after:
            self._play_after = False
            self.start_playing()

    def _play_as_written(self) -> None:
        piece_t = self.position * self.tempo()
        playing = self.player.playing
        self.rehearsal = None
        audio = self.objects.get(Modality.AUDIO)
        self._show(self.plain_views.get("roll"), audio, self.plain_views.get("wave") if audio else None,
                   self.plain_views.get("engraved"))
        self.seek(piece_t)
        if playing:
            self.start_playing()

    def _show(self, roll, audio, wave, engraved) -> None:
        """Put what plays in the player and the panes (views as the rehearsal or as written)."""
        self.loop_action.setChecked(False)    # a view loop's times belong to the sound it was set on
        self.player.set_audio(audio.samples if audio is not None else None,
                              audio.sample_rate if audio is not None else 44100)
        self.roll.set_data(roll)
        self.wave.set_data(audio, wave)
        if engraved is not None and engraved is not self.score._sets.get("engraved"):
            self.score.set_pages("engraved", engraved)
        timeaxis.fit(self.roll, self.wave)
        self.retime()

    def _practice_job_finished(self, name: str) -> None:
        if name == "rehearse":
            self._rehearsing = None
            made = self.rehearsal.practice if self.rehearsal is not None else rh.Practice()
            if made != self.practice and not self._practice_timer.isActive():
                # cancelled or failed: the controls show what plays
                self.practice = made
                self.practice_bar.set_values(round(made.tempo * 100), made.semitones, made.muted, made.soloed)
                self.settings.tempo_percent, self.settings.semitones = round(made.tempo * 100), made.semitones
        elif self.wants_rehearsal():
            self.rehearse()        # asked for during another job, or put off by it

    # -- playing
    def wants_rehearsal(self) -> bool:
        """Playing now needs a rehearsal that is not made yet."""
        return not self.practice.plain() and self.can_rehearse() and (
            self.rehearsal is None or self.rehearsal.practice != self.practice)

    def start_playing(self) -> None:
        """Play from the position, after a count-in when it is on."""
        self.player.count_in = self.count_in_clicks() if self.practice_bar.count_in.isChecked() else None
        self.player.play()
        if self.player.playing and self.player.silent:
            self._say_silent()

    def count_in_clicks(self):
        """One bar of clicks in the meter and tempo of the bar playing starts in (a pickup counts in with
        the full bar after it), at the player's rate."""
        import numpy as np

        from model.api import click_track

        bars = self.bars()
        t = self.player.position()
        beats, beat = 4, 0.5 / self.tempo()
        if bars:
            i = max(0, max((k for k, b in enumerate(bars) if b.start <= t + 1e-3), default=0))
            full = float(np.median([b.end - b.start for b in bars]))
            if bars[i].end - bars[i].start < 0.99 * full and i + 1 < len(bars):
                i += 1
            b = bars[i]
            beats = max(1, len(b.beats))
            beat = (b.end - b.start) / beats
        channels = self.player.samples.shape[1] if self.player.samples is not None else 2
        return click_track(beats, beat, self.player.sample_rate, channels)

    # -- loop of chosen bars
    def loop_bars(self) -> Optional[tuple[float, float]]:
        """(start, end) in playing time of the bars chosen: from the first time bar A plays to the end of
        the first bar B at or after it."""
        bars, pb = self.bars(), self.practice_bar
        a, b = pb.loop_from.currentText(), pb.loop_to.currentText()
        i = next((k for k, x in enumerate(bars) if x.number == a), None)
        if i is None:
            return None
        j = next((k for k in range(i, len(bars)) if bars[k].number == b), i)
        return bars[i].start, bars[j].end

    def bars_dragged(self, t0: float, t1: float, done: bool) -> None:
        """A drag across bars on the ruler: the band follows it bar by bar; on release those bars loop
        (the same choice as the Loop bars boxes)."""
        bars = self.bars()
        span = ruler.bars_between(bars, t0, t1)
        if span is None or not self.practice_bar.loop.isEnabled():
            return
        first, last = bars[span[0]], bars[span[1]]
        if not done:
            ruler.show_loop(self.loop_regions, (first.start, last.end))
            return
        self.practice_bar.choose_bars(first.number, last.number)

    def score_bars_chosen(self, first: str, last: str) -> None:
        """Bars chosen in the score (a bar clicked, another Shift+clicked): they loop."""
        if self.practice_bar.loop.isEnabled():
            self.practice_bar.choose_bars(first, last)

    def apply_loop(self, seek: bool = True) -> None:
        span = self.loop_bars() if self.practice_bar.loop.isChecked() else None
        ruler.show_loop(self.loop_regions, span)
        if span is None:
            if not self.loop_action.isChecked():
                self.player.set_loop(None)
            return
        self.loop_action.setChecked(False)       # one loop at a time: the bars, not the view
        self.player.set_loop(*span)
        if seek and not span[0] <= self.position < span[1]:
            self.seek(span[0])
        if seek:
            pb = self.practice_bar
            self.statusBar().showMessage(
                f"Looping bars {pb.loop_from.currentText()} to {pb.loop_to.currentText()}.", 5000)
