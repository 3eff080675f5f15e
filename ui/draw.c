/* Drawing of the dashboard's main screen: header, tables, details and graphs, status line, function bar. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/dash.h"
#include "ui/form.h"
#include "ui/layout.h"
#include "ui/paint.h"

#define HEADER_LINES 2
#define FOOTER_LINES 2

void draw_geometry(int lines, int *inst_y, int *inst_h, int *img_y, int *img_h, int *bottom_y, int *bottom_h)
{
    int avail = lines - HEADER_LINES - FOOTER_LINES;
    int bottom = avail * 35 / 100;
    int images, instances;

    if (bottom < 6)
        bottom = 6;
    images = (avail - bottom) / 3;
    if (images < 4)
        images = 4;
    instances = avail - bottom - images;

    /* Each table has a title line and a column title line above its rows. */
    *inst_y = HEADER_LINES + 2;
    *inst_h = instances - 2;
    *img_y = HEADER_LINES + instances + 2;
    *img_h = images - 2;
    *bottom_y = HEADER_LINES + instances + images;
    *bottom_h = bottom;
}

/* ---- header ---- */

static enum theme_role state_role(enum instance_state state)
{
    switch (state) {
    case INSTANCE_RUNNING: return ROLE_RUNNING;
    case INSTANCE_PAUSED:
    case INSTANCE_STOPPING: return ROLE_PAUSED;
    case INSTANCE_CRASHED: return ROLE_CRASHED;
    case INSTANCE_EXITED: return ROLE_EXITED;
    default: return ROLE_NORMAL;
    }
}

/* Draws "LABEL[|||||   TEXT]" in WIDTH columns, filled to FRACTION. */
static int draw_meter(int y, int x, int width, const char *label, double fraction, const char *text)
{
    int inner = width - (int)strlen(label) - 2;
    int filled;
    char bar[128];

    if (inner < 4)
        return 0;
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    filled = (int)(fraction * inner + 0.5);
    if (inner > (int)sizeof(bar) - 1)
        inner = (int)sizeof(bar) - 1;
    memset(bar, ' ', (size_t)inner);
    bar[inner] = '\0';
    for (int i = 0; i < filled && i < inner; i++)
        bar[i] = '|';
    size_t tl = strlen(text);
    if ((int)tl < inner)
        memcpy(bar + inner - tl, text, tl);

    paint_text(y, x, (int)strlen(label), label, ROLE_HEADER, false);
    paint_text(y, x + (int)strlen(label), 1, "[", ROLE_HEADER, false);
    paint_text(y, x + (int)strlen(label) + 1, inner, bar, ROLE_HEADER, false);
    paint_text(y, x + (int)strlen(label) + 1 + inner, 1, "]", ROLE_HEADER, false);
    return width;
}

