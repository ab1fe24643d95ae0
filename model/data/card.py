"""The dataset card of a data build, and pictures of what is in it.

    unimt data card DIR [--json OUT] [--markdown OUT] [--sheet OUT.png] [--spectrograms OUT.png]

Reads ``DIR/manifest.json`` and every shard it lists, and reports:

* records per task, split and source (generated, or the corpus folder such as ``bach``);
* images clean and degraded, hours of audio per soundfont;
* how often each notation feature occurs, as the share of excerpts that contain it (tuplets, ties,
  chords, several voices on one staff, grace notes, clef/key/time changes inside the excerpt, ...);
* with ``--sheet``, a contact sheet of 24 random degraded system images exactly as the model sees
  them; with ``--spectrograms``, the log-mel spectrograms of a few audio clips.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Optional

import numpy as np

from model.tokenizers.lmx_vocab import CLEFS, PITCH_SET, TUPLET_RATIOS

_PITCH = PITCH_SET
_TUPLETS = frozenset(TUPLET_RATIOS)
_CLEFS = frozenset(CLEFS)

#: feature name -> description (the order of the card)
FEATURES = {
    "grand_staff": "two staves (grand staff)",
    "chords": "chords",
    "voices": "two or more voices on one staff",
    "tuplets": "tuplets",
    "ties": "ties",
    "grace": "grace notes",
    "accidentals": "written accidentals",
    "clef_change": "clef change inside the excerpt",
    "key_change": "key change inside the excerpt",
    "time_change": "time change inside the excerpt",
    "dynamics": "dynamics or hairpins",
    "slurs": "slurs",
    "articulations": "articulations or ornaments",
    "pedal": "pedal marks",
    "repeats": "repeat bar lines or endings",
}


def excerpt_features(tokens: list[str]) -> set[str]:
    """The notation features one excerpt's LMX tokens contain."""
    out: set[str] = set()
    seen_note = False
    voice, staff = "voice:1", "staff:1"
    pending = False
    pairs: set[tuple[str, str]] = set()
    prev = ""
    for t in tokens:
        if t in _PITCH or t in ("rest", "rest:measure"):
            if pending:
                pairs.add((staff, voice))
            pending, seen_note = True, True
        elif t in ("measure", "backup", "forward", "part"):
            if pending:
                pairs.add((staff, voice))
            pending = False
            if t in ("measure", "part"):   # note state resets at each measure and part
                voice, staff = "voice:1", "staff:1"
        owned = prev in _CLEFS or prev.startswith(("dynamics:", "wedge:", "pedal:", "bpm:"))
        prev = t
        if t.startswith("voice:"):
            voice = t
        elif t.startswith("staff:"):
            if t == "staff:2":
                out.add("grand_staff")
            if not owned:          # a staff after a clef or direction belongs to it, not to a note
                staff = t
        elif t == "chord":
            out.add("chords")
        elif t in _TUPLETS:
            out.add("tuplets")
        elif t == "tied:start":
            out.add("ties")
        elif t in ("grace", "grace:slash"):
            out.add("grace")
        elif t in ("sharp", "flat", "natural", "double-sharp", "flat-flat", "natural-sharp", "natural-flat",
                   "sharp-sharp"):
            out.add("accidentals")
        elif t in _CLEFS and seen_note:
            out.add("clef_change")
        elif t.startswith("key:") and seen_note:
            out.add("key_change")
        elif t == "time" and seen_note:
            out.add("time_change")
        elif t.startswith(("dynamics:", "wedge:")):
            out.add("dynamics")
        elif t == "slur:start":
            out.add("slurs")
        elif t in ("staccato", "accent", "strong-accent", "tenuto", "staccatissimo", "trill-mark", "mordent",
                   "inverted-mordent", "turn", "inverted-turn", "fermata", "arpeggiate"):
            out.add("articulations")
        elif t.startswith("pedal:"):
            out.add("pedal")
        elif t.startswith(("repeat:", "ending:")):
            out.add("repeats")
    if pending:
        pairs.add((staff, voice))
    per_staff = Counter(s for s, _ in pairs)
    if any(n >= 2 for n in per_staff.values()):
        out.add("voices")
    return out


def _source_kind(source: str) -> str:
    return "generated" if source.startswith("generated:") else source.split("/")[0]


