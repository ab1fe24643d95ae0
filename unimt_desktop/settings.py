"""Every QSettings key the app uses, read through typed getters.

Settings live in ``QSettings("unimt", "unimt")``. Set ``UNIMT_CONFIG_DIR`` to keep them in an INI file
in that folder instead (the tests do this, so they never touch a real user's settings).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QByteArray, QSettings

SETTINGS_VERSION = 1
DEVICES = ("auto", "cpu", "cuda")
MAX_RECENT = 10


def qsettings() -> QSettings:
    folder = os.environ.get("UNIMT_CONFIG_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "unimt.ini"), QSettings.Format.IniFormat)
    return QSettings("unimt", "unimt")


class Settings:
    """Typed access to the app's settings (keys are lower snake_case, grouped)."""

    def __init__(self, store: Optional[QSettings] = None):
        self.store = store or qsettings()
        if self._int("settings_version", 0) < SETTINGS_VERSION:
            self.store.setValue("settings_version", SETTINGS_VERSION)

    # -- typed helpers (QSettings returns strings from INI files and None for empty lists)
    def _str(self, key: str, default: str = "") -> str:
        v = self.store.value(key, default)
        return default if v is None else str(v)

    def _int(self, key: str, default: int) -> int:
        try:
            return int(self.store.value(key, default))
        except (TypeError, ValueError):
            return default

    def _list(self, key: str) -> list[str]:
        v = self.store.value(key, [])
        if v is None or v == "":
            return []
        if isinstance(v, str):
            return [v]
        return [str(x) for x in v]

    # -- translation
    @property
    def device(self) -> str:
        d = self._str("model/device", "auto")
        return d if d in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.store.setValue("model/device", value if value in DEVICES else "auto")

    @property
    def weights(self) -> str:
        return self._str("model/weights", "")

    @weights.setter
    def weights(self, value: str) -> None:
        self.store.setValue("model/weights", value or "")

    @property
    def soundfont(self) -> str:
        return self._str("audio/soundfont", "")

    @soundfont.setter
    def soundfont(self, value: str) -> None:
        self.store.setValue("audio/soundfont", value or "")

    @property
    def pdf_dpi(self) -> int:
        return max(50, min(600, self._int("files/pdf_dpi", 150)))

    @pdf_dpi.setter
    def pdf_dpi(self, value: int) -> None:
        self.store.setValue("files/pdf_dpi", int(value))

    # -- practice (tempo in percent of the written tempo, transposition in semitones, the count-in)
    @property
    def tempo_percent(self) -> int:
        return max(25, min(200, self._int("practice/tempo_percent", 100)))

    @tempo_percent.setter
    def tempo_percent(self, value: int) -> None:
        self.store.setValue("practice/tempo_percent", int(value))

    @property
    def semitones(self) -> int:
        return max(-12, min(12, self._int("practice/semitones", 0)))

    @semitones.setter
    def semitones(self, value: int) -> None:
        self.store.setValue("practice/semitones", int(value))

    @property
    def count_in(self) -> bool:
        return self._str("practice/count_in", "false").lower() in ("true", "1")

    @count_in.setter
    def count_in(self, value: bool) -> None:
        self.store.setValue("practice/count_in", "true" if value else "false")

    # -- files
    def recent_files(self) -> list[str]:
        return self._list("files/recent")

    def add_recent(self, path: str | Path) -> list[str]:
        path = str(Path(path).resolve())
        items = [p for p in self.recent_files() if p != path]
        items.insert(0, path)
        items = items[:MAX_RECENT]
        self.store.setValue("files/recent", items)
        return items

    def clear_recent(self) -> None:
        self.store.setValue("files/recent", [])

    def folder(self, kind: str) -> str:
        """The last folder used to ``open`` or ``export``."""
        d = self._str(f"files/last_{kind}_folder", "")
        return d if d and Path(d).is_dir() else str(Path.home())

    def set_folder(self, kind: str, path: str | Path) -> None:
        p = Path(path)
        self.store.setValue(f"files/last_{kind}_folder", str(p if p.is_dir() else p.parent))

    # -- window
    def window_state(self) -> tuple[Optional[QByteArray], Optional[QByteArray]]:
        g, s = self.store.value("window/geometry"), self.store.value("window/state")
        return (g if isinstance(g, QByteArray) else None, s if isinstance(s, QByteArray) else None)

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def sync(self) -> None:
        self.store.sync()
