/* Image metadata: image.json read and written with jansson, and image references. */
#include "image.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_SCHEMA 1
#define IMAGE_NAME_MAX 64
#define IMAGE_TAG_MAX 64

/* ---- references ---- */

static bool name_char_valid(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool tag_char_valid(char c)
{
    return name_char_valid(c) || (c >= 'A' && c <= 'Z');
}

static bool alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool image_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > IMAGE_NAME_MAX || !alnum_lower(name[0]) || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char_valid(name[i]))
            return false;
    return true;
}

/* A tag becomes a directory name, so it may not start with '.' or '-' (no ".", ".." or option-like names). */
bool image_tag_valid(const char *tag)
{
    size_t len = tag ? strlen(tag) : 0;

    if (len == 0 || len > IMAGE_TAG_MAX || tag[0] == '.' || tag[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!tag_char_valid(tag[i]))
            return false;
    return true;
}

/* Sets the usage error explaining why NAME is not a valid image name. */
static void name_error(const char *name)
{
    size_t len = strlen(name);

    if (len > IMAGE_NAME_MAX)
        err_set("invalid image name \"%s\": use at most %d characters", name, IMAGE_NAME_MAX);
    else if (strstr(name, ".."))
        err_set("invalid image name \"%s\": \"..\" is not allowed in a name", name);
    else if (len > 0 && !alnum_lower(name[0]) && name_char_valid(name[0]))
        err_set("invalid image name \"%s\": start the name with a lower case letter or a digit", name);
    else
        err_set("invalid image name \"%s\": use lower case letters, digits, '.', '_' and '-'", name);
    err_set_usage();
}

static void tag_error(const char *tag, const char *ref)
{
    if (strlen(tag) > IMAGE_TAG_MAX)
        err_set("invalid image tag \"%s\" in \"%s\": use at most %d characters", tag, ref, IMAGE_TAG_MAX);
    else if (tag[0] == '.' || tag[0] == '-')
        err_set("invalid image tag \"%s\" in \"%s\": start the tag with a letter, a digit or '_'", tag, ref);
    else
        err_set("invalid image tag \"%s\" in \"%s\": use letters, digits, '.', '_' and '-'", tag, ref);
    err_set_usage();
}

int image_ref_parse(const char *ref, char **name, char **tag)
{
    const char *colon;
    char *n = NULL, *t = NULL;

    *name = *tag = NULL;
    if (!ref || !*ref) {
        err_set("invalid image reference \"\": give a name such as myapp or myapp:v1");
        err_set_usage();
        return -1;
    }
    colon = strchr(ref, ':');
    if (colon == ref) {
        err_set("invalid image reference \"%s\": the name before ':' is missing", ref);
        err_set_usage();
        return -1;
    }
    if (colon && colon[1] == '\0') {
        err_set("invalid image reference \"%s\": the tag after ':' is missing", ref);
        err_set_usage();
        return -1;
    }
    n = colon ? xstrndup(ref, (size_t)(colon - ref)) : xstrdup(ref);
    t = xstrdup(colon ? colon + 1 : IMAGE_DEFAULT_TAG);
    if (!image_name_valid(n)) {
        name_error(n);
        goto fail;
    }
    if (!image_tag_valid(t)) {
        tag_error(t, ref);
        goto fail;
    }
    *name = n;
    *tag = t;
    return 0;

fail:
    free(n);
    free(t);
    return -1;
}

/* ---- JSON ---- */

static json_t *json_string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *strv_to_json(const struct strv *v)
{
    json_t *array = json_array();

    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(array, json_string(v->items[i]));
    return array;
}

/* Builds the JSON object of IMG. WITH_DIR adds "dir" for inspect, which image.json never stores. */
static json_t *image_to_object(const struct image *img, bool with_dir)
{
    char created[32];
    json_t *root, *ports, *manifest = json_null();

    if (img->manifest_json) {
        json_error_t error;
        json_t *parsed = json_loads(img->manifest_json, 0, &error);

        if (!parsed) {
            err_set("invalid manifest JSON for image %s:%s: %s", img->name, img->tag, error.text);
            return NULL;
        }
        manifest = parsed;
    }

    ports = json_array();
    for (size_t i = 0; i < img->n_ports; i++)
        json_array_append_new(ports, json_pack("{s:i, s:s}", "port", img->ports[i].port,
                                               "proto", img->ports[i].proto));

    time_rfc3339(img->created, created, sizeof(created));
    root = json_object();
    json_object_set_new(root, "schema", json_integer(IMAGE_SCHEMA));
    json_object_set_new(root, "name", json_string_or_null(img->name));
    json_object_set_new(root, "tag", json_string_or_null(img->tag));
    json_object_set_new(root, "digest", json_string_or_null(img->digest));
    json_object_set_new(root, "input_digest", json_string_or_null(img->input_digest));
    json_object_set_new(root, "created", json_string(created));
    json_object_set_new(root, "kind", json_string_or_null(img->kind));
    json_object_set_new(root, "kernel", json_pack("{s:o, s:I}", "version", json_string_or_null(img->kernel_version),
                                                   "size", (json_int_t)img->kernel_size));
    json_object_set_new(root, "initrd", json_pack("{s:I}", "size", (json_int_t)img->initrd_size));
    json_object_set_new(root, "size", json_integer((json_int_t)(img->kernel_size + img->initrd_size)));
    json_object_set_new(root, "entrypoint", strv_to_json(&img->entrypoint));
    json_object_set_new(root, "cmd", strv_to_json(&img->cmd));
    json_object_set_new(root, "env", strv_to_json(&img->env));
    json_object_set_new(root, "workdir", json_string_or_null(img->workdir));
    json_object_set_new(root, "memory_mib", json_integer(img->memory_mib));
    json_object_set_new(root, "cpus", json_integer(img->cpus));
    json_object_set_new(root, "ports", ports);
    json_object_set_new(root, "cmdline", json_string_or_null(img->cmdline));
    json_object_set_new(root, "manifest", manifest);
    if (with_dir)
        json_object_set_new(root, "dir", json_string_or_null(img->dir));
    return root;
}

char *image_to_json(const struct image *img, bool pretty)
{
    json_t *root = image_to_object(img, true);
    char *text;

    if (!root)
        return NULL;
    text = json_dumps(root, pretty ? JSON_INDENT(2) | JSON_SORT_KEYS : JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!text) {
        err_set("cannot format the metadata of image %s:%s as JSON", img->name, img->tag);
        return NULL;
    }
    return text;
}

int image_save(const struct image *img, const char *dir)
{
    json_t *root = image_to_object(img, false);
    char *text = NULL, *path = NULL, *data = NULL;
    int rc = -1;

    if (!root)
        return -1;
    text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        err_set("cannot format the metadata of image %s:%s as JSON", img->name, img->tag);
        goto cleanup;
    }
    data = xasprintf("%s\n", text);
    path = path_join(dir, IMAGE_META_FILE);
    rc = file_write_atomic(path, data, strlen(data), 0644);

cleanup:
    json_decref(root);
    free(text);
    free(data);
    free(path);
    return rc;
}

