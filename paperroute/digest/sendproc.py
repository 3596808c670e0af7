"""The process that sends a run's digests while the process that started it composes the rest.

runs.send starts it with multiprocessing's default start method: fork on Linux (up to Python
3.13), spawn on macOS, forkserver on Linux from Python 3.14. This module imports nothing from
Django at the top, because with spawn and forkserver the new interpreter imports it, and
unpickles the messenger factory, before Django is set up; `main` then sets Django up itself.
The tests run it with each of the three methods.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait

log = logging.getLogger(__name__)


def main(run_id: int, messenger_factory: Callable, answer: Connection) -> None:
    """Send the run until it is composed and nothing due is left; answer with the totals."""
    # SIGTERM (a service manager's, or the composing process's when it is asked to stop) ends
    # this one after the message on hand, which a kill could have left sent but not marked,
    # to go out again. Ctrl-C reaches the composing process too, which then ends this one.
    from paperroute import stopping

    stopping.install()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    from django.apps import apps

    if not apps.ready:  # a fresh interpreter (spawn, forkserver): the parent's settings, from its environment
        import django

        django.setup()
    from django.db import connections

    from paperroute.digest import runs

    try:
        totals = runs.send_until_composed(run_id, messenger_factory)
    except Exception:
        # The composing process carries on, and its passes after composing send what is left.
        log.exception("sending while composing failed")
        return
    finally:
        connections.close_all()
    answer.send(totals)


def _exit_with_parent() -> None:
    """End this process the moment the composing process ends, however it ends (a SIGKILL too).

    Otherwise a sender whose composer was killed would wait for a run nobody composes, holding
    its database connection. multiprocessing gives each child the read end of a pipe whose only
    write end is the parent's: end of file on it means the parent has gone.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        raise RuntimeError("sendproc.main runs in a process started by multiprocessing")
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])
        os._exit(1)  # at once, as a kill would: its claims are released as a dead process's

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
