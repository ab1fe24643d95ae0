"""The main window: three panes, translate, play, export. Every long job runs in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from model.api import Modality
from unimt_desktop import jobs, timeaxis
from unimt_desktop.banner import Banner
from unimt_desktop.drops import DropFilter
from unimt_desktop.exporting import ExportMixin
from unimt_desktop.panes import PianoRollPane, ScorePane, WaveformPane
from unimt_desktop.playback import PlaybackMixin
from unimt_desktop.player import Player
from unimt_desktop.practicing import PracticeMixin
from unimt_desktop.settings import Settings
from unimt_desktop.workers import Worker

APP_NAME = "unimt"
OPEN_FILTER = ("All music files (*.musicxml *.xml *.mxl *.mid *.midi *.wav *.flac *.ogg *.mp3 *.png *.jpg "
               "*.jpeg *.tif *.tiff *.pdf);;Scores (*.musicxml *.xml *.mxl);;"
               "Score images (*.png *.jpg *.jpeg *.tif *.tiff *.pdf);;MIDI (*.mid *.midi);;"
               "Audio (*.wav *.flac *.ogg *.mp3);;All files (*)")
TARGETS = {"score": [Modality.NOTATION], "midi": [Modality.MIDI], "audio": [Modality.AUDIO],
           "all": [Modality.NOTATION, Modality.MIDI, Modality.AUDIO]}
CANNOT = {Modality.IMAGE: "read score images", Modality.AUDIO: "transcribe recordings"}
MIN_SIZE = (960, 600)
NEEDS_MODEL = {Modality.IMAGE: "Reading score images", Modality.AUDIO: "Transcribing recordings"}
PARTIAL_MODEL = ("<b>The installed model cannot {what} yet.</b> It was trained for other translations; a "
                 "later version of the model will add this one. Everything else works.")
NO_MODEL = ("<b>No model installed.</b> {What} needs the unimt model, which is not installed on this "
            "computer. Everything else works. If you have the model, choose its folder in Edit ▸ Settings.")
HELP = """<h3>unimt</h3>
<p>Open or drop a score (MusicXML), a scan or PDF, a MIDI file or a recording on any pane: it opens in
the pane of its kind, and <b>Translate</b> fills the others.</p>
<ul>
<li><b>Score</b>: the scan and the engraved score, side by side when there are both. Click a bar to play from
it; the bar playing is shaded. Ctrl+wheel zooms.</li>
<li><b>Piano roll</b>: the notes, coloured by part. Click to play from there; drag and wheel to move and
zoom.</li>
<li><b>Audio</b>: the waveform, and the spectrogram under it. Click to play from there.</li>
</ul>
<p><b>Practice</b> (the second toolbar): <b>Tempo</b> slows down or speeds up (25-200%, the pitch stays);
<b>Transpose</b> moves the music up or down (what plays, the roll, the score and what Export writes);
<b>Parts</b> mutes a part or a hand; <b>Loop bars</b> repeats the bars chosen (as numbered in the score);
<b>Count-in</b> clicks one bar before playing. The ruler above the roll and the waveform counts bars and
beats.</p>
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


