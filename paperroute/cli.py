"""The `paperroute` command: parses arguments and calls into the areas."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from paperroute import stopping

# Progress and status lines go to these loggers (standard error, PAPERROUTE_LOG_*); a command's
# result goes to standard output, and what went wrong with the command to `err`.
ingest_log = logging.getLogger("paperroute.ingest")
index_log = logging.getLogger("paperroute.index")
digest_log = logging.getLogger("paperroute.digest")
serve_log = logging.getLogger("paperroute.server")

EXIT_OK, EXIT_SKIPPED, EXIT_UNUSABLE = 0, 1, 2
EXIT_PIPE = 141  # what the shell reports for a command stopped by SIGPIPE, as `yes | head` stops
# Commands whose work is their output, which a reader may cut short (`| head`).
OUTPUT_COMMANDS = frozenset({"search", "related", "export", "stats", "status", "themes"})
SOURCES = ("arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily", "jsonl")
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str):
    def register(function):
        COMMANDS[name] = function
        return function

    return register


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    import django

    from paperroute import conf

    conf.prepare()
    django.setup()


def err(message: str) -> None:
    print(f"paperroute: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperroute",
        description="A self-hostable daily-papers service. Settings come from PAPERROUTE_* "
        "environment variables (see docs/reference/settings.md).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "migrate",
        help="create or upgrade the database tables",
        description="Create or upgrade the database tables.",
    )

    demo = sub.add_parser(
        "demo",
        help="migrate, load the bundled sample and serve it",
        description="Migrate the database, load the bundled sample of real "
        "papers (idempotently) and serve the site.",
    )
    _listen_arguments(demo)
    demo.add_argument("--no-serve", action="store_true", help="load the sample, then exit")
    demo.add_argument(
        "--no-worker", action="store_true", help="serve without the background worker (index sync, digests)"
    )

    serve = sub.add_parser(
        "serve",
        help="run the production web server",
        description="Run the production web server (gunicorn), one query service that its web "
        "processes share (the embedding model and the spelling dictionary, loaded once per host), "
        "and, unless --no-worker, `paperroute worker` beside them.",
    )
    _listen_arguments(serve)
    serve.add_argument(
        "--workers", type=int, default=None, help="web processes (default: PAPERROUTE_WEB_WORKERS)"
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run the worker (index sync, digests) in the background",
    )

    ingest = sub.add_parser(
        "ingest",
        help="load papers from a source",
        description="Load papers from a source. INPUT is a file, '-' for standard input, or a "
        "URL; without it the live service is asked. Exit status: 0 when every "
        "record was stored, 1 when some were skipped, 2 when the input was unusable, "
        "130 or 143 when Ctrl-C or SIGTERM stopped it between pages (run it again to resume).",
    )
    ingest.add_argument("source", choices=SOURCES, metavar="SOURCE", help="one of: " + ", ".join(SOURCES))
    ingest.add_argument(
        "input", nargs="?", default="", metavar="INPUT", help="file, '-' or URL (default: the live service)"
    )
    oai = ingest.add_argument_group("arxiv-oai")
    oai.add_argument(
        "--from",
        dest="since",
        default="",
        metavar="DATE",
        help="harvest records changed on or after DATE (YYYY-MM-DD)",
    )
    oai.add_argument("--until", default="", metavar="DATE", help="…and on or before DATE")
    oai.add_argument("--set", dest="set_spec", default="", help="OAI set, such as cs or physics:hep-th")
    oai.add_argument(
        "--metadata-prefix",
        default="arXiv",
        choices=("arXiv", "arXivRaw", "oai_dc"),
        help="the OAI-PMH metadata format to ask for (default: arXiv)",
    )
    oai.add_argument("--resume", default="", metavar="TOKEN", help="continue from a resumption token")
    oai.add_argument(
        "--restart",
        action="store_true",
        help="ignore the checkpoint of an interrupted harvest and start again",
    )
    api = ingest.add_argument_group("arxiv-api")
    api.add_argument("--query", default="", help="search_query, such as 'cat:cs.CL AND ti:llm'")
    api.add_argument("--id-list", default="", help="comma-separated arXiv ids")
    api.add_argument(
        "--max",
        dest="max_results",
        type=int,
        default=1000,
        help="stop after this many results (default 1000)",
    )
    hf = ingest.add_argument_group("hf-daily")
    hf.add_argument("--date", dest="day", default="", help="one day, YYYY-MM-DD")
    hf.add_argument("--week", default="", help="one ISO week, YYYY-Www")
    hf.add_argument("--month", default="", help="one month, YYYY-MM")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument(
        "--no-embed",
        action="store_true",
        help="update only the keyword index afterwards; `paperroute index sync` "
        "embeds the new papers later (default: PAPERROUTE_EMBED_ON_INGEST)",
    )

    export = sub.add_parser(
        "export",
        help="write the catalogue as JSON Lines",
        description="Write every paper as JSON Lines (the schema is in "
        "docs/ingesting.md); `paperroute ingest jsonl` reads it back.",
    )
    export.add_argument(
        "--format", choices=("jsonl",), default="jsonl", help="output format (only JSON Lines so far)"
    )
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")

    createsuperuser = sub.add_parser(
        "createsuperuser",
        help="make an account a moderator with access to the admin",
        description="Create (or promote) the account for an email address as a superuser. There "
        "are no passwords: sign in at /account/signin with that address, then open "
        "/admin/ to moderate comments and users.",
    )
    createsuperuser.add_argument("--email", required=True, help="the moderator's email address")

    stats = sub.add_parser(
        "stats",
        help="count papers, authors, categories and sources",
        description="Counts of papers, authors and categories, and the newest paper of each source.",
    )
    stats.add_argument("--json", action="store_true", help="machine-readable output")

    status = sub.add_parser(
        "status",
        help="say whether the site is well (what /healthz reports)",
        description="Check the database, the search index's lag, this host's worker heartbeat, "
        "the digest outbox and the last ingest of each source, as /healthz does. "
        "Exit status: 0 when every check passes, 1 otherwise.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")

    themes = sub.add_parser(
        "themes",
        help="group days, weeks and months into themes",
        description="Cluster the papers of each day, week and month whose papers changed into "
        "themes with short labels, shown as chips above listings. The worker does "
        "this after each index sync for the last 400 days; --all covers every "
        "period. Periods whose papers did not change are skipped.",
    )
    themes.add_argument("--all", action="store_true", help="every period, not only recent ones")
    themes.add_argument(
        "--show",
        default="",
        metavar="PERIOD",
        help="print the themes of one day, week or month (2024-11-28, 2024-W48, 2024-11) instead",
    )

    check = sub.add_parser(
        "check",
        help="check the settings; --deploy for a public server",
        description="Run Django's system checks and paperroute's own. With --deploy, also the "
        "checks of a public deployment: HTTPS, cookies, HSTS, the site URL, the "
        "trusted proxies, the secret key, mail and file permissions. Exit status: "
        "0 when nothing is reported, 1 when something is, 2 when a setting cannot be used.",
    )
    check.add_argument("--deploy", action="store_true", help="include the deployment checks")
    _search_parsers(sub)
    _digest_parsers(sub)
    return parser


def _listen_arguments(parser: argparse.ArgumentParser) -> None:
    """Where `demo` and `serve` listen."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")


