"""File formats: extensions, modalities, content sniffing and input checks shared by every reader."""

from __future__ import annotations

from pathlib import Path

from model.errors import BadInputError, UnsupportedFormatError
from model.io.types import Modality

#: extension -> (modality, format name)
READ_FORMATS: dict[str, tuple[Modality, str]] = {
    ".png": (Modality.IMAGE, "png"),
    ".jpg": (Modality.IMAGE, "jpeg"),
    ".jpeg": (Modality.IMAGE, "jpeg"),
    ".tif": (Modality.IMAGE, "tiff"),
    ".tiff": (Modality.IMAGE, "tiff"),
    ".pdf": (Modality.IMAGE, "pdf"),
    ".musicxml": (Modality.NOTATION, "musicxml"),
    ".xml": (Modality.NOTATION, "musicxml"),
    ".mxl": (Modality.NOTATION, "mxl"),
    ".mid": (Modality.MIDI, "midi"),
    ".midi": (Modality.MIDI, "midi"),
    ".wav": (Modality.AUDIO, "wav"),
    ".flac": (Modality.AUDIO, "flac"),
    ".ogg": (Modality.AUDIO, "ogg"),
    ".oga": (Modality.AUDIO, "ogg"),
    ".mp3": (Modality.AUDIO, "mp3"),
}

WRITE_FORMATS: dict[str, tuple[Modality, str]] = {
    ".png": (Modality.IMAGE, "png"),
    ".svg": (Modality.IMAGE, "svg"),
    ".pdf": (Modality.IMAGE, "pdf"),
    ".musicxml": (Modality.NOTATION, "musicxml"),
    ".xml": (Modality.NOTATION, "musicxml"),
    ".mxl": (Modality.NOTATION, "mxl"),
    ".mid": (Modality.MIDI, "midi"),
    ".midi": (Modality.MIDI, "midi"),
    ".wav": (Modality.AUDIO, "wav"),
    ".flac": (Modality.AUDIO, "flac"),
}

# Limits that keep hostile or accidental inputs bounded in time and memory. The sizes bound reading; the
# limits on what a file means (notes, parts, measures after repeats, seconds played) bound the work after it,
# and are checked before that work starts. No real score or recording comes near any of them.
MAX_FILE_BYTES = 2 * 1024**3          # any input but audio
MAX_AUDIO_FILE_BYTES = 64 * 1024**3   # audio is bounded by its seconds (and read in blocks), not its bytes
MAX_XML_BYTES = 200 * 1024**2         # MusicXML text, also after unzipping an .mxl
MAX_TEXT_CHARS = 100_000              # one text of a MusicXML (a title, a lyric, a credit) or one attribute
MAX_IMAGE_PIXELS = 150_000_000         # about 600 dpi on A3
MAX_PDF_PAGES = 1000
MAX_MIDI_BYTES = 16 * 1024**2         # a million notes take about 8 MB
MAX_NOTES = 500_000                   # notes of a MIDI file or a score (a long opera has about 200,000)
MAX_TRACKS = 256                      # MIDI tracks
MAX_PARTS = 128                       # parts of a score (a large orchestra with divisi has about 60)
MAX_MEASURES = 20_000                 # measures of a score after its repeats are written out
MAX_PERFORMED_SECONDS = 4 * 3600      # how long a MIDI file or a score plays
MAX_SYNTH_SECONDS = 2 * 3600          # how long a synthesised recording may be (held in memory)
MAX_AUDIO_SECONDS = 4 * 3600          # a recording (read in blocks, never whole when long)
MAX_AUDIO_CHANNELS = 32
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 768_000

_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpeg"),
    (b"II*\x00", 0, "tiff"),
    (b"MM\x00*", 0, "tiff"),
    (b"%PDF-", 0, "pdf"),
    (b"MThd", 0, "midi"),
    (b"RIFF", 0, "riff"),
    (b"fLaC", 0, "flac"),
    (b"OggS", 0, "ogg"),
    (b"ID3", 0, "mp3"),
    (b"PK\x03\x04", 0, "zip"),
]