/* ---- loading ---- */

/* The reader of one image.json: the path for messages and the first problem found. */
struct loader {
    const char *path;
    bool failed;
};

static void load_fail(struct loader *ld, const char *fmt, ...) KILN_PRINTF(2, 3);

static void load_fail(struct loader *ld, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    if (ld->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    err_set("%s: invalid image metadata: %s", ld->path, what);
    ld->failed = true;
}

/* Returns a copy of the string member KEY, or NULL when it is absent or null and OPTIONAL. */
static char *load_string(struct loader *ld, json_t *obj, const char *key, bool optional)
{
    json_t *v = json_object_get(obj, key);

    if ((!v || json_is_null(v)) && optional)
        return NULL;
    if (!v) {
        load_fail(ld, "\"%s\" is missing", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        load_fail(ld, "\"%s\" is not a string", key);
        return NULL;
    }
    return xstrdup(json_string_value(v));
}

/* Reads the integer member KEY in [MIN, MAX]. An absent or null member gives 0 when OPTIONAL. */
static long long load_int(struct loader *ld, json_t *obj, const char *key, bool optional,
                          long long min, long long max)
{
    json_t *v = json_object_get(obj, key);
    long long value;

    if ((!v || json_is_null(v)) && optional)
        return 0;
    if (!v) {
        load_fail(ld, "\"%s\" is missing", key);
        return 0;
    }
    if (!json_is_integer(v)) {
        load_fail(ld, "\"%s\" is not an integer", key);
        return 0;
    }
    value = json_integer_value(v);
    if (value < min || value > max) {
        load_fail(ld, "\"%s\" is %lld, expected %lld to %lld", key, value, min, max);
        return 0;
    }
    return value;
}

static void load_strv(struct loader *ld, json_t *obj, const char *key, bool optional, struct strv *out)
{
    json_t *v = json_object_get(obj, key), *item;
    size_t i;

    if ((!v || json_is_null(v)) && optional)
        return;
    if (!json_is_array(v)) {
        load_fail(ld, v ? "\"%s\" is not an array of strings" : "\"%s\" is missing", key);
        return;
    }
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            load_fail(ld, "\"%s\"[%zu] is not a string", key, i);
            return;
        }
        strv_push(out, json_string_value(item));
    }
}

static void load_ports(struct loader *ld, json_t *obj, struct image *img)
{
    json_t *v = json_object_get(obj, "ports"), *item;
    size_t i;

    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v)) {
        load_fail(ld, "\"ports\" is not an array");
        return;
    }
    img->ports = xcalloc(json_array_size(v), sizeof(*img->ports));
    json_array_foreach(v, i, item) {
        json_t *port = json_object_get(item, "port"), *proto = json_object_get(item, "proto");
        const char *p;

        if (!json_is_object(item) || !json_is_integer(port) || !json_is_string(proto)) {
            load_fail(ld, "\"ports\"[%zu] is not an object with an integer \"port\" and a string \"proto\"", i);
            return;
        }
        p = json_string_value(proto);
        if (json_integer_value(port) < 1 || json_integer_value(port) > 65535) {
            load_fail(ld, "\"ports\"[%zu] has port %lld, expected 1 to 65535", i,
                      (long long)json_integer_value(port));
            return;
        }
        if (strcmp(p, "tcp") != 0 && strcmp(p, "udp") != 0) {
            load_fail(ld, "\"ports\"[%zu] has protocol \"%s\", expected \"tcp\" or \"udp\"", i, p);
            return;
        }
        img->ports[i].port = (int)json_integer_value(port);
        snprintf(img->ports[i].proto, sizeof(img->ports[i].proto), "%s", p);
        img->n_ports = i + 1;
    }
}

