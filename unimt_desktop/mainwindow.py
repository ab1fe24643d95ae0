"""The main window: three panes, translate, play, export. Every long job runs in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from model.api import Modality
from unimt_desktop import jobs, timeaxis
from unimt_desktop.actions import TARGETS, ActionsMixin
from unimt_desktop.banner import Banner
from unimt_desktop.drops import DropFilter
from unimt_desktop.editing import EditMixin
from unimt_desktop.exporting import ExportMixin
from unimt_desktop.jobrunner import APP_NAME, JobsMixin
from unimt_desktop.panes import PianoRollPane, ScorePane, WaveformPane
from unimt_desktop.playback import PlaybackMixin
from unimt_desktop.player import Player
from unimt_desktop.practicing import PracticeMixin
from unimt_desktop.settings import Settings
from unimt_desktop.workers import Worker

OPEN_FILTER = ("All music files (*.musicxml *.xml *.mxl *.mid *.midi *.wav *.flac *.ogg *.mp3 *.png *.jpg "
               "*.jpeg *.tif *.tiff *.pdf);;Scores (*.musicxml *.xml *.mxl);;"
               "Score images (*.png *.jpg *.jpeg *.tif *.tiff *.pdf);;MIDI (*.mid *.midi);;"
               "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)")
MIN_SIZE = (960, 600)
HELP = """<h3>unimt</h3>
<p>Open or drop a score (MusicXML), a scan or PDF, a MIDI file or a recording on any pane: it opens in
the pane of its kind, and <b>Translate</b> fills the others.</p>
<ul>
<li><b>Score</b>: the scan and the engraved score, side by side when there are both. Click a bar to play from
it; the bar playing is shaded. For a score read from a scan, the bar clicked (or <b>Next doubtful</b>) shows
its crop from the scan beside the bar as read. Ctrl+wheel zooms.</li>
<li><b>Piano roll</b>: the notes, coloured by part. Click to play from there; drag and wheel to move and
zoom. <b>Edit notes</b>: click a note to select it, Delete removes it, double-click adds one, drag it to move
it, drag its right end to lengthen it, Up/Down move it a semitone; the Velocity box sets how hard it plays.
The score is written again from the edited notes; Ctrl+Z undoes, Ctrl+Shift+Z redoes.</li>
<li><b>Audio</b>: the waveform, and the spectrogram under it. Click to play from there.</li>
</ul>
<p><b>Practice</b> (the second toolbar): <b>Tempo</b> slows down or speeds up (25-200%, the pitch stays);
<b>Transpose</b> moves the music up or down (what plays, the roll, the score and what Export writes);
<b>Parts</b> mutes a part or a hand, or solos parts (only the soloed ones play); <b>Loop bars</b> repeats
the bars chosen (as numbered in the score), or drag across bars on the ruler above the roll or the waveform;
<b>Count-in</b> clicks one bar before playing. The ruler above the roll and the waveform counts bars and
beats. <b>File ▸ Export audio as heard</b> writes the sound as it plays (tempo, key, parts); Export writes
the piece at its written tempo with every part.</p>
<p><b>Shortcuts</b>: Space play/pause · L loop what the roll or waveform shows · Ctrl+O open · Ctrl+E export ·
Ctrl+1/2/3/4 translate to score/MIDI/audio/all · Esc cancel.</p>
<p>Without a sound card, playback runs silently: the playhead still moves through every pane.</p>"""


def version() -> str:
    """The installed unimt's version ("version unknown" when it runs from a source tree not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version("unimt")
    except PackageNotFoundError:
        return "(version unknown)"


