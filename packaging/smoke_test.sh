#!/usr/bin/env bash
# Smoke test of the built bundle (bash packaging/build.sh first), headless. Not in CI: it takes minutes.
#   bash packaging/smoke_test.sh [BUNDLE_DIR]      (default dist/unimt)
# Checks: --version/--help; MusicXML -> WAV (not silent), -> PDF (%PDF), -> PNG (engraved by the bundle);
# WAV with the system's soundfonts and FluidSynth hidden (the bundle's own); PNG -> MusicXML (with shipped
# weights: a score; without: the one-line "no weights are installed" error and a non-zero exit);
# `unimt bench`; the desktop app under Xvfb, screenshot in dist/smoke/unimt-bundle.png.
# Needs: xvfb-run, ImageMagick's `import` (apt-get install xvfb xauth imagemagick), python3 (stdlib only,
# to inspect the outputs; the bundle itself needs no Python).
set -uo pipefail
cd "$(dirname "$0")/.."

BUNDLE=${1:-dist/unimt}
EXE="$BUNDLE/unimt"
SHOTS=dist/smoke
PY=${PYTHON:-python3}
[ -x "$EXE" ] || { echo "no bundle at $EXE: run bash packaging/build.sh first" >&2; exit 2; }
mkdir -p "$SHOTS"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Only the bundle's own weights: no user weights folder, no UNIMT_WEIGHTS.
export XDG_DATA_HOME="$TMP/xdg"
unset UNIMT_WEIGHTS UNIMT_SOUNDFONT

failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
exec 3>&1
timed() { local t0=$SECONDS; "$@"; local rc=$?; echo "      ($((SECONDS - t0)) s: ${2:-$1} ... ${*: -1})" >&3; return $rc; }

# A small piano piece (two staves, a melody over chords, 16 bars so the systems span the page), written by
# hand so no Python is needed.
measure() {  # measure N: a scale step melody over a chord
  local n=$1 attrs="" steps=(C D E F G A B) s
  s=${steps[$(((n - 1) % 7))]}
  if [ "$n" = 1 ]; then
    attrs='<attributes><divisions>1</divisions><key><fifths>0</fifths></key><time><beats>4</beats><beat-type>4</beat-type></time><staves>2</staves><clef number="1"><sign>G</sign><line>2</line></clef><clef number="2"><sign>F</sign><line>4</line></clef></attributes>
      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit><per-minute>160</per-minute></metronome></direction-type><sound tempo="160"/></direction>'
  fi
  cat <<XML
    <measure number="$n">
      $attrs
      <note><pitch><step>$s</step><octave>5</octave></pitch><duration>1</duration><voice>1</voice><type>quarter</type><staff>1</staff></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><voice>1</voice><type>quarter</type><staff>1</staff></note>
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>2</duration><voice>1</voice><type>half</type><staff>1</staff></note>
      <backup><duration>4</duration></backup>
      <note><pitch><step>C</step><octave>3</octave></pitch><duration>4</duration><voice>5</voice><type>whole</type><staff>2</staff></note>
      <note><chord/><pitch><step>G</step><octave>3</octave></pitch><duration>4</duration><voice>5</voice><type>whole</type><staff>2</staff></note>
    </measure>
XML
}
{
  cat <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">
<score-partwise version="4.0">
  <work><work-title>Bundle smoke test</work-title></work>
  <part-list><score-part id="P1"><part-name>Piano</part-name></score-part></part-list>
  <part id="P1">
XML
  for n in $(seq 1 16); do measure "$n"; done
  echo '  </part>'
  echo '</score-partwise>'
} > "$TMP/in.musicxml"

wav_peak() {  # the WAV's peak sample (16/24/32-bit PCM), or nothing when unreadable
  "$PY" - "$1" <<'PYEOF'
import sys, wave
try:
    with wave.open(sys.argv[1]) as w:
        width, frames = w.getsampwidth(), w.readframes(w.getnframes())
        print(w.getnframes() / w.getframerate(), file=sys.stderr)
except Exception as exc:
    print(f"unreadable WAV: {exc}", file=sys.stderr)
    sys.exit(1)
peak = max((abs(int.from_bytes(frames[i:i + width], "little", signed=True)) for i in range(0, len(frames), width)),
           default=0)
print(peak / float(2 ** (8 * width - 1)))
PYEOF
}

