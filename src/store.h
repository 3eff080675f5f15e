/*
 * The image store on disk. Root: $KILN_STORE, else /var/lib/kiln for root, else
 * $XDG_DATA_HOME/kiln (~/.local/share/kiln). Layout under the root:
 *   kernels/VERSION/{vmlinuz,modules/}  the kernel cache
 *   images/NAME/TAG/{vmlinuz,initrd,image.json}
 *   instances/NAME/                     per-instance files (console log)
 *   volumes/NAME.ext4
 *   tmp/                                staging; a build is renamed from here into images/
 *   locks/                              flock files
 * Every write is atomic: staged in tmp/ and renamed into place, under a lock.
 */
#ifndef KILN_STORE_H
#define KILN_STORE_H

#include <stddef.h>

#include "image.h"

/* The store root (computed once); never NULL. */
const char *store_root(void);
/* Overrides the root (tests, --store); NULL restores the default. */
void store_set_root(const char *root);
/* Creates the layout; fails with a clear message when the root is not writable. */
int store_init(void);
/* Like store_init, but a store that exists and is only readable is accepted (for listing verbs). */
int store_open_readonly(void);
/* Returns ROOT/SUB; caller frees. */
char *store_path(const char *sub);

/* Takes an exclusive flock on locks/KEY.lock, waiting for it. Returns the fd or -1. */
int store_lock(const char *key);
void store_unlock(int fd);
/* Locks image NAME:TAG (key "image-NAME-TAG"): hold it around store_image_commit; store_image_remove takes it. */
int store_image_lock(const char *name, const char *tag);

/* Makes a fresh staging directory under tmp/; caller frees the path. */
char *store_stage_dir(const char *prefix);
/* Removes staging directories left by killed processes (their owner is gone). */
void store_clean_stale(void);

char *store_image_dir(const char *name, const char *tag);
/* Loads a stored image by reference "NAME[:TAG]"; -1 with "image NAME:TAG not found" otherwise. */
int store_image_get(const char *ref, struct image *out);
/* Lists every stored image, sorted by name then tag. */
int store_image_list(struct image **out, size_t *n);
/* Like store_image_list, also naming in BROKEN (when not NULL) each NAME:TAG whose image.json is unreadable. */
int store_image_list_checked(struct image **out, size_t *n, struct strv *broken);
void store_image_list_free(struct image *list, size_t n);
/*
 * Moves the staged image directory STAGE into images/NAME/TAG, replacing an old
 * one atomically (the old one is renamed aside, then removed). Caller holds the lock.
 */
int store_image_commit(const char *stage, const char *name, const char *tag);
/* Removes images/NAME/TAG under its lock. */
int store_image_remove(const char *name, const char *tag);

#endif
