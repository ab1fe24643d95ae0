"""Measure the LMX round trip (MusicXML -> LMX -> MusicXML) over the music21 corpus.

Run::

    python -m tools.lmx_roundtrip [--limit N] [--workers 2] [--json OUT]

Every file of ``music21.corpus.getCorePaths()`` is parsed with music21 and exported to MusicXML
(the *original*; unparsable files are skipped and counted). The original is linearized to LMX and
delinearized back (the *round trip*). Both are reduced to the same normalized form and compared
measure by measure:

* per measure and part: a sorted list of note events
  ``(staff, voice, onset, duration, pitches, tie, tuplet)`` where ``voice`` is the rank of the
  voice's first appearance in that measure and part (voice labels are arbitrary), ``onset`` and
  ``duration`` are quarter-length fractions within the measure on a grid of 1/240 quarter (exporters
  round tuplet durations to their divisions), ``pitches`` the sorted
  ``(step, alter, octave)`` of a chord (empty for rests), ``tie`` the start/stop flags and
  ``tuplet`` the time-modification ratio plus bracket start/stop;
* per measure and part: the clefs, key and time signature in force at the measure start plus any
  change inside the measure.

A measure is *identical* when every aspect (pitch, rhythm, voice, staff, tie, tuplet, clef, key,
time) matches; the report also counts each aspect separately, and splits files into *pianoform*
(one part, two staves), *single-staff* (one part, one staff) and *multi-part*. Exported MusicXML is
cached (``--cache``, default ``/tmp/lmx_cache``) because music21 parsing dominates the run time.
Multi-score files (the essenFolksong/ryansMammoth Opus collections hold hundreds of tunes each)
contribute their first ``--max-scores`` scores (default 40; 0 for all). Files music21 cannot parse
are counted as ``unparsable``, files over ``--timeout`` seconds as ``timeout``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import signal
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from fractions import Fraction
from pathlib import Path

ASPECTS = ("pitch", "rhythm", "voice", "staff", "tie", "tuplet", "clef", "key", "time")


# -- music21 export -------------------------------------------------------------------------------
def export_corpus_file(path: str, cache_dir: str | None, max_scores: int = 0) -> list[str]:
    """Parse one corpus file with music21 and export every score in it to MusicXML text.

    Args:
        path: corpus file path.
        cache_dir: folder for cached exports (None to disable caching).
        max_scores: for an Opus (many tunes in one file), export only the first N (0: all).

    Returns:
        One MusicXML string per score (an Opus gives several).
    """
    cache_file = None
    if cache_dir:
        key = hashlib.sha1(str(path).encode("utf-8")).hexdigest()[:16]
        cache_file = Path(cache_dir) / f"{key}.json"
        if cache_file.exists():
            texts = json.loads(cache_file.read_text(encoding="utf-8"))
            return texts[:max_scores] if max_scores else texts
    import music21
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    obj = music21.converter.parse(path)
    scores = list(obj.scores) if isinstance(obj, music21.stream.Opus) else [obj]
    if max_scores:
        scores = scores[:max_scores]
    texts = []
    for score in scores:
        data = GeneralObjectExporter(score).parse()
        texts.append(data.decode("utf-8") if isinstance(data, bytes) else data)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(texts), encoding="utf-8")
    return texts


# -- normalization ----------------------------------------------------------------------------------
GRID = 240  # onsets and durations compare on a grid of 1/240 quarter (finer than any written value)


def _grid(q: Fraction) -> Fraction:
    """``q`` to the nearest 1/240 quarter: exporters write tuplet durations in rounded divisions
    (music21 gives a 16th triplet as 187/1120 of a quarter where the notation means 1/6)."""
    return Fraction(round(q * GRID), GRID)


def _int(el: ET.Element | None, default: int = 0) -> int:
    try:
        return int(float(el.text)) if el is not None and el.text else default
    except ValueError:
        return default


def normalize_musicxml(text: str | bytes) -> list[list[dict]]:
    """Reduce MusicXML to a per-part, per-measure comparable form.

    Args:
        text: partwise MusicXML text.

    Returns:
        ``parts[p][m]`` is a dict with one key per aspect in :data:`ASPECTS` (plus ``events``).
    """
    root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    out = []
    for part in root.findall("part"):
        divisions = 1
        clefs: dict[int, tuple] = {}
        key = None
        time_sig = None
        measures = []
        for measure in part.findall("measure"):
            pos = Fraction(0)
            last_onset = Fraction(0)
            events = []
            voices: dict[str, int] = {}
            changes = {"clef": [], "key": [], "time": []}
            for el in measure:
                if el.tag == "attributes":
                    if el.find("divisions") is not None:
                        divisions = max(1, _int(el.find("divisions"), 1))
                    for c in el.findall("clef"):
                        staff = int(c.get("number", "1"))
                        octave = c.findtext("clef-octave-change") or "0"
                        val = (c.findtext("sign"), c.findtext("line"), octave)
                        if clefs.get(staff) != val:
                            changes["clef"].append((pos, staff, val))
                        clefs[staff] = val
                    k = el.find("key")
                    if k is not None and k.find("fifths") is not None:
                        if key != _int(k.find("fifths")):
                            changes["key"].append((pos, _int(k.find("fifths"))))
                        key = _int(k.find("fifths"))
                    t = el.find("time")
                    if t is not None and t.find("beats") is not None:
                        if time_sig != (t.findtext("beats"), t.findtext("beat-type")):
                            changes["time"].append((pos, (t.findtext("beats"), t.findtext("beat-type"))))
                        time_sig = (t.findtext("beats"), t.findtext("beat-type"))
                elif el.tag == "backup":
                    pos -= Fraction(_int(el.find("duration")), divisions)
                elif el.tag == "forward":
                    pos += Fraction(_int(el.find("duration")), divisions)
                elif el.tag == "note":
                    dur = Fraction(_int(el.find("duration")), divisions)
                    if el.find("grace") is not None:
                        dur = Fraction(0)
                    is_chord = el.find("chord") is not None
                    onset = last_onset if is_chord else pos
                    voice_label = el.findtext("voice") or "1"
                    voice = voices.setdefault(voice_label, len(voices))
                    staff = _int(el.find("staff"), 1)
                    p = el.find("pitch")
                    pitch = () if p is None else ((p.findtext("step"), float(p.findtext("alter") or 0),
                                                   _int(p.find("octave"))),)
                    if el.find("unpitched") is not None:
                        u = el.find("unpitched")
                        pitch = ((u.findtext("display-step"), 0.0, _int(u.find("display-octave"))),)
                    ties = tuple(sorted(t.get("type", "") for t in el.findall("tie")))
                    tm = el.find("time-modification")
                    tup = None if tm is None else (_int(tm.find("actual-notes")),
                                                   _int(tm.find("normal-notes")))
                    brackets = tuple(sorted(t.get("type", "") for t in el.findall("notations/tuplet")))
                    grace = el.find("grace") is not None
                    if is_chord and events:
                        prev = events[-1]
                        prev["pitches"] = tuple(sorted(prev["pitches"] + pitch))
                        prev["tie"] = tuple(sorted(set(prev["tie"] + ties)))
                    else:
                        events.append({"staff": staff, "voice": voice, "onset": _grid(onset),
                                       "dur": _grid(dur), "pitches": pitch, "tie": ties,
                                       "tuplet": (tup, brackets), "grace": grace})
                    if not is_chord:
                        last_onset = pos
                        pos += dur
            measures.append({
                "events": events,
                "clef": (tuple(sorted(clefs.items())), tuple(changes["clef"])),
                "key": (key, tuple(changes["key"])),
                "time": (time_sig, tuple(changes["time"])),
            })
        out.append(measures)
    return out


def _aspect_view(events: list[dict], aspect: str) -> list:
    keyf = {
        "pitch": lambda e: (e["onset"], e["staff"], e["voice"], e["pitches"]),
        "rhythm": lambda e: (e["onset"], e["dur"], e["grace"], len(e["pitches"]) > 0),
        "voice": lambda e: (e["onset"], e["voice"], e["pitches"]),
        "staff": lambda e: (e["onset"], e["staff"], e["pitches"]),
        "tie": lambda e: (e["onset"], e["pitches"], e["tie"]),
        "tuplet": lambda e: (e["onset"], e["voice"], e["tuplet"]),
    }[aspect]
    return sorted((keyf(e) for e in events), key=repr)


def compare_measures(a: dict, b: dict) -> list[str]:
    """Return the aspects in which two normalized measures differ (empty when identical)."""
    lost = []
    for aspect in ASPECTS:
        if aspect in ("clef", "key", "time"):
            if a[aspect] != b[aspect]:
                lost.append(aspect)
        elif _aspect_view(a["events"], aspect) != _aspect_view(b["events"], aspect):
            lost.append(aspect)
    return lost


_FEATURE_PATHS = {
    # name: (element path relative to <measure>, attribute to append to the name or None)
    "note/beam": ("note/beam", None),
    "note/stem": ("note/stem", None),
    "note/grace": ("note/grace", None),
    "note/accidental": ("note/accidental", None),
    "note/dot": ("note/dot", None),
    "note/slur": ("note/notations/slur", "type"),
    "note/articulations": ("note/notations/articulations/*", None),
    "note/ornaments": ("note/notations/ornaments/*", None),
    "note/technical": ("note/notations/technical/*", None),
    "note/fermata": ("note/notations/fermata", None),
    "note/arpeggiate": ("note/notations/arpeggiate", None),
    "note/lyric": ("note/lyric", None),
    "note/notehead": ("note/notehead", None),
    "note/cue": ("note/cue", None),
    "note/unpitched": ("note/unpitched", None),
    "note/print-object-no": ("note[@print-object='no']", None),
    "direction/dynamics": ("direction/direction-type/dynamics/*", None),
    "direction/wedge": ("direction/direction-type/wedge", "type"),
    "direction/metronome": ("direction/direction-type/metronome", None),
    "direction/words": ("direction/direction-type/words", None),
    "direction/other": ("direction/direction-type/*", None),
    "barline/repeat": ("barline/repeat", "direction"),
    "barline/ending": ("barline/ending", "type"),
    "barline/style": ("barline/bar-style", None),
    "harmony": ("harmony", None),
}


def measure_features(measure: ET.Element) -> Counter:
    """Count notation features of one ``<measure>`` (for the 'features lost' report)."""
    c: Counter = Counter()
    for name, (path, attr) in _FEATURE_PATHS.items():
        for el in measure.findall(path):
            if name == "direction/other" and el.tag in ("dynamics", "wedge", "metronome", "words"):
                continue
            suffix = el.tag if name in ("note/articulations", "note/ornaments", "note/technical",
                                        "direction/dynamics", "direction/other") else ""
            if attr:
                suffix = el.get(attr, "")
            if name in ("note/stem", "barline/style"):
                suffix = el.text or ""
            c[f"{name}:{suffix}" if suffix else name] += 1
    return c


def _category(text: str) -> str:
    root = ET.fromstring(text.encode("utf-8"))
    parts = root.findall("part")
    if len(parts) != 1:
        return "multi-part" if parts else "empty"
    staves = max([_int(s, 1) for s in parts[0].iter("staves")] or [1])
    return {1: "single-staff", 2: "pianoform"}.get(staves, "many-staves")


# -- one file -------------------------------------------------------------------------------------
class _Timeout(BaseException):
    pass


def _alarm(signum, frame):  # pragma: no cover - signal handler
    raise _Timeout()


def roundtrip_musicxml(text: str) -> dict:
    """Round-trip one MusicXML text and compare it with the original.

    Returns:
        A dict with ``category``, ``measures``, ``identical``, ``lost`` (aspect -> measure count),
        ``features_lost`` (feature -> count of measures where it differs).
    """
    from model.tokenizers.lmx import delinearize, linearize

    tokens = linearize(text)
    back = delinearize(tokens)
    orig_norm = normalize_musicxml(text)
    back_norm = normalize_musicxml(back)
    res = {"category": _category(text), "measures": 0, "identical": 0, "lost": Counter(),
           "features_lost": Counter(), "tokens": len(tokens)}
    orig_root = ET.fromstring(text.encode("utf-8"))
    back_root = ET.fromstring(back.encode("utf-8"))
    o_parts, b_parts = orig_root.findall("part"), back_root.findall("part")
    for pi, o_measures in enumerate(orig_norm):
        b_measures = back_norm[pi] if pi < len(back_norm) else []
        o_els = o_parts[pi].findall("measure")
        b_els = b_parts[pi].findall("measure") if pi < len(b_parts) else []
        for mi, om in enumerate(o_measures):
            res["measures"] += 1
            if mi >= len(b_measures):
                res["lost"]["missing-measure"] += 1
                continue
            lost = compare_measures(om, b_measures[mi])
            for a in lost:
                res["lost"][a] += 1
            if not lost:
                res["identical"] += 1
            fo, fb = measure_features(o_els[mi]), measure_features(b_els[mi])
            for f in set(fo) | set(fb):
                if fo[f] != fb[f]:
                    res["features_lost"][f] += 1
    return res


def _work(args: tuple) -> dict:
    path, cache_dir, timeout, export_only, max_scores = args
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    t0 = time.time()
    out = {"path": path, "status": "ok", "scores": []}
    try:
        try:
            texts = export_corpus_file(path, cache_dir, max_scores)
        except _Timeout:
            raise
        except Exception as exc:  # noqa: BLE001 - any music21 failure counts as unparsable
            out["status"] = "unparsable"
            out["error"] = f"{type(exc).__name__}: {exc}"[:200]
            return out
        if not export_only:
            for text in texts:
                try:
                    out["scores"].append(roundtrip_musicxml(text))
                except _Timeout:
                    raise
                except Exception as exc:  # noqa: BLE001 - a tokenizer crash is a result, not a stop
                    out["status"] = "error"
                    out["error"] = f"{type(exc).__name__}: {exc}"[:300]
    except _Timeout:
        out["status"] = "timeout"
    finally:
        signal.alarm(0)
    out["seconds"] = round(time.time() - t0, 2)
    return out


# -- report ---------------------------------------------------------------------------------------
def summarize(results: list[dict]) -> dict:
    """Aggregate per-file results into the report dict."""
    status = Counter(r["status"] for r in results)
    cats: dict[str, dict] = {}
    lost_total: Counter = Counter()
    feat_total: Counter = Counter()
    worst = []
    for r in results:
        if r["status"] != "ok" or not r["scores"]:
            continue
        cat = r["scores"][0]["category"]
        c = cats.setdefault(cat, {"files": 0, "files_identical": 0, "measures": 0,
                                  "measures_identical": 0, "lost": Counter()})
        c["files"] += 1
        m = sum(s["measures"] for s in r["scores"])
        ident = sum(s["identical"] for s in r["scores"])
        c["measures"] += m
        c["measures_identical"] += ident
        c["files_identical"] += int(m == ident)
        for s in r["scores"]:
            c["lost"].update(s["lost"])
            lost_total.update(s["lost"])
            feat_total.update(s["features_lost"])
        if m != ident:
            worst.append((m - ident, r["path"]))
    for c in cats.values():
        c["file_share"] = round(c["files_identical"] / max(1, c["files"]), 4)
        c["measure_share"] = round(c["measures_identical"] / max(1, c["measures"]), 4)
        c["lost"] = dict(c["lost"].most_common())
    return {
        "files_total": len(results),
        "status": dict(status),
        "categories": cats,
        "aspects_lost": dict(lost_total.most_common()),
        "features_lost": dict(feat_total.most_common(40)),
        "worst_files": [p for _, p in sorted(worst, reverse=True)[:30]],
        "errors": [(r["path"], r.get("error")) for r in results if r["status"] in ("error", "timeout")][:50],
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N corpus files")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=240, help="seconds per file")
    ap.add_argument("--json", default=None, help="write the report here")
    ap.add_argument("--cache", default="/tmp/lmx_cache", help="MusicXML export cache ('' disables)")
    ap.add_argument("--export-only", action="store_true", help="only fill the export cache")
    ap.add_argument("--max-scores", type=int, default=40,
                    help="scores per multi-score (Opus) file, e.g. the essenFolksong collections (0: all)")
    ap.add_argument("--filter", default=None, help="only corpus paths containing this text")
    ap.add_argument("--resume", action="store_true",
                    help="keep the files already measured in --json (a partial report); timeouts are retried")
    args = ap.parse_args(argv)

    import music21

    paths = [str(p) for p in music21.corpus.getCorePaths()]
    if args.filter:
        paths = [p for p in paths if args.filter in p]
    if args.limit:
        step = max(1, len(paths) // args.limit)
        paths = paths[::step][: args.limit]
    results = []
    if args.resume and args.json and Path(args.json).exists():
        old = json.loads(Path(args.json).read_text(encoding="utf-8")).get("results", [])
        results = [r for r in old if r["status"] != "timeout" and r["path"] in set(paths)]
        done = {r["path"] for r in results}
        paths = [p for p in paths if p not in done]
        print(f"resuming: {len(results)} files already measured", flush=True)
    jobs = [(p, args.cache or None, args.timeout, args.export_only, args.max_scores) for p in paths]
    total = len(results) + len(jobs)
    t0 = time.time()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.workers, maxtasksperchild=50) as pool:
        for i, r in enumerate(pool.imap_unordered(_work, jobs), 1):
            results.append(r)
            if i % 25 == 0 or i == len(jobs):
                bad = sum(1 for x in results if x["status"] != "ok")
                print(f"[{len(results)}/{total}] {time.time() - t0:.0f}s, not ok: {bad}", flush=True)
                if args.json and not args.export_only:
                    _write_json(args.json, {"partial": True, "results": results})
            if r["status"] in ("error", "timeout"):
                print(f"  {r['status']}: {r['path']}: {r.get('error', '')}", flush=True)
    report = summarize(results)
    report["seconds"] = round(time.time() - t0, 1)
    report["command"] = " ".join(["python -m tools.lmx_roundtrip"] + (argv or sys.argv[1:]))
    if not args.export_only:
        print(json.dumps({k: report[k] for k in ("status", "categories", "aspects_lost", "features_lost")},
                         indent=1, default=str))
    if args.json:
        _write_json(args.json, {**report, "results": results})
    return 0


def _write_json(path: str, report: dict) -> None:
    tmp = Path(str(path) + ".part")
    tmp.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
