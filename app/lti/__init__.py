"""All LTI plumbing; the only package that imports pylti1p3."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import requests
from cryptography.fernet import Fernet
from flask import Flask, current_app, g

from app import health
from app.db import get_db
from app.lti import session
from app.lti.ags import AgsClient
from app.lti.keys import key_cipher
from app.lti.launch import Launch
from app.lti.platform_keys import PlatformKeys
from app.lti.session import SessionReader
from app.lti.state import DatabaseStateStore, RedisStateStore, StateStore
from app.lti.storage import StateStoreLaunchDataStorage
from app.lti.tokens import TokenCache
from app.lti.tool_config import DatabaseToolConf
from app.tenancy import scope_to_platform
from config import Settings

USER_AGENT = "Microcred/0.1 (LTI 1.3 tool; +https://github.com/microcred)"


@dataclass
class LtiRuntime:
    """What LTI services need from the app, built once per app."""

    settings: Settings
    cipher: Fernet
    http: requests.Session
    store: StateStore
    """What may be lost (a login in flight, cached keys and tokens): Redis in the scaled shape."""
    durable_store: StateStore
    """What a Redis restart must not lose (sessions): always the database (``app.lti.state``)."""
    _platform_keys: PlatformKeys | None = None
    _tokens: TokenCache | None = None
    _ags: AgsClient | None = None
    _build_lock: threading.Lock = field(default_factory=threading.Lock)

    def tool_conf(self) -> DatabaseToolConf:
        return DatabaseToolConf(get_db(current_app).session(), self.cipher)

    def storage(self) -> StateStoreLaunchDataStorage:
        return StateStoreLaunchDataStorage(self.store)

    def session_reader(self) -> SessionReader:
        return SessionReader(
            secret=self.settings.secret_key,
            store=self.durable_store,
            db=get_db(current_app).session(),
        )

    def platform_keys(self) -> PlatformKeys:
        # One per app, so its in-process copy of key sets serves every request.
        if self._platform_keys is None:
            self._platform_keys = PlatformKeys(
                store=self.store,
                http=self.http,
                default_ttl=self.settings.platform_jwks_cache_seconds,
                timeout=self.settings.http_timeout,
            )
        return self._platform_keys

    def tokens(self) -> TokenCache:
        """Return the app's access-token cache (one per app: its in-process copy of tokens
        serves every request and worker thread; the store shares them across processes)."""
        with self._build_lock:
            if self._tokens is None:
                self._tokens = TokenCache(
                    get_db(current_app),
                    self.cipher,
                    self.store,
                    self.http,
                    self.settings.http_timeout,
                )
            return self._tokens

    def ags(self) -> AgsClient:
        """Return the app's AGS client (one per app: one connection pool for all threads)."""
        tokens = self.tokens()
        with self._build_lock:
            if self._ags is None:
                self._ags = AgsClient(tokens, self.http, self.settings.http_timeout)
            return self._ags


def make_http_session() -> requests.Session:
    """Return the HTTP client for calls to LMSs (Canvas requires a User-Agent)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def make_state_store(settings: Settings, durable_store: StateStore) -> StateStore:
    """The state store the settings choose: Redis, or the durable store itself."""
    if settings.state_store == "redis":
        assert settings.redis_url is not None
        return RedisStateStore(settings.redis_url)
    return durable_store


def init_app(app: Flask, settings: Settings) -> None:
    """Give the app its LTI runtime (stores, keys, HTTP client), the security headers of every
    response, the launch and registration routes, and the ``flask keys`` and ``flask
    registration-links`` commands."""
    from app.lti import cli, frame_origins, setup_views, views

    frame_origins.init_app(app)
    durable_store = DatabaseStateStore(get_db(app))
    store = make_state_store(settings, durable_store)
    app.extensions["lti"] = LtiRuntime(
        settings=settings,
        cipher=key_cipher(settings.secret_key),
        http=make_http_session(),
        store=store,
        durable_store=durable_store,
    )
    health.register(app, "state_store", store.ping, kind=settings.state_store)
    app.register_blueprint(views.bp)
    app.register_blueprint(setup_views.bp)
    app.cli.add_command(cli.group)
    app.cli.add_command(cli.keys_group)


def require_launch() -> Launch:
    """Return the launch the request's session token belongs to, or refuse (401).

    From here on the request's database session sees only this platform's rows."""
    launch = session.require_launch(runtime().session_reader())
    scope_to_platform(get_db(current_app).session(), launch.registration_id)
    g.viewer_locale = launch.locale  # base.html: dates and times in the LMS's language
    return launch


def session_token_for(launch: Launch) -> str:
    """Issue a fresh session token for this page's links and forms (sliding expiry)."""
    g.session_token = session.issue(runtime().settings.secret_key, launch)
    return str(g.session_token)


def runtime() -> LtiRuntime:
    """Return the current app's LTI runtime."""
    rt: LtiRuntime = current_app.extensions["lti"]
    return rt
