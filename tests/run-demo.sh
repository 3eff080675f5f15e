#!/bin/sh
# make run: builds the HTTP example, starts it in the background with its port
# forwarded to 127.0.0.1:8080, and opens the dashboard on it.
set -u
builddir=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
kiln=$top/$builddir/kiln
if [ "$(id -u)" -eq 0 ]; then
    # See kiln_host_kvm in tests/lib.sh: without this, libvirt calls take minutes.
    top=$top . "$top/tests/lib.sh"
    kiln_host_kvm
    pgrep -x virtlogd >/dev/null || virtlogd -d
    pgrep -x libvirtd >/dev/null || libvirtd -d
fi
"$kiln" build "$top/examples/http-c" || exit 1
if ! "$kiln" ps -q | grep -qx demo-http; then
    "$kiln" rm -f demo-http >/dev/null 2>&1
    "$kiln" run -d --name demo-http -p 8080:80 http-c || exit 1
    echo "demo-http answers on http://127.0.0.1:8080/ (kiln stop demo-http to end it)"
fi
exec "$kiln" dash
