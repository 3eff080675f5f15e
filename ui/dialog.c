/* The dashboard's dialogs: action menu, confirmation, run, build, refresh delay and filter. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "runopts.h"
#include "store.h"
#include "ui/dash.h"
#include "ui/form.h"
#include "ui/paint.h"

#define KEY_ESC 27
/* Bytes of row names a confirmation or result line lists before " and N more". */
#define NAMES_MAX 48

static struct dialog *dialog_new(struct dash *d, enum dialog_kind kind, const char *title)
{
    struct dialog *g = xcalloc(1, sizeof(*g));

    if (d->dialog)
        dialog_close(d);
    g->kind = kind;
    g->pane = d->focus;
    snprintf(g->title, sizeof(g->title), "%s", title);
    d->dialog = g;
    d->dirty = true;
    return g;
}

static void dialog_free(struct dialog *g)
{
    if (!g)
        return;
    strv_free(&g->targets);
    strv_free(&g->completions);
    free(g);
}

/* Returns a deep copy of G without its error and completions. */
static struct dialog *dialog_copy(const struct dialog *g)
{
    struct dialog *copy = xmalloc(sizeof(*copy));

    *copy = *g;
    memset(&copy->targets, 0, sizeof(copy->targets));
    memset(&copy->completions, 0, sizeof(copy->completions));
    copy->error[0] = '\0';
    for (size_t i = 0; i < g->targets.len; i++)
        strv_push(&copy->targets, g->targets.items[i]);
    return copy;
}

void dialog_close(struct dash *d)
{
    if (!d->dialog)
        return;
    dialog_free(d->dialog);
    d->dialog = NULL;
    curs_set(0);
    d->dirty = true;
}

static struct dialog_field *add_field(struct dialog *g, const char *label, const char *value)
{
    struct dialog_field *f = &g->fields[g->n_fields++];

    f->label = label;
    snprintf(f->value, sizeof(f->value), "%s", value ? value : "");
    f->cursor = strlen(f->value);
    return f;
}

/* ---- opening ---- */

void dialog_open_menu(struct dash *d)
{
    static const enum ui_action instance_menu[] = {
        ACTION_ATTACH, ACTION_LOGS, ACTION_START, ACTION_STOP, ACTION_KILL,
        ACTION_RESTART, ACTION_REMOVE, ACTION_INSPECT,
    };
    static const enum ui_action image_menu[] = { ACTION_RUN, ACTION_INSPECT, ACTION_FILES, ACTION_REMOVE };
    struct dialog *g;
    char title[128];

    if (d->focus == PANE_IMAGES) {
        struct image_row *img = dash_selected_image(d);
        if (!img) {
            dash_status(d, ROLE_WARNING, "no image selected");
            return;
        }
        snprintf(title, sizeof(title), "%s:%s", img->img.name, img->img.tag);
        g = dialog_new(d, DIALOG_MENU, title);
        memcpy(g->menu, image_menu, sizeof(image_menu));
        g->n_menu = ARRAY_SIZE(image_menu);
        return;
    }
    struct inst_row *inst = dash_selected_instance(d);
    if (!inst) {
        dash_status(d, ROLE_WARNING, "no instance selected");
        return;
    }
    g = dialog_new(d, DIALOG_MENU, inst->inst.name);
    memcpy(g->menu, instance_menu, sizeof(instance_menu));
    g->n_menu = ARRAY_SIZE(instance_menu);
}

/* Puts what the confirmed action also does into the dialog's note (G->error). */
static void confirm_note(struct dash *d, struct dialog *g)
{
    int users = 0, running = 0;

    for (size_t i = 0; i < g->targets.len; i++) {
        if (g->pane == PANE_IMAGES) {
            for (size_t j = 0; j < d->model.n_img; j++) {
                char ref[160];

                snprintf(ref, sizeof(ref), "%s:%s", d->model.img[j].img.name, d->model.img[j].img.tag);
                if (strcmp(ref, g->targets.items[i]) == 0)
                    users += d->model.img[j].used_by;
            }
        } else {
            struct inst_row *r = model_find_instance(&d->model, g->targets.items[i]);

            if (r && r->inst.state == INSTANCE_RUNNING)
                running++;
        }
    }
    if (users > 0)
        snprintf(g->error, sizeof(g->error), "%d instance%s %s created from %s", users,
                 users == 1 ? "" : "s", users == 1 ? "was" : "were", g->targets.len == 1 ? "it" : "them");
    else if (running > 0 && g->confirm_action == ACTION_REMOVE)
        snprintf(g->error, sizeof(g->error), "%d running instance%s will be killed first", running,
                 running == 1 ? "" : "s");
}

