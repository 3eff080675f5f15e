/* Colour themes: built-in defaults, YAML theme files (libyaml) and the theme search path. */
#include "ui/theme.h"

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

static const char *const role_names[ROLE_LAST] = {
    [ROLE_NORMAL] = "normal",     [ROLE_HEADER] = "header",       [ROLE_TITLE] = "title",
    [ROLE_SELECTED] = "selected", [ROLE_MARKED] = "marked",       [ROLE_RUNNING] = "running",
    [ROLE_EXITED] = "exited",     [ROLE_CRASHED] = "crashed",     [ROLE_PAUSED] = "paused",
    [ROLE_WARNING] = "warning",   [ROLE_ERROR] = "error",         [ROLE_GRAPH] = "graph",
    [ROLE_BORDER] = "border",     [ROLE_STATUS] = "status",       [ROLE_KEY] = "key",
    [ROLE_KEY_LABEL] = "key_label", [ROLE_DIALOG] = "dialog",     [ROLE_INPUT] = "input",
    [ROLE_DIM] = "dim",
};

static const char *const color_names[] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static const struct {
    const char *name;
    unsigned bit;
} attr_names[] = {
    { "bold", THEME_BOLD },           { "dim", THEME_DIM },       { "underline", THEME_UNDERLINE },
    { "reverse", THEME_REVERSE },     { "italic", THEME_ITALIC }, { "blink", THEME_BLINK },
};

#define COLOR_HINT "use one of black, red, green, yellow, blue, magenta, cyan, white, " \
                   "bright-NAME, default or a number 0-255"

const char *theme_role_name(enum theme_role role)
{
    return role >= 0 && role < ROLE_LAST ? role_names[role] : "?";
}

static void set_style(struct theme *t, enum theme_role role, short fg, short bg, unsigned attrs)
{
    t->roles[role].fg = fg;
    t->roles[role].bg = bg;
    t->roles[role].attrs = attrs;
}

void theme_builtin(struct theme *t)
{
    const short D = THEME_COLOR_DEFAULT;

    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "built-in");
    set_style(t, ROLE_NORMAL, D, D, 0);
    set_style(t, ROLE_HEADER, 7, 4, THEME_BOLD);
    set_style(t, ROLE_TITLE, 6, D, THEME_BOLD);
    set_style(t, ROLE_SELECTED, 0, 6, 0);
    set_style(t, ROLE_MARKED, 3, D, THEME_BOLD);
    set_style(t, ROLE_RUNNING, 2, D, 0);
    set_style(t, ROLE_EXITED, D, D, THEME_DIM);
    set_style(t, ROLE_CRASHED, 1, D, THEME_BOLD);
    set_style(t, ROLE_PAUSED, 3, D, 0);
    set_style(t, ROLE_WARNING, 3, D, THEME_BOLD);
    set_style(t, ROLE_ERROR, 7, 1, THEME_BOLD);
    set_style(t, ROLE_GRAPH, 6, D, 0);
    set_style(t, ROLE_BORDER, 4, D, 0);
    set_style(t, ROLE_STATUS, D, D, 0);
    set_style(t, ROLE_KEY, 7, 0, THEME_BOLD);
    set_style(t, ROLE_KEY_LABEL, 0, 6, 0);
    set_style(t, ROLE_DIALOG, 7, 4, 0);
    set_style(t, ROLE_INPUT, 0, 7, 0);
    set_style(t, ROLE_DIM, D, D, THEME_DIM);
}

void theme_builtin_monochrome(struct theme *t)
{
    static const unsigned attrs[ROLE_LAST] = {
        [ROLE_HEADER] = THEME_REVERSE,   [ROLE_TITLE] = THEME_BOLD,
        [ROLE_SELECTED] = THEME_REVERSE, [ROLE_MARKED] = THEME_BOLD | THEME_UNDERLINE,
        [ROLE_RUNNING] = THEME_BOLD,     [ROLE_CRASHED] = THEME_BOLD | THEME_UNDERLINE,
        [ROLE_WARNING] = THEME_BOLD,     [ROLE_ERROR] = THEME_REVERSE | THEME_BOLD,
        [ROLE_KEY] = THEME_BOLD,         [ROLE_KEY_LABEL] = THEME_REVERSE,
        [ROLE_INPUT] = THEME_UNDERLINE,  [ROLE_DIM] = THEME_DIM,
        [ROLE_EXITED] = THEME_DIM,       [ROLE_DIALOG] = 0,
    };

    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "monochrome");
    t->monochrome = true;
    for (int r = 0; r < ROLE_LAST; r++)
        set_style(t, (enum theme_role)r, THEME_COLOR_DEFAULT, THEME_COLOR_DEFAULT, attrs[r]);
}

/* ---- parsing ---- */

struct theme_parser {
    const char *path;
    yaml_document_t doc;
    struct theme *theme;
};

