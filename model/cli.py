"""The ``unimt`` command line: ``unimt convert INPUT OUTPUT`` and friends.

Heavy imports (torch, music21, Verovio) happen after argument parsing, so ``--help`` is instant.
Every failure is one line on stderr naming the file and the problem, with exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

from model.errors import Cancelled, UnimtError, show_path

PROG = "unimt"


def _pairs_epilog() -> str:
    from model.graph import supported_pairs
    from model.io.formats import READ_FORMATS, WRITE_FORMATS

    lines = ["supported translations (source -> target: how):"]
    for s, d, how, model in supported_pairs():
        if s == d:
            continue
        lines.append(f"  {s.value:>8} -> {d.value:<8}  {how}{'   [needs model weights]' if model else ''}")
    lines.append("")
    lines.append("reads:  " + " ".join(sorted(READ_FORMATS)))
    lines.append("writes: " + " ".join(sorted(WRITE_FORMATS)))
    lines.append("A multi-page score written as PNG or SVG becomes OUT-1.png, OUT-2.png, ...")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Translate music between score images, MusicXML, "
                                     "MIDI and audio.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    conv = sub.add_parser("convert", help="translate INPUT into OUTPUT (formats from the extensions)",
                          description="Translate INPUT into OUTPUT; each format comes from its extension.",
                          epilog=_pairs_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    conv.add_argument("input", type=Path, metavar="INPUT")
    conv.add_argument("output", type=Path, metavar="OUTPUT")
    conv.add_argument("--to", metavar="FORMAT", help="output format, overriding OUTPUT's extension "
                      "(musicxml, mxl, mid, wav, flac, png, pdf, svg)")
    conv.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                      help="where the model runs (default: auto)")
    conv.add_argument("--soundfont", metavar="PATH", help="a .sf2/.sf3 General MIDI soundfont for audio")
    conv.add_argument("--weights", metavar="PATH", help="a unimt weights folder (default: the shipped model)")
    conv.add_argument("--dpi", type=int, default=150, help="resolution for reading PDF pages and writing PNG "
                      "(default: 150)")
    conv.add_argument("--systems", action="store_true", help="engrave one image per system instead of pages")
    conv.add_argument("--font", default="Leipzig", help="music font for engraving: Leipzig, Bravura, "
                      "Gootville, Leland, Petaluma")
    conv.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    conv.add_argument("-v", "--verbose", action="store_true", help="show library messages and tracebacks")

    bench = sub.add_parser("bench", help="time engraving, synthesis and PDF reading on this machine; with "
                           "--model, the model's transcription and recognition")
    bench.add_argument("--json", type=Path, metavar="OUT", help="also write the numbers as JSON")
    bench.add_argument("--model", action="store_true", help="time the model (installed weights or --weights): "
                       "a 3-minute recording to MIDI, a page to notation, peak memory")
    bench.add_argument("--weights", default=None, metavar="DIR", help="weights folder (with --model)")
    bench.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (with --model; default: cpu)")
    bench.add_argument("--threads", type=int, default=2, help="CPU threads (with --model or --limits; default: 2)")
    bench.add_argument("--limits", action="store_true", help="peak memory and time, each in its own process, of a "
                       "one-hour 44.1 kHz recording to MIDI and of the corpus's largest score to PDF, MIDI and WAV")
    bench.add_argument("--minutes", type=float, default=60.0, help="length of the recording (with --limits; "
                       "default: 60)")

    tok = sub.add_parser("tokenize", help="write the readable tokens of a MusicXML, MIDI or score image file")
    tok.add_argument("input", type=Path, metavar="INPUT")
    tok.add_argument("output", type=Path, metavar="OUT.txt")
    detok = sub.add_parser("detokenize", help="turn a token file back into MusicXML, MIDI or a score image")
    detok.add_argument("input", type=Path, metavar="IN.txt")
    detok.add_argument("output", type=Path, metavar="OUTPUT")

    train = sub.add_parser("train", help="train the model (see configs/)")
    from model.training.train import add_arguments as train_arguments

    train_arguments(train)
    ev = sub.add_parser("eval", help="the paper's metrics (SER, note F1) on the held-out test split")
    from model.evaluate import add_arguments as eval_arguments

    eval_arguments(ev)
    data = sub.add_parser("data", help="build training data")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    build = data_sub.add_parser("build", help="engrave, degrade, perform and shard paired training data")
    try:
        from model.data.build import add_arguments as data_arguments

        data_arguments(build)
        from model.data.card import add_arguments as card_arguments

        card_arguments(data_sub.add_parser("card", help="the dataset card of a build: counts, audio hours, "
                                                        "notation features, contact sheet"))
    except ImportError:  # pragma: no cover - the data package is optional in a bundle
        pass
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("unimt")
    except Exception:
        return "0+unknown"


@contextlib.contextmanager
def _quiet_fd2(enabled: bool):
    """Send what libraries print on file descriptor 2 to a temporary file; yield the real stderr."""
    if not enabled:
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    real = os.fdopen(os.dup(saved), "w", buffering=1)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        old_stderr = sys.stderr
        sys.stderr = open(os.dup(2), "w", buffering=1)
        try:
            yield real
        finally:
            sys.stderr.close()
            sys.stderr = old_stderr
            os.dup2(saved, 2)
            os.close(saved)
            real.flush()
            real.close()


def _progress_bar(stream, quiet: bool) -> tuple[Optional[Callable[[int, int, str], None]], Callable[[], None]]:
    if quiet or not (stream.isatty() or os.environ.get("UNIMT_PROGRESS") == "1"):
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=1000, file=stream, delay=1.0, leave=False, bar_format="{desc} {percentage:3.0f}%|{bar}| "
               "{elapsed}<{remaining}")

    def update(done: int, total: int, message: str) -> None:
        pos = int(1000 * done / total) if total else 0
        bar.set_description_str(message[:30], refresh=False)
        bar.update(max(0, pos - bar.n))

    return update, bar.close


def cmd_convert(args, err) -> int:
    import warnings

    from model.engrave import EngraveOptions
    from model.errors import BadInputError
    from model.graph import route
    from model.inference.pipeline import ModelOptions
    from model.io import load, output_format, save
    from model.io.atomic import check_output_path
    from model.io.notation import name_untitled
    from model.io.types import Modality
    from model.translate import TranslateOptions, run_route

    warnings.simplefilter("ignore")
    inp, out = args.input, args.output
    check_output_path(out)  # a folder, a read-only place, a name too long: said before any work
    target, fmt = output_format(out, args.to)
    if inp.exists() and out.exists() and inp.resolve() == out.resolve():
        raise BadInputError("OUTPUT is the input file; unimt never overwrites its input", out)
    if args.dpi < 30 or args.dpi > 1200:
        raise UnimtError(f"--dpi {args.dpi} is outside 30..1200")
    options = TranslateOptions(
        soundfont=args.soundfont,
        engrave=EngraveOptions(systems=args.systems, font=args.font),
        image_dpi=args.dpi,
        model=ModelOptions(device=args.device, weights=args.weights,
                           log=(lambda msg: print(msg, file=err)) if getattr(args, "verbose", False) else None),
    )
    if args.soundfont:
        from model.synth import find_soundfont

        find_soundfont(args.soundfont)
    progress, close = _progress_bar(err, args.quiet)
    try:
        result = obj = load(inp, dpi=args.dpi)
        for _, result in run_route(obj, route(obj.modality, target), options, progress=progress):
            if result.modality is Modality.NOTATION:   # a score made from the input is named after it
                name_untitled(result, obj.source)
        written = save(result, out, to=args.to)
    finally:
        close()
    for path in written:
        print(path)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    verbose = getattr(args, "verbose", False) or os.environ.get("UNIMT_DEBUG") == "1"
    # the long-running commands report their progress on stderr: keep it
    with _quiet_fd2(not verbose and args.command not in ("train", "eval", "data")) as err:
        try:
            if args.command == "convert":
                return cmd_convert(args, err)
            if args.command == "bench":
                from model.bench import run_io_bench, run_limits_bench, run_model_bench

                if args.limits:
                    return run_limits_bench(args.json, sys.stdout, args.minutes, args.threads, args.device)
                if args.model:
                    return run_model_bench(args.weights, args.device, args.threads, args.json, out=sys.stdout)
                return run_io_bench(args.json, out=sys.stdout)
            if args.command in ("tokenize", "detokenize"):
                from model.tokenfile import detokenize_file, tokenize_file

                if args.input.exists() and args.output.exists() and args.input.resolve() == args.output.resolve():
                    raise UnimtError("OUTPUT is the input file; unimt never overwrites its input", args.output)
                if args.command == "tokenize":
                    print(tokenize_file(args.input, args.output))
                else:
                    for path in detokenize_file(args.input, args.output):
                        print(path)
                return 0
            if args.command == "train":
                from model.training.train import run as run_train

                return run_train(args)
            if args.command == "eval":
                if [t.strip() for t in args.only.split(",") if t.strip()] == ["rooms"]:
                    # audio -> MIDI in held-out rooms: every system on the same recordings
                    from model.evaluate_rooms import run as run_rooms

                    return run_rooms(args)
                if [t.strip() for t in args.only.split(",") if t.strip()] == ["audio2score"]:
                    # recordings -> scores, beside the same performances as MIDI
                    from model.evaluate_audio_score import run as run_audio_score

                    return run_audio_score(args, lambda s: print(s, file=sys.stderr, flush=True))
                if [t.strip() for t in args.only.split(",") if t.strip()] == ["midi2lmx"]:
                    # performance -> score: every system on the same performances
                    from model.evaluate_notation import run_notation_eval

                    return run_notation_eval(args, lambda s: print(s, file=sys.stderr, flush=True))
                from model.evaluate import run as run_eval

                return run_eval(args)
            if args.command == "data":
                if getattr(args, "data_command", None) == "card":
                    from model.data.card import run as run_card

                    return run_card(args)
                if getattr(args, "data_command", None) != "build":
                    parser.error("usage: unimt data build --out DIR ... | unimt data card DIR")
                from model.data.build import run as run_build

                return run_build(args)
            parser.error(f"unknown command {args.command}")
        except UnimtError as exc:
            where = getattr(args, "input", None)
            text = str(exc) if exc.path is not None or where is None else f"{show_path(where)}: {exc}"
            print(f"{PROG}: error: {text}", file=err)
            return 1
        except Cancelled:
            print(f"{PROG}: cancelled", file=err)
            return 130
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=err)
            return 130
        except MemoryError:
            where = getattr(args, "input", None)
            print(f"{PROG}: error: {show_path(where) + ': ' if where else ''}not enough memory for this file",
                  file=err)
            return 1
        except Exception as exc:  # never a traceback for the user; -v shows it
            if verbose:
                import traceback

                traceback.print_exc(file=err)
            where = getattr(args, "input", None)
            msg = " ".join(f"{type(exc).__name__}: {exc}".split())
            print(f"{PROG}: error: {show_path(where)}: unexpected failure ({msg}); run with -v for details"
                  if where else f"{PROG}: error: {msg}", file=err)
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
