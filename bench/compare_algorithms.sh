#!/bin/sh
# Runs every search algorithm with the builtin operator, the same seed and
# the same budget, and prints for each the best policy per side against the
# other side's human-designed baselines and the number of distinct strategies.
# usage: bench/compare_algorithms.sh [ITERATIONS] [SEED]   (default 200, 1)
BUILD=${BUILD:-build}
N=${1:-200}
SEED=${2:-1}
OUT=${OUT:-/tmp/fmsp-compare}
mkdir -p "$OUT"
for algo in open-loop vfmsp nssp qdsp; do
    rm -f "$OUT/$algo.db" "$OUT/$algo.db-wal" "$OUT/$algo.db-shm"
    start=$(date +%s)
    "$BUILD"/fmsp run --algo "$algo" --iterations "$N" --seed "$SEED" --db "$OUT/$algo.db" --quiet \
        > "$OUT/$algo.txt" 2>&1
    end=$(date +%s)
    echo "== $algo ($N iterations, seed $SEED, $((end - start)) s)"
    grep -E "archive|best found|best baseline" "$OUT/$algo.txt"
done
