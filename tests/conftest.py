"""Shared fixtures: a real database (SQLite by default, PostgreSQL when
``MICROCRED_TEST_DATABASE=postgresql``), schema made by the Alembic migrations, every table
emptied after each test, and apps built from a fresh settings mapping per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import pytest
from argon2 import PasswordHasher
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, exists, literal, select, text, union_all
from sqlalchemy.exc import DBAPIError

from tests.support.live import LiveServers, live_servers
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.redis import RedisServer, start_redis
from tests.support.s3 import S3Server, start_s3
from tests.support.snapshot import seeded
from tests.support.tls import TlsFiles, make_test_tls
from tests.support.validators import require_validators

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-0123456789"


CHEAP_HASHING = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""Argon2id at its cheapest: the suite signs in hundreds of times, and production parameters
cost 0.4 to 1 s each here. ``tests/admin/test_passwords.py`` checks the production ones."""


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    from app.admin import passwords

    with passwords.hashing_with(CHEAP_HASHING):
        yield


class _KeyPool:
    """RSA keys made once per test process and handed out in turn: a fresh tool and LMS per
    test would otherwise make two new 2048-bit keys each. Two keys drawn one after the other
    always differ (a rotation test needs a new key unlike the old)."""

    SIZE = 16

    def __init__(self) -> None:
        self.keys: list[Any] = []
        self.drawn = 0

    def __call__(self) -> Any:
        from app.keygen import _generate

        if len(self.keys) < self.SIZE:
            self.keys.append(_generate())
            return self.keys[-1]
        self.drawn += 1
        return self.keys[self.drawn % self.SIZE]


@pytest.fixture(scope="session", autouse=True)
def reused_rsa_keys() -> Iterator[None]:
    from app import keygen

    with keygen.generating_from(_KeyPool()):
        yield


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept for the whole test process: each test's new app has a new Jinja
    environment, which would compile every template it renders again. Keyed by template name
    and source checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # dropped again if the checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def shared_compiled_templates() -> Iterator[None]:
    from flask import Flask

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": _SharedBytecode()}
        )
        yield


def _memoised_url_builders() -> Callable[..., Any]:
    """Werkzeug compiles a Python function per route (two, with and without extra arguments)
    each time an app registers its routes: ~55 ms of every ~65 ms ``create_app``. The function's
    code depends only on the rule's parsed parts and defaults (it looks the converters up on the
    rule it is bound to when it runs), so one compiled function serves every app's equal rule."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    compiled: dict[tuple[Any, ...], Any] = {}

    def memoised(self: Rule, append_unknown: bool = True) -> Any:
        defaults = sorted((self.defaults or {}).items(), key=lambda item: item[0])
        key = (self.rule, tuple(self._trace), repr(defaults), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    return memoised


@pytest.fixture(scope="session", autouse=True)
def shared_url_builders() -> Iterator[None]:
    from werkzeug.routing.rules import Rule

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", _memoised_url_builders())
        yield


def _sharing_compiled_sql(make_engine: Callable[..., Any]) -> Callable[..., Any]:
    """SQLAlchemy keeps compiled SQL per engine, keyed by the engine's dialect object: every
    test's two new apps (tool and development LMS) compiled each statement again, ~10% of the
    suite's CPU. Engines of one backend in a test process share the first one's dialect (an
    equal one: same backend, same options, same server) and its compiled cache; each engine
    keeps its own pool and connections."""
    shared: dict[tuple[str, str], tuple[Any, Any]] = {}

    def make(url: str, pool_size: int = 10) -> Any:
        engine = make_engine(url, pool_size)
        key = (engine.dialect.name, engine.dialect.driver)
        if key not in shared:
            try:
                with engine.connect():  # the dialect learns the server's version and features
                    pass
            except DBAPIError:  # a database a test means to be unreachable: nothing to share
                return engine
            shared[key] = (engine.dialect, engine._compiled_cache)
        else:
            engine.dialect, engine._compiled_cache = shared[key]
        return engine

    return make


@pytest.fixture(scope="session", autouse=True)
def shared_compiled_sql() -> Iterator[None]:
    import app.db

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.db, "make_engine", _sharing_compiled_sql(app.db.make_engine))
        yield


_free_pools: dict[tuple[str, int], list[Any]] = {}
"""Connection pools of the session's PostgreSQL test database whose engines were disposed,
ready for the next test's engines, by URL and size."""
_shared_urls: set[str] = set()
_pool_keys: WeakKeyDictionary[Any, tuple[str, int]] = WeakKeyDictionary()


