#!/usr/bin/env python3
"""Search quality on a BEIR collection, through paperroute's own ingest, index and search.

The corpus becomes paperroute JSON Lines (each document gets a synthetic arXiv-style id, so
that documents sharing a title stay apart), is ingested with `paperroute.catalog` into a
throwaway SQLite database, indexed and embedded by `paperroute.search.sync()`, and every query
is run through `paperroute.search.search()` in each mode, 100 results deep. Printed:
nDCG@10, MAP (over those 100), Recall@100 and MRR@10 per mode.

Modes: lexical, semantic and hybrid are the search modes; rrf is hybrid search with plain
reciprocal-rank fusion (k 60, equal weights), the baseline any fusion must beat; each
--variant NAME:FIELD=V,... is hybrid search with those FusionParams fields changed.

Usage: bench/search_quality.py [--data ../shared/data/scifact] [--split test] [--json]
                               [--workdir DIR] [--param fusion.dense_weight=0.6 ...]
                               [--param floor.enabled=false] [--dump FILE]
                               [--variant fixed:dense_weight=0.6 ...]
       bench/search_quality.py --floor [--modes hybrid,lexical,semantic] ...
       bench/search_quality.py --typos [--seed 0] [--modes hybrid] ...
--workdir keeps the database and index, so a second run (another split, other parameters)
skips the embedding. Tune --param values on a train split only. --dump writes what fusion
was given for each hybrid query (both sides' candidate scores, the query's term statistics),
for bench/fusion_tune.py to try fusion settings on without searching again.

Queries run as the product runs them: relevance floor on and typo correction on (except where
--floor or --typos switch them off). Every table prints a ratio against a baseline measured in
the same run:
- the modes table, each mode against plain RRF (--baseline to choose another row);
- --floor runs each mode with service.py's relevance floor (service.FLOOR, as shipped) and
  without it (enabled=false), and counts what a few nonsense queries return either way;
- --typos gives each query one or two seeded random edits (insertion, deletion, substitution,
  transposition of adjacent letters) on words of four letters or more, and scores the clean
  and the typo queries without and with the product's correction (search(correct=...)),
  against the clean queries without correction.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.beir import evaluate, load_corpus, load_qrels, load_queries  # noqa: E402

MODES = ("lexical", "semantic", "rrf", "hybrid")
DEPTH = 100
# The baseline any fusion has to beat: reciprocal ranks, k 60, both sides weighted alike.
RRF = {"method": "rrf", "rrf_k": 60.0, "dense_weight": 0.5}
# Queries no paper can be about: with the floor they should return nothing.
NONSENSE = (
    "xyzzyqwf",
    "qwzx flurbo",
    "flurbo glimmax snorf",
    "zqxjv wbrtk plomf grelk",
    "asdfghjkl qwertyuiop",
)
TYPO_MIN = 4  # letters a word needs before it gets a typo
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def doc_id(number: int) -> str:
    """A valid new-style arXiv id for the n-th document (9001.00000, 9001.00001, …)."""
    return f"{9001 + number // 100_000}.{number % 100_000:05d}"


def to_jsonl(corpus: list[dict], path: Path) -> dict[str, str]:
    """Write the corpus as paperroute JSON Lines; returns paper key -> corpus id."""
    keys = {}
    with open(path, "w", encoding="utf-8") as out:
        for number, doc in enumerate(corpus):
            key = doc_id(number)
            keys[key] = str(doc["_id"])
            text = doc.get("text") or ""
            title = (doc.get("title") or "").strip() or " ".join(text.split()[:12]) or key
            authors = (doc.get("metadata") or {}).get("authors") or []
            out.write(
                json.dumps(
                    {
                        "id": key,
                        "title": title,
                        "abstract": text,
                        "authors": [a for a in authors if isinstance(a, str)],
                    }
                )
                + "\n"
            )
    return keys


def setup(workdir: Path) -> None:
    os.environ["PAPERROUTE_DATA_DIR"] = str(workdir)
    os.environ["PAPERROUTE_DATABASE_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperroute.settings")
    import django

    from paperroute import conf

    conf.prepare()  # the data directory, secret key and SQLite file
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ingest(corpus: list[dict], workdir: Path, embed: bool) -> tuple[dict[str, str], dict]:
    """Load the corpus and index it; returns key -> corpus id and what indexing cost."""
    from paperroute import search
    from paperroute.catalog.harvest import Request, run
    from paperroute.catalog.ingest import Importer
    from paperroute.catalog.sources.fetch import PoliteClient
    from paperroute.progress import counter

    jsonl = workdir / "corpus.jsonl"
    keys = to_jsonl(corpus, jsonl)
    started = time.perf_counter()
    summary = run(
        Request(source="jsonl", input=str(jsonl)),
        client=PoliteClient(delay=0, timeout=1),
        importer=Importer("jsonl"),
        log=lambda m: print(m, file=sys.stderr),
    )
    ingest_s = time.perf_counter() - started
    if summary.skipped:
        print(
            f"warning: {len(summary.skipped)} documents skipped: {summary.skipped[0].reason}", file=sys.stderr
        )
    started = time.perf_counter()
    report = search.sync(progress=counter, embed=embed)
    index_s = time.perf_counter() - started
    print(report.line(), file=sys.stderr)
    cost = {"ingest_s": round(ingest_s, 1), "index_s": round(index_s, 1), "embedded": report.embedded}
    if report.embedded:
        cost["papers_per_s"] = round(report.embedded / index_s, 1)
    return keys, cost


def _value(raw: str):
    return json.loads(raw) if raw[:1] in '0123456789-tf["' else raw


def apply_params(pairs: list[str]) -> None:
    """Override tuning parameters: fusion.NAME=V, pooling.NAME=V, lexical.NAME=V, floor.NAME=V."""
    from paperroute.search import lexical, service

    for pair in pairs:
        name, _, raw = pair.partition("=")
        group, _, field = name.partition(".")
        value = _value(raw)
        if group == "fusion":
            service.FUSION = replace(service.FUSION, **{field: value})
        elif group == "pooling":
            service.POOLING = replace(service.POOLING, **{field: value})
        elif group == "lexical":
            lexical.DEFAULT_PARAMS = replace(lexical.DEFAULT_PARAMS, **{field: value})
        elif group == "floor" and hasattr(service, "FLOOR"):
            # The relevance floor cuts each ranking's tail; floor.enabled=false measures the
            # rankings alone.
            service.FLOOR = replace(service.FLOOR, **{field: value})
        else:
            raise SystemExit(f"unknown parameter {name!r}: use fusion.*, pooling.*, lexical.* or floor.*")


def parse_variants(specs: list[str]) -> dict[str, dict]:
    """--variant NAME:FIELD=V,FIELD=V -> {NAME: {FIELD: V}} (FusionParams fields)."""
    variants = {"rrf": dict(RRF)}
    for spec in specs:
        name, _, fields = spec.partition(":")
        if not name or name in ("lexical", "semantic", "hybrid"):
            raise SystemExit(f"--variant {spec!r}: give it a name of its own, NAME:FIELD=V,...")
        pairs = [p.partition("=") for p in fields.split(",") if p]
        variants[name] = {field: _value(raw) for field, _, raw in pairs}
    return variants


class FusionCapture:
    """Wraps service.fuse to keep what the first fusion of each query was given."""

    def __init__(self) -> None:
        from paperroute.search import service

        self.service, self.original = service, service.fuse
        self.qid: str | None = None
        self.inputs: dict[str, tuple[dict, dict]] = {}
        self.calls: dict[str, int] = {}

    def __call__(self, lexical, dense, params, *args, **kwargs):
        if self.qid is not None:
            self.calls[self.qid] = self.calls.get(self.qid, 0) + 1
            self.inputs.setdefault(self.qid, (dict(lexical), dict(dense)))
        return self.original(lexical, dense, params, *args, **kwargs)

    def __enter__(self) -> FusionCapture:
        self.service.fuse = self
        return self

    def __exit__(self, *exc) -> None:
        self.service.fuse = self.original


def term_stats(text: str) -> dict:
    """The query's scoring terms: {term: [count in the query, papers holding it]}, and N."""
    from paperroute.search.query import parse
    from paperroute.search.service import open_index

    lexical = open_index().lexical
    counts = lexical.terms(lexical.scoring_words(parse(text)))
    searcher = lexical.searcher
    return {
        "terms": {t: [c, searcher.doc_freq("text", t)] for t, c in counts.items()},
        "papers": searcher.num_docs,
    }