/* Sets the error record to "PATH:LINE:COLUMN: MESSAGE" for NODE. */
static void parse_error(const struct theme_parser *p, const yaml_node_t *node, const char *fmt, ...)
    KILN_PRINTF(3, 4);

static void parse_error(const struct theme_parser *p, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set("%s:%zu:%zu: %s", p->path, node->start_mark.line + 1, node->start_mark.column + 1, msg);
}

static const char *scalar(const yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

/* Converts a colour name or number into 0..255 or THEME_COLOR_DEFAULT; -2 when unknown. */
static int color_from_name(const char *name)
{
    long long number;

    if (strcmp(name, "default") == 0)
        return THEME_COLOR_DEFAULT;
    for (size_t i = 0; i < ARRAY_SIZE(color_names); i++) {
        if (strcmp(name, color_names[i]) == 0)
            return (int)i;
        if (strncmp(name, "bright-", 7) == 0 && strcmp(name + 7, color_names[i]) == 0)
            return (int)i + 8;
    }
    if (parse_int(name, 0, 255, &number) == 0)
        return (int)number;
    return -2;
}

static int parse_color(const struct theme_parser *p, const yaml_node_t *node, short *out)
{
    const char *name = scalar(node);
    int color;

    if (!name) {
        parse_error(p, node, "a colour must be a name or a number; " COLOR_HINT);
        return -1;
    }
    color = color_from_name(name);
    if (color == -2) {
        parse_error(p, node, "unknown colour '%s'; " COLOR_HINT, name);
        return -1;
    }
    *out = (short)color;
    return 0;
}

static int parse_attr(const struct theme_parser *p, const yaml_node_t *node, unsigned *attrs)
{
    const char *name = scalar(node);

    for (size_t i = 0; name && i < ARRAY_SIZE(attr_names); i++) {
        if (strcmp(name, attr_names[i].name) == 0) {
            *attrs |= attr_names[i].bit;
            return 0;
        }
    }
    parse_error(p, node, "unknown attribute '%s'; use bold, dim, underline, reverse, italic or blink",
                name ? name : "");
    return -1;
}

static int parse_attrs(const struct theme_parser *p, const yaml_node_t *node, unsigned *attrs)
{
    *attrs = 0;
    if (node->type == YAML_SCALAR_NODE)
        return parse_attr(p, node, attrs);
    if (node->type != YAML_SEQUENCE_NODE) {
        parse_error(p, node, "attrs must be a list such as [bold, underline]");
        return -1;
    }
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++)
        if (parse_attr(p, yaml_document_get_node((yaml_document_t *)&p->doc, *it), attrs) < 0)
            return -1;
    return 0;
}

