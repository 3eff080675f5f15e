/*
 * Named volumes: ext4 disk images in the store (volumes/NAME.ext4), made with
 * mkfs.ext4, attached to an instance with -v NAME:/path and mounted by kiln-init.
 */
#ifndef KILN_VOLUME_H
#define KILN_VOLUME_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"

#define VOLUME_DEFAULT_SIZE_MIB 1024LL
/* mkfs.ext4 needs room for its journal and metadata. */
#define VOLUME_MIN_SIZE_MIB 16LL
#define VOLUME_MAX_SIZE_MIB (16LL * 1024 * 1024)

struct volume_info {
    char *name;
    char *file;
    unsigned long long size;    /* apparent size in bytes */
    unsigned long long on_disk; /* bytes allocated (the image is sparse) */
    long long modified;         /* seconds since the epoch */
};

/* Volume names: a letter or digit, then letters, digits, '_', '.', '-'; at most 64 characters. */
bool volume_name_valid(const char *name);
/* Returns the store path of volume NAME (which need not exist); caller frees. */
char *volume_file(const char *name);
/*
 * Creates volume NAME of SIZE_MIB, filled with the contents of FROM_DIR when it
 * is not NULL. Fails when NAME exists; leaves nothing behind on failure.
 */
int volume_create(const char *name, long long size_mib, const char *from_dir);
/* Lists the volumes, sorted by name. */
int volume_list(struct volume_info **out, size_t *n);
void volume_list_free(struct volume_info *list, size_t n);
/* Removes volume NAME; the caller checks first that no instance uses it. */
int volume_remove(const char *name);
/* Sets MOUNT->file to the volume's image; -1 with "volume NAME not found" when it does not exist. */
int volume_resolve(struct volume_mount *mount);

#endif
