"""People using the cluster while a part of it fails: the pages' scripts, over HTTP.

Each client does what a browser and the page's script do, and nothing kinder: a launch through
the development LMS (``LmsUser``), the workspace's autosave as ``workspace.js`` sends and
retries it, a chunked upload as ``upload.js`` sends, resumes and completes it, and reading a
page. Every request's outcome goes into a ``Journal`` for the test to judge.

A browser resends a request once when the connection it *reused* closed before any answer
(Chromium's ``HttpNetworkTransaction::ShouldResendRequest``; RFC 9112 §9.3.1 allows it), and
HAProxy relies on that: when an instance dies under a request that was not the first on its
client's kept-alive connection, HAProxy closes that connection without an answer instead of
sending a 502. ``browser_session`` does the same, once; everything else a failure must be
handled by the script's own retry, or it is counted.

Clients pace themselves (``PACE``: a person types, a script waits before retrying) with
``stop.wait``, which returns at once when the test ends the load; nothing here waits for a
condition by sleeping.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from app.evidence.storage import CHUNK_SIZE
from tests.evidence.support import Session as Educator
from tests.support.live import LiveServers
from tests.support.lms import LmsUser

PACE = 0.05
"""Seconds between a person's steps (a word typed, the next launch)."""
RETRY_PAUSE = 0.2
"""Seconds a script waits before trying again (the pages wait 1 to 30 s, growing)."""
RELAUNCH = "open the activity again"
"""What a launch that failed says to do (any case): the tool's refusals and HAProxy's error
pages (``deploy/cluster/errors/``)."""


def backoff() -> None:
    """A script's pause before it tries again (``upload.js``'s ``wait(delay)``): not a wait
    for anything."""
    threading.Event().wait(RETRY_PAUSE)


def browser_session(http: requests.Session, base: str) -> requests.Session:
    """Make ``http`` resend once a request to ``base`` whose connection closed without an
    answer, as a browser does on a reused connection (nothing else: no status is retried)."""
    retry = Retry(
        total=1, connect=0, read=1, status=0, other=0, allowed_methods=None, raise_on_status=False
    )
    http.mount(base, HTTPAdapter(max_retries=retry))
    return http


@dataclass(frozen=True)
class Outcome:
    client: str
    what: str
    status: int
    """The HTTP status; 0 when no answer came (after the browser's one resend)."""
    text: str
    at: float = field(default_factory=time.monotonic)


