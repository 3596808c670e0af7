"""The data directory, the SQLite database and the secret key are readable by their owner only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAPERROUTE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "paperroute", *args], cwd=ROOT, env=env, capture_output=True, timeout=120
    )


@pytest.mark.slow
def test_files_are_private_when_created_and_after_an_upgrade(tmp_path):
    data_dir = tmp_path / "data"
    old_umask = os.umask(0o022)  # a usual umask: new files 0644, directories 0755
    try:
        assert run(data_dir, "migrate").returncode == 0
    finally:
        os.umask(old_umask)
    database = data_dir / "paperroute.sqlite3"
    private = [data_dir, database, data_dir / "secret_key"]
    assert [mode(p) for p in private] == ["0o700", "0o600", "0o600"]
    assert all(mode(p) == "0o600" for p in data_dir.glob("paperroute.sqlite3-*"))
    # An installation made by an older version: everything readable by everyone.
    data_dir.chmod(0o755)
    for path in private[1:]:
        path.chmod(0o644)
    result = run(data_dir, "stats")
    assert result.returncode == 0, result.stderr
    assert [mode(p) for p in private] == ["0o700", "0o600", "0o600"]
