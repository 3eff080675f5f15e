/* Shared helpers: the error record, allocation, files, paths and child processes. */
#define _GNU_SOURCE
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- error record ---- */

static _Thread_local char err_buf[1024];
static _Thread_local bool err_usage;

void err_set(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
    va_end(ap);
    err_usage = false;
    log_debug("error: %s", err_buf);
}

void err_set_errno(int errnum, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set("%s: %s", msg, strerror(errnum));
}

void err_prefix(const char *fmt, ...)
{
    char prefix[512];
    size_t n, old_len;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    n = strlen(prefix);
    old_len = strnlen(err_buf, sizeof(err_buf) - 1);
    if (old_len + n + 2 >= sizeof(err_buf))
        old_len = sizeof(err_buf) - n - 3;
    memmove(err_buf + n + 2, err_buf, old_len);
    memcpy(err_buf, prefix, n);
    err_buf[n] = ':';
    err_buf[n + 1] = ' ';
    err_buf[n + 2 + old_len] = '\0';
}

const char *err_msg(void)
{
    return err_buf[0] ? err_buf : "unknown error";
}

void err_clear(void)
{
    err_buf[0] = '\0';
    err_usage = false;
}

void err_set_usage(void)
{
    err_usage = true;
}

bool err_is_usage(void)
{
    return err_usage;
}

/* ---- debug log ---- */

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_open(const char *path)
{
    pthread_mutex_lock(&log_lock);
    if (log_file && log_file != stderr)
        fclose(log_file);
    if (!path || !*path)
        log_file = NULL;
    else if (strcmp(path, "-") == 0)
        log_file = stderr;
    else
        log_file = fopen(path, "ae");
    pthread_mutex_unlock(&log_lock);
}

void log_write(const char *func, const char *fmt, ...)
{
    va_list ap;
    char stamp[32];

    if (!log_file)
        return;
    pthread_mutex_lock(&log_lock);
    snprintf(stamp, sizeof(stamp), "%.3f", time_now());
    fprintf(log_file, "%s %d %s: ", stamp, (int)getpid(), func);
    va_start(ap, fmt);
    vfprintf(log_file, fmt, ap);
    va_end(ap);
    fputc('\n', log_file);
    fflush(log_file);
    pthread_mutex_unlock(&log_lock);
}

/* ---- allocation ---- */

static void (*fatal_hook)(void);

void util_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

static void out_of_memory(size_t size)
{
    if (fatal_hook)
        fatal_hook();
    fprintf(stderr, "kiln: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        out_of_memory(size);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (!p)
        out_of_memory(size);
    return p;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        out_of_memory(strlen(fmt));
    va_end(ap);
    return p;
}

/* ---- string vectors ---- */

void strv_push_owned(struct strv *v, char *s)
{
    if (v->len + 2 > v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
    }
    v->items[v->len++] = s;
    v->items[v->len] = NULL;
}

void strv_push(struct strv *v, const char *s)
{
    strv_push_owned(v, xstrdup(s));
}

void strv_free(struct strv *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}

bool strv_contains(const struct strv *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0)
            return true;
    return false;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(struct strv *v)
{
    if (v->len > 1)
        qsort(v->items, v->len, sizeof(*v->items), compare_strings);
}

/* ---- files ---- */

char *file_read(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 4096, used = 0;
    char *buf;

    if (fd < 0) {
        err_set_errno(errno, "cannot read %s", path);
        return NULL;
    }
    buf = xmalloc(cap);
    for (;;) {
        ssize_t n;

        if (used + 1 >= cap)
            buf = xrealloc(buf, cap *= 2);
        n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set_errno(errno, "cannot read %s", path);
            free(buf);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}

int fd_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    if (fd < 0) {
        err_set_errno(errno, "cannot write %s", path);
        free(tmp);
        return -1;
    }
    if (fd_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        err_set_errno(errno, "cannot write %s", path);
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        err_set_errno(errno, "cannot rename %s to %s", tmp, path);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int file_copy(const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out;
    char buf[65536];
    ssize_t n;

    if (in < 0) {
        err_set_errno(errno, "cannot read %s", src);
        return -1;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (out < 0) {
        err_set_errno(errno, "cannot write %s", dst);
        close(in);
        return -1;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (fd_write_all(out, buf, (size_t)n) < 0) {
            n = -1;
            break;
        }
    }
    if (n < 0) {
        err_set_errno(errno, "cannot copy %s to %s", src, dst);
        close(in);
        close(out);
        return -1;
    }
    close(in);
    if (close(out) < 0) {
        err_set_errno(errno, "cannot write %s", dst);
        return -1;
    }
    return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
    char *copy = xstrdup(path);

    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST) {
            err_set_errno(errno, "cannot create directory %s", copy);
            free(copy);
            return -1;
        }
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST) {
        err_set_errno(errno, "cannot create directory %s", copy);
        free(copy);
        return -1;
    }
    free(copy);
    return 0;
}

int rm_rf(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *entry;
    int rc = 0;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : (err_set_errno(errno, "cannot remove %s", path), -1);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT) {
            err_set_errno(errno, "cannot remove %s", path);
            return -1;
        }
        return 0;
    }
    dir = opendir(path);
    if (!dir) {
        err_set_errno(errno, "cannot open directory %s", path);
        return -1;
    }
    while ((entry = readdir(dir))) {
        char *child;

        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        child = path_join(path, entry->d_name);
        if (rm_rf(child) < 0)
            rc = -1;
        free(child);
    }
    closedir(dir);
    if (rmdir(path) < 0 && errno != ENOENT) {
        err_set_errno(errno, "cannot remove %s", path);
        return -1;
    }
    return rc;
}

