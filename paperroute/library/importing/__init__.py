"""Importing a reader's papers from a reference manager: BibTeX, CSL-JSON, RIS or a list of arXiv ids.

`parse` (formats) reads what was uploaded or pasted into entries; `run` (collect) matches them
to the catalogue (matching: arXiv id, then DOI, then normalised title) and puts the papers found
into one of the reader's collections, counting the whole import once against
PAPERROUTE_RATE_IMPORTS; `fetch_unmatched` asks arXiv for the entries that had an arXiv id but
no paper here, as /submit does.

Only InvalidInput (unusable input: empty, binary, too large, not a known format), NotAllowed
(someone else's collection) and RateLimited come out of here; anything wrong inside one entry
is reported with that entry and the rest is imported.
"""

from paperroute.library.importing.collect import MAX_FETCH, add_papers, fetch_unmatched, run
from paperroute.library.importing.formats import MAX_BYTES, MAX_ENTRIES, parse
from paperroute.library.importing.report import Fetched, ImportReport

__all__ = [
    "MAX_BYTES",
    "MAX_ENTRIES",
    "MAX_FETCH",
    "Fetched",
    "ImportReport",
    "add_papers",
    "fetch_unmatched",
    "parse",
    "run",
]
