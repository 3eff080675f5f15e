#!/bin/sh
# Real input to kiln run and the instance verbs, against a real libvirtd and
# qemu: exit statuses, arguments and environment byte for byte, published
# ports, volumes that outlive a stop, graceful stops, and clean removal.
# KILN_TEST_RUNS sets how many VMs the leak test runs one after another (20).
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_setup || exit 1
work=$(mktemp -d)
# Names carry this shell's PID, so two runs of this script at once do not collide.
p=itest$$
cleanup() {
    for n in "$p-web" "$p-redis" "$p-fg" "$p-crash" "$p-auto"; do "$KILN" rm -f "$n" >/dev/null 2>&1; done
    "$KILN" volume rm "$p-redis-data" >/dev/null 2>&1
    "$KILN" rmi "$p-hello" >/dev/null 2>&1
    [ -n "${events_pid:-}" ] && kill "$events_pid" "$events_json_pid" 2>/dev/null
    rm -rf "$work"
    kiln_test_teardown
}
trap cleanup EXIT

for example in hello http-c redis crash; do
    "$KILN" build -q -t "$example" "$top/examples/$example" >/dev/null || { not_ok "build $example"; exit 1; }
done
# An image of this run's own, so the leak test can count its instances (named IMAGE-xxxxxx).
"$KILN" build -q -t "$p-hello" "$top/examples/hello" >/dev/null || { not_ok "build $p-hello"; exit 1; }

# http_get PORT: prints the response body from 127.0.0.1:PORT, waiting up to 120 s for the server.
http_get() {
    i=0
    until curl -s -m 5 "http://127.0.0.1:$1/" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 120 ] && return 1
        sleep 1
    done
}

# instance_gone NAME: no domain, no instance directory.
instance_gone() {
    ! virsh -q -c "$KILN_CONNECT" list --all --name 2>/dev/null | grep -qx "$1" &&
        [ ! -e "$KILN_STORE/instances/$1" ]
}

port_closed() {
    ! curl -s -m 2 "http://127.0.0.1:$1/" >/dev/null 2>&1
}

# ps_status NAME: the STATUS of NAME from kiln ps -a --format json.
ps_status() {
    "$KILN" ps -a --format json | python3 -c 'import json, sys
for i in json.load(sys.stdin):
    if i["name"] == sys.argv[1]: print(i["status"])' "$1"
}

# ---- hello: output, exit status, arguments and environment ----
"$KILN" run --rm hello >"$work/out" 2>"$work/err"
rc=$?
check "run --rm hello exits 0" [ "$rc" -eq 0 ]
check "run --rm hello prints its line" grep -qx "Hello from a kiln unikernel" "$work/out"
check "run hides kiln-init's exit line" sh -c "! grep -q KILN-EXIT '$work/out'"
check "run --rm hello writes nothing on stderr" [ ! -s "$work/err" ]
[ -s "$work/err" ] && cat "$work/err"

nl='
'
arg_space="two words"
arg_quotes="it's \"quoted\" \\ back"
arg_eq="key=value=more"
arg_nl="line one${nl}line two"
arg_utf8="héllo wörld ✓ 日本"
greeting="Grüß 'dich' = \"du\" ✓"
"$KILN" run --rm -e EXIT_STATUS=3 -e "GREETING=$greeting" hello "$arg_space" "$arg_quotes" "$arg_eq" "$arg_nl" \
    "$arg_utf8" "" >"$work/out" 2>"$work/err"
rc=$?
check "app exit status 3 is kiln run's" [ "$rc" -eq 3 ]
printf '%s from a kiln unikernel\narg 1: %s\narg 2: %s\narg 3: %s\narg 4: %s\narg 5: %s\narg 6: \n' \
    "$greeting" "$arg_space" "$arg_quotes" "$arg_eq" "$arg_nl" "$arg_utf8" >"$work/expected"
if cmp -s "$work/out" "$work/expected"; then
    ok "arguments and environment arrive byte for byte"
else
    not_ok "arguments and environment arrive byte for byte"
    diff "$work/expected" "$work/out" | head -20
fi

printf 'EXIT_STATUS=5\n# a comment\nGREETING=from the env file\n' >"$work/env"
"$KILN" run --rm --env-file "$work/env" -e EXIT_STATUS=4 hello >"$work/out" 2>&1
rc=$?
check "-e overrides --env-file" [ "$rc" -eq 4 ]
check "--env-file sets the environment" grep -qx "from the env file from a kiln unikernel" "$work/out"

