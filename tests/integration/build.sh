#!/bin/sh
# Builds every example with kiln build and boots each image directly with
# qemu-system-x86_64 -kernel -initrd under TCG (no libvirt), checking what the
# application prints and, for the servers, an answer on a port forwarded to
# 127.0.0.1. Also checks the build cache and byte-identical rebuilds.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_store_setup || exit 1
work=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

for example in hello http-c redis python-http shell; do
    if "$KILN" build -t "itest-$example" "$top/examples/$example" >"$work/build-$example.log" 2>&1; then
        ok "build $example"
    else
        cat "$work/build-$example.log"
        not_ok "build $example"
    fi
done

# A C program made by its own build command, a data file copied into a
# directory ("dest/"), and a library of the project found through $ORIGIN.
mkdir -p "$work/custom/lib"
cat >"$work/custom/main.c" <<'EOF2'
#include <stdio.h>
int answer(void);
int main(void)
{
    char line[64] = "";
    FILE *f = fopen("/srv/data.txt", "r");

    if (f && fgets(line, sizeof(line), f))
        printf("data: %s", line);
    printf("answer: %d\n", answer());
    return 0;
}
EOF2
printf 'int answer(void) { return 42; }\n' >"$work/custom/answer.c"
echo "from the project" >"$work/custom/data.txt"
cat >"$work/custom/kiln.yaml" <<'EOF2'
name: custom
kind: binary
build: "cc -shared -fPIC -o lib/libanswer.so answer.c && cc -o prog main.c -Llib -lanswer -Wl,-rpath,'$ORIGIN/lib'"
entrypoint: prog
files: ["data.txt:/srv/"]
EOF2
"$KILN" build -t itest-custom "$work/custom" >"$work/build-custom.log" 2>&1
check "build with a build command and \$ORIGIN library" grep -q "^Built itest-custom" "$work/build-custom.log"

# A second build of an unchanged project reuses the stored image and reports it.
"$KILN" build -t itest-hello "$top/examples/hello" >"$work/rebuild.log" 2>&1
check "rebuild reuses the cache" grep -q "Reused cached image itest-hello:latest" "$work/rebuild.log"

# Two builds of the same inputs give byte-identical initrds.
"$KILN" build --no-cache -t itest-hello:again "$top/examples/hello" >/dev/null 2>&1
check "rebuild is byte-identical" cmp -s "$(image_file itest-hello initrd)" "$(image_file itest-hello:again initrd)"
"$KILN" rmi itest-hello:again >/dev/null

# hello: its greeting, then kiln-init's exit line; a per-run setting changes the status.
qemu_boot itest-hello "$work/hello.out"
pid1=$qemu_pid
runcfg "$work/exit3.cfg" env EXIT_STATUS=3 arg "two words" arg 'quote"d=x'
qemu_boot itest-hello "$work/hello3.out" -fw_cfg "name=opt/kiln/config,file=$work/exit3.cfg"
pid2=$qemu_pid
qemu_boot itest-shell "$work/shell.out"
pid3=$qemu_pid
wait $pid1 $pid2 $pid3
qemu_boot itest-custom "$work/custom.out"
wait $qemu_pid
check "custom program reads its data file" grep -q "^data: from the project" "$work/custom.out"
check "custom program loads its \$ORIGIN library" grep -q "^answer: 42" "$work/custom.out"
check "hello prints its greeting" grep -q "^Hello from a kiln unikernel" "$work/hello.out"
check "hello exits with status 0" grep -q "^KILN-EXIT code=0" "$work/hello.out"
check "hello exits with status 3" grep -q "^KILN-EXIT code=3" "$work/hello3.out"
check "hello gets arguments with spaces" grep -q "^arg 1: two words" "$work/hello3.out"
check "hello gets arguments with quotes" grep -q '^arg 2: quote"d=x' "$work/hello3.out"
check "shell script counts to 3" grep -q "^shell example: count 3 of 3" "$work/shell.out"
check "shell script exits with status 0" grep -q "^KILN-EXIT code=0" "$work/shell.out"

# The servers, each on a free port of 127.0.0.1 forwarded into the guest.
runcfg "$work/net.cfg" net user
serve() { # serve IMAGE GUEST_PORT: boots IMAGE and sets port to the host side.
    port=$(free_port)
    qemu_boot "$1" "$work/$1.out" -fw_cfg "name=opt/kiln/config,file=$work/net.cfg" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:$2" -device virtio-net-pci,netdev=n0
    pids="$pids $qemu_pid"
}
serve itest-http-c 80
http_port=$port
serve itest-redis 6379
redis_port=$port
wait_for "$work/itest-http-c.out" "listening on port 80" 60
check "http-c answers on 127.0.0.1" sh -c "curl -s -m 10 http://127.0.0.1:$http_port/ | grep -q 'Hello from kiln'"
wait_for "$work/itest-redis.out" "Ready to accept connections" 60
check "redis answers PONG on 127.0.0.1" sh -c "redis-cli -p $redis_port ping | grep -q PONG"
for p in $pids; do kill "$p" 2>/dev/null; done
pids=""

serve itest-python-http 8000
wait_for "$work/itest-python-http.out" "listening on port 8000" 90
check "python-http answers on 127.0.0.1" sh -c "curl -s -m 10 http://127.0.0.1:$port/x | grep -q '\"path\": \"/x\"'"
for p in $pids; do kill "$p" 2>/dev/null; done

for example in hello http-c redis python-http shell custom; do
    "$KILN" rmi "itest-$example" >/dev/null
done
if [ -n "${test_failed:-}" ]; then
    for f in "$work"/*.out; do
        echo "--- last lines of $f"
        tail -n 20 "$f"
    done
fi
exit 0
