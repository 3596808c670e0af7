"""What a hostile visitor or a hostile record could do to the site, and why it no longer works.

Each test reproduces a finding of the security review (issue 9): it failed before the fix.
"""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from lxml import etree

from paperroute import search
from paperroute.catalog.models import Paper
from paperroute.community.models import ApiToken, Comment, RateWindow
from paperroute.digest.models import Subscriber
from tests.community.arxiv_replay import respond as arxiv_respond
from tests.community.helpers import add_paper, user
from tests.replay import ReplayServer, Reply

DAY = date(2024, 11, 28)
PAGINATED = [
    "/",
    f"/papers/date/{DAY}",
    "/papers/week/2024-W48",
    "/papers/month/2024-11",
    "/trending",
    "/categories/cs.CL",
    "/authors/Ada Lovelace",
    "/search?q=paper",
]
HOSTILE_LINK = "javascript:alert(document.domain)//github.com/x/y"


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGINATED)
@pytest.mark.parametrize("number", ["²", "١", "0", "-1", "99999999999999999999999", "1e3", ""])
def test_a_page_number_that_is_not_a_number_is_not_an_error(client, url, number):
    add_paper("2411.00501", "A paper", listed=DAY, hf_upvotes=1)
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}page={number}")
    assert response.status_code in (200, 400, 404), (url, number, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/subscription/a%00",
        "/subscription/a%00/unsubscribe",
        "/subscribe/confirm/x%00",
        "/account/signin/x%00",
        "/papers/2411.00501%00",
        "/authors/A%00B",
        "/categories/cs%00",
        "/search?q=a%00b",
        "/feeds/author.xml?name=a%00",
        "/papers/date/2024-11-28?page=1%00",
    ],
)
def test_a_nul_byte_anywhere_is_a_clear_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/?page=%00", "/api/papers/a%00b"])
def test_a_refused_request_still_may_not_be_framed(client, url):
    """The 400s answered before any view (a NUL, a Host the site does not serve) carry the same
    framing defences as every page."""
    for response in (client.get(url), client.get("/", HTTP_HOST="evil.example")):
        assert response.status_code == 400
        assert (
            response["X-Frame-Options"] == "DENY"
            and "frame-ancestors 'none'" in response["Content-Security-Policy"]
        )


@pytest.mark.django_db
def test_a_refused_request_says_what_was_wrong_in_words(client):
    """Django's own messages named its settings ("add 'evil.example' to ALLOWED_HOSTS", "exceeded
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS"): words for no reader, about settings nobody sets here."""
    unknown_host = client.get("/", HTTP_HOST="evil.example")
    too_many = client.post("/subscribe", {f"field{n}": "x" for n in range(1001)})
    for response, said in (
        (unknown_host, "This site does not answer to the name &#x27;evil.example&#x27;"),
        (too_many, "The form has more fields than any form on this site"),
    ):
        page = response.content.decode()
        assert response.status_code == 400 and said in page
        assert "ALLOWED_HOSTS" not in page and "settings." not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/papers/2411.00501",
        "/search?q=paper",
        "/subscribe",
        "/feeds/daily.xml",
        "/api/daily_papers?date=2024-11-28",
        "/api/papers",
        "/api/papers/2411.00501",
        "/api/papers/search?q=paper",
        "/static/css/site.css",
    ],
)
def test_head_is_get_without_the_body(client, url):
    """Uptime monitors and link checkers ask with HEAD: the same status and headers as GET,
    Content-Length included, and no body."""
    add_paper("2411.00501", "A paper", listed=DAY)
    got = client.get(url)
    head = client.head(url)
    assert (head.status_code, got.status_code) == (200, 200)
    assert _body(head) == b"" and head["Content-Type"] == got["Content-Type"]
    assert int(head["Content-Length"]) == len(_body(got)) > 0


def _body(response) -> bytes:
    """The body as sent: a static file streams."""
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_a_nul_byte_in_a_form_field_is_a_clear_400(reader_client):
    add_paper("2411.00501", "A paper", listed=DAY)
    response = reader_client.post("/papers/2411.00501/comments", {"body": "hello \x00 world"})
    assert response.status_code == 400
    assert Comment.objects.count() == 0


