/* Named ext4 volumes in the store: create, list, remove and resolve. */
#define _GNU_SOURCE
#include "volume.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define VOLUME_SUFFIX ".ext4"
#define VOLUME_NAME_MAX 64

bool volume_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > VOLUME_NAME_MAX || !isalnum((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!(c < 128 && (isalnum(c) || c == '_' || c == '.' || c == '-')))
            return false;
    }
    return true;
}

char *volume_file(const char *name)
{
    char *sub = xasprintf("volumes/%s" VOLUME_SUFFIX, name);
    char *path = store_path(sub);

    free(sub);
    return path;
}

/* Takes the lock of volume NAME; returns its fd or -1. */
static int volume_lock(const char *name)
{
    char *key = xasprintf("volume-%s", name);
    int fd = store_lock(key);

    free(key);
    return fd;
}

static int name_check(const char *name)
{
    if (volume_name_valid(name))
        return 0;
    err_set("invalid volume name '%s': use letters, digits, '_', '.' and '-', starting with a letter or digit, "
            "at most %d characters",
            name, VOLUME_NAME_MAX);
    err_set_usage();
    return -1;
}

/* Returns the first line of the output in FD (rewound), for an error message; caller frees. */
static char *first_line(int fd)
{
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return xstrdup("no output");
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return xstrdup(buf);
}

/* Makes FILE an ext4 filesystem of SIZE_MIB, with FROM_DIR's contents when not NULL. */
static int make_filesystem(const char *file, long long size_mib, const char *from_dir)
{
    char size[32];
    char *argv[9];
    int n = 0, rc = -1, out, status;

    snprintf(size, sizeof(size), "%lldM", size_mib);
    argv[n++] = (char *)"mkfs.ext4";
    argv[n++] = (char *)"-q";
    argv[n++] = (char *)"-F";
    if (from_dir) {
        argv[n++] = (char *)"-d";
        argv[n++] = (char *)from_dir;
    }
    argv[n++] = (char *)file;
    argv[n++] = size;
    argv[n] = NULL;

    out = memfd_create("mkfs-output", MFD_CLOEXEC);
    if (out < 0) {
        err_set_errno(errno, "cannot create a buffer for the output of mkfs.ext4");
        return -1;
    }
    status = run_argv(argv, NULL, out);
    if (status < 0) {
        err_prefix("cannot make the volume's filesystem (is e2fsprogs installed?)");
        goto cleanup;
    }
    if (status != 0) {
        char *line = first_line(out);

        err_set("mkfs.ext4 failed with status %d: %s%s", status, line,
                from_dir ? "; is --size large enough for the directory's contents?" : "");
        free(line);
        goto cleanup;
    }
    rc = 0;

cleanup:
    close(out);
    return rc;
}

int volume_create(const char *name, long long size_mib, const char *from_dir)
{
    char *dest = NULL, *stage = NULL, *staged = NULL;
    int lock = -1, fd, rc = -1;

    if (name_check(name) < 0)
        return -1;
    if (size_mib < VOLUME_MIN_SIZE_MIB || size_mib > VOLUME_MAX_SIZE_MIB) {
        err_set("invalid volume size %lldM: it must be between %lldM and %lldT", size_mib, VOLUME_MIN_SIZE_MIB,
                VOLUME_MAX_SIZE_MIB / 1024 / 1024);
        err_set_usage();
        return -1;
    }
    if (from_dir && !path_is_dir(from_dir)) {
        err_set("cannot fill volume %s from '%s': not a directory", name, from_dir);
        return -1;
    }
    if (store_init() < 0)
        return -1;

    lock = volume_lock(name);
    if (lock < 0)
        goto cleanup;
    dest = volume_file(name);
    if (path_exists(dest)) {
        err_set("volume %s already exists; remove it with kiln volume rm %s or choose another name", name, name);
        goto cleanup;
    }
    stage = store_stage_dir("volume");
    if (!stage)
        goto cleanup;
    staged = xasprintf("%s/%s" VOLUME_SUFFIX, stage, name);

    fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set_errno(errno, "cannot create %s", staged);
        goto cleanup;
    }
    if (ftruncate(fd, (off_t)size_mib * 1024 * 1024) < 0) {
        err_set_errno(errno, "cannot size %s to %lldM", staged, size_mib);
        close(fd);
        goto cleanup;
    }
    close(fd);
    if (make_filesystem(staged, size_mib, from_dir) < 0) {
        err_prefix("cannot create volume %s", name);
        goto cleanup;
    }
    if (rename(staged, dest) < 0) {
        err_set_errno(errno, "cannot move %s to %s", staged, dest);
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (stage && rm_rf(stage) < 0)
        log_debug("cannot remove %s: %s", stage, err_msg());
    if (lock >= 0)
        store_unlock(lock);
    free(staged);
    free(stage);
    free(dest);
    return rc;
}

static int compare_volumes(const void *a, const void *b)
{
    return strcmp(((const struct volume_info *)a)->name, ((const struct volume_info *)b)->name);
}

int volume_list(struct volume_info **out, size_t *n)
{
    char *dir = store_path("volumes");
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (!d) {
        int saved = errno;

        free(dir);
        if (saved == ENOENT)
            return 0;
        err_set_errno(saved, "cannot list the volumes in %s/volumes", store_root());
        return -1;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name), suffix = strlen(VOLUME_SUFFIX);
        struct volume_info *v;
        struct stat st;
        char *file;

        if (len <= suffix || strcmp(e->d_name + len - suffix, VOLUME_SUFFIX) != 0)
            continue;
        file = path_join(dir, e->d_name);
        if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(file);
            continue;
        }
        if (*n == cap)
            *out = xrealloc(*out, (cap = cap ? cap * 2 : 8) * sizeof(**out));
        v = &(*out)[(*n)++];
        v->name = xstrndup(e->d_name, len - suffix);
        v->file = file;
        v->size = (unsigned long long)st.st_size;
        v->on_disk = (unsigned long long)st.st_blocks * 512;
        v->modified = (long long)st.st_mtime;
    }
    closedir(d);
    free(dir);
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), compare_volumes);
    return 0;
}

void volume_list_free(struct volume_info *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i].name);
        free(list[i].file);
    }
    free(list);
}

int volume_remove(const char *name)
{
    char *file;
    int lock, rc = -1;

    if (name_check(name) < 0)
        return -1;
    lock = volume_lock(name);
    if (lock < 0)
        return -1;
    file = volume_file(name);
    if (unlink(file) < 0) {
        if (errno == ENOENT)
            err_set("volume %s not found; see kiln volume ls", name);
        else
            err_set_errno(errno, "cannot remove volume %s (%s)", name, file);
        goto cleanup;
    }
    rc = 0;

cleanup:
    store_unlock(lock);
    free(file);
    return rc;
}

int volume_resolve(struct volume_mount *mount)
{
    char *file;

    if (name_check(mount->volume) < 0)
        return -1;
    file = volume_file(mount->volume);
    if (!path_exists(file)) {
        err_set("volume %s not found; create it with kiln volume create %s", mount->volume, mount->volume);
        free(file);
        return -1;
    }
    free(mount->file);
    mount->file = file;
    return 0;
}
