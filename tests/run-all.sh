#!/bin/sh
# make check: unit tests (plain and under ASan+UBSan), then the integration and
# dashboard tests against a real libvirtd and qemu. Prints every test's output
# and ends with one line "N passed, M failed". Starts libvirtd and virtlogd when
# none runs, and stops what it started.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. tests/lib.sh

passed=0
failed=0
log=$(mktemp)

# count_cmocka BINARY: runs one cmocka binary and adds its results to the totals.
count_cmocka() {
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    ok=$(grep -c '^\[       OK \]' "$log")
    bad=$(grep -E -c '^\[  FAILED  \] [^0-9]' "$log")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "not ok - $1 exited with status $rc"
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# count_tap SCRIPT: runs a shell test that prints "ok - NAME" / "not ok - NAME".
count_tap() {
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    ok=$(grep -c '^ok - ' "$log")
    bad=$(grep -c '^not ok - ' "$log")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "not ok - $1 exited with status $rc"
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

kiln_test_setup || { echo "0 passed, 1 failed"; exit 1; }

[ -n "${KILN_ONLY_INTEGRATION:-}" ] || {
echo "== unit tests"
for t in build/tests/test_*; do
    [ -x "$t" ] && count_cmocka "$t"
done
echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS
for t in build/asan/tests/test_*; do
    [ -x "$t" ] && count_cmocka "$t"
done
unset ASAN_OPTIONS UBSAN_OPTIONS
}

echo "== integration tests"
for t in tests/integration/*.sh; do
    [ -f "$t" ] && count_tap sh "$t"
done
echo "== dashboard tests"
for t in tests/tui/*.sh; do
    [ -f "$t" ] && count_tap sh "$t"
done

kiln_test_teardown
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