class Journal:
    """Every request the clients made, and what came back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []

    def add(self, client: str, what: str, status: int, text: str = "") -> None:
        with self._lock:
            self.outcomes.append(Outcome(client, what, status, text[:20000]))

    def of(self, client: str, *, since: float = 0.0) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.client == client and o.at >= since]

    def failed(self, *, since: float = 0.0) -> list[Outcome]:
        """Every answer that was not a success (2xx) since ``since``."""
        with self._lock:
            return [o for o in self.outcomes if o.at >= since and not 200 <= o.status < 300]


def _answer(call: Callable[[], requests.Response]) -> tuple[int, str, Any]:
    """``(status, text, json or None)`` of a request; status 0 when no answer came."""
    try:
        response = call()
    except requests.ConnectionError as error:
        return 0, repr(error), None
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, response.text, body


class Client(threading.Thread):
    """One person's loop in a thread of its own, until ``stop`` is set."""

    def __init__(self, name: str, journal: Journal, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.journal = journal
        self.stop = stop
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except BaseException as error:  # a bug of the client: the test must see it
            self.errors.append(error)
            raise

    def step(self) -> None:
        raise NotImplementedError


class Launcher(Client):
    """Opens an activity from the course again and again, as one of ``emails``; a launch that
    fails must say what to do, and the person's next launch, at once, must work."""

    def __init__(
        self,
        live: LiveServers,
        emails: list[str],
        journal: Journal,
        stop: threading.Event,
        *,
        name: str = "launcher",
        link: str = "Microcred: welcome",
        resend: bool = True,
    ) -> None:
        super().__init__(name, journal, stop)
        self.live, self.emails, self.link, self.resend = live, emails, link, resend
        self.turn = 0
        self.pages: list[str] = []
        """The address of every page a launch opened (its session token in it)."""

    def launch(self, email: str) -> int:
        user = LmsUser(self.live, email)
        if self.resend:
            browser_session(user.http, self.live.tool_url)
        try:
            page = user.launch(self.link)
        except requests.ConnectionError as error:
            self.journal.add(self.name, "launch", 0, repr(error))
            return 0
        if page.status_code == 200 and "Welcome," in page.text:
            self.pages.append(page.url)
            self.journal.add(self.name, "launch", 200)
            return 200
        self.journal.add(self.name, "launch", page.status_code, page.text)
        return page.status_code

    def step(self) -> None:
        email = self.emails[self.turn % len(self.emails)]
        self.turn += 1
        if self.launch(email) != 200:
            self.launch(email)  # the person opens the activity again, as the page says
        self.stop.wait(PACE)


class Typist(Client):
    """Types a word at a time into a workspace answer and autosaves each as ``workspace.js``
    does: the version it has, retried while there is no answer or a 5xx, and a 409 that names
    one of its own unanswered texts taken as its save."""

    def __init__(
        self,
        educator: Educator,
        attempt: int,
        part: str,
        journal: Journal,
        stop: threading.Event,
        *,
        page: str,
        name: str = "typist",
    ) -> None:
        super().__init__(name, journal, stop)
        self.educator, self.path = educator, f"/work/attempts/{attempt}/answers/{part}"
        # What the workspace page shows, as the script starts from it: the stored text and
        # its version (an attempt of an earlier scenario's may have some).
        found = re.search(
            rf'data-part="{part}".*?name="version" value="(\d*)".*?'
            rf'<textarea id="text-{part}"[^>]*>(.*?)</textarea>',
            page,
            re.S,
        )
        assert found, f"no answer form for {part} on the page"
        self.version, self.text = int(found.group(1) or 0), unescape(found.group(2))
        self.saved = self.text
        self.unanswered: list[str] = []
        self.words = 0
        self.saves = 0
        """Saves that were answered 200 (or found stored)."""

    def save(self) -> int:
        text = self.text
        status, answer, body = _answer(
            lambda: self.educator.put_json(self.path, {"text": text, "version": self.version})
        )
        if status == 200:
            self.version, self.saved, self.unanswered = body["version"], text, []
        elif (
            status == 409
            and isinstance(body, dict)
            and body.get("server_version") == self.version + 1
            and body.get("server_text") in self.unanswered
        ):
            # Its own save, stored though its answer was lost: carry on from it.
            self.version, self.saved = body["server_version"], body["server_text"]
            self.unanswered = []
            status = 200
        elif status == 0 or status >= 500:
            self.unanswered.append(text)
        self.saves += status == 200
        self.journal.add(self.name, "autosave", status, "" if status == 200 else answer)
        return status

    def step(self) -> None:
        self.words += 1
        self.text = f"{self.text} w{self.words}".strip()
        status = self.save()
        if 400 <= status < 500:
            raise AssertionError(f"the autosave was refused: {self.journal.of(self.name)[-1]}")
        self.stop.wait(PACE if status == 200 else RETRY_PAUSE)

    def flush(self, deadline: float) -> None:
        """Save until what is typed is saved (the page keeps retrying while it is open)."""
        while self.saved != self.text:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the draft was never saved: {self.journal.of(self.name)[-3:]}"
                )
            if self.save() != 200:
                backoff()


