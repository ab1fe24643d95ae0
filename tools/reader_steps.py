"""What each step after CTC buys the staff reader: the readings of ``unimt eval --only image2lmx`` replayed
with the steps (:data:`model.inference.staff_reader.AFTER_STEPS`) added one at a time.

    python -m tools.reader_steps [--split validation] [--pieces 40] [--excerpts 3] [--weights model/weights]

The network reads every strip once (its outputs are kept in memory); each row of the table then joins the
same outputs with the steps named so far turned on. Run it on the validation split to choose settings.
"""

from __future__ import annotations

import argparse
import hashlib

_BASE = ("durations", "ties", "courtesy", "bars")
ROWS = [("as read", ()), ("+ note values fill the measure", ("durations",)),
        ("+ ties, courtesy signatures", ("durations", "ties", "courtesy")),
        ("+ grand-staff bar lines agree", _BASE),
        ("+ no opening bar line, pedals in pairs", _BASE + ("opening", "pedals")),
        ("+ hidden rests on single staves", _BASE + ("opening", "pedals", "fills")),
        ("+ chords read again where they do not ascend", _BASE + ("opening", "pedals", "fills", "chords")),
        ("+ a chord tied on some notes tied on all",
         _BASE + ("opening", "pedals", "fills", "chords", "tied chords")),
        ("+ voices read again where one overfills its measure",
         _BASE + ("opening", "pedals", "fills", "chords", "tied chords", "voices")),
        ("+ a pitch put back after a chord mark read without one",
         _BASE + ("opening", "pedals", "fills", "chords", "tied chords", "voices", "pitches")),
        ("+ ties and slurs to nothing at the score's ends dropped",
         _BASE + ("opening", "pedals", "fills", "chords", "tied chords", "voices", "pitches", "dangling")),
        ("+ no hidden rest after a measure's last printed note",
         _BASE + ("opening", "pedals", "fills", "chords", "tied chords", "voices", "pitches", "dangling",
                  "rests"))]


def main(argv=None) -> int:
    from model.errors import UnimtError
    from model.evaluate_reader import held_out_excerpts, readings
    from model.inference.staff_reader import get_reader
    from model.io.types import ScoreImage
    from model.metrics import SER
    from model.progress import Reporter

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="validation")
    ap.add_argument("--pieces", type=int, default=40)
    ap.add_argument("--excerpts", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", default="model/weights")
    args = ap.parse_args(argv)

    reader = get_reader(args.weights)
    network = reader.read_strips
    memo: dict = {}

    def read_strips(strips, batch: int = 8):
        key = hashlib.sha1(b"".join(s.tobytes() + str(s.shape).encode() for s in strips)).hexdigest()
        if key not in memo:
            memo[key] = network(strips, batch)
        return memo[key]

    reader.read_strips = read_strips
    items = held_out_excerpts(args.pieces, args.excerpts, args.seed, args.split)
    sers = {name: {} for name, _ in ROWS}
    for _, kind, pages, ref in readings(items, args.seed):
        staves = "grand" if "staff:2" in ref else "single"
        for name, steps in ROWS:
            reader.after = set(steps)
            try:
                hyp = reader.read(ScoreImage.from_arrays(pages), Reporter()).tokens
            except UnimtError:
                hyp = []
            for key in (f"{kind} {staves}", "all"):
                sers[name].setdefault(key, SER()).add(hyp, ref)
    cols = sorted(sers[ROWS[0][0]])
    print("| after reading | " + " | ".join(cols) + " |")
    print("| --- " * (len(cols) + 1) + "|")
    for name, row in sers.items():
        print(f"| {name} | " + " | ".join(f"{row[c].value:.2%}" for c in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
