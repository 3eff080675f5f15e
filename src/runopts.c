/* Parsing of kiln run's options and formatting of instances for ps, inspect and stats. */
#define _GNU_SOURCE
#include "runopts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume.h"

#define EXIT_TAG "KILN-EXIT "

static int usage_fail(const char *fmt, ...) KILN_PRINTF(1, 2);

static int usage_fail(const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set("%s", msg);
    err_set_usage();
    return -1;
}

bool runopts_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > RUNOPTS_NAME_MAX || !isalnum((unsigned char)name[0]) || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!(c < 128 && (isalnum(c) || c == '_' || c == '.' || c == '-')))
            return false;
    }
    return true;
}

void runopts_default_name(const char *image, unsigned int random, char *buf, size_t size)
{
    int keep = RUNOPTS_NAME_MAX - 7;

    snprintf(buf, size, "%.*s-%06x", keep, image, random & 0xffffffu);
}

/* Parses a port number 1..65535; -1 when S is not one. */
static int port_number(const char *s, size_t len)
{
    char text[8];
    long long value;

    if (len == 0 || len >= sizeof(text))
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)text[i]))
            return -1;
    if (parse_int(text, 1, 65535, &value) < 0)
        return -1;
    return (int)value;
}

int runopts_parse_port(const char *spec, struct port_map *out)
{
    const char *slash = strchr(spec, '/');
    const char *end = slash ? slash : spec + strlen(spec);
    const char *first = memchr(spec, ':', (size_t)(end - spec)), *second, *host = spec;
    struct in_addr addr;

    memset(out, 0, sizeof(*out));
    snprintf(out->proto, sizeof(out->proto), "tcp");
    if (slash) {
        if (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0)
            return usage_fail("invalid port mapping '%s': the protocol must be tcp or udp", spec);
        snprintf(out->proto, sizeof(out->proto), "%s", slash + 1);
    }
    if (!first)
        return usage_fail("invalid port mapping '%s': use HOST:GUEST or IP:HOST:GUEST, e.g. 8080:80", spec);
    second = memchr(first + 1, ':', (size_t)(end - first - 1));
    if (second && memchr(second + 1, ':', (size_t)(end - second - 1)))
        return usage_fail("invalid port mapping '%s': only IPv4 addresses are supported, e.g. 127.0.0.1:8080:80",
                          spec);
    if (second) {
        size_t ip_len = (size_t)(first - spec);

        if (ip_len == 0 || ip_len >= sizeof(out->host_ip))
            return usage_fail("invalid port mapping '%s': the address before the host port is empty or too long",
                              spec);
        memcpy(out->host_ip, spec, ip_len);
        out->host_ip[ip_len] = '\0';
        if (inet_pton(AF_INET, out->host_ip, &addr) != 1)
            return usage_fail("invalid port mapping '%s': '%s' is not an IPv4 address", spec, out->host_ip);
        host = first + 1;
        first = second;
    } else {
        snprintf(out->host_ip, sizeof(out->host_ip), "127.0.0.1");
    }
    out->host_port = port_number(host, (size_t)(first - host));
    out->guest_port = port_number(first + 1, (size_t)(end - first - 1));
    if (out->host_port < 0 || out->guest_port < 0)
        return usage_fail("invalid port mapping '%s': ports are numbers from 1 to 65535", spec);
    return 0;
}

/* True when PATH is fit to be a mount point in the guest. */
static const char *mount_path_problem(const char *path)
{
    static const char *const reserved[] = {"/proc", "/sys", "/dev", "/kiln"};
    const char *p;

    if (path[0] != '/')
        return "the mount point must be an absolute path";
    if (strcmp(path, "/") == 0)
        return "the mount point cannot be /";
    if (strlen(path) > 255)
        return "the mount point is longer than 255 bytes";
    for (p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "the mount point contains a control character";
    for (p = path; p; p = strchr(p + 1, '/')) {
        size_t len = strcspn(p + 1, "/");

        if ((len == 1 && p[1] == '.') || (len == 2 && p[1] == '.' && p[2] == '.'))
            return "the mount point contains a '.' or '..' component";
    }
    for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
        size_t len = strlen(reserved[i]);

        if (strncmp(path, reserved[i], len) == 0 && (path[len] == '\0' || path[len] == '/'))
            return "the mount point is inside a directory kiln-init mounts itself (/proc, /sys, /dev, /kiln)";
    }
    return NULL;
}

