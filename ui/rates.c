/* Rates from cumulative counters: CPU percent, bytes per second, history rings and sparklines. */
#include "ui/rates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rates_history_push(struct rates_history *h, float value)
{
    h->values[h->head] = value;
    h->head = (h->head + 1) % RATES_HISTORY;
    if (h->len < RATES_HISTORY)
        h->len++;
}

float rates_history_get(const struct rates_history *h, size_t age)
{
    if (age >= h->len)
        return 0;
    return h->values[(h->head + RATES_HISTORY - 1 - age) % RATES_HISTORY];
}

float rates_history_max(const struct rates_history *h, size_t count)
{
    float max = 0;

    for (size_t age = 0; age < count && age < h->len; age++) {
        float v = rates_history_get(h, age);
        if (v > max)
            max = v;
    }
    return max;
}

size_t rates_history_columns(const struct rates_history *h, size_t width, float *out)
{
    size_t step, used;

    if (width == 0)
        return 1;
    step = (h->len + width - 1) / width;
    if (step == 0)
        step = 1;
    used = (h->len + step - 1) / step;
    for (size_t col = 0; col < width; col++)
        out[col] = 0;

    /* Column width - 1 - k contains the samples aged k * step .. k * step + step - 1. */
    for (size_t k = 0; k < used; k++) {
        float max = 0;

        for (size_t age = k * step; age < (k + 1) * step && age < h->len; age++) {
            float v = rates_history_get(h, age);
            if (v > max)
                max = v;
        }
        out[width - 1 - k] = max;
    }
    return step;
}

double rates_cpu_percent(const struct instance_stats *prev, const struct instance_stats *cur)
{
    double seconds = cur->timestamp - prev->timestamp;

    if (cur->state != INSTANCE_RUNNING || prev->state != INSTANCE_RUNNING)
        return -1;
    if (seconds <= 0 || cur->cpu_ns < prev->cpu_ns)
        return -1;
    return (double)(cur->cpu_ns - prev->cpu_ns) / (seconds * 1e9) * 100.0;
}

double rates_per_second(unsigned long long prev, unsigned long long cur, double seconds)
{
    if (seconds <= 0 || cur < prev)
        return -1;
    return (double)(cur - prev) / seconds;
}

const char *rates_format(double rate, char *buf, size_t size)
{
    static const char units[] = "kMGT";

    if (rate < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (rate < 1000) {
        snprintf(buf, size, "%.0f", rate);
        return buf;
    }
    size_t unit = 0;
    rate /= 1000;
    while (rate >= 1000 && unit + 1 < sizeof(units) - 1) {
        rate /= 1000;
        unit++;
    }
    if (rate < 100)
        snprintf(buf, size, "%.1f%c", rate, units[unit]);
    else
        snprintf(buf, size, "%.0f%c", rate, units[unit]);
    return buf;
}

const char *rates_sparkline(const struct rates_history *h, int width, double max, bool utf8,
                            char *buf, size_t size)
{
    static const char *const blocks[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
                                          "\u2585", "\u2586", "\u2587", "\u2588" };
    static const char ascii[] = " .:-=+*#";
    size_t used = 0;
    int levels = utf8 ? 8 : (int)strlen(ascii) - 1;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (int col = 0; col < width; col++) {
        size_t age = (size_t)(width - 1 - col);
        int level = 0;

        if (age < h->len && max > 0) {
            double v = rates_history_get(h, age);
            level = (int)(v / max * levels + 0.5);
            if (level > levels)
                level = levels;
            if (level == 0 && v > 0)
                level = 1; /* any activity shows */
        }

        const char *cell = utf8 ? blocks[level] : (char[]){ ascii[level], '\0' };
        size_t len = strlen(cell);
        if (used + len >= size)
            break;
        memcpy(buf + used, cell, len + 1);
        used += len;
    }
    return buf;
}

int rates_parse_proc_stat(const char *text, struct host_cpu_sample *out)
{
    unsigned long long f[10] = { 0 };
    int n;

    if (strncmp(text, "cpu ", 4) != 0)
        return -1;
    n = sscanf(text + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
               &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]);
    if (n < 4)
        return -1;

    /* user nice system idle iowait irq softirq steal; guest time is already in user and nice. */
    unsigned long long idle = f[3] + f[4];
    unsigned long long total = 0;
    for (int i = 0; i < n && i < 8; i++)
        total += f[i];
    out->total = total;
    out->busy = total - idle;
    return 0;
}

int rates_parse_meminfo(const char *text, unsigned long long *total_kib, unsigned long long *available_kib)
{
    const char *t = strstr(text, "MemTotal:");
    const char *a = strstr(text, "MemAvailable:");

    if (!t || !a)
        return -1;
    if (sscanf(t, "MemTotal: %llu", total_kib) != 1)
        return -1;
    if (sscanf(a, "MemAvailable: %llu", available_kib) != 1)
        return -1;
    return 0;
}

double rates_host_cpu_percent(const struct host_cpu_sample *prev, const struct host_cpu_sample *cur)
{
    if (cur->total <= prev->total || cur->busy < prev->busy)
        return -1;
    return (double)(cur->busy - prev->busy) / (double)(cur->total - prev->total) * 100.0;
}
