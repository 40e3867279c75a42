"""What kind of file an upload is, decided from its first bytes (magic numbers), never from its
name or the browser's claim; and a display name made safe.

The allow-list suits classroom evidence: documents (PDF, Office Open XML, OpenDocument, plain
text and CSV), images (PNG, JPEG, GIF, WebP), audio and video (MP4/M4A/MOV, WebM, MP3, WAV,
OGG). Anything a browser could run — HTML, SVG, scripts, programs — is refused.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from io import BytesIO

from app.errors import AppError

ACCEPTED_KINDS = (
    "PDF, Word/Excel/PowerPoint (docx, xlsx, pptx), OpenDocument, plain text or CSV, "
    "PNG, JPEG, GIF, WebP, MP4, MOV, M4A, WebM, MP3, WAV or OGG"
)
NAME_LIMIT = 200
DEFAULT_NAME = "evidence"

# Reserved device names on Windows: a download saved under one of them misbehaves there.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))} | {
    f"lpt{i}" for i in range(10)
}
_MP4_BRANDS = {
    b"isom": "video/mp4",
    b"iso2": "video/mp4",
    b"iso4": "video/mp4",
    b"iso5": "video/mp4",
    b"iso6": "video/mp4",
    b"mp41": "video/mp4",
    b"mp42": "video/mp4",
    b"avc1": "video/mp4",
    b"dash": "video/mp4",
    b"M4V ": "video/mp4",
    b"MSNV": "video/mp4",
    b"3gp4": "video/mp4",
    b"3gp5": "video/mp4",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
}
_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ODF_PREFIX = b"application/vnd.oasis.opendocument."
_MARKUP = re.compile(
    rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<svg|<\?xml|<iframe|<object|<embed"
    rb"|<meta|<a\s|<img\s|<style|<!--)",
    re.IGNORECASE,
)


class FileRejected(AppError):
    """The upload is not a kind of file Microcred keeps (415)."""

    status = 415
    code = "file_type_refused"
    title = "This kind of file cannot be uploaded"


def _refuse(what: str) -> FileRejected:
    return FileRejected(
        f"This file is {what}, which Microcred does not accept as evidence.",
        hint=f"Accepted kinds: {ACCEPTED_KINDS}. Export or save it as one of these and try again.",
    )


def sniff(head: bytes, *, whole: bool) -> str:
    """Return the media type of a file whose first bytes are ``head``, or refuse it.

    ``whole`` says that ``head`` is the entire file (so text may end anywhere)."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _MP4_BRANDS:
            return _MP4_BRANDS[brand]
        raise _refuse(f"an MP4-family file of a kind we do not play ({brand.decode('latin-1')!r})")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return "video/webm"
        raise _refuse("a Matroska (MKV) video")
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "audio/mpeg"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(head, whole=whole)
    if head[:2] == b"MZ" or head[:4] in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        raise _refuse("a program")
    return _sniff_text(head, whole=whole)


def _sniff_zip(head: bytes, *, whole: bool) -> str:
    # OpenDocument: the first entry is "mimetype", stored, holding the type (ODF 1.2 §3.3).
    if head[30:38] == b"mimetype" and head[38 : 38 + len(_ODF_PREFIX)] == _ODF_PREFIX:
        end = head.find(b"PK", 38)
        kind = head[38 : end if end > 0 else 38 + 80].decode("ascii", "replace").strip()
        if re.fullmatch(r"application/vnd\.oasis\.opendocument\.[a-z.-]+", kind):
            return kind
    names: list[str] = []
    if whole:
        try:
            names = zipfile.ZipFile(BytesIO(head)).namelist()
        except zipfile.BadZipFile:
            names = []
    else:
        # Only the start of a large archive is here: read the local headers' names.
        position = 0
        while len(names) < 200:
            at = head.find(b"PK\x03\x04", position)
            if at < 0 or at + 30 > len(head):
                break
            length = int.from_bytes(head[at + 26 : at + 28], "little")
            names.append(head[at + 30 : at + 30 + length].decode("utf-8", "replace"))
            position = at + 30 + length
    if "[Content_Types].xml" in names or any(n.startswith("_rels/") for n in names):
        for folder, kind in _OOXML.items():
            if any(n.startswith(folder) for n in names):
                return kind
    raise _refuse("a ZIP archive")


def _sniff_text(head: bytes, *, whole: bool) -> str:
    if b"\x00" in head:
        raise _refuse("not a document, image, audio or video file we recognise")
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(body, final=whole)
    except UnicodeDecodeError:
        raise _refuse("not a document, image, audio or video file we recognise") from None
    if _MARKUP.match(body):
        raise _refuse("a web page or markup (HTML, SVG or XML)")
    if body.startswith(b"#!"):
        raise _refuse("a script")
    return "text/plain"


def clean_name(name: str | None) -> str:
    """Make an educator's file name safe to show and to offer as a download name.

    The result is for display only; it never becomes a path."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    # Control, format (bidi overrides, zero-width) and unassigned characters go.
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"\s+", " ", text).strip(" .")
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if stem.lower() in _RESERVED or text.lower() in _RESERVED:
        text = f"_{text}"
    if len(text) > NAME_LIMIT:
        extension = extension[:20]
        keep = NAME_LIMIT - len(extension) - 1 if extension else NAME_LIMIT
        text = f"{stem[:keep].rstrip()}.{extension}" if extension else stem[:keep].rstrip()
    return text or DEFAULT_NAME


def is_text(media_type: str) -> bool:
    return media_type.startswith("text/")


def text_type_for(name: str) -> str:
    """A text file's media type: CSV when its (cleaned) name says so, plain text otherwise."""
    return "text/csv" if name.lower().endswith(".csv") else "text/plain"