check_wav() {  # check_wav FILE WHAT
  local peak
  if [ ! -s "$1" ]; then fail "$2: $1 missing or empty"; return; fi
  peak=$(wav_peak "$1" 2>"$TMP/wavinfo") || { fail "$2: $(cat "$TMP/wavinfo")"; return; }
  if "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.01 else 1)" "$peak"; then
    pass "$2: $(du -k "$1" | cut -f1) KB, $(cat "$TMP/wavinfo") s, peak $peak"
  else
    fail "$2: silent WAV (peak $peak)"
  fi
}

echo "== bundle $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"

# -- command line ------------------------------------------------------------------------------------
if out=$("$EXE" --version 2>&1) && [[ "$out" == unimt\ * ]]; then pass "--version: $out"; else fail "--version: $out"; fi
if "$EXE" --help > "$TMP/help.txt" 2>&1 && grep -q convert "$TMP/help.txt"; then pass "--help lists the commands"
else fail "--help: $(head -c 300 "$TMP/help.txt")"; fi
if "$EXE" convert --help > "$TMP/chelp.txt" 2>&1 && grep -q "notation -> audio" "$TMP/chelp.txt"; then
  pass "convert --help lists the translations"
else fail "convert --help: $(head -c 300 "$TMP/chelp.txt")"; fi

# -- MusicXML -> WAV, PDF, PNG ------------------------------------------------------------------------------
if timed "$EXE" convert -q "$TMP/in.musicxml" "$TMP/out.wav" > "$TMP/log" 2>&1; then
  check_wav "$TMP/out.wav" "MusicXML -> WAV"
else fail "MusicXML -> WAV: $(cat "$TMP/log")"; fi

if timed "$EXE" convert -q "$TMP/in.musicxml" "$TMP/out.pdf" > "$TMP/log" 2>&1 \
   && [ "$(head -c 4 "$TMP/out.pdf")" = "%PDF" ]; then
  pass "MusicXML -> PDF: $(du -k "$TMP/out.pdf" | cut -f1) KB, starts with %PDF"
  cp "$TMP/out.pdf" "$SHOTS/unimt-bundle.pdf"
else fail "MusicXML -> PDF: $(cat "$TMP/log")"; fi

page=""
if timed "$EXE" convert -q "$TMP/in.musicxml" "$TMP/page.png" > "$TMP/log" 2>&1; then
  page=$(head -n 1 "$TMP/log")
  if [ -s "$page" ] && [ "$(head -c 4 "$page" | tail -c 3)" = "PNG" ]; then
    pass "MusicXML -> PNG (engraved by the bundle): $page, $(du -k "$page" | cut -f1) KB"
    cp "$page" "$SHOTS/unimt-bundle-page.png"
  else fail "MusicXML -> PNG: not a PNG: $page"; page=""; fi
else fail "MusicXML -> PNG: $(cat "$TMP/log")"; fi

# -- the bundle's own soundfont and FluidSynth: hide the system's (needs root and unshare) -------------
if [ "$(id -u)" = 0 ] && command -v unshare > /dev/null; then
  hide=""
  for d in /usr/share/sounds /usr/share/soundfonts; do [ -d "$d" ] && hide+="mount -t tmpfs none $d; "; done
  for lib in $(ldconfig -p | awk '/libfluidsynth\.so/ {print $NF}'); do hide+="mount --bind /dev/null $lib; "; done
  if unshare -m sh -c "${hide}exec \"\$0\" convert -q \"\$1\" \"\$2\"" "$EXE" "$TMP/in.musicxml" "$TMP/own.wav" \
       > "$TMP/log" 2>&1; then
    check_wav "$TMP/own.wav" "MusicXML -> WAV, system soundfonts and libfluidsynth hidden"
  else fail "MusicXML -> WAV with the system's soundfonts and FluidSynth hidden: $(cat "$TMP/log")"; fi
