"""Authoring stacks in the console: a stack made with its first credential, credentials added,
moved and removed, its milestone (never one of its own credentials), the educator catalog
following every change at once; a form from a stale page refused; who may do it. And the issuer
organisation's image (issue 6)."""

from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.catalog import services as catalog
from app.catalog.exchange import export_catalog
from app.catalog.models import Credential, Image, Organisation
from app.db import get_db
from tests.catalog.authoring_support import account, create, post, text_of, token
from tests.support.catalog import seed_sample_catalog
from tests.support.images import png, svg

STACKS = "/admin/catalog/stacks"
FA = f"{STACKS}/formative-assessment-in-practice"
QUESTIONING = "questioning-to-check-for-understanding"
FEEDBACK = "feedback-that-moves-learning-forward"
GROUPS = "data-informed-small-group-instruction"
PRACTITIONER = "formative-assessment-practitioner"
TALK_MOVES = "productive-math-discourse-talk-moves"
RIVERBEND_CREDENTIAL = "designing-for-learner-variability"


@pytest.fixture
def sample(app):
    with get_db(app).begin() as session:
        seed_sample_catalog(session)


@pytest.fixture
def author(app, sample):
    return account(app, "lena@lakemont.example.org", memberships={"lakemont-itl": "author"})


@pytest.fixture
def outsider(app, sample):
    """An author of the other organisation."""
    return account(app, "rafa@riverbend.example.org", memberships={"riverbend-pln": "author"})


def _new(client, **fields):
    data = {
        "organisation": "lakemont-itl",
        "title": "Questioning and Feedback",
        "description": "Two credentials about **finding out** and telling.",
        "credential": QUESTIONING,
        "slug": "",
    }
    return post(client, f"{STACKS}/new", {**data, **fields})


def _educators_see(app, slug: str) -> tuple[list[str], str | None]:
    """The stack's page in the educator catalog: its credentials in order, its milestone."""
    with get_db(app).begin() as session:
        found = catalog.stack_page(session, slug)
        assert found is not None
        _, entries, milestone = found
        return [e.slug for e in entries], milestone.slug if milestone else None


def _filters(app) -> list[str]:
    with get_db(app).begin() as session:
        return [slug for slug, _ in catalog.filters(session)[0]]


def _stacks(app) -> list[dict]:
    with get_db(app).begin() as session:
        return export_catalog(session)["stacks"]


def _actions(app, slug: str) -> list[str]:
    with get_db(app).begin() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.target == f"stack:{slug}")
                .order_by(AuditEvent.id)
            )
        )


def _move(client, stack: str, number: int, credential: str, direction: str):
    return post(
        client,
        f"{STACKS}/{stack}/credentials/{number}/move",
        {"credential": credential, "direction": direction},
    )


def _remove(client, stack: str, number: int, credential: str):
    return post(client, f"{STACKS}/{stack}/credentials/{number}/remove", {"credential": credential})


def _add(client, stack: str, credential: str):
    return post(client, f"{STACKS}/{stack}/credentials", {"credential": credential})


def _milestone(client, stack: str, credential: str):
    return post(client, f"{STACKS}/{stack}/milestone", {"milestone": credential})


# --- Making a stack ------------------------------------------------------------------------------


def test_a_new_stack_holds_its_first_credential_and_is_in_the_catalog_at_once(app, author):
    response = _new(author)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{STACKS}/questioning-and-feedback?done=created")
    assert _educators_see(app, "questioning-and-feedback") == ([QUESTIONING], None)
    assert "questioning-and-feedback" in _filters(app)
    page = text_of(author.get(response.headers["Location"]).text)
    assert "educators can see it in the catalog now" in page
    assert "each change you save on this page is in the educator catalog at once" in page
    assert _actions(app, "questioning-and-feedback") == ["stack.created"]


