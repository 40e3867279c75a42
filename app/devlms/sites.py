"""The hosts the development LMS answers on, as hosted Canvas spreads itself over three.

Hosted Canvas names itself ``https://canvas.instructure.com`` (the issuer, where the OpenID
configuration is), authenticates and issues tokens on ``sso.canvaslms.com``, and takes Dynamic
Registrations on the school's own domain (``school.instructure.com``, the account host)
(``app/controllers/security_controller.rb``). A tool that assumes everything is under the issuer
fails there, so the development LMS can be reached on three origins too: the same application
served on ``MICROCRED_DEVLMS_URL``, ``MICROCRED_DEVLMS_SSO_URL`` and
``MICROCRED_DEVLMS_ACCOUNT_URL``. Unset, the last two are the first: one origin, as Moodle is.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from config import Settings


@dataclass(frozen=True)
class Sites:
    """The development LMS's origins (no trailing slash)."""

    issuer: str
    """The LTI issuer: the LMS's pages, the OpenID configuration, the services."""
    sso: str
    """Canvas's authorization, JWKS and token endpoints."""
    account: str
    """Canvas's registration endpoint (the school's domain, where the admin's pages are)."""

    @classmethod
    def of(cls, settings: Settings) -> Sites:
        issuer = settings.devlms_url
        return cls(
            issuer=issuer,
            sso=settings.devlms_sso_url or issuer,
            account=settings.devlms_account_url or issuer,
        )

    def origin_for_host(self, host: str) -> str:
        """The configured origin a request's ``Host`` names; the issuer for any other host.

        Canvas builds the ``aud`` it expects from the host the token request came to
        (``lib/canvas/oauth/client_credentials_provider.rb``)."""
        for origin in (self.sso, self.account, self.issuer):
            if urlsplit(origin).netloc.lower() == host.lower():
                return origin
        return self.issuer
