#!/bin/sh
# Bad input to kiln build: each case must fail with a one-line error naming the
# input, exit status 1 or 2, and leave the image store unchanged.
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
kiln_test_store_setup || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

store_state() {
    find "$KILN_STORE/images" -type f -printf '%P %s\n' 2>/dev/null | sort
}

# expect_error NAME STATUS TEXT DIR [BUILD OPTIONS...]: runs kiln build and checks
# the exit status, that stderr is one line containing TEXT, and the store.
expect_error() {
    name=$1 status=$2 text=$3 dir=$4
    shift 4
    before=$(store_state)
    "$KILN" build "$@" "$dir" >"$work/out" 2>"$work/err"
    rc=$?
    after=$(store_state)
    if [ "$rc" -ne "$status" ]; then
        not_ok "$name: exit status $rc, expected $status"
        cat "$work/err"
    elif [ "$(wc -l <"$work/err")" -ne 1 ]; then
        not_ok "$name: expected one line on stderr"
        cat "$work/err"
    elif ! grep -q -- "$text" "$work/err"; then
        not_ok "$name: message lacks '$text'"
        cat "$work/err"
    elif [ "$before" != "$after" ]; then
        not_ok "$name: the store changed"
    else
        ok "$name"
    fi
}

project() { # project NAME YAML: writes a project directory with a kiln.yaml.
    mkdir -p "$work/$1"
    printf '%s\n' "$2" >"$work/$1/kiln.yaml"
    cp "$top/examples/hello/hello.c" "$work/$1/"
}

project malformed 'name: x
kind: [c'
expect_error "malformed YAML" 2 "kiln.yaml:" "$work/malformed"

project mistyped 'name: x
kind: c
sources: [hello.c]
entrypiont: hello'
expect_error "mistyped key" 2 "did you mean 'entrypoint'" "$work/mistyped"

project nokind 'name: x
sources: [hello.c]'
expect_error "missing key" 2 "kind" "$work/nokind"

project noentry 'name: x
kind: binary
entrypoint: /usr/bin/no-such-program'
expect_error "entrypoint not found" 1 "/usr/bin/no-such-program" "$work/noentry"

project notelf 'name: x
kind: binary
entrypoint: hello.c'
expect_error "entrypoint not an ELF" 1 "not an ELF" "$work/notelf"

# A program linked against a library that is then deleted.
mkdir -p "$work/nolib/lib"
printf 'int foo(void) { return 1; }\n' >"$work/nolib/foo.c"
printf 'int foo(void);\nint main(void) { return foo(); }\n' >"$work/nolib/main.c"
cc -shared -fPIC -o "$work/nolib/lib/libkilnfoo.so" "$work/nolib/foo.c" &&
    cc -o "$work/nolib/prog" "$work/nolib/main.c" -L"$work/nolib/lib" -lkilnfoo &&
    rm "$work/nolib/lib/libkilnfoo.so"
printf 'name: nolib\nkind: binary\nentrypoint: prog\n' >"$work/nolib/kiln.yaml"
expect_error "missing shared library" 1 "libkilnfoo.so needed by" "$work/nolib"

project escape 'name: x
kind: c
sources: [hello.c]
files:
  - src: ../../etc/shadow
    dest: /etc/shadow'
expect_error "file path escaping the project" 2 "../../etc/shadow" "$work/escape"

project symlink 'name: x
kind: c
sources: [hello.c]
files:
  - src: secret
    dest: /secret'
ln -s /etc/shadow "$work/symlink/secret"
expect_error "symlink out of the project" 1 "outside the project" "$work/symlink"

project clash 'name: x
kind: c
sources: [hello.c]
files: ["hello.c:/app/x"]'
expect_error "file clashing with the program" 2 "clashes with /app/x" "$work/clash"

project fifo 'name: x
kind: c
sources: [hello.c]
files: ["pipe:/pipe"]'
mkfifo "$work/fifo/pipe"
expect_error "FIFO listed as a file" 1 "not a regular file" "$work/fifo"

project good 'name: good
kind: c
sources: [hello.c]'
expect_error "image name with a slash" 2 'invalid image name' "$work/good" -t a/b
expect_error "image name with a space" 2 'invalid image name' "$work/good" -t "a b"
expect_error "image name with dots" 2 'invalid image name' "$work/good" -t ..

KILN_STORE=/proc/kiln-store expect_error "unwritable store" 1 "/proc/kiln-store" "$work/good"

# No kernel cached and no apt-get to fetch one: a PATH holding every program but apt's.
mkdir -p "$work/emptystore" "$work/bin"
for p in /usr/local/bin/* /usr/bin/* /bin/* /usr/sbin/* /sbin/*; do
    case ${p##*/} in apt*) continue ;; esac
    [ -e "$work/bin/${p##*/}" ] || ln -s "$p" "$work/bin/${p##*/}"
done
KILN_STORE="$work/emptystore" PATH="$work/bin" expect_error "no kernel and no apt-get" 1 "kernel" "$work/good"
exit 0