FORMAT_NAMES = {
    "png": "a PNG image", "jpeg": "a JPEG image", "tiff": "a TIFF image", "pdf": "a PDF document",
    "midi": "a MIDI file", "wav": "WAV audio", "riff": "a RIFF file", "flac": "FLAC audio", "ogg": "Ogg audio",
    "mp3": "MP3 audio", "zip": "a zip archive", "mxl": "compressed MusicXML", "musicxml": "MusicXML",
    "xml": "XML", "svg": "an SVG image", "unknown": "unrecognised data",
}


def sniff(head: bytes) -> str:
    """Guess a format from the first bytes of a file ("unknown" if nothing matches)."""
    for magic, offset, name in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            if name == "riff":
                return "wav" if head[8:12] == b"WAVE" else "riff"
            return name
    text = sniff_text(head)
    if text is not None and text.lstrip().startswith("<"):
        return "svg" if "<svg" in text[:2048] else "xml"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"  # MPEG audio frame sync without an ID3 tag
    return "unknown"


_BOMS = [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]


def text_encoding(head: bytes) -> str | None:
    """The encoding of text that starts with ``head``: from its byte-order mark, or, without one, from the
    zero bytes around a first ASCII character (UTF-16 LE/BE, as XML's autodetection); None if not text-like."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head[0] == 0 and head[1] != 0 and head[2] == 0 and head[3] != 0:
        return "utf-16-be"
    if len(head) >= 4 and head[0] != 0 and head[1] == 0 and head[2] != 0 and head[3] == 0:
        return "utf-16-le"
    return None


def sniff_text(head: bytes) -> str | None:
    """The start of ``head`` decoded as text when it has a byte-order mark or is UTF-16 without one; else the
    head as UTF-8 if it starts with ``<`` after white space; None when it does not look like text."""
    enc = text_encoding(head)
    if enc is None:
        stripped = head.lstrip()
        return head.decode("utf-8", "replace") if stripped.startswith(b"<") else None
    width = 4 if "32" in enc else 2 if "16" in enc else 1
    usable = len(head) - len(head) % width
    text = head[:usable].decode(enc, "replace")
    return text.lstrip("\ufeff")


_EXPECTED = {
    "png": {"png"}, "jpeg": {"jpeg"}, "tiff": {"tiff"}, "pdf": {"pdf"}, "musicxml": {"xml"}, "mxl": {"zip"},
    "midi": {"midi"}, "wav": {"wav"}, "flac": {"flac"}, "ogg": {"ogg"}, "mp3": {"mp3"},
}


def check_input(path: str | Path) -> tuple[Path, Modality, str]:
    """Check that ``path`` exists, is non-empty, has a known extension and matching content.

    Returns:
        (path, modality, format name).

    Raises:
        UnsupportedFormatError, BadInputError: one-line reasons naming the file.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in READ_FORMATS:
        known = ", ".join(sorted(READ_FORMATS))
        raise UnsupportedFormatError(f"unsupported file type {ext or '(no extension)'!r}; unimt reads {known}", path)
    if not path.exists():
        raise BadInputError("no such file", path)
    if not path.is_file():
        raise BadInputError("not a regular file", path)
    size = path.stat().st_size
    if size == 0:
        raise BadInputError("the file is empty", path)
    modality, fmt = READ_FORMATS[ext]
    limit = MAX_AUDIO_FILE_BYTES if modality is Modality.AUDIO else MAX_FILE_BYTES
    if size > limit:
        raise BadInputError(f"the file is too large ({size / 1024**3:.1f} GiB; at most {limit // 1024**3} GiB)", path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    found = sniff(head)
    if found not in _EXPECTED[fmt]:
        if found == "unknown":
            raise BadInputError(f"the content is not {FORMAT_NAMES[fmt]} (unrecognised or corrupt data)", path)
        raise BadInputError(
            f"the content is {FORMAT_NAMES[found]}, not {FORMAT_NAMES[fmt]}: wrong extension {ext!r}?", path)
    return path, modality, fmt


def output_format(path: str | Path, to: str | None = None) -> tuple[Modality, str]:
    """The modality and format an output path asks for (``to`` overrides the extension)."""
    path = Path(path)
    ext = ("." + to.lower().lstrip(".")) if to else path.suffix.lower()
    if ext not in WRITE_FORMATS:
        known = ", ".join(sorted(WRITE_FORMATS))
        raise UnsupportedFormatError(f"cannot write {ext or '(no extension)'!r}; unimt writes {known}", path)
    return WRITE_FORMATS[ext]