def test_a_new_stack_needs_a_title_and_a_first_credential_and_keeps_what_was_typed(app, author):
    response = _new(author, title="", credential="")
    assert response.status_code == 400
    page = text_of(response.text)
    assert "There is a problem" in page
    assert "Give the stack a title" in page and "Choose the stack's first credential." in page
    assert "Two credentials about **finding out** and telling." in page
    assert len(_stacks(app)) == 3


def test_a_taken_stack_address_is_refused(app, author):
    response = _new(author, slug="formative-assessment-in-practice")
    assert response.status_code == 400
    assert "There is already a stack with the address “formative-assessment-in-practice”" in (
        text_of(response.text)
    )
    assert 'value="Questioning and Feedback"' in response.text


def test_a_new_stack_cannot_start_with_another_organisations_credential(app, author):
    response = _new(author, credential=RIVERBEND_CREDENTIAL)
    assert response.status_code == 400
    assert f"“{RIVERBEND_CREDENTIAL}” is issued by Riverbend" in text_of(
        response.text
    ) and "must be one of Lakemont" in text_of(response.text)
    assert len(_stacks(app)) == 3


# --- Its credentials -----------------------------------------------------------------------------


def test_credentials_are_added_moved_and_removed_and_the_catalog_follows(app, author):
    _new(author)
    slug = "questioning-and-feedback"
    assert _add(author, slug, FEEDBACK).status_code == 303
    assert _add(author, slug, GROUPS).status_code == 303
    assert _educators_see(app, slug) == ([QUESTIONING, FEEDBACK, GROUPS], None)

    moved = _move(author, slug, 3, GROUPS, "up")
    assert moved.status_code == 303 and moved.headers["Location"].endswith("?done=moved")
    assert _educators_see(app, slug) == ([QUESTIONING, GROUPS, FEEDBACK], None)
    assert _move(author, slug, 1, QUESTIONING, "down").status_code == 303
    assert _educators_see(app, slug) == ([GROUPS, QUESTIONING, FEEDBACK], None)

    confirm = author.get(f"{STACKS}/{slug}/credentials/2/remove")
    assert confirm.status_code == 200
    assert "Remove “Questioning to Check for Understanding” from the stack?" in text_of(
        confirm.text
    )
    assert _remove(author, slug, 2, QUESTIONING).status_code == 303
    assert _educators_see(app, slug) == ([GROUPS, FEEDBACK], None)
    with get_db(app).begin() as session:  # the credential itself stays
        assert session.scalars(select(Credential).where(Credential.slug == QUESTIONING)).one()
    assert _actions(app, slug) == [
        "stack.created",
        "stack.credential_added",
        "stack.credential_added",
        "stack.credential_moved",
        "stack.credential_moved",
        "stack.credential_removed",
    ]


def test_the_add_list_offers_only_the_organisations_credentials_not_in_the_stack(app, author):
    page = author.get(FA).text
    offered = page.split('<select id="credential"')[1].split("</select>")[0]
    assert TALK_MOVES in offered
    for not_offered in (QUESTIONING, FEEDBACK, GROUPS, PRACTITIONER, RIVERBEND_CREDENTIAL):
        assert f'value="{not_offered}"' not in offered


def test_a_credential_already_in_the_stack_is_refused(app, author):
    response = _add(author, "formative-assessment-in-practice", FEEDBACK)
    assert response.status_code == 400
    assert "“Feedback That Moves Learning Forward” is already in this stack." in text_of(
        response.text
    )
    assert _educators_see(app, "formative-assessment-in-practice")[0] == [
        QUESTIONING,
        FEEDBACK,
        GROUPS,
    ]


def test_another_organisations_credential_cannot_be_added(app, author):
    response = _add(author, "formative-assessment-in-practice", RIVERBEND_CREDENTIAL)
    assert response.status_code == 400
    page = text_of(response.text)
    assert "There is a problem" in page and "is issued by Riverbend" in page
    assert len(_educators_see(app, "formative-assessment-in-practice")[0]) == 3


