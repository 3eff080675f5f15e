/*
 * A reproducible initramfs: a gzip-compressed newc cpio written with libarchive.
 * Entries are collected first, then written sorted by path, with mtime 0, uid
 * and gid 0 and parent directories added, so the same inputs give the same bytes.
 */
#ifndef KILN_INITRAMFS_H
#define KILN_INITRAMFS_H

#include <stddef.h>
#include <sys/types.h>

struct initramfs;

struct initramfs *initramfs_new(void);
void initramfs_free(struct initramfs *fs);
/* Adds the host file SRC (symlinks followed) at DEST; a later add of DEST replaces it. */
int initramfs_add_file(struct initramfs *fs, const char *dest, const char *src, mode_t mode);
int initramfs_add_data(struct initramfs *fs, const char *dest, const void *data, size_t len, mode_t mode);
int initramfs_add_dir(struct initramfs *fs, const char *dest, mode_t mode);
int initramfs_add_symlink(struct initramfs *fs, const char *dest, const char *target);
/*
 * Adds the host directory SRC below DEST recursively. A symlink inside that points
 * outside ROOT (when ROOT is not NULL) is an error naming it.
 */
int initramfs_add_tree(struct initramfs *fs, const char *dest, const char *src, const char *root);
/* Writes the archive to PATH; returns 0 or -1. */
int initramfs_write(struct initramfs *fs, const char *path);

/*
 * Calls FN for each entry of an initrd file in archive order. A nonzero return
 * from FN stops the walk and becomes the result.
 */
struct initramfs_entry {
    const char *path;
    mode_t mode;
    unsigned long long size;
    const char *link; /* symlink target or NULL */
};
int initramfs_list(const char *path, int (*fn)(void *ctx, const struct initramfs_entry *e), void *ctx);

#endif
