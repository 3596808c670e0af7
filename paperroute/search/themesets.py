"""Themes of each day, week and month, kept in the database: computed when a listing changes,
read by pages and feeds (which never compute them)."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from paperroute.catalog.models import Paper
from paperroute.search import vectors
from paperroute.search.embedder import model_id
from paperroute.search.models import PaperVector, ThemeSet
from paperroute.search.themes import ThemeInput, find_themes

# The worker keeps the themes of recent periods up to date; older ones are computed on request
# (`paperroute themes --all`), because a whole back catalogue is hours of clustering.
RECENT_DAYS = 400


@dataclass
class Report:
    computed: list[tuple[str, date, int]] = field(default_factory=list)  # (kind, start, themes)
    unchanged: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        themes = sum(n for _, _, n in self.computed)
        return (
            f"themes: {len(self.computed)} periods computed ({themes} themes), "
            f"{self.unchanged} unchanged ({self.seconds:.1f} s)"
        )


def period_start(kind: str, day: date) -> date:
    if kind == ThemeSet.WEEK:
        return day - timedelta(days=day.weekday())
    if kind == ThemeSet.MONTH:
        return day.replace(day=1)
    return day


def period_end(kind: str, start: date) -> date:
    if kind == ThemeSet.WEEK:
        return start + timedelta(days=6)
    if kind == ThemeSet.MONTH:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    return start


def slug(label: str) -> str:
    """A theme's name in URLs: "speculative decoding · draft models" -> speculative-decoding-draft-models."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_label).strip("-")[:80] or "theme"


def for_period(kind: str, start: date) -> list[dict]:
    """The stored themes of a period, largest first (empty when none were computed)."""
    found = ThemeSet.objects.filter(kind=kind, start=start).values_list("themes", flat=True).first()
    return list(found or [])


def refresh(
    *,
    since: datetime | None = None,
    everything: bool = False,
    today: date | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> Report:
    """Compute the themes of every period whose papers or vectors changed since `since` (all,
    when None), within the last RECENT_DAYS unless `everything`; unchanged ones are skipped."""
    began = time.monotonic()
    report = Report()
    papers = Paper.objects.exclude(listed_on=None)
    if since is not None:
        touched = set(
            PaperVector.objects.filter(embedded_at__gte=since).values_list("paper__listed_on", flat=True)
        )
        touched |= set(papers.filter(changed_at__gte=since).values_list("listed_on", flat=True))
    else:
        touched = set(papers.values_list("listed_on", flat=True).distinct())
    if not everything:
        oldest = (today or date.today()) - timedelta(days=RECENT_DAYS)
        touched = {day for day in touched if day and day >= oldest}
    periods = sorted(
        {
            (kind, period_start(kind, day))
            for day in touched
            if day
            for kind in (ThemeSet.DAY, ThemeSet.WEEK, ThemeSet.MONTH)
        }
    )
    model = model_id()
    for kind, start in periods:
        count = _refresh_one(kind, start, model)
        if count is None:
            report.unchanged += 1
        else:
            report.computed.append((kind, start, count))
            log(f"themes of the {kind} of {start}: {count}")
    report.seconds = time.monotonic() - began
    return report


def _refresh_one(kind: str, start: date, model: str) -> int | None:
    """Cluster one period's papers if they changed; the number of themes, or None if unchanged."""
    pids = sorted(
        Paper.objects.filter(
            listed_on__gte=start, listed_on__lte=period_end(kind, start), vector__model=model
        ).values_list("pk", flat=True)
    )
    fingerprint = hashlib.sha1(f"{model} {pids}".encode()).hexdigest()
    stored = ThemeSet.objects.filter(kind=kind, start=start).values_list("fingerprint", flat=True).first()
    if stored == fingerprint:
        return None
    passages = vectors.stored(pids, model)
    texts = dict(Paper.objects.filter(pk__in=pids).values_list("pk", "title"))
    abstracts = dict(Paper.objects.filter(pk__in=pids).values_list("pk", "abstract"))
    inputs = []
    for pid in pids:
        if pid not in passages:
            continue
        mean = passages[pid][1].mean(axis=0)  # a paper is the mean of its passages (title first)
        inputs.append(
            ThemeInput(
                pid,
                texts[pid],
                abstracts[pid],
                (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32),
            )
        )
    themes: list[dict] = []
    for theme in find_themes(inputs):
        name = slug(theme.label)
        while any(t["slug"] == name for t in themes):  # labels are distinct; slugs nearly always
            name += "-2"
        themes.append({"slug": name, "label": theme.label, "terms": theme.terms, "members": theme.members})
    ThemeSet.objects.update_or_create(
        kind=kind, start=start, defaults={"fingerprint": fingerprint, "themes": themes}
    )
    return len(themes)