@pytest.mark.django_db
def test_a_nul_byte_in_a_form_read_any_way_django_reads_one_is_a_clear_400(reader_client):
    """Django reads "Application/x-www-form-urlencoded" as a form, and the fields of a multipart
    body larger than a form held in memory: both went past the check, a NUL into the database
    (a 500 on PostgreSQL)."""
    named = reader_client.post(
        "/account/settings", "form=token&name=nul%00token", content_type="Application/X-WWW-Form-Urlencoded"
    )
    padded = reader_client.post(
        "/account/settings",
        {"form": "token", "name": "nul\x00token", "pad": SimpleUploadedFile("pad.bin", b"A" * (3 << 20))},
    )
    assert (named.status_code, padded.status_code) == (400, 400)
    assert not ApiToken.objects.exists()
    # The same forms without the NUL are read and stored.
    reader_client.post(
        "/account/settings", "form=token&name=fine", content_type="Application/X-WWW-Form-Urlencoded"
    )
    reader_client.post(
        "/account/settings",
        {"form": "token", "name": "padded", "pad": SimpleUploadedFile("pad.bin", b"A" * (3 << 20))},
    )
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["fine", "padded"]
    # Where views read the raw body, a large form is refused as too large, not a 500.
    for path in ("/mcp", "/api/papers/2411.00501/comment", "/hooks/bounce"):
        big = reader_client.post(path, {"x": "y", "pad": SimpleUploadedFile("pad.bin", b"A" * (3 << 20))})
        assert 400 <= big.status_code < 500, (path, big.status_code)


