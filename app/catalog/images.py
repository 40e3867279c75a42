"""Badge and issuer images: check an upload, sanitise an SVG, store it by its digest (issue 6).

What a file is comes from its bytes, never from its name or a declared type. A PNG must have a
well-formed chunk structure (signature, IHDR first, a CRC that matches on every chunk, image
data, IEND last and nothing after it) and is stored unchanged. An SVG is parsed as XML without
any document type declaration (so no entities and nothing fetched), cleaned against an
allow-list of elements and attributes, and stored re-serialised: nothing left in it can run
script or fetch anything outside the file, and cleaning a cleaned SVG gives the same bytes.

Open Badges images are PNG or SVG (https://www.imsglobal.org/spec/ob/v3p0/#image); a badge
displays square, at 90 px at least.

The standard library's expat parser is used because ``defusedxml`` is not a dependency; it is
safe here because a document with ``<!DOCTYPE`` or ``<!ENTITY`` is refused before parsing (no
internal or external entities can then exist) and expat never fetches anything by itself.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog.models import Image

MAX_IMAGE_BYTES = 1 * 1024 * 1024  # 1 MiB
MAX_DIMENSION = 4096
MIN_BADGE_PX = 90
RECOMMENDED_BADGE_PX = 200
MAX_ASPECT = 2.0
MAX_SVG_DEPTH = 100

TIMES = "\N{MULTIPLICATION SIGN}"

PNG = "image/png"
SVG = "image/svg+xml"
EXTENSIONS = {PNG: "png", SVG: "svg"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


class ImageRejected(ValueError):
    """The upload is not an image we accept; str(exc) is a sentence a person can act on."""


@dataclass(frozen=True)
class CheckedImage:
    media_type: str
    """``image/png`` or ``image/svg+xml``."""
    data: bytes
    """A PNG unchanged; an SVG re-serialised after sanitising."""
    width: int | None
    height: int | None


def check_image(data: bytes, filename: str = "") -> CheckedImage:
    """Tell what the bytes are and accept a PNG or an SVG fit for a badge, or raise
    ``ImageRejected``; the filename only names the file in messages."""
    subject = _subject(filename)
    if not data:
        raise ImageRejected(f"{subject.replace('This', 'The')} is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        size = math.ceil(len(data) * 10 / MAX_IMAGE_BYTES) / 10
        raise ImageRejected(
            f"The image is {size:.1f} MB; the limit is {MAX_IMAGE_BYTES // (1024 * 1024)} MB."
        )
    if data.startswith(PNG_SIGNATURE[:4]):
        width, height = _png_size(data)
        if width < MIN_BADGE_PX or height < MIN_BADGE_PX:
            raise ImageRejected(
                f"The image is {width}{TIMES}{height} px; a badge displays at {MIN_BADGE_PX} px at "
                f"least, so {MIN_BADGE_PX}{TIMES}{MIN_BADGE_PX} px is the minimum and "
                f"{RECOMMENDED_BADGE_PX}{TIMES}{RECOMMENDED_BADGE_PX} px or more is recommended."
            )
        checked = CheckedImage(PNG, data, width, height)
    else:
        kind = _other_kind(data)
        if kind is not None:
            raise ImageRejected(f"{subject} is {kind}; upload a PNG or an SVG.")
        svg, width, height = sanitise_svg(data, subject)
        checked = CheckedImage(SVG, svg, width, height)
    _check_square(checked)
    return checked


def store_image(session: Session, image: CheckedImage) -> Image:
    """Find or create the stored image with these bytes (flushed, not committed)."""
    digest = hashlib.sha256(image.data).hexdigest()
    for attempt in range(3):
        row = session.scalars(select(Image).where(Image.sha256 == digest)).first()
        if row is not None:
            return row
        try:
            with session.begin_nested():
                row = Image(sha256=digest, media_type=image.media_type, data=image.data)
                session.add(row)
            return row
        except IntegrityError:  # stored by a concurrent upload of the same bytes: use that row
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def find_image(session: Session, digest: str) -> Image | None:
    """The stored image with this SHA-256 digest (lower-case hex), if any."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        return None
    return session.scalars(select(Image).where(Image.sha256 == digest)).first()