def write_dump(
    path: Path,
    capture: FusionCapture,
    queries: dict[str, str],
    ranked: dict[str, list[str]],
    pid_ids: dict[int, str],
) -> None:
    """Per query: both sides' scores by paper id, term statistics and the hybrid ranking; and
    which corpus id each paper id is (ties in fusion are broken by paper id, so it is kept)."""
    rows = {}
    for qid, text in queries.items():
        row = {
            "text": text,
            "ranked": ranked.get(qid, []),
            "fusions": capture.calls.get(qid, 0),
            **term_stats(text),
        }
        if qid in capture.inputs:
            row["lexical"], row["dense"] = capture.inputs[qid]
        rows[qid] = row
    path.write_text(json.dumps({"ids": pid_ids, "queries": rows}))


def run_queries(
    queries: dict[str, str],
    keys: dict[str, str],
    mode: str,
    depth: int = DEPTH,
    capture: FusionCapture | None = None,
    correct: bool = True,
    corrected: set[str] | None = None,
) -> tuple[dict, float]:
    """Each query through search(); `corrected` collects the queries whose results are for a
    corrected query."""
    from paperroute import search

    ranked, started = {}, time.perf_counter()
    for qid, text in queries.items():
        if capture is not None:
            capture.qid = qid
        results = search.search(text, mode=mode, limit=depth, correct=correct)
        if corrected is not None and results.corrected:
            corrected.add(qid)
        ranked[qid] = [keys[h.key] for h in results.hits if h.key in keys]
    return ranked, (time.perf_counter() - started) / max(len(queries), 1) * 1000


