"""Badge images for an earned credential: baked PNG and SVG, the image in either format, the share
QR code and LinkedIn's add-to-profile link (LTI-CHECKLIST I; issue 11).

Baking puts the credential inside the badge image, so the file alone can be verified:

- OB 2.0 (Open Badges Baking Specification 1.0,
  https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/baking/index.html): a PNG
  ``iTXt`` chunk with keyword ``openbadges`` holding the hosted assertion (its JSON or its URL),
  uncompressed; an SVG ``<openbadges:assertion verify="URL"/>`` in namespace
  ``http://openbadges.org``.
- OB 3.0 (Open Badges 3.0, "Baked Badge", https://www.imsglobal.org/spec/ob/v3p0/#baked-badge): a
  PNG ``iTXt`` chunk with keyword ``openbadgecredential`` holding the credential JSON,
  uncompressed; an SVG ``<openbadges:credential>`` in namespace
  ``https://purl.imsglobal.org/ob/v3p0`` with the JSON in CDATA.

Each keyword or element may appear once, so baking first removes whatever Open Badges data the
image already carries (a catalog image can be a badge baked elsewhere) and then adds what it is
given. Both specifications tell an SVG to bind the prefix ``openbadges`` on the root, each to its
own namespace; one prefix cannot name two namespaces on one element, so when both are baked the
root binds it to OB 2.0 (the official OB 2.0 bakery finds its element by the literal name
``openbadges:assertion``) and the OB 3.0 element re-binds it for itself. Namespace-aware readers
and readers matching ``openbadges:credential`` by name both find it.

Everything here is a pure function of its arguments: no Flask, no database.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

import resvg_py
import segno
from lxml import etree

PNG = "image/png"
SVG = "image/svg+xml"

OB2_KEYWORD = "openbadges"
"""The PNG ``iTXt`` keyword, and the ``unbake_*`` key, for OB 2.0 data."""
OB3_KEYWORD = "openbadgecredential"
"""The PNG ``iTXt`` keyword, and the ``unbake_*`` key, for an OB 3.0 credential."""
OB2_SVG_NS = "http://openbadges.org"
OB3_SVG_NS = "https://purl.imsglobal.org/ob/v3p0"
SVG_PREFIX = "openbadges"

SVG_NS = "http://www.w3.org/2000/svg"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

MAX_RASTER_PX = 4096
MAX_TEXT_CHUNK_BYTES = 8 * 1024 * 1024
"""Largest text a compressed chunk may inflate to when unbaking (guards against zip bombs)."""

QR_ERROR_CORRECTION = "m"
"""Level M restores up to 15 % of the modules: enough for glare or a finger on a screen, without
the larger code that Q or H would need."""
QR_MODULE_PX = 6
"""CSS pixels per QR module: about 1.5 mm on a laptop screen, which a phone camera held 30 to
50 cm away resolves easily; the four-module quiet zone the QR standard asks for is kept."""

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"

_OB_KEYWORDS = {OB2_KEYWORD.encode("latin-1"), OB3_KEYWORD.encode("latin-1")}
_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class ImageError(ValueError):
    """The image (or what was to be baked into it) cannot be used; str(exc) says why, plainly."""


# --- PNG -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    kind: bytes
    data: bytes
    raw: bytes
    """The whole chunk as it was in the file: length, type, data and CRC."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _read_png(png: bytes) -> list[_Chunk]:
    """Split a PNG into its chunks, checking the signature, every length and CRC, the header
    first, image data present and the end chunk last, or raise ``ImageError``."""
    damaged = "The PNG file is damaged ({}); export it again from your drawing program."
    if not png.startswith(PNG_SIGNATURE):
        raise ImageError("This is not a PNG file: it does not start with the PNG signature.")
    chunks: list[_Chunk] = []
    position = len(PNG_SIGNATURE)
    while True:
        if position + 12 > len(png):
            raise ImageError(damaged.format("it ends early"))
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        end = position + 12 + length
        if length > 0x7FFFFFFF or end > len(png):
            raise ImageError(damaged.format("it ends early"))
        if not kind.isalpha():
            raise ImageError(damaged.format("a chunk has an invalid name"))
        data = png[position + 8 : end - 4]
        (crc,) = struct.unpack(">I", png[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            name = kind.decode("ascii")
            raise ImageError(damaged.format(f"its {name} chunk's checksum is wrong"))
        if not chunks and (kind != b"IHDR" or length != 13):
            raise ImageError(damaged.format("it does not start with its header"))
        chunks.append(_Chunk(kind, data, png[position:end]))
        position = end
        if kind == b"IEND":
            break
    if position != len(png):
        raise ImageError(damaged.format("there is extra data after its end"))
    if not any(chunk.kind == b"IDAT" for chunk in chunks):
        raise ImageError(damaged.format("it has no image data"))
    return chunks


def _png_size(chunks: list[_Chunk]) -> tuple[int, int]:
    width, height = struct.unpack(">II", chunks[0].data[:8])
    if not (width and height):
        raise ImageError("The PNG file is damaged (its header gives it no size).")
    return width, height


def _keyword(chunk: _Chunk) -> bytes | None:
    """Return the keyword of a text chunk, or None for any other chunk."""
    if chunk.kind not in _TEXT_CHUNKS:
        return None
    return chunk.data.split(b"\x00", 1)[0]


def _itxt(keyword: str, text: str) -> bytes:
    """Make an uncompressed ``iTXt`` chunk with no language tag and no translated keyword (PNG
    specification 11.3.4.5; both baking specifications forbid compression)."""
    if "\x00" in text:
        raise ImageError(
            f"The {keyword} text contains a NUL character, which PNG text cannot hold."
        )
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ImageError(f"The {keyword} text is not valid Unicode.") from exc
    # keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translation NUL
    return _chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + encoded)


def bake_png(png: bytes, *, ob2: str | None, ob3: str | None) -> bytes:
    """Return the PNG with ``openbadges`` (``ob2``: the hosted assertion's JSON or URL) and
    ``openbadgecredential`` (``ob3``: the credential JSON) ``iTXt`` chunks, placed before the
    first image data; any Open Badges text chunk already there is removed first, so a value left
    as None leaves the image without that keyword."""
    chunks = [chunk for chunk in _read_png(png) if _keyword(chunk) not in _OB_KEYWORDS]
    baked = b"".join(
        _itxt(keyword, text)
        for keyword, text in ((OB2_KEYWORD, ob2), (OB3_KEYWORD, ob3))
        if text is not None
    )
    first_idat = next(index for index, chunk in enumerate(chunks) if chunk.kind == b"IDAT")
    return b"".join(
        [
            PNG_SIGNATURE,
            *(chunk.raw for chunk in chunks[:first_idat]),
            baked,
            *(chunk.raw for chunk in chunks[first_idat:]),
        ]
    )


def unbake_png(png: bytes) -> dict[str, str]:
    """Read the PNG's text chunks (``tEXt``, ``zTXt``, ``iTXt``) as keyword → text; the first
    chunk with a keyword wins, as both baking specifications read it."""
    found: dict[str, str] = {}
    for keyword, text in _text_chunks(_read_png(png)):
        found.setdefault(keyword, text)
    return found


def _text_chunks(chunks: list[_Chunk]) -> Iterator[tuple[str, str]]:
    for chunk in chunks:
        if chunk.kind not in _TEXT_CHUNKS:
            continue
        broken = ImageError(
            f"The PNG's {chunk.kind.decode('ascii')} text chunk is malformed; export the image "
            "again."
        )
        keyword, separator, rest = chunk.data.partition(b"\x00")
        if not separator or not 1 <= len(keyword) <= 79:
            raise broken
        try:
            if chunk.kind == b"tEXt":
                text = rest.decode("latin-1")
            elif chunk.kind == b"zTXt":
                if rest[:1] != b"\x00":
                    raise broken
                text = _inflate(rest[1:]).decode("latin-1")
            else:
                compressed, method = rest[:1], rest[1:2]
                fields = rest[2:].split(b"\x00", 2)  # language tag, translated keyword, text
                if compressed not in (b"\x00", b"\x01") or len(fields) != 3:
                    raise broken
                if compressed == b"\x01" and method != b"\x00":
                    raise broken
                body = fields[2]
                text = (_inflate(body) if compressed == b"\x01" else body).decode("utf-8")
        except (UnicodeDecodeError, zlib.error) as exc:
            raise broken from exc
        yield keyword.decode("latin-1"), text


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, MAX_TEXT_CHUNK_BYTES)
    if inflater.unconsumed_tail:
        raise ImageError("A text chunk in the PNG is too large to read.")
    return text


