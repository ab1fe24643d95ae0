#!/usr/bin/env bash
# Set-up for a fresh Debian/Ubuntu machine: system packages, a virtual environment in .venv, unimt.
#   bash scripts/install.sh          the app and the command line
#   bash scripts/install.sh --test   also what the test suite needs (MuseScore, Xvfb, pytest)
#   bash scripts/install.sh --dev    also training/packaging tools (PyInstaller, linters, ImageMagick for the bundle smoke test,
#                                    the csound GM soundfont whose piano validates transcription)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
apt_extra=()
for arg in "$@"; do
  case "$arg" in
    --test) extras="${extras:+$extras,}test"; apt_extra+=(musescore3 lilypond xvfb xauth) ;;
    --dev) extras="${extras:+$extras,}test,dev"; apt_extra+=(musescore3 lilypond xvfb xauth imagemagick binutils csound-soundfont) ;;
    *) echo "usage: bash scripts/install.sh [--test] [--dev]" >&2; exit 2 ;;
  esac
done

packages=(
  python3-venv                    # venv + pip on Debian's python3
  libfluidsynth3                  # FluidSynth, for MIDI -> audio
  fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small fluidr3mono-gm-soundfont   # GM soundfonts (pianos for training data too)
  libportaudio2                   # sounddevice playback
  libcairo2                       # cairosvg: engraved SVG -> PNG/PDF
  fonts-dejavu-core fonts-freefont-ttf   # text and metronome-mark symbols in engraved scores
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0   # Qt
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0 libxcb-randr0
  libtcmalloc-minimal4            # faster CPU training (optional preload)
)

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${packages[@]}" "${apt_extra[@]}"
else
  echo "not a Debian/Ubuntu system: install FluidSynth, PortAudio and cairo yourself (see README)" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned in pyproject.toml (2.13.0); this resolves to the CPU build where one is configured.
.venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
echo "unimt installed in $(pwd)/.venv"
