"""``unimt-desktop [FILE]``: open the window (in well under 2 s; the model loads lazily)."""

from __future__ import annotations

import argparse
import sys


def create_app(file: str | None = None):
    """The application and its shown main window (``file`` starts loading at once)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("unimt")
    app.setApplicationName("unimt")
    app.setApplicationDisplayName("unimt")
    app.setDesktopFileName("unimt")

    from importlib.resources import files

    from PySide6.QtGui import QIcon

    from unimt_desktop.mainwindow import MainWindow

    app.setWindowIcon(QIcon(str(files("unimt_desktop") / "assets" / "unimt.svg")))

    window = MainWindow()
    window.show()
    if file:
        window.open_file(file)
    return app, window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="unimt-desktop", description="The unimt desktop app.")
    parser.add_argument("file", nargs="?", help="a score, scan, PDF, MIDI file or recording to open")
    args = parser.parse_args(argv)
    app, window = create_app(args.file)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
