#!/bin/sh
# Bad input to kiln run and the instance and volume verbs, against a real
# libvirtd: each case must fail with a one-line error naming the input, the
# expected exit status, and leave no domain, instance directory or volume behind.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_setup || exit 1
work=$(mktemp -d)
# Names carry this shell's PID, so two runs of this script at once do not collide.
p=errt$$
busy=$p-busy
cleanup() {
    "$KILN" rm -f "$busy" >/dev/null 2>&1
    "$KILN" volume rm $p-vol >/dev/null 2>&1
    "$KILN" rmi $p-hello $p-http >/dev/null 2>&1
    [ -n "${listener:-}" ] && kill "$listener" 2>/dev/null
    rm -rf "$work"
    kiln_test_teardown
}
trap cleanup EXIT

# Images of their own, so the default instance names (IMAGE-xxxxxx) start with $p- too.
"$KILN" build -q -t $p-hello "$top/examples/hello" >/dev/null || { not_ok "build hello"; exit 1; }
"$KILN" build -q -t $p-http "$top/examples/http-c" >/dev/null || { not_ok "build http-c"; exit 1; }

# The domains, instance directories and volumes these tests could create. Other
# tests may run at the same time, so only names this script uses are compared.
state() {
    virsh -q -c "$KILN_CONNECT" list --all --name 2>/dev/null | grep -E "^$p-" | sort
    ls -A "$KILN_STORE/instances" 2>/dev/null | grep -E "^$p-" | sort
    ls -A "$KILN_STORE/volumes" 2>/dev/null | grep -E "^$p-" | sort
}

# expect_error NAME STATUS TEXT COMMAND...: runs kiln with COMMAND and checks the
# exit status, that stderr is one line containing TEXT, and that nothing was left.
expect_error() {
    name=$1 status=$2 text=$3
    shift 3
    before=$(state)
    "$KILN" "$@" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    after=$(state)
    if [ "$rc" -ne "$status" ]; then
        not_ok "$name: exit status $rc, expected $status"
        cat "$work/err"
    elif [ "$(wc -l <"$work/err")" -ne 1 ]; then
        not_ok "$name: expected one line on stderr, got $(wc -l <"$work/err")"
        cat "$work/err"
    elif ! grep -q -F -- "$text" "$work/err"; then
        not_ok "$name: message lacks '$text'"
        cat "$work/err"
    elif [ "$before" != "$after" ]; then
        not_ok "$name: left something behind"
        printf 'before:\n%s\nafter:\n%s\n' "$before" "$after"
    else
        ok "$name"
    fi
}

# ---- inputs rejected before any connection ----
expect_error "unknown image" 1 'image "nosuch-image:latest" not found' run --rm nosuch-image
expect_error "invalid instance name" 2 "invalid instance name 'bad name'" run --name "bad name" $p-hello
expect_error "instance name with slash" 2 "invalid instance name '../etc'" run --name ../etc $p-hello
expect_error "invalid memory size" 2 "invalid memory size '12Q'" run -m 12Q $p-hello
expect_error "memory below the floor" 2 "invalid memory size '64M'" run -m 64M $p-hello
expect_error "invalid CPU count" 2 "invalid CPU count 'many'" run --cpus many $p-hello
expect_error "invalid port mapping" 2 "invalid port mapping '99999:80'" run -p 99999:80 $p-hello
expect_error "port mapping with a name" 2 "invalid port mapping 'localhost:8080:80'" run -p localhost:8080:80 $p-hello
expect_error "invalid environment entry" 2 "invalid environment variable 'A B=1'" run -e "A B=1" $p-hello
expect_error "missing env file" 1 "$work/missing.env" run --env-file "$work/missing.env" $p-hello
expect_error "host directory as volume" 2 "invalid volume '/tmp:/data'" run -v /tmp:/data $p-hello
expect_error "relative mount point" 2 "invalid volume 'x:data'" run -v x:data $p-hello
expect_error "ports with a libvirt network" 2 "publishing ports (-p) needs kiln's user-mode networking" \
    run -p 8080:80 --network default $p-hello