void dialog_open_confirm(struct dash *d, enum ui_action action)
{
    enum ui_pane pane = d->focus == PANE_IMAGES ? PANE_IMAGES : PANE_INSTANCES;
    struct strv targets = { 0 };
    const char *verb = keys_action_label(action);
    struct dialog *g;

    if (pane == PANE_IMAGES && action != ACTION_REMOVE)
        return;
    dash_targets(d, pane, &targets);
    if (targets.len == 0) {
        dash_status(d, ROLE_WARNING, "no %s selected", pane == PANE_IMAGES ? "image" : "instance");
        strv_free(&targets);
        return;
    }
    g = dialog_new(d, DIALOG_CONFIRM, verb);
    g->pane = pane;
    g->confirm_action = action;
    g->targets = targets;
    if (targets.len == 1)
        snprintf(g->text, sizeof(g->text), "%s %s %s?", verb, pane == PANE_IMAGES ? "image" : "instance",
                 targets.items[0]);
    else {
        char names[DIALOG_FIELD_MAX - 64];

        form_join_names(&targets, NAMES_MAX, names, sizeof(names));
        snprintf(g->text, sizeof(g->text), "%s the %zu marked %s: %s?", verb, targets.len,
                 pane == PANE_IMAGES ? "images" : "instances", names);
    }
    confirm_note(d, g);
}

/* Picks "NAME-N" with the smallest N that no instance uses. */
static void default_instance_name(struct dash *d, const char *image, char *buf, size_t size)
{
    for (int n = 1; n < 10000; n++) {
        snprintf(buf, size, "%.56s-%d", image, n); /* stays within the 64-character name limit */
        if (!model_find_instance(&d->model, buf))
            return;
    }
}

void dialog_open_run(struct dash *d)
{
    struct image_row *img = NULL;
    struct inst_row *inst = dash_selected_instance(d);
    char name[96], mem[32], cpus[16], ports[256] = "", args[DIALOG_FIELD_MAX] = "";
    struct dialog *g;

    if (d->focus == PANE_IMAGES)
        img = dash_selected_image(d);
    else if (inst && inst->inst.image) {
        for (size_t i = 0; i < d->model.n_img && !img; i++) {
            char ref[160];
            snprintf(ref, sizeof(ref), "%s:%s", d->model.img[i].img.name, d->model.img[i].img.tag);
            if (strcmp(ref, inst->inst.image) == 0)
                img = &d->model.img[i];
        }
    }
    if (!img)
        img = dash_selected_image(d);
    if (!img) {
        dash_status(d, ROLE_WARNING, "no image to run; press F4 to build one");
        return;
    }

    default_instance_name(d, img->img.name, name, sizeof(name));
    snprintf(mem, sizeof(mem), "%lld", img->img.memory_mib > 0 ? img->img.memory_mib : 256);
    snprintf(cpus, sizeof(cpus), "%d", img->img.cpus > 0 ? img->img.cpus : 1);
    for (size_t i = 0; i < img->img.n_ports; i++) {
        size_t used = strlen(ports);
        snprintf(ports + used, sizeof(ports) - used, "%s%d:%d/%s", i ? ", " : "", img->img.ports[i].port,
                 img->img.ports[i].port, img->img.ports[i].proto);
    }
    for (size_t i = 0; i < img->img.cmd.len; i++) {
        size_t used = strlen(args);
        snprintf(args + used, sizeof(args) - used, "%s'%s'", i > 0 ? " " : "", img->img.cmd.items[i]);
    }

    char title[192];
    snprintf(title, sizeof(title), "Run %s:%s", img->img.name, img->img.tag);
    g = dialog_new(d, DIALOG_RUN, title);
    strv_push_owned(&g->targets, xasprintf("%s:%s", img->img.name, img->img.tag));
    /* Arguments left as shown mean the image's defaults. */
    snprintf(g->text, sizeof(g->text), "%s", args);
    add_field(g, "Name", name);
    add_field(g, "Memory (MiB, or 1G)", mem);
    add_field(g, "vCPUs", cpus);
    add_field(g, "Ports (HOST:GUEST, ...)", ports);
    add_field(g, "Environment (KEY=VALUE ...)", "");
    add_field(g, "Arguments", args);
}