def _subject(filename: str) -> str:
    name = re.split(r"[\\/]", filename)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())[:80]
    return f"The file {name}" if name else "This file"


def _check_square(image: CheckedImage) -> None:
    if image.width is None or image.height is None:
        return
    long, short = max(image.width, image.height), min(image.width, image.height)
    if long > MAX_ASPECT * short:
        raise ImageRejected(
            f"The image is {image.width}{TIMES}{image.height} px, but a badge displays square; "
            "crop it to a square (or close to one: at most twice as wide as it is tall, or the "
            "other way round)."
        )


# --- PNG ---------------------------------------------------------------------------------------

# Allowed bit depths for each colour type (PNG specification, 11.2.2 IHDR).
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


def _png_size(data: bytes) -> tuple[int, int]:
    """Walk the PNG's chunks, checking each one; return its width and height."""
    broken = "The PNG file is damaged ({}); export it again from your drawing program."
    if not data.startswith(PNG_SIGNATURE):
        # Typically a PNG sent through something that changed its line endings.
        raise ImageRejected(broken.format("its signature is wrong"))
    position = len(PNG_SIGNATURE)
    width = height = 0
    seen_idat = False
    first = True
    while True:
        if position + 8 > len(data):
            raise ImageRejected(broken.format("it ends early"))
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 8 + length + 4
        if length > 0x7FFFFFFF or end > len(data):
            raise ImageRejected(broken.format("it ends early"))
        if not kind.isalpha():
            raise ImageRejected(broken.format("a chunk has an invalid name"))
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise ImageRejected(broken.format(f"its {kind.decode('ascii')} chunk's CRC is wrong"))
        if first:
            if kind != b"IHDR" or length != 13:
                raise ImageRejected(broken.format("it does not start with its header"))
            width, height = _png_header(body, broken)
            first = False
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            if not seen_idat:
                raise ImageRejected(broken.format("it has no image data"))
            if end != len(data):
                # Bytes after the end would be kept verbatim; refuse files that are a PNG and
                # something else at once.
                raise ImageRejected(broken.format("there is extra data after its end"))
            return width, height
        position = end


def _png_header(body: bytes, broken: str) -> tuple[int, int]:
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", body
    )
    if depth not in _PNG_DEPTHS.get(colour, set()) or compression or filtering or interlace > 1:
        raise ImageRejected(broken.format("its header is not valid"))
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise ImageRejected(
            f"The image is {width}{TIMES}{height} px; the largest we accept is "
            f"{MAX_DIMENSION}{TIMES}{MAX_DIMENSION} px."
        )
    return width, height


# --- what else it might be ---------------------------------------------------------------------

_SIGNATURES = [
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon file"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
]