static int parse_style(const struct theme_parser *p, const yaml_node_t *node, struct theme_style *style)
{
    if (node->type != YAML_MAPPING_NODE) {
        parse_error(p, node, "a role must be a mapping such as {fg: white, bg: blue, attrs: [bold]}");
        return -1;
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node((yaml_document_t *)&p->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node((yaml_document_t *)&p->doc, pair->value);
        const char *k = scalar(key);
        int rc;

        if (k && strcmp(k, "fg") == 0)
            rc = parse_color(p, value, &style->fg);
        else if (k && strcmp(k, "bg") == 0)
            rc = parse_color(p, value, &style->bg);
        else if (k && strcmp(k, "attrs") == 0)
            rc = parse_attrs(p, value, &style->attrs);
        else {
            parse_error(p, key, "unknown key '%s'; use fg, bg or attrs", k ? k : "");
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int find_role(const char *name)
{
    for (int r = 0; r < ROLE_LAST; r++)
        if (name && strcmp(name, role_names[r]) == 0)
            return r;
    return -1;
}

static int parse_roles(const struct theme_parser *p, const yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE) {
        parse_error(p, node, "'roles' must be a mapping from role names to styles");
        return -1;
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node((yaml_document_t *)&p->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node((yaml_document_t *)&p->doc, pair->value);
        int role = find_role(scalar(key));

        if (role < 0) {
            parse_error(p, key, "unknown role '%s'; the roles are normal, header, title, selected, "
                        "marked, running, exited, crashed, paused, warning, error, graph, border, "
                        "status, key, key_label, dialog, input and dim", scalar(key) ? scalar(key) : "");
            return -1;
        }
        if (parse_style(p, value, &p->theme->roles[role]) < 0)
            return -1;
    }
    return 0;
}

static int parse_root(const struct theme_parser *p, const yaml_node_t *root)
{
    bool have_roles = false;

    if (!root || root->type != YAML_MAPPING_NODE) {
        err_set("%s: a theme must be a mapping with a 'roles' key", p->path);
        return -1;
    }
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node((yaml_document_t *)&p->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node((yaml_document_t *)&p->doc, pair->value);
        const char *k = scalar(key);

        if (k && strcmp(k, "roles") == 0) {
            if (parse_roles(p, value) < 0)
                return -1;
            have_roles = true;
        } else if (k && (strcmp(k, "name") == 0 || strcmp(k, "description") == 0)) {
            if (strcmp(k, "name") == 0 && scalar(value))
                snprintf(p->theme->name, sizeof(p->theme->name), "%s", scalar(value));
        } else {
            parse_error(p, key, "unknown key '%s'; a theme has name, description and roles", k ? k : "");
            return -1;
        }
    }
    if (!have_roles) {
        parse_error(p, root, "the theme has no 'roles' mapping");
        return -1;
    }
    return 0;
}

int theme_parse(const char *path, const char *text, size_t len, struct theme *t)
{
    struct theme_parser p = { .path = path, .theme = t };
    yaml_parser_t parser;
    int rc = -1;
    bool have_doc = false;

    theme_builtin(t);
    if (!yaml_parser_initialize(&parser)) {
        err_set("%s: cannot start the YAML parser", path);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &p.doc)) {
        err_set("%s:%zu:%zu: invalid YAML: %s", path, parser.problem_mark.line + 1,
                parser.problem_mark.column + 1, parser.problem ? parser.problem : "syntax error");
        goto cleanup;
    }
    have_doc = true;
    if (parse_root(&p, yaml_document_get_root_node(&p.doc)) < 0)
        goto cleanup;
    rc = 0;

cleanup:
    if (have_doc)
        yaml_document_delete(&p.doc);
    yaml_parser_delete(&parser);
    if (rc < 0)
        theme_builtin(t);
    return rc;
}

int theme_load_file(const char *path, struct theme *t)
{
    size_t len;
    char *text = file_read(path, &len);
    char *copy, *base;
    int rc;

    if (!text) {
        theme_builtin(t);
        return -1;
    }
    rc = theme_parse(path, text, len, t);
    free(text);
    if (rc == 0 && strcmp(t->name, "built-in") == 0) {
        /* No name in the file: name the theme after it. */
        copy = xstrdup(path);
        base = basename(copy);
        char *dot = strrchr(base, '.');
        if (dot)
            *dot = '\0';
        snprintf(t->name, sizeof(t->name), "%s", base);
        free(copy);
    }
    return rc;
}

/* ---- search path ---- */

void theme_search_path(struct strv *dirs)
{
    const char *env = getenv("KILN_THEMES");
    char exe[PATH_MAX];
    ssize_t n;

    if (env && *env) {
        char *copy = xstrdup(env), *save = NULL;

        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
            strv_push(dirs, dir);
        free(copy);
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *dir = dirname(exe);
        /* build/kiln finds ../themes; build/asan/kiln and build/tests/x find ../../themes. */
        strv_push_owned(dirs, xasprintf("%s/../themes", dir));
        strv_push_owned(dirs, xasprintf("%s/../../themes", dir));
    }
    strv_push(dirs, KILN_DATADIR "/themes");
}

char *theme_dir_canonical(const char *dir)
{
    char *real = realpath(dir, NULL);
    char *copy, *parent, *real_parent, *shown;
    const char *base;

    if (real)
        return real;
    /* A directory that does not exist yet: resolve its parent, so "build/../themes" reads as "themes". */
    copy = xstrdup(dir);
    base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    parent = dirname(copy);
    real_parent = *base ? realpath(parent, NULL) : NULL;
    if (real_parent)
        shown = strcmp(real_parent, "/") == 0 ? xasprintf("/%s", base) : xasprintf("%s/%s", real_parent, base);
    else
        shown = xstrdup(dir);
    free(real_parent);
    free(copy);
    return shown;
}

char *theme_find(const char *name)
{
    struct strv dirs = { 0 };
    char *found = NULL;

    if (strchr(name, '/')) {
        if (path_exists(name))
            return xstrdup(name);
        err_set("theme file %s not found", name);
        return NULL;
    }
    theme_search_path(&dirs);
    for (size_t i = 0; i < dirs.len && !found; i++) {
        char *path = xasprintf("%s/%s.yaml", dirs.items[i], name);

        if (path_exists(path))
            found = path_real(path);
        free(path);
    }
    if (!found)
        err_set("theme '%s' not found; put %s.yaml in $KILN_THEMES or %s/themes", name, name,
                KILN_DATADIR);
    strv_free(&dirs);
    return found;
}

void theme_list(struct strv *names)
{
    struct strv dirs = { 0 };

    theme_search_path(&dirs);
    for (size_t i = 0; i < dirs.len; i++) {
        DIR *d = opendir(dirs.items[i]);
        struct dirent *e;

        if (!d)
            continue;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);

            if (len <= 5 || e->d_name[0] == '.' || strcmp(e->d_name + len - 5, ".yaml") != 0)
                continue;
            char *name = xstrndup(e->d_name, len - 5);
            if (strv_contains(names, name))
                free(name);
            else
                strv_push_owned(names, name);
        }
        closedir(d);
    }
    strv_sort(names);
    strv_free(&dirs);
}
