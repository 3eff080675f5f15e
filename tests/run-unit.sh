#!/bin/sh
# Runs every cmocka unit test binary in BUILDDIR/tests and prints their output.
# Usage: tests/run-unit.sh BUILDDIR. Exit status 1 when any test failed.
builddir=${1:-build}
status=0
# The module tests read the cached Debian kernel: fetch it once if needed.
if [ -z "${KILN_TEST_KERNEL_DIR:-}" ]; then
    top=$(pwd)
    KILN=$top/build/kiln
    . tests/lib.sh
    kiln_test_store_setup >/dev/null || exit 1
fi
for t in "$builddir"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    KILN_TEST_DATA=$(pwd)/tests/data "$t" || status=1
done
exit $status
