#!/bin/sh
# Measures kiln run, ps and stats against their floors and prints one table of
# medians (5 runs each, BENCH_RUNS to change):
#   - time from starting `kiln run --rm hello` to the app's line on stdout, next
#     to the same image booted by a bare qemu-system-x86_64 -kernel -initrd (TCG, q35);
#   - kiln ps and kiln stats --no-stream against virsh list --all and virsh domstats
#     over 1000 domains of libvirt's test driver, generated with kiln's metadata
#     (plus 20 domains without it, which kiln must not list);
#   - the host memory (RSS of the qemu process) of one idle http-c VM.
# kiln stats --no-stream takes two samples one second apart to compute rates,
# so its time includes that second; virsh domstats takes one sample.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_setup || exit 1
runs=${BENCH_RUNS:-5}
work=$(mktemp -d)
cleanup() {
    "$KILN" rm -f bench-idle >/dev/null 2>&1
    rm -rf "$work"
    kiln_test_teardown
}
trap cleanup EXIT

"$KILN" build -q -t hello "$top/examples/hello" >/dev/null || { echo "bench: cannot build hello" >&2; exit 1; }
"$KILN" build -q -t http-c "$top/examples/http-c" >/dev/null || { echo "bench: cannot build http-c" >&2; exit 1; }

# first_line.py TEXT COMMAND...: prints the seconds from starting COMMAND until a
# line of its stdout contains TEXT, or "fail" when no line did. It waits for COMMAND to end.
cat >"$work/first_line.py" <<'EOF'
import subprocess, sys, time
text, argv = sys.argv[1], sys.argv[2:]
start = time.monotonic()
p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
seen = None
for line in p.stdout:
    if seen is None and text.encode() in line:
        seen = time.monotonic() - start
p.wait()
print("fail" if seen is None else "%.3f" % seen)
EOF

# elapsed COMMAND...: wall seconds of COMMAND (output discarded); "fail" when it failed.
elapsed() {
    python3 - "$@" <<'EOF'
import subprocess, sys, time
start = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print("fail" if rc else "%.3f" % (time.monotonic() - start))
EOF
}

# median VALUES...: the median, or "fail" when any run failed.
median() {
    python3 -c 'import statistics, sys
v = sys.argv[1:]
print("fail" if "fail" in v or not v else "%.3f" % statistics.median(map(float, v)))' "$@"
}

ratio() {
    python3 -c 'import sys
a, b = sys.argv[1:]
print("-" if "fail" in (a, b) or float(b) == 0 else "%.1fx" % (float(a) / float(b)))' "$1" "$2"
}

# ---- boot to first line ----
kiln_times=""
qemu_times=""
cmdline=$("$KILN" inspect hello | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["cmdline"])')
memory=$("$KILN" inspect hello | python3 -c 'import json,sys; print(max(json.load(sys.stdin)[0]["memory_mib"], 96))')
i=0
while [ $i -lt "$runs" ]; do
    kiln_times="$kiln_times $(python3 "$work/first_line.py" "from a kiln unikernel" "$KILN" run --rm hello)"
    qemu_times="$qemu_times $(python3 "$work/first_line.py" "from a kiln unikernel" timeout 120 \
        qemu-system-x86_64 -accel tcg -M q35 -m "$memory" -nodefaults -no-reboot -display none -serial stdio \
        -kernel "$(image_file hello vmlinuz)" -initrd "$(image_file hello initrd)" -append "$cmdline")"
    i=$((i + 1))
done
# shellcheck disable=SC2086
kiln_boot=$(median $kiln_times)
# shellcheck disable=SC2086
qemu_boot_s=$(median $qemu_times)

