/*
 * The pure parts of the instance verbs: parsing run options (-p, -v, -e,
 * --env-file, -m, names) and formatting instances (status, ports, JSON, rates),
 * kept apart from the backend so unit tests cover them.
 */
#ifndef KILN_RUNOPTS_H
#define KILN_RUNOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "util.h"

/* Maximum length of an instance name, as the libvirt backend accepts it. The name is also a directory under instances/. */
#define RUNOPTS_NAME_MAX 64
/*
 * Smallest memory size kiln accepts. Measured with bare qemu (q35, TCG) and the
 * Debian 6.1 cloud kernel: the hello image printed nothing at 64 MiB and booted
 * at 72 MiB, so 96 MiB leaves room for larger initrds.
 */
#define RUNOPTS_MEMORY_MIN_MIB 96
#define RUNOPTS_MEMORY_MAX_MIB (1024LL * 1024)
#define RUNOPTS_CPUS_MAX 64

/* Instance names: a letter or digit, then letters, digits, '_', '.', '-', no ".."; at most 64 characters. */
bool runopts_name_valid(const char *name);
/* Writes "IMAGE-xxxxxx" (6 random hex digits, from RANDOM) into BUF, shortening IMAGE to fit the name limit. */
void runopts_default_name(const char *image, unsigned int random, char *buf, size_t size);

/* Parses "[IP:]HOST:GUEST[/tcp|/udp]"; the IP defaults to 127.0.0.1. -1 with a usage error naming SPEC. */
int runopts_parse_port(const char *spec, struct port_map *out);
/* Parses "VOLUME:/path[:ro|:rw]" (OUT->file stays NULL). -1 with a usage error naming SPEC. */
int runopts_parse_volume(const char *spec, struct volume_mount *out);
/*
 * Adds one -e value to ENV: "KEY=VALUE" as given, or "KEY" alone copied from the
 * host environment (skipped when the host has no such variable).
 */
int runopts_parse_env(const char *spec, struct strv *env);
/* Adds the variables of an env file (KEY=VALUE or KEY lines, '#' comments, blank lines) to ENV. */
int runopts_read_env_file(const char *path, struct strv *env);
/* Parses a -m value ("512M", "1G", "256") into MiB within the limits above; -1 with a usage error. */
long long runopts_parse_memory(const char *s);
/* Parses a --cpus value (1..RUNOPTS_CPUS_MAX); -1 with a usage error. */
int runopts_parse_cpus(const char *s);

/* Returns the exit status of an app that ended, as a shell reports it: CODE, or 128+SIGNAL; -1 when neither is known. */
int runopts_exit_status(int code, int signal);
/* Writes the STATUS column of kiln ps ("Up 2 minutes", "Exited (3) 10 seconds ago") at time NOW. */
const char *runopts_status(const struct instance *inst, long long now, char *buf, size_t size);
/* Writes "127.0.0.1:8080->80/tcp, ..." (empty when no ports) into BUF. */
const char *runopts_ports(const struct port_map *ports, size_t n, char *buf, size_t size);
/* Returns the JSON text of one instance for inspect and ps --format json; caller frees. */
char *runopts_instance_json(const struct instance *inst, long long now, bool pretty);

/* Returns the offset in TEXT (LEN bytes) where its last LINES lines start; LEN when LINES is 0. */
size_t runopts_tail_start(const char *text, size_t len, long long lines);

/* Per-second rates between two samples of one instance. */
struct runopts_rates {
    double cpu_percent; /* 100 = one host CPU busy */
    double net_rx, net_tx, blk_rd, blk_wr; /* bytes per second */
};
void runopts_rates(const struct instance_stats *before, const struct instance_stats *after,
                   struct runopts_rates *out);

/*
 * A filter for console output: hides kiln-init's "KILN-EXIT ..." lines (and
 * notes the status they carry) and the kernel's "[ 1.23] reboot: Power down"
 * line that follows them, and turns the serial port's CR LF into LF.
 * Feed it bytes as they come; it keeps an incomplete line start until it can tell.
 */
struct runopts_filter {
    char pending[256]; /* the start of the current line, not yet written */
    size_t n_pending;
    bool line_start;   /* the next byte starts a line */
    bool hiding;       /* inside a KILN-EXIT line */
    bool cr;           /* a CR was held back, waiting for the next byte */
    int exit_code;     /* from the last KILN-EXIT line, -1 when none */
    int exit_signal;
};
void runopts_filter_init(struct runopts_filter *f);
/* Filters LEN bytes of DATA; appends what to show to OUT (at most 2 * LEN + 256 bytes) and returns its length. */
size_t runopts_filter_feed(struct runopts_filter *f, const char *data, size_t len, char *out);
/* Writes the unfinished last line the filter kept back into OUT (at most 258 bytes) and returns its length. */
size_t runopts_filter_flush(struct runopts_filter *f, char *out);

#endif
