"""Corrections in place: notes edited in the piano roll, with undo and redo, and the score written again from
the edited notes (a job off the GUI thread, like every translation).

Each edit is made by ``model.api`` (add, delete, move, lengthen, velocity: pure functions returning a new
MIDI object) and kept as a :class:`Take`: the window's objects and views with those notes. Undo shows the
take before the edit, exactly as it was (the same objects); redo the one after. A take whose score is
still to be written starts that job when it is shown; a sound made before an edit is greyed out and made
again when Play asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack

from model.api import Modality
from unimt_desktop import jobs
from unimt_desktop.workers import Worker

NOT_AS_WRITTEN = ("Notes are edited as written: set Tempo back to 100%, Transpose to 0 and let every part "
                  "play, then edit.")
STALE_SOUND = "Out of date: the notes were edited. Play (or Translate ▸ To audio) makes the sound again."
KEPT_RECORDING = "The recording: the edits are in the MIDI and the score"
VIEW_KEYS = ("roll", "wave", "audio", "engraved", "bars:midi", "bars:notation")


@dataclass
class Take:
    """The piece as one edit left it: the window's objects, what the panes show, what is not exported."""

    objects: dict
    views: dict
    unexported: set
    score_due: bool = False       # the score is to be written again from these notes
    recognition: Any = None       # what the reader saw on the scan the score came from
    title: Optional[str] = None   # the score's title, kept when it is written again
    sound_stale: bool = False     # the sound shown was made before an edit


class EditCommand(QUndoCommand):
    """One edit on the undo stack: the take before it, and the notes after it (the take made on first redo).
    Velocity steps on the same note merge into one command."""

    def __init__(self, window, before: Take, midi, text: str, rows: tuple[int, int], merge: Any = None):
        super().__init__(text)
        self.window, self.before, self.midi, self.after = window, before, midi, None
        self.rows, self.merge = rows, merge

    def id(self) -> int:
        return 22 if self.merge is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, EditCommand) or other.merge is None or other.merge != self.merge:
            return False
        self.midi, self.after, self.rows = other.midi, other.after, (self.rows[0], other.rows[1])
        return True

    def redo(self) -> None:
        if self.after is None:
            self.after = self.window.take_with(self.midi, self.before)
        self.window.show_take(self.after, self.rows[1])

    def undo(self) -> None:
        self.window.show_take(self.before, self.rows[0])


