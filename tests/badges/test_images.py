"""Baked badge images (OB 2.0 ``openbadges`` and OB 3.0 ``openbadgecredential``, PNG and SVG), the
image in either format, the share QR code and the LinkedIn add-to-profile link (I; issue 11)."""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import subprocess
from datetime import date
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import segno
from lxml import etree

from app.badges.images import (
    OB2_SVG_NS,
    OB3_SVG_NS,
    QR_ERROR_CORRECTION,
    QR_MODULE_PX,
    ImageError,
    bake_png,
    bake_svg,
    linkedin_add_to_profile_url,
    png_for,
    qr_svg,
    svg_for,
    unbake_png,
    unbake_svg,
)
from tests.support.images import chunk, png

ASSERTION_URL = "http://127.0.0.1:8766/assertions/7?format=json&lang=en"
ASSERTION = json.dumps(
    {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": ASSERTION_URL}
)
CREDENTIAL = json.dumps(
    {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Questioning to Check for Understanding — Lakemont",
    },
    ensure_ascii=False,
)
REPOSITORY = Path(__file__).resolve().parents[2]
SVG_NS = "http://www.w3.org/2000/svg"


def _sample_badge(index: int = 0) -> bytes:
    """A credential's badge SVG from the sample catalog, as the sanitiser stored it."""
    text = resources.files("app.catalog").joinpath("sample/catalog.json").read_text("utf-8")
    image = json.loads(text)["credentials"][index]["versions"][0]["image"]
    assert image["media_type"] == "image/svg+xml"
    return base64.b64decode(image["data"])


def _chunk_kinds(data: bytes) -> list[tuple[bytes, bytes]]:
    """Each chunk's type and, for text chunks, keyword, in file order."""
    out, position = [], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        out.append((kind, body.split(b"\x00", 1)[0] if kind in (b"tEXt", b"iTXt") else b""))
        position += 12 + length
    return out


def _size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- PNG baking ----------------------------------------------------------------------------------


def test_png_baking_round_trips_both_keywords() -> None:
    baked = bake_png(png(), ob2=ASSERTION, ob3=CREDENTIAL)

    assert unbake_png(baked) == {"openbadges": ASSERTION, "openbadgecredential": CREDENTIAL}


def test_baked_chunks_are_uncompressed_itxt_before_the_first_image_data() -> None:
    baked = bake_png(png(), ob2=ASSERTION, ob3=CREDENTIAL)

    kinds = _chunk_kinds(baked)
    assert kinds[:4] == [
        (b"IHDR", b""),
        (b"iTXt", b"openbadges"),
        (b"iTXt", b"openbadgecredential"),
        (b"IDAT", b""),
    ]
    # keyword, NUL, compression flag 0, method 0, empty language tag and translated keyword
    assert b"openbadgecredential\x00\x00\x00\x00\x00" + CREDENTIAL.encode() in baked


def test_rebaking_a_png_replaces_its_open_badges_chunks() -> None:
    once = bake_png(png(), ob2=ASSERTION, ob3=CREDENTIAL)

    twice = bake_png(once, ob2="http://127.0.0.1:8766/assertions/8", ob3='{"new": true}')

    assert unbake_png(twice) == {
        "openbadges": "http://127.0.0.1:8766/assertions/8",
        "openbadgecredential": '{"new": true}',
    }
    keywords = [keyword for kind, keyword in _chunk_kinds(twice) if kind == b"iTXt"]
    assert keywords == [b"openbadges", b"openbadgecredential"]


def test_baking_removes_open_badges_data_from_elsewhere_and_keeps_other_text() -> None:
    """A catalog image can be a badge baked by another issuer (here a legacy ``tEXt`` URL)."""
    image = png()
    foreign = chunk(b"tEXt", b"openbadges\x00https://elsewhere.example/assertion")
    author = chunk(b"tEXt", b"Author\x00Lakemont")
    marked = image[:33] + foreign + author + image[33:]  # after the 33-byte signature and IHDR

    baked = bake_png(marked, ob2=None, ob3=CREDENTIAL)

    assert unbake_png(baked) == {"Author": "Lakemont", "openbadgecredential": CREDENTIAL}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-20], "ends early"),
        (lambda data: data[:45] + bytes([data[45] ^ 0xFF]) + data[46:], "checksum is wrong"),
        (lambda data: b"\x89PNG\n\x1a\n\x00" + data[8:], "not a PNG file"),
        (lambda data: data + b"trailing", "extra data after its end"),
        (lambda data: b"", "not a PNG file"),
    ],
    ids=["truncated", "corrupt", "signature", "trailing", "empty"],
)
def test_broken_png_is_refused_with_a_plain_message(damage, message) -> None:
    with pytest.raises(ImageError, match=message):
        bake_png(damage(png()), ob2=ASSERTION, ob3=None)


