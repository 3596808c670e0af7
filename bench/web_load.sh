#!/usr/bin/env bash
# Load test of the site with wrk on loopback: the listing page (/) and paper pages, against
# 10,000 papers, with the production server (`paperroute serve`, gunicorn). A static file served
# by the same server is the baseline, so figures can be read as ratios. A paper page is measured
# three ways: one page, from the page cache; a different page each request (rendered, as for a
# crawler); one page for a signed-in reader (rendered: the cache is for anonymous visitors).
#   bench/web_load.sh [PAPERS=10000] [SECONDS=15] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
PAPERS=${1:-10000}; DURATION=${2:-15}; CONNECTIONS=${3:-32}
export PAPERS  # read by bench/web_paper_pages.lua
PY=${PYTHON:-.venv/bin/python}

if ! command -v wrk >/dev/null 2>&1; then
    echo "web_load: wrk is missing; install it with: apt-get install -y wrk" >&2
    exit 2
fi

DATA=$(mktemp -d)
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PAPERROUTE_DATA_DIR="$DATA" PAPERROUTE_DATABASE_URL="${PAPERROUTE_DATABASE_URL:-}"
export PAPERROUTE_EMBED_ON_INGEST=false PYTHONPATH="$PWD"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

TODAY=$("$PY" -c 'import datetime; print(datetime.datetime.now(datetime.timezone.utc).date())')
"$PY" -m paperroute migrate >/dev/null
"$PY" bench/web_papers.py "$PAPERS" "$TODAY" > "$DATA/papers.jsonl"
"$PY" -m paperroute ingest jsonl "$DATA/papers.jsonl" --quiet
# The keyword index, as the worker's sync leaves it before embedding: paper pages list related
# papers from it.
"$PY" -m paperroute index rebuild --no-embed --quiet >/dev/null
COOKIE=$("$PY" bench/web_session.py)
# The background worker would spend the run embedding the new papers: measure the web alone.
NO_WORKER=$("$PY" -m paperroute serve --help | grep -q -- --no-worker && echo --no-worker || true)
"$PY" -m paperroute serve --port "$PORT" $NO_WORKER >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break; sleep 0.5; done
PAPER=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$DATA/papers.jsonl")

# Browsers ask for gzip; GZIP=0 measures clients that do not.
ENCODING=()
[ "${GZIP:-1}" = 1 ] && ENCODING=(-H "Accept-Encoding: gzip")

measure() {  # name path [wrk options...] -> "name req/s p99_ms"
    local name=$1 path=$2; shift 2
    # Warm up first: every server process renders the page once before it serves it from its
    # cache, and those first renders are start-up cost, not the steady state being measured.
    wrk -t2 -c"$CONNECTIONS" -d3s "${ENCODING[@]}" "$@" "http://127.0.0.1:$PORT$path" >/dev/null
    local out; out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${ENCODING[@]}" "$@" "http://127.0.0.1:$PORT$path")
    local rps p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
    echo "$name $rps $p99 ${errors:+($errors)}"
}

size() {  # path -> "plain_bytes gzip_bytes"
    echo "$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT$1")" \
         "$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT$1")"
}
for path in / "/papers/$PAPER" /feeds/daily.xml "/api/daily_papers?limit=50"; do
    read -r plain packed <<<"$(size "$path")"
    echo "web_load: $path: $plain bytes, $packed gzipped ($(awk -v a="$plain" -v b="$packed" 'BEGIN {printf "%.1f", a/b}')x smaller)"
done
echo "web_load: load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "web_load: $PAPERS papers, $DURATION s per URL, $CONNECTIONS connections, database: ${PAPERROUTE_DATABASE_URL:-SQLite}, gzip: ${GZIP:-1}"
BASE=$(measure baseline /static/css/site.css)
LIST=$(measure listing /)
PAGE=$(measure paper "/papers/$PAPER")
MANY=$(measure paper-any / -s bench/web_paper_pages.lua)
SIGNED=$(measure paper-in "/papers/$PAPER" -H "Cookie: $COOKIE")
printf '%-9s %10s %9s %s\n' "url" "req/s" "p99 ms" "ratio to baseline (req/s)"
for row in "$BASE" "$LIST" "$PAGE" "$MANY" "$SIGNED"; do
    read -r name rps p99 rest <<<"$row"
    ratio=$(awk -v a="$rps" -v b="$(cut -d' ' -f2 <<<"$BASE")" 'BEGIN {printf "%.3f", a/b}')
    printf '%-9s %10s %9s %s %s\n' "$name" "$rps" "$p99" "$ratio" "$rest"
done
