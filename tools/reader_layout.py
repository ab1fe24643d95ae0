"""How often the staff reader's page layout tells a piano grand staff from two one-staff parts
(:attr:`model.omr.systems.System.grouped`), on held-out excerpts engraved as ``unimt eval`` engraves them.

    python -m tools.reader_layout [--split validation] [--pieces 40] [--seed 0] [--no-musescore]

Every two-staff excerpt (a grand staff, or two parts) is engraved by Verovio clean and degraded, by
MuseScore 3 and by LilyPond where installed; each system of two or more staves found on the pages is
counted by what it is and what it was taken for.
"""

from __future__ import annotations

import argparse
from collections import Counter


def main(argv=None) -> int:
    import numpy as np

    from model.data.degrade import degrade
    from model.data.staff_images import engrave_system
    from model.evaluate_reader import held_out_excerpts, lilypond_pages, musescore_pages
    from model.omr.systems import find_systems
    from model.tokenizers.lmx import delinearize

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="validation")
    ap.add_argument("--pieces", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-musescore", action="store_true",
                    help="Verovio only (MuseScore 3 and LilyPond are slow)")
    args = ap.parse_args(argv)

    counts: Counter = Counter()
    items = held_out_excerpts(args.pieces, 3, args.seed, args.split, log=lambda *a: None)
    for k, (source, ref) in enumerate(items):
        kind = "grand staff" if "staff:2" in ref else "two parts" if "part" in ref else None
        if kind is None:
            continue
        rng = np.random.default_rng([args.seed, 7, k])
        xml = delinearize(ref)
        clean = engrave_system(xml, rng)
        degraded = degrade(clean, rng, float(rng.uniform(0.2, 1.0)))
        sets = {"verovio clean": [clean], "verovio degraded": [degraded]}
        if not args.no_musescore:
            sets["musescore"] = musescore_pages(xml) or []
            sets["lilypond"] = lilypond_pages(xml) or []
        for engraving, pages in sets.items():
            for system in (s for page in pages for s in find_systems(page)[0] if len(s.staves) >= 2):
                taken = "grand staff" if system.grouped else "two parts"
                counts[(kind, engraving, taken)] += 1
                if taken != kind:
                    print(f"{source} ({engraving}): a {kind} taken for {taken}", flush=True)
    print("| excerpt | engraving | taken for | systems |\n| --- | --- | --- | --- |")
    for (kind, engraving, taken), n in sorted(counts.items()):
        print(f"| {kind} | {engraving} | {taken} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