void dialog_open_build(struct dash *d)
{
    struct dialog *g;

    if (d->building) {
        dash_status(d, ROLE_WARNING, "a build is already running; wait for it to finish");
        return;
    }
    g = dialog_new(d, DIALOG_BUILD, "Build an image");
    add_field(g, "Project directory (Tab completes)", "./")->pristine = true;
}

void dialog_open_delay(struct dash *d)
{
    char value[32];
    struct dialog *g = dialog_new(d, DIALOG_DELAY, "Refresh delay");

    snprintf(value, sizeof(value), "%g", d->refresh);
    add_field(g, "Seconds between samples (0.2 to 60)", value);
}

void dialog_open_filter(struct dash *d)
{
    struct dialog *g = dialog_new(d, DIALOG_FILTER, "Filter");

    add_field(g, "Show rows containing", d->filter);
}

/* ---- submitting ---- */

static void menu_choose(struct dash *d)
{
    struct dialog *g = d->dialog;
    enum ui_action action = g->menu[g->focus];

    d->focus = g->pane;
    dialog_close(d);
    dash_dispatch(d, action);
}

static void batch_clear(struct batch *b)
{
    strv_free(&b->pending);
    strv_free(&b->done);
    free(b->error);
    memset(b, 0, sizeof(*b));
}

/* Removes NAME from V; returns false when V does not contain it. */
static bool strv_take(struct strv *v, const char *name)
{
    for (size_t i = 0; i < v->len; i++) {
        if (strcmp(v->items[i], name) == 0) {
            free(v->items[i]);
            memmove(&v->items[i], &v->items[i + 1], (v->len - i) * sizeof(v->items[0]));
            v->len--;
            return true;
        }
    }
    return false;
}

/* Records NAME's outcome in the batch; once every row is done, writes one result line. */
static bool batch_finished(struct dash *d, const char *name, const char *error)
{
    struct batch *b = &d->batch;
    char names[DIALOG_FIELD_MAX];

    if (!b->done_verb || !strv_take(&b->pending, name))
        return false;
    if (error) {
        free(b->error);
        b->error = xstrdup(error);
    } else {
        strv_push(&b->done, name);
    }
    if (b->pending.len > 0) {
        if (error)
            dash_status(d, ROLE_ERROR, "%s", error);
        return true;
    }

    form_join_names(&b->done, NAMES_MAX, names, sizeof(names));
    if (!b->error)
        dash_status(d, ROLE_STATUS, "%s %zu %s: %s", b->done_verb, b->done.len, b->noun, names);
    else if (b->done.len > 0)
        dash_status(d, ROLE_ERROR, "%s %zu of the %s (%s); %s", b->done_verb, b->done.len, b->noun, names, b->error);
    else
        dash_status(d, ROLE_ERROR, "%s", b->error);
    batch_clear(b);
    return true;
}

static void confirm_yes(struct dash *d)
{
    struct dialog *g = d->dialog;
    enum worker_req_kind req;
    const char *verb, *done_verb;

    if (g->confirm_action == ACTION_STOP) {
        req = REQ_STOP;
        verb = "stopping";
        done_verb = "stopped";
    } else if (g->confirm_action == ACTION_KILL) {
        req = REQ_KILL;
        verb = "killing";
        done_verb = "killed";
    } else {
        req = g->pane == PANE_IMAGES ? REQ_REMOVE_IMAGE : REQ_REMOVE;
        verb = "removing";
        done_verb = "removed";
    }

    batch_clear(&d->batch);
    if (g->targets.len > 1) {
        d->batch.done_verb = done_verb;
        d->batch.noun = g->pane == PANE_IMAGES ? "images" : "instances";
        for (size_t i = 0; i < g->targets.len; i++)
            strv_push(&d->batch.pending, g->targets.items[i]);
    }
    for (size_t i = 0; i < g->targets.len; i++)
        worker_request(d->worker, req, g->targets.items[i], false);

    char names[DIALOG_FIELD_MAX];
    form_join_names(&g->targets, NAMES_MAX, names, sizeof(names));
    dash_status(d, ROLE_STATUS, "%s %s", verb, names);
    for (size_t i = 0; i < d->model.n_inst; i++)
        d->model.inst[i].marked = false;
    for (size_t i = 0; i < d->model.n_img; i++)
        d->model.img[i].marked = false;
    dialog_close(d);
}