int runopts_parse_volume(const char *spec, struct volume_mount *out)
{
    const char *colon = strchr(spec, ':'), *mode;
    const char *problem;
    char *path;

    memset(out, 0, sizeof(*out));
    if (spec[0] == '/' || spec[0] == '.')
        return usage_fail("invalid volume '%s': kiln mounts named volumes, not host directories; create one with "
                          "kiln volume create [--from DIR] NAME and use -v NAME:/path",
                          spec);
    if (!colon)
        return usage_fail("invalid volume '%s': use VOLUME:/path or VOLUME:/path:ro", spec);
    mode = strchr(colon + 1, ':');
    path = mode ? xstrndup(colon + 1, (size_t)(mode - colon - 1)) : xstrdup(colon + 1);
    if (mode && strcmp(mode, ":ro") != 0 && strcmp(mode, ":rw") != 0) {
        free(path);
        return usage_fail("invalid volume '%s': the mode after the mount point must be ro or rw", spec);
    }
    problem = mount_path_problem(path);
    if (problem) {
        free(path);
        return usage_fail("invalid volume '%s': %s", spec, problem);
    }
    out->volume = xstrndup(spec, (size_t)(colon - spec));
    if (!volume_name_valid(out->volume)) {
        usage_fail("invalid volume '%s': '%s' is not a valid volume name (letters, digits, '_', '.', '-')", spec,
                   out->volume);
        free(out->volume);
        free(path);
        out->volume = NULL;
        return -1;
    }
    out->path = path;
    out->readonly = mode && strcmp(mode, ":ro") == 0;
    return 0;
}

/* Checks the name part of an environment entry (LEN bytes of KEY): a letter or '_', then letters, digits and '_', as kiln.yaml requires. */
static bool env_key_valid(const char *key, size_t len)
{
    if (len == 0 || isdigit((unsigned char)key[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)key[i]) && key[i] != '_')
            return false;
    return true;
}

int runopts_parse_env(const char *spec, struct strv *env)
{
    const char *eq = strchr(spec, '=');
    const char *value;

    if (!env_key_valid(spec, eq ? (size_t)(eq - spec) : strlen(spec)))
        return usage_fail("invalid environment variable '%s': use KEY=VALUE with a KEY of letters, digits and '_' not starting with a digit", spec);
    if (eq) {
        strv_push(env, spec);
        return 0;
    }
    value = getenv(spec);
    if (value)
        strv_push_owned(env, xasprintf("%s=%s", spec, value));
    return 0;
}

int runopts_read_env_file(const char *path, struct strv *env)
{
    char *text = file_read(path, NULL), *line, *next;
    int lineno = 0, rc = 0;

    if (!text)
        return -1;
    for (line = text; line && rc == 0; line = next) {
        size_t len;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '\0' || *line == '#')
            continue;
        if (runopts_parse_env(line, env) < 0) {
            err_set("invalid line %d in env file %s: use KEY=VALUE with a KEY of letters, digits and '_'", lineno,
                    path);
            err_set_usage();
            rc = -1;
        }
    }
    free(text);
    return rc;
}

long long runopts_parse_memory(const char *s)
{
    long long mib = parse_mib(s);

    if (mib < 0)
        return usage_fail("invalid memory size '%s': use a number with an optional unit, e.g. 512M or 1G", s);
    if (mib < RUNOPTS_MEMORY_MIN_MIB || mib > RUNOPTS_MEMORY_MAX_MIB)
        return usage_fail("invalid memory size '%s': it must be between %dM and %lldG", s, RUNOPTS_MEMORY_MIN_MIB,
                          RUNOPTS_MEMORY_MAX_MIB / 1024);
    return mib;
}

int runopts_parse_cpus(const char *s)
{
    long long cpus;

    if (parse_int(s, 1, RUNOPTS_CPUS_MAX, &cpus) < 0)
        return usage_fail("invalid CPU count '%s': use a whole number from 1 to %d", s, RUNOPTS_CPUS_MAX);
    return (int)cpus;
}

int runopts_exit_status(int code, int signal)
{
    if (signal > 0)
        return 128 + signal;
    if (code >= 0)
        return code & 0xff;
    return -1;
}

/* Writes "N seconds ago" for the time between WHEN and NOW. */
static const char *ago(long long when, long long now, char *buf, size_t size)
{
    char span[48];

    fmt_duration(now > when ? now - when : 0, span, sizeof(span));
    snprintf(buf, size, "%s ago", span);
    return buf;
}

