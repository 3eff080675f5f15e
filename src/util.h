/* Shared helpers: the error record, allocation, files, paths and child processes. */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KILN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses of the kiln command, as docker uses them. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1, /* the command was valid but failed */
    EXIT_USAGE = 2,   /* bad arguments or options */
};

/*
 * The error record: every function that fails returns -1 or NULL and leaves one
 * message here (per thread). The CLI prints it on stderr, the dashboard on its
 * status line. The message names the input and what to do next.
 */
void err_set(const char *fmt, ...) KILN_PRINTF(1, 2);
/* Sets the message followed by ": " and strerror(errnum). */
void err_set_errno(int errnum, const char *fmt, ...) KILN_PRINTF(2, 3);
/* Prefixes the current message with "PREFIX: ". */
void err_prefix(const char *fmt, ...) KILN_PRINTF(1, 2);
const char *err_msg(void);
void err_clear(void);
/* Set when the failure is a usage error (exit status 2), cleared by err_set. */
void err_set_usage(void);
bool err_is_usage(void);

/* Debug log: written to the file named by KILN_DEBUG, or to stderr with -v (never over curses). */
void log_open(const char *path);
void log_write(const char *func, const char *fmt, ...) KILN_PRINTF(2, 3);
#define log_debug(...) log_write(__func__, __VA_ARGS__)

/* Allocation that aborts with a message on exhaustion: callers never check. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) KILN_PRINTF(1, 2);
/* Registers a function run before an out-of-memory exit (the dashboard ends curses). */
void util_set_fatal_hook(void (*hook)(void));

/* A growable NULL-terminated array of owned strings. */
struct strv {
    char **items;
    size_t len;
    size_t cap;
};
void strv_push(struct strv *v, const char *s);
void strv_push_owned(struct strv *v, char *s);
void strv_free(struct strv *v);
bool strv_contains(const struct strv *v, const char *s);
void strv_sort(struct strv *v);

/* Files. All return 0/-1 (or NULL) with the error record set. */
char *file_read(const char *path, size_t *len);
/* Writes all LEN bytes to FD, retrying after signals; 0 or -1 with errno set. */
int fd_write_all(int fd, const void *data, size_t len);
/* Writes DATA to PATH through a temporary file, fsync and rename. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
int file_copy(const char *src, const char *dst, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
/* Removes PATH and everything below it; a missing PATH is not an error. */
int rm_rf(const char *path);
bool path_exists(const char *path);
bool path_is_dir(const char *path);
char *path_join(const char *a, const char *b);
/* Returns the canonical absolute path, or NULL when it does not exist. */
char *path_real(const char *path);
/* True when the canonical form of PATH is ROOT or lies below it. */
bool path_is_within(const char *root, const char *path);
/* Searches PATH for an executable; returns its full path or NULL. */
char *path_which(const char *name);

/*
 * Runs ARGV (never through a shell) in CWD (NULL: current). Standard output and
 * error go to OUT_FD when it is >= 0, else are inherited. Returns the exit
 * status (0..255), 128+signal for a signal, or -1 with the error record set
 * when the program could not be started.
 */
int run_argv(char *const argv[], const char *cwd, int out_fd);
/* Like run_argv, capturing standard output into *OUT (NUL-terminated). */
int run_capture(char *const argv[], const char *cwd, char **out);

/* Formats a byte count as "1.2 MB" (SI, like docker) into BUF. */
const char *fmt_size(unsigned long long bytes, char *buf, size_t size);
/* Formats a duration in seconds as docker does: "2 minutes", "About an hour". */
const char *fmt_duration(long long seconds, char *buf, size_t size);
/* Parses "512", "512M", "1G", "1.5G" (binary units) into MiB; -1 when invalid. */
long long parse_mib(const char *s);
/* Parses a decimal integer in [MIN, MAX]; returns 0 or -1. */
int parse_int(const char *s, long long min, long long max, long long *out);

/*
 * Progress of a long operation (build, fetch, stop): the core reports steps, the
 * front end decides how to show them (a line per step on the CLI, a progress view
 * in the dashboard). FN may be NULL.
 */
struct progress {
    void (*fn)(void *ctx, const char *message);
    void *ctx;
};
void progress_report(const struct progress *p, const char *fmt, ...) KILN_PRINTF(2, 3);

/* Current UTC time as RFC 3339 ("2026-12-04T20:11:50Z") into BUF. */
const char *time_rfc3339(long long epoch, char *buf, size_t size);
long long time_parse_rfc3339(const char *s);
double time_now(void);

#endif