def run_mode(
    mode: str,
    variants: dict[str, dict],
    queries: dict[str, str],
    keys: dict[str, str],
    depth: int,
    capture: FusionCapture | None = None,
    **options,
) -> tuple[dict, float]:
    """A search mode as it is, or a variant: hybrid search under other fusion settings."""
    if mode not in variants:
        return run_queries(queries, keys, mode, depth, capture, **options)
    from paperroute.search import service

    before = service.FUSION
    service.FUSION = replace(before, **variants[mode])
    try:
        return run_queries(queries, keys, "hybrid", depth, capture, **options)
    finally:
        service.FUSION = before


def floor_off():
    """A context in which service.py's relevance floor is switched off."""
    from contextlib import contextmanager

    from paperroute.search import service

    @contextmanager
    def off():
        before = service.FLOOR
        service.FLOOR = replace(before, enabled=False)
        try:
            yield
        finally:
            service.FLOOR = before

    return off()


# -- typos ---------------------------------------------------------------------------------


def _edit(word: str, rng: random.Random) -> str:
    """One random edit of `word`: insertion, deletion, substitution or transposition."""
    kind = rng.choice(("insertion", "deletion", "substitution", "transposition"))
    i = rng.randrange(len(word))
    if kind == "transposition":
        pairs = [j for j in range(len(word) - 1) if word[j] != word[j + 1]]
        if pairs:
            j = rng.choice(pairs)
            return word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        kind = "substitution"
    if kind == "insertion":
        j = rng.randrange(len(word) + 1)
        return word[:j] + rng.choice(_LETTERS) + word[j:]
    if kind == "deletion":
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice([c for c in _LETTERS if c != word[i].lower()]) + word[i + 1 :]


