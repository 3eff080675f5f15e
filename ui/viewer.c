/* Full-screen text views of the dashboard: help (generated from the key table), inspect, image files, logs. */
#define _GNU_SOURCE /* vasprintf */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build/initramfs.h"
#include "runopts.h"
#include "ui/dash.h"
#include "ui/paint.h"

/* The logs view reads at most this much from the end of a console log. */
#define LOG_TAIL_BYTES (1024 * 1024)

static struct viewer *viewer_new(struct dash *d, const char *title)
{
    struct viewer *v = xcalloc(1, sizeof(*v));

    if (d->viewer)
        viewer_close(d);
    v->title = xstrdup(title);
    d->viewer = v;
    d->dirty = true;
    return v;
}

void viewer_close(struct dash *d)
{
    if (!d->viewer)
        return;
    free(d->viewer->title);
    free(d->viewer->path);
    strv_free(&d->viewer->lines);
    free(d->viewer);
    d->viewer = NULL;
    d->dirty = true;
}

/* Appends TEXT split at newlines, dropping terminal escape sequences and carriage returns. */
static void add_text(struct strv *lines, const char *text, size_t len)
{
    char *line = xmalloc(len + 1);
    size_t used = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];

        if (c == '\033') {
            /* Skip a CSI sequence (ESC [ parameters final) or a two-byte escape. */
            if (i + 1 < len && text[i + 1] == '[') {
                i += 2;
                while (i < len && !((unsigned char)text[i] >= 0x40 && (unsigned char)text[i] <= 0x7e))
                    i++;
            } else {
                i++;
            }
            continue;
        }
        if (c == '\r')
            continue;
        if (c == '\n') {
            strv_push_owned(lines, xstrndup(line, used));
            used = 0;
            continue;
        }
        line[used++] = c == '\t' ? ' ' : c;
    }
    if (used > 0)
        strv_push_owned(lines, xstrndup(line, used));
    free(line);
}

static void add_line(struct strv *lines, const char *fmt, ...) KILN_PRINTF(2, 3);

static void add_line(struct strv *lines, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = xstrdup("");
    va_end(ap);
    strv_push_owned(lines, s);
}

/* ---- help ---- */

/* Lists the themes t cycles through and where theme files are looked for. */
static void add_theme_lines(const struct dash *d, struct strv *lines)
{
    struct strv dirs = { 0 };
    char names[512] = "";

    for (size_t i = 0; i < d->theme_names.len; i++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", d->theme_names.items[i]);
    }
    add_line(lines, "Theme: %s. t cycles through: %s.", d->theme.name, names[0] ? names : "no theme files found");
    theme_search_path(&dirs);
    add_line(lines, "Theme files (NAME.yaml) are looked for in, in order:");
    for (size_t i = 0; i < dirs.len; i++) {
        char *shown = theme_dir_canonical(dirs.items[i]);

        add_line(lines, "  %s", shown);
        free(shown);
    }
    strv_free(&dirs);
}

void viewer_open_help(struct dash *d)
{
    struct viewer *v = viewer_new(d, "Help: kiln dashboard keys (q or Esc closes)");
    bool seen[ACTION_LAST] = { false };
    static const char *const scope_note[] = { "", "  [instances]", "  [images]" };

    add_line(&v->lines, "Keys, from the dashboard's key table:");
    add_line(&v->lines, "%s", "");
    for (size_t i = 0; i < keys_count; i++) {
        const struct ui_key *k = &keys_table[i];
        char keys[64];

        if (seen[k->action])
            continue;
        seen[k->action] = true;
        keys_for_action(k->action, keys, sizeof(keys));
        add_line(&v->lines, "  %-18s %s%s", keys, k->help, scope_note[k->scope]);
    }
    add_line(&v->lines, "%s", "");
    add_line(&v->lines, "  %-18s %s", "Esc", "Clear the filter; close a dialog or view");
    add_line(&v->lines, "  %-18s %s", "^Z", "Suspend the dashboard (fg resumes it)");
    add_line(&v->lines, "  %-18s %s", "^C", "Quit the dashboard");
    add_line(&v->lines, "  %-18s %s", "Mouse", "Click selects a row or pane, the wheel moves the selection");
    add_line(&v->lines, "%s", "");
    add_line(&v->lines, "Rows marked with Space are acted on together by stop, kill, restart and remove.");
    add_line(&v->lines, "CPU %% is of one host CPU: a busy guest with 2 vCPUs shows 200.");
    add_line(&v->lines, "Figures refresh every %g s; d changes the delay.", d->refresh);
    add_line(&v->lines, "%s", "");
    add_theme_lines(d, &v->lines);
}

