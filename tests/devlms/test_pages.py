"""The development LMS's own pages and errors."""

from __future__ import annotations

import requests


def test_unknown_page_is_a_404_page_not_a_500(live):
    response = requests.get(f"{live.devlms_url}/no-such-page", timeout=30)
    assert response.status_code == 404
    assert "Development LMS" in response.text


def test_unknown_course_is_a_404(live):
    http = requests.Session()
    http.post(f"{live.devlms_url}/act-as", data={"user_id": 1}, timeout=30)
    assert http.get(f"{live.devlms_url}/courses/999", timeout=30).status_code == 404


def test_course_page_needs_a_user_first(live):
    response = requests.get(f"{live.devlms_url}/courses/1", timeout=30)
    assert response.status_code == 403
    assert "Choose a user first" in response.text


def test_act_as_an_unknown_user_is_a_400(live):
    response = requests.post(f"{live.devlms_url}/act-as", data={"user_id": 999}, timeout=30)
    assert response.status_code == 400


def test_tool_stylesheet_is_served(live):
    response = requests.get(f"{live.tool_url}/static/microcred.css", timeout=30)
    assert response.status_code == 200
    assert "text/css" in response.headers["Content-Type"]
