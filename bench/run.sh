#!/bin/sh
# Runs every benchmark and prints its figures. Compare ratios within one run:
# absolute times on shared machines are noisy.
BUILD=${BUILD:-build}
export FMSP_WORKER="$PWD/$BUILD/fmsp-worker"
export FMSP_INCLUDE="$PWD/include"
export FMSP_BUILD="$PWD/$BUILD"
export FMSP_ROOT="$PWD"
"$BUILD"/bench/bench_step
if command -v python3 >/dev/null 2>&1; then
    python3 bench/step_python.py 1000000
fi
"$BUILD"/bench/bench_tournament policies/baselines/cartag
for b in "$BUILD"/bench/bench_*; do
    case "$b" in */bench_step|*/bench_tournament) continue ;; esac
    "$b"
done