const char *runopts_status(const struct instance *inst, long long now, char *buf, size_t size)
{
    char span[48], when[64] = "";

    switch (inst->state) {
    case INSTANCE_CREATED:
        snprintf(buf, size, "Created");
        break;
    case INSTANCE_RUNNING:
    case INSTANCE_PAUSED:
        if (inst->started > 0)
            fmt_duration(now > inst->started ? now - inst->started : 0, span, sizeof(span));
        snprintf(buf, size, "Up%s%s%s", inst->started > 0 ? " " : "", inst->started > 0 ? span : "",
                 inst->state == INSTANCE_PAUSED ? " (Paused)" : "");
        break;
    case INSTANCE_STOPPING:
        snprintf(buf, size, "Stopping");
        break;
    case INSTANCE_EXITED:
        if (inst->finished > 0) {
            when[0] = ' ';
            ago(inst->finished, now, when + 1, sizeof(when) - 1);
        }
        if (inst->exit_signal > 0) {
            const char *abbrev = sigabbrev_np(inst->exit_signal);

            snprintf(buf, size, "Exited (%d, SIG%s)%s", 128 + inst->exit_signal, abbrev ? abbrev : "?", when);
        } else if (inst->exit_code >= 0) {
            snprintf(buf, size, "Exited (%d)%s", inst->exit_code, when);
        } else {
            snprintf(buf, size, "Exited%s", when);
        }
        break;
    case INSTANCE_CRASHED:
        if (inst->finished > 0) {
            when[0] = ' ';
            ago(inst->finished, now, when + 1, sizeof(when) - 1);
        }
        snprintf(buf, size, "Crashed%s", when);
        break;
    default:
        snprintf(buf, size, "Unknown");
        break;
    }
    return buf;
}

const char *runopts_ports(const struct port_map *ports, size_t n, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s:%d->%d/%s", i ? ", " : "", ports[i].host_ip,
                         ports[i].host_port, ports[i].guest_port, ports[i].proto);

        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static json_t *json_time(long long epoch)
{
    char text[40];

    if (epoch <= 0)
        return json_null();
    return json_string(time_rfc3339(epoch, text, sizeof(text)));
}

static json_t *json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

char *runopts_instance_json(const struct instance *inst, long long now, bool pretty)
{
    json_t *root = json_object(), *ports = json_array(), *volumes = json_array();
    char status[128];
    int exit_status = runopts_exit_status(inst->exit_code, inst->exit_signal);
    char *text;

    for (size_t i = 0; i < inst->n_ports; i++)
        json_array_append_new(ports, json_pack("{s:s, s:i, s:i, s:s}", "host_ip", inst->ports[i].host_ip,
                                               "host_port", inst->ports[i].host_port, "guest_port",
                                               inst->ports[i].guest_port, "proto", inst->ports[i].proto));
    for (size_t i = 0; i < inst->n_volumes; i++)
        json_array_append_new(volumes, json_pack("{s:o, s:o, s:o, s:b}", "volume", json_str(inst->volumes[i].volume),
                                                 "file", json_str(inst->volumes[i].file), "path",
                                                 json_str(inst->volumes[i].path), "readonly",
                                                 inst->volumes[i].readonly));
    json_object_set_new(root, "type", json_string("instance"));
    json_object_set_new(root, "name", json_str(inst->name));
    json_object_set_new(root, "uuid", json_str(inst->uuid));
    json_object_set_new(root, "image", json_str(inst->image));
    json_object_set_new(root, "digest", json_str(inst->digest));
    json_object_set_new(root, "state", json_string(instance_state_name(inst->state)));
    json_object_set_new(root, "status", json_string(runopts_status(inst, now, status, sizeof(status))));
    json_object_set_new(root, "exit_code", inst->exit_code >= 0 ? json_integer(inst->exit_code) : json_null());
    json_object_set_new(root, "exit_signal", inst->exit_signal > 0 ? json_integer(inst->exit_signal) : json_null());
    json_object_set_new(root, "exit_status", exit_status >= 0 ? json_integer(exit_status) : json_null());
    json_object_set_new(root, "created", json_time(inst->created));
    json_object_set_new(root, "started", json_time(inst->started));
    json_object_set_new(root, "finished", json_time(inst->finished));
    json_object_set_new(root, "memory_mib", json_integer(inst->memory_mib));
    json_object_set_new(root, "cpus", json_integer(inst->cpus));
    json_object_set_new(root, "ports", ports);
    json_object_set_new(root, "volumes", volumes);
    json_object_set_new(root, "log_path", json_str(inst->log_path));
    json_object_set_new(root, "auto_remove", json_boolean(inst->auto_remove));
    text = json_dumps(root, JSON_SORT_KEYS | (pretty ? JSON_INDENT(4) : JSON_COMPACT));
    json_decref(root);
    return text;
}

size_t runopts_tail_start(const char *text, size_t len, long long lines)
{
    size_t pos = len;

    if (lines <= 0)
        return len;
    if (pos > 0 && text[pos - 1] == '\n')
        pos--;
    while (pos > 0) {
        if (text[pos - 1] == '\n' && --lines == 0)
            return pos;
        pos--;
    }
    return 0;
}

/* Bytes per second between two cumulative counters; 0 when the counter went back (a restart). */
static double rate(unsigned long long before, unsigned long long after, double seconds)
{
    return after >= before ? (double)(after - before) / seconds : 0.0;
}

