#!/bin/sh
# End-to-end test of the dashboard against a real libvirtd and qemu
# (qemu:///system): drives `kiln dash` in tmux with send-keys and reads the
# screen with capture-pane. It runs the hello and HTTP examples from the run
# dialog, follows their console output, and stops and removes one from its menu.
# It builds an example from the build dialog, checks the 80x24 layout and the
# theme switch, and restarts libvirtd to see the dashboard reconnect.
# Usage: tests/tui/real.sh. Prints "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_setup || { echo "not ok - real.sh: kiln_test_setup failed"; exit 1; }

session="kiln-real-$$"
. "$top/tests/tui/tmux-lib"
# lib.sh's check reports through ok and not_ok: count those too.
ok() { tui_ok "$1"; }
not_ok() { tui_not_ok "$1"; }
if ! command -v tmux >/dev/null 2>&1; then
    echo "real.sh: tmux is missing; install it (apt-get install tmux)" >&2
    exit 1
fi

# Everything this test creates, removed by name on exit.
instances="rt-hello rt-web"
images="rt-hello rt-http rt-shell"
tmp=$(mktemp -d /tmp/kiln-real.XXXXXX)
chmod 755 "$tmp"

# Starts libvirtd again when this test stopped it and failed before restarting it.
ensure_libvirtd() {
    pgrep -x libvirtd >/dev/null || libvirtd -d
    i=0
    until virsh -q -c "$KILN_CONNECT" version >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 50 ] && return 1
        sleep 0.2
    done
}

remove_test_objects() {
    for n in $instances; do "$KILN" rm -f "$n" >/dev/null 2>&1; done
    for n in $images; do "$KILN" rmi "$n" >/dev/null 2>&1; done
}

cleanup() {
    tmux kill-session -t "$session" 2>/dev/null
    ensure_libvirtd
    remove_test_objects
    rm -rf "$tmp"
    kiln_test_teardown
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
remove_test_objects

for pair in rt-hello:hello rt-http:http-c; do
    if ! "$KILN" build -q -t "${pair%%:*}" "$top/examples/${pair#*:}" >"$tmp/build.log" 2>&1; then
        cat "$tmp/build.log"
        not_ok "build ${pair#*:}"
        exit 1
    fi
done
# The build dialog's project: the shell example under a name no other test uses.
cp -R "$top/examples/shell" "$tmp/rt-shell"
sed -i 's/^name: shell$/name: rt-shell/' "$tmp/rt-shell/kiln.yaml"
port=$(free_port)

# screen_gone_re REGEX: waits up to 10 s until no line matches REGEX.
screen_gone_re() {
    i=0
    while [ $i -lt 100 ]; do
        screen | grep -Eq -- "$1" || return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

tmux new-session -d -s "$session" -x 120 -y 35 \
    "env -i HOME=$tmp PATH=$PATH TERM=tmux-256color LANG=C.UTF-8 KILN_STORE=$KILN_STORE KILN_DEBUG=$tmp/debug.log ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} PS1='prompt\$ ' sh"
sleep 0.3
keys "clear; '$KILN' -c '$KILN_CONNECT' dash" Enter

# ---- opening ----
see "header names the connection" "kiln  $KILN_CONNECT"
# The first info call may probe KVM, which takes up to about 10 s.
see "header shows the hypervisor" "kiln  $KILN_CONNECT  QEMU" 30
see "function bar drawn" "F1Help F2Run F3Filter F4Build"
keys / r t - Enter
see "filter set" "Images (2 of"
see "built images listed" "rt-http:latest"

# ---- run the hello image with F2 ----
keys Tab Home
see "hello image selected" "> rt-hello:latest"
keys F2
see "run dialog opens on F2" "Run rt-hello:latest"
keys C-u r t - h e l l o Enter
see "hello run reported" "started rt-hello from rt-hello:latest" 30
see_re "hello row shown" "rt-hello +rt-hello:latest +(running|exited)"
see "new hello instance selected" "> rt-hello "
see_re "hello exits 0" "rt-hello +rt-hello:latest +exited \(0\)" 60

# ---- run the HTTP image from its menu (Enter, then Run) ----
keys Down
see "http image selected" "> rt-http:latest"
keys Enter
see "image menu opens" "Run          F2, r"
keys Enter
see "run dialog opens from the menu" "Run rt-http:latest"
see "run dialog offers the image's port" "80:80/tcp"
keys C-u r t - w e b Tab Tab Tab C-u "$port:80" Enter
see "http run reported" "started rt-web from rt-http:latest" 30
see_re "http row running" "rt-web +rt-http:latest +running"
see "new http instance selected" "> rt-web "
see "published port in the row" "$port->80/tcp"
body=""
i=0
while [ $i -lt 60 ] && [ -z "$body" ]; do
    body=$(curl -s -m 2 "http://127.0.0.1:$port/from-the-test" 2>/dev/null)
    [ -n "$body" ] || sleep 0.5
    i=$((i + 1))
done
case "$body" in
*"Hello from kiln's HTTP example"*) ok "http instance answers on 127.0.0.1:$port" ;;
*) not_ok "http instance answers on 127.0.0.1:$port (got '$body')" ;;
esac

