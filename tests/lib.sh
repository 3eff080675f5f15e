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

# libvirt 9.0 probes QEMU again on every call when /dev/kvm is root-only while
# QEMU runs as libvirt-qemu (calls then take minutes). Debian's udev rules give
# /dev/kvm root:kvm 0660; this applies the same when a host lacks them, and
# kiln_test_teardown puts the old mode back.
kvm_changed=""
kiln_host_kvm() {
    [ -c /dev/kvm ] && [ "$(id -u)" -eq 0 ] && getent group kvm >/dev/null || return 0
    if [ "$(stat -c %G:%a /dev/kvm)" = "root:600" ]; then
        chgrp kvm /dev/kvm && chmod 0660 /dev/kvm && kvm_changed=1
    fi
}

kiln_test_daemons() {
    kiln_host_kvm
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

# Prepares the store and the kernel cache; no daemon needed.
kiln_test_store_setup() {
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
}

kiln_test_setup() {
    kiln_test_store_setup && kiln_test_daemons
}

kiln_test_teardown() {
    if [ -n "$kvm_changed" ]; then
        chgrp root /dev/kvm && chmod 0600 /dev/kvm
        kvm_changed=""
    fi
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

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE TEXT SECONDS: waits until FILE contains TEXT.
wait_for() {
    i=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && return 1
        sleep 0.1
    done
}

# image_file IMAGE FILE: path of vmlinuz or initrd of a stored image.
image_file() {
    echo "$KILN_STORE/images/$(echo "$1" | cut -d: -f1)/$(echo "$1:latest" | cut -d: -f2)/$2"
}

# qemu_boot IMAGE OUTPUT [QEMU ARGS...]: boots a stored image directly (no libvirt)
# under TCG with the image's own kernel command line. The serial console goes to
# OUTPUT. QEMU runs in the background and its pid is left in qemu_pid.
qemu_boot() {
    image=$1 output=$2
    shift 2
    cmdline=$("$KILN" inspect "$image" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["cmdline"])')
    timeout 120 qemu-system-x86_64 -accel tcg -M q35 -m 256 -nodefaults -no-reboot -display none \
        -serial "file:$output" -kernel "$(image_file "$image" vmlinuz)" \
        -initrd "$(image_file "$image" initrd)" -append "$cmdline" "$@" &
    qemu_pid=$!
}

# runcfg FILE KEY VALUE...: writes a kiln-init settings file (see src/runcfg.h).
runcfg() {
    file=$1
    shift
    printf 'KILN1\0' >"$file"
    while [ $# -ge 2 ]; do
        printf '%s\0%s\0' "$1" "$2" >>"$file"
        shift 2
    done
}