def _reusing_pools(make_engine: Callable[..., Any]) -> Callable[..., Any]:
    """A new PostgreSQL connection costs the server ~5 ms of CPU to start and more to warm its
    caches, and each test's apps opened several. An engine of the session's test database takes
    the pool (and idle connections) of an engine an earlier test disposed, if there is one:
    each live engine still has a pool of its own, as each process has, and its own events."""

    def make(url: str, pool_size: int = 10) -> Any:
        engine = make_engine(url, pool_size)
        if url in _shared_urls:
            key = (url, pool_size)
            if _free_pools.get(key):
                engine.pool = _free_pools[key].pop()
            _pool_keys[engine] = key
        return engine

    return make


def _dispose_keeping_pools(dispose: Callable[..., Any]) -> Callable[..., Any]:
    def keep(self: Any) -> None:
        key = _pool_keys.get(self.engine)
        if key is None:
            dispose(self)
            return
        self.session.remove()
        pool = self.engine.pool
        self.engine.dispose(close=False)  # the engine lets go of its pool without closing it
        if pool.checkedout():  # a connection still out: never handed to another test
            pool.dispose()
        else:
            _free_pools.setdefault(key, []).append(pool)

    return keep


@pytest.fixture(scope="session", autouse=True)
def reused_pools() -> Iterator[None]:
    import app.db

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.db, "make_engine", _reusing_pools(app.db.make_engine))
        patch.setattr(app.db.Database, "dispose", _dispose_keeping_pools(app.db.Database.dispose))
        yield
    for pools in _free_pools.values():
        for pool in pools:
            pool.dispose()


