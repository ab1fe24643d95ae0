"""Readable token files: ``unimt tokenize INPUT OUT.txt`` and ``unimt detokenize IN.txt OUTPUT``.

A token file starts with a header line naming its modality, then one line per measure (notation),
per time window (MIDI) or per system (score image: the RQ-VAE codec's codes, column by column, each
position's codebooks in turn), tokens separated by spaces. ``#`` starts a comment.
A person can read and edit it; a malformed file gives an error naming the line.
"""

from __future__ import annotations

from pathlib import Path

from model.errors import BadInputError, UnimtError
from model.io.atomic import atomic_path
from model.io.types import Midi, Modality, Notation
from model.tokenizers.base import TokenizationError

HEADER = "# unimt tokens: {kind} v1"
MIDI_WINDOW_S = 10.0


def tokenize_file(src: Path, dst: Path) -> Path:
    from model.io import load

    obj = load(src)
    if obj.modality is Modality.NOTATION:
        from model.io.notation import musicxml_bytes
        from model.tokenizers.lmx import linearize, split_measures

        lines = [" ".join(m) for m in split_measures(linearize(musicxml_bytes(obj)))]
        kind = "lmx"
    elif obj.modality is Modality.MIDI:
        from model.tokenizers.midi import MidiTokenizer

        tok = MidiTokenizer()
        windows = tok.encode_windows(obj.pm, MIDI_WINDOW_S)
        lines = [" ".join(w.tokens) for w in windows]
        kind = f"midi window={MIDI_WINDOW_S:g}s"
    elif obj.modality is Modality.IMAGE:
        lines = [" ".join(line) for line in _image_lines(obj, src)]
        kind = "image"
    else:
        raise UnimtError(f"a {obj.modality.label} has no discrete tokens (the model reads its frames "
                         "directly); tokenize MusicXML, MIDI or a score image", src)
    with atomic_path(dst) as tmp:
        tmp.write_text(HEADER.format(kind=kind) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return dst


def _image_lines(image, src: Path) -> list[list[str]]:
    """Each system of each page -> the codec's readable tokens."""
    from model.tokenizers.rqvae import ImageCodes
    from model.tokenizers.score_image import SystemImageConfig, system_canvases

    tok = ImageCodes.shipped()
    config = SystemImageConfig(height=tok.config.height)
    vocab = tok.vocab
    lines = []
    for p in range(image.page_count):
        for _, canvas in system_canvases(image.page(p), config):
            lines.append([vocab[i] for row in tok.encode(canvas).codes for i in row])
    if not lines:
        raise BadInputError("no music staves found in the image; is this a score?", src)
    return lines


def _image_from_lines(lines: list[list[str]], numbers: list[int], src: Path):
    """Token lines (one per system) -> one page with the decoded systems stacked."""
    import numpy as np

    from model.io.types import ScoreImage
    from model.tokenizers.rqvae import ImageCodes

    tok = ImageCodes.shipped()
    index = {t: i for i, t in enumerate(tok.vocab)}
    n, rows = tok.config.n_codebooks, (tok.config.height + 15) // 16
    systems = []
    for toks, num in zip(lines, numbers):
        for col, t in enumerate(toks, 1):
            if t not in index or index[t] == tok.sep_id:
                raise BadInputError(f"line {num}, token {col}: unknown image token {t!r}", src)
            if int(t.split(":")[1]) != (col - 1) % n:
                raise BadInputError(f"line {num}, token {col}: expected a code of codebook {(col - 1) % n}, "
                                    f"got {t!r}", src)
        if len(toks) % (n * rows):
            raise BadInputError(f"line {num}: {len(toks)} tokens is not whole columns of {rows} positions x "
                                f"{n} codebooks", src)
        systems.append(tok.decode([index[t] for t in toks]))
    width = max(s.shape[1] for s in systems)
    gap = np.ones((16, width), np.float32)
    page = np.concatenate([part for s in systems for part in
                           (np.pad(s, ((0, 0), (0, width - s.shape[1])), constant_values=1.0), gap)])
    return ScoreImage.from_arrays([(np.clip(page, 0, 1) * 255).astype(np.uint8)], source=src)


def read_token_file(path: Path) -> tuple[str, list[list[str]], list[int]]:
    """(kind, token lines, their line numbers). Raises BadInputError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read the token file ({exc})", path) from None
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# unimt tokens:"):
        raise BadInputError("line 1: not a unimt token file (expected '# unimt tokens: lmx v1', "
                            "'# unimt tokens: midi ...' or '# unimt tokens: image v1')", path)
    kind = lines[0].split(":", 1)[1].split()[0]
    if kind not in ("lmx", "midi", "image"):
        raise BadInputError(f"line 1: unknown token kind {kind!r}", path)
    out, numbers = [], []
    for i, line in enumerate(lines[1:], 2):
        toks = line.split("#", 1)[0].split()
        if toks:
            out.append(toks)
            numbers.append(i)
    return kind, out, numbers


def detokenize_file(src: Path, dst: Path) -> list[Path]:
    from model.io import save

    kind, lines, numbers = read_token_file(src)
    if kind == "lmx":
        from model.tokenizers.lmx import decode_tokens
        from model.tokenizers.lmx_vocab import TOKEN_SET

        for toks, n in zip(lines, numbers):
            for col, t in enumerate(toks, 1):
                if t not in TOKEN_SET:
                    raise BadInputError(f"line {n}, token {col}: unknown LMX token {t!r}", src)
        try:
            obj = Notation(decode_tokens([t for toks in lines for t in toks]))
        except TokenizationError as exc:
            raise BadInputError(str(exc), src) from None
    elif kind == "image":
        if not lines:
            raise BadInputError("no systems: the file has no token lines", src)
        obj = _image_from_lines(lines, numbers, src)
    else:
        from model.tokenizers.midi import MidiTokenizer

        tok = MidiTokenizer()
        vocab = set(tok.vocab)
        windows = []
        for toks, n in zip(lines, numbers):
            for col, t in enumerate(toks, 1):
                if t not in vocab:
                    raise BadInputError(f"line {n}, token {col}: unknown MIDI token {t!r}", src)
            windows.append(tok.tokens_to_ids(toks))
        obj = Midi(tok.stitch([tok.decode(w) for w in windows], MIDI_WINDOW_S))
    return save(obj, dst)
