/* Rates from cumulative counters: CPU percent, bytes per second, history rings and sparklines. */
#ifndef KILN_UI_RATES_H
#define KILN_UI_RATES_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"

/* Samples kept per instance: 5 minutes at the default refresh of one second. */
#define RATES_HISTORY 300

/* A ring of the most recent samples of one figure. */
struct rates_history {
    float values[RATES_HISTORY];
    size_t len;   /* samples stored, at most RATES_HISTORY */
    size_t head;  /* index of the next write */
};

void rates_history_push(struct rates_history *h, float value);
/* Returns the sample AGE steps back (0: the newest); 0 when there is none. */
float rates_history_get(const struct rates_history *h, size_t age);
/* Returns the largest of the newest COUNT samples (0 when empty). */
float rates_history_max(const struct rates_history *h, size_t count);
/*
 * Compresses the whole history into WIDTH columns for a graph, oldest first:
 * each column is the largest of STEP consecutive samples, where STEP is the
 * fewest that fits every sample. OUT[WIDTH] gets the columns, right-aligned
 * with zeros on the left. Returns STEP (at least 1).
 */
size_t rates_history_columns(const struct rates_history *h, size_t width, float *out);

/*
 * Returns the CPU use between two samples of one instance in percent of one host
 * CPU, as docker stats does: a 2-vCPU guest keeping both busy shows 200. Returns
 * -1 when no rate can be computed: the counter went backwards (the instance was
 * restarted), no time passed, or the instance is not running.
 */
double rates_cpu_percent(const struct instance_stats *prev, const struct instance_stats *cur);
/* Returns (CUR - PREV) / SECONDS, or -1 when the counter went backwards or SECONDS <= 0. */
double rates_per_second(unsigned long long prev, unsigned long long cur, double seconds);

/* Formats bytes per second compactly ("0", "980", "12.3k", "4.1M", "1.2G"); "-" for a negative rate. */
const char *rates_format(double rate, char *buf, size_t size);

/*
 * Writes the newest WIDTH samples of H as a sparkline scaled so that MAX fills a
 * cell, oldest on the left and padded with blanks on the left while the history
 * is short. UTF8 selects block elements, else ASCII " .:-=+*#". Returns BUF.
 */
const char *rates_sparkline(const struct rates_history *h, int width, double max, bool utf8,
                            char *buf, size_t size);

/* Host CPU counters from the first line of /proc/stat. */
struct host_cpu_sample {
    unsigned long long busy;
    unsigned long long total;
};

/* Parses the aggregate "cpu" line of /proc/stat text; 0 or -1. */
int rates_parse_proc_stat(const char *text, struct host_cpu_sample *out);
/* Parses MemTotal and MemAvailable (kiB) from /proc/meminfo text; 0 or -1. */
int rates_parse_meminfo(const char *text, unsigned long long *total_kib, unsigned long long *available_kib);
/* Returns the host CPU use in percent of all CPUs between two samples; -1 when not computable. */
double rates_host_cpu_percent(const struct host_cpu_sample *prev, const struct host_cpu_sample *cur);

#endif
