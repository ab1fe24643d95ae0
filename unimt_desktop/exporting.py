"""Export, offering only what can be made, and the question on quitting with results not exported."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from model.api import Modality
from unimt_desktop import jobs
from unimt_desktop import rehearsal as rh
from unimt_desktop.workers import Worker

# (filter entry, the modality it writes), in the order the dialog lists them
EXPORT_FORMATS = [
    ("MusicXML (*.musicxml)", Modality.NOTATION),
    ("Compressed MusicXML (*.mxl)", Modality.NOTATION),
    ("MIDI (*.mid)", Modality.MIDI),
    ("WAV audio (*.wav)", Modality.AUDIO),
    ("FLAC audio (*.flac)", Modality.AUDIO),
    ("PDF score (*.pdf)", Modality.IMAGE),
    ("PNG score pages (*.png)", Modality.IMAGE),
    ("SVG score pages (*.svg)", Modality.IMAGE),
]
EXPORT_FILTER = ";;".join(f for f, _ in EXPORT_FORMATS)
HEARD_FILTER = "WAV audio (*.wav);;FLAC audio (*.flac)"
HEARD_TIP = ("Export the sound as you hear it: at the practice tempo, transposed, with the parts muted or "
             "soloed (WAV or FLAC). Export writes the score, MIDI and audio at the written tempo, every part "
             "playing.")
HEARD_ONLY_AUDIO = "Audio as heard is written as WAV or FLAC: choose a .wav or .flac file."
AS_WRITTEN = ("at the written tempo with every part; File ▸ Export audio as heard writes what plays")
NO_EDITOR = ("No program on this computer is set up to open MusicXML scores. Install a notation editor such "
             "as MuseScore, or use File ▸ Export to save the score as MusicXML and open it from there.")
MADE = {Modality.NOTATION: "score", Modality.MIDI: "MIDI", Modality.AUDIO: "audio",
        Modality.IMAGE: "score pages"}


class ExportMixin:
    """Export for :class:`unimt_desktop.mainwindow.MainWindow`: its objects, settings and jobs."""

    def exportable(self) -> list[Modality]:
        """The modalities an export can write now: those at hand, and those a route reaches whose model
        steps the installed weights can do (a scan without a model exports as pages, not as MIDI)."""
        from model.api import best_route

        have = [m for m in self.objects if isinstance(m, Modality)]
        if not have:
            return []
        caps = self._capabilities()
        out = []
        for m in (Modality.NOTATION, Modality.MIDI, Modality.AUDIO, Modality.IMAGE):
            if m in have or (m is Modality.IMAGE and "engraved" in self.objects):
                out.append(m)
                continue
            route = best_route(have, m)
            if route and all(not e.needs_model or (caps.available and caps.can(e.src.value)) for e in route):
                out.append(m)
        return out

    def export_filter(self) -> str:
        can = set(self.exportable())
        return ";;".join(f for f, m in EXPORT_FORMATS if m in can)

    def _ask_export_path(self, title: str, suffix: str, filters: str) -> str | None:
        """The file the musician names in a save dialog (the chosen filter's extension added when the name
        has none); None when there is nothing to export or the dialog is cancelled."""
        if not self.objects:
            return None
        stem = (self.source.stem if self.source else "score") + suffix
        start = str(Path(self.settings.folder("export")) / stem)
        path, chosen = QFileDialog.getSaveFileName(self, title, start, filters,
                                                   options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return None
        if not Path(path).suffix and "*" in chosen:
            path += chosen[chosen.index("*") + 1:chosen.index(")")]
        return path

    def export_dialog(self) -> None:
        path = self._ask_export_path("Export", "", self.export_filter())
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path, confirm: bool = True) -> bool:
        path = Path(path)
        from model.api import UnimtError, output_format

        try:
            modality, _ = output_format(path)
        except UnimtError:
            kind = f"{path.suffix} files" if path.suffix else "a file without an extension"
            self._error(f"unimt cannot write {kind}. Choose one of the formats the Export dialog lists.")
            return False
        if modality not in self.exportable():
            self._error(f"This cannot be exported as {MADE[modality]} here: making it needs the unimt model, "
                        "and the model installed cannot do that step.")
            return False
        if not self._may_write(path, confirm):
            return False
        self.statusBar().showMessage(f"Exporting {path.name}…")
        semitones = self.practice.semitones
        self._start(Worker(jobs.export_job, dict(self.objects), str(path), self.translate_options(),
                           semitones, name="export"),
                    lambda written, m=modality: self._exported(m, written, semitones))
        return True

    def _may_write(self, path: Path, confirm: bool) -> bool:
        """Ask before replacing a file (when ``confirm``); remember the folder."""
        if confirm and path.exists():
            answer = QMessageBox.question(self, "Replace the file?", f"{path.name} already exists in "
                                          f"{path.parent}.\nDo you want to replace it?",
                                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                          QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.settings.set_folder("export", path.parent)
        return True

    def _exported(self, modality: Modality, written: list, semitones: int = 0) -> None:
        self.unexported.discard(modality)
        p = self.practice
        notes = [f"transposed {semitones:+d} semitones" if semitones else "",
                 AS_WRITTEN if modality in (Modality.MIDI, Modality.AUDIO) and (p.tempo != 1.0 or p.muted
                                                                                 or p.soloed) else ""]
        said = "; ".join(n for n in notes if n)
        self.statusBar().showMessage("Wrote " + ", ".join(Path(p).name for p in written)
                                     + (f" ({said})" if said else ""), 10000)

    # -- the sound as heard
    def export_heard_dialog(self) -> None:
        path = self._ask_export_path("Export audio as heard", " (as heard)", HEARD_FILTER)
        if path:
            self.export_heard_to(path)

    def export_heard_to(self, path: str | Path, confirm: bool = True) -> bool:
        """Write what plays (the practice tempo, key and parts) as WAV or FLAC, off the GUI thread."""
        path = Path(path)
        practice = self.practice
        recording = self.objects.get(Modality.AUDIO) if practice.plain() else None
        if path.suffix.lower() not in (".wav", ".flac"):
            self._error(HEARD_ONLY_AUDIO)
            return False
        if recording is None and not self.can_rehearse():
            self._error(rh.NEEDS_NOTES)
            return False
        if not self._may_write(path, confirm):
            return False
        made = self.rehearsal.audio if self.rehearsal is not None and self.rehearsal.practice == practice \
            else recording
        words = rh.heard_words(practice, [a.text() for a in self.practice_bar.part_actions()])
        self.statusBar().showMessage(f"Exporting {path.name} as heard ({words})…")
        self._start(Worker(rh.heard_export_job, dict(self.objects), practice, str(path),
                           self.settings.soundfont or None, made, name="export"),
                    lambda written: self.statusBar().showMessage(
                        "Wrote " + ", ".join(Path(p).name for p in written) + f" as heard: {words}.", 10000))
        return True

    # -- handing the score to a notation editor
    def open_in_editor(self) -> None:
        """Write the score to a temporary MusicXML file (off the GUI thread) and hand it to the program the
        system opens such files with."""
        notation = self.objects.get(Modality.NOTATION)
        if notation is None:
            return
        stem = self.source.stem if self.source else "score"
        self.statusBar().showMessage("Writing the score for the notation editor…")
        self._start(Worker(jobs.editor_file_job, notation, stem, name="editor"), self._hand_to_editor)

    def _hand_to_editor(self, path: str) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        self.editor_file = Path(path)
        if QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            self.statusBar().showMessage("The score is open in your notation editor. Changes made there stay "
                                         "there: save them from the editor.", 10000)
        else:
            self._error(NO_EDITOR)

    # -- quitting with results not exported
    def confirm_quit(self) -> bool:
        """True when the window may close: nothing made is unexported, or the user says to discard it."""
        if not self.unexported:
            return True
        names = [MADE[m] for m in (Modality.NOTATION, Modality.MIDI, Modality.AUDIO) if m in self.unexported]
        what = " and ".join(names) if len(names) < 3 else f"{names[0]}, {names[1]} and {names[2]}"
        src = f" from {self.source.name}" if self.source else ""
        B = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Quit without exporting?",
            f"The {what} made{src} {'has' if len(names) == 1 else 'have'} not been exported. "
            f"Quit anyway and lose {'it' if len(names) == 1 else 'them'}, or export first?",
            B.Save | B.Discard | B.Cancel, B.Cancel)
        if answer == B.Save:
            self.export_dialog()
            return False
        return answer == B.Discard
