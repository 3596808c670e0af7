"""Logging helpers shared by every process."""

from __future__ import annotations

import logging


class NoTraceback(logging.Filter):
    """Log the message alone: for expected refusals, whose traceback says nothing new."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