def _day(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def _at_least(least: int):
    """An argparse type: a whole number of at least `least` (a count or an offset)."""

    def number(value: str) -> int:
        try:
            count = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if count < least:
            raise argparse.ArgumentTypeError(f"expected {least} or more, got {count}")
        return count

    return number


def _search_parsers(sub) -> None:
    search = sub.add_parser(
        "search",
        help="search the papers",
        description='Search titles, abstracts and authors. Query syntax: "exact phrase", '
        "-excluded, author:vaswani, cat:cs.CL, year:2024, year:2020..2023; anything "
        "else is free text. Exit status 2 when the query cannot be run.",
    )
    search.add_argument("query", nargs="+", help="words and operators (quote them for the shell)")
    search.add_argument(
        "--mode",
        choices=("hybrid", "lexical", "semantic"),
        default="hybrid",
        help="hybrid (default) fuses keyword (BM25) and semantic (embedding) ranking",
    )
    search.add_argument(
        "--limit", type=_at_least(1), default=10, help="results to show (default 10, at most 120)"
    )
    search.add_argument("--offset", type=_at_least(0), default=0, help="skip this many results (paging)")
    search.add_argument(
        "--exact", action="store_true", help="search the words as typed, without correcting typos"
    )
    search.add_argument("--since", type=_day, metavar="DATE", help="listed on or after DATE")
    search.add_argument("--until", type=_day, metavar="DATE", help="listed on or before DATE")
    search.add_argument(
        "--category",
        action="append",
        metavar="CAT",
        help="only this category or archive (cs.CL, cs); repeat for several",
    )
    search.add_argument("--author", action="append", metavar="NAME", help="only papers by NAME")
    search.add_argument("--json", action="store_true", help="machine-readable output")

    related = sub.add_parser(
        "related",
        help="papers nearest to one paper by embedding",
        description="The papers whose embeddings are nearest to the given "
        "paper's (an arXiv id or another paperroute id).",
    )
    related.add_argument("id", help="the paper, such as 2411.17700")
    related.add_argument("--limit", type=_at_least(1), default=5, help="how many (default 5)")
    related.add_argument("--json", action="store_true", help="machine-readable output")

    index = sub.add_parser(
        "index",
        help="sync or rebuild the search index",
        description="The search index is derived from the database and lives "
        "in the data directory. `sync` adds new and changed papers "
        "and embeds those without vectors; `rebuild` starts over, "
        "reusing the vectors stored in the database. Ctrl-C or SIGTERM stops the "
        "embedding within seconds, keeping what is embedded (exit status 130 or 143); "
        "the next sync embeds the rest.",
    )
    action = index.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("sync", "add new and changed papers, embed those without vectors"),
        ("rebuild", "rebuild from scratch (stored vectors are reused)"),
    ):
        one = action.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        one.add_argument(
            "--no-embed",
            action="store_true",
            help="keyword index only: leave papers without vectors for later",
        )
        one.add_argument("--quiet", action="store_true", help="no progress bars")


