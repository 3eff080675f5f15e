#!/bin/sh
# Creates a dashboard fixture in DIR: an image store with two images and a
# libvirt test-driver file (use test:///DIR/node.xml) with kiln instances in
# several states, each with a console log. Usage: tests/tui/fixture.sh DIR [COUNT]
# COUNT adds that many more running instances (for the scale test).
set -eu
dir=$1
count=${2:-0}
mkdir -p "$dir/store/images/hello/latest" "$dir/store/images/web/1.0" "$dir/logs"

make_image() { # NAME TAG KIND PORT
    d="$dir/store/images/$1/$2"
    mkdir -p "$d/root/app"
    printf 'hello from %s\n' "$1" > "$d/root/app/message.txt"
    (cd "$d/root" && find . | cpio -o -H newc --quiet) | gzip -n > "$d/initrd"
    rm -rf "$d/root"
    printf 'not a kernel\n' > "$d/vmlinuz"
    ports='[]'
    [ -n "$4" ] && ports="[{\"port\": $4, \"proto\": \"tcp\"}]"
    cat > "$d/image.json" <<JSON
{
  "schema": 1,
  "name": "$1",
  "tag": "$2",
  "digest": "sha256:$(printf '%s' "$1$2" | sha256sum | cut -c1-64)",
  "created": "2026-12-01T10:00:00Z",
  "kind": "$3",
  "kernel": {"version": "6.1.0-test-cloud-amd64", "size": 8000000},
  "initrd": {"size": $(stat -c %s "$d/initrd")},
  "entrypoint": ["/app/$1"],
  "cmd": ["--greeting", "hi there"],
  "env": ["MODE=test"],
  "memory_mib": 128,
  "cpus": 1,
  "ports": $ports,
  "cmdline": "console=ttyS0 quiet"
}
JSON
}
make_image hello latest c ""
make_image web 1.0 binary 8080

domain() { # NAME STATE IMAGE STARTED PORTXML
    name=$1
    log="$dir/logs/$name.log"
    printf 'Booting %s\r\n[    0.000000] Linux version 6.1.0-test\r\n\033[1mkiln-init\033[0m: starting /app\r\nhello from %s\r\n' "$name" "$name" > "$log"
    cat <<XML
  <domain type='test'>
    <name>$name</name>
    <uuid>$(printf '%s' "$name" | md5sum | sed 's/^\(........\)\(....\)\(....\)\(....\)\(............\).*/\1-\2-\3-\4-\5/')</uuid>
    <memory unit='MiB'>128</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
    <metadata>
      <kiln:instance xmlns:kiln='https://kiln.dev/xmlns/instance/1'>
        <kiln:image>$3</kiln:image>
        <kiln:created>2026-12-04T09:00:00Z</kiln:created>
        <kiln:started>$4</kiln:started>
        <kiln:auto-remove>false</kiln:auto-remove>
        <kiln:log offset='0'>$log</kiln:log>
        $5
      </kiln:instance>
    </metadata>
    <devices/>
    <state>$2</state>
  </domain>
XML
}

{
    echo "<node>"
    domain web-1 running web:1.0 2026-12-04T09:00:00Z "<kiln:port host-ip='127.0.0.1' host='18080' guest='8080' proto='tcp'/>"
    domain web-2 running web:1.0 2026-12-04T09:30:00Z ""
    domain hello-1 shutoff hello:latest 2026-12-04T08:00:00Z ""
    domain batch-7 running hello:latest 2026-12-04T09:45:00Z ""
    i=0
    while [ "$i" -lt "$count" ]; do
        i=$((i + 1))
        domain "scale-$i" running hello:latest 2026-12-04T09:00:00Z ""
    done
    echo "</node>"
} > "$dir/node.xml"