static void draw_header(struct dash *d)
{
    char line[512], clock[16], cpu[32], mem[64], a[16], b[16];
    time_t now = time(NULL);
    struct tm tm;
    size_t counts[INSTANCE_STATE_LAST] = { 0 };

    localtime_r(&now, &tm);
    strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
    paint_fill(0, 0, COLS, ROLE_HEADER);
    paint_fill(1, 0, COLS, ROLE_HEADER);

    if (d->connected && !d->info.hypervisor) {
        snprintf(line, sizeof(line), " kiln  %s  reading the host's details...",
                 d->opts->uri ? d->opts->uri : "default connection");
        paint_text(0, 0, COLS - 10, line, ROLE_HEADER, false);
    } else if (d->connected) {
        char version[48] = "";

        if (d->info.hv_version)
            snprintf(version, sizeof(version), "%lu.%lu.%lu", d->info.hv_version / 1000000,
                     d->info.hv_version / 1000 % 1000, d->info.hv_version % 1000);
        snprintf(line, sizeof(line), " kiln  %s  %s %s  accel %s  (%d host CPUs)",
                 d->info.uri ? d->info.uri : "", d->info.hypervisor ? d->info.hypervisor : "?", version,
                 d->info.accel ? d->info.accel : "?", d->info.host_cpus);
        paint_text(0, 0, COLS - 10, line, ROLE_HEADER, false);
    } else {
        snprintf(line, sizeof(line), " kiln  %s  %s", d->opts->uri ? d->opts->uri : "default connection",
                 d->ever_connected || d->conn_error ? "reconnecting..." : "connecting...");
        paint_text(0, 0, COLS - 10, line, ROLE_WARNING, false);
    }
    paint_text(0, COLS - 9, 9, clock, ROLE_HEADER, true);

    snprintf(cpu, sizeof(cpu), "%.1f%%", d->host_cpu > 0 ? d->host_cpu : 0.0);
    draw_meter(1, 1, 22, "CPU", d->host_cpu / 100.0, cpu);
    unsigned long long used = d->host_mem_total > d->host_mem_avail ? d->host_mem_total - d->host_mem_avail : 0;
    snprintf(mem, sizeof(mem), "%s/%s", fmt_size(used * 1024, a, sizeof(a)),
             fmt_size(d->host_mem_total * 1024, b, sizeof(b)));
    draw_meter(1, 24, 30, "MEM", d->host_mem_total ? (double)used / (double)d->host_mem_total : 0, mem);

    for (size_t i = 0; i < d->model.n_inst; i++)
        if (d->model.inst[i].inst.state < INSTANCE_STATE_LAST)
            counts[d->model.inst[i].inst.state]++;
    int x = 56;
    static const struct {
        enum instance_state state;
        const char *word;
    } counted[] = { { INSTANCE_RUNNING, "running" }, { INSTANCE_EXITED, "exited" },
                  { INSTANCE_CRASHED, "crashed" }, { INSTANCE_CREATED, "created" },
                  { INSTANCE_PAUSED, "paused" } };
    for (size_t i = 0; i < ARRAY_SIZE(counted) && x < COLS - 4; i++) {
        if (counts[counted[i].state] == 0 && counted[i].state != INSTANCE_RUNNING)
            continue;
        snprintf(line, sizeof(line), "%zu %s", counts[counted[i].state], counted[i].word);
        x += paint_text(1, x, COLS - x, line, ROLE_HEADER, false) + 2;
    }
}

/* ---- tables ---- */

/* Title line of a table: "Instances (3 of 5)  filter: web" over a rule. */
static void draw_table_title(struct dash *d, int y, const char *table, size_t matching, size_t total, bool focused)
{
    char title[192];

    if (d->filter[0])
        snprintf(title, sizeof(title), "%s (%zu of %zu, filter '%.64s')", table, matching, total, d->filter);
    else
        snprintf(title, sizeof(title), "%s (%zu)", table, total);
    paint_hline(y, 0, COLS, title, focused ? ROLE_TITLE : ROLE_BORDER);
}

static void draw_column_titles(int y, const struct layout_column *cols, const struct layout_slot *slots,
                               size_t n, int sort, bool descending)
{
    paint_fill(y, 0, COLS, ROLE_TITLE);
    const char *arrow = descending ? "\u25bc" : "\u25b2";

    if (!paint_utf8())
        arrow = descending ? "v" : "^";
    for (size_t i = 0; i < n; i++) {
        char title[64];

        if (slots[i].width == 0)
            continue;
        snprintf(title, sizeof(title), "%s%s", cols[i].title, (int)i == sort ? arrow : "");
        paint_text(y, 2 + slots[i].x, slots[i].width, title, ROLE_TITLE, cols[i].right);
    }
}

/* The role of a table row: the selection in the focused table, a marked row, or plain. */
static enum theme_role row_role(bool highlighted, bool marked)
{
    if (highlighted)
        return ROLE_SELECTED;
    return marked ? ROLE_MARKED : ROLE_NORMAL;
}

/* The two-cell prefix of a row: '*' marked, '>' selected. */
static const char *row_marker(bool selected, bool marked)
{
    if (marked)
        return "*";
    return selected ? ">" : " ";
}

/* Keeps the selection visible by moving the first visible row. */
static void scroll_into_view(struct table_view *v, int height)
{
    if (height <= 0)
        return;
    if (v->selected < v->top)
        v->top = v->selected;
    if (v->selected >= v->top + (size_t)height)
        v->top = v->selected - (size_t)height + 1;
    if (v->top + (size_t)height > v->count)
        v->top = v->count > (size_t)height ? v->count - (size_t)height : 0;
}

