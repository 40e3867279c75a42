"""Settings: environment first, documented defaults, fail fast in production."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import PROJECT_ROOT, ConfigurationError, load_settings, setting_names


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="MICROCRED_SECRET_KEY is not set"):
        load_settings(
            {
                "MICROCRED_ENV": "production",
                "MICROCRED_SECRET_KEY": "",
                "MICROCRED_INSTANCE_PATH": str(tmp_path),
            }
        )


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="at least 32"):
        load_settings(
            {
                "MICROCRED_ENV": "production",
                "MICROCRED_SECRET_KEY": "short",
                "MICROCRED_INSTANCE_PATH": str(tmp_path),
            }
        )


def test_development_generates_its_secret_once_into_the_instance_folder(tmp_path):
    first = load_settings({"MICROCRED_SECRET_KEY": "", "MICROCRED_INSTANCE_PATH": str(tmp_path)})
    second = load_settings({"MICROCRED_SECRET_KEY": "", "MICROCRED_INSTANCE_PATH": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    path = Path(tmp_path) / "secret_key"
    assert path.read_text() == first.secret_key
    assert path.stat().st_mode & 0o077 == 0


def test_development_lms_is_off_in_production_by_default(tmp_path):
    settings = load_settings(
        {
            "MICROCRED_ENV": "production",
            "MICROCRED_SECRET_KEY": "x" * 40,
            "MICROCRED_INSTANCE_PATH": str(tmp_path),
            "MICROCRED_BASE_URL": "https://microcred.example.org",
        }
    )
    assert settings.devlms_enabled is False


def _production(tmp_path, **values: str):
    return load_settings(
        {
            "MICROCRED_ENV": "production",
            "MICROCRED_SECRET_KEY": "x" * 40,
            "MICROCRED_INSTANCE_PATH": str(tmp_path),
            **values,
        }
    )


def test_production_refuses_an_http_base_url(tmp_path):
    """Over http the tool's cookies cannot be ``Secure`` (nor its state cookie
    ``SameSite=None``), and every launch and session token crosses the network in clear."""
    with pytest.raises(ConfigurationError, match="MICROCRED_BASE_URL must start with https://"):
        _production(tmp_path, MICROCRED_BASE_URL="http://microcred.example.org")
    with pytest.raises(ConfigurationError, match="MICROCRED_ALLOW_HTTP"):
        _production(tmp_path)  # the default, http://127.0.0.1:5000


def test_production_takes_an_http_base_url_only_when_a_lab_allows_it(tmp_path):
    settings = _production(
        tmp_path, MICROCRED_BASE_URL="http://10.0.0.5:8080", MICROCRED_ALLOW_HTTP="true"
    )
    assert settings.base_url == "http://10.0.0.5:8080"
    assert _production(tmp_path, MICROCRED_BASE_URL="https://microcred.example.org").base_url


def test_development_takes_an_http_base_url(tmp_path):
    settings = load_settings(
        {"MICROCRED_INSTANCE_PATH": str(tmp_path), "MICROCRED_BASE_URL": "http://127.0.0.1:5000"}
    )
    assert settings.base_url == "http://127.0.0.1:5000"


def test_defaults_give_sqlite_in_the_instance_folder(tmp_path):
    settings = load_settings(
        {"MICROCRED_INSTANCE_PATH": str(tmp_path), "MICROCRED_DATABASE_URL": ""}
    )
    assert settings.database_url == f"sqlite:///{tmp_path}/microcred.sqlite"
    assert settings.devlms_enabled is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MICROCRED_ENV", "staging", "MICROCRED_ENV must be"),
        ("MICROCRED_DEVLMS_ENABLED", "perhaps", "MICROCRED_DEVLMS_ENABLED"),
        ("MICROCRED_HTTP_TIMEOUT", "soon", "MICROCRED_HTTP_TIMEOUT"),
        ("MICROCRED_LOG_LEVEL", "LOUD", "MICROCRED_LOG_LEVEL"),
    ],
)
def test_malformed_settings_name_the_variable(tmp_path, name, value, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({name: value, "MICROCRED_INSTANCE_PATH": str(tmp_path)})


def test_environment_is_read_at_load_time_not_import_time(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROCRED_BASE_URL", "https://tool.example.org/")
    settings = load_settings({"MICROCRED_INSTANCE_PATH": str(tmp_path)})
    assert settings.base_url == "https://tool.example.org"


def test_the_configuration_page_documents_every_setting():
    page = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`(MICROCRED_[A-Z0-9_]+)`", page))
    missing = [name for name in setting_names() if name not in documented]
    assert not missing, f"docs/configuration.md does not document: {missing}"


def test_the_log_format_is_json_or_text(tmp_path):
    assert load_settings({"MICROCRED_INSTANCE_PATH": str(tmp_path)}).log_format == "json"
    text = load_settings({"MICROCRED_INSTANCE_PATH": str(tmp_path), "MICROCRED_LOG_FORMAT": "Text"})
    assert text.log_format == "text"
    with pytest.raises(ConfigurationError, match="MICROCRED_LOG_FORMAT must be 'json' or 'text'"):
        load_settings({"MICROCRED_INSTANCE_PATH": str(tmp_path), "MICROCRED_LOG_FORMAT": "xml"})
