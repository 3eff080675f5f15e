#!/bin/sh
# End-to-end test of what libvirt's test driver cannot show: the dashboard on a
# fake backend (tests/tui/fake_backend.c, linked with BUILDDIR/libkiln.a) with
# rising counters, a serial console that echoes, and a connection that drops.
# Checks rates, exit states, full-screen attach with Ctrl-], reconnection and
# terminal restoration. Usage: tests/tui/attach.sh [BUILDDIR]. Prints "N passed, N failed".
set -u

builddir=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
session="kiln-attach-$$"
passed=0
failed=0

if ! command -v tmux >/dev/null 2>&1 || [ ! -f "$root/$builddir/libkiln.a" ]; then
    echo "attach.sh: needs tmux and $root/$builddir/libkiln.a (run make)" >&2
    exit 1
fi
tmp=$(mktemp -d /tmp/kiln-attach.XXXXXX)
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

pkgs="libvirt libxml-2.0 jansson yaml-0.1 ncursesw vterm libarchive libelf libkmod libcrypto"
sanitize=""
case "$builddir" in *asan*) sanitize="-fsanitize=address,undefined" ;; esac
# shellcheck disable=SC2046
if ! cc -std=gnu11 -pthread $sanitize -I"$root/src" -I"$root" $(pkg-config --cflags $pkgs) \
    -o "$tmp/fake-dash" "$here/fake_backend.c" "$root/$builddir/libkiln.a" $(pkg-config --libs $pkgs) -lm; then
    echo "attach.sh: cannot build the fake dashboard" >&2
    exit 1
fi
mkdir -p "$tmp/store" "$tmp/logs"
printf 'alpha booted\r\nready for work\r\n' > "$tmp/logs/alpha.log"

screen() { tmux capture-pane -t "$session" -p; }
keys() { tmux send-keys -t "$session" "$@"; }
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
    failed=$((failed + 1))
    echo "not ok - $1"
    screen | sed 's/^/    | /'
}

wait_for() {
    i=0
    while [ $i -lt 100 ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

check() { if wait_for "$2"; then ok "$1"; else not_ok "$1 (expected '$2')"; fi; }

check_re() { # NAME REGEX, retried for up to 10 s
    i=0
    while [ $i -lt 100 ]; do
        if screen | grep -Eq -- "$2"; then ok "$1"; return; fi
        sleep 0.1
        i=$((i + 1))
    done
    not_ok "$1 (expected /$2/)"
}

wait_shell() {
    i=0
    while [ $i -lt 100 ]; do
        [ "$(tmux display-message -t "$session" -p '#{pane_current_command}')" = sh ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

tmux new-session -d -s "$session" -x 120 -y 36 \
    "env -i HOME=$tmp PATH=$PATH TERM=tmux-256color LANG=C.UTF-8 ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} PS1='prompt\$ ' sh"
sleep 0.3
keys "stty -a > '$tmp/stty.before'" Enter
keys "clear; KILN_STORE='$tmp/store' FAKE_DIR='$tmp/logs' FAKE_LOSE='$tmp/lose' '$tmp/fake-dash'" Enter

check "fake dashboard opens" "kiln  fake:///  QEMU 7.2.0  accel tcg"
check "three instances" "Instances (3)"
# 1.5 CPUs in use: 150 % of one host CPU; 2000 B/s received.
check_re "CPU percent from two samples" "alpha +hello:latest +running +1[45][0-9]\.[0-9]"
check_re "network rate" "2\.0k/0"
# 150 of 200 (2 vCPUs) is six eighths of a sparkline cell.
if wait_for "▆" && screen | grep "alpha " | grep -qF "▆"; then ok "CPU sparkline"; else not_ok "CPU sparkline"; fi
check "CPU graph title" "CPU 1"
check "graph covers the history" ", last "
check_re "exit status shown" "beta +hello:latest +exited \(3\)"
check "crashed state shown" "crashed"
check "uptime of a running instance" "2m 0"
check "memory in use" "MEM 105MB"

# The console pane renders the log.
keys c
check "console pane shows the log" "ready for work"
keys c

# Full-screen attach: the guest gets the keys, Ctrl-] returns.
keys a
check "attach banner" "press Ctrl-] to return to the dashboard"
check "console output shown" "fake console ready"
keys "hello there"
check "keys reach the console" "HELLO THERE"
keys C-]
check "Ctrl-] returns to the dashboard" "back from the console of alpha"
check "dashboard redrawn after attach" "Instances (3)"

# The attach view drew on the alternate screen: none of it shows on the shell's screen.
keys C-z
if wait_shell; then ok "Ctrl-Z after attach returns to the shell"; else not_ok "Ctrl-Z after attach returns to the shell"; fi
if screen | grep -qF -e "HELLO THERE" -e "press Ctrl-] to return"; then
    not_ok "attach output left on the shell screen after Ctrl-Z"
else
    ok "attach output gone from the shell screen after Ctrl-Z"
fi
keys "fg" Enter
check "fg redraws after attach" "Instances (3)"

# Losing the connection: the header says so and the dashboard reconnects.
touch "$tmp/lose"
check "connection loss shown" "reconnecting..."
check "loss explained on the status line" "the fake hypervisor is down; retrying every 2 s"
rm -f "$tmp/lose"
check "reconnects" "kiln  fake:///  QEMU"
check "rows back after reconnecting" "Instances (3)"

# Actions on different instances overlap; those on one instance keep their order.
keys Home Space Space x
check_re "stop of two marked instances names them" "Stop the 2 marked instances: [a-z]+, [a-z]+\?"
start=$(date +%s)
keys y
sleep 0.3
keys Home u
# Waits up to 10 s for both stops and the start to reach the fake backend.
i=0
while [ $i -lt 100 ]; do
    if [ "$(grep -c stop-end "$tmp/logs/calls.log" 2>/dev/null)" = 2 ] && grep -q "^start alpha" "$tmp/logs/calls.log"; then
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
elapsed=$(( $(date +%s) - start ))
if [ "$elapsed" -le 4 ]; then ok "two 2 s stops overlap (${elapsed} s)"; else not_ok "two 2 s stops overlap (${elapsed} s)"; fi
check_re "a finished action is reported" "(stopped|started) (2 instances: )?(alpha|beta)"
order=$(grep alpha "$tmp/logs/calls.log" | tr '\n' ' ')
if [ "$order" = "stop-begin alpha stop-end alpha start alpha " ]; then ok "one instance's actions keep their order"; else
    not_ok "one instance's actions keep their order: $order"
fi

keys q
if wait_shell; then ok "quit returns to the shell"; else not_ok "quit returns to the shell"; fi
if screen | grep -qF -e "HELLO THERE" -e "press Ctrl-] to return"; then
    not_ok "attach output left on the shell screen after quit"
else
    ok "attach output gone from the shell screen after quit"
fi
keys "clear; stty -a > '$tmp/stty.after'; echo STTY-\$((1 + 1))" Enter
check "terminal settings saved" "STTY-2"
if cmp -s "$tmp/stty.before" "$tmp/stty.after"; then ok "terminal restored"; else
    not_ok "terminal restored"
    diff "$tmp/stty.before" "$tmp/stty.after" | sed 's/^/    | /'
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