static void instance_cell(struct dash *d, const struct inst_row *r, enum instance_column col, int width,
                          char *buf, size_t size, enum theme_role *role)
{
    char a[32], b[32];
    long long now = (long long)time(NULL);

    buf[0] = '\0';
    switch (col) {
    case ICOL_NAME: snprintf(buf, size, "%s", r->inst.name ? r->inst.name : ""); break;
    case ICOL_IMAGE: snprintf(buf, size, "%s", r->inst.image ? r->inst.image : ""); break;
    case ICOL_STATE:
        rows_state_label(&r->inst, buf, size);
        *role = state_role(r->inst.state);
        break;
    case ICOL_CPU: {
        char spark[128] = "";
        int spark_width = width - 7;

        if (spark_width >= 3) {
            double max = 100.0 * (r->inst.cpus > 0 ? r->inst.cpus : 1);
            rates_sparkline(&r->cpu_history, spark_width, max, paint_utf8(), spark, sizeof(spark));
        }
        if (r->cpu_percent >= 0)
            snprintf(buf, size, "%6.1f %s", r->cpu_percent, spark);
        else
            snprintf(buf, size, "%6s %s", "-", spark);
        break;
    }
    case ICOL_MEMORY:
        if (r->mem_kib > 0)
            fmt_size(r->mem_kib * 1024, buf, size);
        else
            snprintf(buf, size, "-");
        break;
    case ICOL_NET:
        snprintf(buf, size, "%s/%s", rates_format(r->net_rx, a, sizeof(a)), rates_format(r->net_tx, b, sizeof(b)));
        break;
    case ICOL_BLOCK:
        snprintf(buf, size, "%s/%s", rates_format(r->blk_rd, a, sizeof(a)), rates_format(r->blk_wr, b, sizeof(b)));
        break;
    case ICOL_UPTIME:
        if (r->inst.state == INSTANCE_EXITED && r->inst.exit_signal > 0)
            snprintf(buf, size, "signal %d", r->inst.exit_signal);
        else if (r->inst.state == INSTANCE_EXITED && r->inst.exit_code >= 0)
            snprintf(buf, size, "exit %d", r->inst.exit_code);
        else
            rows_uptime(&r->inst, now, buf, size);
        break;
    case ICOL_PORTS: rows_ports(&r->inst, true, buf, size); break;
    case ICOL_LAST: break;
    }
    (void)d;
}

static void draw_instances(struct dash *d, int y, int height)
{
    struct layout_slot slots[ICOL_LAST];
    struct table_view *v = &d->iview;
    bool focused = d->focus != PANE_IMAGES;

    layout_columns(layout_instance_columns, ICOL_LAST, COLS - 2, slots);
    draw_table_title(d, y - 2, "Instances", v->count, d->model.n_inst, d->focus == PANE_INSTANCES);
    draw_column_titles(y - 1, layout_instance_columns, slots, ICOL_LAST, v->sort, v->descending);
    v->y = y;
    v->height = height;
    scroll_into_view(v, height);

    if (v->count == 0) {
        const char *empty = !d->connected ? "not connected" :
                            d->filter[0] ? "no instance matches the filter (Esc clears it)" :
                            "no instances; select an image and press F2 to run one";
        paint_text(y, 2, COLS - 4, empty, ROLE_DIM, false);
        return;
    }
    for (int line = 0; line < height && v->top + (size_t)line < v->count; line++) {
        size_t pos = v->top + (size_t)line;
        const struct inst_row *r = &d->model.inst[v->index[pos]];
        bool selected = pos == v->selected;
        enum theme_role base = row_role(selected && focused, r->marked);

        paint_fill(y + line, 0, COLS, base);
        paint_text(y + line, 0, 2, row_marker(selected, r->marked), base, false);
        for (int c = 0; c < ICOL_LAST; c++) {
            char cell[512];
            enum theme_role role = base;

            if (slots[c].width == 0)
                continue;
            instance_cell(d, r, (enum instance_column)c, slots[c].width, cell, sizeof(cell), &role);
            if (selected && focused)
                role = ROLE_SELECTED;
            else if (c == ICOL_CPU && base == ROLE_NORMAL)
                role = ROLE_GRAPH;
            paint_text(y + line, 2 + slots[c].x, slots[c].width, cell, role, layout_instance_columns[c].right);
        }
    }
}

