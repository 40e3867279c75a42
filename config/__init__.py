"""Settings read from the environment, with documented defaults.

Every setting is one row of ``SETTINGS``: its environment variable, its default and what it is
for. ``load_settings()`` reads them once per ``create_app`` call; nothing reads the environment at
import time. README's configuration table lists the same rows (a test keeps the two in step).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


@dataclass(frozen=True)
class Setting:
    """One configurable value: where it comes from and what it means."""

    env: str
    default: str | None
    doc: str
    parse: Any = str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "MICROCRED_ENV",
        "development",
        "`development` (the embedded default) or `production`. Production refuses to start "
        "without `MICROCRED_SECRET_KEY` and switches the development LMS off.",
    ),
    Setting(
        "MICROCRED_SECRET_KEY",
        None,
        "Signs sessions and encrypts the tool's private keys at rest. Development generates one "
        "into `instance/secret_key` on first start; production must set it (32+ random bytes).",
    ),
    Setting(
        "MICROCRED_INSTANCE_PATH",
        "instance",
        "Folder for the SQLite database, the generated secret key and local files (a relative "
        "path is taken from the working directory).",
    ),
    Setting(
        "MICROCRED_DATABASE_URL",
        None,
        "SQLAlchemy URL. Default: `sqlite:///<instance>/microcred.sqlite`. For PostgreSQL use "
        "`postgresql+psycopg://user:pass@host:5432/microcred`.",
    ),
    Setting(
        "MICROCRED_DATABASE_POOL_SIZE",
        "10",
        "PostgreSQL connections each process keeps open; as many more open for a burst and "
        "close after it. Set it to the threads of one process that use the database at once "
        "(gunicorn's `--threads`): under load, connections opened and closed again cost "
        "PostgreSQL a new process each. Ignored for SQLite.",
        int,
    ),
    Setting(
        "MICROCRED_BASE_URL",
        "http://127.0.0.1:5000",
        "The tool's public origin as LMSs reach it (scheme, host, port; no trailing slash). "
        "Every URL the tool gives an LMS (login, launch, JWKS) is built from it. Production "
        "requires `https://` (see `MICROCRED_ALLOW_HTTP`).",
    ),
    Setting(
        "MICROCRED_ALLOW_HTTP",
        "false",
        "Let production run on an `http://` base URL: for a lab on a private network only "
        "(e.g. `make cluster`). Over http the tool's cookies are not `Secure`, browsers drop "
        "its state cookie from LMS frames, and launches and session tokens cross the network "
        "in clear.",
        _bool,
    ),
    Setting(
        "MICROCRED_DEVLMS_ENABLED",
        None,
        "Serve the development LMS. Default: on in development, off in production.",
        _bool,
    ),
    Setting(
        "MICROCRED_DEVLMS_URL",
        "http://127.0.0.1:5001",
        "The development LMS's origin; it is also its LTI issuer.",
    ),
    Setting(
        "MICROCRED_DEVLMS_ACCOUNT_URL",
        None,
        "Canvas flavour: the school's own Canvas domain (the account host), where the "
        "Dynamic Registration endpoint lives, as on hosted Canvas. Unset: the development "
        "LMS's origin.",
    ),
    Setting(
        "MICROCRED_DEVLMS_SSO_URL",
        None,
        "Canvas flavour: the host of the authorization, JWKS and token endpoints (hosted "
        "Canvas's sso.canvaslms.com). Unset: the development LMS's origin.",
    ),
    Setting(
        "MICROCRED_STATE_STORE",
        "database",
        "Where short-lived LTI state that may be lost lives (logins in flight, platform keys, "
        "access tokens): `database` (the embedded default) or `redis` (the scaled shape; needs "
        "`MICROCRED_REDIS_URL`). Sessions are kept in the database either way.",
    ),
    Setting(
        "MICROCRED_REDIS_URL",
        None,
        "Redis URL for `MICROCRED_STATE_STORE=redis`, e.g. `redis://127.0.0.1:6379/0`.",
    ),
    Setting(
        "MICROCRED_LOG_LEVEL",
        "INFO",
        "Log level of the log on stdout (DEBUG, INFO, WARNING, ERROR).",
    ),
    Setting(
        "MICROCRED_LOG_FORMAT",
        "json",
        "`json` (one JSON object per line, for a log collector) or `text` (one line a person "
        "reads; `make run` sets it).",
    ),
    Setting(
        "MICROCRED_HTTP_TIMEOUT",
        "10",
        "Seconds to wait for an LMS (JWKS, tokens, AGS, NRPS) before giving up.",
        float,
    ),
    Setting(
        "MICROCRED_PLATFORM_JWKS_CACHE_SECONDS",
        "300",
        "How long a platform's public keys are kept before they are fetched again.",
        int,
    ),
    Setting(
        "MICROCRED_EVIDENCE_STORE",
        "local",
        "Where uploaded evidence files are kept: `local` (a folder on disk, the embedded "
        "default) or `s3` (an S3-compatible bucket, the scaled shape).",
    ),
    Setting(
        "MICROCRED_EVIDENCE_PATH",
        None,
        "Folder for evidence files with `MICROCRED_EVIDENCE_STORE=local`. Default: "
        "`<instance>/evidence`.",
    ),
    Setting(
        "MICROCRED_S3_ENDPOINT_URL",
        None,
        "S3-compatible endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or a MinIO URL. "
        "Default: AWS for the region.",
    ),
    Setting("MICROCRED_S3_BUCKET", None, "Bucket for evidence files (required with `s3`)."),
    Setting("MICROCRED_S3_REGION", "us-east-1", "The bucket's region."),
    Setting(
        "MICROCRED_S3_ACCESS_KEY_ID",
        None,
        "Access key for the bucket. Unset: boto3's usual sources (environment, instance role).",
    ),
    Setting(
        "MICROCRED_S3_SECRET_ACCESS_KEY",
        None,
        "Secret for `MICROCRED_S3_ACCESS_KEY_ID` (set both or neither).",
    ),
    Setting(
        "MICROCRED_UPLOAD_MAX_BYTES",
        str(1024**3),
        "Largest evidence file an educator may upload, in bytes (default 1 GiB).",
        int,
    ),
    Setting(
        "MICROCRED_EMBEDDED_WORKER",
        None,
        "Run the score worker as a thread of `make run`'s process. Default: on in development, "
        "off in production (run `flask worker` processes instead).",
        _bool,
    ),
    Setting(
        "MICROCRED_WORKER_THREADS",
        "16",
        "Scores a worker sends at once (threads). An LMS's latency is hidden by sends in "
        "flight: at 50 ms per request, 16 sends in flight make up to about 300 scores/s.",
        int,
    ),
    Setting(
        "MICROCRED_WORKER_LEASE_SECONDS",
        "60",
        "How long a worker holds the scores it claimed; a worker that died leaves them to "
        "another after this. Keep it well above `MICROCRED_HTTP_TIMEOUT`.",
        float,
    ),
    Setting(
        "MICROCRED_WORKER_RETRY_SECONDS",
        "5",
        "First wait before a failed send is tried again; it doubles per try (with jitter, up "
        "to an hour), and an LMS's `Retry-After` is honoured.",
        float,
    ),
    Setting(
        "MICROCRED_WORKER_MAX_TRIES",
        "12",
        "Sends of one score before it is marked failed (shown to instructors and operators, "
        "who may retry it). 12 tries span about 3 hours.",
        int,
    ),
)


@dataclass(frozen=True)
class Settings:
    """The typed settings of one application instance."""

    env: str
    secret_key: str
    instance_path: Path
    database_url: str
    database_pool_size: int
    base_url: str
    devlms_enabled: bool
    devlms_url: str
    state_store: str
    redis_url: str | None
    log_level: str
    log_format: str
    http_timeout: float
    platform_jwks_cache_seconds: int
    extra: Mapping[str, Any] = field(default_factory=dict)
    evidence_store: str = "local"
    evidence_path: Path = Path("instance/evidence")
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    upload_max_bytes: int = 1024**3
    embedded_worker: bool = False
    worker_threads: int = 16
    worker_lease_seconds: float = 60.0
    worker_retry_seconds: float = 5.0
    worker_max_tries: int = 12
    devlms_account_url: str | None = None
    devlms_sso_url: str | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _optional_url(value: str | None) -> str | None:
    return value.rstrip("/") if value else None


def _read(values: Mapping[str, str | None], setting: Setting) -> Any:
    raw = values.get(setting.env)
    if raw is None or raw == "":
        raw = setting.default
    if raw is None:
        return None
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{setting.env}: {exc}") from None


def _development_secret(instance_path: Path) -> str:
    """Return the development secret from the instance folder, creating it on first start."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together keep whichever secret was written first.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read settings from the environment, then apply ``overrides`` (keyed by env var name)."""
    values: dict[str, Any] = {s.env: os.environ.get(s.env) for s in SETTINGS}
    extra: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key in values:
            values[key] = value if value is None or isinstance(value, str) else str(value)
        else:
            extra[key] = value
    read = {s.env: _read(values, s) for s in SETTINGS}

    env = read["MICROCRED_ENV"]
    if env not in {"development", "production"}:
        raise ConfigurationError(
            f"MICROCRED_ENV must be 'development' or 'production', not {env!r}."
        )
    instance_path = Path(read["MICROCRED_INSTANCE_PATH"]).resolve()
    secret_key = read["MICROCRED_SECRET_KEY"]
    if not secret_key:
        if env == "production":
            raise ConfigurationError(
                "MICROCRED_SECRET_KEY is not set. Production needs a long random secret, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        secret_key = _development_secret(instance_path)
    elif env == "production" and len(secret_key) < 32:
        raise ConfigurationError("MICROCRED_SECRET_KEY must be at least 32 characters long.")

    database_url = read["MICROCRED_DATABASE_URL"] or f"sqlite:///{instance_path}/microcred.sqlite"
    if not 1 <= read["MICROCRED_DATABASE_POOL_SIZE"] <= 500:
        raise ConfigurationError("MICROCRED_DATABASE_POOL_SIZE must be between 1 and 500.")
    base_url = str(read["MICROCRED_BASE_URL"]).rstrip("/")
    _check_base_url(base_url, env, read["MICROCRED_ALLOW_HTTP"])
    devlms_enabled = read["MICROCRED_DEVLMS_ENABLED"]
    if devlms_enabled is None:
        devlms_enabled = env != "production"
    level = str(read["MICROCRED_LOG_LEVEL"]).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigurationError(
            f"MICROCRED_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}."
        )
    log_format = str(read["MICROCRED_LOG_FORMAT"]).lower()
    if log_format not in {"json", "text"}:
        raise ConfigurationError(
            f"MICROCRED_LOG_FORMAT must be 'json' or 'text', not {log_format!r}."
        )
    state_store = str(read["MICROCRED_STATE_STORE"]).lower()
    if state_store not in {"database", "redis"}:
        raise ConfigurationError(
            f"MICROCRED_STATE_STORE must be 'database' or 'redis', not {state_store!r}."
        )
    if state_store == "redis" and not read["MICROCRED_REDIS_URL"]:
        raise ConfigurationError(
            "MICROCRED_STATE_STORE is 'redis' but MICROCRED_REDIS_URL is not set "
            "(e.g. redis://127.0.0.1:6379/0)."
        )
    evidence_store = str(read["MICROCRED_EVIDENCE_STORE"]).lower()
    _check_evidence_settings(evidence_store, read)
    _check_worker_settings(read)
    evidence_path = Path(read["MICROCRED_EVIDENCE_PATH"] or instance_path / "evidence").resolve()
    return Settings(
        env=env,
        secret_key=secret_key,
        instance_path=instance_path,
        database_url=database_url,
        database_pool_size=read["MICROCRED_DATABASE_POOL_SIZE"],
        base_url=base_url,
        devlms_enabled=devlms_enabled,
        devlms_url=str(read["MICROCRED_DEVLMS_URL"]).rstrip("/"),
        devlms_account_url=_optional_url(read["MICROCRED_DEVLMS_ACCOUNT_URL"]),
        devlms_sso_url=_optional_url(read["MICROCRED_DEVLMS_SSO_URL"]),
        state_store=state_store,
        redis_url=read["MICROCRED_REDIS_URL"],
        log_level=level,
        log_format=log_format,
        http_timeout=read["MICROCRED_HTTP_TIMEOUT"],
        platform_jwks_cache_seconds=read["MICROCRED_PLATFORM_JWKS_CACHE_SECONDS"],
        extra=extra,
        evidence_store=evidence_store,
        evidence_path=evidence_path,
        s3_endpoint_url=read["MICROCRED_S3_ENDPOINT_URL"],
        s3_bucket=read["MICROCRED_S3_BUCKET"],
        s3_region=str(read["MICROCRED_S3_REGION"]),
        s3_access_key_id=read["MICROCRED_S3_ACCESS_KEY_ID"],
        s3_secret_access_key=read["MICROCRED_S3_SECRET_ACCESS_KEY"],
        upload_max_bytes=read["MICROCRED_UPLOAD_MAX_BYTES"],
        embedded_worker=(
            env != "production"
            if read["MICROCRED_EMBEDDED_WORKER"] is None
            else read["MICROCRED_EMBEDDED_WORKER"]
        ),
        worker_threads=read["MICROCRED_WORKER_THREADS"],
        worker_lease_seconds=read["MICROCRED_WORKER_LEASE_SECONDS"],
        worker_retry_seconds=read["MICROCRED_WORKER_RETRY_SECONDS"],
        worker_max_tries=read["MICROCRED_WORKER_MAX_TRIES"],
    )


def _check_base_url(base_url: str, env: str, allow_http: bool) -> None:
    """Refuse a base URL that is not http(s), and an http one in production unless a lab
    says so."""
    if not base_url.startswith(("https://", "http://")):
        raise ConfigurationError(
            f"MICROCRED_BASE_URL must be an https:// (or http://) origin, not {base_url!r}."
        )
    if env == "production" and base_url.startswith("http://") and not allow_http:
        raise ConfigurationError(
            f"MICROCRED_BASE_URL must start with https:// in production, not {base_url!r}: over "
            "http the tool's cookies are not Secure and launches cross the network in clear. "
            "For a lab on a private network only, set MICROCRED_ALLOW_HTTP=true."
        )


def _check_worker_settings(read: Mapping[str, Any]) -> None:
    """Refuse worker settings that would stall or spin the worker."""
    if not 1 <= read["MICROCRED_WORKER_THREADS"] <= 256:
        raise ConfigurationError("MICROCRED_WORKER_THREADS must be between 1 and 256.")
    if read["MICROCRED_WORKER_LEASE_SECONDS"] < 1:
        raise ConfigurationError("MICROCRED_WORKER_LEASE_SECONDS must be at least 1 second.")
    if read["MICROCRED_WORKER_RETRY_SECONDS"] <= 0:
        raise ConfigurationError("MICROCRED_WORKER_RETRY_SECONDS must be more than 0.")
    if read["MICROCRED_WORKER_MAX_TRIES"] < 1:
        raise ConfigurationError("MICROCRED_WORKER_MAX_TRIES must be at least 1.")


def _check_evidence_settings(store: str, read: Mapping[str, Any]) -> None:
    """Refuse evidence-storage settings that could only fail later, at an educator's upload."""
    if store not in {"local", "s3"}:
        raise ConfigurationError(
            f"MICROCRED_EVIDENCE_STORE must be 'local' or 's3', not {store!r}."
        )
    if read["MICROCRED_UPLOAD_MAX_BYTES"] < 1:
        raise ConfigurationError(
            "MICROCRED_UPLOAD_MAX_BYTES must be a positive number of bytes, e.g. 1073741824 "
            "for 1 GiB."
        )
    if store != "s3":
        return
    if not read["MICROCRED_S3_BUCKET"]:
        raise ConfigurationError(
            "MICROCRED_EVIDENCE_STORE is 's3' but MICROCRED_S3_BUCKET is not set."
        )
    endpoint = read["MICROCRED_S3_ENDPOINT_URL"]
    if endpoint and not str(endpoint).startswith(("http://", "https://")):
        raise ConfigurationError(
            f"MICROCRED_S3_ENDPOINT_URL must start with http:// or https://, not {endpoint!r}."
        )
    if bool(read["MICROCRED_S3_ACCESS_KEY_ID"]) != bool(read["MICROCRED_S3_SECRET_ACCESS_KEY"]):
        raise ConfigurationError(
            "Set both MICROCRED_S3_ACCESS_KEY_ID and MICROCRED_S3_SECRET_ACCESS_KEY, or neither "
            "(boto3 then finds credentials in its usual places)."
        )


def setting_names() -> list[str]:
    """Return every environment variable the app reads."""
    return [s.env for s in SETTINGS]


__all__ = [
    "SETTINGS",
    "ConfigurationError",
    "Settings",
    "load_settings",
    "setting_names",
]
