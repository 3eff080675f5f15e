/* The dashboard's state shared by its screen loop, drawing, dialogs and console files. */
#ifndef KILN_UI_DASH_H
#define KILN_UI_DASH_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "ui/keys.h"
#include "ui/model.h"
#include "ui/rates.h"
#include "ui/theme.h"
#include "ui/ui.h"
#include "ui/worker.h"

#define UI_MIN_COLS 80
#define UI_MIN_LINES 24

enum ui_pane {
    PANE_INSTANCES,
    PANE_IMAGES,
    PANE_BOTTOM,     /* details or console of the selected instance */
    PANE_LAST
};

/* A table as shown: indexes into the model's rows after filter and sort. */
struct table_view {
    size_t *index;
    size_t count;
    size_t selected;     /* position in INDEX */
    size_t top;          /* first visible position */
    int sort;            /* column enum of the table */
    bool descending;
    char *selected_name; /* keeps the selection on the same row across refreshes */
    int y, height;       /* screen rows of the data, set when drawn (mouse hits) */
};

/* A full-screen scrollable text (help, inspect, files, logs). */
struct viewer {
    char *title;
    struct strv lines;
    size_t top;
    bool follow_file;    /* logs: re-read PATH on each refresh */
    char *path;
};

enum dialog_kind {
    DIALOG_MENU,
    DIALOG_CONFIRM,
    DIALOG_RUN,
    DIALOG_BUILD,
    DIALOG_DELAY,
    DIALOG_FILTER,
};

#define DIALOG_MAX_FIELDS 7
#define DIALOG_FIELD_MAX 512

struct dialog_field {
    const char *label;
    char value[DIALOG_FIELD_MAX];
    size_t cursor;       /* byte offset in VALUE */
    bool pristine;       /* still the default value, which typing '/' or '~' replaces (build dialog) */
};

struct dialog {
    enum dialog_kind kind;
    char title[128];
    char text[DIALOG_FIELD_MAX];    /* confirm question; the run dialog's default arguments */
    enum ui_action menu[10];        /* menu entries */
    size_t n_menu;
    struct dialog_field fields[DIALOG_MAX_FIELDS];
    size_t n_fields;
    size_t focus;
    char error[1024];               /* validation error shown inside the dialog */
    enum ui_action confirm_action;  /* what DIALOG_CONFIRM does on yes */
    struct strv targets;            /* names the action applies to */
    enum ui_pane pane;              /* pane the dialog was opened from */
    struct strv completions;        /* DIALOG_BUILD: Tab candidates shown */
};

struct console_view;

struct dash {
    const struct ui_options *opts;
    const struct backend_ops *ops;
    struct worker *worker;

    /* connection */
    bool connected;
    bool ever_connected;
    char *conn_error;
    struct backend_info info;

    /* data */
    struct model model;
    struct host_cpu_sample host_prev;
    bool have_host_prev;
    double host_cpu;
    unsigned long long host_mem_total, host_mem_avail;

    /* views */
    struct table_view iview, mview;
    enum ui_pane focus;
    char filter[DIALOG_FIELD_MAX];
    bool show_console;

    /* look */
    struct theme theme;
    struct strv theme_names;
    size_t theme_index;
    bool color;

    /* status line */
    char status[512];
    enum theme_role status_role;
    double status_until;

    double refresh;
    bool dirty;
    bool quit;
    bool too_small;

    /* overlays: a full-screen viewer, or a dialog over the main screen */
    struct viewer *viewer;
    struct dialog *dialog;

    /* bottom pane console */
    struct console_view *console;

    /* builds */
    bool building;
    struct strv build_log;
    char *select_after_build;
    char *select_after_run;  /* the instance the run dialog created, selected once it is listed */
    struct dialog *pending_run;  /* copy of the submitted run dialog, reopened when the create fails */

    /* stop, kill or remove of several rows: the result line is written once every row is done */
    struct batch {
        const char *done_verb;   /* "removed", "stopped", "killed"; NULL: no batch */
        const char *noun;        /* "instances" or "images" */
        struct strv pending, done;
        char *error;             /* the last failure */
    } batch;

    /* attach: set when the worker opened a console for full screen */
    int attach_fd;
};