def card(data_dir: Path, fps: float = 100.0) -> dict:
    """Counts and feature frequencies of a data build (see the module docstring)."""
    from model.data.build import read_shard, tasks_of

    manifest = json.loads((data_dir / "manifest.json").read_text())
    tasks = tuple(manifest["settings"]["tasks"])
    by_task_split: dict = defaultdict(Counter)
    by_source: dict = defaultdict(Counter)
    units = Counter()
    features = Counter()
    excerpts = 0
    images = Counter()
    audio_s = Counter()
    measures = Counter()
    failed = [e for e in manifest["shards"] if e.get("error")]
    for entry in manifest["shards"]:
        if not entry.get("file"):
            continue
        split = entry["split"]
        kind = _source_kind(entry["source"])
        units[(split, "generated" if kind == "generated" else "corpus")] += 1
        for h, arr in read_shard(data_dir / entry["file"]):
            for t in tasks_of(h, tasks):
                by_task_split[t][split] += 1
                by_source[kind][t] += 1
            if h["task"] == "image":
                images["degraded" if h.get("degraded") else "clean"] += 1
            if h["task"] == "audio2midi" and arr is not None:
                audio_s[h.get("soundfont", "?")] += len(arr) / fps
            # one record per excerpt carries its features: the image, else the MIDI/audio score pair
            if h["task"] == "image" or (h["task"] in ("midi2lmx", "audio2lmx") and "image2lmx" not in tasks):
                excerpts += 1
                measures[h.get("measures", 0)] += 1
                features.update(excerpt_features(h["tgt_lmx"]))
    return {
        "data_dir": str(data_dir), "complete": manifest.get("complete", False), "seed": manifest.get("seed"),
        "units": {f"{s}/{k}": n for (s, k), n in sorted(units.items())},
        "failed_units": len(failed),
        "records": {t: dict(sorted(c.items())) for t, c in sorted(by_task_split.items())},
        "records_by_source": {k: dict(sorted(c.items())) for k, c in sorted(by_source.items())},
        "images": dict(images),
        "audio_hours": round(sum(audio_s.values()) / 3600, 3),
        "audio_hours_by_soundfont": {k: round(v / 3600, 3) for k, v in sorted(audio_s.items())},
        "excerpts": excerpts,
        "measures_per_excerpt": dict(sorted(measures.items())),
        "features": {k: round(features[k] / max(1, excerpts), 4) for k in FEATURES},
        "build_seconds": manifest.get("seconds"), "workers": manifest.get("workers"),
    }


def markdown(c: dict) -> str:
    """The card as a Markdown section."""
    lines = [f"Build `{c['data_dir']}` (seed {c['seed']}, {'complete' if c['complete'] else 'partial'}): "
             + ", ".join(f"{n} {k} units" for k, n in c["units"].items())
             + f"; {c['failed_units']} units failed.", ""]
    splits = sorted({s for t in c["records"].values() for s in t})
    lines += ["| task | " + " | ".join(splits) + " |", "| --- |" + " --- |" * len(splits)]
    for t, cnt in c["records"].items():
        lines.append(f"| {t} | " + " | ".join(str(cnt.get(s, 0)) for s in splits) + " |")
    lines.append("")
    tasks = list(c["records"])
    lines += ["| source | " + " | ".join(tasks) + " |", "| --- |" + " --- |" * len(tasks)]
    for k, cnt in sorted(c["records_by_source"].items(), key=lambda kv: -sum(kv[1].values())):
        lines.append(f"| {k} | " + " | ".join(str(cnt.get(t, 0)) for t in tasks) + " |")
    lines.append("")
    lines.append(f"Images: {c['images'].get('clean', 0)} clean, {c['images'].get('degraded', 0)} degraded. "
                 f"Audio: {c['audio_hours']:.2f} h ("
                 + ", ".join(f"{k} {v:.2f} h" for k, v in c["audio_hours_by_soundfont"].items()) + ").")
    lines += ["", f"Notation features, share of the {c['excerpts']} excerpts that contain them:", "",
              "| feature | share |", "| --- | --- |"]
    for k, desc in FEATURES.items():
        lines.append(f"| {desc} | {c['features'][k]:.1%} |")
    return "\n".join(lines) + "\n"


