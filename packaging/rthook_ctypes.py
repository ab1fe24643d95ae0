"""PyInstaller runtime hook: ctypes.util.find_library looks in the bundle first.

pyfluidsynth (and sounddevice, cairocffi) look their C libraries up with ``ctypes.util.find_library``, which
on Linux asks ``ldconfig`` and so never sees the copies shipped in the bundle: without this, a machine
without FluidSynth or PortAudio installed would fail although the bundle carries them.
"""

import ctypes.util
import glob
import os
import sys

_system_find_library = ctypes.util.find_library


def _bundled_find_library(name):
    base = getattr(sys, "_MEIPASS", None)
    if base and name:
        stem = name if name.startswith("lib") else "lib" + name
        for pattern in (stem + ".so", stem + ".so.*", stem + ".dylib", name + ".dll"):
            hits = sorted(glob.glob(os.path.join(glob.escape(base), pattern)))
            if hits:
                return hits[0]
    return _system_find_library(name)


ctypes.util.find_library = _bundled_find_library