def _other_kind(data: bytes) -> str | None:
    """Name what the bytes are when they are clearly not an SVG, else None."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:2] == b"BM" and data[6:10] == b"\x00\x00\x00\x00":
        return "a BMP image"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "a HEIC image"
        return "a video or other media file"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    return None


# --- SVG ---------------------------------------------------------------------------------------

_CONTAINERS = {"svg", "g", "defs", "symbol", "switch", "clipPath", "mask", "pattern", "marker"}
_SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon"}
_TEXT = {"text", "tspan", "textPath", "title", "desc"}
_PAINT = {"linearGradient", "radialGradient", "stop"}
_FILTERS = {
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComponentTransfer",
    "feComposite",
    "feDropShadow",
    "feFlood",
    "feFuncA",
    "feFuncB",
    "feFuncG",
    "feFuncR",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
}
# Not here, so dropped with everything inside them: script, style-less HTML (foreignObject),
# a (a link can run javascript: when the SVG is opened directly), animate/set/animateMotion/
# animateTransform (they can rewrite any attribute, href included, after cleaning), feImage
# (fetches), font, cursor, view, and anything in another namespace (editors' metadata).
ALLOWED_ELEMENTS = _CONTAINERS | _SHAPES | _TEXT | _PAINT | _FILTERS | {"use", "image", "style"}

_PRESENTATION = {
    "alignment-baseline",
    "baseline-shift",
    "clip",
    "clip-path",
    "clip-rule",
    "color",
    "color-interpolation",
    "color-interpolation-filters",
    "color-rendering",
    "direction",
    "display",
    "dominant-baseline",
    "fill",
    "fill-opacity",
    "fill-rule",
    "filter",
    "flood-color",
    "flood-opacity",
    "font",
    "font-family",
    "font-size",
    "font-size-adjust",
    "font-stretch",
    "font-style",
    "font-variant",
    "font-weight",
    "image-rendering",
    "isolation",
    "letter-spacing",
    "lighting-color",
    "marker",
    "marker-end",
    "marker-mid",
    "marker-start",
    "mask",
    "mix-blend-mode",
    "opacity",
    "overflow",
    "paint-order",
    "shape-rendering",
    "stop-color",
    "stop-opacity",
    "stroke",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-opacity",
    "stroke-width",
    "text-anchor",
    "text-decoration",
    "text-rendering",
    "transform-origin",
    "unicode-bidi",
    "vector-effect",
    "visibility",
    "word-spacing",
    "writing-mode",
}
_GEOMETRY = {
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "fr",
    "dx",
    "dy",
    "d",
    "points",
    "width",
    "height",
    "pathLength",
    "transform",
    "viewBox",
    "preserveAspectRatio",
    "offset",
    "rotate",
    "textLength",
    "lengthAdjust",
    "startOffset",
    "method",
    "spacing",
    "side",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "clipPathUnits",
    "maskUnits",
    "maskContentUnits",
    "markerUnits",
    "markerWidth",
    "markerHeight",
    "refX",
    "refY",
    "orient",
    "filterUnits",
    "primitiveUnits",
}
_FILTER_ATTRIBUTES = {
    "in",
    "in2",
    "result",
    "stdDeviation",
    "edgeMode",
    "mode",
    "operator",
    "k1",
    "k2",
    "k3",
    "k4",
    "values",
    "type",
    "tableValues",
    "slope",
    "intercept",
    "amplitude",
    "exponent",
    "radius",
}
_DOCUMENT = {
    "id",
    "class",
    "style",
    "version",
    "baseProfile",
    "lang",
    "role",
    "focusable",
    "aria-label",
    "aria-labelledby",
    "aria-describedby",
    "aria-hidden",
    "requiredFeatures",
    "systemLanguage",
    "href",
}
ALLOWED_ATTRIBUTES = _PRESENTATION | _GEOMETRY | _FILTER_ATTRIBUTES | _DOCUMENT
_QUALIFIED_ATTRIBUTES = {
    f"{{{XLINK_NS}}}href": "xlink:href",
    f"{{{XLINK_NS}}}title": "xlink:title",
    f"{{{XML_NS}}}space": "xml:space",
    f"{{{XML_NS}}}lang": "xml:lang",
}
_HREFS = {"href", f"{{{XLINK_NS}}}href"}

_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_FRAGMENT = re.compile(r"#[^\s#]+")
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))\s*\)", re.IGNORECASE)
# Anything here makes a piece of CSS too risky to keep at all: escapes can spell any of the
# others, and the rest fetch, run script (old browsers) or pull in other documents.
_CSS_FORBIDDEN = re.compile(
    r"\\|@import|expression\s*\(|javascript:|vbscript:|behavio(?:u)?r\s*:|-moz-binding|"
    r"image-set\s*\(|\bsrc\s*\(|cross-fade\s*\(|<",
    re.IGNORECASE,
)


def sanitise_svg(data: bytes, subject: str = "This file") -> tuple[bytes, int, int]:
    """Parse an SVG safely, drop everything not on the allow-list, and re-serialise it;
    return the clean bytes and the width and height it declares, when they are numbers."""
    root = _parse_svg(data, subject)
    _check_depth(root)
    _clean(root)
    width, height = _svg_size(root)
    return _serialise(root).encode("utf-8"), width, height


def _parse_svg(data: bytes, subject: str) -> ElementTree.Element:
    not_image = f"{subject} is not a PNG or SVG image; upload a PNG or an SVG."
    body = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = body[:4096]
        if b"<svg" in head or b"s\x00v\x00g\x00" in head or b"\x00s\x00v\x00g" in head:
            raise ImageRejected(
                "The SVG is not in UTF-8; save it as UTF-8 and upload it again."
            ) from exc
        raise ImageRejected(not_image) from exc
    declared = re.match(r"\s*<\?xml[^>]*\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)", text)
    if declared and declared.group(1).lower() not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise ImageRejected("The SVG is not in UTF-8; save it as UTF-8 and upload it again.")
    if re.search(r"<!\s*(?:DOCTYPE|ENTITY)", text, re.IGNORECASE):
        # Entities are how XML bombs and external fetches happen; an SVG never needs them.
        raise ImageRejected(
            "The SVG has a document type declaration (<!DOCTYPE …>), which we do not accept; "
            "remove it (your drawing program can export a plain SVG) and upload it again."
        )
    parser = ElementTree.XMLParser()
    try:
        parser.feed(body)
        root = parser.close()
    except ElementTree.ParseError as exc:
        if "<svg" not in text[:4096]:
            raise ImageRejected(not_image) from exc
        line, column = exc.position
        raise ImageRejected(
            f"The SVG is not well-formed XML (line {line}, column {column + 1}); export it "
            "again from your drawing program."
        ) from exc
    if root.tag == "svg":
        raise ImageRejected(
            f'The SVG\'s root element has no xmlns="{SVG_NS}"; add it and upload it again.'
        )
    if root.tag != f"{{{SVG_NS}}}svg":
        local = root.tag.rsplit("}", 1)[-1]
        if local.lower() == "html":
            raise ImageRejected(f"{subject} is an HTML page; upload a PNG or an SVG.")
        raise ImageRejected(
            f"{subject} is XML but not an SVG image (its root element is <{local}>); upload a "
            "PNG or an SVG."
        )
    return root


def _check_depth(root: ElementTree.Element) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_SVG_DEPTH:
            raise ImageRejected(
                f"The SVG nests elements more than {MAX_SVG_DEPTH} deep; simplify it (ungroup) "
                "and upload it again."
            )
        stack.extend((child, depth + 1) for child in element)


def _local(tag: str) -> str | None:
    """The SVG element's local name, or None for anything outside the SVG namespace."""
    prefix = f"{{{SVG_NS}}}"
    return tag[len(prefix) :] if tag.startswith(prefix) else None


