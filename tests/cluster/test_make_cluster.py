"""``make cluster`` (issue 29): the scaled shape on one machine, from Debian and PyPI packages —
HAProxy in front of two gunicorn instances checked on readiness, PostgreSQL, Redis, two
``flask worker`` processes, moto's S3 server and the development LMS, all on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.cluster.conftest import RunningCluster, launcher
from tests.support.lms import LmsUser, field

pytestmark = pytest.mark.cluster


def test_make_cluster_prints_where_to_open_it(cluster: RunningCluster):
    assert f"Open http://127.0.0.1:{cluster.ports.devlms}/" in cluster.output
    assert f"http://127.0.0.1:{cluster.ports.haproxy}/admin/" in cluster.output


def test_haproxy_sends_traffic_to_both_instances_once_ready(cluster: RunningCluster):
    assert launcher().backend_states(cluster.stats_url) == {"app1": "UP", "app2": "UP"}
    report = requests.get(f"{cluster.live.tool_url}/healthz/ready", timeout=10).json()
    assert {name: check["kind"] for name, check in report["checks"].items()} == {
        "database": "postgresql",
        "state_store": "redis",
        "evidence_store": "s3",
    }


def test_a_launch_through_haproxy_opens_a_session_every_instance_serves(cluster: RunningCluster):
    page = LmsUser(cluster.live, "priya.natarajan@example.edu").launch()
    assert page.status_code == 200, page.text
    token = parse_qs(urlsplit(page.url).query)["lt"][0]
    for number in (1, 2):
        again = requests.get(
            f"{cluster.instance_url(number)}/home", params={"lt": token}, timeout=10
        )
        assert again.status_code == 200, again.text
        assert field(again.text, "name") == "Priya Natarajan"
