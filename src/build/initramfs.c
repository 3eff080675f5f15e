/* The reproducible initramfs writer: entries collected in memory, then written sorted as gzip newc cpio. */
#include "build/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define COPY_CHUNK (256 * 1024)

enum entry_kind {
    ENTRY_FILE,    /* contents streamed from a host file at write time */
    ENTRY_DATA,    /* contents held in memory */
    ENTRY_DIR,
    ENTRY_SYMLINK,
};

struct entry {
    char *path; /* normalized: relative, no "." or ".." components, no repeated '/' */
    enum entry_kind kind;
    mode_t mode;  /* permission bits only */
    char *source; /* ENTRY_FILE: host path */
    void *data;   /* ENTRY_DATA */
    size_t len;
    char *link;   /* ENTRY_SYMLINK: target */
    size_t seq;   /* insertion order, so the last add of a path wins */
};

struct initramfs {
    struct entry *entries;
    size_t n;
    size_t cap;
    size_t next_seq;
};

struct initramfs *initramfs_new(void)
{
    return xcalloc(1, sizeof(struct initramfs));
}

static void entry_free(struct entry *e)
{
    free(e->path);
    free(e->source);
    free(e->data);
    free(e->link);
}

void initramfs_free(struct initramfs *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++)
        entry_free(&fs->entries[i]);
    free(fs->entries);
    free(fs);
}

/*
 * Turns DEST ("/app/bin", "app//bin/") into the archive path "app/bin".
 * Returns NULL with an error for an empty path or one with "." or "..".
 */
static char *path_normalize(const char *dest)
{
    char *out = xmalloc(strlen(dest) + 1), *o = out;
    const char *p = dest;

    while (*p) {
        const char *end;
        size_t len;

        while (*p == '/')
            p++;
        if (!*p)
            break;
        end = strchr(p, '/');
        len = end ? (size_t)(end - p) : strlen(p);
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
            err_set("invalid path \"%s\" in the initramfs: \".\" and \"..\" components are not allowed", dest);
            free(out);
            return NULL;
        }
        if (o != out)
            *o++ = '/';
        memcpy(o, p, len);
        o += len;
        p += len;
    }
    *o = '\0';
    if (o == out) {
        err_set("invalid path \"%s\" in the initramfs: it names the root directory", dest);
        free(out);
        return NULL;
    }
    return out;
}

/* Appends an entry for DEST of KIND and returns it, or NULL when DEST is invalid. */
static struct entry *entry_add(struct initramfs *fs, const char *dest, enum entry_kind kind, mode_t mode)
{
    char *path = path_normalize(dest);
    struct entry *e;

    if (!path)
        return NULL;
    if (fs->n == fs->cap) {
        fs->cap = fs->cap ? fs->cap * 2 : 64;
        fs->entries = xrealloc(fs->entries, fs->cap * sizeof(*fs->entries));
    }
    e = &fs->entries[fs->n++];
    memset(e, 0, sizeof(*e));
    e->path = path;
    e->kind = kind;
    e->mode = mode & 07777;
    e->seq = fs->next_seq++;
    return e;
}

int initramfs_add_file(struct initramfs *fs, const char *dest, const char *src, mode_t mode)
{
    struct stat st;
    struct entry *e;

    if (stat(src, &st) < 0) {
        err_set_errno(errno, "cannot add %s to the initramfs", src);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set("cannot add %s to the initramfs: it is not a regular file", src);
        return -1;
    }
    e = entry_add(fs, dest, ENTRY_FILE, mode);
    if (!e)
        return -1;
    e->source = xstrdup(src);
    return 0;
}

int initramfs_add_data(struct initramfs *fs, const char *dest, const void *data, size_t len, mode_t mode)
{
    struct entry *e = entry_add(fs, dest, ENTRY_DATA, mode);

    if (!e)
        return -1;
    e->data = xmalloc(len);
    if (len)
        memcpy(e->data, data, len);
    e->len = len;
    return 0;
}

int initramfs_add_dir(struct initramfs *fs, const char *dest, mode_t mode)
{
    return entry_add(fs, dest, ENTRY_DIR, mode) ? 0 : -1;
}

int initramfs_add_symlink(struct initramfs *fs, const char *dest, const char *target)
{
    struct entry *e;

    if (!*target) {
        err_set("cannot add the symbolic link %s to the initramfs: its target is empty", dest);
        return -1;
    }
    e = entry_add(fs, dest, ENTRY_SYMLINK, 0777);
    if (!e)
        return -1;
    e->link = xstrdup(target);
    return 0;
}

/* ---- directory trees ---- */

static int compare_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
    return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Adds the symlink at host path SRC. With ROOT set, its resolved target must lie within ROOT. */