bool path_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

bool path_is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a);

    if (b[0] == '/')
        b++;
    if (la > 0 && a[la - 1] == '/')
        return xasprintf("%s%s", a, b);
    return xasprintf("%s/%s", a, b);
}

char *path_real(const char *path)
{
    char *p = realpath(path, NULL);

    if (!p)
        err_set_errno(errno, "cannot resolve %s", path);
    return p;
}

bool path_is_within(const char *root, const char *path)
{
    char *r = realpath(root, NULL), *p = realpath(path, NULL);
    bool inside = false;

    if (r && p) {
        size_t n = strlen(r);

        inside = strncmp(r, p, n) == 0 && (p[n] == '\0' || p[n] == '/' || strcmp(r, "/") == 0);
    }
    free(r);
    free(p);
    return inside;
}

char *path_which(const char *name)
{
    const char *env = getenv("PATH");
    char *copy, *save = NULL, *found = NULL;

    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
    copy = xstrdup(env ? env : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *candidate = path_join(dir, name);

        if (access(candidate, X_OK) == 0 && !path_is_dir(candidate)) {
            found = candidate;
            break;
        }
        free(candidate);
    }
    free(copy);
    return found;
}

/* ---- child processes ---- */

static int spawn(char *const argv[], const char *cwd, int out_fd, int err_fd, pid_t *pid)
{
    posix_spawn_file_actions_t actions;
    int rc;

    posix_spawn_file_actions_init(&actions);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    if (err_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&actions, cwd);
    rc = posix_spawnp(pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        err_set_errno(rc, "cannot run %s", argv[0]);
        return -1;
    }
    return 0;
}

static int wait_child(pid_t pid, const char *name)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            err_set_errno(errno, "cannot wait for %s", name);
            return -1;
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

int run_argv(char *const argv[], const char *cwd, int out_fd)
{
    pid_t pid;

    log_debug("run %s (cwd %s)", argv[0], cwd ? cwd : ".");
    if (spawn(argv, cwd, out_fd, out_fd, &pid) < 0)
        return -1;
    return wait_child(pid, argv[0]);
}

int run_capture(char *const argv[], const char *cwd, char **out)
{
    int fds[2];
    pid_t pid;
    size_t cap = 4096, used = 0;
    char *buf;
    ssize_t n;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        err_set_errno(errno, "cannot create a pipe");
        return -1;
    }
    if (spawn(argv, cwd, fds[1], -1, &pid) < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    buf = xmalloc(cap);
    while ((n = read(fds[0], buf + used, cap - used - 1)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        used += (size_t)n;
        if (used + 1 >= cap)
            buf = xrealloc(buf, cap *= 2);
    }
    close(fds[0]);
    buf[used] = '\0';
    *out = buf;
    return wait_child(pid, argv[0]);
}

/* ---- formatting and parsing ---- */

const char *fmt_size(unsigned long long bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double value = (double)bytes;
    size_t unit = 0;

    while (value >= 1000.0 && unit + 1 < ARRAY_SIZE(units)) {
        value /= 1000.0;
        unit++;
    }
    if (unit == 0)
        snprintf(buf, size, "%lluB", bytes);
    else
        snprintf(buf, size, "%.3g%s", value, units[unit]);
    return buf;
}

const char *fmt_duration(long long seconds, char *buf, size_t size)
{
    long long minutes = seconds / 60, hours = minutes / 60, days = hours / 24;

    if (seconds < 1)
        snprintf(buf, size, "Less than a second");
    else if (seconds < 60)
        snprintf(buf, size, "%lld second%s", seconds, seconds == 1 ? "" : "s");
    else if (minutes == 1)
        snprintf(buf, size, "About a minute");
    else if (minutes < 60)
        snprintf(buf, size, "%lld minutes", minutes);
    else if (hours == 1)
        snprintf(buf, size, "About an hour");
    else if (hours < 48)
        snprintf(buf, size, "%lld hours", hours);
    else if (days < 14)
        snprintf(buf, size, "%lld days", days);
    else if (days < 60)
        snprintf(buf, size, "%lld weeks", days / 7);
    else if (days < 730)
        snprintf(buf, size, "%lld months", days / 30);
    else
        snprintf(buf, size, "%lld years", days / 365);
    return buf;
}

long long parse_mib(const char *s)
{
    char *end;
    double value;
    double scale = 1.0;

    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    value = strtod(s, &end);
    if (errno || end == s || !isfinite(value))
        return -1;
    if (*end) {
        char unit = *end++;

        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return -1;
        switch (unit) {
        case 'k': case 'K': scale = 1.0 / 1024; break;
        case 'm': case 'M': scale = 1; break;
        case 'g': case 'G': scale = 1024; break;
        case 't': case 'T': scale = 1024.0 * 1024; break;
        default: return -1;
        }
    }
    value *= scale;
    if (value < 1 || value > 1024.0 * 1024 * 1024)
        return -1;
    return (long long)value;
}

int parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long value;

    if (!s || !*s)
        return -1;
    errno = 0;
    value = strtoll(s, &end, 10);
    if (errno || *end || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

void progress_report(const struct progress *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_debug("progress: %s", msg);
    if (p && p->fn)
        p->fn(p->ctx, msg);
}

const char *time_rfc3339(long long epoch, char *buf, size_t size)
{
    time_t t = (time_t)epoch;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

long long time_parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    const char *end;

    if (!s)
        return -1;
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return -1;
    return (long long)timegm(&tm);
}

double time_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