def _clean(element: ElementTree.Element) -> None:
    """Clean the element's attributes and, recursively, its children (depth checked before)."""
    name = _local(element.tag) or ""
    for key in list(element.attrib):
        value = _clean_attribute(name, key, element.attrib[key])
        if value is None:
            del element.attrib[key]
        else:
            element.attrib[key] = value
    if name == "style":
        css = _clean_css(element.text or "")
        element.text = css
        for child in list(element):
            _remove(element, child)
        return
    for child in list(element):
        if _keep(child):
            _clean(child)
        else:
            _remove(element, child)


def _keep(element: ElementTree.Element) -> bool:
    if not isinstance(element.tag, str):  # a comment or processing instruction
        return False
    name = _local(element.tag)
    if name not in ALLOWED_ELEMENTS:
        return False
    if name == "style":
        return element.get("type", "text/css") in ("", "text/css") and (
            _clean_css(element.text or "") is not None
        )
    if name in ("image", "use"):
        # Without an acceptable reference these draw nothing; keeping them would keep a
        # reference to somewhere else.
        return any(
            _clean_attribute(name, key, element.attrib[key]) is not None
            for key in _HREFS & element.attrib.keys()
        )
    return True


def _remove(parent: ElementTree.Element, child: ElementTree.Element) -> None:
    """Remove the child, keeping the text that followed it."""
    if child.tail:
        children = list(parent)
        index = children.index(child)
        if index:
            before = children[index - 1]
            before.tail = (before.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)


