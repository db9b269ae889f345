#!/usr/bin/env bash
# Every per-service benchmark, one after another, with the commit and the load average before and after
# each run (the figures of "Results against the targets" in BENCHMARKS.md). Needs a Kafka and a PostgreSQL
# that nothing else uses (other consumer groups would read the pre-filled topics), e.g.
#   node deploy/local/dist/cli.js up --data-dir /tmp/bench-stack --kafka-port 29092 --kafka-controller-port 29093 --postgres-port 25432
#   KAFKA_BROKERS=127.0.0.1:29092 DATABASE_URL=postgres://postgres:postgres@127.0.0.1:25432/sms_gateway bash scripts/bench-services.sh
# Build first (npm run build). Runs take ~6 minutes; each holds /tmp/bench.lock so two never overlap.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${KAFKA_BROKERS:?set KAFKA_BROKERS to a broker nobody else uses (see the header of this script)}"
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL server (a fresh database is made per run)}"
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)'), $(date -u +%FT%TZ), $(nproc) cores"
run() {
  local name=$1; shift
  echo "### $name"
  flock /tmp/bench.lock bash -c 'echo "before: $(uptime)"; "$@"; echo "after: $(uptime)"' _ "$@" 2>&1 \
    | grep -v -e FastifyWarning -e trace-warnings
}
run "ingest batch" node services/ingest/bench/bench.mjs --duration 10 --warmup 3 --only batch
run "ingest single" node services/ingest/bench/bench.mjs --duration 10 --warmup 3 --only single
run "router, two routing threads" node services/router/bench/router-bench.mjs --messages 200000 --workers 2
run "router, one thread" node services/router/bench/router-bench.mjs --messages 200000 --workers 0
run "carrier-dispatch 4 binds 0 ms" env COUNT=30000 BINDS=4 WINDOW=50 LATENCY_MS=0 node services/carrier-dispatch/bench/dispatch-bench.mjs
for spec in 4:30000 2:20000 1:10000; do
  binds=${spec%%:*} count=${spec##*:}
  run "carrier-dispatch $binds binds 50 ms" env COUNT=$count BINDS=$binds WINDOW=50 LATENCY_MS=50 node services/carrier-dispatch/bench/dispatch-bench.mjs
done
run "dlr-processor, receipts after their submit" env BENCH_PHASED=1 node services/dlr-processor/bench/receipts-throughput.mjs 50000
run "dlr-processor, receipts interleaved" node services/dlr-processor/bench/receipts-throughput.mjs 50000
run "notifier, 8 receivers" node services/notifier/bench/webhooks-throughput.mjs 30000 8
run "notifier, 1 receiver" node services/notifier/bench/webhooks-throughput.mjs 20000 1
