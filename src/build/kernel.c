/* The kernel cache: Debian's cloud kernel package unpacked with libarchive, or the user's own bzImage. */
#define _GNU_SOURCE
#include "build/kernel.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define KERNEL_PACKAGE "linux-image-cloud-amd64"
#define KERNEL_FLAVOUR_SUFFIX "-cloud-amd64"
#define CUSTOM_KERNEL_HINT "set kernel: /path/to/vmlinuz in kiln.yaml to use a kernel of your own"

/* Offsets in the x86 boot protocol header of a bzImage (Documentation/x86/boot.rst). */
#define BZIMAGE_MAGIC_OFFSET 0x202       /* "HdrS" */
#define BZIMAGE_PROTOCOL_OFFSET 0x206    /* boot protocol version, 16 bits */
#define BZIMAGE_VERSION_PTR_OFFSET 0x20e /* kernel_version: string offset minus 0x200 */
#define BZIMAGE_MAX_VERSION 256

/* Module file suffixes that are decompressed while unpacking, since the guest loads plain .ko files. */
static const char *const module_compress_suffixes[] = {".ko.xz", ".ko.zst", ".ko.gz"};

/* True for a kernel release usable as a directory name: letters, digits, '.', '_', '+', '-'. */
static bool version_valid(const char *version)
{
    size_t n = strlen(version);

    if (n == 0 || n > 128 || version[0] == '.' || version[0] == '-')
        return false;
    for (const char *c = version; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '.' || *c == '_' || *c == '+' || *c == '-';

        if (!ok)
            return false;
    }
    return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

void kernel_free(struct kernel *k)
{
    if (!k)
        return;
    free(k->version);
    free(k->vmlinuz);
    free(k->modules_dir);
    memset(k, 0, sizeof(*k));
}

void kernel_list_free(struct kernel *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kernel_free(&list[i]);
    free(list);
}

/* Fills OUT for the cache entry DIR, or returns -1 when DIR contains no vmlinuz. */
static int cache_entry_load(const char *dir, const char *version, struct kernel *out)
{
    char *vmlinuz = path_join(dir, "vmlinuz");
    char *modules = path_join(dir, "modules");
    struct stat st;

    if (stat(vmlinuz, &st) < 0 || !S_ISREG(st.st_mode)) {
        err_set("kernel cache entry %s has no vmlinuz; run kiln kernel fetch again", dir);
        free(vmlinuz);
        free(modules);
        return -1;
    }
    out->version = xstrdup(version);
    out->vmlinuz = vmlinuz;
    if (path_is_dir(modules)) {
        out->modules_dir = modules;
    } else {
        out->modules_dir = NULL;
        free(modules);
    }
    return 0;
}

static int kernel_compare_newest_first(const void *a, const void *b)
{
    return strverscmp(((const struct kernel *)b)->version, ((const struct kernel *)a)->version);
}

int kernel_list(struct kernel **out, size_t *n)
{
    char *cache = store_path("kernels");
    DIR *dir = opendir(cache);
    struct dirent *entry;
    struct kernel *list = NULL;
    size_t len = 0, cap = 0;

    *out = NULL;
    *n = 0;
    if (!dir) {
        int saved = errno;

        if (saved != ENOENT)
            err_set_errno(saved, "cannot read the kernel cache %s", cache);
        free(cache);
        return saved == ENOENT ? 0 : -1;
    }
    while ((entry = readdir(dir))) {
        char *path;

        if (!version_valid(entry->d_name))
            continue;
        path = path_join(cache, entry->d_name);
        if (len == cap) {
            cap = cap ? cap * 2 : 4;
            list = xrealloc(list, cap * sizeof(*list));
        }
        memset(&list[len], 0, sizeof(*list));
        if (path_is_dir(path) && cache_entry_load(path, entry->d_name, &list[len]) == 0)
            len++;
        free(path);
    }
    closedir(dir);
    free(cache);
    err_clear();

    if (len > 1)
        qsort(list, len, sizeof(*list), kernel_compare_newest_first);
    if (len == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n = len;
    return 0;
}

/* ---- running apt and depmod ---- */

/* Returns the last "E: " line of the log at PATH (or its last line), or NULL. */
static char *log_last_error(const char *path)
{
    char *text = file_read(path, NULL), *found = NULL, *save = NULL;

    if (!text)
        return NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "E: ", 3) == 0 || !found || strncmp(found, "E: ", 3) != 0) {
            free(found);
            found = xstrdup(line);
        }
    }
    free(text);
    return found;
}