/* Fills IMG from the parsed ROOT and stops at the first problem, which LD records. */
static void load_fields(struct loader *ld, json_t *root, struct image *img)
{
    json_t *kernel = json_object_get(root, "kernel"), *initrd = json_object_get(root, "initrd");
    json_t *manifest = json_object_get(root, "manifest");
    char *created;

    load_int(ld, root, "schema", false, IMAGE_SCHEMA, IMAGE_SCHEMA);
    if (ld->failed)
        return;
    img->name = load_string(ld, root, "name", false);
    img->tag = load_string(ld, root, "tag", false);
    if (ld->failed)
        return;
    if (!image_name_valid(img->name))
        load_fail(ld, "\"name\" is \"%s\", not a valid image name", img->name);
    else if (!image_tag_valid(img->tag))
        load_fail(ld, "\"tag\" is \"%s\", not a valid image tag", img->tag);
    img->digest = load_string(ld, root, "digest", false);
    img->input_digest = load_string(ld, root, "input_digest", true);
    created = load_string(ld, root, "created", false);
    if (created) {
        img->created = time_parse_rfc3339(created);
        if (img->created < 0)
            load_fail(ld, "\"created\" is \"%s\", not an RFC 3339 time", created);
        free(created);
    }
    img->kind = load_string(ld, root, "kind", false);
    if (!json_is_object(kernel)) {
        load_fail(ld, kernel ? "\"kernel\" is not an object" : "\"kernel\" is missing");
    } else {
        img->kernel_version = load_string(ld, kernel, "version", false);
        img->kernel_size = (unsigned long long)load_int(ld, kernel, "size", false, 0, LLONG_MAX);
    }
    if (!json_is_object(initrd))
        load_fail(ld, initrd ? "\"initrd\" is not an object" : "\"initrd\" is missing");
    else
        img->initrd_size = (unsigned long long)load_int(ld, initrd, "size", false, 0, LLONG_MAX);
    load_strv(ld, root, "entrypoint", false, &img->entrypoint);
    load_strv(ld, root, "cmd", true, &img->cmd);
    load_strv(ld, root, "env", true, &img->env);
    img->workdir = load_string(ld, root, "workdir", true);
    img->memory_mib = load_int(ld, root, "memory_mib", true, 0, 1024LL * 1024 * 1024);
    img->cpus = (int)load_int(ld, root, "cpus", true, 0, 4096);
    load_ports(ld, root, img);
    img->cmdline = load_string(ld, root, "cmdline", false);
    if (manifest && !json_is_null(manifest)) {
        if (!json_is_object(manifest))
            load_fail(ld, "\"manifest\" is not an object");
        else
            img->manifest_json = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS);
    }
}

int image_load(const char *dir, struct image *img)
{
    char *path = path_join(dir, IMAGE_META_FILE), *text = NULL;
    struct loader ld = {.path = path, .failed = false};
    json_error_t error;
    json_t *root = NULL;
    size_t len;
    int rc = -1;

    memset(img, 0, sizeof(*img));
    text = file_read(path, &len);
    if (!text)
        goto cleanup;
    root = json_loadb(text, len, 0, &error);
    if (!root) {
        load_fail(&ld, "line %d column %d: %s", error.line, error.column, error.text);
        goto cleanup;
    }
    if (!json_is_object(root)) {
        load_fail(&ld, "the top level is not an object");
        goto cleanup;
    }
    load_fields(&ld, root, img);
    if (ld.failed)
        goto cleanup;
    img->dir = xstrdup(dir);
    rc = 0;

cleanup:
    if (rc < 0)
        image_free(img);
    json_decref(root);
    free(text);
    free(path);
    return rc;
}

void image_free(struct image *img)
{
    if (!img)
        return;
    free(img->name);
    free(img->tag);
    free(img->digest);
    free(img->input_digest);
    free(img->kind);
    free(img->kernel_version);
    free(img->cmdline);
    strv_free(&img->entrypoint);
    strv_free(&img->cmd);
    strv_free(&img->env);
    free(img->workdir);
    free(img->ports);
    free(img->manifest_json);
    free(img->dir);
    memset(img, 0, sizeof(*img));
}

char *image_kernel_path(const struct image *img)
{
    return path_join(img->dir, IMAGE_KERNEL_FILE);
}

char *image_initrd_path(const struct image *img)
{
    return path_join(img->dir, IMAGE_INITRD_FILE);
}
