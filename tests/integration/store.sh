#!/bin/sh
# The image store under concurrent and interrupted builds: two builds of the same
# tag at once, and a build killed with SIGKILL half-way, never leave a broken or
# half-written image behind.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_store_setup || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# image_complete REF: the image's three files exist, the initrd is a whole gzip
# stream and its size is the one image.json records.
image_complete() {
    dir=$(dirname "$(image_file "$1" initrd)")
    [ -f "$dir/vmlinuz" ] && [ -f "$dir/initrd" ] && [ -f "$dir/image.json" ] || return 1
    gzip -t "$dir/initrd" || return 1
    want=$("$KILN" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["initrd"]["size"])')
    [ "$want" = "$(stat -c %s "$dir/initrd")" ]
}

"$KILN" build --no-cache -t itest-race "$top/examples/redis" >"$work/a.log" 2>&1 &
a=$!
"$KILN" build --no-cache -t itest-race "$top/examples/redis" >"$work/b.log" 2>&1 &
b=$!
wait $a
ra=$?
wait $b
rb=$?
check "two concurrent builds of one tag both succeed" [ "$ra" -eq 0 -a "$rb" -eq 0 ]
check "the raced image is complete" image_complete itest-race

# A build killed half-way: the previous image stays whole and no staging is left.
"$KILN" build -t itest-killed "$top/examples/hello" >/dev/null 2>&1
before=$("$KILN" inspect itest-killed | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["digest"])')
"$KILN" build --no-cache -t itest-killed "$top/examples/python-http" >/dev/null 2>&1 &
victim=$!
# Wait until the build has staged something, then kill it.
i=0
while [ -z "$(ls "$KILN_STORE/tmp" 2>/dev/null)" ] && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -9 $victim
wait $victim 2>/dev/null
after=$("$KILN" inspect itest-killed | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["digest"])')
check "a killed build keeps the previous image" [ "$before" = "$after" ]
check "the previous image is complete" image_complete itest-killed
"$KILN" images >/dev/null
check "the next command removes the staging left behind" [ -z "$(ls "$KILN_STORE/tmp")" ]

# An image whose image.json was damaged is named by images and still removable.
"$KILN" build -t itest-broken "$top/examples/hello" >/dev/null 2>&1
echo '{' >"$(dirname "$(image_file itest-broken initrd)")/image.json"
"$KILN" images -q >"$work/images.out" 2>"$work/images.err"
check "images warns about a damaged image" grep -q "itest-broken:latest has unreadable metadata" "$work/images.err"
check "rmi removes a damaged image" "$KILN" rmi itest-broken

"$KILN" rmi itest-race itest-killed >/dev/null
check "rmi removes the images" sh -c "! \"$KILN\" images -q | grep -q itest-"
exit 0