else
  sf="$BUNDLE/_internal/pretty_midi/TimGM6mb.sf2"
  if "$EXE" convert -q --soundfont "$sf" "$TMP/in.musicxml" "$TMP/own.wav" > "$TMP/log" 2>&1; then
    check_wav "$TMP/own.wav" "MusicXML -> WAV with the bundled soundfont (not root: system one not hidden)"
  else fail "MusicXML -> WAV with the bundled soundfont: $(cat "$TMP/log")"; fi
fi

# -- score image -> MusicXML ------------------------------------------------------------------------------
if [ -z "$page" ]; then
  fail "PNG -> MusicXML: no engraved page to read"
elif [ -d "$BUNDLE/_internal/model/weights" ]; then
  if $PY -c 'import json, sys; sys.exit("image2lmx" not in json.load(open(sys.argv[1])).get("tasks", {}))' \
     "$BUNDLE/_internal/model/weights/config.json"; then
    if timed "$EXE" convert -q "$page" "$TMP/read.musicxml" > "$TMP/log" 2>&1 \
       && grep -q "<score-partwise" "$TMP/read.musicxml"; then
      pass "PNG -> MusicXML with the shipped weights: $(grep -o "<note" "$TMP/read.musicxml" | wc -l) notes"
    else fail "PNG -> MusicXML with the shipped weights: $(cat "$TMP/log")"; fi
  else   # weights that only transcribe: reading a page says so in one line
    "$EXE" convert -q "$page" "$TMP/read.musicxml" > "$TMP/out.txt" 2> "$TMP/err.txt"
    rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l < "$TMP/err.txt")" -eq 1 ] && grep -q "not trained to read score images" \
       "$TMP/err.txt" && [ ! -e "$TMP/read.musicxml" ]; then
      pass "PNG -> MusicXML with weights that only transcribe: exit $rc, one line: $(cut -c 1-90 "$TMP/err.txt")..."
    else fail "PNG -> MusicXML with weights that only transcribe: exit $rc, stderr: $(cat "$TMP/err.txt")"; fi
  fi
  # the shipped note head transcribes the bundle's own rendition of the score
  if [ -s "$TMP/out.wav" ] && timed "$EXE" convert -q "$TMP/out.wav" "$TMP/heard.mid" > "$TMP/log" 2>&1 \
     && [ -s "$TMP/heard.mid" ]; then
    pass "WAV -> MIDI with the shipped weights: $(wc -c < "$TMP/heard.mid") bytes"
  else fail "WAV -> MIDI with the shipped weights: $(cat "$TMP/log")"; fi
else
  echo "      (no weights shipped in this bundle: checking the clear error instead of a translation)"
  "$EXE" convert -q "$page" "$TMP/read.musicxml" > "$TMP/out.txt" 2> "$TMP/err.txt"
  rc=$?
  if [ $rc -ne 0 ] && [ "$(wc -l < "$TMP/err.txt")" -eq 1 ] && grep -q "no weights are installed" "$TMP/err.txt" \
     && grep -q "_internal/model/weights" "$TMP/err.txt" && [ ! -e "$TMP/read.musicxml" ]; then
    pass "PNG -> MusicXML without weights: exit $rc, one line: $(cut -c 1-110 "$TMP/err.txt")..."
  else fail "PNG -> MusicXML without weights: exit $rc, stderr: $(cat "$TMP/err.txt")"; fi
fi

# -- torch loads in the bundle: a broken weights folder is reported as such (no Python needed) -------------
if [ -n "$page" ]; then
  mkdir -p "$TMP/broken"
  echo "not json" > "$TMP/broken/config.json"
  echo "not weights" > "$TMP/broken/model.safetensors"
  UNIMT_WEIGHTS="$TMP/broken" "$EXE" convert -q "$page" "$TMP/broken.musicxml" > "$TMP/out.txt" 2> "$TMP/err.txt"
  rc=$?
  if [ $rc -eq 1 ] && grep -q "unreadable config.json" "$TMP/err.txt"; then
    pass "PNG -> MusicXML with a broken weights folder: torch loads, exit 1: $(cut -c 1-90 "$TMP/err.txt")..."
  else fail "PNG -> MusicXML with a broken weights folder: exit $rc: $(cat "$TMP/err.txt")"; fi
fi