def test_the_stacks_only_credential_cannot_be_removed(app, author):
    _new(author)
    confirm = text_of(author.get(f"{STACKS}/questioning-and-feedback/credentials/1/remove").text)
    assert "a stack needs at least one" in confirm and "Yes, remove it" not in confirm
    response = _remove(author, "questioning-and-feedback", 1, QUESTIONING)
    assert response.status_code == 400
    assert "A stack needs at least one credential" in text_of(response.text)
    assert _educators_see(app, "questioning-and-feedback") == ([QUESTIONING], None)


def test_a_credential_not_published_yet_joins_the_catalog_when_it_is_published(app, author):
    create(author, "lakemont-itl", "Cold calling with care", "cold-calling")
    _new(author, credential="cold-calling", title="Talk in class")
    page = text_of(author.get(f"{STACKS}/talk-in-class").text)
    assert "Not published yet: educators see it once it is published." in page
    assert _educators_see(app, "talk-in-class") == ([], None)
    # Educators are not offered a stack that would filter to nothing.
    assert "talk-in-class" not in _filters(app)


# --- A move or removal from a stale page ---------------------------------------------------------


def test_a_move_from_a_stale_page_is_refused_and_nothing_moves(app, author, sample):
    """Two people on one stack: the second acts on a place that now holds another credential."""
    other = account(app, "ana@lakemont.example.org", memberships={"lakemont-itl": "author"})
    # Both opened the page with Feedback at place 2; Ana moves it up first.
    assert _move(other, "formative-assessment-in-practice", 2, FEEDBACK, "up").status_code == 303
    stale = _move(author, "formative-assessment-in-practice", 2, FEEDBACK, "down")
    assert stale.status_code == 409
    page = text_of(stale.text)
    assert "This stack changed after you opened the page" in page
    assert "place 2 now holds “Questioning to Check for Understanding”" in page
    assert _educators_see(app, "formative-assessment-in-practice")[0] == [
        FEEDBACK,
        QUESTIONING,
        GROUPS,
    ]


def test_a_removal_from_a_stale_page_is_refused_and_nothing_is_removed(app, author):
    _move(author, "formative-assessment-in-practice", 3, GROUPS, "up")
    stale = _remove(author, "formative-assessment-in-practice", 3, GROUPS)
    assert stale.status_code == 409
    assert "Nothing was changed" in text_of(stale.text)
    gone = _remove(author, "formative-assessment-in-practice", 7, GROUPS)
    assert gone.status_code == 409 and "it has no place 7 any more" in text_of(gone.text)
    assert len(_educators_see(app, "formative-assessment-in-practice")[0]) == 3


# --- The milestone -------------------------------------------------------------------------------


def test_the_milestone_is_set_changed_and_removed_and_the_catalog_follows(app, author):
    slug = "mathematics-teaching-practices-grades-3-5"
    page = text_of(author.get(f"{STACKS}/{slug}").text)
    assert "earn by completing every credential in this stack" in page
    assert _milestone(author, slug, PRACTITIONER).status_code == 303
    assert _educators_see(app, slug)[1] == PRACTITIONER
    assert _milestone(author, slug, "").status_code == 303
    assert _educators_see(app, slug)[1] is None
    assert _actions(app, slug) == ["stack.milestone_set", "stack.milestone_removed"]


def test_the_milestone_cannot_be_one_of_the_stacks_own_credentials(app, author):
    response = _milestone(author, "formative-assessment-in-practice", FEEDBACK)
    assert response.status_code == 400
    page = text_of(response.text)
    assert "is one of the stack's credentials" in page
    assert "earned by completing all of them" in page
    assert _educators_see(app, "formative-assessment-in-practice")[1] == PRACTITIONER
    offered = response.text.split('<select id="milestone"')[1].split("</select>")[0]
    assert f'value="{FEEDBACK}"' not in offered and f'value="{PRACTITIONER}"' in offered