# ---- console pane ----
keys Tab Tab Home c
see "console pane of hello" "Console rt-hello"
see "console shows hello's output" "Hello from a kiln unikernel"
if screen | grep -q "KILN-EXIT"; then tui_not_ok "console hides kiln-init's exit line"; else tui_ok "console hides kiln-init's exit line"; fi
keys Down
see "console follows the selection" "Console rt-web"
see "console shows the server's start" "http-c listening on port 80"
see "console shows the request" "GET /from-the-test HTTP"
curl -s -m 5 "http://127.0.0.1:$port/second-request" >/dev/null 2>&1
see "console shows new output live" "GET /second-request HTTP"

# ---- full-screen console through libvirt's console stream ----
keys a
see "attach opens the full-screen console" "press Ctrl-] to return to the dashboard"
curl -s -m 5 "http://127.0.0.1:$port/while-attached" >/dev/null 2>&1
see "attached console shows new output" "GET /while-attached HTTP"
keys C-]
see "Ctrl-] returns to the dashboard" "back from the console of rt-web"
see "dashboard redrawn after attach" "Console rt-web"

# ---- restart, kill and start ----
keys R
see "restart reported" "restarted rt-web" 30
see_re "restarted row running" "rt-web +rt-http:latest +running"
body=""
i=0
while [ $i -lt 60 ] && [ -z "$body" ]; do
    body=$(curl -s -m 2 "http://127.0.0.1:$port/after-restart" 2>/dev/null)
    [ -n "$body" ] || sleep 0.5
    i=$((i + 1))
done
case "$body" in
*"(request 1)"*) ok "restarted server answers afresh" ;;
*) not_ok "restarted server answers afresh (got '$body')" ;;
esac
keys k
see "kill asks first" "Kill instance rt-web?"
keys y
see "kill reported" "killed rt-web" 30
see_re "killed row shows SIGKILL" "rt-web +rt-http:latest +exited \(SIGKILL\)"
keys u
see "start reported" "started rt-web" 30
see_re "started row running" "rt-web +rt-http:latest +running"
i=0
until curl -s -m 2 "http://127.0.0.1:$port/after-start" >/dev/null 2>&1 || [ $i -ge 60 ]; do
    sleep 0.5
    i=$((i + 1))
done
see "console shows the started server" "GET /after-start HTTP"

# ---- stop from the instance's menu ----
keys Enter
see "instance menu opens" "Stop         F7, x"
keys Down Down Down Enter
see "stop asks first" "Stop instance rt-web?"
keys y
see "stop reported" "stopped rt-web" 30
see_re "stopped row exited 0" "rt-web +rt-http:latest +exited \(0\)"
see "console shows the graceful end" "got SIGTERM after"
if screen | grep -E "rt-web +rt-http:latest" | grep -q "MB"; then
    tui_not_ok "stopped row shows no memory"
else
    tui_ok "stopped row shows no memory"
fi
if curl -s -m 2 "http://127.0.0.1:$port/" >/dev/null 2>&1; then not_ok "port closed after stop"; else ok "port closed after stop"; fi

# ---- remove ----
keys DC
see "remove asks first" "Remove instance rt-web?"
keys y
see "remove reported" "removed rt-web" 30
if screen_gone_re "rt-web +rt-http:latest"; then tui_ok "removed row gone"; else tui_not_ok "removed row gone"; fi
check "removed domain undefined" sh -c "! virsh -q -c '$KILN_CONNECT' list --all --name | grep -qx rt-web"
check "removed instance directory deleted" [ ! -e "$KILN_STORE/instances/rt-web" ]
see_re "other row kept" "rt-hello +rt-hello:latest +exited"