void runopts_rates(const struct instance_stats *before, const struct instance_stats *after, struct runopts_rates *out)
{
    double seconds = after->timestamp - before->timestamp;

    memset(out, 0, sizeof(*out));
    if (seconds <= 0)
        return;
    out->cpu_percent = rate(before->cpu_ns, after->cpu_ns, seconds) / 1e9 * 100.0;
    out->net_rx = rate(before->net_rx_bytes, after->net_rx_bytes, seconds);
    out->net_tx = rate(before->net_tx_bytes, after->net_tx_bytes, seconds);
    out->blk_rd = rate(before->blk_rd_bytes, after->blk_rd_bytes, seconds);
    out->blk_wr = rate(before->blk_wr_bytes, after->blk_wr_bytes, seconds);
}

void runopts_filter_init(struct runopts_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->line_start = true;
    f->exit_code = -1;
}

/* Reads the status out of a held "KILN-EXIT code=N ..." or "KILN-EXIT signal=N" line. */
static void filter_parse_exit(struct runopts_filter *f)
{
    char line[sizeof(f->pending) + 1];
    const char *p;

    memcpy(line, f->pending, f->n_pending);
    line[f->n_pending] = '\0';
    p = line + strlen(EXIT_TAG);
    if (strncmp(p, "code=", 5) == 0) {
        f->exit_code = atoi(p + 5);
        f->exit_signal = 0;
    } else if (strncmp(p, "signal=", 7) == 0) {
        f->exit_signal = atoi(p + 7);
        f->exit_code = -1;
    }
}

enum line_match { LINE_OTHER, LINE_MAYBE, LINE_HIDDEN };

/* Tells whether the N bytes at the start of a line begin a line to hide, may still, or cannot. */
static enum line_match line_classify(const char *s, size_t n)
{
    static const char reboot[] = "] reboot: ";
    size_t tag_len = strlen(EXIT_TAG), i = 1, k = 0;

    if (strncmp(s, EXIT_TAG, n < tag_len ? n : tag_len) == 0)
        return n >= tag_len ? LINE_HIDDEN : LINE_MAYBE;
    /* The kernel's "[    1.539371] reboot: Power down" after kiln-init powered off. */
    if (s[0] != '[')
        return LINE_OTHER;
    while (i < n && s[i] == ' ')
        i++;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        i++;
    while (i < n && k < sizeof(reboot) - 1) {
        if (s[i++] != reboot[k++])
            return LINE_OTHER;
    }
    return k == sizeof(reboot) - 1 ? LINE_HIDDEN : LINE_MAYBE;
}

/* Passes one character (CR LF already folded) through the line logic. */
static size_t filter_char(struct runopts_filter *f, char c, char *out)
{
    size_t n = 0;
    enum line_match match;

    if (f->hiding) {
        if (c == '\n') {
            if (strncmp(f->pending, EXIT_TAG, strlen(EXIT_TAG)) == 0)
                filter_parse_exit(f);
            f->hiding = false;
            f->n_pending = 0;
            f->line_start = true;
        } else if (f->n_pending < sizeof(f->pending) - 1) {
            f->pending[f->n_pending++] = c;
        }
        return 0;
    }
    if (!f->line_start) {
        out[n++] = c;
        f->line_start = c == '\n';
        return n;
    }
    f->pending[f->n_pending++] = c;
    match = c == '\n' ? LINE_OTHER : line_classify(f->pending, f->n_pending);
    if (match == LINE_HIDDEN) {
        f->hiding = true;
        return 0;
    }
    if (match == LINE_MAYBE && f->n_pending < sizeof(f->pending) - 1)
        return 0;
    memcpy(out, f->pending, f->n_pending);
    n = f->n_pending;
    f->n_pending = 0;
    f->line_start = c == '\n';
    return n;
}

size_t runopts_filter_feed(struct runopts_filter *f, const char *data, size_t len, char *out)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (f->cr) {
            f->cr = false;
            if (c != '\n')
                n += filter_char(f, '\r', out + n);
        }
        if (c == '\r') {
            f->cr = true;
            continue;
        }
        n += filter_char(f, c, out + n);
    }
    return n;
}

size_t runopts_filter_flush(struct runopts_filter *f, char *out)
{
    size_t n = 0;

    if (f->hiding) {
        if (strncmp(f->pending, EXIT_TAG, strlen(EXIT_TAG)) == 0)
            filter_parse_exit(f);
    } else {
        memcpy(out, f->pending, f->n_pending);
        n = f->n_pending;
    }
    if (f->cr && !f->hiding)
        out[n++] = '\r';
    f->n_pending = 0;
    f->hiding = false;
    f->cr = false;
    f->line_start = true;
    return n;
}
