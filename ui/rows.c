/* Rows of the dashboard's tables: derived figures, text cells, filtering and sorting. */
#define _GNU_SOURCE /* qsort_r */
#include "ui/rows.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGPIPE: return "SIGPIPE";
    case SIGTERM: return "SIGTERM";
    default: return NULL;
    }
}

const char *rows_state_label(const struct instance *inst, char *buf, size_t size)
{
    switch (inst->state) {
    case INSTANCE_CREATED: snprintf(buf, size, "created"); break;
    case INSTANCE_RUNNING: snprintf(buf, size, "running"); break;
    case INSTANCE_PAUSED: snprintf(buf, size, "paused"); break;
    case INSTANCE_STOPPING: snprintf(buf, size, "stopping"); break;
    case INSTANCE_CRASHED: snprintf(buf, size, "crashed"); break;
    case INSTANCE_EXITED:
        if (inst->exit_signal > 0 && signal_name(inst->exit_signal))
            snprintf(buf, size, "exited (%s)", signal_name(inst->exit_signal));
        else if (inst->exit_signal > 0)
            snprintf(buf, size, "exited (signal %d)", inst->exit_signal);
        else if (inst->exit_code >= 0)
            snprintf(buf, size, "exited (%d)", inst->exit_code);
        else
            snprintf(buf, size, "exited");
        break;
    default: snprintf(buf, size, "unknown"); break;
    }
    return buf;
}