@pytest.mark.django_db
def test_a_body_larger_than_any_form_takes_is_refused_unread():
    """Django streams uploaded files of any size to disk when a view reads the form: an
    anonymous 300 MB upload to /subscribe (a form without a CSRF token, as mail clients' links
    need) was written to a temporary file and the subscription went through."""
    client = Client()
    big = SimpleUploadedFile("big.bin", b"\1" * (7 << 20))
    response = client.post("/subscribe", {"email": "a@example.org", "file": big})
    assert response.status_code == 413
    assert "larger than 6 MB" in response.content.decode()
    assert Subscriber.objects.count() == 0
    api = client.post("/api/papers/2411.00501/comment", b"{" + b" " * (7 << 20) + b"}", "application/json")
    assert api.status_code == 413 and "larger than 6 MB" in api.json()["error"]
    # A file a little over the import's own limit still gets the import page's own answer.
    reader = Client()
    reader.force_login(user("reader"))
    over = SimpleUploadedFile("big.ris", b"TY  - JOUR\n" * 500_000)
    page = reader.post("/library/import", {"file": over}).content.decode()
    assert "larger than 5 MB" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/papers/a%0Ab", "/api/papers/a%00b", "/api/no-such-endpoint", "/api/daily_papers?date=%00"]
)
def test_the_api_answers_every_error_in_json(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert response.json()["detail"]


@pytest.mark.django_db
def test_a_method_an_address_does_not_take_is_explained(client):
    add_paper("2411.00502", listed=DAY)
    api = client.put("/api/papers/2411.00502")
    assert api.status_code == 405 and api["Allow"] == "GET"
    assert api["Content-Type"].startswith("application/json")
    assert api.json()["detail"] == "PUT is not allowed here: this address takes GET"
    page = client.delete("/subscribe")
    assert page.status_code == 405 and page["Allow"] == "GET, POST"
    assert "DELETE is not allowed here: this address takes GET, POST." in page.content.decode()
    # A signed-in reader's page names them: it varies with the cookie, as their other pages do.
    client.force_login(user("reader"))
    mine = client.delete("/subscribe")
    assert "reader" in mine.content.decode() and "Cookie" in mine["Vary"]


@pytest.mark.django_db
def test_a_deeply_nested_bounce_report_is_a_400(client, settings):
    settings.CONFIG = settings.CONFIG.replace(bounce_webhook="s3cret")
    response = client.post(
        "/hooks/bounce",
        data=b"[" * 100_000,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer s3cret",
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    response = client.post(
        "/hooks/bounce",
        data=b'{"token": "unsubscribe \\u0000", "reason": "\\u0000"}',
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer s3cret",
    )
    assert response.status_code == 200 and response.json()["ignored"] == 1


def _ancient(path, params):
    """arXiv's answer with the paper's dates moved to 1970, which validation refuses."""
    reply = arxiv_respond(path, params)
    body = re.sub(rb"<(published|updated)>\d{4}", rb"<\1>1970", reply.body)
    return Reply(body, content_type=reply.content_type)


@pytest.mark.django_db
def test_a_submission_arxiv_sends_bad_data_for_is_refused_without_using_the_quota(reader_client, settings):
    with ReplayServer(_ancient) as arxiv:
        settings.CONFIG = settings.CONFIG.replace(
            arxiv_api_url=arxiv.url + "/api/query", rate_submissions="2/day"
        )
        for _ in range(4):
            response = reader_client.post("/submit", {"arxiv": "2606.13677"})
            assert response.status_code == 400
            assert "cannot be listed here (implausible date 1970-" in response.content.decode()
    assert not Paper.objects.filter(key="2606.13677").exists()
    assert sum(RateWindow.objects.filter(scope="submit").values_list("count", flat=True)) == 0


def _hostile_paper() -> Paper:
    """A paper whose links an older version stored unchecked."""
    paper = add_paper(
        "2411.00601",
        "Paper with a hostile code link",
        listed=timezone.localdate(),
        hf_upvotes=3,
        abstract="A hostile repository link in the record.",
    )
    Paper.objects.filter(pk=paper.pk).update(
        github_repo=HOSTILE_LINK,
        code_url="data:text/html,x",
        project_url=" javascript:alert(1)",
        pdf_url="vbscript:x",
        abs_url="javascript:x",
    )
    return Paper.objects.get(pk=paper.pk)


def _hrefs(html: str) -> list[str]:
    return re.findall(r'(?:href|src|content)="([^"]*)"', html)


@pytest.mark.django_db
def test_a_stored_javascript_link_is_never_rendered(client, reader_client):
    paper = _hostile_paper()
    search.sync(embed=False)
    for url in ("/", f"/papers/{paper.key}", "/search?q=hostile+repository&mode=lexical", "/trending"):
        for who in (client, reader_client):
            page = who.get(url).content.decode()
            assert f"/papers/{paper.key}" in page, url
            bad = [h for h in _hrefs(page) if re.match(r"\s*(javascript|data|vbscript):", h, re.I)]
            assert bad == [], (url, bad)
    (item,) = [i for i in client.get("/api/daily_papers").json() if i["paper"]["id"] == paper.key]
    assert item["paper"]["githubRepo"] is None and item["paper"]["projectPage"] is None
    assert item["paper"]["pdfUrl"] is None and item["paper"]["arxivUrl"] is None
    assert client.get(f"/api/papers/{paper.key}").json()["githubRepo"] is None


def test_a_stored_javascript_link_is_not_in_the_digest(cli):
    paper = _hostile_paper()
    from tests.digest.conftest import subscriber

    subscriber("reader@example.org")
    result = cli(
        "digest",
        "preview",
        "--period",
        "daily",
        "--date",
        paper.listed_on.isoformat(),
        "--to",
        "reader@example.org",
    )
    message = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "Paper with a hostile code link" in message
    assert "javascript:" not in message and "data:text" not in message


@pytest.mark.django_db
def test_comments_link_http_urls_only(client):
    paper = add_paper("2411.00502", "A discussed paper", listed=DAY)
    Comment.objects.create(
        paper=paper,
        author=user("mallory"),
        body="see javascript:alert(1) and www.example.org and "
        "mailto:x@example.org and https://example.org/a?b=1&c=2.",
    )
    page = client.get(f"/papers/{paper.key}").content.decode()
    body = page[page.index('class="comment-body"') :]
    links = re.findall(r'<a href="([^"]*)"', body[: body.index("</div>")])
    assert links == ["https://example.org/a?b=1&amp;c=2"]


MARKDOWN_ATTACKS = [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](&#106;avascript:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](vbscript:msgbox)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x]: javascript:alert(1)\n\n[x]",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:x">a</a>',
    "<svg/onload=alert(1)>",
    "<iframe src=//evil.example>",
    "![](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](https://evil.example/t.gif)",
    "<javascript:alert(1)>",
    "<data:text/html,x>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    "[x](/admin/) and [y](//evil.example)",
    '[x](https://ok.example "a" onmouseover="alert(1)")',
    "```\n</code><script>x</script>\n```",
    # TeX set as MathML: its text, links, colours and styles.
    "$\\text{<img src=x onerror=alert(1)>}$",
    "$\\text{</math><script>alert(1)</script>}$",
    "$\\href{javascript:alert(1)}{x}$ $$\\href{https://evil.example/t.gif}{y}$$",
    "$\\color{red}{x}\\style{background:url(//evil.example)}{y}$",
    "\\(<svg onload=alert(1)>\\) \\[\\mathrm{<script>x</script>}\\]",
    "$x$<img src=x onerror=alert(1)>$y$",
    # Tables: cells are escaped, and alignment is a class, never a style attribute.
    "| <img src=x onerror=alert(1)> | [x](javascript:alert(1)) |\n|:-:|--:|\n| ![x](//evil.example) | <b>x</b> |",
    '| <div class="comment-table" style="x"> |\n|---|\n| ![x](https://evil.example/t.gif) |',
]
MATH_TAGS = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "mtext", "mstyle"}
TABLE_TAGS = {"table", "thead", "tbody", "tr", "th", "td"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", MARKDOWN_ATTACKS)
def test_markdown_comments_cannot_run_script_or_load_anything(client, body):
    paper = add_paper("2411.00509", "A discussed paper", listed=DAY)
    comment = Comment.objects.create(paper=paper, author=user("mallory"), body=body)
    page = client.get(f"/papers/{paper.key}").content.decode()
    start = page.index(f'id="comment-{comment.pk}"')
    shown = page[start : page.index("</article>", start)]
    shown = shown[shown.index('class="comment-body"') :]
    tags = re.findall(r"<([a-z0-9]+)", shown)
    allowed = {"div", "p", "a", "code", "pre", "form", "input", "button", "span", *MATH_TAGS, *TABLE_TAGS}
    assert set(tags) <= allowed, tags
    # MathML's elements carry nothing but their layout: no links, colours or styles; no tag a style.
    assert not re.search(r"<m[a-z]*\s[^>]*href", shown), shown
    assert not re.search(r"<[a-z]+\s[^>]*(color|style|background)", shown), shown
    # Escaped markup may say "onerror" as text; no real tag may carry a handler.
    assert not [t for t in re.findall(r"<[a-z][^>]*>", shown) if re.search(r"\son[a-z]+", t)]
    for link in re.findall(r'<a href="([^"]*)"', shown):
        assert link.startswith(("https://", "http://", "mailto:")), link
        assert "nofollow ugc" in shown
    assert "<img" not in shown and "<script" not in shown and "<svg" not in shown


@pytest.mark.django_db
def test_an_autolink_and_an_entity_stay_what_they_say(client):
    paper = add_paper("2411.00510", "A discussed paper", listed=DAY)
    Comment.objects.create(
        paper=paper,
        author=user("mallory"),
        body="<https://example.org/x?a=1&b=2> &amp; &copy; <x@example.org>",
    )
    page = client.get(f"/papers/{paper.key}").content.decode()
    body = page[page.index('class="comment-body"') :]
    body = body[: body.index("</div>")]
    assert re.findall(r'<a href="([^"]*)"', body) == [
        "https://example.org/x?a=1&amp;b=2",
        "mailto:x@example.org",
    ]
    assert "&amp; ©" in body


def _bibtex_fields(entry: str) -> dict[str, str]:
    """Fields as BibTeX itself reads them: braces count whatever precedes them; a bare word
    (month = nov) is a macro."""
    body = entry[entry.index(",") + 1 :]
    fields, position = {}, 0
    while True:
        bare = re.compile(r"\s*(\w+)\s*=\s*(\w+)\s*(,|\n?\})").match(body, position)
        if bare:
            fields[bare.group(1)], position = bare.group(2), bare.end()
            continue
        match = re.compile(r"\s*(\w+)\s*=\s*\{").match(body, position)
        if not match:
            break
        depth, cursor = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(body[cursor], 0)
            cursor += 1
        fields[match.group(1)] = body[match.end() : cursor - 1]
        position = body.index(",", cursor) + 1 if "," in body[cursor : cursor + 3] else len(body)
    return fields


@pytest.mark.django_db
def test_a_bibtex_title_cannot_add_fields(client):
    add_paper(
        "2411.00503",
        'Nice paper }}, note = "INJECTED", year = 1999',
        listed=DAY,
        authors=("Eve }}, note = {X",),
    )
    entry = client.get("/papers/2411.00503.bib").content.decode()
    fields = _bibtex_fields(entry)
    assert set(fields) == {
        "title",
        "author",
        "year",
        "month",
        "eprint",
        "archivePrefix",
        "primaryClass",
        "url",
    }, fields
    assert fields["year"] == "2024" and "INJECTED" in fields["title"]


@pytest.mark.django_db
def test_bibtex_neutralises_tex_that_reads_files(client):
    add_paper(
        "2411.00504",
        r"Leaky $\input{/etc/passwd}$ and \input{/etc/shadow} $^^5cinput x$ "
        r"but $O(n^2)$ and $\{x \mid x > 0\}$ stay",
        listed=DAY,
    )
    title = _bibtex_fields(client.get("/papers/2411.00504.bib").content.decode())["title"]
    assert not re.search(r"(?<!textbackslash\{\})\\input", title), title
    assert "^^" not in title
    assert "$O(n^2)$" in title and r"$\{x \mid x > 0\}$" in title


@pytest.mark.django_db
def test_rss_descriptions_are_escaped_text(client):
    add_paper(
        "2411.00505",
        "Image paper",
        listed=timezone.localdate(),
        abstract='An abstract with <img src=x onerror="alert(1)"> and <b>bold</b> markup.',
    )
    feed = etree.fromstring(client.get("/feeds/daily.xml").content)
    (description,) = [
        item.findtext("description") for item in feed.iter("item") if item.findtext("title") == "Image paper"
    ]
    # What a feed reader renders as HTML: the markup is shown as text, not made into elements.
    assert "<img" not in description and "<b>" not in description
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in description


def _render_seconds(client, key: str, count: int) -> float:
    Paper.objects.filter(key=key).update(abstract="x \\( y " * count, title=f"T {count}")
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        assert client.get(f"/papers/{key}").status_code == 200
        best = min(best, time.perf_counter() - began)
    return best


@pytest.mark.django_db
def test_latex_rendering_is_linear_in_the_input(client, settings):
    # 16,000 unclosed "\(" in an abstract took 6.5 s to render, each scanning to the end.
    settings.CONFIG = settings.CONFIG.replace(page_cache_seconds=0)
    add_paper("2411.00506", "Math heavy", listed=DAY)
    small, large = _render_seconds(client, "2411.00506", 4000), _render_seconds(client, "2411.00506", 16000)
    assert large < 8 * small + 0.1, (small, large)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/trending",
        "/search?q=x",
        "/submit",
        "/account/signin",
        "/subscribe",
        "/papers/2411.00507",
        "/api/docs",
        "/nowhere",
        "/admin/login/",
    ],
)
def test_every_page_has_a_content_security_policy(client, url):
    add_paper("2411.00507", "A paper", listed=DAY)
    for _ in range(2):  # the second answer may come from the page cache
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
        assert "unsafe-inline" not in policy and directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_pages_carry_no_inline_script(client):
    add_paper("2411.00508", "A paper", listed=timezone.localdate())
    for url in ("/", "/papers/2411.00508", "/api/docs", "/search?q=paper", "/account/signin"):
        page = client.get(url).content.decode()
        for script in re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S):
            attributes, body = script
            assert "src=" in attributes or 'type="application/json"' in attributes, (url, script)
        assert not re.search(r"\son[a-z]+=", page), url


