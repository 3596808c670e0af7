"""A web process forked from `paperroute serve` must leave the worker to the server."""

import os
import time

import pytest

from paperroute.worker import ChildWorker


@pytest.mark.skipif(not hasattr(os, "fork"), reason="gunicorn forks its web processes")
def test_a_forked_web_process_leaves_the_worker_to_the_server(cli_env, monkeypatch):
    """gunicorn's web processes are forks of the server, and one that exits unwinds the
    server's stack, `finally: stop()` included: each web process used to stop the worker, and
    waited on locks the server's threads held at fork time until gunicorn killed it, 10 s after
    every stop."""
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    child = ChildWorker()
    child.start()
    try:
        deadline = time.monotonic() + 30
        while child.process is None:
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.05)
        worker = child.process
        pid = os.fork()
        if pid == 0:  # a web process: what serve()'s finally block does there
            try:
                child.stop()
            finally:
                os._exit(0)
        deadline = time.monotonic() + 20
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("stop() in a forked process hung")
            time.sleep(0.05)
        assert worker.poll() is None, "a forked web process stopped the server's worker"
    finally:
        child.stop()
    assert child.process.poll() is not None, "the server did not stop its worker"


def test_a_child_whose_status_was_taken_is_restarted_without_an_error(caplog):
    """gunicorn's arbiter reaps every child of the server; when it takes the query service's
    status first, the supervisor reads 0. That came with a stop of the whole unit, and was
    logged as an error ("exited with status 0")."""
    import logging
    import sys

    from paperroute.worker import ChildProcess

    child = ChildProcess([sys.executable, "-c", "pass"])
    child.restart_seconds = 0.05
    with caplog.at_level(logging.INFO, logger="paperroute.worker"):
        child.start()
        deadline = time.monotonic() + 30
        while sum("was stopped; restarting" in r.getMessage() for r in caplog.records) < 2:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.05)
        child.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
