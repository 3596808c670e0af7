"""Every page route of the site, in one place."""

from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from paperroute.web import feeds, health, markdown_page, metrics
from paperroute.web.api import api
from paperroute.web.views import account, library, library_import, listings, paper, search, submit
from paperroute.web.views import subscribe as digest_views


@csrf_exempt
@require_http_methods(["POST", "DELETE"])
def mcp(request: HttpRequest) -> HttpResponse:
    """/mcp, importing the MCP SDK (two seconds) at its first request, not in every process that
    loads the URLs: the worker, each command that reverses one, each digest sender.

    POST and DELETE only. A GET (or a HEAD, which is answered as one) asks the SDK for a stream of
    server messages that a stateless server never ends, and it held a web thread for good; the
    protocol lets a server without such a stream answer 405 instead."""
    from paperroute.web import mcp_server

    return mcp_server.endpoint(request)


# A paper's key, any characters: "." would stop at a line break, and a paper stored with one
# before ingest refused them had no address (each list that held it failed with a 500).
KEY = r"(?P<key>[\s\S]+)"

urlpatterns = [
    path("", listings.home, name="home"),
    path("papers/date/<str:value>", listings.day, name="day"),
    path("papers/week/<str:value>", listings.week, name="week"),
    path("papers/month/<str:value>", listings.month, name="month"),
    path("trending", listings.trending, name="trending"),
    path("categories/<str:code>", listings.category, name="category"),
    path("authors/<path:name>", listings.author, name="author"),
    # Paper ids may hold a slash (hep-th/9901001), so the suffixed routes come first.
    re_path(rf"^papers/{KEY}\.bib$", paper.bibtex_file, name="bibtex"),
    re_path(rf"^papers/{KEY}\.md$", markdown_page.paper_markdown, name="paper_markdown"),
    re_path(rf"^papers/{KEY}/vote$", paper.vote, name="vote"),
    re_path(rf"^papers/{KEY}/comments$", paper.comment_add, name="comment_add"),
    re_path(rf"^papers/{KEY}/comments\.atom$", paper.comments_feed, name="comments_feed"),
    re_path(rf"^papers/{KEY}/claim$", paper.claim, name="claim"),
    re_path(rf"^papers/{KEY}/claim/withdraw$", paper.claim_withdraw, name="claim_withdraw"),
    re_path(rf"^papers/{KEY}/links$", paper.links, name="paper_links"),
    re_path(rf"^papers/{KEY}/save$", library.save, name="save"),
    re_path(rf"^papers/{KEY}/state$", library.paper_state, name="paper_state"),
    re_path(rf"^papers/{KEY}/note$", library.paper_note, name="paper_note"),
    re_path(rf"^papers/{KEY}$", paper.detail, name="paper"),
    path("comments/<int:pk>/edit", paper.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete", paper.comment_delete, name="comment_delete"),
    path("comments/<int:pk>/history", paper.comment_history, name="comment_history"),
    path("comments/<int:pk>/hide", paper.comment_hide, name="comment_hide"),
    path("comments/<int:pk>/react", paper.comment_react, name="comment_react"),
    path("search", search.page, name="search"),
    path("search/suggest", search.suggestions, name="search_suggest"),
    path("submit", submit.page, name="submit"),
    path("account/signin", account.signin, name="signin"),
    path("account/signin/<str:token>", account.confirm, name="signin_confirm"),
    path("account/signout", account.signout, name="signout"),
    path("account/settings", account.settings_page, name="account_settings"),
    path("account/data", account.data_download, name="account_data"),
    path("account/delete", account.delete_account, name="account_delete"),
    path("account/replies/stop/<str:token>", account.reply_mail_stop, name="reply_mail_stop"),
    path("account/categories", listings.remember_categories, name="remember_categories"),
    path("library", library.library, name="library"),
    path("library/following", library.following, name="following"),
    path("library/import", library_import.import_page, name="library_import"),
    path("library/follow", library.follow, name="follow"),
    path("library/feed/rotate", library.rotate_feed, name="rotate_feed"),
    path("library/dismissed/forget", library.forget_dismissed, name="forget_dismissed"),
    path("collections/new", library.collection_new, name="collection_new"),
    path("collections/<int:pk>", library.collection, name="collection"),
    path("collections/<int:pk>/edit", library.collection_edit, name="collection_edit"),
    path("collections/<int:pk>/items", library.collection_item, name="collection_item"),
    path("collections/<int:pk>/order", library.collection_order, name="collection_order"),
    re_path(
        r"^collections/(?P<pk>\d{1,18})\.(?P<fmt>bib|json|atom)$",
        library.collection_export,
        name="collection_export",
    ),
    path("feeds/private/<str:secret>.atom", feeds.private_feed, name="private_feed"),
    path("subscribe", digest_views.subscribe, name="subscribe"),
    path("subscribe/confirm/<str:token>", digest_views.confirm, name="subscribe_confirm"),
    path("subscription/<str:token>", digest_views.preferences, name="subscription"),
    path("subscription/<str:token>/unsubscribe", digest_views.unsubscribe, name="unsubscribe"),
    path("hooks/bounce", digest_views.bounce_webhook, name="bounce_webhook"),
    re_path(r"^feeds/(?P<kind>[a-z]+)\.(?P<fmt>[a-z]+)$", feeds.feed, name="feed"),
    path("api/", api.urls),
    path("mcp", mcp, name="mcp"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_page, name="metrics"),
]
