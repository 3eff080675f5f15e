/*
 * Reader for kiln-init's settings files (format in src/runcfg.h): the image's
 * defaults and the per-run settings, merged into the settings of this boot.
 * Included once by init.c.
 */
#ifndef KILN_GUEST_SETTINGS_H
#define KILN_GUEST_SETTINGS_H

#include "guest.h"
#include "../runcfg.h"

/* Largest settings file accepted; real ones are a few KiB. */
#define SETTINGS_MAX_BYTES (4u << 20)
#define SETTINGS_DEFAULT_STOP_TIMEOUT 10

/* The settings of one file, or of this boot after merging. Strings point into data. */
struct settings {
    const char *source; /* where they came from, for messages */
    char *data;
    const char *entry;
    const char *workdir;
    const char *net;
    const char *hostname;
    const char *stop_timeout;
    struct strlist args;
    struct strlist env;
    struct strlist modules;
    struct strlist mounts;
};

/* Stores one KEY=VALUE pair; unknown keys are reported and skipped so newer hosts still boot. */
static void settings_set(struct settings *s, const char *key, const char *value)
{
    if (strcmp(key, "entry") == 0)
        s->entry = value;
    else if (strcmp(key, "workdir") == 0)
        s->workdir = value;
    else if (strcmp(key, "net") == 0)
        s->net = value;
    else if (strcmp(key, "hostname") == 0)
        s->hostname = value;
    else if (strcmp(key, "stop_timeout") == 0)
        s->stop_timeout = value;
    else if (strcmp(key, "arg") == 0)
        strlist_push(&s->args, value);
    else if (strcmp(key, "env") == 0)
        strlist_push(&s->env, value);
    else if (strcmp(key, "module") == 0)
        strlist_push(&s->modules, value);
    else if (strcmp(key, "mount") == 0)
        strlist_push(&s->mounts, value);
    else
        log_error("ignoring unknown setting \"%s\" in %s; is kiln-init older than the kiln that built the image?",
                  key, s->source);
}

/* Splits DATA (LEN bytes, a NUL after them) into settings. Returns 0, or -1 after printing why. */
static int settings_parse(struct settings *s, char *data, size_t len)
{
    size_t magic_len = sizeof RUNCFG_MAGIC;
    char *p = data + magic_len, *end = data + len;

    if (len < magic_len || memcmp(data, RUNCFG_MAGIC, magic_len) != 0) {
        log_error("invalid settings in %s: the file does not start with %s; rebuild the image with this kiln",
                  s->source, RUNCFG_MAGIC);
        return -1;
    }
    while (p < end) {
        char *key = p;
        char *key_end = memchr(key, '\0', (size_t)(end - key));
        char *value = key_end ? key_end + 1 : end;
        char *value_end = value < end ? memchr(value, '\0', (size_t)(end - value)) : NULL;

        if (!value_end) {
            log_error("invalid settings in %s: truncated after byte %zu (a key without a NUL-terminated value)",
                      s->source, (size_t)(key - data));
            return -1;
        }
        settings_set(s, key, value);
        p = value_end + 1;
    }
    return 0;
}

/*
 * Reads the settings file PATH into S. A missing file leaves S empty and sets
 * *FOUND to false. Returns 0, or -1 after printing why the file is unusable.
 */
static int settings_read(const char *path, const char *source, struct settings *s, bool *found)
{
    size_t len;

    memset(s, 0, sizeof *s);
    s->source = source;
    *found = false;
    if (file_read(path, SETTINGS_MAX_BYTES, &s->data, &len) < 0) {
        if (errno == ENOENT)
            return 0;
        log_error("cannot read settings %s (%s): %s", source, path, strerror(errno));
        return -1;
    }
    *found = true;
    return settings_parse(s, s->data, len);
}

static void strlist_append(struct strlist *to, const struct strlist *from)
{
    for (size_t i = 0; i < from->count; i++)
        strlist_push(to, from->items[i]);
}

/*
 * Merges the image's defaults and the per-run settings into OUT: per-run
 * scalars override, per-run args replace the image's when there are any, env
 * and mounts are the image's followed by the per-run ones. Modules come from
 * the image only, because they are loaded before the per-run settings can be read.
 */
