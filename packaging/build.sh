#!/usr/bin/env bash
# Build the one-folder desktop bundle dist/unimt/ (runs without Python) with PyInstaller.
#   bash scripts/install.sh --dev && bash packaging/build.sh
# Then: dist/unimt/unimt [FILE]  (the app)   dist/unimt/unimt convert IN OUT  (the command line)
# and bash packaging/smoke_test.sh to check the bundle.
# Ships model/weights/ when it exists, a TimGM6mb soundfont, Verovio's data and the Qt plugins.
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER=${PYINSTALLER:-.venv/bin/pyinstaller}
if [ ! -x "$PYINSTALLER" ]; then
  echo "PyInstaller not found at $PYINSTALLER: run 'bash scripts/install.sh --dev' first" >&2
  exit 1
fi

start=$(date +%s)
rm -rf dist/unimt build/pyinstaller
"$PYINSTALLER" --noconfirm --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" \
  --distpath dist --workpath build/pyinstaller packaging/unimt.spec
end=$(date +%s)

test -x dist/unimt/unimt
echo "built dist/unimt in $((end - start)) s: $(du -sh dist/unimt | cut -f1)"
if [ -d dist/unimt/_internal/model/weights ]; then
  echo "model weights: shipped"
else
  echo "model weights: none (reading score images and audio needs weights: pass --weights or set UNIMT_WEIGHTS)"
fi
echo "run it: dist/unimt/unimt [FILE]   or   dist/unimt/unimt convert IN OUT"
echo "desktop entry: put dist/unimt on PATH and copy dist/unimt/resources/unimt.desktop to ~/.local/share/applications/"
