"""Where model weights are found, in one explicit order.

1. an explicit path (``--weights`` or the app's setting);
2. the ``UNIMT_WEIGHTS`` environment variable;
3. the user's data folder (``~/.local/share/unimt/weights``, or the platform's equivalent);
4. the weights shipped inside the package (``model/weights/``).

A weights folder is self-describing: ``config.json`` (model and tokenizer configuration, vocabulary)
and ``model.safetensors``. Nothing is ever downloaded.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from model.errors import BadInputError, ModelUnavailableError

PACKAGED_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
WEIGHT_FILES = ("config.json", "model.safetensors")


def user_weights_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData/Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library/Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share"))
    return base / "unimt" / "weights"


def is_weights_dir(path: Path) -> bool:
    return path.is_dir() and all((path / f).is_file() for f in WEIGHT_FILES)


def candidate_dirs(explicit: Optional[str | Path] = None) -> list[Path]:
    out = []
    if explicit:
        out.append(Path(explicit).expanduser())
    env = os.environ.get("UNIMT_WEIGHTS")
    if env:
        out.append(Path(env).expanduser())
    out.append(user_weights_dir())
    out.append(PACKAGED_WEIGHTS)
    return out


def find_weights(explicit: Optional[str | Path] = None) -> Path:
    """The weights folder to use, or ModelUnavailableError saying where we looked."""
    if explicit:
        p = Path(explicit).expanduser()
        if p.is_file() and p.name == "model.safetensors":
            p = p.parent
        if not is_weights_dir(p):
            raise BadInputError(f"not a unimt weights folder (needs {' and '.join(WEIGHT_FILES)})", p)
        return p
    looked = candidate_dirs()
    for p in looked:
        if is_weights_dir(p):
            return p
    raise ModelUnavailableError(
        "this translation needs the unimt model, and no weights are installed (looked in "
        + ", ".join(str(p) for p in looked) + "); pass --weights DIR or set UNIMT_WEIGHTS")


def weights_available(explicit: Optional[str | Path] = None) -> bool:
    try:
        find_weights(explicit)
        return True
    except (ModelUnavailableError, BadInputError):
        return False


# what each model-backed step needs the weights to have been trained for (any one of the tasks)
STEP_TASKS = {"image": ("image2lmx",), "audio": ("audio2notes", "audio2midi"), "midi": ("midi2lmx",)}


def _config(folder: Path) -> dict:
    """A weights folder's ``config.json``; unreadable is a BadInputError naming the folder."""
    import json

    try:
        cfg = json.loads((Path(folder) / "config.json").read_text())
        if not isinstance(cfg, dict):
            raise ValueError("not a JSON object")
        return cfg
    except (OSError, ValueError) as exc:
        raise BadInputError(f"unreadable config.json ({exc})", folder) from None


def trained_for(source: str, folder: Path) -> bool:
    """Whether the weights in ``folder`` can do the model step from ``source`` ("image": read score images,
    "audio": transcribe recordings, "midi": write performances as scores), from ``config.json`` alone (the
    model is not loaded). An unreadable config.json is a BadInputError naming the folder."""
    if source == "image" and has_reader(folder):
        return True
    tasks = _config(folder).get("tasks", {})
    return any(t in tasks for t in STEP_TASKS.get(source, ()))


READER_FILES = ("reader.json", "reader.safetensors")


def has_reader(folder: str | Path) -> bool:
    """Whether ``folder`` holds the staff reader (:mod:`model.inference.staff_reader`) beside the main
    model."""
    return all((Path(folder) / f).is_file() for f in READER_FILES)


def weights_can(source: str, explicit: Optional[str | Path] = None) -> bool:
    """Whether the installed weights (or ``explicit``) can do the model step from ``source``; False when
    there are none or they are unreadable."""
    try:
        return trained_for(source, find_weights(explicit))
    except (ModelUnavailableError, BadInputError):
        return False


def notates_midi(folder: Path) -> bool:
    """Whether the weights in ``folder`` write performance MIDI as a score better than the music21 quantiser:
    trained for it, and marked so in ``config.json`` (``"inference": {"notate_midi": "model"}``) only once
    measured better on validation performances (see the README)."""
    cfg = _config(folder)
    trained = any(t in cfg.get("tasks", {}) for t in STEP_TASKS["midi"])
    return trained and cfg.get("inference", {}).get("notate_midi") == "model"


@dataclass(frozen=True)
class Capabilities:
    """What the weights in use can do, for menus and banners: the folder (None when there is none), where they
    were looked for, why none are usable, and the model steps they were trained for ("image": read score
    images, "audio": transcribe recordings, "midi": write performances as scores)."""

    folder: Optional[Path] = None
    looked_in: tuple[str, ...] = ()
    problem: str = ""
    steps: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.folder is not None

    def can(self, source: str) -> bool:
        return source in self.steps


def capabilities(explicit: Optional[str | Path] = None) -> Capabilities:
    """The :class:`Capabilities` of ``explicit`` or of the installed weights, from ``config.json`` alone (the
    model is not loaded); never raises."""
    try:
        folder = find_weights(explicit)
    except (ModelUnavailableError, BadInputError) as exc:
        looked = () if explicit else tuple(str(p) for p in candidate_dirs())
        return Capabilities(None, looked, str(exc))
    steps, problem = [], ""
    for step in STEP_TASKS:
        try:
            if trained_for(step, folder):
                steps.append(step)
        except BadInputError as exc:   # found, but its config.json is unreadable
            problem = str(exc)
    return Capabilities(folder, (str(folder),), problem, tuple(steps))