def _digest_parsers(sub) -> None:
    digest = sub.add_parser(
        "digest",
        help="send or preview the email digests",
        description="Compose a period's digests into the outbox and send them (send), or print "
        "one rendered message (preview). A send that is interrupted or run twice "
        "sends nobody the same digest twice. Exit status: 0 when the run is "
        "complete, 75 when messages wait for a retry (run it again, or leave it to "
        "`paperroute worker`), 2 on unusable input, 130 or 143 when Ctrl-C or SIGTERM "
        "stopped it after the message on hand (run it again to carry on).",
    )
    action = digest.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("send", "compose and send a period's digests"),
        ("preview", "print the digest one address would get"),
    ):
        one = action.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        one.add_argument(
            "--period",
            choices=("daily", "weekly"),
            default="daily",
            help="daily (the newest listing day) or weekly (the last complete week; on a catalogue "
            "with no papers since, the week of its newest papers)",
        )
        one.add_argument(
            "--date",
            default="",
            metavar="DAY",
            help="the day to send (YYYY-MM-DD); with --period weekly, the week (YYYY-Www, or any day in it)",
        )
        if name == "send":
            one.add_argument(
                "--dry-run", action="store_true", help="say what would be sent; write and send nothing"
            )
            one.add_argument(
                "--to",
                default="",
                metavar="EMAIL",
                help="send one test copy to EMAIL instead (the outbox is untouched)",
            )
            one.add_argument(
                "--wait", action="store_true", help="stay until deferred messages have been retried"
            )
        else:
            one.add_argument(
                "--to",
                required=True,
                metavar="EMAIL",
                help="as for this subscriber (defaults if EMAIL is not one)",
            )
    mcp = sub.add_parser(
        "mcp",
        help="serve the site to AI agents (Model Context Protocol)",
        description="Serve search, listings and papers, and a reader's library, "
        "recommendations and upvotes (with their API token), as MCP "
        "tools over standard input and output, or with --http over "
        "streamable HTTP at /mcp on a port of its own (`paperroute "
        "serve` also serves them at /mcp).",
    )
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="with --http: the address to listen on")
    mcp.add_argument("--port", type=int, default=8765, help="with --http: the port (default 8765)")
    sub.add_parser(
        "worker",
        help="run ingest, index sync and digests on a schedule",
        description="Run the schedule: ingest PAPERROUTE_WORKER_INGEST's sources, sync "
        "the search index, send the daily digest of the day before and, from Monday "
        "(or a later day of the week, if it missed Monday), the weekly one from "
        "PAPERROUTE_DIGEST_HOUR, and retry deferred mail. "
        "`paperroute serve` runs it unless --no-worker. SIGTERM or Ctrl-C stops it "
        "within seconds, after the batch, page or message on hand; the next start "
        "carries on from there.",
    )


