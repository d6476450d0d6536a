#!/usr/bin/env bash
# Benchmarks (not tests): runs `streamvision bench` and writes bench/RESULTS.md (tables, targets, chart),
# bench/results.json (every figure, for comparing commits) and bench/scaling.svg (fps and memory vs streams).
#
#   tools/bench.sh                          the whole bench (under 10 minutes on 2 cores)
#   tools/bench.sh --only decode,detect     some of it: decode detect track overhead annotate streams latency micro
#   streamvision bench --only capacity      live capacity search (about 8 minutes; not part of the whole bench)
#   tools/bench.sh --latency-seconds 300    the issue's 5-minute latency run
#   tools/bench.sh --decode-file FILE       also decode your own clip
#   tools/bench.sh --quick                  smoke run; writes to bench/tmp/ (git-ignored) instead of bench/
#
# Every option of `./streamvision bench --help` passes through. SV_BENCH_OUT=DIR (relative to the repository) writes elsewhere.
# Re-render the Markdown and the chart from an earlier JSON without measuring:
#   ./streamvision bench --from-json bench/results.json --markdown bench/RESULTS.md --svg bench/scaling.svg
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"   # output paths relative to the repository: the report records the command without this machine's paths
OUT="bench"
for a in "$@"; do
  if [ "$a" = "--quick" ]; then OUT="bench/tmp"; fi
done
OUT="${SV_BENCH_OUT:-$OUT}"
mkdir -p "$OUT"
exec ./streamvision bench --json "$OUT/results.json" --markdown "$OUT/RESULTS.md" --svg "$OUT/scaling.svg" "$@"