# ---- an app killed by a signal ----
"$KILN" run --name $p-crash crash >"$work/out" 2>"$work/err"
rc=$?
check "a signal gives 128 + signal (SIGABRT: 134)" [ "$rc" -eq 134 ]
check "crash prints its line first" grep -qx "crash: about to abort" "$work/out"
status=$(ps_status $p-crash)
case "$status" in
"Exited (134, SIGABRT)"*) ok "ps names the signal" ;;
*) not_ok "ps names the signal: '$status'" ;;
esac
"$KILN" rm $p-crash >/dev/null
check "rm of an exited instance" instance_gone $p-crash

# ---- HTTP server: published port, logs, stop, start, kill, rm ----
events_out="$work/events"
"$KILN" events >"$events_out" 2>&1 &
events_pid=$!
"$KILN" events --format json >"$work/events.json" 2>&1 &
events_json_pid=$!
port=$(free_port)
"$KILN" run -d --name $p-web -p "$port:80" http-c >"$work/out" 2>"$work/err"
check "run -d prints the name" grep -qx $p-web "$work/out"
body=$(http_get "$port")
case "$body" in
*"Hello from kiln's HTTP example"*) ok "published port answers on 127.0.0.1" ;;
*) not_ok "published port answers on 127.0.0.1: '$body'" ;;
esac
check "ps lists the running instance" sh -c "'$KILN' ps | grep -q '^$p-web .*Up .*127.0.0.1:$port->80/tcp'"
check "ps -q prints the name" sh -c "'$KILN' ps -q | grep -qx $p-web"
check "inspect finds the instance" sh -c "'$KILN' inspect $p-web | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; sys.exit(d[\"type\"] != \"instance\" or d[\"ports\"][0][\"host_port\"] != $port)'"
"$KILN" stats --no-stream --format json >"$work/stats" 2>&1
check "stats --no-stream reports the instance" python3 -c 'import json, sys
d = [s for s in json.load(open(sys.argv[1])) if s["name"] == sys.argv[2]]
sys.exit(not d or d[0]["vm_memory_bytes"] <= 0 or d[0]["cpu_percent"] < 0)' "$work/stats" "$p-web"
check "stats table has a row" sh -c "'$KILN' stats --no-stream | grep -q '^$p-web '"
timeout -s INT 4 "$KILN" stats >"$work/stats.stream" 2>&1
check "stats streams a table per second" [ "$(grep -c "^$p-web " "$work/stats.stream")" -ge 2 ]

# The console: a request made while attached shows up in its output.
timeout 60 "$KILN" console $p-web </dev/null >"$work/console" 2>"$work/console.err" &
console_pid=$!
sleep 2
http_get "$port" >/dev/null
check "console shows live output" wait_for "$work/console" "request [0-9]*: GET / HTTP" 30
kill "$console_pid" 2>/dev/null
wait "$console_pid" 2>/dev/null
check "console says how to detach" grep -q "Ctrl-]" "$work/console.err"

timeout 300 "$KILN" logs -f $p-web >"$work/follow" 2>&1 &
follow_pid=$!
sleep 1
"$KILN" stop $p-web >/dev/null
wait "$follow_pid"
rc=$?
check "logs -f ends when the instance stops" [ "$rc" -eq 0 ]
check "logs -f streams the goodbye line" grep -q "goodbye" "$work/follow"
check "logs --tail 1 prints one line" [ "$("$KILN" logs --tail 1 "$p-web" | wc -l)" -eq 1 ]
check "stop lets the app say goodbye" sh -c "'$KILN' logs $p-web | grep -q 'got SIGTERM after [0-9]* requests, goodbye'"
check "logs --tail 1 prints the last line" sh -c "'$KILN' logs --tail 1 $p-web | grep -qx 'http-c: got SIGTERM after [0-9]* requests, goodbye'"
status=$(ps_status $p-web)
case "$status" in
"Exited (0)"*) ok "ps shows exit status 0 after stop" ;;
*) not_ok "ps shows exit status 0 after stop: '$status'" ;;
esac
check "stopped instance closes its port" port_closed "$port"
"$KILN" console $p-web </dev/null >/dev/null 2>"$work/err"
rc=$?
check "console of a stopped instance fails" [ "$rc" -eq 1 ]
check "console names the stopped instance" grep -q "instance $p-web is not running" "$work/err"
"$KILN" kill $p-web >/dev/null 2>"$work/err"
rc=$?
check "kill of a stopped instance fails" [ "$rc" -eq 1 ]