def test_the_milestone_cannot_be_added_as_one_of_the_stacks_credentials(app, author):
    response = _add(author, "formative-assessment-in-practice", PRACTITIONER)
    assert response.status_code == 400
    assert "is the stack's milestone" in text_of(response.text)
    assert PRACTITIONER not in _educators_see(app, "formative-assessment-in-practice")[0]


def test_the_milestone_must_be_the_organisations_own_credential(app, author):
    response = _milestone(author, "formative-assessment-in-practice", RIVERBEND_CREDENTIAL)
    assert response.status_code == 400
    assert "a stack's milestone must be one of Lakemont" in text_of(response.text)
    assert _educators_see(app, "formative-assessment-in-practice")[1] == PRACTITIONER


# --- Title, description, deleting ----------------------------------------------------------------


def test_the_title_and_description_are_saved_and_shown_to_educators(app, author):
    response = post(
        author, FA, {"title": "Formative Assessment, Step by Step", "description": "In order."}
    )
    assert response.status_code == 303
    assert _filters(app)[0] == "formative-assessment-in-practice"
    with get_db(app).begin() as session:
        stack, _, _ = catalog.stack_page(session, "formative-assessment-in-practice")
        assert (stack.title, stack.description) == (
            "Formative Assessment, Step by Step",
            "In order.",
        )


def test_a_bad_title_is_named_and_the_typed_description_is_kept(app, author):
    response = post(author, FA, {"title": "FA", "description": "My new description."})
    assert response.status_code == 400
    page = text_of(response.text)
    assert "Title must be at least 3 characters." in page and "My new description." in page
    assert _stacks(app)[0]["title"] == "Formative Assessment in Practice"


def test_deleting_a_stack_keeps_its_credentials(app, author):
    confirm = author.get(f"{FA}/delete")
    assert "Delete the stack “Formative Assessment in Practice”?" in text_of(confirm.text)
    response = post(author, f"{FA}/delete")
    assert response.status_code == 303
    assert "formative-assessment-in-practice" not in _filters(app)
    with get_db(app).begin() as session:
        assert catalog.stack_page(session, "formative-assessment-in-practice") is None
        assert catalog.credential_page(session, PRACTITIONER) is not None
    assert _actions(app, "formative-assessment-in-practice") == ["stack.deleted"]


# --- Who may do it -------------------------------------------------------------------------------


def test_an_author_sees_only_the_stacks_of_their_organisations(app, outsider):
    page = text_of(outsider.get(f"{STACKS}/").text)
    assert "The Inclusive, Digital-Age Classroom" in page
    assert "Formative Assessment in Practice" not in page
    assert "Stacks" in outsider.get("/admin/catalog/").text  # in the navigation


def test_an_author_of_another_organisation_cannot_touch_a_stack(app, outsider):
    before = _stacks(app)
    for path in (FA, f"{FA}/credentials/1/remove", f"{FA}/delete"):
        response = outsider.get(path)
        assert response.status_code == 403, path
        assert "your account does not write for it" in text_of(response.text)
    for path, data in (
        (FA, {"title": "Taken over", "description": ""}),
        (f"{FA}/credentials", {"credential": TALK_MOVES}),
        (f"{FA}/credentials/1/move", {"credential": QUESTIONING, "direction": "down"}),
        (f"{FA}/credentials/1/remove", {"credential": QUESTIONING}),
        (f"{FA}/milestone", {"milestone": ""}),
        (f"{FA}/delete", {}),
        (
            f"{STACKS}/new",
            {"organisation": "lakemont-itl", "title": "Mine now", "credential": QUESTIONING},
        ),
    ):
        assert post(outsider, path, data).status_code == 403, path
    assert _stacks(app) == before