def backend() -> str:
    return os.environ.get("MICROCRED_TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis server of this test's own, which the test may kill and restart."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """A Redis database emptied after the test."""
    import redis

    yield redis_server.url
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    from app import migrate

    if backend() == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database("microcred_test")
        _shared_urls.add(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    migrate.upgrade(url)
    return url


_reset_engines: dict[str, Any] = {}


def _engine_for(database_url: str) -> Any:
    """One engine per test database for the resets: its compiled statements are kept."""
    if database_url not in _reset_engines:
        _reset_engines[database_url] = create_engine(database_url, pool_size=1, pool_pre_ping=True)
    return _reset_engines[database_url]


@pytest.fixture(scope="session", autouse=True)
def reset_engines_closed() -> Iterator[None]:
    yield
    for engine in _reset_engines.values():
        engine.dispose()


def empty_database(database_url: str) -> None:
    """Delete every row of every table (the schema stays) and start every id from 1 again.

    On PostgreSQL only the tables that hold rows are emptied, with ``DELETE``: a ``TRUNCATE`` of
    every table gives each table and index a new file, ~130 ms of the server's CPU after every
    test, where most tests touched a few small tables. Sequences a test used (a rolled-back
    insert uses one too) start again at 1, as ``TRUNCATE ... RESTART IDENTITY`` did."""
    from app.models import metadata

    engine = _engine_for(database_url)
    tables = list(reversed(metadata.sorted_tables))  # a row before the rows it refers to
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            probe = union_all(
                *(select(literal(i)).where(exists().select_from(t)) for i, t in enumerate(tables))
            )
            for i in sorted(conn.scalars(probe)):
                conn.execute(tables[i].delete())
            conn.execute(RESTART_USED_SEQUENCES)
        else:
            for table in tables:
                conn.execute(table.delete())


RESTART_USED_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
    "FROM pg_sequences WHERE last_value IS NOT NULL"
)


@pytest.fixture
def clean_database(database_url: str) -> Iterator[str]:
    yield database_url
    empty_database(database_url)


def settings_for(database_url: str, instance_path: Path) -> dict[str, Any]:
    """The settings of a test's apps (a fresh mapping each time)."""
    return {
        "MICROCRED_ENV": "development",
        "MICROCRED_SECRET_KEY": TEST_SECRET,
        "MICROCRED_DATABASE_URL": database_url,
        "MICROCRED_INSTANCE_PATH": str(instance_path),
        "MICROCRED_BASE_URL": "http://127.0.0.1:5000",
        "MICROCRED_DEVLMS_URL": "http://127.0.0.1:5001",
        "MICROCRED_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def settings_override(clean_database: str, tmp_path: Path) -> dict[str, Any]:
    return settings_for(clean_database, tmp_path / "instance")


@pytest.fixture
def app(settings_override: dict[str, Any]) -> Iterator[Any]:
    from app import create_app

    application = create_app(settings_override)
    yield application
    application.extensions["db"].dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def seeded_live(
    overrides: dict[str, Any],
    lms_host: str = "127.0.0.1",
    tls: TlsFiles | None = None,
    instances: int = 1,
) -> Iterator[LiveServers]:
    """The tool and the development LMS on loopback, with the demo seeded (``live``)."""
    from app.db import get_db

    with live_servers(overrides, lms_host, tls, instances) as servers:
        settings = servers.tool.config["MICROCRED_SETTINGS"]
        origins = {"tool": settings.base_url, "lms": settings.devlms_url}
        database = get_db(servers.tool)
        with database.engine.connect() as connection:

            def seed() -> None:
                from app.devlms.seed import seed_demo

                # seed_demo commits: here, a savepoint of the connection's transaction
                with database.session_factory(
                    bind=connection, join_transaction_mode="create_savepoint"
                ) as session:
                    seed_demo(session, settings)

            seeded(connection, "demo", origins, seed)
            connection.commit()
        yield servers


@pytest.fixture
def live(settings_override: dict[str, Any]) -> Iterator[LiveServers]:
    """The tool and the development LMS on loopback, with the demo seeded."""
    yield from seeded_live(settings_override)


@pytest.fixture
def live_cross_site(settings_override: dict[str, Any]) -> Iterator[LiveServers]:
    """As ``live``, with the LMS on ``localhost`` and the tool on ``127.0.0.1``: the tool in the
    LMS's iframe is on another site, so the browser treats its cookies as third-party."""
    yield from seeded_live(settings_override, lms_host="localhost")


@pytest.fixture(scope="session")
def test_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost (PEM files)."""
    return make_test_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def live_https(
    settings_override: dict[str, Any], test_tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveServers]:
    """As ``live``, over HTTPS: ``MICROCRED_BASE_URL`` is ``https://127.0.0.1:PORT`` and
    ``live_https.ca_cert`` is the test CA (``NODE_EXTRA_CA_CERTS`` for a validator resolving
    did:web). For the test, ``REQUESTS_CA_BUNDLE`` adds the CA to what this process trusts:
    the tool and the development LMS call each other with ``requests``, which verify
    certificates against it, as do the tests' own clients."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(test_tls.bundle))
    yield from seeded_live(settings_override, tls=test_tls)


@pytest.fixture
def validators() -> Path:
    """The Open Badges validators' install folder; skips the test when they are not installed,
    unless ``MICROCRED_REQUIRE_VALIDATORS`` is set (``make test``), when it fails instead."""
    return require_validators()


@pytest.fixture
def live_redis(settings_override: dict[str, Any], redis_url: str) -> Iterator[LiveServers]:
    """As ``live``, with the tool's LTI state in Redis (the scaled shape)."""
    yield from seeded_live(
        {**settings_override, "MICROCRED_STATE_STORE": "redis", "MICROCRED_REDIS_URL": redis_url}
    )


@pytest.fixture
def live_own_redis(
    settings_override: dict[str, Any], own_redis: RedisServer
) -> Iterator[LiveServers]:
    """As ``live_redis``, on the test's ``own_redis``, which it may kill and restart."""
    yield from seeded_live({**settings_override, **own_redis.settings()})


@pytest.fixture
def live_pair(
    settings_override: dict[str, Any], redis_url: str, s3_server: S3Server
) -> Iterator[LiveServers]:
    """The scaled shape in this process: two instances of the tool taking turns on its address
    (``live_pair.balancer`` records which served each request), state in Redis, evidence in
    an S3 bucket, the development LMS."""
    overrides = {
        **settings_override,
        "MICROCRED_STATE_STORE": "redis",
        "MICROCRED_REDIS_URL": redis_url,
        **s3_server.settings(s3_server.new_bucket()),
    }
    yield from seeded_live(overrides, instances=2)