# Commands that never search, embed or build an index: they skip loading faiss and numpy to set
# thread counts. (`serve`'s web processes set their own as they start.)
LIGHT_COMMANDS = frozenset({"migrate", "check", "stats", "status", "createsuperuser", "export", "serve"})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from django.db import DatabaseError

    from paperroute.conf import ConfigError

    if args.command in ("serve", "demo") and not os.environ.get("PAPERROUTE_SITE_URL"):
        from paperroute.server import address_of

        # Links in mails, feeds and the API lead to the address being served, not to a default
        # port nothing listens on. Set before Django reads its settings, and inherited by the
        # worker process.
        os.environ["PAPERROUTE_SITE_URL"] = address_of(args.host, args.port)
    try:
        setup_django()
        if args.command not in LIGHT_COMMANDS:
            from paperroute.search import configure_threads

            configure_threads("worker" if args.command == "worker" else "cli")
        from paperroute import metrics

        metrics.configure(serving=args.command in ("serve", "demo"))
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        err(str(exc))
        return EXIT_UNUSABLE
    except DatabaseError:
        from paperroute import health

        # One line when the database cannot be reached or lacks its tables; any other
        # database error is a bug, whose traceback is wanted.
        problem = health.database_problem()
        if problem is None:
            raise
        err(problem)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        if args.command not in OUTPUT_COMMANDS:
            raise  # a socket or a child process broke, which the command must report
        # What reads the output stopped early (`paperroute search … | head`): no traceback. The
        # output is pointed at /dev/null so that Python's own flush at exit fails no more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE


@command("migrate")
def cmd_migrate(args) -> int:
    from django.core.management import call_command
    from django.db import OperationalError, connection

    try:
        if connection.vendor == "postgresql":
            # Every host's web unit migrates as it starts: two at once on a new database
            # collided ("duplicate key value violates unique constraint"). One at a time; the
            # second finds nothing left to do.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK])
        call_command("migrate", interactive=False, verbosity=1)
    except OperationalError as exc:
        err(f"cannot migrate the database: {str(exc).strip().splitlines()[0]}")
        return EXIT_UNUSABLE
    return EXIT_OK


# The PostgreSQL advisory lock `paperroute migrate` holds while it runs ("prmigr" in ASCII).
MIGRATE_LOCK = 0x70726D69677200


