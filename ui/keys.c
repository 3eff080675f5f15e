/* The dashboard's key table and what is generated from it: dispatch, help lines, function bar. */
#include "ui/keys.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CTRL(c) ((c) & 0x1f)

const struct ui_key keys_table[] = {
    { KEY_F(1),      "Help",   "Show this help screen", ACTION_HELP, SCOPE_GLOBAL },
    { '?',           NULL,     "Show this help screen", ACTION_HELP, SCOPE_GLOBAL },
    { KEY_F(2),      "Run",    "Run a new instance of the selected image", ACTION_RUN, SCOPE_GLOBAL },
    { 'r',           "Run",    "Run a new instance of the selected image", ACTION_RUN, SCOPE_GLOBAL },
    { KEY_F(3),      "Filter", "Show only rows containing a text (Esc clears)", ACTION_FILTER, SCOPE_GLOBAL },
    { '/',           NULL,     "Show only rows containing a text (Esc clears)", ACTION_FILTER, SCOPE_GLOBAL },
    { KEY_F(4),      "Build",  "Build an image from a project directory", ACTION_BUILD, SCOPE_GLOBAL },
    { 'b',           NULL,     "Build an image from a project directory", ACTION_BUILD, SCOPE_GLOBAL },
    { KEY_F(5),      "Attach", "Attach to the serial console (Ctrl-] returns)", ACTION_ATTACH, SCOPE_INSTANCE },
    { 'a',           "Attach",  "Attach to the serial console (Ctrl-] returns)", ACTION_ATTACH, SCOPE_INSTANCE },
    { KEY_F(6),      "SortBy", "Sort by the next column", ACTION_SORT, SCOPE_GLOBAL },
    { 's',           NULL,     "Sort by the next column", ACTION_SORT, SCOPE_GLOBAL },
    { 'I',           NULL,     "Invert the sort order", ACTION_SORT_REVERSE, SCOPE_GLOBAL },
    { KEY_F(7),      "Stop",   "Stop the selected or marked instances (ACPI shutdown)", ACTION_STOP, SCOPE_INSTANCE },
    { 'x',           "Stop",   "Stop the selected or marked instances (ACPI shutdown)", ACTION_STOP, SCOPE_INSTANCE },
    { KEY_F(8),      "Remove", "Remove the selected or marked rows", ACTION_REMOVE, SCOPE_GLOBAL },
    { KEY_DC,        "Remove", "Remove the selected or marked rows", ACTION_REMOVE, SCOPE_GLOBAL },
    { KEY_F(9),      "Kill",   "Kill the selected or marked instances at once", ACTION_KILL, SCOPE_INSTANCE },
    { 'k',           "Kill",   "Kill the selected or marked instances at once", ACTION_KILL, SCOPE_INSTANCE },
    { KEY_F(10),     "Quit",   "Quit the dashboard", ACTION_QUIT, SCOPE_GLOBAL },
    { 'q',           NULL,     "Quit the dashboard", ACTION_QUIT, SCOPE_GLOBAL },
    { '\n',          "Menu",   "Open the action menu of the selected row", ACTION_MENU, SCOPE_GLOBAL },
    { KEY_ENTER,     NULL,     "Open the action menu of the selected row", ACTION_MENU, SCOPE_GLOBAL },
    { KEY_UP,        NULL,     "Move the selection up", ACTION_UP, SCOPE_GLOBAL },
    { KEY_DOWN,      NULL,     "Move the selection down", ACTION_DOWN, SCOPE_GLOBAL },
    { KEY_PPAGE,     NULL,     "Move the selection one page up", ACTION_PAGE_UP, SCOPE_GLOBAL },
    { KEY_NPAGE,     NULL,     "Move the selection one page down", ACTION_PAGE_DOWN, SCOPE_GLOBAL },
    { KEY_HOME,      NULL,     "Select the first row", ACTION_HOME, SCOPE_GLOBAL },
    { KEY_END,       NULL,     "Select the last row", ACTION_END, SCOPE_GLOBAL },
    { '\t',          NULL,     "Move the focus to the next pane: instances, images, details", ACTION_NEXT_PANE, SCOPE_GLOBAL },
    { ' ',           NULL,     "Mark or unmark the selected row", ACTION_MARK, SCOPE_GLOBAL },
    { 't',           NULL,     "Switch to the next colour theme", ACTION_THEME, SCOPE_GLOBAL },
    { 'd',           NULL,     "Change the refresh delay", ACTION_DELAY, SCOPE_GLOBAL },
    { 'l',           "Logs",   "Show the whole console log of the instance", ACTION_LOGS, SCOPE_INSTANCE },
    { 'i',           "Inspect", "Show every field of the selected row", ACTION_INSPECT, SCOPE_GLOBAL },
    { 'f',           "Files",  "List the files inside the selected image", ACTION_FILES, SCOPE_IMAGE },
    { 'u',           "Start",  "Start the selected or marked instances", ACTION_START, SCOPE_INSTANCE },
    { 'R',           "Restart", "Restart the selected or marked instances", ACTION_RESTART, SCOPE_INSTANCE },
    { 'c',           NULL,     "Show the console or the details of the selection", ACTION_CONSOLE_PANE, SCOPE_GLOBAL },
    { CTRL('l'),     NULL,     "Redraw the whole screen", ACTION_REDRAW, SCOPE_GLOBAL },
};