# ---- listing 1000 domains of the test driver ----
node="$work/node.xml"
python3 - "$node" <<'EOF'
import sys
out = open(sys.argv[1], "w")
out.write("<node>\n")
for i in range(1000):
    out.write(f"""<domain type='test'><name>bench-{i:04d}</name><memory>131072</memory><vcpu>1</vcpu>
<os><type>hvm</type></os>
<metadata><kiln:instance xmlns:kiln="https://kiln.dev/xmlns/instance/1">
<kiln:image>hello:latest</kiln:image><kiln:created>2026-12-04T20:00:00Z</kiln:created>
<kiln:started>2026-12-04T20:00:01Z</kiln:started><kiln:auto-remove>false</kiln:auto-remove>
<kiln:port host-ip="127.0.0.1" host="{20000 + i}" guest="80" proto="tcp"/>
</kiln:instance></metadata></domain>
""")
for i in range(20):
    out.write(f"<domain type='test'><name>foreign-{i:02d}</name><memory>131072</memory><vcpu>1</vcpu>"
              f"<os><type>hvm</type></os></domain>\n")
out.write("</node>\n")
EOF
uri="test://$node"
listed=$("$KILN" -c "$uri" ps -q | wc -l)
foreign=$("$KILN" -c "$uri" ps -q | grep -c '^foreign-')
ps_t=""
stats_t=""
virsh_list_t=""
virsh_stats_t=""
i=0
while [ $i -lt "$runs" ]; do
    ps_t="$ps_t $(elapsed "$KILN" -c "$uri" ps -a)"
    stats_t="$stats_t $(elapsed "$KILN" -c "$uri" stats --no-stream)"
    virsh_list_t="$virsh_list_t $(elapsed virsh -c "$uri" list --all)"
    virsh_stats_t="$virsh_stats_t $(elapsed virsh -c "$uri" domstats)"
    i=$((i + 1))
done
# shellcheck disable=SC2086
ps_s=$(median $ps_t)
# shellcheck disable=SC2086
stats_s=$(median $stats_t)
# shellcheck disable=SC2086
virsh_list_s=$(median $virsh_list_t)
# shellcheck disable=SC2086
virsh_stats_s=$(median $virsh_stats_t)

# ---- memory of one idle VM ----
port=$(free_port)
rss="fail"
if "$KILN" run -d --name bench-idle -p "$port:80" http-c >/dev/null 2>&1; then
    i=0
    until curl -s -m 5 "http://127.0.0.1:$port/" >/dev/null 2>&1 || [ $i -gt 120 ]; do i=$((i + 1)); sleep 1; done
    sleep 5
    pid=$(cat "/run/libvirt/qemu/bench-idle.pid" 2>/dev/null)
    [ -n "$pid" ] && rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    "$KILN" rm -f bench-idle >/dev/null 2>&1
fi

printf '\nkiln bench: medians of %s runs (%s, %s)\n\n' "$runs" "$(uname -m)" "$("$KILN" -c "$KILN_CONNECT" info | awk -F': *' '/^Acceleration/ {print $2}' | cut -d' ' -f1) acceleration"
printf '%-44s %12s %12s %8s\n' "measure" "kiln" "floor" "ratio"
printf '%-44s %11ss %11ss %8s\n' "run --rm hello: start to first line" "$kiln_boot" "$qemu_boot_s" "$(ratio "$kiln_boot" "$qemu_boot_s")"
printf '%-44s %11ss %11ss %8s\n' "ps -a vs virsh list --all (1000 domains)" "$ps_s" "$virsh_list_s" "$(ratio "$ps_s" "$virsh_list_s")"
printf '%-44s %11ss %11ss %8s\n' "stats --no-stream vs virsh domstats" "$stats_s" "$virsh_stats_s" "$(ratio "$stats_s" "$virsh_stats_s")"
printf '%-44s %10s MiB %12s %8s\n' "RSS of one idle http-c VM (qemu process)" "$rss" "-" "-"
printf '\ntest driver: kiln ps listed %s domains (1000 with kiln metadata expected), %s foreign (0 expected)\n' \
    "$listed" "$foreign"
printf 'floor: qemu-system-x86_64 -accel tcg -M q35 -m %s -kernel -initrd, serial on stdio\n' "$memory"
printf 'stats --no-stream includes its 1 s wait between two samples; virsh domstats takes one sample\n'
printf 'RSS: VmRSS of the qemu process of an idle http-c VM (%s MiB of VM memory), 5 s after it answered\n' \
    "$("$KILN" inspect http-c | python3 -c 'import json,sys; print(max(json.load(sys.stdin)[0]["memory_mib"], 96))')"
[ "$listed" -eq 1000 ] && [ "$foreign" -eq 0 ]
