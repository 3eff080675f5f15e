#!/bin/sh
# Dashboard benchmark on libvirt's test driver (tests/tui/make-fixture: kiln
# instances with metadata in a node XML file), with 10 and with 1000 instances.
# For each size it starts `kiln dash --delay 0.5` in a tmux session RUNS times
# (5) and prints the medians of:
#   - CPU time per refresh: the time on CPU of all the kiln process's threads
#     (schedstat) over WINDOW seconds (6), divided by the stats samples the
#     dashboard logged, so the redraws of the clock between samples count too;
#   - resident memory (VmRSS) after that window;
#   - key to redraw: the time from reading a key (I, which sorts the whole
#     instance table again) to the end of curses' refresh, from the KILN_DEBUG
#     log, and the time from tmux send-keys until capture-pane shows the change.
# Then it prints the ratios of the 1000-instance figures to the 10-instance ones.
# Usage: tests/bench/dashboard.sh [BUILDDIR]
set -u

builddir=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
kiln="$root/$builddir/kiln"
runs=${RUNS:-5}
window=${WINDOW:-6}
presses=10
session="kiln-bench-dash-$$"

if ! command -v tmux >/dev/null 2>&1 || [ ! -x "$kiln" ]; then
    echo "dashboard.sh: needs tmux and $kiln (run make)" >&2
    exit 1
fi
tmp=$(mktemp -d /tmp/kiln-bench-dash.XXXXXX)
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

screen() { tmux capture-pane -t "$session" -p; }

# wait_screen TEXT SECONDS: waits for TEXT (a fixed string) on the screen.
wait_screen() {
    limit=$(($2 * 100))
    i=0
    while [ $i -lt "$limit" ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.01
        i=$((i + 1))
    done
    return 1
}

# median: prints the median of the numbers on standard input.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

now_ns() { date +%s%N; }

# kiln_pid: the kiln process of the session (tmux may start it through sh -c).
kiln_pid() {
    pane=$(tmux display-message -t "$session" -p '#{pane_pid}')
    if [ "$(cat "/proc/$pane/comm")" = kiln ]; then
        echo "$pane"
    else
        cat "/proc/$pane/task/$pane/children" | awk '{ print $1 }'
    fi
}

# cpu_ns PID: nanoseconds on CPU of all of PID's threads (the first field of schedstat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ sum += $1 } END { printf "%.0f\n", sum }'; }
samples() { grep -c "stats sample of" "$1"; }

# one_run DIR TOTAL N: one dashboard on fixture DIR with TOTAL instances; appends
# "cpu_ms rss_kib key_ms screen_ms" to $tmp/results.TOTAL.
one_run() {
    dir=$1 total=$2 n=$3
    log="$tmp/debug.$total.$n.log"
    : > "$log"
    tmux new-session -d -s "$session" -x 160 -y 50 \
        "env KILN_STORE='$dir/store' KILN_DEBUG='$log' TERM=tmux-256color LANG=C.UTF-8 '$kiln' -c 'test://$dir/node.xml' dash --delay 0.5"
    if ! wait_screen "Instances ($total)" 20; then
        echo "dashboard.sh: the dashboard did not show $total instances within 20 s" >&2
        exit 1
    fi
    sleep 1
    pid=$(kiln_pid)
    cpu0=$(cpu_ns "$pid")
    samples0=$(samples "$log")
    sleep "$window"
    cpu1=$(cpu_ns "$pid")
    samples1=$(samples "$log")
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    [ -n "${BENCH_DEBUG:-}" ] && echo "cpu $cpu0 $cpu1 samples $samples0 $samples1" >&2
    cpu_ms=$(echo "$cpu0 $cpu1 $samples0 $samples1" | awk '{ printf "%.3f", ($2 - $1) / 1e6 / ($4 - $3) }')

    # I flips the instance table's sort order: NAME▲ and NAME▼ alternate.
    : > "$tmp/screen_ms"
    arrow="NAME▼"
    k=0
    while [ $k -lt $presses ]; do
        start=$(now_ns)
        tmux send-keys -t "$session" I
        wait_screen "$arrow" 5 || { echo "dashboard.sh: I did not change the sort order" >&2; exit 1; }
        echo "$(now_ns) $start" | awk '{ printf "%.3f\n", ($1 - $2) / 1e6 }' >> "$tmp/screen_ms"
        if [ "$arrow" = "NAME▼" ]; then arrow="NAME▲"; else arrow="NAME▼"; fi
        sleep 0.1
        k=$((k + 1))
    done
    key_ms=$(sed -n 's/.*key I drawn \([0-9.]*\) ms.*/\1/p' "$log" | median)
    screen_ms=$(median < "$tmp/screen_ms")
    tmux send-keys -t "$session" q
    sleep 0.3
    tmux kill-session -t "$session" 2>/dev/null
    echo "$cpu_ms $rss $key_ms $screen_ms" >> "$tmp/results.$total"
}

# column FILE N: the median of column N of FILE.
column() { awk -v c="$2" '{ print $c }' "$1" | median; }

echo "kiln dashboard benchmark: libvirt test driver, refresh every 0.5 s, median of $runs runs"
echo "host: $(nproc) CPUs, $(awk '/^model name/ { sub(/.*: /, ""); print; exit }' /proc/cpuinfo)"
printf '%-10s %16s %12s %18s %20s\n' instances "CPU/refresh ms" "RSS MiB" "key to redraw ms" "key to screen ms"
for total in 10 1000; do
    dir="$tmp/fixture-$total"
    sh "$root/tests/tui/make-fixture" "$dir" $((total - 4))
    n=1
    while [ $n -le "$runs" ]; do
        one_run "$dir" "$total" "$n"
        n=$((n + 1))
    done
    printf '%-10s %16.3f %12.1f %18.3f %20.1f\n' "$total" "$(column "$tmp/results.$total" 1)" \
        "$(column "$tmp/results.$total" 2 | awk '{ print $1 / 1024 }')" \
        "$(column "$tmp/results.$total" 3)" "$(column "$tmp/results.$total" 4)"
done
ratio() { echo "$(column "$tmp/results.1000" "$1") $(column "$tmp/results.10" "$1")" | awk '{ printf "%.1f", $1 / $2 }'; }
printf '%-10s %16s %12s %18s %20s\n' "1000/10" "$(ratio 1)x" "$(ratio 2)x" "$(ratio 3)x" "$(ratio 4)x"