class MainWindow(ActionsMixin, JobsMixin, EditMixin, PracticeMixin, PlaybackMixin, ExportMixin, QMainWindow):
    jobFinished = Signal(str)   # job name, after its result (or error) is applied

    def __init__(self, settings: Optional[Settings] = None, parent=None):
        super().__init__(parent)
        self.settings = settings or Settings()
        self.setWindowTitle(APP_NAME)
        self.setObjectName("unimtMainWindow")
        self.resize(1500, 920)
        self.setMinimumSize(*MIN_SIZE)     # every control stays reachable (tests/desktop/test_workbench.py)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)           # one translation at a time
        self.side_pool = QThreadPool(self)
        self.side_pool.setMaxThreadCount(1)      # spectrograms and other view work
        self.job: Optional[Worker] = None
        self.workers: set[Worker] = set()
        self.objects: dict = {}
        self.caps = None    # model.api.Capabilities of the weights in use, once read
        self.source: Optional[Path] = None
        self.origin: Optional[Modality] = None
        self.last_error: Optional[str] = None
        self._play_after = False
        self.unexported: set[Modality] = set()   # what translations made and no export has written yet
        self.position = 0.0
        self.player = Player(self)

        self.score = ScorePane()
        self.roll = PianoRollPane()
        self.wave = WaveformPane()
        self.panes = {Modality.IMAGE: self.score, Modality.NOTATION: self.score, Modality.MIDI: self.roll,
                      Modality.AUDIO: self.wave}
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.roll)
        right.addWidget(self.wave)
        right.setSizes([520, 380])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.score)
        self.splitter.addWidget(right)
        self.splitter.setSizes([680, 820])
        self.splitter.setHandleWidth(6)
        self.banner = Banner()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.drops = DropFilter(self)
        self.drops.dropped.connect(self.open_file)
        for w in (self.score, self.roll, self.wave, self.score.scan.viewport(),
                  self.score.engraved.viewport(), self.roll.plot.viewport(), self.wave.wave_plot.viewport(),
                  self.wave.spec_plot.viewport(), self.score.empty, self.roll.empty, self.wave.empty):
            w.setAcceptDrops(True)
            w.installEventFilter(self.drops)
        self.setAcceptDrops(True)
        self.installEventFilter(self.drops)

        for pane in (self.score, self.roll, self.wave):
            pane.seekRequested.connect(self.seek)
        self.wave.spectrogramRequested.connect(self._compute_spectrogram)
        timeaxis.link(self.roll, self.wave)
        self.player.positionChanged.connect(self._position_changed)
        self.player.stateChanged.connect(self._play_state)

        self._build_actions()
        self._build_practice()
        self._build_status()
        self._restore_state()
        self._update_actions()

    # -- building ---------------------------------------------------------------------------------
    def _build_status(self) -> None:
        sb = self.statusBar()
        self.progress = QProgressBar(maximumWidth=260, textVisible=True)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.device_label = QLabel()
        self.device_label.setStyleSheet("color: palette(placeholder-text); padding: 0 6px;")
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self.audio_label = QLabel()
        self.audio_label.setStyleSheet("color: #a05a00; padding: 0 6px;")
        self.audio_label.hide()
        sb.addPermanentWidget(self.audio_label)
        sb.addPermanentWidget(self.device_label)
        self._show_device()
        QTimer.singleShot(300, self._check_audio)
        sb.showMessage("Open or drop a score, a scan, a MIDI file or a recording.")

    def _show_device(self, resolved: Optional[str] = None) -> None:
        d = resolved or self.settings.device
        label = {"auto": "auto (GPU if available)", "cpu": "CPU", "cuda": "GPU (CUDA)",
                 "mps": "GPU (Apple)"}.get(d, d)
        self.device_label.setText(f"Model {'ran on' if resolved else 'device'}: {label}")

    # -- files --------------------------------------------------------------------------------------
    @Slot()
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", self.settings.folder("open"), OPEN_FILTER)
        if path:
            self.open_file(path)

    @Slot(str)
    def open_file(self, path: str | Path) -> None:
        path = Path(path)
        self.settings.set_folder("open", path)
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._start(Worker(jobs.load_job, str(path), self.settings.pdf_dpi, self.settings.weights or None,
                           name="load"),
                    lambda res: self._loaded(path, res))

    def _loaded(self, path: Path, res: jobs.Result) -> None:
        self.player.set_audio(None)
        self.unexported.clear()
        self.banner.reset()
        self._show_device()          # no model ran for this file (yet)
        self.objects = dict(res.objects)
        self.origin = next(m for m in res.objects if isinstance(m, Modality))
        self.reset_practice()
        self.reset_edits()
        self.source = path
        self.score.clear()
        self.roll.set_data(None)
        self.wave.set_data(None, None)
        self._apply_views(res)
        self.setWindowTitle(f"{path.name} — {APP_NAME}")
        self.settings.add_recent(path)
        self.statusBar().showMessage(f"Opened {path.name} ({self.origin.label}).", 8000)
        self._update_actions()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent_files():
            a = self.recent_menu.addAction(p)
            a.triggered.connect(lambda _=False, p=p: self.open_file(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the list", self.settings.clear_recent)

    # -- translating ----------------------------------------------------------------------------------
    def translate_options(self):
        from model.api import ModelOptions, TranslateOptions

        model = ModelOptions(device=self.settings.device, weights=self.settings.weights or None)
        return TranslateOptions(soundfont=self.settings.soundfont or None, model=model)

    @Slot()
    def translate(self, which: str = "all") -> None:
        targets = [t for t in TARGETS[which] if t not in self.objects]
        if not self.objects or not targets:
            return
        names = ", ".join(t.label for t in targets)
        self.statusBar().showMessage(f"Translating into {names}…")
        self._start(Worker(jobs.translate_job, dict(self.objects), targets, self.translate_options(),
                           name=f"translate:{which}"), self._translated)

    def _translated(self, res: jobs.Result) -> None:
        self.objects.update(res.objects)
        self.unexported.update(m for m in res.objects if isinstance(m, Modality))
        self._show_device(res.device)     # the device the model ran on, or the setting when none ran
        self._apply_views(res)
        if res.error:
            self._error(res.error)
        else:
            made = ", ".join(m.label for m in res.objects if isinstance(m, Modality))
            self.statusBar().showMessage(f"Done: {made}." if made else "Nothing to do.", 8000)
        self._update_actions()
        if self._play_after:
            self._play_after = False
            if Modality.AUDIO in self.objects:
                self.toggle_play()

    def _apply_views(self, res: jobs.Result) -> None:
        v = res.views
        if "scan" in v:
            self.score.set_pages("scan", v["scan"])
        if "engraved" in v:
            self.score.set_pages("engraved", v["engraved"])
        if "engrave_error" in v and not self.score.has_content():
            self.score.set_empty_text(f"The score loaded but could not be engraved:\n{v['engrave_error']}")
        if "roll" in v:
            self.roll.set_data(v["roll"])
        if "wave" in v:
            audio = self.objects.get(Modality.AUDIO)
            self.wave.set_data(audio, v["wave"])
            if audio is not None:
                self.player.set_audio(audio.samples, audio.sample_rate)
        if "roll" in v or "wave" in v:
            timeaxis.fit(self.roll, self.wave)
        self.views_applied(v)

    def _compute_spectrogram(self) -> None:
        audio = self.wave.audio          # what plays: as written, or the rehearsal
        if audio is None:
            return
        w = Worker(jobs.spectrogram_job, audio, name="spectrogram")
        w.signals.returned.connect(lambda spec, a=audio: self.wave.set_spectrogram(spec)
                                   if self.wave.audio is a else None)
        self.workers.add(w)
        w.signals.finished.connect(lambda w=w: self.workers.discard(w))
        self.side_pool.start(w)

    # -- state --------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        sizes = self.settings.store.value("window/splitter")
        if sizes is not None:
            try:
                self.splitter.restoreState(sizes)
            except TypeError:
                pass

    def save_state(self) -> None:
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.store.setValue("window/splitter", self.splitter.saveState())
        self.settings.sync()

    def settings_dialog(self) -> None:
        from unimt_desktop.dialogs import SettingsDialog

        if SettingsDialog(self.settings, self).exec():
            self.caps = None    # another weights folder, perhaps: read it again when it matters
            self._show_device()
            self._update_actions()

    def about(self) -> None:
        QMessageBox.about(self, "About unimt", f"<b>unimt</b> {version()}<br>Translate music between score "
                          "images, MusicXML, MIDI and audio, locally and offline.")

    def help(self) -> None:
        QMessageBox.information(self, "How to use unimt", HELP)

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Ask running jobs to stop and wait for them (the mandelbrot example's stop()/wait())."""
        for w in list(self.workers):
            w.quit()
        self.player.stop()
        self.pool.waitForDone(timeout_ms)
        self.side_pool.waitForDone(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_quit():
            event.ignore()
            return
        self.save_state()
        self.shutdown()
        super().closeEvent(event)