# ---- build from the dialog ----
keys F4
see "build dialog opens" "Build an image"
keys C-u "$tmp/rt-sh" Tab
see "build dialog completes the path" "$tmp/rt-shell/"
keys Enter
see "build reported" "built rt-shell:latest" 60
see "new image selected" "> rt-shell:latest"
see "new image's details shown" "Image    rt-shell:latest"
see "new image is a shell image" "Kind     shell"

# ---- 80x24 ----
keys Tab Tab
tmux resize-window -t "$session" -x 80 -y 24
see "80x24 redraws" "Instances ("
width=$(screen_width)
if [ "$width" -le 80 ]; then tui_ok "80x24 fits the width"; else tui_not_ok "80x24 fits the width ($width)"; fi
if line 1 | grep -Eq "^ kiln  $KILN_CONNECT .* [0-9]{2}:[0-9]{2}:[0-9]{2}$"; then tui_ok "80x24 header and clock apart"; else
    tui_not_ok "80x24 header and clock apart: $(line 1)"
fi
if line 2 | grep -Eq "CPU\[.*\] MEM\[.*\] +[0-9]+ running"; then tui_ok "80x24 meters apart"; else tui_not_ok "80x24 meters apart: $(line 2)"; fi
if line 4 | grep -Eq "NAME.? +IMAGE.? +STATE.? +CPU %"; then tui_ok "80x24 titles apart"; else tui_not_ok "80x24 titles apart: $(line 4)"; fi
see_re "80x24 cut cell ends in an ellipsis" "rt-shell:latest +[0-9.]+[kM]B +[^ ]+… "
see_re "80x24 row intact" "rt-hello +rt-hello:latest +exited"
if line 24 | grep -q "^F1Help.*F10Quit"; then tui_ok "80x24 function bar on the last line"; else tui_not_ok "80x24 function bar on the last line"; fi
# The bottom pane's box: one top and one bottom edge, each line between them closed on both sides.
box=$(screen | awk '/^┌/ { inside = 1; top++; next } /^└/ { inside = 0; bottom++; next }
    inside && !/^│.*│$/ { bad++ } END { print top + 0, bottom + 0, bad + 0 }')
if [ "$box" = "1 1 0" ]; then tui_ok "80x24 bottom pane boxed"; else tui_not_ok "80x24 bottom pane boxed (top, bottom, open lines: $box)"; fi
keys F2
see "80x24 run dialog opens" "Run rt-hello:latest"
if screen | grep -q "Enter: OK   Esc: cancel" && screen | grep -q "Arguments" && [ "$(screen_width)" -le 80 ]; then
    tui_ok "80x24 run dialog fits"
else
    tui_not_ok "80x24 run dialog fits"
fi
keys Escape
not_see "80x24 run dialog closes" "Run rt-hello:latest"
tmux resize-window -t "$session" -x 120 -y 35
see "grows back to 120x35" "Instances ("

# ---- theme ----
before=$(tmux capture-pane -t "$session" -p -e | sed -n 1p | cut -c1-40)
keys t
see "theme switch reported" "theme high-contrast"
after=$(tmux capture-pane -t "$session" -p -e | sed -n 1p | cut -c1-40)
if [ "$before" != "$after" ]; then tui_ok "theme changes the header's colours"; else tui_not_ok "theme changes the header's colours"; fi

# ---- libvirtd restart ----
pid=$(cat /run/libvirtd.pid 2>/dev/null)
if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != libvirtd ]; then
    not_ok "libvirtd pid found in /run/libvirtd.pid (got '$pid')"
else
    kill "$pid"
    i=0
    while [ -e "/proc/$pid" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    see "header says reconnecting" "reconnecting..."
    see "status line explains the loss" "cannot connect to libvirt at $KILN_CONNECT"
    libvirtd -d
    see "header recovers after libvirtd restart" "kiln  $KILN_CONNECT  QEMU" 30
    see_re "rows back after the restart" "rt-hello +rt-hello:latest +exited" 30
    not_see "reconnecting cleared" "reconnecting..." 10
fi

keys q
if wait_shell; then tui_ok "quit returns to the shell"; else tui_not_ok "quit returns to the shell"; fi

if [ "$failed" -gt 0 ] && [ -s "$tmp/debug.log" ]; then
    echo "    debug log (last 20 lines):"
    tail -n 20 "$tmp/debug.log" | sed 's/^/    | /'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
