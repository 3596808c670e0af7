"""Listing pages: today or the latest day, days, weeks, months, pagination and bad dates."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from django.utils import timezone as dj_timezone

from tests.community.helpers import add_paper


def titles(response) -> list[str]:
    return re.findall(r'<h3 class="card-title"[^>]*><a [^>]*>(.*?)</a>', response.content.decode())


@pytest.mark.django_db
def test_home_shows_todays_papers_most_upvoted_first(client):
    today = dj_timezone.localdate()
    add_paper("2411.00101", "Quiet paper", listed=today, hf_upvotes=1)
    add_paper("2411.00102", "Popular paper", listed=today, hf_upvotes=40)
    add_paper("2411.00103", "Newer unvoted", listed=today,
              published=datetime(2024, 11, 27, tzinfo=timezone.utc))
    add_paper("2411.00104", "Older unvoted", listed=today,
              published=datetime(2024, 11, 20, tzinfo=timezone.utc))
    add_paper("2411.00105", "Yesterday's", listed=today - timedelta(days=1), hf_upvotes=99)
    response = client.get("/")
    assert response.status_code == 200
    assert titles(response) == ["Popular paper", "Quiet paper", "Newer unvoted", "Older unvoted"]
    assert "Showing the most recent day" not in response.content.decode()


@pytest.mark.django_db
def test_home_on_a_day_without_papers_shows_the_latest_day_and_says_so(client):
    add_paper("2411.00106", "From July", listed=date(2026, 7, 31), hf_upvotes=3)
    add_paper("2411.00107", "Older", listed=date(2024, 11, 28))
    page = client.get("/").content.decode()
    assert "No papers have been listed today" in page
    assert "Friday, July 31, 2026" in page and "From July" in page and "Older" not in page
    # The "Previous" link leads to the day before that had papers.
    assert 'href="/papers/date/2024-11-28"' in page


@pytest.mark.django_db
def test_day_week_and_month_listings(client):
    add_paper("2411.00110", "Thursday paper", listed=date(2024, 11, 28))
    add_paper("2411.00111", "Monday paper", listed=date(2024, 11, 25))
    add_paper("2411.00112", "December paper", listed=date(2024, 12, 2))
    assert titles(client.get("/papers/date/2024-11-28")) == ["Thursday paper"]
    week = client.get("/papers/week/2024-W48")
    assert sorted(titles(week)) == ["Monday paper", "Thursday paper"]
    assert "Week 48, 2024" in week.content.decode()
    assert sorted(titles(client.get("/papers/month/2024-11"))) == ["Monday paper", "Thursday paper"]
    tabs = client.get("/papers/date/2024-11-28").content.decode()
    for href in ("/papers/week/2024-W48", "/papers/month/2024-11", "/trending"):
        assert f'href="{href}"' in tabs
    empty = client.get("/papers/date/2024-11-30").content.decode()
    assert "No papers listed on this day" in empty and "/papers/date/2024-12-02" in empty


@pytest.mark.django_db
def test_long_listings_are_paginated(client):
    for i in range(53):
        add_paper(f"2411.{i + 200:05d}", f"Paper number {i}", listed=date(2024, 11, 28))
    first = client.get("/papers/date/2024-11-28")
    second = client.get("/papers/date/2024-11-28?page=2")
    assert len(titles(first)) == 50 and len(titles(second)) == 3
    assert "Page 1 of 2" in first.content.decode() and 'rel="next"' in first.content.decode()
    assert set(titles(first)).isdisjoint(titles(second))
    assert client.get("/papers/date/2024-11-28?page=3").status_code == 404
    assert client.get("/papers/date/2024-11-28?page=x").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/papers/date/2024-13-01", "/papers/date/2024-02-30", "/papers/date/20241128", "/papers/date/x",
    "/papers/date/0000-01-01", "/papers/week/2024-W54", "/papers/week/2024-W00", "/papers/week/2024-48",
    "/papers/month/2024-13", "/papers/month/2024-00", "/papers/month/0000-01", "/papers/month/24-1",
    "/papers/9999.99999", "/papers/a/b/c", "/papers/seed:missing.bib",
    "/categories/no.such", "/authors/Nobody%20Here", "/feeds/nothing.xml", "/feeds/daily.json",
])
def test_malformed_or_unknown_addresses_are_404_pages_not_errors(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@pytest.mark.django_db
def test_the_far_ends_of_the_calendar_do_not_break_navigation(client):
    assert client.get("/papers/month/9999-12").status_code == 200
    assert client.get("/papers/week/0001-W01").status_code == 200
    assert client.get("/papers/date/9999-12-31").status_code == 200
