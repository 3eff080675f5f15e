/* Kernel module selection with libkmod: names to module files, dependencies first. */
#ifndef KILN_MODULES_H
#define KILN_MODULES_H

#include "util.h"

/*
 * Resolves module NAMES against MODULES_DIR (lib/modules/VERSION) into OUT: host
 * paths of the module files to load, each after its dependencies, no duplicates.
 * Built-in modules are skipped. An unknown name is an error naming it.
 */
int modules_resolve(const char *modules_dir, const struct strv *names, struct strv *out);
/*
 * Returns the NULL-terminated module names a guest feature needs in Debian's cloud
 * kernel: "fwcfg" (run settings through fw_cfg), "net" (virtio network), "block"
 * (virtio disks) or "powerbutton" (ACPI shutdown). Returns NULL for other names.
 */
const char *const *modules_for_feature(const char *feature);

#endif
