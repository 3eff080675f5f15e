#!/bin/sh
# Scale test of the dashboard: 1000 instances on libvirt's test driver. Checks
# that the table opens within 10 s, that keys still take effect within 1 s, and that
# the idle dashboard uses under 25 % of one CPU over 10 s of refreshes.
# Usage: tests/tui/scale.sh [BUILDDIR]. Prints "N passed, N failed".
set -u

builddir=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kiln="$root/$builddir/kiln"
session="kiln-scale-$$"
passed=0
failed=0

if ! command -v tmux >/dev/null 2>&1 || [ ! -x "$kiln" ]; then
    echo "scale.sh: needs tmux and $kiln (run make)" >&2
    exit 1
fi
tmp=$(mktemp -d /tmp/kiln-scale.XXXXXX)
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
# The fixture has 4 instances of its own.
sh "$here/make-fixture" "$tmp" 996

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }

# Prints the seconds until TEXT appears, or fails after LIMIT seconds.
time_until() { # TEXT LIMIT
    start=$(date +%s.%N)
    while :; do
        if tmux capture-pane -t "$session" -p | grep -qF -- "$1"; then
            echo "$(date +%s.%N) $start" | awk '{ printf "%.2f\n", $1 - $2 }'
            return 0
        fi
        now=$(date +%s.%N)
        if [ "$(echo "$now $start $2" | awk '{ print ($1 - $2 > $3) }')" = 1 ]; then
            return 1
        fi
        sleep 0.05
    done
}

tmux new-session -d -s "$session" -x 160 -y 50 \
    "env KILN_STORE='$tmp/store' TERM=tmux-256color LANG=C.UTF-8 '$kiln' -c 'test://$tmp/node.xml' dash"
if t=$(time_until "Instances (1000)" 10); then ok "1000 instances shown after ${t} s"; else not_ok "1000 instances shown within 10 s"; fi

tmux send-keys -t "$session" End
if t=$(time_until "> web-2" 1); then ok "End takes effect in ${t} s"; else not_ok "End takes effect within 1 s"; fi
tmux send-keys -t "$session" / s c a l e - 9 9 Enter
if t=$(time_until "(8 of 1000, filter 'scale-99')" 1); then ok "filter takes effect in ${t} s"; else not_ok "filter takes effect within 1 s"; fi

pane_pid=$(tmux display-message -t "$session" -p '#{pane_pid}')
ticks() { awk '{ print $14 + $15 }' "/proc/$pane_pid/stat"; }
before=$(ticks)
sleep 10
after=$(ticks)
hz=$(getconf CLK_TCK)
percent=$(echo "$before $after $hz" | awk '{ printf "%.1f", ($2 - $1) / $3 / 10 * 100 }')
if [ "$(echo "$percent" | awk '{ print ($1 < 25) }')" = 1 ]; then
    ok "idle CPU ${percent} % of one CPU"
else
    not_ok "idle CPU ${percent} % of one CPU (limit 25 %)"
fi

tmux send-keys -t "$session" q
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
