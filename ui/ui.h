/* The ncurses dashboard: entry point used by main.c and `kiln dash`. */
#ifndef KILN_UI_H
#define KILN_UI_H

struct ui_options {
    const char *uri;   /* libvirt URI, NULL: the default chain */
    const char *theme; /* theme name or YAML path, NULL: config or default */
    double refresh;    /* seconds between stats refreshes */
};

/* Runs the dashboard until the user quits; returns an exit status. */
int ui_run(const struct ui_options *opts);

#endif
