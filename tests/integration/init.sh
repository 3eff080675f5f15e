#!/bin/sh
# Integration test of kiln-init. It builds one test initramfs that contains
# kiln-init as /init, the kernel modules and the test application from
# init/testapp.c under several names. Then it boots that image under QEMU TCG
# with different per-run settings in fw_cfg and checks the console of each boot.
#
# usage: tests/integration/init.sh [BUILDDIR]
#   KILN_KERNEL_DIR  an unpacked Debian cloud kernel package (boot/vmlinuz-*, lib/modules/*)
#   KILN_TEST_PORT   host port forwarded to the guest's port 80 (default 18099, on 127.0.0.1)
#   KILN_TEST_KEEP   when set, keeps the temporary directory with the console logs
# Prints "ok - NAME" or "not ok - NAME" per check; exits 1 on any failure,
# including when no kernel is available.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
init=${KILN_INIT:-$build/kiln-init}
port=${KILN_TEST_PORT:-18099}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-init-test.XXXXXX") || exit 1
qemu_pids=""
failures=0

cleanup() {
    for pid in $qemu_pids; do
        kill "$pid" 2>/dev/null
    done
    if [ -n "${KILN_TEST_KEEP:-}" ]; then
        echo "# kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail_setup() {
    echo "not ok - setup: $*"
    exit 1
}

# --- the kernel ---------------------------------------------------------------