# --- SVG -----------------------------------------------------------------------------------------


def _parse_svg(svg: str) -> etree._Element:
    """Parse an SVG without loading a DTD, expanding entities or touching the network, or raise
    ``ImageError``; a document type declaration is refused outright (an SVG never needs one,
    and the catalog's sanitiser never writes one)."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(svg.encode("utf-8"), parser)
    except (etree.XMLSyntaxError, UnicodeEncodeError, ValueError) as exc:
        raise ImageError(f"The SVG is not well-formed XML ({exc}).") from exc
    if root.getroottree().docinfo.doctype:
        raise ImageError("The SVG has a document type declaration (<!DOCTYPE …>); remove it.")
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ImageError(f'This is not an SVG image: its root is not <svg xmlns="{SVG_NS}">.')
    return root


def _serialise(root: etree._Element) -> str:
    return str(etree.tostring(root, encoding="unicode"))


def _check_xml_text(what: str, text: str) -> None:
    if _NOT_XML.search(text):
        raise ImageError(f"The {what} contains a character XML cannot hold (a control character).")


def _cdata(text: str) -> str:
    """Wrap the text in CDATA; a ``]]>`` inside would end the section, so it is split across two
    sections (``]]`` ends one, ``>`` starts the next) and reads back unchanged."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _remove(element: etree._Element) -> None:
    """Remove the element, keeping the text that followed it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def bake_svg(svg: str, *, ob2_assertion_url: str | None, ob3: str | None) -> str:
    """Return the SVG with ``<openbadges:assertion verify="URL"/>`` (OB 2.0 hosted assertion)
    and ``<openbadges:credential>`` holding the OB 3.0 credential JSON in CDATA, right after the
    root start tag, with their namespaces declared on the root; any Open Badges element already
    there is removed first."""
    for what, text in (("assertion URL", ob2_assertion_url), ("credential", ob3)):
        if text is not None:
            _check_xml_text(what, text)
    old = _parse_svg(svg)
    for element in list(old.iter(f"{{{OB2_SVG_NS}}}assertion", f"{{{OB3_SVG_NS}}}credential")):
        _remove(element)

    # lxml cannot add a namespace declaration to an existing element: build a new root with the
    # same tag, attributes (in order) and content.
    nsmap = {
        prefix: uri
        for prefix, uri in old.nsmap.items()
        if prefix != SVG_PREFIX and uri not in (OB2_SVG_NS, OB3_SVG_NS)
    }
    if ob2_assertion_url is not None:
        nsmap[SVG_PREFIX] = OB2_SVG_NS
    elif ob3 is not None:
        nsmap[SVG_PREFIX] = OB3_SVG_NS
    root = etree.Element(old.tag, nsmap=nsmap)
    for key, value in old.attrib.items():
        root.set(key, value)
    root.text = old.text
    root.extend(list(old))

    placeholder = None
    if ob3 is not None:
        own_prefix = None if nsmap[SVG_PREFIX] == OB3_SVG_NS else {SVG_PREFIX: OB3_SVG_NS}
        credential = etree.Element(f"{{{OB3_SVG_NS}}}credential", nsmap=own_prefix)
        # lxml's CDATA refuses "]]>": write a marker and put the split CDATA in its place.
        placeholder = f"openbadgecredential-{secrets.token_hex(16)}"
        credential.text = placeholder
        root.insert(0, credential)
    if ob2_assertion_url is not None:
        assertion = etree.Element(f"{{{OB2_SVG_NS}}}assertion")
        assertion.set("verify", ob2_assertion_url)
        root.insert(0, assertion)

    baked = _serialise(root)
    if placeholder is not None and ob3 is not None:
        before, marker, after = baked.partition(placeholder)
        if not marker or placeholder in after:  # the marker is random: only a bug gets here
            raise ImageError("The credential could not be placed in the SVG.")
        baked = before + _cdata(ob3) + after
    return baked


def unbake_svg(svg: str) -> dict[str, str]:
    """Read the SVG's Open Badges elements as ``openbadges`` / ``openbadgecredential`` → text:
    the element's body (the JSON) when it has one, else its ``verify`` attribute (an assertion
    URL or a signed badge); the first element of each kind wins."""
    root = _parse_svg(svg)
    found: dict[str, str] = {}
    for keyword, tag in (
        (OB2_KEYWORD, f"{{{OB2_SVG_NS}}}assertion"),
        (OB3_KEYWORD, f"{{{OB3_SVG_NS}}}credential"),
    ):
        element = next(root.iter(tag), None)
        if element is None:
            continue
        body = "".join(element.itertext()).strip()
        verify = element.get("verify")
        if body:
            found[keyword] = body
        elif verify is not None:
            found[keyword] = verify
    return found


# --- the image in either format ------------------------------------------------------------------


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?:px)?\s*", value)
    return float(match.group(1)) if match else None


def png_for(image_bytes: bytes, media_type: str, size: int = 400) -> bytes:
    """Return the badge image as a PNG: a PNG unchanged, an SVG drawn ``size`` pixels square
    (a non-square drawing centred in the square). The SVG is expected to be the catalog's
    sanitised one, which refers to nothing outside itself."""
    if media_type == PNG:
        _read_png(image_bytes)
        return image_bytes
    if media_type != SVG:
        raise ImageError(f"A badge image is a PNG or an SVG, not {media_type or 'unknown'}.")
    if not 1 <= size <= MAX_RASTER_PX:
        raise ImageError(f"A badge is drawn at 1 to {MAX_RASTER_PX} px, not {size}.")
    root = _parse_svg(_svg_text(image_bytes))
    if root.get("viewBox") is None:
        width, height = _number(root.get("width")), _number(root.get("height"))
        if not (width and height):
            raise ImageError(
                "The SVG has no size: it needs a viewBox or a numeric width and height."
            )
        root.set("viewBox", f"0 0 {width:g} {height:g}")
    # resvg keeps the drawing's aspect ratio; a square canvas with the drawing's viewBox centres
    # it (preserveAspectRatio's default, xMidYMid meet) so the PNG is exactly size by size.
    root.set("width", str(size))
    root.set("height", str(size))
    try:
        return bytes(resvg_py.svg_to_bytes(svg_string=_serialise(root), width=size, height=size))
    except ValueError as exc:
        raise ImageError(f"The SVG could not be drawn ({exc}).") from exc


def svg_for(image_bytes: bytes, media_type: str) -> str:
    """Return the badge image as an SVG: an SVG unchanged, a PNG (its Open Badges chunks removed)
    embedded as a data URL in an SVG of the PNG's width and height."""
    if media_type == SVG:
        text = _svg_text(image_bytes)
        _parse_svg(text)
        return text
    if media_type != PNG:
        raise ImageError(f"A badge image is a PNG or an SVG, not {media_type or 'unknown'}.")
    clean = bake_png(image_bytes, ob2=None, ob3=None)
    width, height = _png_size(_read_png(clean))
    data = base64.b64encode(clean).decode("ascii")
    return (
        f'<svg xmlns="{SVG_NS}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<image width="{width}" height="{height}" href="data:image/png;base64,{data}"/></svg>'
    )


