"""unimt against basic-pitch on the same recordings of held-out rooms (``unimt eval --only rooms`` + a peer).

    python -m tools.compare_rooms [--weights DIR] [--pieces 8] [--excerpts 2] [--seed 0]
        [--conditions dry,living,reverberant,drr+10,drr0,drr-6,drr-12]
        [--basic-pitch-python /work/bp-venv/bin/python] [--json OUT]

basic-pitch runs in its own virtual environment (it wants numpy < 2.3 and onnxruntime; nothing of it enters
the project's environment or the shipped package), as one subprocess per condition: every recording is
written as a 16 kHz WAV, basic-pitch 0.4.0 (its ONNX model, default thresholds) transcribes them all, and its
notes come back as JSON. Both systems are scored by :func:`model.evaluate_rooms.evaluate_rooms` on the same
audio in the same run. Setting up that environment (measured on Debian 12, Python 3.11):

    python3 -m venv /work/bp-venv
    /work/bp-venv/bin/pip install --no-deps basic-pitch==0.4.0
    /work/bp-venv/bin/pip install onnxruntime librosa 'resampy<0.4.3' 'setuptools<81' scikit-learn \\
        pretty_midi mir_eval soundfile 'numpy<2.3'
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

RUNNER = r"""
import json, logging, sys
logging.disable(logging.WARNING)
from basic_pitch import FilenameSuffix, build_icassp_2022_model_path
from basic_pitch.inference import Model, predict
model = Model(build_icassp_2022_model_path(FilenameSuffix.onnx))
paths = json.load(open(sys.argv[1]))
out = []
for p in paths:
    _, pm, _ = predict(p, model)
    out.append([[int(n.pitch), float(n.start), float(n.end), int(n.velocity)] for i in pm.instruments
                for n in i.notes])
json.dump(out, open(sys.argv[2], "w"))
"""


def basic_pitch_system(python: str, log=print):
    """fn(list of float32 16 kHz arrays) -> list of PrettyMIDI, basic-pitch in ``python``'s environment; None
    when that interpreter cannot import basic-pitch (said why in the log)."""
    check = None
    if Path(python).exists():
        check = subprocess.run([python, "-c", "import basic_pitch, onnxruntime"], capture_output=True,
                               text=True)
    if check is None or check.returncode != 0:
        log(f"basic-pitch unavailable in {python}: "
            f"{'no such interpreter' if check is None else check.stderr.strip().splitlines()[-1]}")
        return None

    def transcribe(audios):
        import numpy as np
        import pretty_midi
        import soundfile

        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for k, a in enumerate(audios):
                paths.append(str(Path(tmp) / f"{k}.wav"))
                soundfile.write(paths[-1], np.asarray(a, dtype=np.float32), 16000, subtype="FLOAT")
            (Path(tmp) / "in.json").write_text(json.dumps(paths))
            res = subprocess.run([python, "-c", RUNNER, str(Path(tmp) / "in.json"),
                                  str(Path(tmp) / "out.json")], capture_output=True, text=True)
            if res.returncode != 0:
                raise RuntimeError(f"basic-pitch failed: {res.stderr.strip()[-2000:]}")
            notes = json.loads((Path(tmp) / "out.json").read_text())
        out = []
        for piece in notes:
            pm = pretty_midi.PrettyMIDI()
            inst = pretty_midi.Instrument(0)
            inst.notes = [pretty_midi.Note(int(v), int(p), float(s), float(e)) for p, s, e, v in piece]
            pm.instruments.append(inst)
            out.append(pm)
        return out

    return transcribe


def main(argv=None) -> int:
    from model.evaluate_rooms import CONDITIONS, evaluate_rooms, print_table
    from model.io.atomic import write_bytes_atomic

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--pieces", type=int, default=8)
    ap.add_argument("--excerpts", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--split", choices=["test", "validation"], default="test")
    ap.add_argument("--basic-pitch-python", default="/work/bp-venv/bin/python")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--dense", action="store_true", help="the densest excerpts of four times as many pieces")
    ap.add_argument("--transpose", type=int, default=0, help="every excerpt moved by this many semitones")
    args = ap.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    bp = basic_pitch_system(args.basic_pitch_python, log)
    report = evaluate_rooms(args.weights, args.pieces, args.excerpts, args.seed,
                            tuple(c.strip() for c in args.conditions.split(",") if c.strip()),
                            systems={"basic-pitch 0.4.0": bp} if bp else {}, split=args.split, log=log,
                            dense=args.dense, transpose=args.transpose)
    print_table(report)
    if args.json:
        write_bytes_atomic(args.json, json.dumps(report, indent=2).encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
