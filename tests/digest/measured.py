"""Figures the crash and concurrency tests measure, printed at the end of every pytest run.

A module of its own because pytest may load conftest.py under another name than the tests
import it by, which would give each side its own list.
"""

MEASURED: list[str] = []
