/*
 * Helpers shared by the parts of kiln-init: console messages, the fatal path, a
 * string list and small file utilities. kiln-init is built from the single
 * translation unit init.c (see the Makefile), so the headers in src/guest hold
 * static definitions and init.c includes each of them once.
 */
#ifndef KILN_GUEST_H
#define KILN_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Exit status reported when kiln-init fails before the application runs. */
#define STATUS_SETUP 125

/* Set when the kernel command line contains kiln.debug. */
static bool debug_enabled;

/* Defined in init.c: prints "kiln-init: MESSAGE", reports KILN-EXIT code=125 error=ERROR, powers off. */
static void init_fail(const char *error, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* Returns the CLOCK_MONOTONIC time in milliseconds, which counts from boot. */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Writes one "kiln-init: ..." line to stderr (the console) with a single write. */
static void log_write(const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "kiln-init: %s", prefix);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);

    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0) {
        /* Nowhere else to report it: the console is the only output. */
    }
}

static void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write("", fmt, ap);
    va_end(ap);
}

/* Prints one setup step with the time since boot, only with kiln.debug. */
static void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_debug(const char *fmt, ...)
{
    char prefix[32];
    long long ms;
    va_list ap;

    if (!debug_enabled)
        return;
    ms = now_ms();
    snprintf(prefix, sizeof prefix, "[%lld.%03lld] ", ms / 1000, ms % 1000);
    va_start(ap, fmt);
    log_write(prefix, fmt, ap);
    va_end(ap);
}

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);

    if (!q)
        init_fail("setup", "out of memory (%zu bytes requested); give the VM more memory", size);
    return q;
}

/* A growable array of strings that point into memory owned elsewhere. */
struct strlist {
    const char **items;
    size_t count;
    size_t cap;
};

static void strlist_push(struct strlist *l, const char *s)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = s;
}

/* Creates PATH and its missing parents; an existing directory is fine. */
static int mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -1;
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

/* Replaces the contents of PATH with TEXT. */
static int file_write(const char *path, const char *text, mode_t mode)
{
    size_t len = strlen(text);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        text += n;
        len -= (size_t)n;
    }
    return close(fd);
}

/*
 * Reads all of PATH into a NUL-terminated buffer. Works for sysfs and procfs
 * files, whose st_size is not their length. Fails with EFBIG above MAX bytes.
 */
static int file_read(const char *path, size_t max, char **data, size_t *len)
{
    size_t cap = 4096, used = 0;
    char *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    buf = xrealloc(NULL, cap);
    for (;;) {
        if (used + 1 == cap) {
            if (cap > max) {
                free(buf);
                close(fd);
                errno = EFBIG;
                return -1;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (used > max) {
        free(buf);
        errno = EFBIG;
        return -1;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return 0;
}

/* Waits up to TIMEOUT_MS for PATH to exist, for devices that drivers add asynchronously. */
static bool path_wait(const char *path, long timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    while (access(path, F_OK) < 0) {
        if (now_ms() >= deadline)
            return false;
        sleep_ms(10);
    }
    return true;
}

#endif
