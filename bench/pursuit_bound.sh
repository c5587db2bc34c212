#!/bin/sh
# How much room do the baseline evaders leave a pursuer? Plays pure pursuit,
# the best baseline pursuers and a planner that knows evader_flee exactly
# (bench/policies/pursuer_flee_planner.c) against every baseline evader on
# the same starts. If the planner cannot beat pure pursuit even against the
# evader it models perfectly, pursuer quality against these evaders is
# capped by the tail chase, and no search can show a clear pursuer win there.
# usage: bench/pursuit_bound.sh [EPISODES] [SEED]   (default 100, 7)
BUILD=${BUILD:-build}
N=${1:-100}
SEED=${2:-7}
B=policies/baselines/cartag
"$BUILD"/fmsp eval --episodes "$N" --seed "$SEED" \
    $B/pursuer_pure_pursuit.c $B/pursuer_prop_nav.c $B/pursuer_intercept.c \
    bench/policies/pursuer_flee_planner.c $B/evader_*.c