/* Validates the run dialog; on success queues the create and closes it, else shows the error inside. */
static void run_submit(struct dash *d)
{
    struct dialog *g = d->dialog;
    struct worker_run run;

    memset(&run, 0, sizeof(run));
    run.name = xstrdup(g->fields[0].value);
    run.image_ref = xstrdup(g->targets.items[0]);
    if (!runopts_name_valid(run.name)) {
        snprintf(g->error, sizeof(g->error),
                 "invalid name '%s'; use letters, digits, '_', '.' and '-', starting with a letter or digit",
                 run.name);
        g->focus = 0;
        goto fail;
    }
    if (model_find_instance(&d->model, run.name)) {
        snprintf(g->error, sizeof(g->error), "an instance named %s already exists; choose another name", run.name);
        g->focus = 0;
        goto fail;
    }
    run.memory_mib = runopts_parse_memory(g->fields[1].value);
    if (run.memory_mib < 0) {
        snprintf(g->error, sizeof(g->error), "%s", err_msg());
        g->focus = 1;
        goto fail;
    }
    run.cpus = runopts_parse_cpus(g->fields[2].value);
    if (run.cpus < 0) {
        snprintf(g->error, sizeof(g->error), "%s", err_msg());
        g->focus = 2;
        goto fail;
    }
    if (form_parse_ports(g->fields[3].value, &run.ports, &run.n_ports) < 0) {
        snprintf(g->error, sizeof(g->error), "%s", err_msg());
        g->focus = 3;
        goto fail;
    }
    /* A busy host port is found here, as kiln run finds it before creating anything. */
    for (size_t i = 0; i < run.n_ports; i++) {
        if (port_map_check_free(&run.ports[i]) < 0) {
            snprintf(g->error, sizeof(g->error), "%s", err_msg());
            g->focus = 3;
            goto fail;
        }
    }
    if (form_parse_env(g->fields[4].value, &run.env) < 0) {
        snprintf(g->error, sizeof(g->error), "%s", err_msg());
        g->focus = 4;
        goto fail;
    }
    if (form_split_words(g->fields[5].value, &run.args) < 0) {
        snprintf(g->error, sizeof(g->error), "%s", err_msg());
        g->focus = 5;
        goto fail;
    }
    run.have_args = strcmp(g->fields[5].value, g->text) != 0;

    dash_status(d, ROLE_STATUS, "creating %s from %s", run.name, run.image_ref);
    free(d->select_after_run);
    d->select_after_run = xstrdup(run.name);
    worker_request_create(d->worker, &run);
    dialog_free(d->pending_run);
    d->pending_run = dialog_copy(g);
    dialog_close(d);
    return;

fail:
    g->fields[g->focus].cursor = strlen(g->fields[g->focus].value);
    worker_run_free(&run);
    d->dirty = true;
}

static void build_submit(struct dash *d)
{
    struct dialog *g = d->dialog;
    char *dir = form_expand_home(g->fields[0].value);

    if (!path_exists(dir)) {
        snprintf(g->error, sizeof(g->error), "%s not found; give a project directory containing kiln.yaml", dir);
        d->dirty = true;
        free(dir);
        return;
    }
    if (worker_build(d->worker, dir) < 0) {
        snprintf(g->error, sizeof(g->error), "%s", err_msg());
        d->dirty = true;
        free(dir);
        return;
    }
    strv_free(&d->build_log);
    strv_push_owned(&d->build_log, xasprintf("building %s", dir));
    d->building = true;
    dash_status(d, ROLE_STATUS, "building %s", dir);
    free(dir);
    dialog_close(d);
}

