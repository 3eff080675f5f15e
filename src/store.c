/* The image store on disk: layout, locks, staging directories and atomic image commits. */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directories under the root. The qemu process of libvirt must read images, so all are 0755. */
static const char *const layout[] = {"kernels", "images", "instances", "volumes", "tmp", "locks"};

static char *root_override;
static char *root_default;

static char *default_root(void)
{
    const char *env = getenv("KILN_STORE"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

    if (env && *env)
        return xstrdup(env);
    if (geteuid() == 0)
        return xstrdup("/var/lib/kiln");
    if (xdg && xdg[0] == '/')
        return path_join(xdg, "kiln");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(geteuid());

        home = pw ? pw->pw_dir : "/tmp";
    }
    return xasprintf("%s/.local/share/kiln", home);
}

const char *store_root(void)
{
    if (root_override)
        return root_override;
    if (!root_default)
        root_default = default_root();
    return root_default;
}

void store_set_root(const char *root)
{
    free(root_override);
    root_override = root ? xstrdup(root) : NULL;
    /* Restoring the default reads the environment again. */
    if (!root) {
        free(root_default);
        root_default = NULL;
    }
}

char *store_path(const char *sub)
{
    return path_join(store_root(), sub);
}

/* Creates PATH and its missing parents with mode 0755. Returns 0 or an errno value. */
static int dir_create(const char *path)
{
    char *parent, *slash;
    int rc;

    if (mkdir(path, 0755) == 0)
        return chmod(path, 0755) == 0 ? 0 : errno;
    if (errno == EEXIST)
        return path_is_dir(path) ? 0 : ENOTDIR;
    if (errno != ENOENT)
        return errno;
    parent = xstrdup(path);
    slash = strrchr(parent, '/');
    if (!slash || slash == parent) {
        free(parent);
        return ENOENT;
    }
    *slash = '\0';
    rc = dir_create(parent);
    free(parent);
    if (rc != 0)
        return rc;
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return errno;
    return chmod(path, 0755) == 0 ? 0 : errno;
}

int store_init(void)
{
    const char *root = store_root();
    int rc = dir_create(root);

    if (rc == 0 && access(root, W_OK | X_OK) < 0)
        rc = errno;
    for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(layout); i++) {
        char *sub = path_join(root, layout[i]);

        rc = dir_create(sub);
        if (rc == 0 && access(sub, W_OK | X_OK) < 0)
            rc = errno;
        free(sub);
    }
    if (rc != 0) {
        err_set("store %s is not writable: %s; set KILN_STORE to a writable directory or run as its owner",
                root, strerror(rc));
        return -1;
    }
    store_clean_stale();
    return 0;
}

int store_open_readonly(void)
{
    if (store_init() == 0)
        return 0;
    if (access(store_root(), R_OK | X_OK) == 0) {
        err_clear();
        return 0;
    }
    return -1;
}

/* ---- locks ---- */

/* Copies KEY with every character other than letters, digits, '.', '_' and '-', and a leading '.', replaced by '_'. */
static char *lock_name(const char *key)
{
    char *name = xstrdup(*key ? key : "_");

    for (char *p = name; *p; p++) {
        bool safe = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    *p == '_' || *p == '-' || (*p == '.' && p != name);

        if (!safe)
            *p = '_';
    }
    return name;
}

int store_lock(const char *key)
{
    char *name = lock_name(key), *file = xasprintf("locks/%s.lock", name);
    char *path = store_path(file), *dir = store_path("locks");
    int fd;

    /* A store made by an older kiln, or a bare test store, may lack locks/. */
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        log_debug("cannot create %s: %s", dir, strerror(errno));
    free(dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_set_errno(errno, "cannot open the lock %s; run kiln as the owner of the store", path);
        goto cleanup;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        err_set_errno(errno, "cannot lock %s", path);
        close(fd);
        fd = -1;
        break;
    }

cleanup:
    free(name);
    free(file);
    free(path);
    return fd;
}

void store_unlock(int fd)
{
    if (fd < 0)
        return;
    flock(fd, LOCK_UN);
    close(fd);
}

int store_image_lock(const char *name, const char *tag)
{
    char *key = xasprintf("image-%s-%s", name, tag);
    int fd = store_lock(key);

    free(key);
    return fd;
}

/* ---- staging ---- */

char *store_stage_dir(const char *prefix)
{
    char *safe = lock_name(prefix ? prefix : "stage");
    char *sub = xasprintf("tmp/%s.%d.XXXXXX", safe, (int)getpid());
    char *path = store_path(sub);

    free(safe);
    free(sub);
    if (!mkdtemp(path)) {
        err_set_errno(errno, "cannot create a staging directory in %s/tmp; run kiln as the owner of the store",
                      store_root());
        free(path);
        return NULL;
    }
    /* mkdtemp makes the directory 0700, but the committed image must be readable by qemu. */
    if (chmod(path, 0755) < 0) {
        err_set_errno(errno, "cannot set the mode of %s", path);
        rmdir(path);
        free(path);
        return NULL;
    }
    return path;
}

