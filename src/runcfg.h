/*
 * The settings file read by kiln-init: the image's defaults (/kiln/config inside
 * the initrd) and the per-run settings (fw_cfg entry "opt/kiln/config").
 *
 * Format: the magic "KILN1" and then KEY, VALUE pairs, every string ended by a
 * NUL byte, so values carry spaces, quotes, '=', newlines and UTF-8 unchanged.
 * Keys (repeatable ones marked *):
 *   entry     absolute path of the program to exec
 *   arg*      one argument (argv[1..]); per-run args replace the image's
 *   env*      "KEY=VALUE"; per-run values are applied after the image's
 *   workdir   working directory
 *   module*   absolute path of a kernel module in the initrd, in load order
 *   net       "none", "user" (static 10.0.2.15/24 via 10.0.2.2, QEMU user mode) or "dhcp"
 *   mount*    "DEVICE:PATH:rw" or "DEVICE:PATH:ro", an ext4 volume
 *   hostname  the guest's hostname
 *   stop_timeout  seconds between SIGTERM and SIGKILL when asked to stop
 */
#ifndef KILN_RUNCFG_H
#define KILN_RUNCFG_H

#include <stddef.h>

#define RUNCFG_MAGIC "KILN1"
#define RUNCFG_FWCFG_NAME "opt/kiln/config"
#define RUNCFG_IMAGE_PATH "/kiln/config"

struct runcfg {
    char *data;
    size_t len;
    size_t cap;
};

void runcfg_init(struct runcfg *c);
void runcfg_add(struct runcfg *c, const char *key, const char *value);
void runcfg_free(struct runcfg *c);

#endif