def test_text_a_png_chunk_cannot_hold_is_refused() -> None:
    with pytest.raises(ImageError, match="NUL character"):
        bake_png(png(), ob2=None, ob3='{"a": "\x00"}')


# --- SVG baking ----------------------------------------------------------------------------------


def test_svg_baking_round_trips_the_assertion_url_and_the_credential() -> None:
    baked = bake_svg(_sample_badge().decode(), ob2_assertion_url=ASSERTION_URL, ob3=CREDENTIAL)

    assert unbake_svg(baked) == {"openbadges": ASSERTION_URL, "openbadgecredential": CREDENTIAL}


def test_baked_svg_elements_follow_the_root_start_tag_with_namespaces_declared() -> None:
    """Both specifications bind ``openbadges`` on the root; with both baked, the root binds it to
    OB 2.0 and the credential element re-binds it to OB 3.0."""
    baked = bake_svg(_sample_badge().decode(), ob2_assertion_url=ASSERTION_URL, ob3=CREDENTIAL)

    root = etree.fromstring(baked.encode())
    assert root.nsmap["openbadges"] == OB2_SVG_NS
    assert [child.tag for child in root][:3] == [
        f"{{{OB2_SVG_NS}}}assertion",
        f"{{{OB3_SVG_NS}}}credential",
        "{http://www.w3.org/2000/svg}title",
    ]
    assert re.match(
        r'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org" '
        r'width="200" height="200" viewBox="0 0 200 200"><openbadges:assertion verify="[^"]+"/>'
        r'<openbadges:credential xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        r"<!\[CDATA\[",
        baked,
    )


def test_svg_with_only_a_credential_binds_the_prefix_to_ob3_on_the_root() -> None:
    baked = bake_svg(_sample_badge().decode(), ob2_assertion_url=None, ob3=CREDENTIAL)

    assert baked.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/'
        'v3p0" width="200" height="200" viewBox="0 0 200 200"><openbadges:credential><![CDATA['
    )


def test_cdata_breaking_text_survives_svg_baking() -> None:
    credential = json.dumps({"name": "a]]>b ]]> <script>x</script> ]]]]>", "n": "]"})

    baked = bake_svg(_sample_badge().decode(), ob2_assertion_url=None, ob3=credential)

    assert unbake_svg(baked)["openbadgecredential"] == credential
    assert not list(etree.fromstring(baked.encode()).iter(f"{{{SVG_NS}}}script"))


def test_rebaking_an_svg_replaces_its_open_badges_elements() -> None:
    once = bake_svg(_sample_badge().decode(), ob2_assertion_url=ASSERTION_URL, ob3=CREDENTIAL)

    twice = bake_svg(once, ob2_assertion_url="http://127.0.0.1:8766/a/8", ob3='{"new": true}')

    assert unbake_svg(twice) == {
        "openbadges": "http://127.0.0.1:8766/a/8",
        "openbadgecredential": '{"new": true}',
    }
    assert twice.count("<openbadges:assertion") == twice.count("<openbadges:credential") == 1


def test_svg_with_a_document_type_declaration_is_refused() -> None:
    svg = (
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text>&x;</text></svg>'
    )
    with pytest.raises(ImageError, match="document type declaration"):
        bake_svg(svg, ob2_assertion_url=ASSERTION_URL, ob3=None)