"$KILN" start $p-web >/dev/null
body=$(http_get "$port")
case "$body" in
*"request 1"*) ok "start runs the instance again" ;;
*) not_ok "start runs the instance again: '$body'" ;;
esac
"$KILN" restart -t 5 $p-web >"$work/out"
check "restart prints the name" grep -qx "$p-web" "$work/out"
body=$(http_get "$port")
case "$body" in
*"request 1"*) ok "restart runs a fresh app" ;;
*) not_ok "restart runs a fresh app: '$body'" ;;
esac
"$KILN" kill $p-web >/dev/null
status=$(ps_status $p-web)
case "$status" in
"Exited (137, SIGKILL)"*) ok "ps shows a killed instance" ;;
*) not_ok "ps shows a killed instance: '$status'" ;;
esac
"$KILN" rm $p-web >"$work/out"
check "rm prints the name" grep -qx $p-web "$work/out"
check "rm leaves no domain and no files" instance_gone $p-web
check "rm leaves no forwarded port" port_closed "$port"
sleep 1
kill "$events_pid" "$events_json_pid" 2>/dev/null
events_pid=
check "events reported the start" grep -q " $p-web started" "$events_out"
check "events reported the stop" grep -q " $p-web stopped" "$events_out"
check "events reported the removal" grep -q " $p-web removed" "$events_out"
check "events --format json prints objects" python3 -c 'import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
sys.exit(not any(e["name"] == sys.argv[2] and e["event"] == "started" for e in events))' "$work/events.json" "$p-web"
check "events hide the resume of every start" sh -c "! grep -q ' $p-web resumed' '$events_out'"

# ---- run -d --rm: a watcher removes the instance once it stops ----
"$KILN" run -d --rm --name "$p-auto" "$p-hello" >/dev/null
i=0
until instance_gone "$p-auto" || [ $i -gt 60 ]; do i=$((i + 1)); sleep 1; done
check "run -d --rm removes the instance after it ends" instance_gone "$p-auto"

# ---- Ctrl-C in the foreground stops the VM gracefully ----
port=$(free_port)
"$KILN" run --rm --name $p-fg -p "$port:80" http-c >"$work/fg" 2>"$work/fg.err" &
fg_pid=$!
http_get "$port" >/dev/null
kill -INT "$fg_pid"
wait "$fg_pid"
rc=$?
check "Ctrl-C: the app exits 0 after SIGTERM" [ "$rc" -eq 0 ]
check "Ctrl-C: the goodbye line is streamed" grep -q "goodbye" "$work/fg"
check "Ctrl-C with --rm leaves nothing" instance_gone $p-fg

# ---- redis with /data on a volume survives stop and start ----
"$KILN" volume create --size 64M $p-redis-data >/dev/null
check "volume ls lists the volume" sh -c "'$KILN' volume ls | grep -q '^$p-redis-data '"
port=$(free_port)
"$KILN" run -d --name $p-redis -p "$port:6379" -v $p-redis-data:/data redis >/dev/null
i=0
until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || [ $i -gt 120 ]; do i=$((i + 1)); sleep 1; done
check "redis answers PONG" [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]
redis-cli -p "$port" set kiln-key "kept across a restart" >/dev/null
check "volume ls shows the user" sh -c "'$KILN' volume ls | grep -q '$p-redis (running)'"
"$KILN" stop $p-redis >/dev/null
"$KILN" start $p-redis >/dev/null
i=0
until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] || [ $i -gt 120 ]; do i=$((i + 1)); sleep 1; done
check "key survives stop and start on a volume" \
    [ "$(redis-cli -p "$port" get kiln-key 2>/dev/null)" = "kept across a restart" ]
"$KILN" rm -f $p-redis >/dev/null
check "rm -f of a running instance" instance_gone $p-redis
check "volume rm after its instance is gone" sh -c "'$KILN' volume rm $p-redis-data >/dev/null"

# ---- many runs leave nothing behind ----
runs=${KILN_TEST_RUNS:-20}
before=$(virsh -q -c "$KILN_CONNECT" list --all --name | grep -c "^$p-hello-")
failed_runs=0
i=0
while [ $i -lt "$runs" ]; do
    if ! "$KILN" run --rm "$p-hello" >"$work/out" 2>&1 || ! grep -q "from a kiln unikernel" "$work/out"; then
        [ "$failed_runs" -eq 0 ] && cp "$work/out" "$work/first-failure"
        failed_runs=$((failed_runs + 1))
    fi
    i=$((i + 1))
done
after=$(virsh -q -c "$KILN_CONNECT" list --all --name | grep -c "^$p-hello-")
check "$runs runs of run --rm all succeed" [ "$failed_runs" -eq 0 ]
[ -f "$work/first-failure" ] && sed 's/^/    /' "$work/first-failure"
check "$runs runs of run --rm leave no domain" [ "$after" -eq "$before" ]
exit 0