def _clean_attribute(element: str, key: str, value: str) -> str | None:
    """The attribute's value if it may stay, else None."""
    if key not in ALLOWED_ATTRIBUTES and key not in _QUALIFIED_ATTRIBUTES:
        return None
    squeezed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    if "javascript:" in squeezed or "vbscript:" in squeezed:
        return None
    if "\\" in value:  # presentation attributes are CSS, where escapes can spell url( and more
        return None
    if key in _HREFS:
        if _FRAGMENT.fullmatch(value.strip()):
            return value
        if element == "image" and _DATA_IMAGE.fullmatch(value.strip()):
            return value
        return None
    if key == "style":
        return _clean_css(value)
    if "url(" in squeezed and not _only_fragment_urls(value):
        return None
    return value


def _only_fragment_urls(css: str) -> bool:
    for match in _CSS_URL.finditer(css):
        target = next(group for group in match.groups() if group is not None).strip()
        if not target.startswith("#"):
            return False
    # A url( that the pattern could not read (unbalanced quotes) counts as unsafe.
    return len(_CSS_URL.findall(css)) == css.lower().count("url(")


def _clean_css(css: str) -> str | None:
    """CSS with comments and non-local url()s removed, or None if it cannot be made safe."""
    css = _CSS_COMMENT.sub("", css)
    if _CSS_FORBIDDEN.search(css):
        return None

    def local_only(match: re.Match[str]) -> str:
        target = next(group for group in match.groups() if group is not None).strip()
        return match.group(0) if target.startswith("#") else "none"

    css = _CSS_URL.sub(local_only, css)
    if not _only_fragment_urls(css):
        return None
    return css


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?:px)?\s*", value)
    return float(match.group(1)) if match else None


def _svg_size(root: ElementTree.Element) -> tuple[int, int]:
    width, height = _number(root.get("width")), _number(root.get("height"))
    if width and height:
        return max(1, round(width)), max(1, round(height))
    parts = re.split(r"[\s,]+", (root.get("viewBox") or "").strip())
    try:
        box = [float(part) for part in parts] if len(parts) == 4 else []
    except ValueError:
        box = []
    if box and box[2] > 0 and box[3] > 0:
        return max(1, round(box[2])), max(1, round(box[3]))
    raise ImageRejected(
        "The SVG has no size: give its root element a viewBox (for example "
        'viewBox="0 0 200 200") or a numeric width and height, and upload it again.'
    )


def _escape(text: str, *, attribute: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", "&#13;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _serialise(root: ElementTree.Element) -> str:
    """Write the cleaned tree the same way every time: SVG as the default namespace, xlink
    declared on the root only when used, attributes in document order, no comments."""
    uses_xlink = any(
        key.startswith(f"{{{XLINK_NS}}}") for element in root.iter() for key in element.attrib
    )
    out: list[str] = []

    def write(element: ElementTree.Element, is_root: bool) -> None:
        name = _local(element.tag)
        out.append(f"<{name}")
        if is_root:
            out.append(f' xmlns="{SVG_NS}"')
            if uses_xlink:
                out.append(f' xmlns:xlink="{XLINK_NS}"')
        for key, value in element.attrib.items():
            out.append(f' {_QUALIFIED_ATTRIBUTES.get(key, key)}="{_escape(value, attribute=True)}"')
        if element.text or len(element):
            out.append(">")
            out.append(_escape(element.text or "", attribute=False))
            for child in element:
                write(child, False)
                out.append(_escape(child.tail or "", attribute=False))
            out.append(f"</{name}>")
        else:
            out.append("/>")

    write(root, True)
    return "".join(out)
