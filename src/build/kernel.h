/* The kernel cache: Debian's cloud kernel fetched with apt-get download, or the user's own. */
#ifndef KILN_KERNEL_H
#define KILN_KERNEL_H

#include <stddef.h>

#include "util.h"

#define KERNEL_DEFAULT "debian-cloud"

struct kernel {
    char *version;     /* "6.1.0-57-cloud-amd64" */
    char *vmlinuz;     /* path of the kernel image */
    char *modules_dir; /* path of lib/modules/VERSION, or NULL when the kernel has none */
};

/*
 * Resolves a manifest's kernel: "debian-cloud" takes the newest cached Debian cloud
 * kernel, fetching it once when the cache is empty; anything else is the path of a
 * vmlinuz, with MODULES the path of its lib/modules/VERSION (may be NULL).
 */
int kernel_resolve(const char *spec, const char *modules, const struct progress *p, struct kernel *out);
/* Downloads and unpacks the Debian cloud kernel package into the cache (again). */
int kernel_fetch(const struct progress *p, struct kernel *out);
/*
 * Unpacks a linux-image .deb file obtained before (apt-get download, a mirror) into
 * the cache, as kernel_fetch does after its download.
 */
int kernel_import_deb(const char *deb, const struct progress *p, struct kernel *out);
/* Lists the cached kernels, newest first. */
int kernel_list(struct kernel **out, size_t *n);
void kernel_free(struct kernel *k);
void kernel_list_free(struct kernel *list, size_t n);

#endif
