/* The dashboard: `kiln` alone on a terminal and `kiln dash`. */
#ifndef KILN_UI_H
#define KILN_UI_H

struct ui_options {
    const char *uri;     /* connection URI, NULL: the default chain */
    const char *theme;   /* theme name or path, NULL: "default" */
    double refresh;      /* seconds between stats samples, <= 0: 1 */
};

/*
 * Runs the dashboard until the user quits and returns EXIT_OK. Returns
 * EXIT_RUNTIME with the error record set when it cannot start (no terminal,
 * unknown TERM); the caller prints that message.
 */
int ui_run(const struct ui_options *opts);

#endif
