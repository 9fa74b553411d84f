#!/usr/bin/env bash
# Per-dataset normalize throughput as a table (BenchmarkNormalize: every
# registered dataset; the Logpush datasets on generated records, the API
# datasets on testdata/<dataset>/input.ndjson).
#
#   scripts/bench-normalize.sh                 # 1s per dataset
#   BENCHTIME=3s COUNT=3 scripts/bench-normalize.sh
#   BENCH='Normalize$/dns' scripts/bench-normalize.sh   # a subset
#
# Columns: records/s (wall clock), records per CPU-second of the whole
# process (GC included: the steadier figure on a shared machine), ns and
# allocations per record, MB/s of raw input. With COUNT > 1 the best run of
# each dataset is shown.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-'Normalize$'}
go test ./internal/normalize -run '^$' -bench "$BENCH" -benchtime "${BENCHTIME:-1s}" -count "${COUNT:-1}" -benchmem |
awk '
/^BenchmarkNormalize\// {
	name = $1; sub(/^BenchmarkNormalize\//, "", name); sub(/-[0-9]+$/, "", name)
	rps = cpu = ns = allocs = mbs = ""
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "records/s") rps = $i
		if ($(i+1) == "records/cpu-s") cpu = $i
		if ($(i+1) == "ns/op") ns = $i
		if ($(i+1) == "allocs/op") allocs = $i
		if ($(i+1) == "MB/s") mbs = $i
	}
	if (!(name in best) || rps + 0 > best[name] + 0) {
		best[name] = rps; bcpu[name] = cpu; bns[name] = ns; ballocs[name] = allocs; bmbs[name] = mbs
	}
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
}
/^(ok|FAIL|---)/ && !/^--- BENCH/ { print > "/dev/stderr" }
END {
	printf "%-38s %12s %14s %10s %8s %8s\n", "DATASET", "records/s", "records/cpu-s", "ns/record", "allocs", "MB/s"
	for (i = 1; i <= n; i++) {
		k = order[i]
		printf "%-38s %12.0f %14.0f %10.0f %8s %8s\n", k, best[k], bcpu[k], bns[k], ballocs[k], bmbs[k]
	}
}'
