/* Colour themes: the colour roles the drawing code uses, and the YAML files in themes/ read with libyaml. */
#ifndef KILN_UI_THEME_H
#define KILN_UI_THEME_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Colour roles of the screen's parts. Drawing code names only these roles, never colours. */
enum theme_role {
    ROLE_NORMAL,
    ROLE_HEADER,
    ROLE_TITLE,      /* table column titles and pane titles */
    ROLE_SELECTED,
    ROLE_MARKED,
    ROLE_RUNNING,
    ROLE_EXITED,
    ROLE_CRASHED,
    ROLE_PAUSED,
    ROLE_WARNING,
    ROLE_ERROR,
    ROLE_GRAPH,
    ROLE_BORDER,
    ROLE_STATUS,
    ROLE_KEY,        /* the key names of the function bar */
    ROLE_KEY_LABEL,  /* the words next to them */
    ROLE_DIALOG,
    ROLE_INPUT,
    ROLE_DIM,
    ROLE_LAST
};

#define THEME_COLOR_DEFAULT (-1)

/* Attribute bits of a style, mapped to curses attributes when drawing. */
enum {
    THEME_BOLD = 1 << 0,
    THEME_DIM = 1 << 1,
    THEME_UNDERLINE = 1 << 2,
    THEME_REVERSE = 1 << 3,
    THEME_ITALIC = 1 << 4,
    THEME_BLINK = 1 << 5,
};

struct theme_style {
    short fg, bg;      /* 0..255 or THEME_COLOR_DEFAULT */
    unsigned attrs;    /* THEME_* bits */
};

struct theme {
    char name[64];
    bool monochrome;   /* draws with attributes only */
    struct theme_style roles[ROLE_LAST];
};

/* Returns the YAML key of ROLE ("selected"). */
const char *theme_role_name(enum theme_role role);
/* Fills T with the built-in dark theme, used when no file can be read. */
void theme_builtin(struct theme *t);
/* Fills T with the built-in monochrome theme (NO_COLOR, terminals without colour). */
void theme_builtin_monochrome(struct theme *t);

/*
 * Parses the YAML TEXT of a theme file named PATH (used in messages) into T.
 * Roles the file leaves out keep the built-in theme's style. Returns -1 with
 * "PATH:LINE:COLUMN: ..." in the error record for invalid YAML, an unknown
 * role, colour or attribute.
 */
int theme_parse(const char *path, const char *text, size_t len, struct theme *t);
/* Reads and parses the theme file PATH. */
int theme_load_file(const char *path, struct theme *t);

/* Fills DIRS with the theme directories, in search order. */
void theme_search_path(struct strv *dirs);
/* Returns DIR canonicalized for display: its realpath, or its resolved parent and name when DIR is missing. */
char *theme_dir_canonical(const char *dir);
/* Returns the path of theme NAME (a name or a path containing '/'); caller frees. NULL when not found. */
char *theme_find(const char *name);
/* Fills NAMES with the themes found along the search path, sorted, each once. */
void theme_list(struct strv *names);

#endif