class EditMixin:
    """For :class:`unimt_desktop.mainwindow.MainWindow`: its objects, panes, practice and jobs."""

    def _build_editing(self, menu) -> None:
        """The undo stack, the Edit menu's Undo, Redo and Delete note, and the roll's requests."""
        self.undo_stack = QUndoStack(self)
        self.edit_menu = menu
        self._take: Optional[Take] = None
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.delete_note_action = QAction("&Delete note", self)
        self.delete_note_action.setToolTip("Delete the note selected in the piano roll (Del)")
        self.delete_note_action.triggered.connect(
            lambda: self.roll.request("delete", self.roll.selected) if self.roll.selected >= 0 else None)
        for a in (self.undo_action, self.redo_action, self.delete_note_action):
            menu.addAction(a)
        self.roll.editRequested.connect(self.edit_notes)
        self.roll.noteSelected.connect(lambda row: self._update_edit_actions())
        self.jobFinished.connect(self._edit_job_finished)

    def reset_edits(self) -> None:
        """A new file: nothing to undo."""
        self.undo_stack.clear()
        self._take = None

    def can_edit(self) -> bool:
        return Modality.MIDI in self.objects and self.rehearsal is None and self.practice.plain()

    def _update_edit_actions(self) -> None:
        ok = self.can_edit()
        why = NOT_AS_WRITTEN if Modality.MIDI in self.objects and not ok else ""
        self.roll.set_editable(ok, why)
        self.delete_note_action.setEnabled(ok and self.roll.selected >= 0)

    # -- making an edit
    def edit_notes(self, op: str, args) -> None:
        """Make the edit the roll asks for (see :class:`unimt_desktop.panes.PianoRollPane`) and push it."""
        from model import api

        if not self.can_edit():
            self.statusBar().showMessage(NOT_AS_WRITTEN, 8000)
            return
        midi = self.objects[Modality.MIDI]
        grid = api.snap_grid(midi)
        row, merge = self.roll.selected, None
        try:
            if op == "add":
                t, pitch = args
                start = api.snap(t, grid)
                length = api.beat_at(self.bars(), start)
                new, ref = api.add_note(midi, pitch, start, start + length, api.DEFAULT_VELOCITY)
                after, text = api.note_row(new, ref), "Add note"
            elif op == "delete":
                new, after, text = api.delete_note(midi, api.note_ref(midi, args)), -1, "Delete note"
                row = args
            elif op == "move":
                row, dt, semitones = args
                new = api.move_note(midi, api.note_ref(midi, row), dt, semitones, grid)
                after, text = row, "Move note"
            elif op == "resize":
                row, end = args
                new = api.resize_note(midi, api.note_ref(midi, row), end, grid)
                after, text = row, "Lengthen note"
            elif op == "velocity":
                row, velocity = args
                new, after, text = api.set_velocity(midi, api.note_ref(midi, row), velocity), row, "Velocity"
                merge = ("velocity", row)
            else:
                return
        except api.UnimtError as exc:
            self._error(jobs.in_words(exc))
            return
        self.undo_stack.push(EditCommand(self, self.current_take(), new, text, (row, after), merge))

    def current_take(self) -> Take:
        """The piece as the window shows it now (as written, not a rehearsal)."""
        last = self._take
        notation = self.objects.get(Modality.NOTATION)
        views = {"roll": self.plain_views.get("roll"), "wave": self.plain_views.get("wave"),
                 "audio": self.wave.audio, "engraved": self.plain_views.get("engraved"),
                 "bars:midi": self.bar_sets.get("midi"), "bars:notation": self.bar_sets.get("notation")}
        return Take(dict(self.objects), views, set(self.unexported),
                    score_due=notation is None and last is not None and last.score_due,
                    recognition=getattr(notation, "recognition", None) if notation is not None else
                    (last.recognition if last is not None else None),
                    sound_stale=Modality.AUDIO not in self.objects and views["wave"] is not None,
                    title=_title(notation) if notation is not None else (last.title if last else None))

    def take_with(self, midi, before: Take) -> Take:
        """``before`` with these notes: the score to be written again (when there was one), a sound made
        from the old notes greyed out (a recording that was the source stays)."""
        from model.api import bars, snap_grid

        keep_sound = self.origin is Modality.AUDIO
        drop = {Modality.NOTATION, "engraved"} | (set() if keep_sound else {Modality.AUDIO})
        objects = {k: v for k, v in before.objects.items() if k not in drop}
        objects[Modality.MIDI] = midi
        views = dict(before.views)
        views["roll"] = jobs.roll_data(midi)
        # a played performance's bars are its tracked beats (seconds of work): one note edited keeps them
        played = snap_grid(midi) is None and before.views.get("bars:midi")
        views["bars:midi"] = before.views["bars:midi"] if played else bars(midi)
        due = before.score_due or Modality.NOTATION in before.objects
        made = {Modality.MIDI} | ({Modality.NOTATION} if due else set())
        return Take(objects, views, before.unexported | made, score_due=due, recognition=before.recognition,
                    sound_stale=not keep_sound and views.get("wave") is not None, title=before.title)

    # -- showing a take
    def show_take(self, take: Take, select: int = -1) -> None:
        """Put ``take`` in the window: objects, roll, score, sound, bars; start writing its score if due."""
        if self.job is not None and self.job.name == "rewrite" and self._take is not take:
            self.job.quit()               # it writes another take's score
        self._take = take
        self.objects = dict(take.objects)
        self.unexported = set(take.unexported)
        self.rehearsal = None             # made from other notes
        v = take.views
        self.plain_views.update({k: v[k] for k in ("roll", "wave", "engraved")})
        self.bar_sets = {k: v[f"bars:{k}"] for k in ("midi", "notation") if v.get(f"bars:{k}")}
        audio = self.objects.get(Modality.AUDIO)
        self.loop_action.setChecked(False)
        self.player.set_audio(audio.samples if audio is not None else None,
                              audio.sample_rate if audio is not None else 44100)
        self.roll.set_data(v["roll"], keep_view=True, select=select)
        if self.wave.data is not v["wave"] or self.wave.audio is not v["audio"]:
            self.wave.set_data(v["audio"], v["wave"])
        kept = self.origin is Modality.AUDIO and self.undo_stack.index() > 0
        self.wave.set_stale(STALE_SOUND if take.sound_stale else (KEPT_RECORDING if kept else ""))
        if v["engraved"] is not self.score._sets.get("engraved") and not take.score_due:
            self.score.set_pages("engraved", v["engraved"])
        self.retime()
        self._update_actions()
        if not self.practice.plain():
            self._practice_timer.start()
        if take.score_due and not (self.busy() and self.job.name not in ("rewrite", "rehearse")):
            self._rewrite(take)

    def _rewrite(self, take: Take) -> None:
        if self.busy() and self.job.name == "rewrite" and getattr(self, "_rewriting", None) is take:
            return                        # being written already
        self._rewriting = take
        self.statusBar().showMessage("Writing the score again from the edited notes…")
        self._start(Worker(jobs.rewrite_job, take.objects[Modality.MIDI], take.recognition,
                           self.translate_options(), take.title, name="rewrite"),
                    lambda res, t=take: self._rewritten(t, res))

    def _rewritten(self, take: Take, res: jobs.Result) -> None:
        take.objects.update(res.objects)
        take.views["engraved"] = res.views.get("engraved")
        take.views["bars:notation"] = res.views.get("bars:notation")
        take.score_due = False
        if take is not self._take:
            return
        self.objects.update(res.objects)
        self.plain_views["engraved"] = take.views["engraved"]
        if take.views["bars:notation"]:
            self.bar_sets["notation"] = take.views["bars:notation"]
        if take.views["engraved"] is not None:
            self.score.set_pages("engraved", take.views["engraved"])
        elif "engrave_error" in res.views:
            self.score.set_empty_text(f"The score was written but could not be engraved:\n"
                                      f"{res.views['engrave_error']}")
        self.retime()
        self._update_actions()
        self.statusBar().showMessage("The score is written again from the edited notes.", 8000)

    def _edit_job_finished(self, name: str) -> None:
        """A job that put off writing the score (an export, a translation) is done: write it now."""
        take = self._take
        if name != "rewrite" and take is not None and take.score_due and not self.busy():
            self._rewrite(take)


def _title(notation) -> Optional[str]:
    md = getattr(getattr(notation, "score", None), "metadata", None)
    title = (getattr(md, "bestTitle", None) or "").strip()
    return title or None