def with_typos(qid: str, text: str, seed: int) -> str:
    """The query with one or two edits (chosen by `seed` and the query id), each in another
    word of at least TYPO_MIN letters; unchanged when it has no such word."""
    rng = random.Random(f"{seed}:{qid}")
    spans = [m.span() for m in re.finditer(r"[^\W\d_]+", text) if m.end() - m.start() >= TYPO_MIN]
    if not spans:
        return text
    chosen = sorted(rng.sample(spans, min(rng.choice((1, 2)), len(spans))), reverse=True)
    for start, end in chosen:  # right to left, so earlier spans stay where they were
        text = text[:start] + _edit(text[start:end], rng) + text[end:]
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        default=str(ROOT.parent / "shared" / "data" / "scifact"),
        help="a BEIR-layout folder (default ../shared/data/scifact)",
    )
    parser.add_argument("--split", default="test", help="qrels split to score (default test)")
    parser.add_argument("--json", action="store_true", help="print {mode: {metric: value}}")
    parser.add_argument("--workdir", help="keep the database and index here (reused if present)")
    parser.add_argument("--param", action="append", default=[], help="override, e.g. fusion.dense_weight=0.6")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="an extra hybrid row with other fusion settings, NAME:FIELD=V,...",
    )
    parser.add_argument("--dump", help="write the hybrid queries' fusion inputs here (JSON)")
    parser.add_argument(
        "--modes", default=None, help=f"comma-separated (default {','.join(MODES)}, then each --variant)"
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=DEPTH,
        help="results asked for per query (default 100; Recall@100 needs 100)",
    )
    parser.add_argument(
        "--baseline", default="rrf", help="the mode the modes table's ratios are against (default rrf)"
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="each mode with the relevance floor and without; nonsense queries",
    )
    parser.add_argument(
        "--typos",
        action="store_true",
        help="clean and typo queries, without and with correction (default mode hybrid)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the typos' random seed (default 0)")
    args = parser.parse_args()
    variants = parse_variants(args.variant)
    default_modes = ["hybrid"] if args.typos else [*MODES, *(v.partition(":")[0] for v in args.variant)]
    modes = args.modes.split(",") if args.modes else default_modes
    unknown = [m for m in modes if m not in ("lexical", "semantic", "hybrid") and m not in variants]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}: lexical, semantic, hybrid, rrf or a --variant")

    data = Path(args.data)
    missing = [
        p for p in ("corpus.jsonl", "queries.jsonl", f"qrels/{args.split}.tsv") if not (data / p).exists()
    ]
    if missing:
        print(
            f"search_quality: collection missing at {data} (no {', '.join(missing)}); "
            "get the BEIR files or pass --data DIR",
            file=sys.stderr,
        )
        return 2
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="pr-quality-"))
    workdir.mkdir(parents=True, exist_ok=True)
    setup(workdir)
    apply_params(args.param)
    corpus = load_corpus(data)
    from paperroute.catalog.models import Paper

    if Paper.objects.count() == len(corpus):
        keys = {doc_id(n): str(doc["_id"]) for n, doc in enumerate(corpus)}
        from paperroute import search

        report = search.sync(embed=modes != ["lexical"])
        cost = {"reused_workdir": str(workdir), "embedded": report.embedded}
    else:
        keys, cost = ingest(corpus, workdir, embed=modes != ["lexical"])
    qrels = load_qrels(data, args.split)
    queries = {qid: text for qid, text in load_queries(data).items() if qid in qrels}

    head = f"{data.name} ({args.split}): {len(corpus)} documents, {len(queries)} queries; {cost}"
    if args.floor:
        return floor_table(head, modes, variants, queries, keys, qrels, args)
    if args.typos:
        return typo_table(head, modes, variants, queries, keys, qrels, args)

    results, timing = {}, {}
    for mode in modes:
        if args.dump and mode == "hybrid":
            with FusionCapture() as capture:
                ranked, per_query_ms = run_mode(mode, variants, queries, keys, args.depth, capture)
            pid_ids = {pid: keys[key] for pid, key in Paper.objects.values_list("pk", "key") if key in keys}
            write_dump(Path(args.dump), capture, queries, ranked, pid_ids)
        else:
            ranked, per_query_ms = run_mode(mode, variants, queries, keys, args.depth)
        results[mode] = evaluate(ranked, qrels)
        timing[mode] = round(per_query_ms, 1)
    if args.json:
        print(json.dumps(results))
        return 0
    base = results.get(args.baseline)
    print(head)
    width = max(10, *(len(m) + 1 for m in results))
    print(
        f"{'mode':<{width}}{'nDCG@10':>9}{'MAP':>8}{'R@100':>8}{'MRR@10':>8}{'ms/query':>10}"
        + (f"  nDCG@10 / {args.baseline}" if base else "")
    )
    for mode, metrics in results.items():
        print(
            f"{mode:<{width}}{metrics['ndcg@10']:>9.4f}{metrics['map']:>8.4f}{metrics['recall@100']:>8.4f}"
            f"{metrics['mrr@10']:>8.4f}{timing[mode]:>10.1f}"
            + (f"  {_ratio(metrics['ndcg@10'], base['ndcg@10'])}" if base else "")
        )
    return 0


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3f}" if base else "-"


