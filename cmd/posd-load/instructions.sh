#!/usr/bin/env bash
# Instructions per operation of a Go benchmark of the write path, counted by
# valgrind's callgrind: a figure that does not move when other programs share
# the CPU (wall-clock and even CPU-time figures do). The benchmark runs with
# fsync off (POSD_BENCH_NOSYNC, honoured by engine/boltstore's benchmarks
# through a test-only hook; posd itself never runs without fsync) and
# GOMAXPROCS=1, because the runtime's idle spinning while fsync waits would
# otherwise be counted too. It runs the benchmark at two counts and divides
# the difference, so set-up costs cancel out. Repeated runs agree within ~1%.
#
#   cmd/posd-load/instructions.sh ./engine/boltstore 'CreateSaleParallel$' [n1 n2]
set -euo pipefail
pkg=$1; bench=$2; n1=${3:-1000}; n2=${4:-5000}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/bench.test" "$pkg"
count() {
  POSD_BENCH_NOSYNC=1 GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$dir/bench.test" -test.run '^$' -test.bench "$bench" -test.benchtime "${1}x" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
a=$(count "$n1"); b=$(count "$n2")
echo "$pkg $bench: $(( (b - a) / (n2 - n1) )) instructions/op (callgrind, ${n1}x vs ${n2}x)"
