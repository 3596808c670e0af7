"""Whose claims a sender may release early: only those of a dead process on this very machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from paperroute.digest import outbox


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_dead_process_of_this_machine_is_dead():
    assert not outbox.alive(f"{outbox.HOST}:{_dead_pid()}:abcd1234")
    assert outbox.alive(outbox.worker_id())
    assert outbox.alive(f"{outbox.HOST}:{os.getppid()}:abcd1234")


def test_a_machine_with_the_same_hostname_is_another_machine():
    """Two containers, or two VMs cloned from one image, may share a hostname: a sender took the
    other's live process for a dead one of its own (its pid was unknown here), released its
    claims, and sent those digests a second time."""
    assert outbox.alive(f"{socket.gethostname()}~0123456789ab:{_dead_pid()}:abcd1234")
    # As an older paperroute names it (the hostname alone): another container's, or this one's
    # before an upgrade; either way its lease decides.
    assert outbox.alive(f"{socket.gethostname()}:{_dead_pid()}:abcd1234")


@pytest.mark.skipif(
    not shutil.which("unshare") or os.geteuid() != 0, reason="needs root and unshare(1) for a PID namespace"
)
def test_a_process_in_another_pid_namespace_names_another_host():
    code = "import django; django.setup(); from paperroute.digest.outbox import _host; print(_host())"
    here = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env()
    )
    there = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    )
    assert here.stdout.strip() == outbox.HOST
    assert there.stdout.strip() != here.stdout.strip()
    assert there.stdout.split("~")[0] == here.stdout.split("~")[0]  # the same hostname


def _env() -> dict[str, str]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {**os.environ, "PYTHONPATH": root}