expect_error "unknown option" 2 "unknown option '--bogus'" run --bogus $p-hello
expect_error "run without image" 2 "missing IMAGE" run

# ---- an image whose files were deleted from the store ----
"$KILN" build -q -t $p-broken "$top/examples/hello" >/dev/null
rm -f "$(image_file $p-broken initrd)"
expect_error "image with a deleted initrd" 1 "image $p-broken:latest is incomplete" run --rm $p-broken
"$KILN" rmi $p-broken >/dev/null 2>&1

# ---- libvirtd unreachable ----
bad_uri='qemu+unix:///system?socket=/nonexistent'
expect_error "libvirtd unreachable for run" 1 "cannot connect to libvirt at $bad_uri" -c "$bad_uri" run --rm $p-hello
expect_error "libvirtd unreachable for ps" 1 "cannot connect to libvirt" -c "$bad_uri" ps
expect_error "libvirtd unreachable for volume rm" 1 "cannot check whether the volumes are in use" \
    -c "$bad_uri" volume rm $p-nothing

# ---- volumes ----
expect_error "unknown volume" 1 "volume $p-novol not found" run --rm -v $p-novol:/data $p-hello
expect_error "invalid volume name" 2 "invalid volume name 'bad/name'" volume create bad/name
expect_error "invalid volume size" 2 "invalid size '10Q'" volume create --size 10Q $p-x
expect_error "volume too small" 2 "invalid size '1M'" volume create --size 1M $p-x
expect_error "volume from a missing directory" 1 "'$work/none': not a directory" volume create --from "$work/none" $p-x
expect_error "remove unknown volume" 1 "volume $p-novol not found" volume rm $p-novol

# ---- unknown instances ----
expect_error "stop unknown instance" 1 "no such instance $p-none" stop $p-none
expect_error "logs of unknown instance" 1 "no such instance $p-none" logs $p-none
expect_error "rm unknown instance" 1 "no such instance $p-none" rm $p-none
expect_error "invalid --tail" 2 "invalid --tail 'x'" logs --tail x $p-none
expect_error "invalid stop timeout" 2 "invalid timeout '-1'" stop -t -1 $p-none

# ---- a busy host port ----
port=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(600)' "$port" &
listener=$!
sleep 0.5
expect_error "busy host port" 1 "port 127.0.0.1:$port is already in use" run -d -p "$port:80" $p-http
kill "$listener" 2>/dev/null
listener=

# ---- a running instance: its name and its volume are taken ----
"$KILN" volume create --size 64M $p-vol >/dev/null || not_ok "create volume $p-vol"
port2=$(free_port)
if "$KILN" run -d --name "$busy" -p "$port2:80" -v $p-vol:/data $p-http >"$work/out" 2>"$work/err"; then
    ok "start an instance holding a volume"
    expect_error "instance name in use" 1 "instance name $busy is already in use" run --name "$busy" $p-hello
    expect_error "volume in use by a running instance" 1 "volume $p-vol is in use by running instance $busy" \
        run --rm -v $p-vol:/data $p-hello
    expect_error "remove a volume in use" 1 "volume $p-vol is in use by instance $busy" volume rm $p-vol
    expect_error "rm of a running instance without -f" 1 "instance $busy is running" rm "$busy"
    expect_error "port held by another instance" 1 "port 127.0.0.1:$port2 is already in use" \
        run -d -p "$port2:80" --name $p-second $p-http
    "$KILN" rm -f "$busy" >/dev/null
    check "volume removable after its instance" sh -c "'$KILN' volume rm $p-vol >/dev/null"
else
    not_ok "start an instance holding a volume: $(cat "$work/err")"
fi
[ -z "$(state)" ] && ok "nothing left behind" || { not_ok "nothing left behind"; state; }
exit 0