static void draw_images(struct dash *d, int y, int height)
{
    struct layout_slot slots[MCOL_LAST];
    struct table_view *v = &d->mview;
    bool focused = d->focus == PANE_IMAGES;
    long long now = (long long)time(NULL);

    layout_columns(layout_image_columns, MCOL_LAST, COLS - 2, slots);
    draw_table_title(d, y - 2, "Images", v->count, d->model.n_img, focused);
    draw_column_titles(y - 1, layout_image_columns, slots, MCOL_LAST, v->sort, v->descending);
    v->y = y;
    v->height = height;
    scroll_into_view(v, height);

    if (v->count == 0) {
        paint_text(y, 2, COLS - 4, d->filter[0] ? "no image matches the filter (Esc clears it)"
                                                : "no images; press F4 to build one from a project directory",
                   ROLE_DIM, false);
        return;
    }
    for (int line = 0; line < height && v->top + (size_t)line < v->count; line++) {
        size_t pos = v->top + (size_t)line;
        const struct image_row *r = &d->model.img[v->index[pos]];
        bool selected = pos == v->selected;
        enum theme_role role = row_role(selected && focused, r->marked);
        char cell[256], age[64];

        paint_fill(y + line, 0, COLS, role);
        paint_text(y + line, 0, 2, row_marker(selected, r->marked), role, false);
        for (int c = 0; c < MCOL_LAST; c++) {
            if (slots[c].width == 0)
                continue;
            switch ((enum image_column)c) {
            case MCOL_NAME: snprintf(cell, sizeof(cell), "%s:%s", r->img.name, r->img.tag); break;
            case MCOL_SIZE: fmt_size(r->img.kernel_size + r->img.initrd_size, cell, sizeof(cell)); break;
            case MCOL_KERNEL: snprintf(cell, sizeof(cell), "%s", r->img.kernel_version ? r->img.kernel_version : "-"); break;
            case MCOL_CREATED:
                snprintf(cell, sizeof(cell), "%s ago", fmt_duration(now - r->img.created, age, sizeof(age)));
                break;
            case MCOL_USED: snprintf(cell, sizeof(cell), "%d", r->used_by); break;
            case MCOL_LAST: break;
            }
            paint_text(y + line, 2 + slots[c].x, slots[c].width, cell, role, layout_image_columns[c].right);
        }
    }
}

/* ---- bottom pane ---- */

/*
 * Draws the whole history H as a bar graph in ROWS x WIDTH cells with MAX at
 * the top, each column the peak of as many samples as needed to fit. Returns
 * the samples per column.
 */
static size_t draw_graph(int y, int x, int rows, int width, const struct rates_history *h, double max)
{
    static const char *const eighths[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584",
                                           "\u2585", "\u2586", "\u2587", "\u2588" };
    float columns[RATES_HISTORY];
    size_t step;

    if (rows <= 0 || width <= 0 || max <= 0)
        return 1;
    if (width > RATES_HISTORY)
        width = RATES_HISTORY;
    step = rates_history_columns(h, (size_t)width, columns);
    for (int col = 0; col < width; col++) {
        double v = columns[col];
        int total = (int)(v / max * rows * 8 + 0.5);

        if (v > 0 && total == 0)
            total = 1;
        for (int row = 0; row < rows; row++) {
            int level = total - row * 8;
            const char *cell;

            if (level <= 0)
                continue;
            if (level > 8)
                level = 8;
            if (paint_utf8())
                cell = eighths[level];
            else
                cell = level >= 4 ? "#" : ".";
            paint_text(y + rows - 1 - row, x + col, 1, cell, ROLE_GRAPH, false);
        }
    }
    return step;
}

/* Writes the time the history H covers at REFRESH seconds per sample: "45s", "4m 10s". */
static const char *history_span(const struct rates_history *h, double refresh, char *buf, size_t size)
{
    long long seconds = (long long)((double)h->len * refresh + 0.5);

    if (seconds < 60)
        snprintf(buf, size, "%llds", seconds);
    else
        snprintf(buf, size, "%lldm %02llds", seconds / 60, seconds % 60);
    return buf;
}

