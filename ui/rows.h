/* Rows of the dashboard's tables: derived figures, text cells, filtering and sorting. */
#ifndef KILN_UI_ROWS_H
#define KILN_UI_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "image.h"
#include "ui/layout.h"
#include "ui/rates.h"

/* One instance with the figures derived from its last two stats samples. */
struct inst_row {
    struct instance inst;          /* owned */
    bool have_sample;
    struct instance_stats last;    /* the previous sample; its name is not kept */
    double cpu_percent;            /* percent of one host CPU, -1 unknown */
    unsigned long long mem_kib, mem_max_kib;
    double net_rx, net_tx;         /* bytes per second, -1 unknown */
    double blk_rd, blk_wr;
    struct rates_history cpu_history;  /* percent */
    struct rates_history mem_history;  /* MiB */
    bool marked;
};

/* One stored image and how many instances refer to it. */
struct image_row {
    struct image img;              /* owned */
    int used_by;
    bool marked;
};

/* Writes the state as shown: "running", "exited (1)", "exited (SIGKILL)", "crashed". */
const char *rows_state_label(const struct instance *inst, char *buf, size_t size);
/* Writes how long a running instance has been up ("3m 12s", "2h 05m", "4d 01h") or "-". */
const char *rows_uptime(const struct instance *inst, long long now, char *buf, size_t size);
/* Writes the published ports: "127.0.0.1:8080->80/tcp, ...", or "" when none; COMPACT leaves out 127.0.0.1. */
const char *rows_ports(const struct instance *inst, bool compact, char *buf, size_t size);

/* True when FILTER (case-insensitive) occurs in the row's name, image, state or ports; an empty FILTER matches all. */
bool rows_instance_matches(const struct inst_row *row, const char *filter);
bool rows_image_matches(const struct image_row *row, const char *filter);

/*
 * Fills OUT with the indexes of the rows of ROWS[N] matching FILTER, sorted by
 * column COL (descending when DESCENDING; ties by name, always ascending).
 * Returns the count written.
 */
size_t rows_instance_view(const struct inst_row *rows, size_t n, const char *filter,
                          enum instance_column col, bool descending, size_t *out);
size_t rows_image_view(const struct image_row *rows, size_t n, const char *filter,
                       enum image_column col, bool descending, size_t *out);

/* True for the states in which the domain's QEMU process runs (running, paused, stopping). */
bool rows_state_active(enum instance_state state);

/* Folds the sample CUR into ROW: rates against the previous sample and the histories. */
void rows_apply_stats(struct inst_row *row, const struct instance_stats *cur);

#endif
