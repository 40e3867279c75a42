"""A file's kind comes from its content, never its name; display names are made safe."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.evidence.sniffing import FileRejected, clean_name, sniff


def office(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def opendocument(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), kind)  # stored, first: ODF's rule
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


ACCEPTED = [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video/mp4"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
    (b"\xff\xfb\x90\x64\x00\x00", "audio/mpeg"),
    (b"OggS\x00\x02\x00\x00", "audio/ogg"),
    (
        office("[Content_Types].xml", "word/document.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        office("[Content_Types].xml", "xl/workbook.xml"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        office("[Content_Types].xml", "ppt/presentation.xml"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    (
        opendocument("application/vnd.oasis.opendocument.text"),
        "application/vnd.oasis.opendocument.text",
    ),
    ("Reflection: 17 of 24 chose B — ünïcode".encode(), "text/plain"),
    (b"name,score\nStudent A,3\n", "text/plain"),
]


@pytest.mark.parametrize(("head", "kind"), ACCEPTED, ids=[k for _, k in ACCEPTED])
def test_accepted_kinds_are_recognised_by_content(head, kind):
    assert sniff(head, whole=True) == kind


def test_office_documents_are_recognised_from_their_first_chunk_alone():
    document = office("[Content_Types].xml", "_rels/.rels", "word/document.xml")
    assert sniff(document[:200], whole=False).endswith("wordprocessingml.document")


def test_text_cut_inside_a_character_at_a_chunk_end_is_still_text():
    assert sniff("café".encode()[:-1], whole=False) == "text/plain"


REFUSED = [
    (b"<!DOCTYPE html><html><script>alert(1)</script>", "web page"),
    (b"  <html><body>hi</body></html>", "web page"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "web page"),
    (b'<?xml version="1.0"?><svg/>', "web page"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "program"),
    (b"\x7fELF\x02\x01\x01\x00", "program"),
    (b"#!/bin/sh\nrm -rf /\n", "script"),
    (office("evil.exe"), "ZIP archive"),
    (b"\x00\x01\x02\x03binary", "not a document"),
    (b"\xc3\x28 invalid utf-8", "not a document"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "MP4-family"),
]


@pytest.mark.parametrize(("head", "what"), REFUSED, ids=[w for _, w in REFUSED])
def test_refused_kinds_name_what_is_accepted(head, what):
    with pytest.raises(FileRejected) as refused:
        sniff(head, whole=True)
    assert what in refused.value.message
    assert "PDF" in (refused.value.hint or "") and "MP4" in (refused.value.hint or "")
    assert refused.value.status == 415


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jo\\plan.pdf", "plan.pdf"),
        ("lesson\x00plan\x1b[31m.pdf", "lessonplan[31m.pdf"),
        ("invoice\u202etxt.exe", "invoicetxt.exe"),
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("CON.txt", "_CON.txt"),
        ("nul", "_nul"),
        ("...", "evidence"),
        ("", "evidence"),
        ("  spaced   out  .pdf ", "spaced out .pdf"),
    ],
)
def test_names_are_cleaned_for_display(given, shown):
    assert clean_name(given) == shown


def test_long_names_keep_their_extension_within_the_limit():
    name = clean_name("a" * 500 + ".docx")
    assert len(name) <= 200 and name.endswith(".docx")