@command("ingest")
def cmd_ingest(args) -> int:
    from django.conf import settings
    from django.utils import timezone

    from paperroute import health, metrics
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.records import UnusableInput
    from paperroute.catalog.sources.fetch import PoliteClient
    from paperroute.progress import counter

    # The importer skips a record the database refuses and goes on: without tables, that would
    # be one warning for every record of the input.
    problem = health.database_problem()
    if problem:
        err(problem)
        return EXIT_UNUSABLE
    stopping.install(escalate=True)
    config = settings.CONFIG
    began = timezone.now()
    request = Request(
        source=args.source,
        input=args.input,
        since=args.since,
        until=args.until,
        set_spec=args.set_spec,
        metadata_prefix=args.metadata_prefix,
        resume=args.resume,
        restart=args.restart,
        search_query=args.query,
        id_list=args.id_list,
        max_results=args.max_results,
        day=args.day,
        week=args.week,
        month=args.month,
        categories=list(config.arxiv_categories),
    )
    client = PoliteClient(
        delay=config.arxiv_delay,
        timeout=config.http_timeout,
        max_bytes=config.max_input_mb << 20,
        contact=config.contact_email,
        log=ingest_log.info,
    )
    with counter(f"ingest {args.source}", enabled=not args.quiet) as progress:
        importer = Importer(args.source, progress=progress)
        try:
            summary = run(request, client=client, importer=importer, log=ingest_log.info)
        except UnusableInput as exc:
            progress.close()
            if importer.summary.total:
                print(importer.summary.line())
            err(f"{args.source}: {exc}")
            health.record_ingest(args.source, ok=False, line=str(exc))
            metrics.count_ingest(args.source, ok=False)
            return EXIT_UNUSABLE
        except stopping.Stopped as exc:
            progress.close()
            _log_left_out(importer.summary)
            print(importer.summary.line())
            err(f"stopping: {exc}")
            return stopping.exit_code()
    _log_left_out(summary)
    health.record_ingest(args.source, ok=True, line=summary.line())
    metrics.count_ingest(args.source, summary)
    print(summary.line())
    _sync_index(embed=config.embed_on_ingest and not args.no_embed, quiet=args.quiet)
    if stopping.requested():  # the themes wait for the next ingest or the worker
        return stopping.exit_code()
    if summary.new or summary.updated:
        from paperroute.search import themesets

        index_log.info(themesets.refresh(since=began).line())
    return EXIT_SKIPPED if summary.skipped or summary.dropped else EXIT_OK


def _log_left_out(summary) -> None:
    """The records an ingest skipped and the links it dropped, each with why."""
    for skipped in summary.skipped:
        ingest_log.warning("skipped %s: %s", skipped.position, skipped.reason)
    for dropped in summary.dropped:
        ingest_log.warning("%s: %s", dropped.position, dropped.reason)


def _sync_index(*, embed: bool, quiet: bool, rebuild: bool = False) -> int:
    """Bring the search index up to date, saying what happened on stderr."""
    from paperroute import search
    from paperroute.progress import counter
    from paperroute.search.embedder import EmbedderUnavailable

    def progress(label, **kwargs):
        return counter(label, enabled=not quiet, **kwargs)

    try:
        report = (search.rebuild if rebuild else search.sync)(embed=embed, progress=progress)
    except EmbedderUnavailable as exc:
        err(f"search index: {exc}")
        return EXIT_UNUSABLE
    for note in report.notes:
        index_log.warning("search index: %s", note)
    if report.stopped:
        index_log.warning("stopping: %s", report.line())
        return stopping.exit_code()
    index_log.info(report.line())
    return EXIT_OK


@command("export")
def cmd_export(args) -> int:
    from paperroute.catalog.export import export_jsonl

    if args.output == "-":
        count = export_jsonl(sys.stdout)
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as stream:
                count = export_jsonl(stream)
        except OSError as exc:  # no such folder, no permission, a full disk
            err(f"export: cannot write {args.output}: {exc.strerror}")
            return EXIT_UNUSABLE
    err(f"exported {count} papers")
    return EXIT_OK