def test_text_xml_cannot_hold_is_refused() -> None:
    with pytest.raises(ImageError, match="control character"):
        bake_svg(_sample_badge().decode(), ob2_assertion_url=None, ob3='{"a": "\x07"}')


# --- the official OB 2.0 bakery reads what we bake ----------------------------------------------


def _ob2_python() -> Path:
    validators = Path(os.environ.get("MICROCRED_VALIDATORS_DIR", REPOSITORY / ".validators"))
    python = validators / "ob2" / "bin" / "python"
    if not python.exists():
        pytest.skip(
            f"the OB 2.0 validator venv is not at {python}: build it with "
            "shared/reference/validators/check_all.sh and set MICROCRED_VALIDATORS_DIR"
        )
    return python


def _official_unbake(path: Path) -> str:
    """What ``openbadges_bakery.unbake`` (used by 1EdTech's ``openbadges`` validator) reads."""
    script = (
        "import sys\n"
        "from openbadges_bakery import unbake\n"
        "with open(sys.argv[1], 'rb') as image:\n"
        "    found = unbake(image)\n"
        "sys.stdout.write(found.decode() if isinstance(found, bytes) else found)\n"
    )
    result = subprocess.run(
        [str(_ob2_python()), "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_official_bakery_reads_our_baked_png(tmp_path: Path) -> None:
    image = tmp_path / "badge.png"
    image.write_bytes(
        bake_png(png_for(_sample_badge(), "image/svg+xml"), ob2=ASSERTION, ob3=CREDENTIAL)
    )

    assert _official_unbake(image) == ASSERTION


def test_official_bakery_reads_our_baked_svg(tmp_path: Path) -> None:
    image = tmp_path / "badge.svg"
    image.write_text(
        bake_svg(_sample_badge().decode(), ob2_assertion_url=ASSERTION_URL, ob3=CREDENTIAL),
        encoding="utf-8",
    )

    assert _official_unbake(image) == ASSERTION_URL


# --- the image in either format ------------------------------------------------------------------


def test_sample_badge_rasterises_at_the_requested_size() -> None:
    drawn = png_for(_sample_badge(), "image/svg+xml", size=256)

    assert drawn.startswith(b"\x89PNG\r\n\x1a\n")
    assert _size(drawn) == (256, 256)
    assert unbake_png(drawn) == {}  # a well-formed PNG (every CRC checked)


def test_sample_badge_text_is_drawn() -> None:
    """Without a font for the badge's text resvg would skip it and draw the same picture as
    the badge without its text."""
    badge = _sample_badge(3).decode()
    without_text = re.sub(r"<text\b.*?</text>", "", badge)
    assert without_text != badge

    assert png_for(badge.encode(), "image/svg+xml") != png_for(
        without_text.encode(), "image/svg+xml"
    )


def test_a_wide_svg_is_drawn_square() -> None:
    wide = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
        b'<rect width="200" height="100"/></svg>'
    )

    assert _size(png_for(wide, "image/svg+xml", size=300)) == (300, 300)


def test_png_passes_through_png_for() -> None:
    image = png()

    assert png_for(image, "image/png") is image


def test_png_is_wrapped_in_an_svg_of_its_size() -> None:
    image = png(120, 90)

    wrapped = svg_for(image, "image/png")

    root = etree.fromstring(wrapped.encode())
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "120",
        "90",
        "0 0 120 90",
    )
    href = root.find(f"{{{SVG_NS}}}image").get("href")
    assert base64.b64decode(href.removeprefix("data:image/png;base64,")) == image


def test_svg_passes_through_svg_for() -> None:
    badge = _sample_badge()

    assert svg_for(badge, "image/svg+xml") == badge.decode()


def test_other_media_types_are_refused() -> None:
    with pytest.raises(ImageError, match="PNG or an SVG, not image/jpeg"):
        png_for(b"\xff\xd8\xff", "image/jpeg")


