#!/bin/sh
# make integration: only the shell tests against libvirtd and qemu, with the summary line.
top=$(cd "$(dirname "$0")/.." && pwd)
KILN_ONLY_INTEGRATION=1 exec sh "$top/tests/run-all.sh"