static void delay_submit(struct dash *d)
{
    struct dialog *g = d->dialog;
    char *end = NULL;
    double seconds = strtod(g->fields[0].value, &end);

    if (!end || end == g->fields[0].value || *end || seconds < 0.2 || seconds > 60) {
        snprintf(g->error, sizeof(g->error), "invalid delay '%s'; give seconds from 0.2 to 60", g->fields[0].value);
        d->dirty = true;
        return;
    }
    d->refresh = seconds;
    worker_set_refresh(d->worker, seconds);
    dash_status(d, ROLE_STATUS, "refreshing every %g s", seconds);
    dialog_close(d);
}

static void filter_update(struct dash *d)
{
    snprintf(d->filter, sizeof(d->filter), "%s", d->dialog->fields[0].value);
    dash_rebuild_views(d);
}

static void submit(struct dash *d)
{
    switch (d->dialog->kind) {
    case DIALOG_MENU: menu_choose(d); break;
    case DIALOG_CONFIRM: confirm_yes(d); break;
    case DIALOG_RUN: run_submit(d); break;
    case DIALOG_BUILD: build_submit(d); break;
    case DIALOG_DELAY: delay_submit(d); break;
    case DIALOG_FILTER: dialog_close(d); break;
    }
}

/* ---- editing ---- */

static bool is_continuation(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

/* Applies an editing KEY to F; returns false when the key is not an editing key. */
static bool edit_field(struct dialog_field *f, int key)
{
    size_t len = strlen(f->value);

    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (f->cursor == 0)
            return true;
        size_t start = f->cursor - 1;
        while (start > 0 && is_continuation(f->value[start]))
            start--;
        memmove(f->value + start, f->value + f->cursor, len - f->cursor + 1);
        f->cursor = start;
    } else if (key == KEY_DC) {
        if (f->cursor >= len)
            return true;
        size_t end = f->cursor + 1;
        while (end < len && is_continuation(f->value[end]))
            end++;
        memmove(f->value + f->cursor, f->value + end, len - end + 1);
    } else if (key == KEY_LEFT) {
        while (f->cursor > 0 && is_continuation(f->value[--f->cursor]))
            ;
    } else if (key == KEY_RIGHT) {
        while (f->cursor < len && is_continuation(f->value[++f->cursor]))
            ;
    } else if (key == KEY_HOME || key == ('a' & 0x1f)) {
        f->cursor = 0;
    } else if (key == KEY_END || key == ('e' & 0x1f)) {
        f->cursor = len;
    } else if (key == ('u' & 0x1f)) {
        f->value[0] = '\0';
        f->cursor = 0;
    } else if (key >= 0x20 && key < 0x100 && key != 0x7f) {
        if (len + 1 >= sizeof(f->value))
            return true;
        memmove(f->value + f->cursor + 1, f->value + f->cursor, len - f->cursor + 1);
        f->value[f->cursor++] = (char)key;
    } else {
        return false;
    }
    return true;
}

static void complete_build_dir(struct dialog *g)
{
    struct dialog_field *f = &g->fields[0];
    char *input = form_expand_home(f->value), *done;

    strv_free(&g->completions);
    done = form_complete_path(input, &g->completions);
    snprintf(f->value, sizeof(f->value), "%s", done);
    f->cursor = strlen(f->value);
    f->pristine = false;
    free(done);
    free(input);
}