static void settings_merge(struct settings *out, const struct settings *image, const struct settings *run)
{
    memset(out, 0, sizeof *out);
    out->source = "the merged settings";
    out->entry = run->entry ? run->entry : image->entry;
    out->workdir = run->workdir ? run->workdir : image->workdir;
    out->net = run->net ? run->net : image->net;
    out->hostname = run->hostname ? run->hostname : image->hostname;
    out->stop_timeout = run->stop_timeout ? run->stop_timeout : image->stop_timeout;
    strlist_append(&out->args, run->args.count > 0 ? &run->args : &image->args);
    strlist_append(&out->env, &image->env);
    strlist_append(&out->env, &run->env);
    strlist_append(&out->modules, &image->modules);
    strlist_append(&out->mounts, &image->mounts);
    strlist_append(&out->mounts, &run->mounts);
    if (run->modules.count > 0)
        log_error("ignoring %zu module setting(s) in %s: modules must be listed in the image",
                  run->modules.count, run->source);
}

/* A parsed "DEVICE:PATH:rw|ro" mount setting. */
struct volume {
    char device[256];
    char path[1024];
    bool read_only;
};

/* Parses a mount setting: DEVICE is up to the first ':', the mode after the last. */
static int volume_parse(const char *spec, struct volume *v)
{
    const char *first = strchr(spec, ':'), *last = strrchr(spec, ':');
    size_t device_len, path_len;

    if (!first || first == last)
        return -1;
    device_len = (size_t)(first - spec);
    path_len = (size_t)(last - first - 1);
    if (device_len == 0 || device_len >= sizeof v->device || path_len == 0 || path_len >= sizeof v->path)
        return -1;
    memcpy(v->device, spec, device_len);
    v->device[device_len] = '\0';
    memcpy(v->path, first + 1, path_len);
    v->path[path_len] = '\0';
    if (v->device[0] != '/' || v->path[0] != '/')
        return -1;
    if (strcmp(last + 1, "rw") == 0)
        v->read_only = false;
    else if (strcmp(last + 1, "ro") == 0)
        v->read_only = true;
    else
        return -1;
    return 0;
}

/* Returns stop_timeout in seconds: the default when unset, -1 when invalid. */
static long settings_stop_timeout(const struct settings *s)
{
    char *end;
    long value;

    if (!s->stop_timeout)
        return SETTINGS_DEFAULT_STOP_TIMEOUT;
    errno = 0;
    value = strtol(s->stop_timeout, &end, 10);
    if (errno || end == s->stop_timeout || *end != '\0' || value < 0 || value > 86400)
        return -1;
    return value;
}

/* Checks the merged settings; a problem is fatal because the host wrote them wrong. */
static void settings_check(const struct settings *s)
{
    struct volume v;

    if (!s->entry || s->entry[0] == '\0')
        init_fail("config", "no entry in %s or fw_cfg %s; build the image with an entry",
                  RUNCFG_IMAGE_PATH, RUNCFG_FWCFG_NAME);
    if (s->net && strcmp(s->net, "none") != 0 && strcmp(s->net, "user") != 0 && strcmp(s->net, "dhcp") != 0)
        init_fail("config", "invalid net setting \"%s\"; expected none, user or dhcp", s->net);
    if (settings_stop_timeout(s) < 0)
        init_fail("config", "invalid stop_timeout \"%s\"; expected whole seconds from 0 to 86400",
                  s->stop_timeout);
    if (s->workdir && s->workdir[0] != '/')
        init_fail("config", "invalid workdir \"%s\"; expected an absolute path", s->workdir);
    for (size_t i = 0; i < s->mounts.count; i++) {
        if (volume_parse(s->mounts.items[i], &v) < 0)
            init_fail("config", "invalid mount setting \"%s\"; expected /dev/DEVICE:/ABSOLUTE/PATH:rw or :ro",
                      s->mounts.items[i]);
    }
    for (size_t i = 0; i < s->env.count; i++) {
        const char *eq = strchr(s->env.items[i], '=');
        if (!eq || eq == s->env.items[i])
            init_fail("config", "invalid env setting \"%s\"; expected KEY=VALUE", s->env.items[i]);
    }
}

#endif
