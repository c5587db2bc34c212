#!/bin/sh
# Runs every test binary in $BUILD/tests and adds up their
# "name: N passed, N failed" lines into one closing line.
BUILD=${BUILD:-build}
export FMSP_WORKER="$PWD/$BUILD/fmsp-worker"
export FMSP_INCLUDE="$PWD/include"
export FMSP_ROOT="$PWD"
export FMSP_BUILD="$PWD/$BUILD"
FMSP_CACHE=$(mktemp -d /tmp/fmsp-test-cache.XXXXXX)
export FMSP_CACHE
passed=0
failed=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1)
    status=$?
    line=$(printf '%s\n' "$out" | grep -E '^[a-z_]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out"
        echo "$(basename "$t"): crashed or printed no summary (exit $status)"
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
    if [ "$f" != 0 ] || [ "$status" != 0 ]; then
        printf '%s\n' "$out"
        [ "$f" = 0 ] && f=1
    else
        echo "$line"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
rm -rf "$FMSP_CACHE"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
