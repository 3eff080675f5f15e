/* Reads kiln.yaml with libyaml's document API, checks every key and fills struct manifest. */
#include "manifest.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "image.h"

#define MANIFEST_FILE "kiln.yaml"
#define MODULE_NAME_MAX_LEN 64
#define DEFAULT_MEMORY_MIB 128
#define DEFAULT_CPUS 1
#define MAX_CPUS 64
#define DEFAULT_KERNEL "debian-cloud"
#define DEFAULT_WORKDIR "/"
/* Maximum number of characters of a value quoted in a message. */
#define QUOTE_MAX 40

/* One load in progress: the file name that prefixes messages, the document and the result. */
struct loader {
    const char *file;
    yaml_document_t *doc;
    struct manifest *m;
};

static const char *const kind_names[] = {
    [KIND_C] = "c",
    [KIND_BINARY] = "binary",
    [KIND_PYTHON] = "python",
    [KIND_NODE] = "node",
    [KIND_SHELL] = "shell",
};

/* Top-level keys, in the order they are checked: name and kind first because
 * other keys depend on the kind, kernel before modules. */
enum top_key {
    KEY_NAME,
    KEY_KIND,
    KEY_SOURCES,
    KEY_CFLAGS,
    KEY_BUILD,
    KEY_ENTRYPOINT,
    KEY_ARGS,
    KEY_ENV,
    KEY_WORKDIR,
    KEY_FILES,
    KEY_MEMORY,
    KEY_CPUS,
    KEY_PORTS,
    KEY_KERNEL,
    KEY_MODULES,
    KEY_KERNEL_MODULES,
    KEY_COUNT,
};

static const char *const top_keys[KEY_COUNT] = {
    [KEY_NAME] = "name",
    [KEY_KIND] = "kind",
    [KEY_SOURCES] = "sources",
    [KEY_CFLAGS] = "cflags",
    [KEY_BUILD] = "build",
    [KEY_ENTRYPOINT] = "entrypoint",
    [KEY_ARGS] = "args",
    [KEY_ENV] = "env",
    [KEY_WORKDIR] = "workdir",
    [KEY_FILES] = "files",
    [KEY_MEMORY] = "memory",
    [KEY_CPUS] = "cpus",
    [KEY_PORTS] = "ports",
    [KEY_KERNEL] = "kernel",
    [KEY_MODULES] = "modules",
    [KEY_KERNEL_MODULES] = "kernel_modules",
};

enum file_key { FILE_KEY_SRC, FILE_KEY_DEST, FILE_KEY_COUNT };

static const char *const file_keys[FILE_KEY_COUNT] = {
    [FILE_KEY_SRC] = "src",
    [FILE_KEY_DEST] = "dest",
};

const char *manifest_kind_name(enum manifest_kind kind)
{
    if ((size_t)kind < ARRAY_SIZE(kind_names) && kind_names[kind])
        return kind_names[kind];
    return "unknown";
}

/* ---- messages ---- */

static int fail_at(const struct loader *ld, yaml_mark_t mark, const char *fmt, ...) KILN_PRINTF(3, 4);

/* Sets the usage error "FILE:LINE:COLUMN: MESSAGE". libyaml marks count from 0, messages from 1. */
static int fail_at(const struct loader *ld, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set("%s:%zu:%zu: %s", ld->file, mark.line + 1, mark.column + 1, msg);
    err_set_usage();
    return -1;
}