/* ---- inspect ---- */

static void inspect_instance(struct viewer *v, const struct inst_row *r)
{
    const struct instance *i = &r->inst;
    char a[40], state[48];

    add_line(&v->lines, "Name         %s", i->name);
    add_line(&v->lines, "UUID         %s", i->uuid ? i->uuid : "-");
    add_line(&v->lines, "Image        %s", i->image ? i->image : "-");
    add_line(&v->lines, "Digest       %s", i->digest ? i->digest : "-");
    add_line(&v->lines, "State        %s", rows_state_label(i, state, sizeof(state)));
    /* exit_code is -1 while unknown (still running, or no KILN-EXIT line) and exit_signal 0 when none. */
    if (i->exit_code >= 0)
        add_line(&v->lines, "Exit code    %d", i->exit_code);
    else
        add_line(&v->lines, "Exit code    -");
    if (i->exit_signal > 0)
        add_line(&v->lines, "Exit signal  %d", i->exit_signal);
    else
        add_line(&v->lines, "Exit signal  -");
    add_line(&v->lines, "Created      %s", time_rfc3339(i->created, a, sizeof(a)));
    add_line(&v->lines, "Started      %s", i->started ? time_rfc3339(i->started, a, sizeof(a)) : "-");
    add_line(&v->lines, "Finished     %s", i->finished ? time_rfc3339(i->finished, a, sizeof(a)) : "-");
    add_line(&v->lines, "Memory       %lld MiB", i->memory_mib);
    add_line(&v->lines, "vCPUs        %d", i->cpus);
    add_line(&v->lines, "Auto remove  %s", i->auto_remove ? "yes" : "no");
    add_line(&v->lines, "Log          %s", i->log_path ? i->log_path : "-");
    add_line(&v->lines, "Ports        %zu", i->n_ports);
    for (size_t p = 0; p < i->n_ports; p++)
        add_line(&v->lines, "  %s:%d -> %d/%s", i->ports[p].host_ip, i->ports[p].host_port, i->ports[p].guest_port,
                 i->ports[p].proto);
    add_line(&v->lines, "Volumes      %zu", i->n_volumes);
    for (size_t m = 0; m < i->n_volumes; m++)
        add_line(&v->lines, "  %s (%s) on %s%s", i->volumes[m].volume ? i->volumes[m].volume : "-",
                 i->volumes[m].file ? i->volumes[m].file : "-", i->volumes[m].path ? i->volumes[m].path : "-",
                 i->volumes[m].readonly ? ", read-only" : "");
}

void viewer_open_inspect(struct dash *d)
{
    char title[192];

    if (d->focus == PANE_IMAGES) {
        struct image_row *img = dash_selected_image(d);
        if (!img) {
            dash_status(d, ROLE_WARNING, "no image selected");
            return;
        }
        snprintf(title, sizeof(title), "Inspect image %s:%s (q closes)", img->img.name, img->img.tag);
        struct viewer *v = viewer_new(d, title);
        char *json = image_to_json(&img->img, true);
        if (json) {
            add_text(&v->lines, json, strlen(json));
            free(json);
        } else {
            add_line(&v->lines, "%s", err_msg());
        }
        return;
    }
    struct inst_row *inst = dash_selected_instance(d);
    if (!inst) {
        dash_status(d, ROLE_WARNING, "no instance selected");
        return;
    }
    snprintf(title, sizeof(title), "Inspect instance %s (q closes)", inst->inst.name);
    inspect_instance(viewer_new(d, title), inst);
}

/* ---- image files ---- */

static int add_entry(void *ctx, const struct initramfs_entry *e)
{
    struct strv *lines = ctx;
    char size[32];
    char type = S_ISDIR(e->mode) ? 'd' : S_ISLNK(e->mode) ? 'l' : '-';

    add_line(lines, "%c%04o %10s  %s%s%s", type, (unsigned)(e->mode & 07777),
             S_ISREG(e->mode) ? fmt_size(e->size, size, sizeof(size)) : "", e->path, e->link ? " -> " : "",
             e->link ? e->link : "");
    return 0;
}

void viewer_open_files(struct dash *d)
{
    struct image_row *img = dash_selected_image(d);
    char title[192];
    char *path;

    if (!img) {
        dash_status(d, ROLE_WARNING, "no image selected");
        return;
    }
    path = image_initrd_path(&img->img);
    snprintf(title, sizeof(title), "Files of %s:%s (q closes)", img->img.name, img->img.tag);
    struct viewer *v = viewer_new(d, title);
    if (!path || initramfs_list(path, add_entry, &v->lines) < 0)
        add_line(&v->lines, "cannot list the files: %s", err_msg());
    free(path);
}

