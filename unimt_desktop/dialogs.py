"""The settings dialog: device, soundfont, weights folder, PDF resolution."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from unimt_desktop.settings import DEVICES, Settings

DEVICE_LABELS = {"auto": "Automatic (GPU when there is one)", "cpu": "CPU", "cuda": "GPU (CUDA)"}


def _path_row(edit: QLineEdit, pick) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    b = QPushButton("Browse…")
    b.clicked.connect(pick)
    lay.addWidget(b)
    return w


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("unimt settings")
        self.settings = settings
        self.device = QComboBox()
        for d in DEVICES:
            self.device.addItem(DEVICE_LABELS[d], d)
        self.soundfont = QLineEdit(placeholderText="the system's General MIDI soundfont")
        self.weights = QLineEdit(placeholderText="the standard places (see the README)")
        self.dpi = QSpinBox(minimum=50, maximum=600, singleStep=25, suffix=" dpi")
        form = QFormLayout(self)
        form.addRow("Model device:", self.device)
        form.addRow("Model weights folder:", _path_row(self.weights, self._pick_weights))
        form.addRow("Soundfont:", _path_row(self.soundfont, self._pick_soundfont))
        form.addRow("PDF resolution:", self.dpi)
        note = QLabel("The device is used by the model (reading scans, transcribing recordings). "
                      "The PDF resolution applies to PDFs opened from now on.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.load_settings()

    def load_settings(self) -> None:
        self.device.setCurrentIndex(DEVICES.index(self.settings.device))
        self.soundfont.setText(self.settings.soundfont)
        self.weights.setText(self.settings.weights)
        self.dpi.setValue(self.settings.pdf_dpi)

    def save_settings(self) -> None:
        self.settings.device = self.device.currentData()
        self.settings.soundfont = self.soundfont.text().strip()
        self.settings.weights = self.weights.text().strip()
        self.settings.pdf_dpi = self.dpi.value()
        self.settings.sync()

    def accept(self) -> None:
        self.save_settings()
        super().accept()

    def _pick_soundfont(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a soundfont", self.soundfont.text(),
                                              "Soundfonts (*.sf2 *.sf3);;All files (*)")
        if path:
            self.soundfont.setText(path)

    def _pick_weights(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the model weights folder", self.weights.text())
        if path:
            self.weights.setText(path)