def _degraded_images(data_dir: Path, n: int, seed: int) -> list[np.ndarray]:
    from model.data.build import read_shard

    manifest = json.loads((data_dir / "manifest.json").read_text())
    files = [e["file"] for e in manifest["shards"] if e.get("file")]
    rng = np.random.default_rng(seed)
    rng.shuffle(files)
    out: list[np.ndarray] = []
    for f in files:
        imgs = [a for h, a in read_shard(data_dir / f) if h["task"] == "image" and h.get("degraded")]
        if imgs:
            out.append(imgs[int(rng.integers(len(imgs)))])
        if len(out) >= n:
            break
    return out


def _trim(canvas: np.ndarray) -> np.ndarray:
    """Drop the right-hand padding of a system canvas."""
    cols = np.where((canvas < 250).any(axis=0))[0]
    return canvas[:, : cols[-1] + 8] if len(cols) else canvas


def contact_sheet_png(data_dir: Path, out: Path, n: int = 24, seed: int = 0) -> int:
    from PIL import Image

    from model.data.degrade import contact_sheet

    imgs = [_trim(a) for a in _degraded_images(data_dir, n, seed)]
    sheet = contact_sheet(imgs, columns=2, width=1600)
    _save(Image.fromarray(sheet), out)
    return len(imgs)


def spectrograms_png(data_dir: Path, out: Path, n: int = 6, seed: int = 0) -> int:
    """The log-mel frames of ``n`` random audio clips (time left to right, low notes at the bottom)."""
    from PIL import Image

    from model.data.build import read_shard

    manifest = json.loads((data_dir / "manifest.json").read_text())
    files = [e["file"] for e in manifest["shards"] if e.get("file")]
    rng = np.random.default_rng(seed)
    rng.shuffle(files)
    tiles = []
    for f in files:
        clips = [(h, a) for h, a in read_shard(data_dir / f) if h["task"] == "audio2lmx" and a is not None]
        if not clips:
            continue
        h, a = clips[int(rng.integers(len(clips)))]
        m = a.astype(np.float32).T[::-1]                  # mel bins x frames, low at the bottom
        lo, hi = np.percentile(m, 1), np.percentile(m, 99.5)
        g = np.clip((m - lo) / max(1e-6, hi - lo), 0, 1)
        rgb = np.stack([g ** 0.6, g ** 1.5, 0.3 + 0.4 * g - 0.3 * g ** 2], -1)   # a simple warm colour map
        tile = Image.fromarray((rgb * 255).astype(np.uint8)).resize((min(1600, a.shape[0] * 2), 200))
        tiles.append(tile)
        if len(tiles) >= n:
            break
    if not tiles:
        return 0
    w = max(t.width for t in tiles)
    sheet = Image.new("RGB", (w, sum(t.height + 6 for t in tiles)), "white")
    y = 0
    for t in tiles:
        sheet.paste(t, (0, y))
        y += t.height + 6
    _save(sheet, out)
    return len(tiles)


def _save(img, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    img.save(tmp, format="PNG")
    tmp.replace(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", type=Path, help="a data build folder (with manifest.json)")
    parser.add_argument("--json", type=Path, default=None, help="write the card as JSON here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the card as Markdown here")
    parser.add_argument("--sheet", type=Path, default=None, help="contact sheet of 24 degraded system images")
    parser.add_argument("--spectrograms", type=Path, default=None, help="spectrograms of a few clips")
    parser.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from model.errors import BadInputError

    if not (args.data_dir / "manifest.json").is_file():
        raise BadInputError("not a data build (no manifest.json)", args.data_dir)
    c = card(args.data_dir)
    md = markdown(c)
    print(md)
    if args.json:
        args.json.write_text(json.dumps(c, indent=2))
    if args.markdown:
        args.markdown.write_text(md)
    if args.sheet:
        shown = contact_sheet_png(args.data_dir, args.sheet, seed=args.seed)
        print(
            f"contact sheet of {shown} images: {args.sheet}",
            file=sys.stderr,
        )
    if args.spectrograms:
        print(f"{spectrograms_png(args.data_dir, args.spectrograms, seed=args.seed)} spectrograms: "
              f"{args.spectrograms}", file=sys.stderr)
    return 0


def main(argv: Optional[list[str]] = None) -> int:  # python -m model.data.card
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