/* Returns the PID inside a staging name "PREFIX.PID.XXXXXX", or -1 when NAME has another form. */
static pid_t stage_owner(const char *name)
{
    const char *last = strrchr(name, '.'), *start;
    long long pid;
    char digits[24];

    if (!last || strlen(last + 1) != 6 || last == name)
        return -1;
    start = last - 1;
    while (start > name && *start != '.')
        start--;
    if (*start != '.' || (size_t)(last - start - 1) >= sizeof(digits))
        return -1;
    memcpy(digits, start + 1, (size_t)(last - start - 1));
    digits[last - start - 1] = '\0';
    if (parse_int(digits, 1, INT32_MAX, &pid) < 0)
        return -1;
    return (pid_t)pid;
}

void store_clean_stale(void)
{
    char *tmp = store_path("tmp");
    DIR *dir = opendir(tmp);
    struct dirent *entry;

    if (!dir) {
        log_debug("cannot open %s: %s", tmp, strerror(errno));
        free(tmp);
        return;
    }
    while ((entry = readdir(dir))) {
        pid_t pid = stage_owner(entry->d_name);
        char *path;

        /* NOTE: a reused PID keeps a stale directory until that process ends too. */
        if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        path = path_join(tmp, entry->d_name);
        log_debug("removing %s left by process %d", path, (int)pid);
        if (rm_rf(path) < 0)
            log_debug("%s", err_msg());
        free(path);
    }
    closedir(dir);
    free(tmp);
}

/* ---- images ---- */

