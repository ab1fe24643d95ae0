"""The fixed train/validation/test split of the music21 corpus.

A corpus file is in the **test** split when ``int(sha1(rel).hexdigest(), 16) % 10 == 0``, where ``rel`` is
its path relative to the corpus root in POSIX form (the rule every unimt developer uses). Validation is
the files whose hash is 1 modulo 10; the rest is training. Never train or tune on the test split.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator


def split_of(rel: str) -> str:
    """"test", "validation" or "train" for a corpus path relative to the corpus root (POSIX form)."""
    h = int(hashlib.sha1(rel.encode()).hexdigest(), 16) % 10
    return "test" if h == 0 else "validation" if h == 1 else "train"


def corpus_root() -> Path:
    from music21 import common

    return Path(common.getCorpusFilePath())


def corpus_rel(path: str | Path) -> str:
    """A corpus file's path relative to the corpus root, POSIX form."""
    return Path(path).resolve().relative_to(corpus_root().resolve()).as_posix()


def corpus_files(split: str | None = None) -> Iterator[tuple[str, Path]]:
    """(rel, absolute path) of the music21 core corpus files, optionally of one split, sorted."""
    from music21 import corpus

    root = corpus_root()
    for p in sorted(corpus.getCorePaths()):
        rel = Path(p).relative_to(root).as_posix()
        if split is None or split_of(rel) == split:
            yield rel, Path(p)