@dataclass
class Upload:
    content: bytes
    file_id: int | None = None
    received: int = 0
    complete: dict[str, Any] | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class Uploader(Client):
    """Uploads files (of two chunks, unless ``size`` says otherwise), one after another, as
    ``upload.js`` does: announce, send each chunk from the offset the server has (asking it
    after a failure), complete (again after a failure). Each chunk is sent at
    ``bytes_per_second``, a school's connection, so that a chunk is in flight long enough to
    be seen: ``chunk_port`` is the client's port of the connection carrying it, which
    HAProxy's ``show sess`` names with the instance it went to."""

    def __init__(
        self,
        educator: Educator,
        attempt: int,
        part: str,
        journal: Journal,
        stop: threading.Event,
        *,
        name: str = "uploader",
        bytes_per_second: int = 16 * 1024 * 1024,
        size: int = CHUNK_SIZE + 4096,
    ) -> None:
        super().__init__(name, journal, stop)
        self.educator, self.size = educator, size
        self.start_url = f"/api/evidence/attempts/{attempt}/parts/{part}/files"
        self.rate = bytes_per_second
        self.uploads: list[Upload] = []
        self.chunk_port: int | None = None
        self.chunks_sent = 0

    @property
    def done(self) -> list[Upload]:
        return [u for u in self.uploads if u.complete is not None]

    def _api(self, method: str, path: str, **kwargs: Any) -> tuple[int, str, Any]:
        http = self.educator.user.http
        headers = {"Authorization": f"Bearer {self.educator.token}", "Accept": "application/json"}
        return _answer(
            lambda: http.request(
                method, self.educator.base + path, headers=headers, timeout=60, **kwargs
            )
        )

    def _chunk(self, upload: Upload, offset: int) -> tuple[int, str, Any]:
        """PUT the chunk at ``offset`` on a connection of its own, at the client's pace."""
        address = urlsplit(self.educator.base)
        data = upload.content[offset : offset + CHUNK_SIZE]
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            connection.connect()
            assert connection.sock is not None
            self.chunk_port = connection.sock.getsockname()[1]
            connection.putrequest(
                "PUT", f"/api/evidence/files/{upload.file_id}/content?offset={offset}"
            )
            for name, value in (
                ("Authorization", f"Bearer {self.educator.token}"),
                ("Accept", "application/json"),
                ("Content-Type", "application/octet-stream"),
                ("Content-Length", str(len(data))),
            ):
                connection.putheader(name, value)
            connection.endheaders()
            piece = max(1, self.rate // 20)
            for start in range(0, len(data), piece):
                connection.send(data[start : start + piece])
                self.stop.wait(0.05)  # the connection's pace (at once when the test ends)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            return 0, repr(error), None
        finally:
            self.chunk_port = None
            connection.close()
        self.chunks_sent += 1
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        return response.status, text, body

    def step(self) -> None:
        upload = Upload(b"%PDF-1.7\n" + os.urandom(self.size - 9))
        self.uploads.append(upload)
        status, text, body = self._api(
            "POST", self.start_url, json={"name": "lesson.pdf", "size": len(upload.content)}
        )
        self.journal.add(self.name, "start", status, "" if status == 201 else text)
        if status != 201:
            # "The upload could not start": the person presses Upload again.
            self.stop.wait(RETRY_PAUSE)
            return
        upload.file_id = body["id"]
        while upload.received < len(upload.content):
            status, text, body = self._chunk(upload, upload.received)
            self.journal.add(self.name, "chunk", status, "" if status == 200 else text)
            if status == 200 or (status == 409 and isinstance(body, dict) and "received" in body):
                # (409: the server has another offset, e.g. the chunk it stored before it died)
                upload.received = body["received"]
            elif status == 0 or status >= 500:
                backoff()
                status, text, body = self._api("GET", f"/api/evidence/files/{upload.file_id}")
                self.journal.add(self.name, "status", status, "" if status == 200 else text)
                if status == 200:
                    upload.received = body["received"]
            else:
                raise AssertionError(f"a chunk was refused: {status} {text[:300]}")
        path = f"/api/evidence/files/{upload.file_id}/complete"
        while True:
            status, text, body = self._api("POST", path)
            self.journal.add(self.name, "complete", status, "" if status == 200 else text)
            if status == 200:
                upload.complete = body
                return
            if status != 0 and status < 500:
                raise AssertionError(f"the completion was refused: {status} {text[:300]}")
            backoff()


class Reader(Client):
    """Opens a page of an open session again and again (a person clicking about)."""

    def __init__(
        self, http: requests.Session, url: str, journal: Journal, stop: threading.Event
    ) -> None:
        super().__init__("reader", journal, stop)
        self.http, self.url = http, url

    def step(self) -> None:
        status, text, _ = _answer(lambda: self.http.get(self.url, timeout=30))
        self.journal.add(self.name, "page", status, "" if status == 200 else text)
        self.stop.wait(PACE if status == 200 else RETRY_PAUSE)


def token_of(url: str) -> str:
    found = re.search(r"[?&]lt=([^&#]+)", url)
    assert found, url
    return found.group(1)
