#!/bin/sh
# Installs the Debian packages kiln needs to build and test, and only the missing
# ones. As root it runs apt-get; otherwise it prints the one command to run.
packages="build-essential pkg-config libvirt-dev libxml2-dev libjansson-dev libyaml-dev
libncurses-dev libcmocka-dev libvterm-dev libarchive-dev libelf-dev libkmod-dev libssl-dev
musl-tools qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients
libvirt-daemon-driver-qemu e2fsprogs tmux redis-server redis-tools python3 curl cpio kmod bc"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "kiln: missing Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "kiln: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { echo "kiln: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing || { echo "kiln: apt-get install failed" >&2; exit 1; }
