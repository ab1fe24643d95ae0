"""Notation: MusicXML (.musicxml, .xml) and compressed MusicXML (.mxl), read safely and written.

Reading guards against hostile files before music21 sees them: XML entity declarations (external
entities, entity-expansion bombs) are refused, and .mxl archives are checked for zip bombs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from model.errors import BadInputError, LimitError, UnimtError, limit_text
from model.io.atomic import atomic_path
from model.io.formats import MAX_MEASURES, MAX_NOTES, MAX_PARTS, MAX_TEXT_CHARS, MAX_XML_BYTES
from model.io.types import Notation

MAX_ZIP_ENTRIES = 2000
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per entry

_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container>
  <rootfiles>
    <rootfile full-path="score.musicxml" media-type="application/vnd.recordare.musicxml+xml"/>
  </rootfiles>
</container>
"""


def _read_limited(fh, limit: int, path: Path, what: str) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise BadInputError(f"{what} is larger than {limit // 1024**2} MiB; refused", path)
    return data


def read_mxl_bytes(path: Path) -> bytes:
    """The MusicXML inside an .mxl archive, with zip-bomb checks."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInputError(f"not a valid .mxl archive ({exc})", path) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise BadInputError(f"the .mxl archive has {len(infos)} entries; refused", path)
        total = sum(i.file_size for i in infos)
        if total > MAX_XML_BYTES:
            raise BadInputError(
                f"the .mxl archive would unpack to {total / 1024**2:.0f} MiB (a zip bomb?); refused", path)
        for info in infos:
            if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO and info.file_size > 10**6:
                raise BadInputError(f"the .mxl entry {info.filename!r} is compressed suspiciously well "
                                    "(a zip bomb?); refused", path)
        names = [i.filename for i in infos]
        root = None
        if "META-INF/container.xml" in names:
            try:
                from defusedxml import ElementTree as SafeET

                with zf.open("META-INF/container.xml") as fh:
                    container = SafeET.fromstring(_read_limited(fh, 10**6, path, "container.xml"))
                for el in container.iter():
                    if el.tag.endswith("rootfile") and el.get("full-path"):
                        root = el.get("full-path")
                        break
            except UnimtError:
                raise
            except Exception:
                root = None
        if root is None or root not in names:
            candidates = [n for n in names if not n.startswith("META-INF/")
                          and PurePosixPath(n).suffix.lower() in (".xml", ".musicxml")]
            if not candidates:
                raise BadInputError("the .mxl archive holds no MusicXML file", path)
            root = candidates[0]
        try:
            with zf.open(root) as fh:
                return _read_limited(fh, MAX_XML_BYTES, path, "the MusicXML inside the archive")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise BadInputError(f"the .mxl archive is corrupt ({exc})", path) from None


def check_musicxml_bytes(data: bytes, path: Path | None):
    """Parse XML safely: refuse entity declarations and anything that is not MusicXML; return the root."""
    from defusedxml import DefusedXmlException
    from defusedxml import ElementTree as SafeET

    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BadInputError(f"the XML declares entities ({type(exc).__name__}); refused for safety", path) from None
    except SafeET.ParseError as exc:
        raise BadInputError(f"not well-formed XML ({exc})", path) from None
    tag = root.tag.rsplit("}", 1)[-1]
    if tag == "score-timewise":
        raise BadInputError("timewise MusicXML is not supported; export it as partwise MusicXML", path)
    if tag != "score-partwise":
        raise BadInputError(f"not MusicXML: the root element is <{tag}>", path)
    if root.find("part") is None:
        raise BadInputError("the MusicXML has no parts", path)
    check_score_limits(root, path)
    return root


def check_score_limits(root, path: Path | None) -> None:
    """Refuse, before music21 reads it, a score past what unimt supports: parts, measures, notes, and texts
    (a 4 MB title) longer than any real score has."""
    parts = root.findall("part")
    if len(parts) > MAX_PARTS:
        raise LimitError(f"the score has {limit_text(len(parts))} parts; at most {limit_text(MAX_PARTS)} are "
                         "supported", path)
    measures = max(sum(1 for el in part if el.tag == "measure") for part in parts)
    if measures > MAX_MEASURES:
        raise LimitError(f"the score has {limit_text(measures)} measures; at most {limit_text(MAX_MEASURES)} "
                         "are supported", path)
    notes = 0
    for el in root.iter():
        if el.tag == "note":
            notes += 1
        for text in (el.text, el.tail, *el.attrib.values()):
            if text is not None and len(text) > MAX_TEXT_CHARS:
                raise LimitError(f"a text in <{el.tag}> is {limit_text(len(text))} characters long; at most "
                                 f"{limit_text(MAX_TEXT_CHARS)} are supported", path)
    if notes > MAX_NOTES:
        raise LimitError(f"the score has {limit_text(notes)} notes; at most {limit_text(MAX_NOTES)} are "
                         "supported", path)


def read_notation(path: Path, fmt: str) -> Notation:
    """Read .musicxml/.xml/.mxl into a music21 Score."""
    if fmt == "mxl":
        data = read_mxl_bytes(path)
    else:
        with open(path, "rb") as fh:
            data = _read_limited(fh, MAX_XML_BYTES, path, "the MusicXML file")
    return Notation(parse_musicxml_bytes(as_utf8(data), path), source=path)


def as_utf8(data: bytes) -> bytes:
    """XML text in UTF-16 or UTF-32 (with or without a byte-order mark) or UTF-8 with one, as plain UTF-8 with
    its declaration saying so: the byte-order mark decides, whatever the declaration claims."""
    import re

    from model.io.formats import text_encoding

    enc = text_encoding(data[:4])
    if enc is None or enc == "utf-8" and not data.startswith(b"\xef\xbb\xbf"):
        return data
    try:
        text = data.decode(enc).lstrip("\ufeff")
    except UnicodeDecodeError:
        return data  # the XML parser says what is wrong
    text = re.sub(r"""^(<\?xml[^>]*?encoding=)(["'])[^"']*\2""", r"\1\2UTF-8\2", text, count=1)
    return text.encode("utf-8")


def parse_musicxml_bytes(data: bytes, path: Path | None = None):
    """Safely parse MusicXML bytes into a music21 Score."""
    from music21 import stream
    from music21.musicxml.xmlToM21 import MusicXMLImporter

    root = check_musicxml_bytes(data, path)
    try:
        importer = MusicXMLImporter()
        importer.xmlRoot = root
        importer.xmlRootToScore(root, importer.stream)
        score = importer.stream
    except Exception as exc:
        raise BadInputError(f"music21 cannot read this MusicXML ({type(exc).__name__}: {exc})", path) from None
    if isinstance(score, stream.Opus):
        scores = list(score.scores)
        if not scores:
            raise BadInputError("the MusicXML holds no score", path)
        score = scores[0]
    if not isinstance(score, stream.Score):
        wrapped = stream.Score()
        wrapped.insert(0, score)
        score = wrapped
    if not score.parts:
        raise BadInputError("the MusicXML has no parts", path)
    from model.perform import check_repeats

    check_repeats(score, path)
    return score


def lazy_notation(text: str, source: Path | None = None, read_from: Path | None = None) -> Notation:
    """A score held as MusicXML text, which music21 parses when the score is first asked for (it is written
    as that text until then: :func:`musicxml_bytes`). A parse error names ``read_from`` (the scan a score
    was read from), else ``source``."""
    return Notation.from_musicxml(text, lambda t: parse_musicxml_bytes(t.encode("utf-8"), read_from or source),
                                  source)


def file_title(source) -> str:
    """The title a score made from the file ``source`` takes: its name without the extension, underscores as
    spaces."""
    return Path(source).stem.replace("_", " ")


def name_untitled(notation: Notation, source, title: str | None = None) -> None:
    """A score made from a file, with no title of its own, takes ``title``, else the file's name (not
    "Music21 Fragment"). A score still held as the reader's MusicXML text is titled already."""
    if source is None and not title or notation.musicxml is not None:
        return
    try:
        from music21 import metadata

        score = notation.score
        md = score.metadata
        own = (md.title or "").strip() if md is not None else ""
        if not own or own.lower().startswith("music21"):
            if md is None:
                md = metadata.Metadata()
                score.insert(0, md)
            md.title = title or file_title(source)
            if (md.movementName or "").lower().startswith("music21"):
                md.movementName = None
    except Exception:
        pass


def musicxml_bytes(notation: Notation) -> bytes:
    """Serialise a score as MusicXML 4 text (what notation editors import); a score still held as MusicXML
    text (:meth:`Notation.from_musicxml`) is that text. A score without a title or composer is written
    without them (music21 would write "Music21 Fragment", composed by "Music21")."""
    if notation.musicxml is not None:
        return notation.musicxml.encode("utf-8")
    from music21 import defaults
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    defaults.title = defaults.author = ""
    try:
        return GeneralObjectExporter(notation.score).parse()
    except Exception as exc:
        raise UnimtError(f"cannot write this score as MusicXML ({type(exc).__name__}: {exc})") from None


def write_notation(notation: Notation, path: Path, fmt: str) -> list[Path]:
    data = musicxml_bytes(notation)
    with atomic_path(path) as tmp:
        if fmt == "mxl":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.recordare.musicxml")
                zf.writestr("META-INF/container.xml", _CONTAINER, compress_type=zipfile.ZIP_DEFLATED)
                zf.writestr("score.musicxml", data, compress_type=zipfile.ZIP_DEFLATED)
            tmp.write_bytes(buf.getvalue())
        else:
            tmp.write_bytes(data)
    return [path]
