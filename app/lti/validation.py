"""Validating the id_token launch (1EdTech Security Framework §5.1.3; LTI Core §5.3).

pylti1p3 runs its chain (state, format, nonce, registration, signature, deployment, message);
``SecureMessageLaunch`` strengthens each step where pylti1p3 falls short of LTI-CHECKLIST A:

- size and shape first: an id_token over ``MAX_ID_TOKEN_BYTES`` is refused (413) before its
  form is parsed; the header and payload are JSON objects and every claim the tool reads has its
  JSON type (``claim_types``) before any lookup, so a malformed launch takes no login record
  and writes nothing;
- state: the server-side login record is *taken* (single use, 10 minutes) — A10;
- nonce: must equal the nonce issued with that state, and is consumed — A9;
- signature: RS256 only (A6); the platform key by ``kid`` from the cached JWKS, refetched once
  on an unknown ``kid``, rate-limited (A1); ``iss`` (A2), ``aud`` with no untrusted extras (A3),
  ``azp`` (A4, A5), ``exp``/``iat`` with 60 s leeway (A7, A8);
- deployment: at most 255 characters, known and approved, else recorded pending (A13);
- message: type (A11), version (A12), ``target_link_uri`` ours and equal to the login's (A14),
  ``resource_link.id`` (A15), ``roles`` present (A16); a missing ``sub`` is an anonymous launch
  (A17), which pylti1p3 alone would refuse; unknown claims are ignored (A18).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import flask
import jwt
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException, LtiKeyException, OIDCException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from app import audit
from app.db import utcnow
from app.lti import claim_types, platform_refusal, services
from app.lti.errors import ADMIN, RELAUNCH, DeploymentNotApproved, LaunchError, explain
from app.lti.launch import CLAIM, Launch, to_launch
from app.lti.login import STATE_PREFIX, is_own_url
from app.lti.models import Deployment, Registration
from app.lti.platform_keys import PlatformKeys, PlatformKeysError
from app.lti.state import StateStore
from app.lti.storage import StateBoundSessionService, StateStoreLaunchDataStorage
from app.lti.tool_config import DatabaseToolConf

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256",)
LEEWAY_SECONDS = 60
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest", "LtiSubmissionReviewRequest")
MAX_DEPLOYMENT_ID = 255
MAX_ID_TOKEN_BYTES = 64 * 1024
"""The largest id_token accepted. Moodle's and Canvas's launches are a few kilobytes, more with
long custom parameters; ten times that is room enough, and a launch's size is refused before
anything in it is decoded."""
FORM_ALLOWANCE = 8 * 1024
"""What a launch form may carry besides its id_token (the state; an LMS's error words)."""


def _refused(code: str, message: str, hint: str = ADMIN, status: int | None = None) -> LaunchError:
    return LaunchError(message, hint=hint, code=code, status=status)


class SecureMessageLaunch(FlaskMessageLaunch):
    """pylti1p3's launch with every check of LTI-CHECKLIST A."""

    def __init__(
        self,
        request: FlaskRequest,
        tool_conf: DatabaseToolConf,
        *,
        storage: StateStoreLaunchDataStorage,
        store: StateStore,
        keys: PlatformKeys,
        db_session: Session,
        base_url: str,
    ) -> None:
        super().__init__(
            request,
            tool_conf,
            launch_data_storage=storage,
            requests_session=keys.http,
            session_service=StateBoundSessionService(request, lambda: self._login.get("nonce")),
        )
        self._storage = storage
        self._store = store
        self._keys = keys
        self._db_session = db_session
        self._base_url = base_url
        self._login: dict[str, Any] = {}
        self.bound_by_cookie = False
        self.known: Any = None
        """What ``services.read_launch`` found stored for this launch (for its record)."""

    @property
    def login_record(self) -> dict[str, Any]:
        """What the login kept for this state (nonce, proof digest, storage, parameters)."""
        return self._login

    def validate(self) -> SecureMessageLaunch:
        """pylti1p3's chain, with the token's shape checked first: its header and payload are
        objects and every claim the tool reads has its JSON type (``claim_types``) before any
        lookup — the login record, the registration, the platform's keys."""
        self._validated = True
        try:
            self._state_param()
            return (
                self.validate_jwt_format()
                .validate_state()
                .validate_nonce()
                .validate_registration()
                .validate_jwt_signature()
                .validate_deployment()
                .validate_message()
                .save_launch_data()
            )
        except Exception:
            self._validated = False
            raise

    def validate_jwt_format(self) -> SecureMessageLaunch:
        super().validate_jwt_format()
        claim_types.check(self._jwt.get("header"), self._jwt.get("body"))
        return self

    # --- A10: state ------------------------------------------------------------------------

    def _state_param(self) -> str:
        state = self._get_request_param("state")
        if not state:
            raise _refused(
                "missing_state",
                "The launch arrived without the login state the LMS should pass back.",
                RELAUNCH,
            )
        return state

    def validate_state(self) -> SecureMessageLaunch:
        state = self._state_param()
        record = self._store.take(STATE_PREFIX + state)
        if record is None:
            raise _refused(
                "state_unknown",
                "This launch does not match a sign-in in progress: it expired (after 10 minutes), "
                "was already used, or was not started from this tool.",
                RELAUNCH,
            )
        # Is the browser finishing the launch the one that started it (login CSRF)? pylti1p3's
        # state cookie says so when it comes back; inside an iframe that blocks third-party
        # cookies it does not, and the launch bridge asks the browser for its proof instead.
        self.bound_by_cookie = self._cookie_service.get_cookie(state) == state
        self._login = record
        return self

    # --- A9: nonce ---------------------------------------------------------------------------

    def validate_nonce(self) -> SecureMessageLaunch:
        nonce = self._get_jwt_body().get("nonce")
        if not nonce:
            raise _refused(
                "missing_nonce", "The launch token has no nonce, so it cannot be trusted."
            )
        if nonce != self._login.get("nonce"):
            raise _refused(
                "nonce_mismatch",
                "The launch token was not issued for this sign-in (nonce differs).",
                RELAUNCH,
            )
        # pylti1p3's check: the nonce is one we issued (StateBoundSessionService answers from
        # the login record, which this launch took, once).
        super().validate_nonce()
        return self

    # --- A2-A8: registration, keys, signature, claims ---------------------------------------

    def _read_launch(self) -> None:
        """Read the registration, the deployment and the stored course, link and line item of
        the token's (as yet unverified) claims in one statement: the lookups that follow, and
        the launch's record once it is valid, take their answers from it. Reading writes
        nothing, so it may come before the signature is checked, as the registration's lookup
        always has."""
        body = self._get_jwt_body()
        deployment_id = body.get(CLAIM + "deployment_id")
        client_id = self.get_client_id()
        if not (
            isinstance(deployment_id, str)
            and len(deployment_id) <= MAX_DEPLOYMENT_ID
            and isinstance(client_id, str)
        ):
            return  # the lookups below refuse it in their own words
        rows = services.read_launch(
            self._db_session,
            self.get_iss(),
            client_id,
            deployment_id,
            _id_of(body.get(CLAIM + "context")),
            _id_of(body.get(CLAIM + "resource_link")),
        )
        self._tool_config.remember(
            self.get_iss(), client_id, deployment_id, rows.registration, rows.deployment
        )
        self.known = rows.known

    def validate_registration(self) -> SecureMessageLaunch:
        self._read_launch()
        switched_off = self._tool_config.registration_row(self.get_iss(), self.get_client_id())
        if switched_off is not None and not switched_off.is_active:
            raise _refused(
                "platform_inactive",
                f"Microcred is switched off for {switched_off.name}.",
                "Ask your tool administrator: an operator switched this LMS off in Microcred.",
                status=403,
            )
        super().validate_registration()
        # The login was started for one platform; a token from another (even a registered one
        # whose keys verify) must not finish it.
        row = self._tool_config.registration_row(self.get_iss(), self.get_client_id())
        if row is None or row.id != self._login.get("registration_id"):
            raise _refused(
                "wrong_platform",
                "The launch comes from another LMS than the one its sign-in started with.",
            )
        return self

    def get_client_id(self) -> str:
        # With several audiences, pylti1p3 takes the first; the authorised party names us.
        body: dict[str, Any] = dict(self._get_jwt_body())
        aud = body.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and body.get("azp") in aud:
            return str(body["azp"])
        return super().get_client_id()

    def fetch_public_key(self, key_set_url: str) -> Any:
        try:
            return self._keys.get(key_set_url)
        except PlatformKeysError as exc:
            raise _refused(
                "jwks_unreachable",
                f"Microcred could not fetch this LMS's public keys ({exc}).",
                "Try again in a minute; if it persists, the LMS administrator should "
                "check the key set URL registered with Microcred.",
            ) from exc

    def get_public_key(self) -> tuple[str, str]:
        try:
            return super().get_public_key()
        except LtiKeyException as exc:
            if not str(exc).startswith("Unable to find public key"):
                raise
        # The platform may have rotated its keys: look once more (rate-limited).
        assert self._registration is not None
        url = self._registration.get_key_set_url()
        assert url is not None
        keyset = self._keys.refetch(url)
        if keyset is not None:
            self._registration.set_key_set(cast(Any, keyset))
            try:
                return super().get_public_key()
            except LtiKeyException:
                pass
        kid = self._jwt.get("header", {}).get("kid")
        raise _refused(
            "unknown_signing_key",
            f"The LMS signed this launch with a key (kid {kid!r}) its published key "
            "set does not contain.",
            "An LMS administrator should check the key set (JWKS) URL registered with Microcred.",
        )

    def validate_jwt_signature(self) -> SecureMessageLaunch:
        alg = self._jwt.get("header", {}).get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise _refused(
                "algorithm_not_allowed",
                f"The launch token is signed with {alg!r}; only RS256 is accepted.",
            )
        public_key, _alg = self.get_public_key()
        assert self._registration is not None
        client_id = self._registration.get_client_id()
        try:
            claims = jwt.decode(
                self._get_id_token(),
                public_key,
                algorithms=list(ALLOWED_ALGORITHMS),
                audience=client_id,
                issuer=self._registration.get_issuer(),
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _refused("token_expired", "The launch token has expired.", RELAUNCH) from exc
        except jwt.ImmatureSignatureError as exc:
            raise _refused(
                "token_from_the_future",
                "The launch token was issued in the future: the LMS's clock is more "
                "than a minute ahead.",
                ADMIN,
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise _refused(
                "wrong_audience", "The launch token is meant for another tool (aud)."
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise _refused("wrong_issuer", "The launch token's issuer is not this LMS.") from exc
        except jwt.InvalidSignatureError as exc:
            raise _refused(
                "bad_signature",
                "The launch token's signature does not verify with the LMS's key.",
                RELAUNCH + " " + ADMIN,
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise _refused("invalid_token", f"The launch token is not valid: {exc}.") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and "azp" not in claims:
            raise _refused(
                "missing_azp", "The launch token names several audiences but no authorised party."
            )
        if "azp" in claims and claims["azp"] != client_id:
            raise _refused("wrong_azp", "The launch token's authorised party is another tool.")
        untrusted = [a for a in audiences if a != client_id]
        if untrusted:
            raise _refused(
                "untrusted_audience",
                "The launch token is also addressed to other parties, which this tool "
                "does not trust.",
            )
        return self

    # --- A13: deployment ---------------------------------------------------------------------

    def validate_deployment(self) -> SecureMessageLaunch:
        deployment_id = self._get_deployment_id()
        if not isinstance(deployment_id, str) or len(deployment_id) > MAX_DEPLOYMENT_ID:
            raise _refused(
                "bad_deployment_id",
                f"The deployment id must be a string of at most {MAX_DEPLOYMENT_ID} characters.",
            )
        try:
            super().validate_deployment()
        except LtiException:
            self._first_sight_of_deployment()
        return self

    def _first_sight_of_deployment(self) -> None:
        """Record a deployment id seen for the first time: approved at once when the platform
        auto-approves (Canvas sub-accounts and course copies), else pending and refused."""
        # Runs after the signature check, so only the real platform can create these rows.
        registration = self._tool_config.registration_row(self.get_iss(), self.get_client_id())
        assert registration is not None  # validate_registration passed
        deployment_id = self._get_deployment_id()
        row = self._deployment_row(registration, deployment_id)
        if row is None:
            status = (
                Deployment.ACTIVE if registration.auto_approve_deployments else Deployment.PENDING
            )
            try:
                with self._db_session.begin_nested():
                    row = Deployment(
                        registration_id=registration.id,
                        deployment_id=deployment_id,
                        status=status,
                        decided_at=utcnow() if status == Deployment.ACTIVE else None,
                    )
                    self._db_session.add(row)
                    if status == Deployment.ACTIVE:
                        audit.record(
                            self._db_session,
                            actor=audit.LTI_LAUNCH,
                            action="deployment.auto_approved",
                            target=f"registration:{registration.uuid}",
                            details={"deployment_id": deployment_id},
                        )
                self._db_session.commit()
            except IntegrityError:  # a concurrent first launch recorded it: use that row
                self._db_session.rollback()
                row = self._deployment_row(registration, deployment_id)
                assert row is not None
            else:
                log.info(
                    "deployment recorded",
                    extra={
                        "registration": registration.uuid,
                        "deployment_id": deployment_id,
                        "status": status,
                    },
                )
        if not row.is_active:
            raise _deployment_refusal(registration, row)

    def _deployment_row(self, registration: Registration, deployment_id: str) -> Deployment | None:
        return self._db_session.scalars(
            select(Deployment).where(
                Deployment.registration_id == registration.id,
                Deployment.deployment_id == deployment_id,
            )
        ).first()

    def save_launch_data(self) -> SecureMessageLaunch:
        # Nothing is stored yet. pylti1p3 keeps the whole payload for a day, and marks "this
        # state is valid for this id_token", a shortcut that would let the same id_token be
        # posted again (the state record here is single use instead). The launch keeps what
        # its pages read once it is finished (``session.keep``): a launch whose browser never
        # proves itself keeps nothing past the launch bridge's wait.
        return self

    # --- A11-A18: the message ------------------------------------------------------------------

    def validate_message(self) -> SecureMessageLaunch:
        body = self._get_jwt_body()
        message_type = body.get(CLAIM + "message_type")
        if message_type not in MESSAGE_TYPES:
            raise _refused(
                "bad_message_type",
                f"The launch message type {message_type!r} is not one Microcred supports.",
            )
        if body.get(CLAIM + "version") != "1.3.0":
            raise _refused("bad_version", "The launch is not an LTI 1.3.0 message (version).")
        if not isinstance(body.get(CLAIM + "roles"), list):
            raise _refused("missing_roles", "The launch message has no roles claim.")
        link = body.get(CLAIM + "resource_link")
        if message_type == "LtiResourceLinkRequest" and not (
            isinstance(link, dict) and link.get("id")
        ):
            raise _refused("missing_resource_link", "The launch names no resource link (id).")
        self._check_target_link_uri(body.get(CLAIM + "target_link_uri"), message_type)
        if message_type == "LtiDeepLinkingRequest":
            _check_deep_linking_settings(body.get(DL_SETTINGS))
        if body.get("sub"):
            super().validate_message()  # pylti1p3's own message validators, in full
        elif message_type != "LtiResourceLinkRequest":
            raise _refused(
                "anonymous_not_allowed",
                "This kind of launch needs to know who you are, and the LMS did not "
                "say (no 'sub').",
            )
        return self

    def _check_target_link_uri(self, claim: Any, message_type: str) -> None:
        if not claim:
            if message_type == "LtiResourceLinkRequest":
                raise _refused(
                    "missing_target_link_uri", "The launch message has no target_link_uri."
                )
            return
        if not isinstance(claim, str) or not is_own_url(claim, self._base_url):
            raise _refused(
                "foreign_target_link_uri",
                "The launch's target_link_uri is not an address of this tool.",
            )
        requested = self._login.get("target_link_uri")
        if requested and requested != claim:
            raise _refused(
                "target_link_uri_mismatch",
                "The launch's target_link_uri differs from the one its login asked for.",
            )


def _id_of(claim: Any) -> str | None:
    """The ``id`` of an object claim, if it is a string."""
    value = claim.get("id") if isinstance(claim, dict) else None
    return value if isinstance(value, str) else None


def _check_deep_linking_settings(settings: Any) -> None:
    """F: a Deep Linking request must say where to send the answer and what it accepts.
    (pylti1p3 checks the settings exist but not the return URL.)"""
    if not isinstance(settings, dict):
        raise _refused(
            "missing_deep_linking_settings",
            "The LMS asked to add an activity but sent no Deep Linking settings.",
        )
    url = settings.get("deep_link_return_url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _refused(
            "missing_deep_link_return_url",
            "The LMS asked to add an activity but did not say where to send the choice "
            "(deep_link_return_url).",
        )
    accept_types = settings.get("accept_types")
    if not isinstance(accept_types, list) or "ltiResourceLink" not in accept_types:
        raise _refused(
            "deep_linking_type_not_accepted",
            "This place in the LMS does not accept links to an activity (ltiResourceLink), "
            "which is what Microcred adds.",
            hint="Add Microcred from the course's add-an-activity or assignment screen.",
        )


def _deployment_refusal(registration: Registration, row: Deployment) -> DeploymentNotApproved:
    if row.status == Deployment.REFUSED:
        return DeploymentNotApproved(
            f"{registration.name}'s deployment {row.deployment_id} has been refused by the "
            "Microcred administrator.",
            hint="Ask your tool administrator if this should change.",
            title="This course's connection to Microcred is not allowed",
        )
    return DeploymentNotApproved(
        f"{registration.name}'s deployment {row.deployment_id} is not approved yet.",
        hint="Ask your Microcred tool administrator to approve it in the operator console, "
        "then launch again.",
    )


@dataclass(frozen=True)
class ValidatedLaunch:
    """A launch whose token passed every check; ``bound_by_cookie`` if the state cookie also
    proved the browser, else the launch bridge must."""

    launch: Launch
    bound_by_cookie: bool
    login: dict[str, Any]
    claims: Mapping[str, Any]
    """The id_token's claims, as validated."""
    known: Any = None
    """What the launch found stored of its course, link and line item (``services``)."""


def validate_launch(
    session: Session,
    tool_conf: DatabaseToolConf,
    storage: StateStoreLaunchDataStorage,
    store: StateStore,
    keys: PlatformKeys,
    base_url: str,
) -> ValidatedLaunch:
    """Validate the id_token POSTed by the platform and return the launch it describes; an
    error the platform posted instead of one is explained in its words (``platform_refusal``)."""
    _check_size()
    request = FlaskRequest(request_is_secure=base_url.startswith("https://"))
    error = request.get_param("error")
    if error and not request.get_param("id_token"):
        raise platform_refusal.refusal(
            session,
            store,
            error,
            request.get_param("error_description"),
            request.get_param("state"),
        )
    message_launch = SecureMessageLaunch(
        request,
        tool_conf,
        storage=storage,
        store=store,
        keys=keys,
        db_session=session,
        base_url=base_url,
    )
    try:
        data = message_launch.get_launch_data()
    except LaunchError as exc:
        log.info("launch refused", extra={"error_code": exc.code, "reason": exc.message})
        raise
    except (LtiException, OIDCException) as exc:
        error = explain(exc)
        log.info("launch refused", extra={"error_code": error.code, "reason": error.message})
        raise error from exc
    registration = tool_conf.registration_row(data["iss"], message_launch.get_client_id())
    assert registration is not None
    return ValidatedLaunch(
        launch=to_launch(message_launch.get_launch_id(), data, registration),
        bound_by_cookie=message_launch.bound_by_cookie,
        login=message_launch.login_record,
        claims=data,
        known=message_launch.known,
    )


def _check_size() -> None:
    """Refuse a launch larger than ``MAX_ID_TOKEN_BYTES`` (413) before its form is parsed: by
    its Content-Length, or, sent in chunks, by reading no further than the limit."""
    posted = flask.request
    limit = MAX_ID_TOKEN_BYTES + FORM_ALLOWANCE
    if posted.content_length is not None and posted.content_length > limit:
        raise _too_large(posted.content_length)
    posted.max_content_length = limit
    try:
        id_token = posted.form.get("id_token") or ""
    except RequestEntityTooLarge as exc:
        raise _too_large(None) from exc
    if len(id_token) > MAX_ID_TOKEN_BYTES:
        raise _too_large(len(id_token))


def _too_large(size: int | None) -> LaunchError:
    limit = f"{MAX_ID_TOKEN_BYTES // 1024} kB"
    if size is None:
        message = f"The LMS sent a launch larger than the {limit} Microcred accepts."
    else:
        sent = f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{size // 1024} kB"
        message = f"The LMS sent a launch of {sent}; Microcred accepts launches of up to {limit}."
    return LaunchError(
        message,
        hint="A launch this large usually carries very long custom parameters, set in the "
        "activity's or in Microcred's settings in the LMS. Ask your LMS administrator to "
        "shorten them, then open the activity again.",
        code="launch_too_large",
        status=413,
        title="This launch is larger than Microcred accepts",
    )