def test_someone_not_signed_in_is_sent_to_sign_in(app, sample):
    client = app.test_client()
    before = _stacks(app)
    for path in (f"{STACKS}/", f"{STACKS}/new", FA, f"{FA}/delete"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert "/admin/sign-in" in response.headers["Location"]
    for path in (f"{FA}/delete", f"{FA}/milestone", f"{FA}/credentials/1/move"):
        response = client.post(path, data={"milestone": "", "direction": "down"})
        assert response.status_code == 303, path
        assert "/admin/sign-in" in response.headers["Location"]
    assert _stacks(app) == before


# --- The organisation's image --------------------------------------------------------------------


@pytest.fixture
def lakemont_admin(app, sample):
    return account(app, "ada@lakemont.example.org", memberships={"lakemont-itl": "admin"})


def _upload(client, data: bytes, name: str, organisation: str = "lakemont-itl"):
    return client.post(
        f"/admin/catalog/organisations/{organisation}/image",
        data={"csrf_token": token(client), "image": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _organisation_image(app, slug: str = "lakemont-itl") -> Image | None:
    with get_db(app).begin() as session:
        organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).one()
        image = organisation.image
        if image is not None:
            session.expunge(image)
        return image


def test_an_organisation_admin_uploads_and_removes_the_image(app, lakemont_admin):
    response = _upload(lakemont_admin, svg('<circle r="80" cx="100" cy="100"/>'), "seal.svg")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("?done=image")
    image = _organisation_image(app)
    assert image is not None and image.media_type == "image/svg+xml"
    page = lakemont_admin.get("/admin/catalog/organisations/lakemont-itl").text
    assert f"/catalog/images/{image.sha256}.svg" in page
    assert "Remove the image" in page
    removed = post(
        lakemont_admin, "/admin/catalog/organisations/lakemont-itl/image", {"remove": "1"}
    )
    assert removed.status_code == 303
    assert _organisation_image(app) is None
    with get_db(app).begin() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == "organisation:lakemont-itl")
        ).all()
    assert actions == ["organisation.image_changed", "organisation.image_removed"]


def test_an_image_that_is_not_a_png_or_svg_is_refused_with_a_message(app, lakemont_admin):
    before = _organisation_image(app)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    response = _upload(lakemont_admin, jpeg, "seal.png")
    assert response.status_code == 400
    page = text_of(response.text)
    assert "is a JPEG image; upload a PNG or an SVG." in page
    assert 'aria-invalid="true"' in response.text
    after = _organisation_image(app)
    assert (after.sha256 if after else None) == (before.sha256 if before else None)


def test_a_small_png_is_refused_with_its_size(app, lakemont_admin):
    response = _upload(lakemont_admin, png(64, 64), "seal.png")
    assert response.status_code == 400
    assert "The image is 64\N{MULTIPLICATION SIGN}64 px" in text_of(response.text)


def test_an_oversized_organisation_image_is_refused_before_it_is_read(app, lakemont_admin):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    fields = {
        "csrf_token": token(lakemont_admin),
        "image": FileStorage(BytesIO(b"\x89PNG" + b"0" * 2_000_000), filename="big.png"),
    }
    boundary, body = encode_multipart(fields)
    response = lakemont_admin.post(
        "/admin/catalog/organisations/lakemont-itl/image",
        input_stream=BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Content-Length": str(len(body))},
    )
    assert response.status_code == 413, text_of(response.text)
    assert "the limit is 1 MB" in text_of(response.text)


def test_only_operators_and_the_organisations_admins_change_its_image(app, author, outsider):
    before = _organisation_image(app)
    page = author.get("/admin/catalog/organisations/lakemont-itl").text
    assert "Save the image" not in page
    for client in (author, outsider):
        response = _upload(client, png(400, 400), "seal.png")
        assert response.status_code == 403
        removal = post(client, "/admin/catalog/organisations/lakemont-itl/image", {"remove": "1"})
        assert removal.status_code == 403
    after = _organisation_image(app)
    assert (after.sha256 if after else None) == (before.sha256 if before else None)


def test_an_operator_changes_any_organisations_image(app, sample):
    operator = account(app, "olive@example.org", operator=True)
    assert _upload(operator, png(400, 400), "seal.png", "riverbend-pln").status_code == 303
    assert _organisation_image(app, "riverbend-pln").media_type == "image/png"
