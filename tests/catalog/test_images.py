"""Badge image upload: PNG or SVG by content, size and type checked, SVG sanitised so that
script in it never executes; imported images are checked the same way; the public image route
(issue 6)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import struct
from importlib import resources

import pytest
from sqlalchemy import func, select

from app.catalog.exchange import CatalogInvalid, export_catalog, import_catalog
from app.catalog.images import (
    MAX_IMAGE_BYTES,
    CheckedImage,
    ImageRejected,
    check_image,
    store_image,
)
from app.catalog.models import Image
from app.db import get_db
from tests.catalog.test_exchange import catalog
from tests.support.images import chunk, png, svg

SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
X = "\N{MULTIPLICATION SIGN}"


def _rejected(data: bytes, filename: str = "") -> str:
    with pytest.raises(ImageRejected) as raised:
        check_image(data, filename)
    return str(raised.value)


def _clean(body: str, attributes: str = 'width="200" height="200"') -> str:
    return check_image(svg(body, attributes=attributes)).data.decode()


# --- PNG --------------------------------------------------------------------------------------


def test_a_png_is_accepted_unchanged_with_its_dimensions():
    data = png(240, 200)
    assert check_image(data) == CheckedImage("image/png", data, 240, 200)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "This file is a JPEG image; upload a PNG or an SVG."),
        (b"GIF89a\x01\x00\x01\x00", "This file is a GIF image; upload a PNG or an SVG."),
        (b"%PDF-1.7\n%\xe2\xe3", "This file is a PDF document; upload a PNG or an SVG."),
        (
            b"<!DOCTYPE html><html><body><script>alert(1)</script>",
            "This file is an HTML page; upload a PNG or an SVG.",
        ),
        (b"<html><svg></svg></html>", "This file is an HTML page; upload a PNG or an SVG."),
        (b"just some words", "This file is not a PNG or SVG image; upload a PNG or an SVG."),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "This file is a WebP image; upload a PNG or an SVG."),
        (b"", "The file is empty."),
    ],
    ids=["jpeg", "gif", "pdf", "html", "html-with-svg", "text", "webp", "empty"],
)
def test_other_kinds_of_file_are_rejected_saying_what_they_are(data, message):
    assert _rejected(data) == message


def test_the_message_names_the_file_when_given():
    assert _rejected(b"\xff\xd8\xff\xe0", "C:\\photos\\badge.png") == (
        "The file badge.png is a JPEG image; upload a PNG or an SVG."
    )


def test_an_oversize_file_is_rejected_with_its_size():
    data = png() + b"\x00" * (int(3.2 * MAX_IMAGE_BYTES) - len(png()))
    assert _rejected(data) == "The image is 3.2 MB; the limit is 1 MB."


def test_a_file_of_exactly_the_limit_is_checked_not_refused_for_size():
    data = png() + b"\x00" * (MAX_IMAGE_BYTES - len(png()))
    assert "extra data after its end" in _rejected(data)


def test_a_truncated_png_is_rejected():
    assert _rejected(png()[:-20]) == (
        "The PNG file is damaged (it ends early); export it again from your drawing program."
    )


@pytest.mark.parametrize(("offset", "chunk_name"), [(29, "IHDR"), (-13, "IDAT")])
def test_a_png_with_a_wrong_crc_is_rejected(offset, chunk_name):
    data = bytearray(png())
    data[offset] ^= 0xFF  # a CRC byte of that chunk
    assert f"its {chunk_name} chunk's CRC is wrong" in _rejected(bytes(data))


def test_a_png_whose_line_endings_were_converted_is_rejected():
    assert "its signature is wrong" in _rejected(png().replace(b"\r\n", b"\n", 1))


def test_a_png_with_data_after_its_end_is_rejected():
    """A file that is a PNG and an HTML page at once would be served as it is."""
    assert "extra data after its end" in _rejected(png() + b"<script>alert(1)</script>")


def test_a_png_without_image_data_is_rejected():
    data = png()
    without_idat = data[:33] + chunk(b"IEND", b"")
    assert "it has no image data" in _rejected(without_idat)


def test_a_png_with_an_invalid_header_is_rejected():
    header = struct.pack(">IIBBBBB", 200, 200, 3, 2, 0, 0, 0)  # RGB cannot have 3 bits
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + png()[33:]
    assert "its header is not valid" in _rejected(data)


def test_a_png_under_90_px_is_rejected_with_the_recommended_size():
    assert _rejected(png(89, 89)) == (
        f"The image is 89{X}89 px; a badge displays at 90 px at least, so 90{X}90 px is the "
        f"minimum and 200{X}200 px or more is recommended."
    )
    assert check_image(png(90, 90)).width == 90


def test_a_png_over_4096_px_is_rejected():
    header = struct.pack(">IIBBBBB", 4097, 4097, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + png()[33:]
    assert (
        _rejected(data) == f"The image is 4097{X}4097 px; the largest we accept is 4096{X}4096 px."
    )


def test_a_badge_much_wider_than_tall_is_rejected_as_badges_display_square():
    assert "a badge displays square" in _rejected(png(400, 150))
    assert "a badge displays square" in _rejected(svg(attributes='viewBox="0 0 100 300"'))
    assert check_image(png(400, 200)).width == 400  # 2:1 is still accepted


def test_the_type_comes_from_the_content_not_the_name():
    assert check_image(png(), "badge.svg").media_type == "image/png"
    assert check_image(svg(), "badge.png").media_type == "image/svg+xml"


# --- SVG --------------------------------------------------------------------------------------


def test_an_svg_is_accepted_with_the_size_it_declares():
    checked = check_image(svg('<circle cx="50" cy="50" r="40"/>'))
    assert (checked.media_type, checked.width, checked.height) == ("image/svg+xml", 200, 200)
    assert (
        checked.data
        == (
            f'<svg {SVG_NS} width="200" height="200"><circle cx="50" cy="50" r="40"/></svg>'
        ).encode()
    )


def test_an_svg_takes_its_size_from_the_viewbox_when_width_and_height_are_not_numbers():
    checked = check_image(svg(attributes='width="100%" viewBox="0 0 120 100.4"'))
    assert (checked.width, checked.height) == (120, 100)


def test_an_svg_without_a_size_is_rejected():
    assert _rejected(svg(attributes="")).startswith("The SVG has no size: give its root element")


def test_xml_that_is_not_svg_is_rejected():
    assert _rejected(b'<?xml version="1.0"?><rss version="2.0"/>') == (
        "This file is XML but not an SVG image (its root element is <rss>); upload a PNG or an SVG."
    )


def test_an_svg_without_its_namespace_is_rejected_saying_what_to_add():
    assert 'has no xmlns="http://www.w3.org/2000/svg"' in _rejected(b'<svg width="9"></svg>')


def test_a_malformed_svg_is_rejected_with_where():
    assert "not well-formed XML (line 1, column" in _rejected(svg("<g><rect></g>"))


def test_an_svg_not_in_utf8_is_rejected():
    data = ('<?xml version="1.0" encoding="UTF-16"?>' + svg().decode()).encode("utf-16")
    assert "not in UTF-8" in _rejected(data)


def test_script_elements_are_removed():
    clean = _clean('<script>document.title="ran"</script><rect width="9" height="9"/>')
    assert "script" not in clean and "<rect" in clean


def test_event_handler_attributes_are_removed():
    clean = _clean('<rect onload="alert(1)" onclick="alert(2)" width="9" height="9"/>')
    assert clean.endswith('<rect width="9" height="9"/></svg>')
    assert (
        "onload"
        not in check_image(svg(attributes='width="9" height="9" onload="x()"')).data.decode()
    )


def test_javascript_urls_are_removed():
    clean = _clean(
        '<a href="javascript:alert(1)"><rect width="9" height="9"/></a>'
        '<use href="java&#9;script:alert(2)"/><rect fill="javascript:x" width="1" height="1"/>'
    )
    assert "javascript" not in clean.lower() and "<a" not in clean and "<use" not in clean


def test_foreign_object_with_html_is_removed():
    clean = _clean(
        '<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
        '<img src="x" onerror="alert(1)"/><iframe src="https://evil.example"/></body>'
        "</foreignObject>"
    )
    assert clean == f'<svg {SVG_NS} width="200" height="200"/>'


def test_an_image_from_another_address_is_removed_but_an_embedded_png_is_kept():
    embedded = "data:image/png;base64," + base64.b64encode(png()).decode()
    clean = _clean(
        '<image href="https://evil.example/track.png" width="10" height="10"/>'
        '<image xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="//evil.example/x.png"/>'
        '<image href="data:image/svg+xml;base64,PHN2Zz4=" width="10" height="10"/>'
        f'<image href="{embedded}" width="10" height="10"/>'
    )
    assert "evil" not in clean and "svg+xml" not in clean
    assert clean.count("<image") == 1 and embedded in clean


def test_use_may_point_only_inside_the_file():
    clean = _clean(
        '<defs><circle id="dot" r="5"/></defs>'
        '<use href="https://evil.example/x.svg#a"/>'
        '<use xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="#dot" x="20"/>'
    )
    assert "evil" not in clean
    assert 'xmlns:xlink="http://www.w3.org/1999/xlink"' in clean
    assert '<use xlink:href="#dot" x="20"/>' in clean


def test_a_document_type_declaration_is_refused_so_entities_cannot_expand():
    billion_laughs = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        f'<svg {SVG_NS} width="200" height="200"><text>&lol3;</text></svg>'
    ).encode()
    assert "document type declaration (<!DOCTYPE" in _rejected(billion_laughs)


def test_an_external_entity_is_refused():
    xxe = (
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<svg {SVG_NS} width="200" height="200"><text>&xxe;</text></svg>'
    ).encode()
    assert "document type declaration" in _rejected(xxe)


def test_an_undeclared_entity_is_malformed():
    assert "not well-formed" in _rejected(svg("<text>&xxe;</text>"))


def test_animation_elements_are_removed():
    clean = _clean(
        '<a><animate attributeName="href" to="javascript:alert(1)"/></a>'
        '<rect width="9" height="9"><set attributeName="onclick" to="alert(1)"/>'
        '<animateTransform attributeName="transform" type="rotate"/></rect>'
    )
    assert clean.endswith('<rect width="9" height="9"/></svg>')


def test_style_elements_keep_local_css_and_lose_what_fetches_or_runs():
    clean = _clean(
        "<style>.a{fill:url(#grad)} .b{fill:url(https://evil.example/x)} "
        ".c{background:url('data:text/html,x')}</style>"
        "<style>@import url(https://evil.example/x.css);</style>"
        "<style>.d{width:expression(alert(1))}</style>"
        "<style>.e{fill:\\75rl(https://evil.example)}</style>"
    )
    assert clean == (
        f'<svg {SVG_NS} width="200" height="200">'
        "<style>.a{fill:url(#grad)} .b{fill:none} .c{background:none}</style></svg>"
    )


def test_style_and_paint_attributes_may_only_point_inside_the_file():
    clean = _clean(
        '<rect style="fill:url(https://evil.example/a)" width="1" height="1"/>'
        '<rect style="fill:red;behavior:url(x.htc)" width="2" height="2"/>'
        '<rect fill="url(https://evil.example/p)" stroke="url(#g)" width="3" height="3"/>'
    )
    assert clean.endswith(
        '<rect style="fill:none" width="1" height="1"/><rect width="2" height="2"/>'
        '<rect stroke="url(#g)" width="3" height="3"/></svg>'
    )


def test_elements_from_other_namespaces_are_removed():
    clean = _clean(
        '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>'
        '<sodipodi:namedview xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/s-0.dtd"/>'
        '<g xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" inkscape:label="L">'
        "<!-- a comment --><?pi x?></g>"
    )
    assert clean == f'<svg {SVG_NS} width="200" height="200"><g/></svg>'


def test_text_after_a_removed_element_is_kept():
    clean = _clean("<text>Well <script>x()</script>done<tspan>!</tspan></text>")
    assert "<text>Well done<tspan>!</tspan></text>" in clean


def test_deeply_nested_svg_is_rejected():
    assert "more than 100 deep" in _rejected(svg("<g>" * 150 + "</g>" * 150))


MALICIOUS = [
    '<script>alert(1)</script><rect onload="alert(1)" width="9" height="9"/>',
    '<a href="javascript:alert(1)"><text x="1" y="10">click &amp; &lt;go&gt;</text></a>',
    '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>',
    '<image href="https://evil.example/a.png"/><use href="https://evil.example/x.svg#a"/>',
    "<style>.a{fill:url(https://x)} /* note */ .b > .c{fill:url(#g)}</style>",
    '<text xml:space="preserve" font-family="a&#10;b&#9;c&quot;d">  spaced&#13;\r\n  out  </text>',
    '<g style="fill:red;/* c */stroke:url(https://x)"><path d="M0 0L9 9"/></g>',
]


@pytest.mark.parametrize("body", MALICIOUS)
def test_sanitising_a_sanitised_svg_gives_the_same_bytes(body):
    once = check_image(svg(body)).data
    assert check_image(once).data == once


def test_the_sample_catalogs_badges_are_unchanged_by_the_sanitiser():
    text = resources.files("app.catalog").joinpath("sample/catalog.json").read_text("utf-8")
    sample = json.loads(text)
    images = [o["image"] for o in sample["organisations"]] + [
        v["image"] for c in sample["credentials"] for v in c["versions"]
    ]
    assert len(images) == len(sample["organisations"]) + sum(
        len(c["versions"]) for c in sample["credentials"]
    )
    digests = set()
    for image in images:
        data = base64.b64decode(image["data"])
        assert check_image(data).data == data
        digests.add(hashlib.sha256(data).hexdigest())
    assert len(digests) == len(images)  # each badge is its own


# --- storing and importing ---------------------------------------------------------------------


def test_storing_the_same_image_twice_gives_one_row(app):
    with get_db(app).begin() as session:
        first = store_image(session, check_image(png()))
        again = store_image(session, check_image(png()))
        other = store_image(session, check_image(svg()))
        assert first is again and other is not first
        assert first.sha256 == hashlib.sha256(png()).hexdigest()
        assert session.scalar(select(func.count()).select_from(Image)) == 2


def _problems(app, document):
    with get_db(app).begin() as session, pytest.raises(CatalogInvalid) as raised:
        import_catalog(session, document)
    return raised.value.problems


def _embedded(data: bytes, media_type: str = "image/png") -> dict[str, str]:
    return {"media_type": media_type, "data": base64.b64encode(data).decode()}


def test_an_imported_image_that_is_rejected_is_a_problem_at_its_path(app):
    document = catalog()
    document["organisations"][0]["image"] = _embedded(png(40, 40))
    document["credentials"][1]["versions"][0]["image"] = _embedded(b"GIF89a...", "image/png")
    assert _problems(app, document) == [
        f"organisations[0].image: The image is 40{X}40 px; a badge displays at 90 px at least, so "
        f"90{X}90 px is the minimum and 200{X}200 px or more is recommended.",
        "credentials[1].versions[0].image: This file is a GIF image; upload a PNG or an SVG.",
    ]


def test_an_imported_image_must_be_the_type_it_declares(app):
    document = catalog()
    document["credentials"][0]["versions"][0]["image"] = _embedded(svg(), "image/png")
    assert _problems(app, document) == [
        "credentials[0].versions[0].image.media_type: the data is image/svg+xml, not image/png"
    ]


def test_an_imported_svg_is_stored_sanitised_and_then_round_trips(app):
    document = catalog()
    dirty = svg('<script>alert(1)</script><circle r="5" onclick="x()"/>')
    document["credentials"][0]["versions"][0]["image"] = _embedded(dirty, "image/svg+xml")
    with get_db(app).begin() as session:
        import_catalog(session, copy.deepcopy(document))
    with get_db(app).begin() as session:
        exported = export_catalog(session)
    stored = base64.b64decode(exported["credentials"][0]["versions"][0]["image"]["data"])
    assert stored == check_image(dirty).data and b"script" not in stored
    with get_db(app).begin() as session:
        import_catalog(session, copy.deepcopy(exported))
    with get_db(app).begin() as session:
        assert export_catalog(session) == exported


# --- the route ---------------------------------------------------------------------------------


def _stored(app, data: bytes) -> str:
    with get_db(app).begin() as session:
        return store_image(session, check_image(data)).sha256


def test_an_image_is_served_publicly_by_its_digest_with_safe_headers(app, client):
    digest = _stored(app, svg('<circle r="5"/>'))
    response = client.get(f"/catalog/images/{digest}.svg")  # no launch, no session
    assert response.status_code == 200
    assert response.data == check_image(svg('<circle r="5"/>')).data
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{digest}"'


def test_a_png_is_served_as_a_png(app, client):
    digest = _stored(app, png())
    response = client.get(f"/catalog/images/{digest}.png")
    assert response.headers["Content-Type"] == "image/png" and response.data == png()


def test_an_image_asked_for_again_with_its_etag_is_not_sent_again(app, client):
    digest = _stored(app, png())
    response = client.get(f"/catalog/images/{digest}.png", headers={"If-None-Match": f'"{digest}"'})
    assert response.status_code == 304 and response.data == b""


@pytest.mark.parametrize(
    "path",
    [
        "/catalog/images/" + "0" * 64 + ".png",
        "/catalog/images/not-a-digest.svg",
        "/catalog/images/{digest}.svg",  # the right digest with the other type's extension
        "/catalog/images/{digest}.html",
    ],
    ids=["unknown", "malformed", "wrong-extension", "other-extension"],
)
def test_an_unknown_image_is_a_404_with_a_clear_message(app, client, path):
    digest = _stored(app, png())
    response = client.get(path.format(digest=digest))
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "no image at this address" in response.text or "no page at this address" in response.text


def test_image_url_addresses_the_route(app):
    from app.catalog.views import image_url

    digest = _stored(app, png())
    with app.test_request_context():
        assert image_url(Image(sha256=digest, media_type="image/png")) == (
            f"/catalog/images/{digest}.png"
        )