const size_t keys_count = ARRAY_SIZE(keys_table);

enum ui_action keys_lookup(int key, enum ui_key_scope scope)
{
    for (size_t i = 0; i < keys_count; i++) {
        const struct ui_key *k = &keys_table[i];

        if (k->key == key && (k->scope == SCOPE_GLOBAL || k->scope == scope))
            return k->action;
    }
    return ACTION_NONE;
}

const char *keys_name(int key, char *buf, size_t size)
{
    if (key >= KEY_F(1) && key <= KEY_F(24))
        snprintf(buf, size, "F%d", key - KEY_F(0));
    else if (key == '\n' || key == KEY_ENTER)
        snprintf(buf, size, "Enter");
    else if (key == ' ')
        snprintf(buf, size, "Space");
    else if (key == '\t')
        snprintf(buf, size, "Tab");
    else if (key == KEY_UP)
        snprintf(buf, size, "Up");
    else if (key == KEY_DOWN)
        snprintf(buf, size, "Down");
    else if (key == KEY_PPAGE)
        snprintf(buf, size, "PgUp");
    else if (key == KEY_NPAGE)
        snprintf(buf, size, "PgDn");
    else if (key == KEY_HOME)
        snprintf(buf, size, "Home");
    else if (key == KEY_END)
        snprintf(buf, size, "End");
    else if (key == KEY_DC)
        snprintf(buf, size, "Del");
    else if (key > 0 && key < 0x20)
        snprintf(buf, size, "^%c", key + '@');
    else if (key > 0x20 && key < 0x7f)
        snprintf(buf, size, "%c", key);
    else
        snprintf(buf, size, "#%d", key);
    return buf;
}

static int compare_fbar(const void *a, const void *b)
{
    const struct ui_fbar_item *x = a, *y = b;
    int nx = 0, ny = 0;

    sscanf(x->key, "F%d", &nx);
    sscanf(y->key, "F%d", &ny);
    return nx - ny;
}

size_t keys_fbar(struct ui_fbar_item *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < keys_count && n < max; i++) {
        const struct ui_key *k = &keys_table[i];

        if (!k->label || k->key < KEY_F(1) || k->key > KEY_F(24))
            continue;
        keys_name(k->key, out[n].key, sizeof(out[n].key));
        out[n].label = k->label;
        out[n].action = k->action;
        n++;
    }
    qsort(out, n, sizeof(*out), compare_fbar);
    return n;
}

const char *keys_for_action(enum ui_action action, char *buf, size_t size)
{
    size_t used = 0;
    char name[16];

    if (size > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < keys_count; i++) {
        if (keys_table[i].action != action)
            continue;
        keys_name(keys_table[i].key, name, sizeof(name));
        if (used > 0 && strstr(buf, name) != NULL && strcmp(name, "Enter") == 0)
            continue; /* '\n' and KEY_ENTER are one key to the user */
        int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

const char *keys_action_help(enum ui_action action)
{
    for (size_t i = 0; i < keys_count; i++)
        if (keys_table[i].action == action)
            return keys_table[i].help;
    return NULL;
}

const char *keys_action_label(enum ui_action action)
{
    for (size_t i = 0; i < keys_count; i++)
        if (keys_table[i].action == action && keys_table[i].label)
            return keys_table[i].label;
    return "?";
}
