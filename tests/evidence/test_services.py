"""The evidence services' rules that need no request: word counts, link checks, a part's status,
the submission checklist, the attempt limit."""

from __future__ import annotations

import pytest

from app.catalog.models import CredentialVersion
from app.evidence import services
from app.evidence.models import Answer, EvidenceFile, EvidenceLink


def _part(**changes) -> services.Part:
    values = {
        "key": "overview",
        "title": "Context and plan",
        "guidance": "",
        "evidence_kinds": ("text",),
        "word_limit": 5,
        "required": True,
        "criteria": (),
    }
    values.update(changes)
    return services.Part(**values)


def _work(part: services.Part, text: str = "", links: int = 0, files: tuple[str, ...] = ()):
    answer = Answer(text=text, version=1) if text else None
    work = services.PartWork(
        part=part,
        answer=answer,
        words=services.count_words(text),
        links=[EvidenceLink(url="https://a.org", title="A") for _ in range(links)],
        files=[EvidenceFile(state=state, size=1) for state in files],
    )
    work.status = services.part_status(work)
    return work


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("one", 1),
        ("  two\twords\n", 2),
        ("a - b", 2),
        ("• item", 1),
        ("l'élève a 7 ans", 4),
    ],
)
def test_words_are_runs_with_a_letter_or_digit(text, words):
    assert services.count_words(text) == words


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc"],
)
def test_only_web_addresses_are_links(url):
    with pytest.raises(services.InvalidEvidence) as refused:
        services.check_link(url, "Title")
    assert refused.value.field == "url"
    assert "https://" in refused.value.message


def test_a_link_is_cleaned():
    assert services.check_link("  https://a.example.org/x  ", " My \n plan ") == (
        "https://a.example.org/x",
        "My plan",
    )


def test_status_follows_the_evidence():
    assert _work(_part()).status == services.EMPTY
    assert _work(_part(), "three short words").status == services.READY
    assert _work(_part(), "one two three four five six").status == services.OVER_LIMIT
    files = _part(evidence_kinds=("file", "link"))
    assert _work(files, files=("uploading",)).status == services.IN_PROGRESS
    assert _work(files, files=("complete",)).status == services.READY
    assert _work(files, links=1).status == services.READY


def test_the_checklist_names_missing_required_parts_and_long_answers():
    works = [
        _work(_part(title="Overview"), "one two three four five six"),
        _work(_part(key="plan", title="Plan", evidence_kinds=("file", "link"))),
        _work(_part(key="extra", title="Extra", required=False)),
    ]
    assert services.checklist(works) == [
        "“Overview” has 6 words; the limit is 5. Shorten it to submit.",
        "“Plan” needs a file or a link.",
    ]


def test_an_unfinished_upload_does_not_count_as_evidence():
    part = _part(evidence_kinds=("file",))
    assert services.checklist([_work(part, files=("uploading",))]) == [
        "“Context and plan” needs a file."
    ]


@pytest.mark.parametrize(("content", "limit"), [({}, 3), ({"attempt_limit": 5}, 5)])
def test_the_attempt_limit_is_the_versions_or_three(content, limit):
    assert services.attempt_limit(CredentialVersion(content=content)) == limit


def test_parts_carry_their_criteria():
    version = CredentialVersion(
        content={
            "parts": [{"key": "a", "title": "A", "evidence_kinds": ["text"], "required": True}],
            "criteria": [{"key": "c", "part": "a", "title": "C", "pass_descriptor": "Met"}],
        }
    )
    [part] = services.parts_of(version)
    assert part.criteria[0]["title"] == "C" and part.word_limit is None
