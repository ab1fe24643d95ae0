"""A quick look and timing::

    python -m model.data.generate --seed 1 --count 20 [--out DIR] [--measures 8] [--style waltz]"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import Optional

from model.data.generate.features import count_features
from model.data.generate.piece import generate_piece
from model.data.generate.plan import STYLES


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--measures", type=int, default=8)
    ap.add_argument("--style", choices=STYLES)
    ap.add_argument("--out", help="write seed_N.musicxml files here")
    ap.add_argument("--export", action="store_true", help="also time the MusicXML export")
    args = ap.parse_args(argv)
    from pathlib import Path

    from music21.musicxml.m21ToXml import GeneralObjectExporter

    total = Counter()
    t0 = time.perf_counter()
    t_gen = 0.0
    for s in range(args.seed, args.seed + args.count):
        t = time.perf_counter()
        score = generate_piece(s, args.measures, args.style)
        t_gen += time.perf_counter() - t
        total += count_features(score)
        if args.out or args.export:
            data = GeneralObjectExporter(score).parse()
            if args.out:
                Path(args.out).mkdir(parents=True, exist_ok=True)
                (Path(args.out) / f"seed_{s}.musicxml").write_bytes(data)
    dt = time.perf_counter() - t0
    print(
        f"{args.count} pieces: generate {args.count / t_gen:.1f}/s, with stats/export {args.count / dt:.1f}/s"
    )
    for k, v in sorted(total.items()):
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