@command("themes")
def cmd_themes(args) -> int:
    from paperroute.search import themesets

    if args.show:
        kind, start = _period_of(args.show)
        if kind is None:
            err(f"themes: {args.show!r} is not a day (2024-11-28), week (2024-W48) or month (2024-11)")
            return EXIT_UNUSABLE
        themes = themesets.for_period(kind, start)
        for theme in themes:
            print(f"{len(theme['members']):5d}  {theme['label']}")
        if not themes:
            err(
                f"themes: none for {args.show}: no papers were listed then, or they have not been "
                "grouped yet (`paperroute themes` groups them; the worker does it after each ingest)"
            )
        return EXIT_OK
    report = themesets.refresh(everything=args.all, log=print)
    print(report.line())
    return EXIT_OK


def _period_of(text: str):
    from datetime import date

    try:
        if len(text) == 10:
            return "day", date.fromisoformat(text)
        if "W" in text:
            year, week = text.split("-W")
            return "week", date.fromisocalendar(int(year), int(week), 1)
        year, month = text.split("-")
        return "month", date(int(year), int(month), 1)
    except ValueError:
        return None, None


@command("check")
def cmd_check(args) -> int:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        # With the database: a catalogue can hold what today's ingest would refuse.
        call_command("check", deploy=args.deploy, fail_level="WARNING", databases=["default"])
    except SystemCheckError as exc:
        print(str(exc).strip(), file=sys.stderr)
        return 1
    return EXIT_OK


@command("stats")
def cmd_stats(args) -> int:
    from paperroute.catalog.stats import catalogue_stats
    from paperroute.catalog.textclean import cut

    stats = catalogue_stats()
    if args.json:
        print(json.dumps(stats, indent=2))
        return EXIT_OK
    print(f"papers      {stats['papers']}")
    print(f"authors     {stats['authors']}")
    print(f"categories  {stats['categories']}")
    for source, info in stats["sources"].items():
        newest = info["newest"]
        print(
            f"{source:<11} {info['papers']} papers; newest {newest['id']} "
            f"({_when(newest)}) {cut(newest['title'], 60)}"
        )
    return EXIT_OK


def _when(newest: dict) -> str:
    """A paper's date for `stats`: when it was published, else announced, else added here."""
    if newest["published"]:
        return newest["published"][:10]
    if newest.get("announced"):
        return f"announced {newest['announced']}"
    return f"added {newest['first_seen'][:10]}"


@command("status")
def cmd_status(args) -> int:
    from paperroute import health

    result = health.report()
    database = result["checks"]["database"]
    if args.json:
        print(json.dumps(result, indent=2))
    elif database.get("migrated") is False:
        err(database["error"])  # what every command says of tables it cannot use
    else:
        print("\n".join(health.lines(result)))
    return EXIT_OK if result["ok"] else 1


@command("createsuperuser")
def cmd_createsuperuser(args) -> int:
    from paperroute.community.accounts import make_superuser
    from paperroute.community.errors import InvalidInput

    try:
        user = make_superuser(args.email)
    except InvalidInput as exc:
        err(f"createsuperuser: {exc}")
        return EXIT_UNUSABLE
    print(
        f"{user.email} (shown as {user.username}) is a superuser; sign in at "
        f"/account/signin with that address, then open /admin/"
    )
    return EXIT_OK


@command("demo")
def cmd_demo(args) -> int:
    from paperroute import demo

    if cmd_migrate(args) != EXIT_OK:
        return EXIT_UNUSABLE
    for line in demo.load():
        print(line)
    _sync_index(embed=True, quiet=False)
    from paperroute.search import themesets

    # The sample's days are old: every period, not only the recent ones the worker keeps.
    index_log.info(themesets.refresh(everything=True).line())
    if args.no_serve:
        return EXIT_OK
    return _serve(args.host, args.port, None, worker=not args.no_worker)


@command("serve")
def cmd_serve(args) -> int:
    from paperroute import health

    # Every page would fail on tables that are not there, or not yet this version's.
    problem = health.database_problem()
    if problem:
        err(problem)
        return EXIT_UNUSABLE
    return _serve(args.host, args.port, args.workers, worker=not args.no_worker)