static void draw_instance_details(struct dash *d, const struct inst_row *r, int y, int x, int h, int w)
{
    char line[512], a[32], state[48], ports[256];
    int left = w / 2 - 1, gw = (w - left - 3) / 2;
    long long now = (long long)time(NULL);
    int row = 0;

    rows_state_label(&r->inst, state, sizeof(state));
    snprintf(line, sizeof(line), "Image    %s  %s", r->inst.image ? r->inst.image : "-",
             r->inst.digest ? r->inst.digest : "");
    if (row < h)
        paint_text(y + row++, x, left, line, ROLE_NORMAL, false);
    if (row < h) {
        paint_text(y + row, x, 9, "State", ROLE_NORMAL, false);
        paint_text(y + row, x + 9, left - 9, state, state_role(r->inst.state), false);
        rows_uptime(&r->inst, now, a, sizeof(a));
        if (strcmp(a, "-") != 0)
            paint_printf(y + row, x + 10 + (int)strlen(state), left - 10 - (int)strlen(state), ROLE_NORMAL, "up %s", a);
        row++;
    }
    /* The sampled figure is the VM process's resident memory on the host, which includes QEMU's own. */
    snprintf(line, sizeof(line), "Memory   %lld MiB guest, %s resident on the host, %d vCPU%s", r->inst.memory_mib,
             r->mem_kib ? fmt_size(r->mem_kib * 1024, a, sizeof(a)) : "-", r->inst.cpus, r->inst.cpus == 1 ? "" : "s");
    if (row < h)
        paint_text(y + row++, x, left, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Ports    %s", r->inst.n_ports ? rows_ports(&r->inst, false, ports, sizeof(ports)) : "none");
    if (row < h)
        paint_text(y + row++, x, left, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Created  %s", time_rfc3339(r->inst.created, a, sizeof(a)));
    if (row < h)
        paint_text(y + row++, x, left, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Log      %s", r->inst.log_path ? r->inst.log_path : "-");
    if (row < h)
        paint_text(y + row++, x, left, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "UUID     %s", r->inst.uuid ? r->inst.uuid : "-");
    if (row < h)
        paint_text(y + row++, x, left, line, ROLE_NORMAL, false);

    /* Graphs of the last minutes: one column per refresh. */
    int gx = x + left + 2;
    double cpu_max = 100.0 * (r->inst.cpus > 0 ? r->inst.cpus : 1);
    char span[32];

    history_span(&r->cpu_history, d->refresh, span, sizeof(span));
    if (r->cpu_percent >= 0)
        snprintf(line, sizeof(line), "CPU %.1f%%, last %s", r->cpu_percent, span);
    else
        snprintf(line, sizeof(line), "CPU -, last %s", span);
    paint_text(y, gx, gw, line, ROLE_TITLE, false);
    draw_graph(y + 1, gx, h - 1, gw, &r->cpu_history, cpu_max);

    int mx = gx + gw + 1;
    double mem_max = r->mem_max_kib ? (double)r->mem_max_kib / 1024.0 : (double)r->inst.memory_mib;
    /* The resident size can pass the guest's memory (QEMU itself adds to it), so the scale follows it. */
    if ((double)r->mem_kib / 1024.0 > mem_max)
        mem_max = (double)r->mem_kib / 1024.0;
    snprintf(line, sizeof(line), "MEM %s resident", r->mem_kib ? fmt_size(r->mem_kib * 1024, a, sizeof(a)) : "-");
    paint_text(y, mx, w - (mx - x), line, ROLE_TITLE, false);
    draw_graph(y + 1, mx, h - 1, w - (mx - x), &r->mem_history, mem_max > 0 ? mem_max : 1);
}

static void draw_image_details(const struct image_row *r, int y, int x, int h, int w)
{
    char line[1024], a[32], b[32];
    int row = 0;
    char words[768];

    snprintf(line, sizeof(line), "Image    %s:%s  %s", r->img.name, r->img.tag, r->img.digest ? r->img.digest : "");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Kind     %s", r->img.kind ? r->img.kind : "-");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    form_join_words(&r->img.entrypoint, words, sizeof(words));
    snprintf(line, sizeof(line), "Entry    %s", words[0] ? words : "-");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    form_join_words(&r->img.cmd, words, sizeof(words));
    snprintf(line, sizeof(line), "Cmd      %s", words[0] ? words : "-");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Kernel   %s (%s), initrd %s", r->img.kernel_version ? r->img.kernel_version : "-",
             fmt_size(r->img.kernel_size, a, sizeof(a)), fmt_size(r->img.initrd_size, b, sizeof(b)));
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Defaults %lld MiB, %d vCPU%s, %zu port%s", r->img.memory_mib, r->img.cpus,
             r->img.cpus == 1 ? "" : "s", r->img.n_ports, r->img.n_ports == 1 ? "" : "s");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Created  %s, used by %d instance%s", time_rfc3339(r->img.created, a, sizeof(a)),
             r->used_by, r->used_by == 1 ? "" : "s");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_NORMAL, false);
    snprintf(line, sizeof(line), "Cmdline  %s", r->img.cmdline ? r->img.cmdline : "-");
    if (row < h)
        paint_text(y + row++, x, w, line, ROLE_DIM, false);
}