class MainWindow(PracticeMixin, PlaybackMixin, ExportMixin, QMainWindow):
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
    def _action(self, text, slot, shortcut=None, icon=None, tip=None) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        return a

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        self.open_action = self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                                        SP.SP_DialogOpenButton,
                                        "Open a score, scan, PDF, MIDI file or recording")
        self.export_action = self._action("&Export…", self.export_dialog, "Ctrl+E", SP.SP_DialogSaveButton,
                                          "Export as MusicXML, MIDI, audio, PDF, PNG or SVG")
        self.settings_action = self._action("&Settings…", self.settings_dialog,
                                            QKeySequence.StandardKey.Preferences)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.translate_actions = {
            "score": self._action("To &score", lambda: self.translate("score"), "Ctrl+1",
                                  tip="Translate into a score"),
            "midi": self._action("To &MIDI", lambda: self.translate("midi"), "Ctrl+2",
                                 tip="Translate into MIDI"),
            "audio": self._action("To &audio", lambda: self.translate("audio"), "Ctrl+3",
                                  tip="Translate into audio"),
            "all": self._action("&All", lambda: self.translate("all"), "Ctrl+4",
                                tip="Translate into every form"),
        }
        self.play_action = self._action("Play", self.toggle_play, "Space", SP.SP_MediaPlay,
                                        "Play or pause (Space)")
        self.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_action = self._action("Stop", self.stop_playback, None, SP.SP_MediaStop,
                                        "Stop and go to the start")
        self.loop_action = self._action("Loop view", self.toggle_loop, "L", tip="Loop the stretch of time "
                                        "visible in the piano roll or waveform (L)")
        self.loop_action.setCheckable(True)
        self.cancel_action = self._action("Cancel", self.cancel, "Esc", tip="Cancel the running job")

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.open_action)
        self.recent_menu = m.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addAction(self.export_action)
        m.addSeparator()
        m.addAction(self.quit_action)
        m = mb.addMenu("&Edit")
        m.addAction(self.settings_action)
        m = mb.addMenu("&Translate")
        for a in self.translate_actions.values():
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.cancel_action)
        m = mb.addMenu("&Play")
        for a in (self.play_action, self.stop_action, self.loop_action):
            m.addAction(a)
        m = mb.addMenu("&View")
        self.spec_action = QAction("&Spectrogram", self, checkable=True)
        self.spec_action.toggled.connect(self.wave.spec_button.setChecked)
        self.wave.spec_button.toggled.connect(self.spec_action.setChecked)
        m.addAction(self.spec_action)
        m = mb.addMenu("&Help")
        m.addAction(self._action("&How to use unimt", self.help, QKeySequence.StandardKey.HelpContents))
        m.addAction(self._action("&About unimt", self.about))

        tb = QToolBar("Main", objectName="mainToolbar", movable=False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.open_action)
        tb.addAction(self.export_action)
        tb.addSeparator()
        # the transport before Translate: a narrow window pushes Translate, never Play, into the overflow
        tb.addAction(self.play_action)
        tb.addAction(self.stop_action)
        tb.addAction(self.loop_action)
        self.time_label = QLabel("0:00.0")
        self.time_label.setStyleSheet("font-family: monospace; font-size: 13px; padding: 0 10px;")
        tb.addWidget(self.time_label)
        tb.addSeparator()
        tb.addWidget(QLabel("  Translate: "))
        for a in self.translate_actions.values():
            tb.addAction(a)
        self.addToolBar(tb)
        self.toolbar = tb

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

    # -- jobs ---------------------------------------------------------------------------------------
    def _start(self, worker: Worker, on_result) -> None:
        if self.job is not None and not self.job.done:
            self.job.quit()
        self.job = worker
        self.workers.add(worker)
        s = worker.signals
        s.progress.connect(lambda d, n, msg, w=worker: self._progress(w, d, n, msg))
        s.returned.connect(lambda r, w=worker: self._returned(w, r, on_result))
        s.errored.connect(lambda msg, w=worker: self._errored(w, msg))
        s.aborted.connect(lambda w=worker: self._aborted(w))
        s.finished.connect(lambda w=worker: self._finished(w))
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.progress.show()
        self.cancel_button.show()
        self._update_actions()
        self.pool.start(worker)

    def _progress(self, w: Worker, done: int, total: int, msg: str) -> None:
        if w is not self.job:
            return
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat("%p%")        # the step itself is in the status bar beside it
        if msg:
            self.statusBar().showMessage(msg[:1].upper() + msg[1:] + "…")

    def _returned(self, w: Worker, result, on_result) -> None:
        if w is self.job:
            self.last_error = None
            if getattr(result, "capabilities", None) is not None:
                self.caps = result.capabilities
            on_result(result)

    def _errored(self, w: Worker, msg: str) -> None:
        if w is self.job:
            self._play_after = False
            self._error(msg)

    def _aborted(self, w: Worker) -> None:
        if w is self.job:
            self._play_after = False
            self.statusBar().showMessage("Cancelled.", 5000)

    def _finished(self, w: Worker) -> None:
        self.workers.discard(w)
        if w is self.job:
            self.job = None
            self.progress.hide()
            self.cancel_button.hide()
            self._update_actions()
            self.jobFinished.emit(w.name)

    @Slot()
    def cancel(self) -> None:
        if self.job is not None:
            self.job.quit()
            self.statusBar().showMessage("Cancelling…")

    def busy(self) -> bool:
        return self.job is not None

    def _error(self, msg: str) -> None:
        self.last_error = msg
        self.statusBar().showMessage(msg, 10000)
        QMessageBox.warning(self, APP_NAME, msg)

    # -- state --------------------------------------------------------------------------------------
    def _capabilities(self):
        """What the weights in use can do: as the last job read it (off the GUI thread), else read now."""
        if self.caps is None:
            from model.api import capabilities

            self.caps = capabilities(self.settings.weights or None)
        return self.caps

    def _update_actions(self) -> None:
        from model.api import needs_model

        busy = self.busy()
        have = [m for m in self.objects if isinstance(m, Modality)]
        caps = self._capabilities() if have else None     # nothing open: nothing to translate
        model_ok = caps is not None and caps.available
        can = {m: caps is not None and caps.can(m.value) for m in CANNOT}

        def blocked(s, t) -> bool:   # the route from s to t needs a model step these weights cannot do
            return needs_model(s, t) and not can.get(s, True)

        for which, a in self.translate_actions.items():
            todo = [t for t in TARGETS[which] if t not in have]
            ok = bool(have) and bool(todo) and not busy
            tip = a.statusTip()
            if ok and all(all(blocked(s, t) for s in have) for t in todo):
                ok = False
                tip = ("Needs the model: no model installed" if not model_ok else
                       "Needs the model: the installed weights cannot " + " or ".join(
                           CANNOT[s] for s in have if s in CANNOT and not can[s]))
            a.setEnabled(ok)
            a.setToolTip(tip)
        self.export_action.setEnabled(bool(have) and not busy)
        self.cancel_action.setEnabled(busy)
        # without an audio output it plays silently; it needs audio, or something audio can be made from
        can_play = bool(have) and Modality.AUDIO in self.exportable()
        self.play_action.setEnabled(can_play)
        self.stop_action.setEnabled(can_play)
        self.loop_action.setEnabled(can_play)
        show = self.origin in CANNOT and not can[self.origin] and Modality.NOTATION not in have \
            and Modality.MIDI not in have
        if show:
            what = CANNOT[self.origin]
            self.banner.setText(PARTIAL_MODEL.format(what=what) if model_ok else
                                NO_MODEL.format(What=NEEDS_MODEL[self.origin]))
        self.banner.show_message(show)
        self._update_practice_actions()

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