const char *rows_uptime(const struct instance *inst, long long now, char *buf, size_t size)
{
    bool up = inst->state == INSTANCE_RUNNING || inst->state == INSTANCE_PAUSED ||
              inst->state == INSTANCE_STOPPING;
    long long s = now - inst->started;

    if (!up || inst->started <= 0 || s < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (s < 60)
        snprintf(buf, size, "%llds", s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm %02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%lldh %02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, size, "%lldd %02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

const char *rows_ports(const struct instance *inst, bool compact, char *buf, size_t size)
{
    size_t used = 0;

    if (size > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < inst->n_ports; i++) {
        const struct port_map *p = &inst->ports[i];
        const char *ip = p->host_ip[0] ? p->host_ip : "127.0.0.1";
        bool skip_ip = compact && strcmp(ip, "127.0.0.1") == 0;
        int w = snprintf(buf + used, size - used, "%s%s%s%d->%d/%s", i ? ", " : "", skip_ip ? "" : ip,
                         skip_ip ? "" : ":", p->host_port, p->guest_port, p->proto[0] ? p->proto : "tcp");
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* True when NEEDLE occurs in HAYSTACK, ignoring ASCII case. */
static bool contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    if (!haystack)
        return false;
    for (; *haystack; haystack++) {
        size_t i = 0;

        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

bool rows_instance_matches(const struct inst_row *row, const char *filter)
{
    char state[32], ports[256];

    if (!filter || !*filter)
        return true;
    if (contains_nocase(row->inst.name, filter) || contains_nocase(row->inst.image, filter))
        return true;
    if (contains_nocase(rows_state_label(&row->inst, state, sizeof(state)), filter))
        return true;
    return contains_nocase(rows_ports(&row->inst, false, ports, sizeof(ports)), filter);
}

bool rows_image_matches(const struct image_row *row, const char *filter)
{
    char ref[160];

    if (!filter || !*filter)
        return true;
    snprintf(ref, sizeof(ref), "%s:%s", row->img.name ? row->img.name : "",
             row->img.tag ? row->img.tag : "");
    return contains_nocase(ref, filter) || contains_nocase(row->img.kernel_version, filter) ||
           contains_nocase(row->img.kind, filter);
}

struct sort_context {
    const void *rows;
    int col;
    bool descending;
};

static int compare_strings(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int compare_doubles(double a, double b)
{
    return (a > b) - (a < b);
}

/* Sort key of the UPTIME column: seconds up, -1 for instances not running. */
static double uptime_key(const struct instance *inst)
{
    bool up = inst->state == INSTANCE_RUNNING || inst->state == INSTANCE_PAUSED ||
              inst->state == INSTANCE_STOPPING;

    return up && inst->started > 0 ? 1e12 - (double)inst->started : -1;
}

static int first_host_port(const struct instance *inst)
{
    return inst->n_ports > 0 ? inst->ports[0].host_port : 0;
}

static int compare_instance_rows(const void *pa, const void *pb, void *arg)
{
    const struct sort_context *ctx = arg;
    const struct inst_row *rows = ctx->rows;
    const struct inst_row *a = &rows[*(const size_t *)pa], *b = &rows[*(const size_t *)pb];
    int c = 0;

    switch ((enum instance_column)ctx->col) {
    case ICOL_NAME: c = compare_strings(a->inst.name, b->inst.name); break;
    case ICOL_IMAGE: c = compare_strings(a->inst.image, b->inst.image); break;
    case ICOL_STATE: c = (int)a->inst.state - (int)b->inst.state; break;
    case ICOL_CPU: c = compare_doubles(a->cpu_percent, b->cpu_percent); break;
    case ICOL_MEMORY: c = compare_doubles((double)a->mem_kib, (double)b->mem_kib); break;
    case ICOL_NET: c = compare_doubles(a->net_rx + a->net_tx, b->net_rx + b->net_tx); break;
    case ICOL_BLOCK: c = compare_doubles(a->blk_rd + a->blk_wr, b->blk_rd + b->blk_wr); break;
    case ICOL_UPTIME: c = compare_doubles(uptime_key(&a->inst), uptime_key(&b->inst)); break;
    case ICOL_PORTS: c = first_host_port(&a->inst) - first_host_port(&b->inst); break;
    default: break;
    }
    if (ctx->descending)
        c = -c;
    return c ? c : compare_strings(a->inst.name, b->inst.name);
}

static double image_size(const struct image *img)
{
    return (double)img->kernel_size + (double)img->initrd_size;
}

static int compare_image_rows(const void *pa, const void *pb, void *arg)
{
    const struct sort_context *ctx = arg;
    const struct image_row *rows = ctx->rows;
    const struct image_row *a = &rows[*(const size_t *)pa], *b = &rows[*(const size_t *)pb];
    int c = 0;

    switch ((enum image_column)ctx->col) {
    case MCOL_NAME:
        c = compare_strings(a->img.name, b->img.name);
        if (c == 0)
            c = compare_strings(a->img.tag, b->img.tag);
        break;
    case MCOL_SIZE: c = compare_doubles(image_size(&a->img), image_size(&b->img)); break;
    case MCOL_KERNEL: c = compare_strings(a->img.kernel_version, b->img.kernel_version); break;
    case MCOL_CREATED: c = compare_doubles((double)a->img.created, (double)b->img.created); break;
    case MCOL_USED: c = a->used_by - b->used_by; break;
    default: break;
    }
    if (ctx->descending)
        c = -c;
    if (c == 0)
        c = compare_strings(a->img.name, b->img.name);
    return c ? c : compare_strings(a->img.tag, b->img.tag);
}

size_t rows_instance_view(const struct inst_row *rows, size_t n, const char *filter,
                          enum instance_column col, bool descending, size_t *out)
{
    struct sort_context ctx = { rows, (int)col, descending };
    size_t count = 0;

    for (size_t i = 0; i < n; i++)
        if (rows_instance_matches(&rows[i], filter))
            out[count++] = i;
    qsort_r(out, count, sizeof(*out), compare_instance_rows, &ctx);
    return count;
}

size_t rows_image_view(const struct image_row *rows, size_t n, const char *filter,
                       enum image_column col, bool descending, size_t *out)
{
    struct sort_context ctx = { rows, (int)col, descending };
    size_t count = 0;

    for (size_t i = 0; i < n; i++)
        if (rows_image_matches(&rows[i], filter))
            out[count++] = i;
    qsort_r(out, count, sizeof(*out), compare_image_rows, &ctx);
    return count;
}

/* Appends the current figures to the row's histories; an unknown CPU rate counts as 0. */
bool rows_state_active(enum instance_state state)
{
    return state == INSTANCE_RUNNING || state == INSTANCE_PAUSED || state == INSTANCE_STOPPING;
}

static void rows_history_push_sample(struct inst_row *row)
{
    rates_history_push(&row->cpu_history, row->cpu_percent > 0 ? (float)row->cpu_percent : 0);
    rates_history_push(&row->mem_history, (float)row->mem_kib / 1024.0f);
}

void rows_apply_stats(struct inst_row *row, const struct instance_stats *cur)
{
    if (row->have_sample) {
        const struct instance_stats *prev = &row->last;
        double seconds = cur->timestamp - prev->timestamp;

        row->cpu_percent = rates_cpu_percent(prev, cur);
        row->net_rx = rates_per_second(prev->net_rx_bytes, cur->net_rx_bytes, seconds);
        row->net_tx = rates_per_second(prev->net_tx_bytes, cur->net_tx_bytes, seconds);
        row->blk_rd = rates_per_second(prev->blk_rd_bytes, cur->blk_rd_bytes, seconds);
        row->blk_wr = rates_per_second(prev->blk_wr_bytes, cur->blk_wr_bytes, seconds);
    } else {
        row->cpu_percent = row->net_rx = row->net_tx = row->blk_rd = row->blk_wr = -1;
    }
    /*
     * libvirt reports the configured size as balloon.current for a shut-off
     * domain, but no memory is in use: the table shows "-" for it.
     */
    row->mem_kib = rows_state_active(cur->state) ? cur->mem_kib : 0;
    row->mem_max_kib = cur->mem_max_kib;
    rows_history_push_sample(row);

    row->last = *cur;
    row->last.name = NULL;
    row->have_sample = true;
}
