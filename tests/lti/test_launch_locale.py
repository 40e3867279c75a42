"""The person's language from the launch (issue 28 item 8): ``launch_presentation.locale`` is
kept with the launch and given to every page of it (``<html data-locale>``), where the one
script that shows times formats them in it. Moodle sends ``en`` or ``en_us``, Canvas ``en-GB``;
anything that is not a language tag is dropped, never written into the page."""

from __future__ import annotations

import pytest

from app.lti.launch import language_tag
from tests.support.forge import Forge

PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


@pytest.mark.parametrize("tag", ["en", "en_us", "en-GB", "zh-Hans-CN", "pt_br"])
def test_a_language_tag_is_kept(tag: str) -> None:
    assert language_tag(tag) == tag


@pytest.mark.parametrize("value", ["", "e", 'en" onload="x', "en-" + "x" * 20, 42, None])
def test_anything_else_is_dropped(value: object) -> None:
    assert language_tag(value) is None


def _launch_page(live, locale: object) -> str:
    forge = Forge(live)
    pending = forge.start()
    claims = dict(pending.claims)
    claims[PRESENTATION] = {**(claims.get(PRESENTATION) or {}), "locale": locale}
    page = pending.post(forge.sign(claims))
    assert page.status_code == 200, page.text[:500]
    return page.text


def test_the_launch_pages_carry_the_lms_language(live) -> None:
    assert '<html lang="en" data-locale="fr-CA">' in _launch_page(live, "fr-CA")


def test_a_locale_that_is_no_language_tag_reaches_no_page(live) -> None:
    assert '<html lang="en">' in _launch_page(live, '"><script>alert(1)</script>')
