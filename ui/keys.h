/* The dashboard's key table: one array from which key dispatch, the help screen and the function bar are generated. */
#ifndef KILN_UI_KEYS_H
#define KILN_UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum ui_action {
    ACTION_NONE,
    ACTION_HELP,
    ACTION_QUIT,
    ACTION_MENU,        /* Enter: the action menu of the selected row */
    ACTION_UP,
    ACTION_DOWN,
    ACTION_PAGE_UP,
    ACTION_PAGE_DOWN,
    ACTION_HOME,
    ACTION_END,
    ACTION_NEXT_PANE,
    ACTION_MARK,
    ACTION_FILTER,
    ACTION_SORT,
    ACTION_SORT_REVERSE,
    ACTION_THEME,
    ACTION_DELAY,
    ACTION_RUN,
    ACTION_BUILD,
    ACTION_ATTACH,
    ACTION_LOGS,
    ACTION_INSPECT,
    ACTION_FILES,
    ACTION_START,
    ACTION_STOP,
    ACTION_KILL,
    ACTION_RESTART,
    ACTION_REMOVE,
    ACTION_CONSOLE_PANE,
    ACTION_REDRAW,
    ACTION_LAST
};

/* The scope in which a key binding applies. */
enum ui_key_scope {
    SCOPE_GLOBAL,    /* everywhere on the main screen */
    SCOPE_INSTANCE,  /* the instances table has the focus */
    SCOPE_IMAGE,     /* the images table has the focus */
};

/* One key binding. LABEL is the short word shown in the function bar (NULL: not shown). */
struct ui_key {
    int key;                  /* a character or a curses KEY_ code */
    const char *label;
    const char *help;         /* the sentence shown on the help screen */
    enum ui_action action;
    enum ui_key_scope scope;
};

/* An entry of the function bar, in the order shown. */
struct ui_fbar_item {
    char key[8];              /* "F1", "?" */
    const char *label;
    enum ui_action action;
};

extern const struct ui_key keys_table[];
extern const size_t keys_count;

/* Returns the action bound to KEY for the pane SCOPE (a global binding applies everywhere), or ACTION_NONE. */
enum ui_action keys_lookup(int key, enum ui_key_scope scope);
/* Writes the display name of KEY ("F6", "Enter", "^L", "s") into BUF. */
const char *keys_name(int key, char *buf, size_t size);
/* Fills OUT with the function bar: every labelled F-key binding, in key order. Returns the count. */
size_t keys_fbar(struct ui_fbar_item *out, size_t max);
/* Writes the keys bound to ACTION ("s, F6") into BUF; returns BUF, empty when none. */
const char *keys_for_action(enum ui_action action, char *buf, size_t size);
/* Returns the help sentence of ACTION (from its first binding), or NULL. */
const char *keys_action_help(enum ui_action action);
/* Returns the short label of ACTION for menus ("Stop"), never NULL. */
const char *keys_action_label(enum ui_action action);

#endif