void dialog_key(struct dash *d, int key)
{
    struct dialog *g = d->dialog;

    d->dirty = true;
    if (key == KEY_ESC || key == KEY_F(10)) {
        if (g->kind == DIALOG_FILTER) {
            d->filter[0] = '\0';
            dash_rebuild_views(d);
        }
        dialog_close(d);
        return;
    }
    if (g->kind == DIALOG_MENU) {
        if (key == KEY_UP && g->focus > 0)
            g->focus--;
        else if (key == KEY_DOWN && g->focus + 1 < g->n_menu)
            g->focus++;
        else if (key == '\r' || key == '\n' || key == KEY_ENTER)
            submit(d);
        else if (key == 'q')
            dialog_close(d);
        else {
            /* A letter bound to one of the entries chooses it directly. */
            for (size_t i = 0; i < g->n_menu; i++) {
                if (keys_lookup(key, g->pane == PANE_IMAGES ? SCOPE_IMAGE : SCOPE_INSTANCE) == g->menu[i]) {
                    g->focus = i;
                    submit(d);
                    return;
                }
            }
        }
        return;
    }
    if (g->kind == DIALOG_CONFIRM) {
        if (key == 'y' || key == 'Y' || key == '\r' || key == '\n' || key == KEY_ENTER)
            confirm_yes(d);
        else if (key == 'n' || key == 'N' || key == 'q')
            dialog_close(d);
        return;
    }

    if (key == '\r' || key == '\n' || key == KEY_ENTER) {
        submit(d);
        return;
    }
    if (key == '\t' && g->kind == DIALOG_BUILD) {
        complete_build_dir(g);
        return;
    }
    if ((key == '\t' || key == KEY_DOWN) && g->n_fields > 1) {
        g->focus = (g->focus + 1) % g->n_fields;
        return;
    }
    if ((key == KEY_BTAB || key == KEY_UP) && g->n_fields > 1) {
        g->focus = (g->focus + g->n_fields - 1) % g->n_fields;
        return;
    }
    struct dialog_field *f = &g->fields[g->focus];
    if (f->pristine && (key == '/' || key == '~')) {
        /* An absolute or home path replaces the untouched default, as typing over a selection does. */
        f->value[0] = '\0';
        f->cursor = 0;
    }
    if (edit_field(f, key)) {
        f->pristine = false;
        g->error[0] = '\0';
        if (g->kind == DIALOG_FILTER)
            filter_update(d);
    }
}

/* ---- drawing ---- */

/* Draws field F at Y, X in WIDTH columns, scrolled so the cursor shows; returns the cursor column. */
static int draw_field(const struct dialog_field *f, int y, int x, int width, bool focused)
{
    const char *start = f->value;
    char before[DIALOG_FIELD_MAX];

    snprintf(before, sizeof(before), "%.*s", (int)f->cursor, f->value);
    while (paint_width(before) >= width - 1 && *start) {
        /* Drop characters from the left until the cursor fits. */
        size_t skip = 1;
        while (is_continuation(start[skip]))
            skip++;
        start += skip;
        snprintf(before, sizeof(before), "%.*s", (int)(f->value + f->cursor - start), start);
    }
    paint_fill(y, x, width, focused ? ROLE_INPUT : ROLE_DIM);
    paint_text(y, x, width, start, focused ? ROLE_INPUT : ROLE_DIALOG, false);
    return x + paint_width(before);
}

/* Draws TEXT on two rows from Y, wrapped at a blank. Text left over after the second row ends in an ellipsis. */
static void draw_wrapped(int y, int x, int width, const char *text, enum theme_role role)
{
    size_t first = paint_wrap(text, width);
    char line[sizeof(((struct dialog *)0)->error)];
    const char *rest = text + first;

    snprintf(line, sizeof(line), "%.*s", (int)first, text);
    paint_text(y, x, width, line, role, false);
    while (*rest == ' ')
        rest++;
    paint_text(y + 1, x, width, rest, role, false);
}