@pytest.mark.django_db
def test_a_head_answered_304_does_not_say_the_page_is_empty(client):
    """A 304 may carry Content-Length only if it is the 200's (RFC 9110 8.6): HEAD gave the 304's
    empty body's, 0, and a cache that takes a 304's headers would store the page as empty."""
    add_paper("2411.00501", "A paper", listed=DAY)
    first = client.get("/papers/2411.00501")
    assert first.status_code == 200 and len(first.content) > 0
    head = client.head("/papers/2411.00501", HTTP_IF_NONE_MATCH=first["ETag"])
    assert head.status_code == 304
    assert head.get("Content-Length") in (None, str(len(first.content)))


@pytest.mark.django_db
def test_a_gzipped_page_from_the_cache_has_a_weak_etag_of_its_own(client):
    """The compressed and plain pages are two bodies (RFC 9110 8.8.3): a cache hit sent the
    compressed one with the plain one's strong ETag."""
    add_paper("2411.00501", "A paper", listed=DAY)
    plain = client.get("/papers/2411.00501")
    assert plain["X-Page-Cache"] == "miss" and not plain.has_header("Content-Encoding")
    hit = client.get("/papers/2411.00501", HTTP_ACCEPT_ENCODING="gzip")
    assert hit["X-Page-Cache"] == "hit" and hit["Content-Encoding"] == "gzip"
    assert hit["ETag"] == "W/" + plain["ETag"]
    again = client.get("/papers/2411.00501", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=hit["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_a_rename_reaches_anonymous_readers_of_cached_pages():
    """A rename left the old name beside the reader's comments on cached pages, for up to
    PAGE_CACHE_SECONDS, while anyone could take the old name at once."""
    from paperroute.community import accounts, comments

    paper = add_paper("2411.00501", "A paper", listed=DAY)
    author = user("oldname")
    comments.add(author, paper, "A comment")
    anonymous = Client()
    assert "oldname" in anonymous.get("/papers/2411.00501.md").content.decode()
    accounts.rename(author, "newname")
    again = anonymous.get("/papers/2411.00501.md").content.decode()
    assert "newname" in again and "oldname" not in again