def _serve(host: str, port: int, workers: int | None, *, worker: bool = True) -> int:
    from django.conf import settings

    from paperroute.server import serve

    count = workers or settings.CONFIG.web_workers or 2 * (os.cpu_count() or 1)
    serve_log.info("serving on http://%s:%s/ with %s workers (Ctrl-C stops)", host, port, count)
    serve(host=host, port=port, workers=count, worker=worker)
    return EXIT_OK


def _print_search(args, run: Callable[[], Any], as_json: Callable, as_lines: Callable) -> int:
    """Run a search command and print what it found, as JSON with --json; exit status 2 when
    the search cannot be run."""
    from paperroute import search

    try:
        found = run()
    except search.SearchError as exc:
        err(str(exc))
        return EXIT_UNUSABLE
    if args.json:
        print(json.dumps(as_json(found), indent=2, ensure_ascii=False))
    else:
        print("\n".join(as_lines(found, emphasis=sys.stdout.isatty())))
    return EXIT_OK


@command("search")
def cmd_search(args) -> int:
    from paperroute import search
    from paperroute.search.terminal import render_results, results_json

    return _print_search(
        args,
        lambda: search.search(
            " ".join(args.query),
            mode=args.mode,
            limit=args.limit,
            offset=args.offset,
            since=args.since,
            until=args.until,
            categories=args.category,
            authors=args.author,
            correct=not args.exact,
        ),
        lambda results: results_json(results, args.offset),
        lambda results, emphasis: render_results(results, emphasis=emphasis, offset=args.offset),
    )


@command("related")
def cmd_related(args) -> int:
    from paperroute import search
    from paperroute.search.terminal import hits_json, render_hits

    return _print_search(
        args,
        lambda: search.related(args.id, limit=args.limit),
        hits_json,
        lambda hits, emphasis: render_hits(hits, emphasis=emphasis) or ["no related papers"],
    )


@command("index")
def cmd_index(args) -> int:
    stopping.install(escalate=True)
    return _sync_index(embed=not args.no_embed, quiet=args.quiet, rebuild=args.action == "rebuild")


EXIT_TEMPFAIL = 75  # sysexits' EX_TEMPFAIL: try again later


@command("digest")
def cmd_digest(args) -> int:
    from paperroute.digest import runs
    from paperroute.digest.errors import DigestError
    from paperroute.digest.smtp import DeliveryError, messenger_factory

    try:
        period = runs.due_period(args.period, date_text=args.date)
        if args.action == "preview":
            data, _ = runs.single(period, args.to)
            sys.stdout.write(data.decode("utf-8", "replace").replace("\r\n", "\n"))
            return EXIT_OK
        if args.dry_run:
            print(runs.dry_run(period).line())
            return EXIT_OK
        if args.to:
            print(runs.send_copy(period, args.to, messenger_factory()))
            return EXIT_OK
        stopping.install(escalate=True)
        report = runs.send(
            period, messenger_factory=messenger_factory(), wait=args.wait, log_line=digest_log.info
        )
    except DigestError as exc:
        err(str(exc))
        return EXIT_UNUSABLE
    except DeliveryError as exc:
        err(f"could not send: {exc}")
        return EXIT_TEMPFAIL
    from paperroute import metrics

    metrics.count_digest(report)
    for one in report.passes:
        for error in one.errors:
            err(error)
    print(report.line())
    if report.stopped:
        err(f"stopping: asked by {stopping.reason()}; the next `digest send` carries on with the run")
        return stopping.exit_code()
    return EXIT_OK if report.complete else EXIT_TEMPFAIL


@command("mcp")
def cmd_mcp(args) -> int:
    from paperroute.web import mcp_server

    if args.http:
        print(
            f"serving MCP on http://{args.host}:{args.port}/mcp (Ctrl-C stops)", file=sys.stderr, flush=True
        )
    mcp_server.run(http=args.http, host=args.host, port=args.port)
    return EXIT_OK


@command("worker")
def cmd_worker(args) -> int:
    from paperroute.worker import run_forever

    return run_forever()