def _svg_text(image_bytes: bytes) -> str:
    try:
        return image_bytes.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImageError("The SVG is not UTF-8 text.") from exc


# --- sharing -------------------------------------------------------------------------------------


def qr_svg(url: str, *, title: str) -> str:
    """Draw a QR code for the URL as an SVG image with an accessible name (``role="img"`` and a
    ``<title>``), drawn at ``QR_MODULE_PX`` CSS pixels a module and scalable (it has a
    viewBox)."""
    code = segno.make(url, error=QR_ERROR_CORRECTION, micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=1,
        border=4,
        dark="#000000",
        light="#ffffff",  # a light quiet zone even on a dark page
        title=title,
        xmldecl=False,
        svgclass=None,
        lineclass=None,
        omitsize=True,
        nl=False,
    )
    root = _parse_svg(out.getvalue().decode("utf-8"))
    side = str(code.symbol_size(scale=QR_MODULE_PX, border=4)[0])
    root.set("role", "img")
    root.set("width", side)
    root.set("height", side)
    root.set("shape-rendering", "crispEdges")  # no anti-aliased seams between modules
    return _serialise(root)


def linkedin_add_to_profile_url(
    *,
    name: str,
    organisation_name: str,
    issued: date,
    expires: date | None,
    cert_url: str,
    cert_id: str,
    organization_id: str | None = None,
) -> str:
    """Build the link that opens LinkedIn's "Add license or certification" form filled in.

    Parameters as LinkedIn's Add to Profile page documents them for certifications
    (https://addtoprofile.linkedin.com/, "Certifications"; LinkedIn Help answer a528030):
    ``startTask=CERTIFICATION_NAME``, ``name``, ``organizationId`` (the numeric id of the
    issuer's LinkedIn Page, preferred: the entry then shows the organisation's logo and links to
    its page) or else ``organizationName``, ``issueYear``, ``issueMonth`` (1-12),
    ``expirationYear`` and ``expirationMonth`` when it expires, ``certUrl`` and ``certId``.
    """
    params = [("startTask", "CERTIFICATION_NAME"), ("name", name)]
    if organization_id:
        if not (organization_id.isascii() and organization_id.isdigit()):
            raise ValueError("A LinkedIn organization ID is a number (from the Page's admin URL).")
        params.append(("organizationId", organization_id))
    else:
        params.append(("organizationName", organisation_name))
    params += [("issueYear", str(issued.year)), ("issueMonth", str(issued.month))]
    if expires is not None:
        params += [("expirationYear", str(expires.year)), ("expirationMonth", str(expires.month))]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params, quote_via=quote)}"