# --- sharing -------------------------------------------------------------------------------------


def _dark_modules(svg: str) -> set[tuple[int, int]]:
    """The modules the QR SVG paints dark, read back from segno's run-length path."""
    root = etree.fromstring(svg.encode())
    path = next(p for p in root.iter(f"{{{SVG_NS}}}path") if p.get("stroke"))
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, first, second in re.findall(
        r"([MmHhVv])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")
    ):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        elif command == "h":
            dark.update((int(x) + step, int(y)) for step in range(int(float(first))))
            x += float(first)
        else:
            raise AssertionError(f"unexpected path command {command}")
    return dark


def test_qr_code_draws_the_matrix_segno_gives_for_the_url() -> None:
    """No QR decoder is installed: check the drawing against segno's own encoding instead."""
    url = "https://tool.example.org/badges/awards/0b6a1f2c-8d3e-4c8b-9f4a-2e7d5c1b3a90"

    drawn = _dark_modules(qr_svg(url, title="Scan to verify"))

    matrix = segno.make(url, error=QR_ERROR_CORRECTION, micro=False).matrix
    expected = {
        (col + 4, row + 4) for row, line in enumerate(matrix) for col, bit in enumerate(line) if bit
    }
    assert drawn == expected


def test_qr_code_is_an_accessible_image_sized_for_a_phone() -> None:
    svg = qr_svg("https://tool.example.org/v/1", title="QR code: verify Ana's badge <here>")

    root = etree.fromstring(svg.encode())
    assert root.get("role") == "img"
    assert root.findtext(f"{{{SVG_NS}}}title") == "QR code: verify Ana's badge <here>"
    modules = int(root.get("viewBox").split()[2])
    assert root.get("width") == root.get("height") == str(modules * QR_MODULE_PX)
    assert int(root.get("width")) >= 150


def _query(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    return parse_qsl(parts.query, keep_blank_values=True)


def test_linkedin_url_carries_the_documented_certification_parameters() -> None:
    url = linkedin_add_to_profile_url(
        name="Questioning & Feedback: Level 1",
        organisation_name="Lakemont State University",
        issued=date(2026, 1, 15),
        expires=date(2029, 12, 31),
        cert_url="https://tool.example.org/badges/a/0b6a?lang=en&view=full",
        cert_id="0b6a1f2c",
    )

    assert _query(url) == [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", "Questioning & Feedback: Level 1"),
        ("organizationName", "Lakemont State University"),
        ("issueYear", "2026"),
        ("issueMonth", "1"),
        ("expirationYear", "2029"),
        ("expirationMonth", "12"),
        ("certUrl", "https://tool.example.org/badges/a/0b6a?lang=en&view=full"),
        ("certId", "0b6a1f2c"),
    ]
    assert "name=Questioning%20%26%20Feedback%3A%20Level%201&" in url
    assert (
        "certUrl=https%3A%2F%2Ftool.example.org%2Fbadges%2Fa%2F0b6a%3Flang%3Den%26view%3Dfull&"
        in url
    )


def test_linkedin_url_prefers_the_organization_id_and_omits_a_missing_expiry() -> None:
    url = linkedin_add_to_profile_url(
        name="Badge",
        organisation_name="Lakemont State University",
        issued=date(2026, 11, 2),
        expires=None,
        cert_url="https://tool.example.org/v/1",
        cert_id="1",
        organization_id="4831032",
    )

    assert [key for key, _ in _query(url)] == [
        "startTask",
        "name",
        "organizationId",
        "issueYear",
        "issueMonth",
        "certUrl",
        "certId",
    ]
    assert dict(_query(url))["organizationId"] == "4831032"


def test_linkedin_organization_id_must_be_a_number() -> None:
    with pytest.raises(ValueError, match="is a number"):
        linkedin_add_to_profile_url(
            name="Badge",
            organisation_name="Lakemont",
            issued=date(2026, 1, 1),
            expires=None,
            cert_url="https://tool.example.org/v/1",
            cert_id="1",
            organization_id="lakemont-university",
        )
