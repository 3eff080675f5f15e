#!/bin/sh
# End-to-end test of the dashboard: drives `kiln dash` in a tmux session against
# libvirt's test driver (a fixture file with kiln instances and a private image
# store) with send-keys, and reads the screen with capture-pane.
# Usage: tests/tui/dashboard.sh [BUILDDIR] (relative to the checkout, or absolute).
# Prints "N passed, N failed".
set -u

builddir=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $builddir in
/*) kiln="$builddir/kiln" ;;
*) kiln="$root/$builddir/kiln" ;;
esac
session="kiln-tui-$$"
passed=0
failed=0

if ! command -v tmux >/dev/null 2>&1; then
    echo "dashboard.sh: tmux is missing; install it (apt-get install tmux)" >&2
    exit 1
fi
if [ ! -x "$kiln" ]; then
    echo "dashboard.sh: $kiln not found; run make first" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/kiln-tui.XXXXXX)
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
sh "$here/make-fixture" "$tmp"
uri="test://$tmp/node.xml"

. "$here/tmux-lib"

check() { # NAME TEXT: passes when TEXT appears on the screen
    see "$1" "$2"
}

check_gone() { # NAME TEXT: passes when TEXT leaves the screen
    not_see "$1" "$2"
}

ok() { tui_ok "$1"; }
not_ok() { tui_not_ok "$1"; }
wait_for() { screen_wait "$1"; }

check_shell() { # NAME
    if wait_shell; then ok "$1"; else not_ok "$1 (kiln still running)"; fi
}

start_dash() {
    keys "clear; KILN_STORE='$tmp/store' '$kiln' -c '$uri' dash" Enter
}

tmux new-session -d -s "$session" -x 120 -y 36 \
    "env -i HOME=$tmp PATH=$PATH TERM=tmux-256color LANG=C.UTF-8 ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} PS1='prompt\$ ' sh"
sleep 0.3
keys "stty -a > '$tmp/stty.before'" Enter
start_dash

# Opens and shows the fixture's rows.
check "header shows the connection" "kiln  $uri"
check "instances are listed" "Instances (4)"
for name in web-1 web-2 hello-1 batch-7; do
    check "row $name shown" "$name "
done
check "images are listed" "Images (2)"
check "image web:1.0 shown" "web:1.0 "
check "function bar is drawn" "F1Help F2Run F3Filter"
check "published port shown" "18080->8080/tcp"

# Mouse, as xterm reports it (X10 encoding: ESC [ M, then button, column and row, each plus 32 and 1-based).
mouse() { # BUTTON X Y (0-based cells)
    tmux send-keys -t "$session" -l "$(printf "\033[M\\$(printf %o $((32 + $1)))\\$(printf %o $((33 + $2)))\\$(printf %o $((33 + $3)))")"
}
mouse 0 3 6
mouse 3 3 6
check "click selects an instance" "Details web-1"
mouse 0 3 19
mouse 3 3 19
check "click selects an image" "Image web"
mouse 64 3 19
check "wheel moves the selection" "Image hello"
keys Tab Tab

# Help screen, generated from the key table.
keys '?'
check "help opens" "Help: kiln dashboard keys"
check "help lists sort keys" "F6, s"
keys End
check "help lists theme directories" "Theme files (NAME.yaml) are looked for in"
if screen | grep -q '/\.\./'; then not_ok "help theme paths canonical"; else ok "help theme paths canonical"; fi
keys q
check_gone "help closes" "Help: kiln dashboard keys"

# Sort: inverting the name order puts web-2 first.
keys I
if wait_for "NAME▼" && line 5 | grep -q "web-2"; then ok "sort inverted"; else not_ok "sort inverted"; fi
keys I
if wait_for "NAME▲" && line 5 | grep -q "batch-7"; then ok "sort restored"; else not_ok "sort restored"; fi
keys s
check "sort by next column" "instances sorted by IMAGE"

# Filter.
keys / w e b Enter
check "filter narrows the table" "Instances (2 of 4, filter 'web')"
if screen | sed -n '5,20p' | grep -q "batch-7"; then not_ok "filtered row hidden"; else ok "filtered row hidden"; fi
keys Escape
check "Esc clears the filter" "Instances (4)"

# Resize to the minimum: every column title stays separate and rows intact.
tmux resize-window -t "$session" -x 80 -y 24
check "80x24 redraws" "Instances (4)"
titles=$(line 4)
if echo "$titles" | grep -Eq "NAME.? +IMAGE.? +STATE.? +CPU %"; then ok "80x24 titles apart"; else not_ok "80x24 titles apart: $titles"; fi
if screen | grep -Eq "web-1 +web:1\.0 +running"; then ok "80x24 cells intact"; else not_ok "80x24 cells intact"; fi
width=0
screen > "$tmp/screen.txt"
while IFS= read -r text; do
    n=$(printf '%s' "$text" | LC_ALL=C.UTF-8 wc -m)
    [ "$n" -gt "$width" ] && width=$n
done < "$tmp/screen.txt"
if [ "$width" -le 80 ]; then ok "80x24 fits the width"; else not_ok "80x24 fits the width ($width)"; fi
check "80x24 function bar keeps Quit" "F10Quit"
tmux resize-window -t "$session" -x 70 -y 20
check "too small says so" "terminal too small: 70x20"
tmux resize-window -t "$session" -x 120 -y 36
check "grows back" "Instances (4)"

# Theme switch changes the colours of the header.
before=$(tmux capture-pane -t "$session" -p -e | sed -n 1p | cut -c1-40)
keys t
check "theme switch reported" "theme high-contrast"
after=$(tmux capture-pane -t "$session" -p -e | sed -n 1p | cut -c1-40)
if [ "$before" != "$after" ]; then ok "theme changes colours"; else not_ok "theme changes colours"; fi

# Stop through the confirmation dialog.
keys Home x
check "stop asks first" "Stop instance batch-7?"
check "stop names no side effect" "y or Enter: yes"
keys y
check "stop reported" "stopped batch-7"
if wait_for "exited" && screen | grep -Eq "batch-7 +hello:latest +exited"; then ok "stopped row exited"; else not_ok "stopped row exited"; fi

# Run dialog: a bad memory value is reported inside the dialog.
keys Tab Home F2
check "run dialog opens" "Run hello:latest"
keys Tab C-u l o t s Enter
check "run dialog validates" "invalid memory size 'lots'"
keys C-u 6 4 Enter
check "run dialog applies kiln run's floor" "invalid memory size '64': it must be between 96M"
keys C-u 1 2 8 Enter
check "run creates the instance" "started hello-2 from hello:latest"
check "new row appears" "Instances (5)"
check "new instance selected" "> hello-2"

# A busy host port is found by the dialog, which stays open on the Ports field.
busy_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
time.sleep(120)' "$busy_port" &
listener=$!
sleep 0.3
keys F2
check "second run dialog opens" "Run hello:latest"
keys Tab Tab Tab C-u "127.0.0.1:$busy_port:80" Enter
check "busy port reported in the dialog" "port 127.0.0.1:$busy_port is already in use;"
check "busy port advice not cut" "free it, or choose another"
check "dialog stays open on a busy port" "Run hello:latest"
# The cursor is on Ports: what is typed replaces the port, not the name.
keys C-u x Enter
check "focus stays on the Ports field" "invalid port"
kill "$listener"
wait "$listener" 2>/dev/null

# A failure at create time reopens the dialog with the values typed.
keys C-u "18097:80, 18097:81" Enter
check "create failure reopens the dialog" "published twice"
check "reopened dialog keeps the ports" "18097:80, 18097:81"
check "reopened dialog keeps the name" "hello-3"
keys Escape
check_gone "run dialog cancelled" "Run hello:latest"
keys Tab Tab

# Space marks rows; kill acts on every marked row after one confirmation.
keys Home Down Space Space k
check "marked rows ask together" "Kill the 2 marked instances: hello-1, hello-2?"
keys y
check "kill of marked rows reported" "killed 2 instances: hello-1, hello-2"
if wait_for "hello-2" && screen | grep -Eq "hello-1 +hello:latest +exited" &&
    screen | grep -Eq "hello-2 +hello:latest +exited"; then
    ok "marked rows killed"
else
    not_ok "marked rows killed"
fi

# Refresh delay.
keys d C-u 0 Enter
check "delay validated" "invalid delay '0'; give seconds from 0.2 to 60"
keys C-u 0 . 5 Enter
check "delay changed" "refreshing every 0.5 s"

# Inspect and logs of an instance, files of an image.
keys / w e b - 1 Enter i
check "inspect running instance" "Inspect instance web-1"
check "inspect running: no exit code" "Exit code    -"
check "inspect running: no exit signal" "Exit signal  -"
keys q Escape
check "filter cleared after inspect" "Instances (5)"
keys Home i
check "inspect instance" "Inspect instance batch-7"
check "inspect shows the log path" "Log          $tmp/logs/batch-7.log"
keys q l
check "logs view" "Console log of batch-7"
check "logs show the console output" "hello from batch-7"
keys q c
check "console pane" "Console batch-7"
keys End
check "console pane follows the selection" "log line 40"
keys Tab Tab PPage
check "console scrolls back" "lines back"
check "console shows older lines" "log line 25"
keys Tab c Tab Home f
check "image files" "Files of hello:latest"
check "image files listed" "app/message.txt"
keys q
check "image details show the whole entrypoint" "Entry    /app/hello"
check "image details show the default arguments" 'Cmd      --greeting "hi there"'

# Build: an absolute path typed over the untouched "./" replaces it, and Tab completes it.
keys b "$tmp/sto" Tab
check "build dialog completes paths" "$tmp/store/"
if screen | grep -qF ".$tmp"; then not_ok "absolute path replaces ./"; else ok "absolute path replaces ./"; fi
keys Enter
check "build failure reported" "build failed:"
keys Tab Tab

# Remove: the confirmation names what else happens.
keys End DC
check "remove asks first" "Remove instance web-2?"
check "remove warns about the running instance" "1 running instance will be killed first"
keys y
check "remove reported" "removed web-2"
check "removed row gone" "Instances (4)"
keys Tab Home DC
check "image remove asks first" "Remove image hello:latest?"
check "image remove names its users" "3 instances were created from it"
keys n
keys Down DC
check "image remove, one user" "Remove image web:1.0?"
check "image remove, singular user" "1 instance was created from it"
keys n
check_gone "image remove cancelled" "Remove image hello:latest?"
check "image kept" "Images (2)"
keys Tab Tab

# Ctrl-Z suspends to the shell and fg redraws.
keys C-z
check_shell "Ctrl-Z returns to the shell"
keys "fg" Enter
check "fg redraws the dashboard" "Instances (4)"

# Quit restores the terminal settings exactly.
keys q
check_shell "quit returns to the shell"
keys "clear; stty -a > '$tmp/stty.after'; echo STTY-\$((1 + 1))" Enter
check "terminal settings saved" "STTY-2"
if cmp -s "$tmp/stty.before" "$tmp/stty.after"; then ok "terminal restored"; else
    not_ok "terminal restored"
    diff "$tmp/stty.before" "$tmp/stty.after" | sed 's/^/    | /'
fi

# A malformed theme file: the error goes to the status line, the screen still draws.
mkdir -p "$tmp/themes"
printf 'roles:\n  header: {fg: bleu}\n' > "$tmp/themes/broken.yaml"
keys "clear; KILN_THEMES='$tmp/themes' KILN_STORE='$tmp/store' '$kiln' -c '$uri' dash --theme broken" Enter
check "bad theme error on the status line" "broken.yaml:2:16: unknown colour 'bleu'"
check "bad theme falls back" "Instances (4)"
keys q
check_shell "quit after bad theme"

# NO_COLOR: no colour escapes in the drawn screen.
keys "clear; NO_COLOR=1 KILN_STORE='$tmp/store' '$kiln' -c '$uri' dash" Enter
check "NO_COLOR opens" "Instances (4)"
if tmux capture-pane -t "$session" -p -e | grep -q "$(printf '\033')\[[0-9;]*3[0-7]m"; then
    not_ok "NO_COLOR draws without colours"
else
    ok "NO_COLOR draws without colours"
fi
keys q
check_shell "quit after NO_COLOR"

# A locale that is not UTF-8: ASCII lines and arrows.
keys "clear; LANG=C LC_ALL=C KILN_STORE='$tmp/store' '$kiln' -c '$uri' dash" Enter
check "ASCII rules" "- Instances (4) ---"
check "ASCII sort arrow" "NAME^"
keys C-c
check_shell "Ctrl-C quits"

# The pid of the kiln started from the session's shell.
kiln_pid() {
    shell=$(tmux display-message -t "$session" -p '#{pane_pid}')
    cat "/proc/$shell/task/$shell/children"
}

# A crash signal: the handler ends curses before the process dies.
start_dash
check "opens before the crash" "Instances (4)"
kill -SEGV "$(kiln_pid)"
check_shell "crash returns to the shell"
keys "clear; stty -a > '$tmp/stty.crash'; echo STTY-\$((2 + 1))" Enter
check "terminal settings saved after the crash" "STTY-3"
if cmp -s "$tmp/stty.before" "$tmp/stty.crash"; then ok "terminal restored after the crash"; else
    not_ok "terminal restored after the crash"
    diff "$tmp/stty.before" "$tmp/stty.crash" | sed 's/^/    | /'
fi

# SIGTERM quits like q.
start_dash
check "opens before SIGTERM" "Instances (4)"
kill -TERM "$(kiln_pid)"
check_shell "SIGTERM quits"

# An unreachable hypervisor: the header says so and the dashboard keeps running.
keys "clear; KILN_STORE='$tmp/store' '$kiln' -c 'test:///nonexistent/node.xml' dash" Enter
check "unreachable URI: header says reconnecting" "reconnecting..."
check "unreachable URI: error on the status line" "test:///nonexistent/node.xml"
check "unreachable URI: tables still drawn" "Images (2)"
keys q
check_shell "quit while reconnecting"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
