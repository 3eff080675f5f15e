#!/bin/sh
# Build benchmark: median of 5 runs of a cold build (--no-cache, kernel already
# cached) and of a cached rebuild, for the C hello world and for redis, and the
# image sizes. Usage: sh tests/bench/build.sh (after make).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_store_setup >/dev/null || exit 1
runs=5

# median_time COMMAND...: prints the median wall time of RUNS runs, in seconds.
median_time() {
    i=0
    while [ $i -lt $runs ]; do
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
        end=$(date +%s.%N)
        echo "$end - $start" | bc -l
        i=$((i + 1))
    done | sort -n | sed -n "$(((runs + 1) / 2))p"
}

size_of() { stat -c %s "$(image_file "$1" "$2")"; }

printf '%-10s %12s %12s %8s %14s %16s\n' IMAGE "COLD (s)" "CACHED (s)" RATIO "INITRD (B)" "WITH KERNEL (B)"
for example in hello redis; do
    cold=$(median_time "$KILN" build --no-cache -t "bench-$example" "$top/examples/$example")
    cached=$(median_time "$KILN" build -t "bench-$example" "$top/examples/$example")
    initrd=$(size_of "bench-$example" initrd)
    kernel=$(size_of "bench-$example" vmlinuz)
    printf '%-10s %12.3f %12.3f %8.1f %14d %16d\n' "$example" "$cold" "$cached" \
        "$(echo "$cold / $cached" | bc -l)" "$initrd" "$((initrd + kernel))"
    "$KILN" rmi "bench-$example" >/dev/null
done
echo "medians of $runs runs on $(nproc) cores; RATIO is cold / cached"