# -- the model's code path (torch) in the bundle, with tiny random weights made by the dev venv ----------------
# Their output is nonsense; this checks that loading weights and decoding run in the bundle.
VENV_PY=${VENV_PY:-.venv/bin/python}
if [ -n "$page" ] && [ -x "$VENV_PY" ]; then
  if "$VENV_PY" - "$TMP/tiny" > "$TMP/log" 2>&1 <<'PYEOF'
import sys
from dataclasses import asdict

import torch

from model.tokenizers.audio import MelConfig
from model.tokenizers.lmx import LMXTokenizer
from model.tokenizers.midi import MidiTokenizer
from model.tokenizers.score_image import SystemImageConfig
from model.bundle import save_bundle
from model.training.data import make_vocabulary
from model.transformer import ModelConfig, Seq2Seq

torch.manual_seed(0)
lmx, midi = LMXTokenizer(), MidiTokenizer()
vocab = make_vocabulary(lmx, midi)
model = Seq2Seq(config=ModelConfig.preset("tiny", vocab_size=vocab.size, max_tgt_len=48))
save_bundle(sys.argv[1], model, {
    "vocab": vocab.to_dict(), "tasks": {"image2lmx": 1.0}, "inference": {"audio_window_s": 4.0},
    "tokenizers": {"lmx": {"config": asdict(lmx.config)}, "midi": {"config": asdict(midi.config)},
                   "image": {"config": asdict(SystemImageConfig())}, "audio": {"config": asdict(MelConfig())}}})
PYEOF
  then
    if UNIMT_WEIGHTS="$TMP/tiny" timed "$EXE" convert -q "$page" "$TMP/tiny.musicxml" > "$TMP/log" 2>&1 \
       && grep -q "<score-partwise" "$TMP/tiny.musicxml"; then
      pass "PNG -> MusicXML with tiny random weights (UNIMT_WEIGHTS): the model runs in the bundle"
    else fail "PNG -> MusicXML with tiny random weights: $(cat "$TMP/log")"; fi
  else fail "could not make tiny weights with $VENV_PY: $(tail -n 2 "$TMP/log")"; fi
else
  echo "      (skipped: the model run with tiny random weights needs the dev venv, $VENV_PY)"
fi

# -- unimt bench (engraving, synthesis, PDF reading; uses the one corpus piece the bundle ships) -------------
if timed "$EXE" bench > "$TMP/bench.txt" 2>&1; then
  pass "bench: $(tr '\n' ' ' < "$TMP/bench.txt" | cut -c 1-200)"
else fail "bench: $(tail -n 3 "$TMP/bench.txt")"; fi

# -- the desktop app under Xvfb -------------------------------------------------------------------------------
if ! command -v xvfb-run > /dev/null || ! command -v import > /dev/null; then
  fail "GUI: needs xvfb-run and ImageMagick's import (apt-get install xvfb xauth imagemagick)"
else
  rm -f "$SHOTS/unimt-bundle.png"
  WAIT=${UNIMT_SMOKE_WAIT:-12}
  xvfb-run -a -s "-screen 0 1600x1000x24" bash -c '
    "$1" "$2" > "$3/gui.log" 2>&1 &
    pid=$!
    sleep "$5"
    if kill -0 $pid 2> /dev/null; then
      import -window root "$4"
      kill $pid; wait $pid 2> /dev/null
      exit 0
    fi
    wait $pid; echo "exited early with status $?" >> "$3/gui.log"; exit 1' \
    _ "$EXE" "$TMP/in.musicxml" "$TMP" "$SHOTS/unimt-bundle.png" "$WAIT"
  rc=$?
  if [ $rc -eq 0 ] && [ -s "$SHOTS/unimt-bundle.png" ]; then
    colours=$(identify -format "%k" "$SHOTS/unimt-bundle.png" 2> /dev/null || echo "?")
    if [ "$colours" != "?" ] && [ "$colours" -gt 16 ]; then
      pass "GUI: running after ${WAIT} s, screenshot $SHOTS/unimt-bundle.png ($colours colours)"
    else fail "GUI: screenshot looks empty ($colours colours)"; fi
  else fail "GUI: $(tail -n 5 "$TMP/gui.log")"; fi
fi

if [ $failures -eq 0 ]; then echo "== all checks passed"; else echo "== $failures check(s) failed"; fi
exit $((failures > 0))