/*
 * Runs the NULL-terminated arguments in STAGE with their output written to
 * STAGE/LOG_NAME (*LOG_PATH), and returns the exit status or -1.
 */
static int tool_run(const char *stage, const char *log_name, char **log_path, const char *arg0, ...)
{
    struct strv argv = {0};
    va_list ap;
    int fd, rc;

    va_start(ap, arg0);
    for (const char *arg = arg0; arg; arg = va_arg(ap, const char *))
        strv_push(&argv, arg);
    va_end(ap);

    *log_path = path_join(stage, log_name);
    fd = open(*log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_set_errno(errno, "cannot write %s", *log_path);
        strv_free(&argv);
        return -1;
    }
    rc = run_argv(argv.items, stage, fd);
    close(fd);
    strv_free(&argv);
    return rc;
}

/* Sets the error for a failed apt command, quoting its last error line. */
static void apt_fail(const char *what, const char *package, int status, const char *log_path)
{
    char *line = log_path ? log_last_error(log_path) : NULL;

    if (status < 0)
        err_prefix("cannot fetch the kernel package %s", package);
    else
        err_set("cannot fetch the kernel package %s: %s exited with status %d%s%s; check the network, or %s",
                package, what, status, line ? ": " : "", line ? line : "", CUSTOM_KERNEL_HINT);
    free(line);
}

/* Finds the versioned package that linux-image-cloud-amd64 depends on, e.g. linux-image-6.1.0-57-cloud-amd64. */
static char *package_resolve(const char *stage)
{
    char *log_path = NULL, *text = NULL, *save = NULL, *package = NULL;
    int rc = tool_run(stage, "apt-cache.log", &log_path, "apt-cache", "depends", KERNEL_PACKAGE, NULL);

    if (rc != 0) {
        apt_fail("apt-cache depends", KERNEL_PACKAGE, rc, rc > 0 ? log_path : NULL);
        goto cleanup;
    }
    text = file_read(log_path, NULL);
    if (!text)
        goto cleanup;
    for (char *line = strtok_r(text, "\n", &save); line && !package; line = strtok_r(NULL, "\n", &save)) {
        const char *name = line + strspn(line, " |");

        if (strncmp(name, "Depends: ", 9) != 0)
            continue;
        name += 9;
        if (strncmp(name, "linux-image-", 12) == 0 && has_suffix(name, KERNEL_FLAVOUR_SUFFIX) &&
            strcmp(name, KERNEL_PACKAGE) != 0 && version_valid(name + 12))
            package = xstrdup(name);
    }
    if (!package)
        err_set("cannot fetch the kernel package %s: apt-cache names no linux-image-*%s package it depends on; "
                "run apt-get update, or %s", KERNEL_PACKAGE, KERNEL_FLAVOUR_SUFFIX, CUSTOM_KERNEL_HINT);

cleanup:
    free(text);
    free(log_path);
    return package;
}

/* Downloads PACKAGE into STAGE and returns the path of the .deb file. */
static char *package_download(const char *stage, const char *package)
{
    char *log_path = NULL, *prefix = xasprintf("%s_", package), *deb = NULL;
    int rc = tool_run(stage, "apt-get.log", &log_path, "apt-get", "download", package, NULL);
    DIR *dir;
    struct dirent *entry;

    if (rc != 0) {
        apt_fail("apt-get download", package, rc, rc > 0 ? log_path : NULL);
        goto cleanup;
    }
    dir = opendir(stage);
    if (!dir) {
        err_set_errno(errno, "cannot read %s", stage);
        goto cleanup;
    }
    while (!deb && (entry = readdir(dir)))
        if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0 && has_suffix(entry->d_name, ".deb"))
            deb = path_join(stage, entry->d_name);
    closedir(dir);
    if (!deb)
        err_set("cannot fetch the kernel package %s: apt-get download wrote no .deb file in %s; %s",
                package, stage, CUSTOM_KERNEL_HINT);