static bool scalar_is_null(const yaml_node_t *node)
{
    const char *v;

    if (node->type != YAML_SCALAR_NODE)
        return false;
    if (node->tag && strcmp((const char *)node->tag, YAML_NULL_TAG) == 0)
        return true;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    v = (const char *)node->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

/* Writes the LEN bytes of TEXT in single quotes into BUF, keeping the message on one
 * line: at most QUOTE_MAX characters, then "...", with control characters shown as '?'. */
static const char *quote_text(const char *text, size_t len, char *buf, size_t size)
{
    size_t n = 0;

    buf[n++] = '\'';
    for (size_t i = 0; i < len && i < QUOTE_MAX && n + 6 < size; i++)
        buf[n++] = iscntrl((unsigned char)text[i]) ? '?' : text[i];
    if (len > QUOTE_MAX && n + 6 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

/* Writes what NODE is, for the "got ..." part of a message: a quoted scalar, "null",
 * "a list" or "a mapping". */
static const char *node_describe(const yaml_node_t *node, char *buf, size_t size)
{
    if (node->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (node->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (node->type != YAML_SCALAR_NODE)
        return "nothing";
    if (scalar_is_null(node))
        return "null";
    return quote_text((const char *)node->data.scalar.value, node->data.scalar.length, buf, size);
}

/* Sets "KEY: expected EXPECTED, got VALUE" at NODE. */
static int fail_expected(const struct loader *ld, const yaml_node_t *node, const char *key,
                         const char *expected)
{
    char got[QUOTE_MAX + 16];

    return fail_at(ld, node->start_mark, "%s: expected %s, got %s", key, expected,
                   node_describe(node, got, sizeof(got)));
}

/* ---- suggestions for misspelled keys ---- */

/* Optimal string alignment distance (Damerau-Levenshtein where a transposition is one
 * edit), ignoring case. Returns SIZE_MAX for strings too long to be a key. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAX = 32 };
    size_t d[MAX + 1][MAX + 1];
    size_t la = strlen(a), lb = strlen(b);

    if (la > MAX || lb > MAX)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;

    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca != cb;
            size_t best = d[i - 1][j - 1] + cost;

            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* Returns the valid key closest to KEY, or NULL when none is close enough to be a
 * likely typo: one edit for keys of up to 3 characters, two edits for longer ones. */
static const char *key_suggest(const char *key, const char *const *names, size_t n)
{
    size_t limit = strlen(key) <= 3 ? 1 : 2;
    size_t best = SIZE_MAX;
    const char *found = NULL;

    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(key, names[i]);

        if (dist <= limit && dist < best) {
            best = dist;
            found = names[i];
        }
    }
    return found;
}

static int fail_unknown_key(const struct loader *ld, const yaml_node_t *key_node,
                            const char *context, const char *const *names, size_t n)
{
    const char *key = (const char *)key_node->data.scalar.value;
    const char *suggestion = key_suggest(key, names, n);
    char valid[256] = "", quoted[QUOTE_MAX + 16];
    size_t used = 0;

    node_describe(key_node, quoted, sizeof(quoted));
    if (suggestion)
        return fail_at(ld, key_node->start_mark, "%s%sunknown key %s; did you mean '%s'?",
                       context ? context : "", context ? ": " : "", quoted, suggestion);

    for (size_t i = 0; i < n && used < sizeof(valid); i++)
        used += (size_t)snprintf(valid + used, sizeof(valid) - used, "%s%s", i ? ", " : "",
                                 names[i]);
    return fail_at(ld, key_node->start_mark, "%s%sunknown key %s; valid keys are %s",
                   context ? context : "", context ? ": " : "", quoted, valid);
}

/* ---- scalar and path checks ---- */

/* Stores the text of scalar NODE in *OUT (owned by the caller). Rejects lists,
 * mappings, null and text containing a NUL byte (possible with "\0" in YAML). */
static int scalar_string(const struct loader *ld, const yaml_node_t *node, const char *key,
                         const char *expected, char **out)
{
    const char *value;

    if (node->type != YAML_SCALAR_NODE || scalar_is_null(node))
        return fail_expected(ld, node, key, expected);
    value = (const char *)node->data.scalar.value;
    if (strlen(value) != node->data.scalar.length)
        return fail_at(ld, node->start_mark, "%s: expected %s, got a value containing a NUL byte",
                       key, expected);
    *out = xstrdup(value);
    return 0;
}

static bool path_has_dotdot(const char *path)
{
    const char *p = path;

    while (*p) {
        size_t n = strcspn(p, "/");

        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n;
        while (*p == '/')
            p++;
    }
    return false;
}

/* A host path inside the project: relative, not empty, without a ".." component.
 * The builder resolves symbolic links and checks the result stays in the project. */
static int check_project_path(const struct loader *ld, const yaml_node_t *node, const char *key,
                              const char *value)
{
    if (!*value || value[0] == '/')
        return fail_expected(ld, node, key, "a path relative to the project directory");
    if (path_has_dotdot(value))
        return fail_expected(ld, node, key,
                             "a path without '..' components (files must be inside the project "
                             "directory)");
    return 0;
}

/* A path inside the image: absolute and without "..", so joining it to the image
 * root cannot leave it. */
static int check_image_path(const struct loader *ld, const yaml_node_t *node, const char *key,
                            const char *value)
{
    if (value[0] != '/')
        return fail_expected(ld, node, key, "an absolute path inside the image, such as /app");
    if (path_has_dotdot(value))
        return fail_expected(ld, node, key, "an absolute path without '..' components");
    return 0;
}

static int check_not_empty(const struct loader *ld, const yaml_node_t *node, const char *key,
                           const char *value)
{
    if (!*value)
        return fail_expected(ld, node, key, "a non-empty string");
    return 0;
}

static int check_module_name(const struct loader *ld, const yaml_node_t *node, const char *key,
                             const char *value)
{
    size_t len = strlen(value);

    if (len == 0 || len > MODULE_NAME_MAX_LEN || strspn(value,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
        return fail_expected(ld, node, key,
                             "a kernel module name (letters, digits, '_' and '-', no .ko suffix)");
    return 0;
}

static bool env_name_valid(const char *name, size_t len)
{
    if (len == 0 || isdigit((unsigned char)name[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return false;
    return true;
}

/* ---- mappings and lists ---- */

/* Matches the keys of MAPPING against NAMES and stores each key and value node at the
 * key's index (NULL when absent). Rejects non-scalar, unknown and duplicate keys.
 * CONTEXT names the mapping in messages ("files[0]"), NULL for the top level. */
static int mapping_collect(const struct loader *ld, const yaml_node_t *mapping,
                           const char *const *names, size_t n, const char *context,
                           yaml_node_t **keys, yaml_node_t **values)
{
    const char *prefix = context ? context : "", *sep = context ? ": " : "";

    for (size_t i = 0; i < n; i++)
        keys[i] = values[i] = NULL;

    for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(ld->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(ld->doc, pair->value);
        char got[QUOTE_MAX + 16];
        size_t i;

        if (key->type != YAML_SCALAR_NODE || scalar_is_null(key))
            return fail_at(ld, key->start_mark, "%s%sexpected a key name, got %s", prefix, sep,
                           node_describe(key, got, sizeof(got)));
        for (i = 0; i < n; i++)
            if (strcmp((const char *)key->data.scalar.value, names[i]) == 0)
                break;
        if (i == n)
            return fail_unknown_key(ld, key, context, names, n);
        if (keys[i])
            return fail_at(ld, key->start_mark, "%s%sduplicate key '%s' (first set on line %zu); "
                           "remove one of them", prefix, sep, names[i],
                           keys[i]->start_mark.line + 1);
        keys[i] = key;
        values[i] = value;
    }
    return 0;
}

typedef int (*item_check_fn)(const struct loader *ld, const yaml_node_t *node, const char *key,
                             const char *value);

/* Appends the strings of list NODE to OUT, running CHECK (may be NULL) on each. */
static int parse_string_list(const struct loader *ld, const yaml_node_t *node, const char *key,
                             const char *expected, struct strv *out, item_check_fn check)
{
    size_t index = 0;

    if (node->type != YAML_SEQUENCE_NODE)
        return fail_expected(ld, node, key, expected);

    for (yaml_node_item_t *it = node->data.sequence.items.start;
         it < node->data.sequence.items.top; it++, index++) {
        yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
        char item_key[64];
        char *value;

        snprintf(item_key, sizeof(item_key), "%s[%zu]", key, index);
        if (scalar_string(ld, item, item_key, "a string", &value) < 0)
            return -1;
        strv_push_owned(out, value);
        if (check && check(ld, item, item_key, value) < 0)
            return -1;
    }
    return 0;
}

/* ---- one function per key ---- */

static int parse_name(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "an image name (lower case letters, digits, '.', '_' and '-', "
                           "starting with a letter or digit, at most 64 characters)";

    if (scalar_string(ld, value, "name", expected, &ld->m->name) < 0)
        return -1;
    if (!image_name_valid(ld->m->name))
        return fail_expected(ld, value, "name", expected);
    return 0;
}

static int parse_kind(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "one of c, binary, python, node, shell";
    char *text;

    if (scalar_string(ld, value, "kind", expected, &text) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++) {
        if (strcmp(text, kind_names[i]) == 0) {
            ld->m->kind = (enum manifest_kind)i;
            free(text);
            return 0;
        }
    }
    free(text);
    return fail_expected(ld, value, "kind", expected);
}

static int require_kind_c(struct loader *ld, const yaml_node_t *key, const char *name)
{
    if (ld->m->kind == KIND_C)
        return 0;
    return fail_at(ld, key->start_mark, "%s: only used with kind c, but kind is %s; remove it",
                   name, manifest_kind_name(ld->m->kind));
}

static int parse_sources(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    if (require_kind_c(ld, key, "sources") < 0)
        return -1;
    return parse_string_list(ld, value, "sources", "a list of source files, such as [hello.c]",
                             &ld->m->sources, check_project_path);
}

static int parse_cflags(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    if (require_kind_c(ld, key, "cflags") < 0)
        return -1;
    return parse_string_list(ld, value, "cflags", "a list of compiler flags, such as [-O2]",
                             &ld->m->cflags, check_not_empty);
}

static int parse_build(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "a command as a list of arguments, such as [make, all], "
                           "or as a string run by /bin/sh -c";

    if (value->type == YAML_SEQUENCE_NODE) {
        if (value->data.sequence.items.start == value->data.sequence.items.top)
            return fail_expected(ld, value, "build", expected);
        if (parse_string_list(ld, value, "build", expected, &ld->m->build, NULL) < 0)
            return -1;
        return check_not_empty(ld, yaml_document_get_node(ld->doc, value->data.sequence.items.start[0]),
                               "build[0]", ld->m->build.items[0]);
    }
    if (scalar_string(ld, value, "build", expected, &ld->m->build_shell) < 0)
        return -1;
    if (!*ld->m->build_shell)
        return fail_expected(ld, value, "build", expected);
    return 0;
}

static int parse_entrypoint(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    char **entry = &ld->m->entrypoint;

    switch (ld->m->kind) {
    case KIND_C:
        if (scalar_string(ld, value, "entrypoint", "a file name", entry) < 0)
            return -1;
        if (!**entry || strchr(*entry, '/') || strcmp(*entry, ".") == 0 ||
            strcmp(*entry, "..") == 0)
            return fail_expected(ld, value, "entrypoint",
                                 "a file name without '/' for the compiled program");
        return 0;
    case KIND_BINARY:
        if (scalar_string(ld, value, "entrypoint", "the path of an ELF program", entry) < 0)
            return -1;
        if (!**entry || path_has_dotdot(*entry))
            return fail_expected(ld, value, "entrypoint",
                                 "the path of an ELF program, absolute or relative to the "
                                 "project directory, without '..' components");
        return 0;
    default:
        if (scalar_string(ld, value, "entrypoint", "the path of a script", entry) < 0)
            return -1;
        return check_project_path(ld, value, "entrypoint", *entry);
    }
}

static int parse_args(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    return parse_string_list(ld, value, "args", "a list of arguments, such as [--port, \"8080\"]",
                             &ld->m->args, NULL);
}

static bool env_contains(const struct strv *env, const char *name, size_t len)
{
    for (size_t i = 0; i < env->len; i++)
        if (strncmp(env->items[i], name, len) == 0 && env->items[i][len] == '=')
            return true;
    return false;
}

/* Adds NAME=VALUE to the environment, rejecting invalid and repeated names. */
static int env_add(struct loader *ld, const yaml_node_t *node, const char *key, const char *name,
                   size_t name_len, const char *value)
{
    char quoted[QUOTE_MAX + 16];

    if (!env_name_valid(name, name_len))
        return fail_at(ld, node->start_mark,
                       "%s: expected a variable name (letters, digits and '_', not starting "
                       "with a digit), got %s", key, quote_text(name, name_len, quoted, sizeof(quoted)));
    if (env_contains(&ld->m->env, name, name_len))
        return fail_at(ld, node->start_mark, "%s: variable '%.*s' is set twice; remove one", key,
                       (int)name_len, name);
    strv_push_owned(&ld->m->env, xasprintf("%.*s=%s", (int)name_len, name, value));
    return 0;
}

static int parse_env_mapping(struct loader *ld, const yaml_node_t *value)
{
    for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
         pair < value->data.mapping.pairs.top; pair++) {
        yaml_node_t *name_node = yaml_document_get_node(ld->doc, pair->key);
        yaml_node_t *value_node = yaml_document_get_node(ld->doc, pair->value);
        char *name = NULL, *text = NULL;
        char key[QUOTE_MAX + 16];
        int rc;

        if (scalar_string(ld, name_node, "env", "a variable name", &name) < 0)
            return -1;
        snprintf(key, sizeof(key), "env.%.*s", QUOTE_MAX, name);
        rc = scalar_string(ld, value_node, key, "a string (write \"\" for an empty value)", &text);
        if (rc == 0)
            rc = env_add(ld, name_node, "env", name, strlen(name), text);
        free(name);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int parse_env_list(struct loader *ld, const yaml_node_t *value)
{
    size_t index = 0;

    for (yaml_node_item_t *it = value->data.sequence.items.start;
         it < value->data.sequence.items.top; it++, index++) {
        yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
        char key[32];
        char *text, *eq;
        int rc;

        snprintf(key, sizeof(key), "env[%zu]", index);
        if (scalar_string(ld, item, key, "a string KEY=VALUE", &text) < 0)
            return -1;
        eq = strchr(text, '=');
        if (!eq) {
            free(text);
            return fail_expected(ld, item, key, "a string KEY=VALUE");
        }
        rc = env_add(ld, item, key, text, (size_t)(eq - text), eq + 1);
        free(text);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int parse_env(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    if (value->type == YAML_MAPPING_NODE)
        return parse_env_mapping(ld, value);
    if (value->type == YAML_SEQUENCE_NODE)
        return parse_env_list(ld, value);
    return fail_expected(ld, value, "env",
                         "a mapping of variables to strings, or a list of KEY=VALUE strings");
}

static int parse_workdir(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    if (scalar_string(ld, value, "workdir", "an absolute path inside the image", &ld->m->workdir) < 0)
        return -1;
    return check_image_path(ld, value, "workdir", ld->m->workdir);
}

/* Reads one files entry, either "SRC:DEST" (split at the first ':') or {src, dest}. */
static int parse_file_entry(struct loader *ld, const yaml_node_t *item, const char *context,
                            struct manifest_file *file)
{
    const char *expected = "'SRC:DEST' or a mapping with src and dest";
    yaml_node_t *keys[FILE_KEY_COUNT], *values[FILE_KEY_COUNT];
    char src_key[64], dest_key[64];
    char *text, *colon;

    if (item->type == YAML_SCALAR_NODE) {
        if (scalar_string(ld, item, context, expected, &text) < 0)
            return -1;
        colon = strchr(text, ':');
        if (!colon) {
            free(text);
            return fail_expected(ld, item, context, expected);
        }
        file->src = xstrndup(text, (size_t)(colon - text));
        file->dest = xstrdup(colon + 1);
        free(text);
        if (check_project_path(ld, item, context, file->src) < 0)
            return -1;
        return check_image_path(ld, item, context, file->dest);
    }
    if (item->type != YAML_MAPPING_NODE)
        return fail_expected(ld, item, context, expected);

    if (mapping_collect(ld, item, file_keys, FILE_KEY_COUNT, context, keys, values) < 0)
        return -1;
    for (size_t i = 0; i < FILE_KEY_COUNT; i++)
        if (!keys[i])
            return fail_at(ld, item->start_mark, "%s: missing required key '%s'", context,
                           file_keys[i]);
    snprintf(src_key, sizeof(src_key), "%s.src", context);
    snprintf(dest_key, sizeof(dest_key), "%s.dest", context);
    if (scalar_string(ld, values[FILE_KEY_SRC], src_key, "a path relative to the project directory",
                      &file->src) < 0)
        return -1;
    if (check_project_path(ld, values[FILE_KEY_SRC], src_key, file->src) < 0)
        return -1;
    if (scalar_string(ld, values[FILE_KEY_DEST], dest_key, "an absolute path inside the image",
                      &file->dest) < 0)
        return -1;
    return check_image_path(ld, values[FILE_KEY_DEST], dest_key, file->dest);
}

static int parse_files(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    struct manifest *m = ld->m;
    size_t count;

    if (value->type != YAML_SEQUENCE_NODE)
        return fail_expected(ld, value, "files",
                             "a list of 'SRC:DEST' strings or mappings with src and dest");
    count = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
    m->files = xcalloc(count ? count : 1, sizeof(*m->files));

    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(ld->doc, value->data.sequence.items.start[i]);
        char context[32];

        snprintf(context, sizeof(context), "files[%zu]", i);
        m->n_files = i + 1;
        if (parse_file_entry(ld, item, context, &m->files[i]) < 0)
            return -1;
    }
    return 0;
}

static int parse_memory(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "a size in MiB, or with a unit such as 512M or 1G, at most 1T";
    char *text;

    if (scalar_string(ld, value, "memory", expected, &text) < 0)
        return -1;
    ld->m->memory_mib = parse_mib(text);
    free(text);
    if (ld->m->memory_mib < 0 || ld->m->memory_mib > 1024LL * 1024)
        return fail_expected(ld, value, "memory", expected);
    return 0;
}

static int parse_cpus(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "an integer from 1 to 64";
    long long cpus;
    char *text;
    int rc;

    if (scalar_string(ld, value, "cpus", expected, &text) < 0)
        return -1;
    rc = parse_int(text, 1, MAX_CPUS, &cpus);
    free(text);
    if (rc < 0)
        return fail_expected(ld, value, "cpus", expected);
    ld->m->cpus = (int)cpus;
    return 0;
}

/* Parses "PORT", "PORT/tcp" or "PORT/udp" (protocol in any case) into PORT. */
static int port_parse(const char *text, struct manifest_port *port)
{
    const char *slash = strchr(text, '/');
    char number[16];
    long long value;

    if (!slash) {
        snprintf(port->proto, sizeof(port->proto), "tcp");
        slash = text + strlen(text);
    } else if (strcasecmp(slash + 1, "tcp") == 0 || strcasecmp(slash + 1, "udp") == 0) {
        for (size_t i = 0; i < 3; i++)
            port->proto[i] = (char)tolower((unsigned char)slash[1 + i]);
        port->proto[3] = '\0';
    } else {
        return -1;
    }
    if ((size_t)(slash - text) >= sizeof(number))
        return -1;
    memcpy(number, text, (size_t)(slash - text));
    number[slash - text] = '\0';
    if (!isdigit((unsigned char)number[0]) || parse_int(number, 1, 65535, &value) < 0)
        return -1;
    port->port = (int)value;
    return 0;
}

static int parse_ports(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "a port from 1 to 65535, optionally followed by /tcp or /udp";
    struct manifest *m = ld->m;
    size_t count;

    if (value->type != YAML_SEQUENCE_NODE)
        return fail_expected(ld, value, "ports", "a list of ports, such as [80, \"53/udp\"]");
    count = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
    m->ports = xcalloc(count ? count : 1, sizeof(*m->ports));

    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(ld->doc, value->data.sequence.items.start[i]);
        struct manifest_port *port = &m->ports[i];
        char item_key[32];
        char *text;
        int rc;

        snprintf(item_key, sizeof(item_key), "ports[%zu]", i);
        if (scalar_string(ld, item, item_key, expected, &text) < 0)
            return -1;
        rc = port_parse(text, port);
        free(text);
        if (rc < 0)
            return fail_expected(ld, item, item_key, expected);
        for (size_t j = 0; j < i; j++)
            if (m->ports[j].port == port->port && strcmp(m->ports[j].proto, port->proto) == 0)
                return fail_at(ld, item->start_mark, "%s: port %d/%s is listed twice; remove one",
                               item_key, port->port, port->proto);
        m->n_ports = i + 1;
    }
    return 0;
}

/* Joins a relative host path to the project directory, so it does not depend on
 * the directory kiln was started from. */
static void project_relative_to_absolute(const struct manifest *m, char **path)
{
    char *joined;

    if ((*path)[0] == '/')
        return;
    joined = path_join(m->dir, *path);
    free(*path);
    *path = joined;
}

static int parse_kernel(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    const char *expected = "'debian-cloud' or the path of a vmlinuz file (with a '/', such as "
                           "./vmlinuz)";

    if (scalar_string(ld, value, "kernel", expected, &ld->m->kernel) < 0)
        return -1;
    if (strcmp(ld->m->kernel, DEFAULT_KERNEL) != 0 && !strchr(ld->m->kernel, '/'))
        return fail_expected(ld, value, "kernel", expected);
    project_relative_to_absolute(ld->m, &ld->m->kernel);
    return 0;
}

static int parse_modules(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    if (!ld->m->kernel || strcmp(ld->m->kernel, DEFAULT_KERNEL) == 0)
        return fail_at(ld, key->start_mark, "modules: only used with a custom kernel path; set "
                       "kernel to your vmlinuz or remove modules");
    if (scalar_string(ld, value, "modules", "the path of a lib/modules/VERSION directory",
                      &ld->m->modules) < 0)
        return -1;
    if (check_not_empty(ld, value, "modules", ld->m->modules) < 0)
        return -1;
    project_relative_to_absolute(ld->m, &ld->m->modules);
    return 0;
}

static int parse_kernel_modules(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value)
{
    return parse_string_list(ld, value, "kernel_modules",
                             "a list of kernel module names, such as [virtio_rng]",
                             &ld->m->kernel_modules, check_module_name);
}

typedef int (*key_parse_fn)(struct loader *ld, const yaml_node_t *key, const yaml_node_t *value);

static const key_parse_fn key_parsers[KEY_COUNT] = {
    [KEY_NAME] = parse_name,
    [KEY_KIND] = parse_kind,
    [KEY_SOURCES] = parse_sources,
    [KEY_CFLAGS] = parse_cflags,
    [KEY_BUILD] = parse_build,
    [KEY_ENTRYPOINT] = parse_entrypoint,
    [KEY_ARGS] = parse_args,
    [KEY_ENV] = parse_env,
    [KEY_WORKDIR] = parse_workdir,
    [KEY_FILES] = parse_files,
    [KEY_MEMORY] = parse_memory,
    [KEY_CPUS] = parse_cpus,
    [KEY_PORTS] = parse_ports,
    [KEY_KERNEL] = parse_kernel,
    [KEY_MODULES] = parse_modules,
    [KEY_KERNEL_MODULES] = parse_kernel_modules,
};

/* ---- the document ---- */

/* Checks the root mapping key by key, then fills in defaults and the rules that
 * involve several keys. */
static int manifest_fill(struct loader *ld, const yaml_node_t *root)
{
    yaml_node_t *keys[KEY_COUNT], *values[KEY_COUNT];
    struct manifest *m = ld->m;
    char got[QUOTE_MAX + 16];

    if (root->type != YAML_MAPPING_NODE)
        return fail_at(ld, root->start_mark,
                       "expected a mapping of keys such as 'name: hello', got %s",
                       node_describe(root, got, sizeof(got)));
    if (mapping_collect(ld, root, top_keys, KEY_COUNT, NULL, keys, values) < 0)
        return -1;
    if (!keys[KEY_NAME])
        return fail_at(ld, root->start_mark,
                       "missing required key 'name'; add the image name, such as 'name: hello'");
    if (!keys[KEY_KIND])
        return fail_at(ld, root->start_mark,
                       "missing required key 'kind'; add one of c, binary, python, node, shell");

    for (size_t i = 0; i < KEY_COUNT; i++) {
        /* A null value ("key:" or "key: ~") leaves an optional key at its default. */
        if (!keys[i] || (i != KEY_NAME && i != KEY_KIND && scalar_is_null(values[i])))
            continue;
        if (key_parsers[i](ld, keys[i], values[i]) < 0)
            return -1;
    }

    if (m->kind == KIND_C && m->sources.len == 0 && !m->build.len && !m->build_shell)
        return fail_at(ld, root->start_mark, "missing required key 'sources'; kind c needs the "
                       "source files to compile, or a build command");
    if (m->kind != KIND_C && !m->entrypoint)
        return fail_at(ld, root->start_mark, "missing required key 'entrypoint'; kind %s needs "
                       "the path of its %s", manifest_kind_name(m->kind),
                       m->kind == KIND_BINARY ? "program" : "script");

    if (!m->entrypoint)
        m->entrypoint = xstrdup(m->name);
    if (!m->workdir)
        m->workdir = xstrdup(DEFAULT_WORKDIR);
    if (!m->kernel)
        m->kernel = xstrdup(DEFAULT_KERNEL);
    if (!m->memory_mib)
        m->memory_mib = DEFAULT_MEMORY_MIB;
    if (!m->cpus)
        m->cpus = DEFAULT_CPUS;
    return 0;
}

/* Converts a byte offset in TEXT into a libyaml mark, for reader errors that carry
 * only an offset. */
static yaml_mark_t mark_from_offset(const char *text, size_t len, size_t offset)
{
    yaml_mark_t mark = { .index = offset };

    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            mark.line++;
            mark.column = 0;
        } else {
            mark.column++;
        }
    }
    return mark;
}

static int fail_yaml(const struct loader *ld, const yaml_parser_t *parser, const char *text,
                     size_t len)
{
    yaml_mark_t mark = parser->problem_mark;

    if (parser->error == YAML_MEMORY_ERROR) {
        err_set("%s: out of memory while parsing", ld->file);
        return -1;
    }
    if (parser->error == YAML_READER_ERROR)
        mark = mark_from_offset(text, len, parser->problem_offset);
    if (parser->context)
        return fail_at(ld, mark, "invalid YAML: %s (%s)",
                       parser->problem ? parser->problem : "unknown problem", parser->context);
    return fail_at(ld, mark, "invalid YAML: %s", parser->problem ? parser->problem : "unknown problem");
}

/* Parses TEXT (LEN bytes) as one YAML document and fills LD->m. */
static int manifest_parse(struct loader *ld, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool doc_loaded = false;
    yaml_node_t *root;
    int rc = -1;

    if (!yaml_parser_initialize(&parser)) {
        err_set("%s: out of memory while parsing", ld->file);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    if (!yaml_parser_load(&parser, &doc)) {
        fail_yaml(ld, &parser, text, len);
        goto cleanup;
    }
    doc_loaded = true;
    ld->doc = &doc;

    root = yaml_document_get_root_node(&doc);
    if (!root) {
        yaml_mark_t start = { 0 };

        fail_at(ld, start, "missing required key 'name'; the file is empty, add at least "
                "'name' and 'kind'");
        goto cleanup;
    }

    /* A second document would be silently ignored, so reject it. */
    if (!yaml_parser_load(&parser, &extra)) {
        fail_yaml(ld, &parser, text, len);
        goto cleanup;
    }
    if (yaml_document_get_root_node(&extra)) {
        fail_at(ld, extra.start_mark, "only one YAML document is allowed; remove the '---' line "
                "and what follows it");
        yaml_document_delete(&extra);
        goto cleanup;
    }
    yaml_document_delete(&extra);

    rc = manifest_fill(ld, root);

cleanup:
    if (doc_loaded)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    ld->doc = NULL;
    return rc;
}

/* Finds the manifest file for PATH: PATH/kiln.yaml for a directory, else PATH itself. */
static char *manifest_locate(const char *path)
{
    char *file;

    if (path_is_dir(path)) {
        file = path_join(path, MANIFEST_FILE);
        if (!path_exists(file)) {
            err_set("%s: no " MANIFEST_FILE " found; create one (see docs/kiln-yaml.md)", path);
            err_set_usage();
            free(file);
            return NULL;
        }
        return file;
    }
    if (!path_exists(path)) {
        err_set("%s: no such file or directory; give a project directory or its " MANIFEST_FILE,
                path);
        err_set_usage();
        return NULL;
    }
    return xstrdup(path);
}

int manifest_load(const char *path, struct manifest *out)
{
    struct loader ld = { .m = out };
    char *text = NULL, *parent = NULL, *slash;
    size_t len;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    out->path = manifest_locate(path);
    if (!out->path)
        goto cleanup;
    ld.file = out->path;

    parent = xstrdup(out->path);
    slash = strrchr(parent, '/');
    if (!slash)
        strcpy(parent, ".");
    else if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    out->dir = path_real(parent);
    if (!out->dir)
        goto cleanup;

    text = file_read(out->path, &len);
    if (!text)
        goto cleanup;
    rc = manifest_parse(&ld, text, len);

cleanup:
    free(text);
    free(parent);
    if (rc < 0)
        manifest_free(out);
    return rc;
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->dir);
    free(m->name);
    strv_free(&m->sources);
    strv_free(&m->cflags);
    strv_free(&m->build);
    free(m->build_shell);
    free(m->entrypoint);
    strv_free(&m->args);
    strv_free(&m->env);
    free(m->workdir);
    for (size_t i = 0; i < m->n_files; i++) {
        free(m->files[i].src);
        free(m->files[i].dest);
    }
    free(m->files);
    free(m->ports);
    free(m->kernel);
    free(m->modules);
    strv_free(&m->kernel_modules);
    memset(m, 0, sizeof(*m));
}

/* ---- JSON ---- */

/* Returns S as a JSON string, or null when S is NULL or not UTF-8 (possible only
 * for the host paths in path and dir, since libyaml rejects invalid UTF-8). */
static json_t *json_string_or_null(const char *s)
{
    json_t *value = s ? json_string(s) : NULL;

    return value ? value : json_null();
}

static json_t *json_strv(const struct strv *v)
{
    json_t *array = json_array();

    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(array, json_string_or_null(v->items[i]));
    return array;
}

static json_t *json_env(const struct strv *env)
{
    json_t *object = json_object();

    for (size_t i = 0; i < env->len; i++) {
        const char *eq = strchr(env->items[i], '=');
        char *name = xstrndup(env->items[i], (size_t)(eq - env->items[i]));

        json_object_set_new(object, name, json_string_or_null(eq + 1));
        free(name);
    }
    return object;
}

char *manifest_to_json(const struct manifest *m)
{
    json_t *root = json_object(), *files = json_array(), *ports = json_array(), *build;
    char *text;

    for (size_t i = 0; i < m->n_files; i++)
        json_array_append_new(files, json_pack("{s:s, s:s}", "src", m->files[i].src, "dest",
                                               m->files[i].dest));
    for (size_t i = 0; i < m->n_ports; i++)
        json_array_append_new(ports, json_pack("{s:i, s:s}", "port", m->ports[i].port, "proto",
                                               m->ports[i].proto));
    if (m->build.len)
        build = json_strv(&m->build);
    else
        build = json_string_or_null(m->build_shell);

    json_object_set_new(root, "path", json_string_or_null(m->path));
    json_object_set_new(root, "dir", json_string_or_null(m->dir));
    json_object_set_new(root, "name", json_string_or_null(m->name));
    json_object_set_new(root, "kind", json_string(manifest_kind_name(m->kind)));
    json_object_set_new(root, "sources", json_strv(&m->sources));
    json_object_set_new(root, "cflags", json_strv(&m->cflags));
    json_object_set_new(root, "build", build);
    json_object_set_new(root, "entrypoint", json_string_or_null(m->entrypoint));
    json_object_set_new(root, "args", json_strv(&m->args));
    json_object_set_new(root, "env", json_env(&m->env));
    json_object_set_new(root, "workdir", json_string_or_null(m->workdir));
    json_object_set_new(root, "files", files);
    json_object_set_new(root, "memory_mib", json_integer(m->memory_mib));
    json_object_set_new(root, "cpus", json_integer(m->cpus));
    json_object_set_new(root, "ports", ports);
    json_object_set_new(root, "kernel", json_string_or_null(m->kernel));
    json_object_set_new(root, "modules", json_string_or_null(m->modules));
    json_object_set_new(root, "kernel_modules", json_strv(&m->kernel_modules));

    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        err_set("cannot encode the manifest of %s as JSON: out of memory", m->path ? m->path : "?");
    return text;
}
