# Shared set-up for kiln's shell tests: the test store, the kernel cache and the
# libvirt daemons. Sourced by tests/run-all.sh and by each test script, so a
# single script also runs alone: sh tests/integration/build.sh
top=${top:-$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)}
KILN=${KILN:-$top/build/kiln}
export KILN
started_daemons=""

# The store must be readable by the qemu process (user libvirt-qemu under
# qemu:///system), so it lives under the checkout when every parent directory
# is searchable by others, else under /var/lib.
kiln_test_store() {
    dir=$top
    while [ "$dir" != "/" ]; do
        [ "$(stat -c %A "$dir" | cut -c10)" = "x" ] || { echo /var/lib/kiln-check; return; }
        dir=$(dirname "$dir")
    done
    echo "$top/build/test-store"
}

kiln_test_daemons() {
    if ! pgrep -x virtlogd >/dev/null; then
        virtlogd -d && started_daemons="$started_daemons virtlogd"
    fi
    if ! pgrep -x libvirtd >/dev/null; then
        libvirtd -d && started_daemons="$started_daemons libvirtd"
    fi
    i=0
    until virsh -q -c qemu:///system version >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 50 ] && { echo "kiln tests: libvirtd did not answer on qemu:///system" >&2; return 1; }
        sleep 0.2
    done
}

kiln_test_setup() {
    KILN_STORE=${KILN_STORE:-$(kiln_test_store)}
    export KILN_STORE
    KILN_CONNECT=${KILN_CONNECT:-qemu:///system}
    export KILN_CONNECT
    mkdir -p "$KILN_STORE" && chmod 755 "$KILN_STORE"
    [ -x "$KILN" ] || { echo "kiln tests: $KILN is missing; run make" >&2; return 1; }
    if [ -z "$("$KILN" kernel ls | sed 1d)" ]; then
        "$KILN" kernel fetch || { echo "kiln tests: cannot fetch the kernel" >&2; return 1; }
    fi
    KILN_TEST_KERNEL_DIR=$(dirname "$("$KILN" kernel ls | sed -n 2p | awk '{print $2}')")
    export KILN_TEST_KERNEL_DIR
    kiln_test_daemons
}

kiln_test_teardown() {
    for d in $started_daemons; do
        pid=$(cat "/run/$d.pid" 2>/dev/null)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done
    started_daemons=""
}

# TAP-style results for count_tap in tests/run-all.sh.
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; test_failed=1; }
# check NAME COMMAND...: runs COMMAND and reports NAME.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