def floor_table(
    head: str,
    modes: list[str],
    variants: dict[str, dict],
    queries: dict[str, str],
    keys: dict[str, str],
    qrels: dict,
    args,
) -> int:
    """Each mode with service.py's relevance floor (as shipped) and without it; then what
    nonsense queries return either way."""
    from paperroute import search

    results: dict[str, dict] = {}
    for mode in modes:
        with floor_off():
            off, _ = run_mode(mode, variants, queries, keys, args.depth)
        on, _ = run_mode(mode, variants, queries, keys, args.depth)
        results[mode] = {
            "off": evaluate(off, qrels),
            "on": evaluate(on, qrels),
            "results_off": sum(map(len, off.values())) / max(len(off), 1),
            "results_on": sum(map(len, on.values())) / max(len(on), 1),
        }
    nonsense: dict[str, dict] = {}
    for mode in ("hybrid", "lexical", "semantic"):
        for text in NONSENSE:
            row = nonsense.setdefault(text, {})
            with floor_off():
                found = search.search(text, mode=mode, limit=args.depth)
                row[f"{mode} off"] = [len(found.hits), found.total]
            found = search.search(text, mode=mode, limit=args.depth)
            row[f"{mode} on"] = [len(found.hits), found.total, found.corrected or found.suggestion]
    if args.json:
        print(json.dumps({"modes": results, "nonsense": nonsense}))
        return 0
    print(head)
    print("relevance floor on (as shipped) against off, in the same run")
    print(
        f"{'mode':<10}{'nDCG@10 off':>12}{'on':>8}{'on/off':>8}{'R@100 off':>11}{'on':>8}{'on/off':>8}"
        f"{'results/query off':>19}{'on':>7}"
    )
    for mode, r in results.items():
        off, on = r["off"], r["on"]
        print(
            f"{mode:<10}{off['ndcg@10']:>12.4f}{on['ndcg@10']:>8.4f}"
            f"{_ratio(on['ndcg@10'], off['ndcg@10']):>8}{off['recall@100']:>11.4f}"
            f"{on['recall@100']:>8.4f}{_ratio(on['recall@100'], off['recall@100']):>8}"
            f"{r['results_off']:>19.1f}{r['results_on']:>7.1f}"
        )
    print(f"nonsense queries, results shown (of {args.depth} asked) / total said, floor off -> on:")
    for text, row in nonsense.items():
        cells = []
        for mode in ("hybrid", "lexical", "semantic"):
            (n_off, t_off), (n_on, t_on, fixed) = row[f"{mode} off"], row[f"{mode} on"]
            cells.append(f"{mode} {n_off}/{t_off} -> {n_on}/{t_on}" + (f" ({fixed!r})" if fixed else ""))
        print(f"  {text!r}: " + "; ".join(cells))
    return 0


def typo_table(
    head: str,
    modes: list[str],
    variants: dict[str, dict],
    queries: dict[str, str],
    keys: dict[str, str],
    qrels: dict,
    args,
) -> int:
    """Clean and typo queries, each without and with correction, against clean without."""
    typos = {qid: with_typos(qid, text, args.seed) for qid, text in queries.items()}
    changed = sum(1 for qid in queries if typos[qid] != queries[qid])
    results: dict[str, dict] = {}
    for mode in modes:
        row = results.setdefault(mode, {})
        for name, texts, correct in (
            ("clean", queries, False),
            ("clean corrected", queries, True),
            ("typos", typos, False),
            ("typos corrected", typos, True),
        ):
            fixed: set[str] = set()
            ranked, _ = run_mode(mode, variants, texts, keys, args.depth, correct=correct, corrected=fixed)
            row[name] = {**evaluate(ranked, qrels), "corrected": len(fixed)}
    if args.json:
        print(
            json.dumps(
                {
                    "seed": args.seed,
                    "changed": changed,
                    "modes": results,
                    "examples": {q: typos[q] for q in list(queries)[:5]},
                }
            )
        )
        return 0
    print(head)
    print(
        f"typos: seed {args.seed}; {changed} of {len(queries)} queries changed (one or two edits "
        f"in words of {TYPO_MIN}+ letters); kept = nDCG@10 / clean without correction, same run"
    )
    for qid in list(queries)[:3]:
        print(f"  e.g. {queries[qid]!r} -> {typos[qid]!r}")
    print(f"{'mode':<10}{'set':<17}{'nDCG@10':>9}{'kept':>8}{'R@100':>8}{'corrected':>11}")
    for mode, row in results.items():
        base = row["clean"]["ndcg@10"]
        for name, m in row.items():
            print(
                f"{mode:<10}{name:<17}{m['ndcg@10']:>9.4f}{_ratio(m['ndcg@10'], base):>8}"
                f"{m['recall@100']:>8.4f}{m['corrected']:>11}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