void dialog_draw(struct dash *d)
{
    struct dialog *g = d->dialog;
    int w = COLS - 8 < 76 ? COLS - 8 : 76;
    int h, x = (COLS - w) / 2, y, cursor_y = -1, cursor_x = 0;

    switch (g->kind) {
    case DIALOG_MENU: h = (int)g->n_menu + 4; break;
    case DIALOG_CONFIRM: h = 8; break;
    default: h = (int)g->n_fields * 2 + 6 + (g->completions.len ? 3 : 0); break;
    }
    y = (LINES - h) / 2;
    if (g->kind == DIALOG_MENU) {
        w = 36;
        x = (COLS - w) / 2;
    }
    paint_box(y, x, h, w, g->title, ROLE_BORDER, ROLE_DIALOG);

    if (g->kind == DIALOG_MENU) {
        for (size_t i = 0; i < g->n_menu; i++) {
            char keys[32], line[96];
            enum theme_role role = i == g->focus ? ROLE_SELECTED : ROLE_DIALOG;

            keys_for_action(g->menu[i], keys, sizeof(keys));
            snprintf(line, sizeof(line), " %-12s %s", keys_action_label(g->menu[i]), keys);
            paint_fill(y + 2 + (int)i, x + 1, w - 2, role);
            paint_text(y + 2 + (int)i, x + 1, w - 2, line, role, false);
        }
        curs_set(0);
        return;
    }
    if (g->kind == DIALOG_CONFIRM) {
        draw_wrapped(y + 2, x + 2, w - 4, g->text, ROLE_DIALOG);
        paint_text(y + 4, x + 2, w - 4, g->error, ROLE_WARNING, false);
        paint_text(y + 5, x + 2, w - 4, "y or Enter: yes   n or Esc: no", ROLE_DIALOG, false);
        curs_set(0);
        return;
    }

    int row = y + 2;
    for (size_t i = 0; i < g->n_fields; i++) {
        const struct dialog_field *f = &g->fields[i];
        int cx;

        paint_text(row, x + 2, w - 4, f->label, i == g->focus ? ROLE_TITLE : ROLE_DIALOG, false);
        cx = draw_field(f, row + 1, x + 2, w - 4, i == g->focus);
        if (i == g->focus) {
            cursor_y = row + 1;
            cursor_x = cx;
        }
        row += 2;
    }
    if (g->completions.len) {
        char line[512] = "";
        for (size_t i = 0; i < g->completions.len; i++) {
            size_t used = strlen(line);
            snprintf(line + used, sizeof(line) - used, "%s%s", i ? "  " : "", g->completions.items[i]);
        }
        paint_text(row + 1, x + 2, w - 4, line, ROLE_DIALOG, false);
        row += 3;
    }
    if (g->error[0])
        draw_wrapped(y + h - 3, x + 2, w - 4, g->error, ROLE_ERROR);
    else
        paint_text(y + h - 2, x + 2, w - 4,
                   g->n_fields > 1 ? "Enter: OK   Esc: cancel   Tab/Up/Down: next field" : "Enter: OK   Esc: cancel",
                   ROLE_DIM, false);
    if (cursor_y >= 0) {
        curs_set(1);
        move(cursor_y, cursor_x);
    }
}

/* ---- outcomes of queued requests ---- */

/* Returns the run dialog field an error from the backend is most likely about, or FALLBACK. */
static size_t run_field_of_error(const char *error, size_t fallback)
{
    static const struct {
        const char *word;
        size_t field;
    } fields[] = {
        { "port", 3 }, { "name", 0 }, { "memory", 1 }, { "vCPU", 2 }, { "environment", 4 }, { "argument", 5 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (strstr(error, fields[i].word))
            return fields[i].field;
    return fallback;
}

/* Reopens the saved run dialog with the user's values and ERROR, unless another dialog is open. */
static void run_reopen(struct dash *d, const char *error)
{
    struct dialog *g = d->pending_run;

    d->pending_run = NULL;
    if (d->dialog || d->viewer) {
        dialog_free(g);
        dash_status(d, ROLE_ERROR, "%s", error);
        return;
    }
    snprintf(g->error, sizeof(g->error), "%s", error);
    g->focus = run_field_of_error(error, g->focus);
    g->fields[g->focus].cursor = strlen(g->fields[g->focus].value);
    d->dialog = g;
    d->dirty = true;
    dash_status(d, ROLE_ERROR, "%s", error);
}

bool dialog_request_finished(struct dash *d, const char *name, const char *error)
{
    if (!name)
        return false;
    if (d->pending_run && strcmp(d->pending_run->fields[0].value, name) == 0) {
        if (error) {
            run_reopen(d, error);
            return true;
        }
        dialog_free(d->pending_run);
        d->pending_run = NULL;
        return false;
    }
    return batch_finished(d, name, error);
}

void dialog_forget(struct dash *d)
{
    dialog_free(d->pending_run);
    d->pending_run = NULL;
    batch_clear(&d->batch);
}