static void draw_build_log(struct dash *d, int y, int x, int h, int w)
{
    size_t first = d->build_log.len > (size_t)h ? d->build_log.len - (size_t)h : 0;

    for (size_t i = first; i < d->build_log.len; i++)
        paint_text(y + (int)(i - first), x, w, d->build_log.items[i], ROLE_NORMAL, false);
}

static void draw_bottom(struct dash *d, int y, int h)
{
    struct inst_row *inst = dash_selected_instance(d);
    struct image_row *img = dash_selected_image(d);
    enum theme_role border = d->focus == PANE_BOTTOM ? ROLE_TITLE : ROLE_BORDER;
    char title[256];

    if (d->building || (d->build_log.len && d->focus == PANE_IMAGES && !img)) {
        paint_box(y, 0, h, COLS, d->building ? "Build (running)" : "Build", border, ROLE_NORMAL);
        draw_build_log(d, y + 1, 2, h - 2, COLS - 4);
        return;
    }
    if (d->focus == PANE_IMAGES) {
        snprintf(title, sizeof(title), "Image %s", img ? img->img.name : "");
        paint_box(y, 0, h, COLS, title, border, ROLE_NORMAL);
        if (img)
            draw_image_details(img, y + 1, 2, h - 2, COLS - 4);
        return;
    }
    if (!inst) {
        paint_box(y, 0, h, COLS, "Details", border, ROLE_NORMAL);
        return;
    }
    if (d->show_console) {
        snprintf(title, sizeof(title), "Console %s (c: details, Tab then PgUp: scroll back)", inst->inst.name);
        paint_box(y, 0, h, COLS, title, border, ROLE_NORMAL);
        console_view_follow(d->console, &inst->inst);
        console_view_draw(d->console, y + 1, 1, h - 2, COLS - 2);
        return;
    }
    snprintf(title, sizeof(title), "Details %s (c: console)", inst->inst.name);
    paint_box(y, 0, h, COLS, title, border, ROLE_NORMAL);
    draw_instance_details(d, inst, y + 1, 2, h - 2, COLS - 4);
}

/* ---- footer ---- */

static void draw_status(struct dash *d, int y)
{
    paint_fill(y, 0, COLS, ROLE_STATUS);
    if (d->status[0])
        paint_text(y, 1, COLS - 2, d->status, d->status_role, false);
    else if (d->conn_error)
        paint_text(y, 1, COLS - 2, d->conn_error, ROLE_ERROR, false);
}

static void draw_function_bar(int y)
{
    struct ui_fbar_item bar[16];
    size_t n = keys_fbar(bar, ARRAY_SIZE(bar));
    int x = 0;

    paint_fill(y, 0, COLS, ROLE_KEY_LABEL);
    for (size_t i = 0; i < n; i++) {
        int kw = (int)strlen(bar[i].key), lw = (int)strlen(bar[i].label) + 1;

        if (x + kw + lw > COLS)
            break;
        paint_text(y, x, kw, bar[i].key, ROLE_KEY, false);
        paint_fill(y, x + kw, lw, ROLE_KEY_LABEL);
        paint_text(y, x + kw, lw, bar[i].label, ROLE_KEY_LABEL, false);
        x += kw + lw;
    }
}

static void draw_too_small(void)
{
    char msg[128];

    snprintf(msg, sizeof(msg), "terminal too small: %dx%d, kiln needs at least %dx%d", COLS, LINES,
             UI_MIN_COLS, UI_MIN_LINES);
    paint_text(LINES / 2, 0, COLS, msg, ROLE_WARNING, false);
    if (LINES / 2 + 1 < LINES)
        paint_text(LINES / 2 + 1, 0, COLS, "enlarge the window or press q to quit", ROLE_NORMAL, false);
}

void draw_screen(struct dash *d)
{
    int iy, ih, my, mh, by, bh;

    erase();
    if (!d->dialog)
        curs_set(0);
    if (d->too_small) {
        draw_too_small();
        refresh();
        return;
    }
    if (d->viewer) {
        viewer_draw(d);
        refresh();
        return;
    }
    draw_geometry(LINES, &iy, &ih, &my, &mh, &by, &bh);
    draw_header(d);
    draw_instances(d, iy, ih);
    draw_images(d, my, mh);
    draw_bottom(d, by, bh);
    draw_status(d, LINES - 2);
    draw_function_bar(LINES - 1);
    if (d->dialog)
        dialog_draw(d);
    refresh();
}
