"""The window's actions (menus, toolbar, shortcuts) and their availability: what can be translated, played or
exported now, read from the typed capabilities of the weights in use (``model.api.capabilities``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QStyle, QToolBar

from model.api import Modality
from unimt_desktop.exporting import HEARD_TIP
from unimt_desktop.rehearsal import NEEDS_NOTES

TARGETS = {"score": [Modality.NOTATION], "midi": [Modality.MIDI], "audio": [Modality.AUDIO],
           "all": [Modality.NOTATION, Modality.MIDI, Modality.AUDIO]}
CANNOT = {Modality.IMAGE: "read score images", Modality.AUDIO: "transcribe recordings"}
NEEDS_MODEL = {Modality.IMAGE: "Reading score images", Modality.AUDIO: "Transcribing recordings"}
PARTIAL_MODEL = ("<b>The installed model cannot {what} yet.</b> It was trained for other translations; a "
                 "later version of the model will add this one. Everything else works.")
NO_MODEL = ("<b>No model installed.</b> {What} needs the unimt model, which is not installed on this "
            "computer. Everything else works. If you have the model, choose its folder in Edit ▸ Settings.")

EDITOR_TIP = "Open the score in MuseScore, or the program this computer opens MusicXML scores with"
NO_SCORE_TIP = ("There is no score to open yet: open one, or translate into a score (Translate ▸ To score). "
                "After an edit, the score is ready once it is written again.")


class ActionsMixin:
    """For MainWindow: builds ``self.*_action`` and the toolbar, and greys out what cannot be done now."""

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
        self.heard_action = self._action("Export audio as &heard…", self.export_heard_dialog,
                                         tip=HEARD_TIP)
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
        m.addAction(self.heard_action)
        self.editor_action = self._action("Open in notation &editor", self.open_in_editor, "Ctrl+Shift+E",
                                          tip=EDITOR_TIP)
        m.addAction(self.editor_action)
        m.addSeparator()
        m.addAction(self.quit_action)
        m = mb.addMenu("&Edit")
        self._build_editing(m)
        m.addSeparator()
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
        self.heard_action.setEnabled(bool(have) and not busy and self.can_rehearse())
        self.heard_action.setToolTip(HEARD_TIP if not have or self.can_rehearse() else NEEDS_NOTES)
        score = Modality.NOTATION in have
        self.editor_action.setEnabled(score and not busy)
        self.editor_action.setToolTip(EDITOR_TIP if score else NO_SCORE_TIP)
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