/* ---- logs ---- */

static void load_log(struct viewer *v)
{
    size_t len = 0;
    char *text;
    bool at_end = v->lines.len == 0 || v->top + (size_t)(LINES - 2) >= v->lines.len;

    strv_free(&v->lines);
    text = file_read(v->path, &len);
    if (!text) {
        add_line(&v->lines, "%s", err_msg());
        return;
    }
    size_t start = len > LOG_TAIL_BYTES ? len - LOG_TAIL_BYTES : 0;
    struct runopts_filter filter;
    char *shown = xmalloc(2 * (len - start) + 512);
    size_t shown_len;

    /* The same filter as kiln logs: no kiln-init exit line, no power-down line. */
    runopts_filter_init(&filter);
    shown_len = runopts_filter_feed(&filter, text + start, len - start, shown);
    shown_len += runopts_filter_flush(&filter, shown + shown_len);
    add_text(&v->lines, shown, shown_len);
    free(shown);
    free(text);
    if (at_end)
        v->top = v->lines.len > (size_t)(LINES - 2) ? v->lines.len - (size_t)(LINES - 2) : 0;
}

void viewer_open_logs(struct dash *d)
{
    struct inst_row *inst = dash_selected_instance(d);
    char title[192];

    if (!inst) {
        dash_status(d, ROLE_WARNING, "no instance selected");
        return;
    }
    if (!inst->inst.log_path) {
        dash_status(d, ROLE_WARNING, "%s has no console log", inst->inst.name);
        return;
    }
    snprintf(title, sizeof(title), "Console log of %s: %s (q closes, follows new output at the end)",
             inst->inst.name, inst->inst.log_path);
    struct viewer *v = viewer_new(d, title);
    v->follow_file = true;
    v->path = xstrdup(inst->inst.log_path);
    load_log(v);
}

void viewer_refresh(struct dash *d)
{
    if (d->viewer && d->viewer->follow_file) {
        load_log(d->viewer);
        d->dirty = true;
    }
}

/* ---- keys and drawing ---- */

void viewer_key(struct dash *d, int key)
{
    struct viewer *v = d->viewer;
    size_t page = LINES > 3 ? (size_t)(LINES - 3) : 1;
    size_t last = v->lines.len > page ? v->lines.len - page : 0;

    d->dirty = true;
    switch (key) {
    case 'q':
    case 27:
    case KEY_F(10):
    case KEY_F(1):
    case '?':
        viewer_close(d);
        return;
    case KEY_UP: v->top = v->top > 0 ? v->top - 1 : 0; break;
    case KEY_DOWN: v->top = v->top < last ? v->top + 1 : last; break;
    case KEY_PPAGE: v->top = v->top > page ? v->top - page : 0; break;
    case KEY_NPAGE:
    case ' ': v->top = v->top + page < last ? v->top + page : last; break;
    case KEY_HOME: v->top = 0; break;
    case KEY_END: v->top = last; break;
    case KEY_MOUSE: {
        MEVENT ev;
        if (getmouse(&ev) == OK && (ev.bstate & BUTTON4_PRESSED))
            v->top = v->top > 3 ? v->top - 3 : 0;
        else if (ev.bstate & BUTTON5_PRESSED)
            v->top = v->top + 3 < last ? v->top + 3 : last;
        break;
    }
    default: break;
    }
}

void viewer_draw(struct dash *d)
{
    struct viewer *v = d->viewer;
    int rows = LINES - 2;
    char pos[64];

    paint_fill(0, 0, COLS, ROLE_HEADER);
    paint_text(0, 1, COLS - 2, v->title, ROLE_HEADER, false);
    for (int i = 0; i < rows && v->top + (size_t)i < v->lines.len; i++)
        paint_text(1 + i, 1, COLS - 2, v->lines.items[v->top + (size_t)i], ROLE_NORMAL, false);
    paint_fill(LINES - 1, 0, COLS, ROLE_STATUS);
    snprintf(pos, sizeof(pos), "lines %zu-%zu of %zu", v->lines.len ? v->top + 1 : 0,
             v->top + (size_t)rows < v->lines.len ? v->top + (size_t)rows : v->lines.len, v->lines.len);
    paint_text(LINES - 1, 1, COLS - 2, "Up/Down/PgUp/PgDn/Home/End scroll, q or Esc closes", ROLE_STATUS, false);
    paint_text(LINES - 1, COLS - 30, 29, pos, ROLE_STATUS, true);
}
