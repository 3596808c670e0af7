"""`conf.Config` and `conf.SETTINGS` describe the same settings, with the same types."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from paperroute import conf

ROOT = Path(__file__).resolve().parent.parent


def _fits(value: object, annotation: object) -> bool:
    if typing.get_origin(annotation) is tuple:
        item, ellipsis = typing.get_args(annotation)
        assert ellipsis is Ellipsis
        return isinstance(value, tuple) and all(isinstance(part, item) for part in value)
    assert isinstance(annotation, type)
    return isinstance(value, annotation)


def test_there_is_one_typed_field_per_setting_in_the_same_order():
    fields = typing.get_type_hints(conf.Config)
    assert list(fields) == [setting.name.lower() for setting in conf.SETTINGS]
    for setting in conf.SETTINGS:
        declared = fields[setting.name.lower()]
        # What the parser says it returns, and what it returns for the default, is the field's type.
        assert typing.get_type_hints(setting.parse)["return"] == declared, setting.name
        assert _fits(setting.parse(setting.default), declared), setting.name


def test_the_defaults_parse_into_a_frozen_config():
    config = conf.read({})
    assert config.rate_votes == "120/hour"
    assert config.arxiv_categories == ("cs.AI", "cs.CL", "cs.CV", "cs.LG", "stat.ML")
    assert config.digest_retry_schedule == (60, 300, 1800, 7200, 21600)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.rate_votes = "1/hour"  # type: ignore[misc]


def test_replace_changes_only_what_it_names():
    config = conf.read({"PAPERROUTE_RATE_VOTES": "5/minute"})
    changed = config.replace(rate_votes="2/hour", worker_ingest=("arxiv-rss",))
    assert (changed.rate_votes, changed.worker_ingest) == ("2/hour", ("arxiv-rss",))
    assert config.rate_votes == "5/minute"
    assert changed.site_url == config.site_url
    with pytest.raises(TypeError):
        config.replace(no_such_setting=1)


def test_reading_the_settings_writes_nothing(tmp_path):
    data = tmp_path / "data"
    config = conf.read({"PAPERROUTE_DATA_DIR": str(data)})
    assert conf.data_dir(config) == data
    assert not data.exists()
    conf.prepare(config)
    assert (data / "secret_key").exists() and (data / "paperroute.sqlite3").exists()
    assert conf.secret_key(config) == (data / "secret_key").read_text().strip()


def test_importing_the_django_settings_creates_nothing(tmp_path):
    data = tmp_path / "data"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAPERROUTE_DATA_DIR": str(data)}
    code = "import paperroute.settings as s; print(s.DATA_DIR, repr(s.SECRET_KEY))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
    assert result.stdout.decode().split() == [str(data), "''"]
    assert not data.exists()


@pytest.mark.django_db
def test_postgresql_connections_run_without_its_jit_compiler():
    """PostgreSQL's JIT compiled a listing's query for about a second per page (an author page:
    0.92 s with it, 0.055 s without), so paperroute's connections turn it off."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_a_negative_number_of_query_runs_is_refused():
    with pytest.raises(conf.ConfigError, match="PAPERROUTE_QUERY_RUNS"):
        conf.read({"PAPERROUTE_QUERY_RUNS": "-1"})
    assert conf.read({"PAPERROUTE_QUERY_RUNS": "3"}).query_runs == 3