# The kernel cache of the test store (tests/lib.sh fetches it once), or an
# unpacked Debian kernel package named by KILN_KERNEL_DIR.
if [ -n "${KILN_KERNEL_DIR:-}" ]; then
    vmlinuz=$(ls "$KILN_KERNEL_DIR"/boot/vmlinuz-* 2>/dev/null | head -n 1)
    modules_dir=$(ls -d "$KILN_KERNEL_DIR"/lib/modules/*/kernel 2>/dev/null | head -n 1)
else
    top=$(cd "$(dirname "$0")/../.." && pwd)
    . "$top/tests/lib.sh"
    kiln_test_store_setup >/dev/null || fail_setup "no kernel in the kiln cache and none could be fetched"
    vmlinuz=$KILN_TEST_KERNEL_DIR/vmlinuz
    modules_dir=$KILN_TEST_KERNEL_DIR/modules/kernel
fi
[ -f "$vmlinuz" ] && [ -d "$modules_dir" ] || fail_setup "no kernel image or modules found"
[ -x "$init" ] || fail_setup "$init is missing; run make build/kiln-init"

# --- the initramfs --------------------------------------------------------------

# Dependencies first: fw_cfg, virtio-net, virtio-blk, the ACPI power button, evdev.
modules="failover net_failover virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
         virtio_net virtio_blk qemu_fw_cfg button evdev"
missing_interp=/lib/kiln-test-missing/ld.so.1
initrd=$work/initrd.gz
img=$work/root

cc -O2 -o "$work/mkcpio" "$here/init/mkcpio.c" || fail_setup "cannot build init/mkcpio.c"
musl-gcc -static -Os -o "$work/testapp" "$here/init/testapp.c" || fail_setup "cannot build init/testapp.c"
mkdir -p "$img/kiln" "$img/bin" "$img/lib/modules" "$img/etc"
cp "$init" "$img/init"
for name in exit3 abort info httpd stubborn; do
    cp "$work/testapp" "$img/bin/$name"
done
cp "$work/testapp" "$img/bin/noexec" && chmod 644 "$img/bin/noexec"
printf 'int main(void) { return 0; }\n' > "$work/dyn.c"
cc -o "$img/bin/dynamic" -Wl,--dynamic-linker=$missing_interp "$work/dyn.c" || fail_setup "cannot build a dynamic ELF"

cfg_pair() {
    printf '%s\0%s\0' "$1" "$2"
}

{
    printf 'KILN1\0'
    cfg_pair entry /bin/exit3
    cfg_pair arg image-arg
    cfg_pair env FROM_IMAGE=image
    cfg_pair env OVERRIDE=image
    cfg_pair net none
    for m in $modules; do
        f=$(find "$modules_dir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
        [ -n "$f" ] || fail_setup "module $m not found under $modules_dir"
        case $f in
            *.xz) xz -dc "$f" > "$img/lib/modules/$m.ko" ;;
            *.zst) zstd -qdc "$f" > "$img/lib/modules/$m.ko" ;;
            *) cp "$f" "$img/lib/modules/$m.ko" ;;
        esac
        cfg_pair module "/lib/modules/$m.ko"
    done
} > "$img/kiln/config" || exit 1
"$work/mkcpio" "$img" | gzip -1 > "$initrd" || fail_setup "cannot write $initrd"

# --- booting ---------------------------------------------------------------------

# boot NAME EXTRA_CMDLINE [QEMU_ARGS...]: starts one VM in the background with
# its console in $work/NAME.log and its monitor on the FIFOs $work/NAME.mon.{in,out}.
boot() {
    name=$1
    extra=$2
    shift 2
    mkfifo "$work/$name.mon.in" "$work/$name.mon.out"
    timeout 60 qemu-system-x86_64 -accel tcg -M q35 -m 256 -nodefaults -no-user-config -display none \
        -no-reboot -serial "file:$work/$name.log" -monitor "pipe:$work/$name.mon" \
        -kernel "$vmlinuz" -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1 tsc=reliable no_timer_check i8042.noaux i8042.nopnp $extra" \
        "$@" < /dev/null > "$work/$name.qemu" 2>&1 &
    eval "pid_$name=$!"
    qemu_pids="$qemu_pids $!"
}

# finish NAME: waits for the VM and leaves its console output, without CRs, in $work/NAME.out.
finish() {
    eval "wait \$pid_$1"
    echo $? > "$work/$1.status"
    { tr -d '\r' < "$work/$1.log"; } > "$work/$1.out" 2>/dev/null
}

# wait_for NAME TEXT: waits up to 50 s for TEXT on the console of a running VM.
wait_for() {
    tries=0
    eval "pid=\$pid_$1"
    while ! { tr -d '\r' < "$work/$1.log" | grep -qF "$2"; } 2>/dev/null; do
        tries=$((tries + 1))
        [ $tries -lt 500 ] && kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
}

# powerdown NAME: presses the ACPI power button through the QEMU monitor.
powerdown() {
    timeout 5 sh -c 'echo system_powerdown > "$1"' _ "$work/$1.mon.in"
}

fw_cfg() {
    echo "-fw_cfg name=opt/kiln/config,file=$work/$1.cfg"
}

hex() {
    printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

check() {
    name=$1
    shift
    if "$@"; then
        echo "ok - $name"
    else
        echo "not ok - $name"
        failures=$((failures + 1))
    fi
}

# has RUN LINE: the console of RUN contains LINE as a whole line.
has() {
    grep -qxF -- "$2" "$work/$1.out"
}

exit_line_once() {
    [ "$(grep -c '^KILN-EXIT ' "$work/$1.out")" -eq 1 ]
}

show_on_failure() {
    if [ "$failures" -gt "$1" ]; then
        echo "# console of $2:"
        sed 's/^/#   /' "$work/$2.out"
        sed 's/^/#   qemu: /' "$work/$2.qemu"
    fi
}

# Per-run settings.
{ printf 'KILN1\0'; cfg_pair entry /bin/abort; } > "$work/abort.cfg"
{ printf 'KILN1\0'; cfg_pair entry /bin/nonexistent; } > "$work/missing.cfg"
{ printf 'KILN1\0'; cfg_pair entry /bin/dynamic; } > "$work/dynamic.cfg"
{ printf 'KILN1\0'; cfg_pair entry /bin/noexec; } > "$work/noexec.cfg"
{ printf 'KILN1\0'; cfg_pair entry /bin/httpd; cfg_pair net user; } > "$work/httpd.cfg"
{ printf 'KILN1\0'; cfg_pair entry /bin/stubborn; cfg_pair stop_timeout 1; } > "$work/stubborn.cfg"

arg1='two words'
arg2="double\" single' back\\slash"
arg3='key=value=more'
arg4=$(printf 'line one\nline two')
arg5='ünïcødé ✓ 日本'
arg6=''
env1='OVERRIDE=run'
env2='RUN_VAR=va lue = "x"'
{
    printf 'KILN1\0'
    cfg_pair entry /bin/info
    for a in "$arg1" "$arg2" "$arg3" "$arg4" "$arg5" "$arg6"; do
        cfg_pair arg "$a"
    done
    cfg_pair env "$env1"
    cfg_pair env "$env2"
    cfg_pair workdir /srv/app
    cfg_pair hostname kiln-test
    cfg_pair net dhcp
    cfg_pair mount /dev/vda:/data:rw
} > "$work/info.cfg"

mkdir -p "$work/volume"
echo "hello from the volume" > "$work/volume/in.txt"
mkfs.ext4 -q -F -d "$work/volume" "$work/volume.img" 8M > /dev/null 2>&1 || fail_setup "cannot create an ext4 volume"

# Two VMs at a time: TCG uses one host core per VM.
start=$(date +%s.%N)
boot exit ""
boot abort "kiln.debug" $(fw_cfg abort)
finish exit
end=$(date +%s.%N)
finish abort
echo "# boot to power off of the exit3 image: $(awk "BEGIN { printf \"%.2f\", $end - $start }") s (started together with a second VM)"

failed_before=$failures
check "exit code 3 reported" has exit "KILN-EXIT code=3"
check "exit app output" has exit "hello from exit3"
check "exit line printed once" exit_line_once exit
check "quiet without kiln.debug" sh -c "! grep -q '^kiln-init:' '$work/exit.out'"
check "qemu exits after power off" [ "$(cat "$work/exit.status")" -eq 0 ]
show_on_failure "$failed_before" exit
failed_before=$failures
check "signal reported" has abort "KILN-EXIT signal=6"
check "kiln.debug prints steps" grep -q '^kiln-init: \[[0-9.]*\] started /bin/abort' "$work/abort.out"
show_on_failure "$failed_before" abort

boot missing "" $(fw_cfg missing)
boot dynamic "" $(fw_cfg dynamic)
finish missing
finish dynamic
failed_before=$failures
check "missing entry message" has missing "kiln-init: cannot start /bin/nonexistent: not found"
check "missing entry reported with 127" has missing "KILN-EXIT code=127 error=not-found"
show_on_failure "$failed_before" missing
failed_before=$failures
check "missing interpreter message" has dynamic "kiln-init: cannot start /bin/dynamic: missing interpreter $missing_interp"
check "missing interpreter reported" has dynamic "KILN-EXIT code=127 error=missing-library"
show_on_failure "$failed_before" dynamic

boot noexec "" $(fw_cfg noexec)
boot info "" $(fw_cfg info) -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
    -drive "file=$work/volume.img,format=raw,if=none,id=d0" -device virtio-blk-pci,drive=d0
finish noexec
finish info
failed_before=$failures
check "not executable reported with 126" has noexec "KILN-EXIT code=126 error=not-executable"
show_on_failure "$failed_before" noexec

failed_before=$failures
check "args: count" has info "ARGC 7"
check "args: argv0 is the entry" has info "ARG0 $(hex /bin/info)"
check "args: spaces" has info "ARG1 $(hex "$arg1")"
check "args: quotes and backslash" has info "ARG2 $(hex "$arg2")"
check "args: equals signs" has info "ARG3 $(hex "$arg3")"
check "args: newline" has info "ARG4 $(hex "$arg4")"
check "args: UTF-8" has info "ARG5 $(hex "$arg5")"
check "args: empty" has info "ARG6 "
check "env: per-run value wins" has info "ENV $(hex "$env1")"
check "env: per-run value with spaces" has info "ENV $(hex "$env2")"
check "env: image value kept" has info "ENV $(hex FROM_IMAGE=image)"
check "env: default PATH" has info "ENV $(hex PATH=/usr/local/bin:/usr/bin:/bin)"
check "env: default HOME" has info "ENV $(hex HOME=/root)"
check "env: nothing else" [ "$(grep -c '^ENV ' "$work/info.out")" -eq 6 ]
check "workdir" has info "CWD /srv/app"
check "parent is PID 1" has info "PPID 1"
check "hostname" has info "HOSTNAME kiln-test"
check "dhcp: address" has info "ADDR eth0 10.0.2.15"
check "dhcp: name server" has info "RESOLV nameserver 10.0.2.3"
check "loopback up" has info "ADDR lo 127.0.0.1"
check "volume: read" has info "VOLUME-READ hello from the volume"
check "volume: write" has info "VOLUME-WRITE ok"
check "info exits 0" has info "KILN-EXIT code=0"
check "volume: data on disk" [ "$(debugfs -R 'cat /out.txt' "$work/volume.img" 2>/dev/null)" = "written by the guest" ]
check "volume: clean after power off" e2fsck -fn "$work/volume.img" > /dev/null 2>&1
show_on_failure "$failed_before" info

boot httpd "" $(fw_cfg httpd) -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" \
    -device virtio-net-pci,netdev=n0
boot stubborn "" $(fw_cfg stubborn)
failed_before=$failures
if wait_for httpd LISTENING; then
    reply=$(curl -s --noproxy '*' --max-time 20 "http://127.0.0.1:$port/")
    check "http over forwarded port" [ "$reply" = "kiln-http-ok" ]
    powerdown httpd
else
    check "http server started" false
fi
if wait_for stubborn "ignoring SIGTERM"; then
    powerdown stubborn
else
    check "stubborn app started" false
fi
finish httpd
finish stubborn
check "power button: SIGTERM handler ran" has httpd "goodbye after SIGTERM"
check "power button: clean exit" has httpd "KILN-EXIT code=0"
show_on_failure "$failed_before" httpd
failed_before=$failures
check "stop timeout: SIGKILL reported" has stubborn "KILN-EXIT signal=9"
show_on_failure "$failed_before" stubborn

if [ "$failures" -gt 0 ]; then
    echo "# $failures check(s) failed"
    exit 1
fi
echo "# all checks passed"
