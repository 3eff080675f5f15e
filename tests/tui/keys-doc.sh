#!/bin/sh
# Checks that the key table in docs/dashboard.md (between the keys-begin and
# keys-end comments) is the one tests/tui/keys_doc.c generates from ui/keys.c.
# Usage: tests/tui/keys-doc.sh [BUILDDIR] [--write]; --write replaces the
# document's table with the generated one. Prints "N passed, N failed".
set -u
builddir=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
doc="$root/docs/dashboard.md"
tmp=$(mktemp -d /tmp/kiln-keys-doc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$root/$builddir/libkiln.a" ]; then
    echo "keys-doc.sh: $root/$builddir/libkiln.a not found; run make first" >&2
    exit 1
fi
pkgs="libvirt libxml-2.0 jansson yaml-0.1 ncursesw vterm libarchive libelf libkmod libcrypto"
sanitize=""
case "$builddir" in *asan*) sanitize="-fsanitize=address,undefined" ;; esac
# shellcheck disable=SC2046
if ! cc -std=gnu11 -pthread $sanitize -I"$root/src" -I"$root" $(pkg-config --cflags $pkgs) \
    -o "$tmp/keys-doc" "$here/keys_doc.c" "$root/$builddir/libkiln.a" $(pkg-config --libs $pkgs) -lm; then
    echo "not ok - key table generator builds"
    exit 1
fi
"$tmp/keys-doc" > "$tmp/generated"

if [ "${2:-}" = "--write" ]; then
    awk -v gen="$tmp/generated" '
        /<!-- keys-begin/ { print; while ((getline l < gen) > 0) print l; skip = 1; next }
        /<!-- keys-end/ { skip = 0 }
        !skip' "$doc" > "$tmp/doc" && cat "$tmp/doc" > "$doc"
fi

sed -n '/<!-- keys-begin/,/<!-- keys-end/p' "$doc" | sed '1d;$d' > "$tmp/documented"
if [ ! -s "$tmp/documented" ]; then
    echo "not ok - docs/dashboard.md has a key table between keys-begin and keys-end"
    echo "0 passed, 1 failed"
    exit 1
fi
if cmp -s "$tmp/generated" "$tmp/documented"; then
    echo "ok - docs/dashboard.md key table matches ui/keys.c"
    echo "1 passed, 0 failed"
else
    echo "not ok - docs/dashboard.md key table matches ui/keys.c (run: sh tests/tui/keys-doc.sh $builddir --write)"
    diff "$tmp/documented" "$tmp/generated" | sed 's/^/    | /'
    echo "0 passed, 1 failed"
    exit 1
fi