cleanup:
    free(prefix);
    free(log_path);
    return deb;
}

/* ---- unpacking the .deb ---- */

/* Feeds the data of the current entry of an outer archive to an inner archive reader. */
struct nested_source {
    struct archive *outer;
};

static la_ssize_t nested_read(struct archive *inner, void *ctx, const void **buf)
{
    struct nested_source *src = ctx;
    size_t size;
    la_int64_t offset;
    int rc = archive_read_data_block(src->outer, buf, &size, &offset);

    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc != ARCHIVE_OK) {
        archive_set_error(inner, archive_errno(src->outer), "%s", archive_error_string(src->outer));
        return -1;
    }
    return (la_ssize_t)size;
}

/* Opens a reader over the current entry of OUTER: one compressed file when FORMAT_RAW, else a tar. */
static struct archive *nested_open(struct nested_source *src, bool format_raw)
{
    struct archive *a = archive_read_new();

    archive_read_support_filter_all(a);
    if (format_raw)
        archive_read_support_format_raw(a);
    else
        archive_read_support_format_tar(a);
    if (archive_read_open(a, src, NULL, nested_read, NULL) != ARCHIVE_OK) {
        err_set("cannot read the package data: %s", archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/*
 * Returns the entry path without its leading "./", or NULL when it is absolute or
 * has a ".." component.
 */
static const char *entry_path_safe(const char *name)
{
    while (strncmp(name, "./", 2) == 0)
        name += 2;
    if (name[0] == '/')
        return NULL;
    for (const char *c = name; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c))
        if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
            return NULL;
    return name;
}

/* True for the entries a kernel cache keeps: boot/vmlinuz-* and [usr/]lib/modules/... */
static bool entry_wanted(const char *path)
{
    if (strncmp(path, "boot/vmlinuz-", 13) == 0)
        return path[13] && !strchr(path + 13, '/');
    if (strncmp(path, "usr/", 4) == 0)
        path += 4;
    return strncmp(path, "lib/modules/", 12) == 0 && path[12];
}

/* Writes the data of the current entry of A to DEST, which must not exist. */
static int entry_write(struct archive *a, const char *dest)
{
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    int rc;

    if (fd < 0) {
        err_set_errno(errno, "cannot write %s", dest);
        return -1;
    }
    rc = archive_read_data_into_fd(a, fd);
    if (rc != ARCHIVE_OK) {
        err_set("cannot unpack %s: %s", dest, archive_error_string(a));
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        err_set_errno(errno, "cannot write %s", dest);
        return -1;
    }
    return 0;
}

/* Writes the current entry of TAR, a compressed module, decompressed to DEST. */
static int module_decompress(struct archive *tar, const char *name, const char *dest)
{
    struct nested_source src = {tar};
    struct archive *raw = nested_open(&src, true);
    struct archive_entry *entry;
    int rc = -1;

    if (!raw)
        return -1;
    if (archive_read_next_header(raw, &entry) != ARCHIVE_OK) {
        err_set("cannot decompress %s: %s", name, archive_error_string(raw));
        goto cleanup;
    }
    /* Without a matching filter the raw format passes the compressed bytes through. */
    if (archive_filter_code(raw, 0) == ARCHIVE_FILTER_NONE) {
        err_set("cannot decompress %s: this libarchive has no filter for it; install libarchive with xz and zstd",
                name);
        goto cleanup;
    }
    rc = entry_write(raw, dest);

cleanup:
    archive_read_free(raw);
    return rc;
}

/* Unpacks one wanted entry of TAR below ROOT: directories and regular files only. */
static int entry_unpack(struct archive *tar, struct archive_entry *entry, const char *path, const char *root)
{
    char *dest = path_join(root, path), *parent, *slash;
    mode_t type = archive_entry_filetype(entry);
    int rc = -1;

    if (type == AE_IFDIR) {
        rc = mkdir_p(dest, 0755);
        goto cleanup;
    }
    if (type != AE_IFREG || archive_entry_hardlink(entry)) {
        log_debug("skipping %s: not a regular file", path);
        rc = 0;
        goto cleanup;
    }
    parent = xstrdup(dest);
    slash = strrchr(parent, '/');
    *slash = '\0';
    rc = mkdir_p(parent, 0755);
    free(parent);
    if (rc < 0)
        goto cleanup;

    for (size_t i = 0; i < ARRAY_SIZE(module_compress_suffixes); i++) {
        if (has_suffix(dest, module_compress_suffixes[i])) {
            /* Keep ".ko", drop the compression suffix. */
            dest[strlen(dest) - strlen(module_compress_suffixes[i]) + 3] = '\0';
            rc = module_decompress(tar, path, dest);
            goto cleanup;
        }
    }
    rc = entry_write(tar, dest);

cleanup:
    free(dest);
    return rc;
}

/* Unpacks the kernel image and modules of the data.tar.* member being read from DEB into ROOT. */
static int data_unpack(struct archive *deb, const char *deb_path, const char *root)
{
    struct nested_source src = {deb};
    struct archive *tar = nested_open(&src, false);
    struct archive_entry *entry;
    int rc = -1, status;

    if (!tar) {
        err_prefix("%s", deb_path);
        return -1;
    }
    while ((status = archive_read_next_header(tar, &entry)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(entry);
        const char *path = name ? entry_path_safe(name) : NULL;

        if (!path) {
            err_set("%s: unsafe path %s in the package; download it again or %s", deb_path,
                    name ? name : "(none)", CUSTOM_KERNEL_HINT);
            goto cleanup;
        }
        if (!entry_wanted(path))
            continue;
        if (entry_unpack(tar, entry, path, root) < 0)
            goto cleanup;
    }
    if (status != ARCHIVE_EOF) {
        err_set("%s: invalid package data: %s", deb_path, archive_error_string(tar));
        goto cleanup;
    }
    rc = 0;

cleanup:
    archive_read_free(tar);
    return rc;
}

/* Unpacks the kernel files of the Debian package DEB below ROOT (an ar archive holding data.tar.*). */
static int deb_unpack(const char *deb, const char *root)
{
    struct archive *a = archive_read_new();
    struct archive_entry *entry;
    int rc = -1, status;
    bool found = false;

    archive_read_support_format_ar(a);
    if (archive_read_open_filename(a, deb, 65536) != ARCHIVE_OK) {
        err_set("cannot read %s: %s", deb, archive_error_string(a));
        goto cleanup;
    }
    while (!found && (status = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(entry);

        if (!name || strncmp(name, "data.tar", 8) != 0)
            continue;
        found = true;
        if (data_unpack(a, deb, root) < 0)
            goto cleanup;
    }
    if (!found) {
        err_set("%s is not a Debian package with a data.tar member; download it again", deb);
        goto cleanup;
    }
    rc = 0;

cleanup:
    archive_read_free(a);
    return rc;
}

/* ---- assembling a cache entry ---- */

/* Finds the single boot/vmlinuz-VERSION below ROOT and returns VERSION. */
static char *unpacked_version(const char *root, const char *deb)
{
    char *boot = path_join(root, "boot");
    DIR *dir = opendir(boot);
    struct dirent *entry;
    char *version = NULL;
    int count = 0;

    while (dir && (entry = readdir(dir))) {
        if (strncmp(entry->d_name, "vmlinuz-", 8) != 0)
            continue;
        count++;
        free(version);
        version = xstrdup(entry->d_name + 8);
    }
    if (dir)
        closedir(dir);
    free(boot);
    if (count != 1 || !version_valid(version)) {
        err_set("%s holds %s; use a linux-image package with one kernel or %s", deb,
                count == 0 ? "no boot/vmlinuz-* file" : count > 1 ? "several kernels" : "an invalid kernel version",
                CUSTOM_KERNEL_HINT);
        free(version);
        return NULL;
    }
    return version;
}

/* Builds the modules.dep.bin and other indexes libkmod reads, with depmod, in ROOT/lib/modules/VERSION. */
static int modules_index(const char *root, const char *version, const char *log_dir)
{
    char *depmod = path_which("depmod");
    char *log_path = NULL, *line = NULL;
    int rc;

    /* A user's PATH often lacks the sbin directories. */
    if (!depmod && access("/usr/sbin/depmod", X_OK) == 0)
        depmod = xstrdup("/usr/sbin/depmod");
    if (!depmod && access("/sbin/depmod", X_OK) == 0)
        depmod = xstrdup("/sbin/depmod");
    if (!depmod) {
        err_set("depmod not found: kiln needs it to index the kernel modules; install the kmod package");
        return -1;
    }
    rc = tool_run(log_dir, "depmod.log", &log_path, depmod, "-b", root, version, NULL);
    if (rc > 0) {
        line = log_last_error(log_path);
        err_set("depmod failed for kernel %s with status %d%s%s; check the kmod package", version, rc,
                line ? ": " : "", line ? line : "");
    }
    free(line);
    free(log_path);
    free(depmod);
    return rc == 0 ? 0 : -1;
}

/* Renames FROM to TO, setting the error record on failure. */
static int move(const char *from, const char *to)
{
    if (rename(from, to) < 0) {
        err_set_errno(errno, "cannot move %s to %s", from, to);
        return -1;
    }
    return 0;
}

/*
 * Sets *OUT to ROOT/lib/modules/VERSION, moving it there from ROOT/usr/lib/modules,
 * or to NULL when the package has no modules.
 */
static int unpacked_modules(const char *root, const char *version, char **out)
{
    char *usr = xasprintf("%s/usr/lib/modules/%s", root, version);
    char *lib = xasprintf("%s/lib/modules/%s", root, version);
    char *parent = path_join(root, "lib/modules");
    int rc = 0;

    /* Newer Debian packages ship usr/lib/modules, and depmod -b looks in lib/modules. */
    if (path_is_dir(usr) && !path_is_dir(lib))
        rc = mkdir_p(parent, 0755) < 0 || move(usr, lib) < 0 ? -1 : 0;
    if (rc < 0 || !path_is_dir(lib)) {
        free(lib);
        lib = NULL;
    }
    *out = lib;
    free(usr);
    free(parent);
    return rc;
}

/*
 * Moves the unpacked kernel in ROOT into STAGE/VERSION/{vmlinuz,modules}, ready for
 * the cache, and returns VERSION. A package without modules gives no modules directory.
 */
static char *unpacked_assemble(const char *root, const char *stage, const char *deb)
{
    char *version = unpacked_version(root, deb);
    char *entry = NULL, *src = NULL, *dest = NULL;
    int rc = -1;

    if (!version)
        return NULL;
    entry = path_join(stage, version);
    if (mkdir(entry, 0755) < 0) {
        err_set_errno(errno, "cannot create %s", entry);
        goto cleanup;
    }
    src = xasprintf("%s/boot/vmlinuz-%s", root, version);
    dest = path_join(entry, "vmlinuz");
    if (move(src, dest) < 0)
        goto cleanup;

    free(src);
    free(dest);
    dest = NULL;
    if (unpacked_modules(root, version, &src) < 0)
        goto cleanup;
    if (src) {
        dest = path_join(entry, "modules");
        if (modules_index(root, version, stage) < 0 || move(src, dest) < 0)
            goto cleanup;
    }
    rc = 0;

cleanup:
    free(src);
    free(dest);
    free(entry);
    if (rc < 0) {
        free(version);
        return NULL;
    }
    return version;
}

/* Moves STAGE/VERSION into the cache under the kernels lock, replacing an older copy. */
static int cache_commit(const char *stage, const char *version, struct kernel *out)
{
    char *cache = store_path("kernels");
    char *src = path_join(stage, version), *dest = path_join(cache, version);
    char *old = path_join(stage, "replaced");
    int lock = -1, rc = -1;

    if (mkdir_p(cache, 0755) < 0)
        goto cleanup;
    lock = store_lock("kernels");
    if (lock < 0)
        goto cleanup;
    if (path_exists(dest) && rename(dest, old) < 0) {
        err_set_errno(errno, "cannot replace %s", dest);
        goto cleanup;
    }
    if (move(src, dest) < 0) {
        if (path_exists(old))
            rename(old, dest);
        goto cleanup;
    }
    rc = cache_entry_load(dest, version, out);

cleanup:
    store_unlock(lock);
    free(cache);
    free(src);
    free(dest);
    free(old);
    return rc;
}

/* Unpacks DEB through the staging directory STAGE into the cache. */
static int deb_install(const char *deb, const char *stage, const struct progress *p, struct kernel *out)
{
    char *root = path_join(stage, "root");
    char *version = NULL;
    const char *base = strrchr(deb, '/');
    int rc = -1;

    progress_report(p, "unpacking %s", base ? base + 1 : deb);
    if (mkdir(root, 0755) < 0) {
        err_set_errno(errno, "cannot create %s", root);
        goto cleanup;
    }
    if (deb_unpack(deb, root) < 0)
        goto cleanup;
    progress_report(p, "indexing kernel modules");
    version = unpacked_assemble(root, stage, deb);
    if (!version)
        goto cleanup;
    rc = cache_commit(stage, version, out);

cleanup:
    free(root);
    free(version);
    return rc;
}

int kernel_import_deb(const char *deb, const struct progress *p, struct kernel *out)
{
    char *stage;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!path_exists(deb)) {
        err_set("kernel package %s not found; give the path of a linux-image .deb file", deb);
        return -1;
    }
    stage = store_stage_dir("kernel");
    if (!stage)
        return -1;
    rc = deb_install(deb, stage, p, out);
    rm_rf(stage);
    free(stage);
    return rc;
}

int kernel_fetch(const struct progress *p, struct kernel *out)
{
    char *stage = NULL, *package = NULL, *deb = NULL, *apt_get = path_which("apt-get"),
         *apt_cache = path_which("apt-cache");
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!apt_get || !apt_cache) {
        err_set("cannot fetch the kernel package %s: %s not found; %s", KERNEL_PACKAGE,
                apt_get ? "apt-cache" : "apt-get", CUSTOM_KERNEL_HINT);
        goto cleanup;
    }
    stage = store_stage_dir("kernel");
    if (!stage)
        goto cleanup;

    progress_report(p, "resolving %s", KERNEL_PACKAGE);
    package = package_resolve(stage);
    if (!package)
        goto cleanup;
    progress_report(p, "fetching kernel package %s", package);
    deb = package_download(stage, package);
    if (!deb)
        goto cleanup;
    rc = deb_install(deb, stage, p, out);

cleanup:
    if (stage)
        rm_rf(stage);
    free(stage);
    free(package);
    free(deb);
    free(apt_get);
    free(apt_cache);
    return rc;
}

/* ---- custom kernels ---- */

/*
 * Checks that PATH is a bzImage and, unless WANT_VERSION is NULL, reads the release
 * from the kernel_version string of its header.
 */
static int bzimage_check(const char *path, char **want_version)
{
    unsigned char header[0x210];
    char text[BZIMAGE_MAX_VERSION + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    uint16_t protocol, pointer;
    ssize_t n;
    size_t len;

    if (fd < 0) {
        err_set_errno(errno, "cannot read the kernel %s", path);
        return -1;
    }
    n = pread(fd, header, sizeof(header), 0);
    if (n != (ssize_t)sizeof(header) || memcmp(header + BZIMAGE_MAGIC_OFFSET, "HdrS", 4) != 0) {
        err_set("kernel %s is not a Linux bzImage (no \"HdrS\" signature at offset 0x202); "
                "set kernel: to a vmlinuz file or to debian-cloud", path);
        goto cleanup;
    }
    if (!want_version) {
        rc = 0;
        goto cleanup;
    }

    protocol = (uint16_t)(header[BZIMAGE_PROTOCOL_OFFSET] | header[BZIMAGE_PROTOCOL_OFFSET + 1] << 8);
    pointer = (uint16_t)(header[BZIMAGE_VERSION_PTR_OFFSET] | header[BZIMAGE_VERSION_PTR_OFFSET + 1] << 8);
    n = protocol >= 0x200 && pointer ? pread(fd, text, BZIMAGE_MAX_VERSION, (off_t)pointer + 0x200) : -1;
    if (n > 0) {
        text[n] = '\0';
        len = strcspn(text, " ");
        text[len] = '\0';
    }
    if (n <= 0 || !version_valid(text)) {
        err_set("cannot read the kernel version of %s; set modules: to its lib/modules/VERSION directory", path);
        goto cleanup;
    }
    *want_version = xstrdup(text);
    rc = 0;

cleanup:
    close(fd);
    return rc;
}

static int custom_resolve(const char *spec, const char *modules, struct kernel *out)
{
    struct stat st;

    if (stat(spec, &st) < 0 || !S_ISREG(st.st_mode)) {
        err_set("kernel %s not found; set kernel: to debian-cloud or the path of a vmlinuz file", spec);
        return -1;
    }
    if (modules && !path_is_dir(modules)) {
        err_set("modules %s is not a directory; set it to the kernel's lib/modules/VERSION", modules);
        return -1;
    }
    if (bzimage_check(spec, modules ? NULL : &out->version) < 0)
        return -1;

    out->vmlinuz = path_real(spec);
    if (modules) {
        char *slash;

        out->modules_dir = path_real(modules);
        slash = out->modules_dir ? strrchr(out->modules_dir, '/') : NULL;
        if (!slash || !version_valid(slash + 1)) {
            err_set("modules %s: its name is not a kernel version; set it to the kernel's lib/modules/VERSION",
                    modules);
            kernel_free(out);
            return -1;
        }
        out->version = xstrdup(slash + 1);
        /* Modules of another release would fail to load at boot: compare when the header names one. */
        {
            char *own = NULL;

            if (bzimage_check(spec, &own) == 0 && strcmp(own, out->version) != 0) {
                err_set("modules %s are for kernel %s, but %s is kernel %s; set modules: to its lib/modules/%s",
                        modules, out->version, spec, own, own);
                err_set_usage();
                free(own);
                kernel_free(out);
                return -1;
            }
            free(own);
            err_clear();
        }
    }
    if (!out->vmlinuz) {
        kernel_free(out);
        return -1;
    }
    return 0;
}

/* Sets OUT to the newest cached Debian cloud kernel; returns 1, 0 when there is none, or -1. */
static int cache_newest(struct kernel *out)
{
    struct kernel *list = NULL;
    size_t n = 0;
    int found = 0;

    if (kernel_list(&list, &n) < 0)
        return -1;
    for (size_t i = 0; i < n && !found; i++) {
        if (!has_suffix(list[i].version, KERNEL_FLAVOUR_SUFFIX))
            continue;
        *out = list[i];
        memset(&list[i], 0, sizeof(list[i]));
        found = 1;
    }
    kernel_list_free(list, n);
    return found;
}

int kernel_resolve(const char *spec, const char *modules, const struct progress *p, struct kernel *out)
{
    int found, lock, rc;

    memset(out, 0, sizeof(*out));
    if (spec && strcmp(spec, KERNEL_DEFAULT) != 0)
        return custom_resolve(spec, modules, out);
    if (modules) {
        err_set("modules %s is only used with a kernel path; remove modules: or set kernel: to a vmlinuz file",
                modules);
        return -1;
    }

    found = cache_newest(out);
    if (found != 0)
        return found < 0 ? -1 : 0;

    /* Builds started together fetch once: the second finds the first one's kernel. */
    lock = store_lock("kernel-fetch");
    if (lock < 0)
        return -1;
    found = cache_newest(out);
    if (found == 0) {
        progress_report(p, "no cached kernel: fetching %s", KERNEL_PACKAGE);
        rc = kernel_fetch(p, out);
    } else {
        rc = found < 0 ? -1 : 0;
    }
    store_unlock(lock);
    return rc;
}