char *store_image_dir(const char *name, const char *tag)
{
    char *sub = xasprintf("images/%s/%s", name, tag);
    char *path = store_path(sub);

    free(sub);
    return path;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) < 0) {
        err_set_errno(errno, "cannot sync directory %s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int check_name_tag(const char *name, const char *tag)
{
    if (!image_name_valid(name)) {
        err_set("invalid image name \"%s\": use lower case letters, digits, '.', '_' and '-'", name);
        err_set_usage();
        return -1;
    }
    if (!image_tag_valid(tag)) {
        err_set("invalid image tag \"%s\": use letters, digits, '.', '_' and '-'", tag);
        err_set_usage();
        return -1;
    }
    return 0;
}

static int check_stage(const char *stage)
{
    static const char *const files[] = {IMAGE_KERNEL_FILE, IMAGE_INITRD_FILE, IMAGE_META_FILE};

    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char *path = path_join(stage, files[i]);
        bool present = path_exists(path);

        free(path);
        if (!present) {
            err_set("staged image %s is incomplete: %s is missing", stage, files[i]);
            return -1;
        }
    }
    return 0;
}

/*
 * Puts STAGE at DEST. When DEST exists the two are swapped in one step
 * (RENAME_EXCHANGE) so readers always see a complete image, and the old one,
 * now at STAGE, is removed. Filesystems without the exchange get the old image
 * renamed aside into tmp/ first.
 * NOTE: tmpfs and ext4 support the exchange, so the unit tests do not run the fallback.
 */
static int replace_dir(const char *stage, const char *dest)
{
    char *aside = NULL;
    int rc = -1;

    if (renameat2(AT_FDCWD, stage, AT_FDCWD, dest, RENAME_EXCHANGE) == 0)
        return rm_rf(stage);
    if (errno == ENOENT && path_exists(stage))
        return rename(stage, dest) == 0 ? 0 : (err_set_errno(errno, "cannot move %s to %s", stage, dest), -1);
    if (errno != EINVAL && errno != ENOSYS) {
        err_set_errno(errno, "cannot replace %s with %s", dest, stage);
        return -1;
    }

    aside = store_stage_dir("old");
    if (!aside)
        return -1;
    if (rename(dest, aside) < 0) {
        err_set_errno(errno, "cannot move %s aside", dest);
        rmdir(aside);
        goto cleanup;
    }
    if (rename(stage, dest) < 0) {
        err_set_errno(errno, "cannot move %s to %s", stage, dest);
        if (rename(aside, dest) < 0)
            log_debug("cannot restore %s from %s: %s", dest, aside, strerror(errno));
        goto cleanup;
    }
    rc = rm_rf(aside);

cleanup:
    free(aside);
    return rc;
}

int store_image_commit(const char *stage, const char *name, const char *tag)
{
    char *name_dir = NULL, *dest = NULL, *tmp = NULL, *sub;
    int rc = -1;

    if (check_name_tag(name, tag) < 0 || check_stage(stage) < 0)
        return -1;
    sub = xasprintf("images/%s", name);
    name_dir = store_path(sub);
    free(sub);
    dest = store_image_dir(name, tag);
    tmp = store_path("tmp");

    if (chmod(stage, 0755) < 0) {
        err_set_errno(errno, "cannot set the mode of %s", stage);
        goto cleanup;
    }
    /* Retry because store_image_remove of another tag may delete an empty NAME dir between mkdir and rename. */
    for (int attempt = 0; attempt < 3; attempt++) {
        int err = dir_create(name_dir);

        if (err != 0) {
            err_set_errno(err, "cannot create directory %s", name_dir);
            goto cleanup;
        }
        if (replace_dir(stage, dest) == 0) {
            rc = 0;
            break;
        }
        if (path_is_dir(name_dir))
            goto cleanup;
    }
    if (rc < 0)
        goto cleanup;
    if (fsync_dir(name_dir) < 0 || fsync_dir(tmp) < 0)
        rc = -1;
    log_debug("committed %s as %s:%s", stage, name, tag);

cleanup:
    free(name_dir);
    free(dest);
    free(tmp);
    return rc;
}

/* Loads the image in DIR and checks that its metadata names NAME:TAG. */
static int load_checked(const char *dir, const char *name, const char *tag, struct image *out)
{
    if (image_load(dir, out) < 0)
        return -1;
    if (strcmp(out->name, name) != 0 || strcmp(out->tag, tag) != 0) {
        err_set("%s/%s: invalid image metadata: it names %s:%s, expected %s:%s", dir, IMAGE_META_FILE,
                out->name, out->tag, name, tag);
        image_free(out);
        return -1;
    }
    return 0;
}

int store_image_get(const char *ref, struct image *out)
{
    char *name = NULL, *tag = NULL, *dir = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (image_ref_parse(ref, &name, &tag) < 0)
        return -1;
    dir = store_image_dir(name, tag);
    if (!path_is_dir(dir)) {
        err_set("image \"%s:%s\" not found; see kiln images", name, tag);
        goto cleanup;
    }
    rc = load_checked(dir, name, tag, out);

cleanup:
    free(name);
    free(tag);
    free(dir);
    return rc;
}

/* Reads the sorted entry names of PATH that satisfy VALID into OUT. A missing PATH gives none. */
static void list_names(const char *path, bool (*valid)(const char *), struct strv *out)
{
    DIR *dir = opendir(path);
    struct dirent *entry;

    if (!dir) {
        if (errno != ENOENT)
            log_debug("cannot open %s: %s", path, strerror(errno));
        return;
    }
    while ((entry = readdir(dir)))
        if (valid(entry->d_name))
            strv_push(out, entry->d_name);
    closedir(dir);
    strv_sort(out);
}

int store_image_list(struct image **out, size_t *n)
{
    return store_image_list_checked(out, n, NULL);
}

int store_image_list_checked(struct image **out, size_t *n, struct strv *broken)
{
    char *images = store_path("images");
    struct strv names = {0};
    struct image *list = NULL;
    size_t count = 0, cap = 0;

    list_names(images, image_name_valid, &names);
    for (size_t i = 0; i < names.len; i++) {
        char *name_dir = path_join(images, names.items[i]);
        struct strv tags = {0};

        list_names(name_dir, image_tag_valid, &tags);
        for (size_t j = 0; j < tags.len; j++) {
            char *dir = path_join(name_dir, tags.items[j]);
            struct image img;

            if (load_checked(dir, names.items[i], tags.items[j], &img) == 0) {
                if (count == cap) {
                    cap = cap ? cap * 2 : 16;
                    list = xrealloc(list, cap * sizeof(*list));
                }
                list[count++] = img;
            } else {
                log_debug("skipping %s: %s", dir, err_msg());
                if (broken)
                    strv_push_owned(broken, xasprintf("%s:%s", names.items[i], tags.items[j]));
            }
            free(dir);
        }
        strv_free(&tags);
        free(name_dir);
    }
    strv_free(&names);
    free(images);
    err_clear();
    *out = list;
    *n = count;
    return 0;
}

void store_image_list_free(struct image *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        image_free(&list[i]);
    free(list);
}

int store_image_remove(const char *name, const char *tag)
{
    char *dir = NULL, *name_dir = NULL, *aside = NULL, *sub;
    int lock, rc = -1;

    if (check_name_tag(name, tag) < 0)
        return -1;
    lock = store_image_lock(name, tag);
    if (lock < 0)
        return -1;
    dir = store_image_dir(name, tag);
    sub = xasprintf("images/%s", name);
    name_dir = store_path(sub);
    free(sub);

    if (!path_is_dir(dir)) {
        err_set("image \"%s:%s\" not found; see kiln images", name, tag);
        goto cleanup;
    }
    /* Rename first so the image disappears at once, even if removing its files is slow. */
    aside = store_stage_dir("rm");
    if (!aside)
        goto cleanup;
    if (rename(dir, aside) < 0) {
        err_set_errno(errno, "cannot remove %s", dir);
        rmdir(aside);
        goto cleanup;
    }
    if (rmdir(name_dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
        log_debug("cannot remove %s: %s", name_dir, strerror(errno));
    rc = rm_rf(aside);
    log_debug("removed %s:%s", name, tag);

cleanup:
    store_unlock(lock);
    free(dir);
    free(name_dir);
    free(aside);
    return rc;
}
