"""The bundle's one executable (``dist/unimt/unimt``): the desktop app or the command line.

    unimt                 the desktop app
    unimt FILE            the desktop app, opening FILE
    unimt COMMAND ...     the command line: convert, bench, tokenize, ... (``unimt --help`` lists them)

The shipped weights (``_internal/model/weights``) and soundfont (``_internal/pretty_midi/TimGM6mb.sf2``)
sit where :mod:`model.inference.weights` and :mod:`model.synth` already look, so nothing is configured here.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys

# model.cli's subcommands; a first argument that starts with "-" (--help, --version) also means the CLI.
CLI_COMMANDS = frozenset({"convert", "bench", "tokenize", "detokenize", "train", "eval", "data", "help"})


def wants_cli(args: list[str]) -> bool:
    """True when ``args`` (without the program name) are for ``model.cli`` rather than the app."""
    if not args:
        return False
    first = args[0]
    if first.startswith("-") or first in CLI_COMMANDS:
        return True
    # A word that is no file (``unimt evaluate``) goes to the CLI, which says which commands exist.
    return not os.path.exists(first) and re.fullmatch(r"[a-z][a-z0-9-]*", first) is not None


def _bench_in_bundle(args: list[str]) -> list[str]:
    """`unimt bench` parses a music21 corpus piece; frozen, music21 finds its folder from a path relative to
    the bundle's ``_internal`` folder, so run from there (the ``--json`` output path made absolute first)."""
    out = []
    for i, arg in enumerate(args):
        if i > 0 and args[i - 1] == "--json":
            arg = os.path.abspath(arg)
        elif arg.startswith("--json="):
            arg = "--json=" + os.path.abspath(arg[len("--json="):])
        out.append(arg)
    os.chdir(sys._MEIPASS)
    return out


def main() -> int:
    multiprocessing.freeze_support()
    args = sys.argv[1:]
    if wants_cli(args):
        from model.cli import main as cli_main

        if args[0] == "help":  # `unimt help convert` is `unimt convert --help`
            args = [*args[1:2], "--help"]
        if args[0] == "bench" and getattr(sys, "frozen", False):
            args = _bench_in_bundle(args)
        return cli_main(args)
    from unimt_desktop.__main__ import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
