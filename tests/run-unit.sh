#!/bin/sh
# Runs every cmocka unit test binary in BUILDDIR/tests and prints their output.
# Usage: tests/run-unit.sh BUILDDIR. Exit status 1 when any test failed.
builddir=${1:-build}
status=0
for t in "$builddir"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    KILN_TEST_DATA=$(pwd)/tests/data "$t" || status=1
done
exit $status