/* Screen loop (screen.c) */
/* Runs the dashboard on backend OPS (ui_run uses libvirt's). */
int ui_run_backend(const struct ui_options *opts, const struct backend_ops *ops);
void dash_status(struct dash *d, enum theme_role role, const char *fmt, ...) KILN_PRINTF(3, 4);
void dash_dispatch(struct dash *d, enum ui_action action);
/* Handles every message waiting from the worker (also called while the console is attached). */
void dash_drain_messages(struct dash *d);

/* Table views (views.c) */
/* Recomputes both tables' filtered, sorted indexes, keeping each selection on its row. */
void dash_rebuild_views(struct dash *d);
struct inst_row *dash_selected_instance(struct dash *d);
struct image_row *dash_selected_image(struct dash *d);
/* Names the action applies to: the marked rows of the pane, else the selected one. */
void dash_targets(struct dash *d, enum ui_pane pane, struct strv *out);
/* The table the keys move in: the focused one, the instances when the bottom pane has the focus. */
struct table_view *dash_focused_view(struct dash *d);
void dash_move_selection(struct dash *d, long delta);
/* Marks or unmarks the selected row of the focused table and moves down. */
void dash_toggle_mark(struct dash *d);
void dash_clear_marks(struct dash *d);
/* Sorts the focused table by its next column; figures sort largest first. */
void dash_cycle_sort(struct dash *d);
/* Records the selected rows' names so the next rebuild keeps them selected. */
void dash_remember_selection(struct dash *d);
/* Selects image REF ("NAME:TAG") and focuses the images table. */
void dash_select_image(struct dash *d, const char *ref);
/* Selects instance NAME in the instances table, leaving the focus; false when it is not shown. */
bool dash_select_instance(struct dash *d, const char *name);

/* Drawing (draw.c) */
void draw_screen(struct dash *d);
/* Screen rows of the tables and the bottom pane for the current size. */
void draw_geometry(int lines, int *inst_y, int *inst_h, int *img_y, int *img_h, int *bottom_y, int *bottom_h);

/* Dialogs (dialog.c) */
void dialog_open_menu(struct dash *d);
void dialog_open_confirm(struct dash *d, enum ui_action action);
void dialog_open_run(struct dash *d);
void dialog_open_build(struct dash *d);
void dialog_open_delay(struct dash *d);
void dialog_open_filter(struct dash *d);
void dialog_key(struct dash *d, int key);
void dialog_draw(struct dash *d);
void dialog_close(struct dash *d);
/*
 * Handles the outcome of a queued create or batch action named NAME (ERROR is
 * NULL on success). Returns true when it wrote the status line itself.
 */
bool dialog_request_finished(struct dash *d, const char *name, const char *error);
/* Frees the saved run dialog and the batch state (at exit). */
void dialog_forget(struct dash *d);

/* Full-screen text (viewer.c) */
void viewer_open_help(struct dash *d);
void viewer_open_inspect(struct dash *d);
void viewer_open_files(struct dash *d);
void viewer_open_logs(struct dash *d);
void viewer_key(struct dash *d, int key);
void viewer_draw(struct dash *d);
void viewer_refresh(struct dash *d);
void viewer_close(struct dash *d);

/* Console pane (console.c) and full-screen attach (attach.c) */
struct console_view *console_view_new(void);
void console_view_free(struct console_view *c);
/* Shows the log of INST in C, re-reading only what was appended since the last call. */
void console_view_follow(struct console_view *c, const struct instance *inst);
void console_view_draw(struct console_view *c, int y, int x, int h, int w);
void console_view_scroll(struct console_view *c, int lines);
/* Gives the screen ROWS x COLS, replaying the log into it. */
void console_view_resize(struct console_view *c, int rows, int cols);
/* Number of lines: the scrollback, then the screen rows. */
size_t console_view_lines(const struct console_view *c);
/* Returns line LINE (scrollback first) as UTF-8 without trailing blanks, NULL past the end; caller frees. */
char *console_view_text(const struct console_view *c, size_t line);
/* Runs the full-screen serial console on FD until Ctrl-] or the console closes; restores the screen. */
void console_attach(struct dash *d, int fd, const char *name);

#endif