static int add_tree_symlink(struct initramfs *fs, const char *dest, const char *src, const char *root)
{
    char target[PATH_MAX];
    ssize_t len = readlink(src, target, sizeof(target) - 1);
    char *resolved;

    if (len < 0) {
        err_set_errno(errno, "cannot read the symbolic link %s", src);
        return -1;
    }
    target[len] = '\0';
    if (root) {
        resolved = realpath(src, NULL);
        if (!resolved) {
            err_set("%s: symbolic link target %s cannot be resolved (%s); remove the link or create its target",
                    src, target, strerror(errno));
            return -1;
        }
        if (!path_is_within(root, resolved)) {
            err_set("%s: symbolic link points outside the project (%s)", src, target);
            free(resolved);
            return -1;
        }
        free(resolved);
    }
    return initramfs_add_symlink(fs, dest, target);
}

int initramfs_add_tree(struct initramfs *fs, const char *dest, const char *src, const char *root)
{
    struct dirent **names = NULL;
    struct stat st;
    int n, rc = 0;

    if (stat(src, &st) < 0) {
        err_set_errno(errno, "cannot add the directory %s to the initramfs", src);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        err_set("cannot add %s to the initramfs as a tree: it is not a directory", src);
        return -1;
    }
    /* The archive root exists already, so only a named directory gets an entry. */
    if (strspn(dest, "/") != strlen(dest) && initramfs_add_dir(fs, dest, st.st_mode) < 0)
        return -1;

    n = scandir(src, &names, skip_dots, compare_names);
    if (n < 0) {
        err_set_errno(errno, "cannot read the directory %s", src);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char *host = path_join(src, names[i]->d_name), *inner = path_join(dest, names[i]->d_name);

        if (rc == 0 && lstat(host, &st) < 0) {
            err_set_errno(errno, "cannot add %s to the initramfs", host);
            rc = -1;
        } else if (rc == 0 && S_ISDIR(st.st_mode)) {
            rc = initramfs_add_tree(fs, inner, host, root);
        } else if (rc == 0 && S_ISREG(st.st_mode)) {
            rc = initramfs_add_file(fs, inner, host, st.st_mode);
        } else if (rc == 0 && S_ISLNK(st.st_mode)) {
            rc = add_tree_symlink(fs, inner, host, root);
        } else if (rc == 0) {
            log_debug("skipping %s: not a regular file, directory or symbolic link", host);
        }
        free(host);
        free(inner);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- writing ---- */

/* Orders by path, then by insertion so that among duplicates the last added comes last. */
static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->path, y->path);

    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts the entries and keeps only the last add of each path. */
static void entries_dedupe(struct initramfs *fs)
{
    size_t kept = 0;

    if (fs->n > 1)
        qsort(fs->entries, fs->n, sizeof(*fs->entries), compare_entries);
    for (size_t i = 0; i < fs->n; i++) {
        if (i + 1 < fs->n && strcmp(fs->entries[i].path, fs->entries[i + 1].path) == 0) {
            entry_free(&fs->entries[i]);
            continue;
        }
        fs->entries[kept++] = fs->entries[i];
    }
    fs->n = kept;
}

static int compare_path_key(const void *key, const void *element)
{
    return strcmp(key, ((const struct entry *)element)->path);
}

/* Adds a 0755 directory for every missing parent of an entry, then sorts again. */
static void entries_add_parents(struct initramfs *fs)
{
    struct strv missing = {0};

    entries_dedupe(fs);
    for (size_t i = 0; i < fs->n; i++) {
        char *parent = xstrdup(fs->entries[i].path);
        char *slash;

        while ((slash = strrchr(parent, '/'))) {
            *slash = '\0';
            if (bsearch(parent, fs->entries, fs->n, sizeof(*fs->entries), compare_path_key))
                break;
            if (!strv_contains(&missing, parent))
                strv_push(&missing, parent);
        }
        free(parent);
    }
    for (size_t i = 0; i < missing.len; i++)
        entry_add(fs, missing.items[i], ENTRY_DIR, 0755);
    strv_free(&missing);
    entries_dedupe(fs);
}

/* Sets the fields every entry shares so the archive depends on nothing but the inputs. */
static void entry_fill(struct archive_entry *ae, const struct entry *e, unsigned int ino)
{
    static const mode_t types[] = {
        [ENTRY_FILE] = AE_IFREG,
        [ENTRY_DATA] = AE_IFREG,
        [ENTRY_DIR] = AE_IFDIR,
        [ENTRY_SYMLINK] = AE_IFLNK,
    };

    archive_entry_set_pathname(ae, e->path);
    archive_entry_set_filetype(ae, types[e->kind]);
    archive_entry_set_perm(ae, e->mode);
    archive_entry_set_mtime(ae, 0, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    archive_entry_set_nlink(ae, 1);
    archive_entry_set_ino(ae, ino);
    archive_entry_set_dev(ae, 0);
    archive_entry_set_rdev(ae, 0);
    archive_entry_set_size(ae, 0);
}

static int archive_fail(struct archive *a, const char *path, const char *what)
{
    err_set("cannot write the initramfs %s: %s: %s", path, what, archive_error_string(a));
    return -1;
}

/* Writes the header of E and streams its host file in chunks. */
static int write_file_entry(struct archive *a, struct archive_entry *ae, const struct entry *e, const char *out)
{
    int fd = open(e->source, O_RDONLY | O_CLOEXEC);
    unsigned long long left;
    struct stat st;
    char *buf = NULL;
    int rc = -1;

    if (fd < 0 || fstat(fd, &st) < 0) {
        err_set_errno(errno, "cannot read %s for the initramfs", e->source);
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set("cannot add %s to the initramfs: it is no longer a regular file", e->source);
        goto cleanup;
    }
    archive_entry_set_size(ae, st.st_size);
    if (archive_write_header(a, ae) != ARCHIVE_OK) {
        archive_fail(a, out, e->path);
        goto cleanup;
    }
    buf = xmalloc(COPY_CHUNK);
    for (left = (unsigned long long)st.st_size; left > 0;) {
        ssize_t n = read(fd, buf, left < COPY_CHUNK ? left : COPY_CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno(errno, "cannot read %s for the initramfs", e->source);
            goto cleanup;
        }
        if (n == 0) {
            err_set("%s shrank while the initramfs was written; build again", e->source);
            goto cleanup;
        }
        if (archive_write_data(a, buf, (size_t)n) != n) {
            archive_fail(a, out, e->path);
            goto cleanup;
        }
        left -= (unsigned long long)n;
    }
    rc = 0;

cleanup:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int write_entry(struct archive *a, const struct entry *e, unsigned int ino, const char *out)
{
    struct archive_entry *ae = archive_entry_new();
    int rc = -1;

    entry_fill(ae, e, ino);
    switch (e->kind) {
    case ENTRY_FILE:
        rc = write_file_entry(a, ae, e, out);
        goto cleanup;
    case ENTRY_DATA:
        archive_entry_set_size(ae, (la_int64_t)e->len);
        break;
    case ENTRY_SYMLINK:
        archive_entry_set_symlink(ae, e->link);
        break;
    case ENTRY_DIR:
        break;
    }
    if (archive_write_header(a, ae) != ARCHIVE_OK) {
        archive_fail(a, out, e->path);
        goto cleanup;
    }
    if (e->kind == ENTRY_DATA && e->len > 0 && archive_write_data(a, e->data, e->len) != (la_ssize_t)e->len) {
        archive_fail(a, out, e->path);
        goto cleanup;
    }
    rc = 0;

cleanup:
    archive_entry_free(ae);
    return rc;
}

/* Opens the archive writer on FD: newc cpio, gzip without a stored time, no padding of the last block. */
static struct archive *writer_open(int fd, const char *path)
{
    struct archive *a = archive_write_new();

    if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        /* A NULL value turns the gzip header time off (libarchive 3.6), so output is byte-identical. */
        archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        archive_fail(a, path, "setup");
        archive_write_free(a);
        return NULL;
    }
    return a;
}

int initramfs_write(struct initramfs *fs, const char *path)
{
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    struct archive *a = NULL;
    int fd, rc = -1;

    entries_add_parents(fs);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_set_errno(errno, "cannot write the initramfs %s", path);
        goto cleanup;
    }
    a = writer_open(fd, path);
    if (!a)
        goto cleanup;
    for (size_t i = 0; i < fs->n; i++)
        if (write_entry(a, &fs->entries[i], (unsigned int)(i + 1), path) < 0)
            goto cleanup;
    if (archive_write_close(a) != ARCHIVE_OK) {
        archive_fail(a, path, "finish");
        goto cleanup;
    }
    if (fsync(fd) < 0) {
        err_set_errno(errno, "cannot write the initramfs %s", path);
        goto cleanup;
    }
    if (rename(tmp, path) < 0) {
        err_set_errno(errno, "cannot rename %s to %s", tmp, path);
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (a)
        archive_write_free(a);
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ---- reading ---- */

/* Calls FN for each entry. A nonzero return from FN stops the walk and becomes the result. */
int initramfs_list(const char *path, int (*fn)(void *ctx, const struct initramfs_entry *e), void *ctx)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    int rc = -1, r;

    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        err_set("cannot read the initramfs %s: %s", path, archive_error_string(a));
        goto cleanup;
    }
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        struct initramfs_entry e = {
            .path = archive_entry_pathname(ae),
            .mode = archive_entry_mode(ae),
            .size = (unsigned long long)archive_entry_size(ae),
            .link = archive_entry_symlink(ae),
        };
        int stop = fn(ctx, &e);

        if (stop != 0) {
            rc = stop;
            goto cleanup;
        }
    }
    if (r != ARCHIVE_EOF) {
        err_set("cannot read the initramfs %s: %s; rebuild the image", path, archive_error_string(a));
        goto cleanup;
    }
    rc = 0;

cleanup:
    archive_read_free(a);
    return rc;
}
