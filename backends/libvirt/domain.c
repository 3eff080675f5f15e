/* Instance lifecycle on libvirt domains: list, lookup, create, start, stop, kill, remove. */
#define _GNU_SOURCE /* memmem */
#include "backends/libvirt/lv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <libvirt/virterror.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define DEFAULT_MEMORY_MIB 256
#define DEFAULT_CPUS 1
#define LOG_FILE "console.log"
#define CONFIG_FILE "config"
/* How much of the end of the console log is searched for the exit line. */
#define EXIT_SCAN_BYTES 16384
#define KNOWN_MAX 8192

/* ---- kiln's domains ---- */

/* Reads kiln's metadata of DOM: 0, -2 when DOM has none (a foreign domain), -1 on other errors. */
static int meta_get(virDomainPtr dom, struct lv_meta *meta)
{
    const char *name = virDomainGetName(dom);
    char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, LV_META_NS, VIR_DOMAIN_AFFECT_CURRENT);
    int rc;

    memset(meta, 0, sizeof(*meta));
    if (!xml) {
        if (lv_error_is(VIR_ERR_NO_DOMAIN_METADATA)) {
            err_set("domain %s has no kiln metadata", name);
            return -2;
        }
        lv_error_set("cannot read the metadata of %s", name);
        return -1;
    }
    rc = lv_xml_metadata_parse(xml, meta);
    free(xml);
    return rc < 0 ? -2 : 0;
}

/* Writes META to the persistent definition, and to the running one when DOM is active. */
static int meta_set(virDomainPtr dom, const struct lv_meta *meta)
{
    const char *name = virDomainGetName(dom);
    char *xml = lv_xml_metadata(meta);
    unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;
    int rc;

    if (!xml)
        return -1;
    if (virDomainIsActive(dom) == 1)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, LV_META_PREFIX, LV_META_NS, flags);
    if (rc < 0 && (flags & VIR_DOMAIN_AFFECT_LIVE))
        rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, LV_META_PREFIX, LV_META_NS,
                                  VIR_DOMAIN_AFFECT_CONFIG);
    if (rc < 0)
        lv_error_set("cannot update the metadata of instance %s", name);
    free(xml);
    return rc;
}

void lv_known_add(struct backend *b, const unsigned char *uuid, bool kiln)
{
    pthread_mutex_lock(&b->lock);
    if (b->n_known >= KNOWN_MAX)
        b->n_known = 0;
    b->known = xrealloc(b->known, (b->n_known + 1) * sizeof(*b->known));
    memcpy(b->known[b->n_known].uuid, uuid, VIR_UUID_BUFLEN);
    b->known[b->n_known].kiln = kiln;
    b->n_known++;
    pthread_mutex_unlock(&b->lock);
}

int lv_known_find(struct backend *b, const unsigned char *uuid)
{
    int found = -1;

    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n_known && found < 0; i++)
        if (memcmp(b->known[i].uuid, uuid, VIR_UUID_BUFLEN) == 0)
            found = b->known[i].kiln;
    pthread_mutex_unlock(&b->lock);
    return found;
}

bool lv_domain_is_kiln(struct backend *b, virDomainPtr dom)
{
    unsigned char uuid[VIR_UUID_BUFLEN];
    char *xml;
    int found;

    if (virDomainGetUUID(dom, uuid) < 0)
        return false;
    found = lv_known_find(b, uuid);
    if (found >= 0)
        return found;
    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, LV_META_NS, VIR_DOMAIN_AFFECT_CURRENT);
    if (!xml && !lv_error_is(VIR_ERR_NO_DOMAIN_METADATA))
        return false; /* a transient failure: do not cache */
    found = xml != NULL;
    lv_known_add(b, uuid, found);
    free(xml);
    return found;
}

/* Finds kiln's domain NAME; -1 with "no such instance NAME" for missing and foreign domains. */
static virDomainPtr domain_get(struct backend *b, const char *name, struct lv_meta *meta)
{
    virDomainPtr dom;
    int rc;

    memset(meta, 0, sizeof(*meta));
    if (!lv_name_valid(name)) {
        err_set("no such instance '%s'; list instances with kiln ps -a", name ? name : "");
        return NULL;
    }
    dom = virDomainLookupByName(b->conn, name);
    if (!dom) {
        if (lv_error_is(VIR_ERR_NO_DOMAIN))
            err_set("no such instance %s; list instances with kiln ps -a", name);
        else
            lv_error_set("cannot look up instance %s", name);
        return NULL;
    }
    rc = meta_get(dom, meta);
    if (rc == -2)
        err_set("no such instance %s (libvirt has a domain of that name, but kiln did not create it)", name);
    if (rc < 0) {
        virDomainFree(dom);
        return NULL;
    }
    return dom;
}

/* ---- state and exit status ---- */

enum instance_state lv_state_map(int state, int reason, long long started)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
        return INSTANCE_RUNNING;
    case VIR_DOMAIN_PAUSED:
    case VIR_DOMAIN_PMSUSPENDED:
        return INSTANCE_PAUSED;
    case VIR_DOMAIN_SHUTDOWN:
        return INSTANCE_STOPPING;
    case VIR_DOMAIN_CRASHED:
        return INSTANCE_CRASHED;
    case VIR_DOMAIN_SHUTOFF:
        if (reason == VIR_DOMAIN_SHUTOFF_CRASHED)
            return INSTANCE_CRASHED;
        if (started == 0 || (started < 0 && reason == VIR_DOMAIN_SHUTOFF_UNKNOWN))
            return INSTANCE_CREATED;
        return INSTANCE_EXITED;
    default:
        return INSTANCE_UNKNOWN;
    }
}

/* Parses the text after "KILN-EXIT ": "code=N" or "signal=N". */
static bool exit_line_parse(const char *s, int *code, int *signal)
{
    char *end;
    long v;

    if (strncmp(s, "code=", 5) == 0) {
        v = strtol(s + 5, &end, 10);
        if (end == s + 5 || v < 0 || v > 255)
            return false;
        *code = (int)v;
        *signal = 0;
        return true;
    }
    if (strncmp(s, "signal=", 7) == 0) {
        v = strtol(s + 7, &end, 10);
        if (end == s + 7 || v < 1 || v > 64)
            return false;
        *signal = (int)v;
        *code = 128 + (int)v;
        return true;
    }
    return false;
}

int lv_exit_status_read(const char *path, long long offset, int *code, int *signal)
{
    static const char marker[] = "KILN-EXIT ";
    struct stat st;
    char *buf = NULL;
    ssize_t got;
    off_t from;
    int fd, rc = -1;

    *code = -1;
    *signal = 0;
    fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0 || fstat(fd, &st) < 0)
        goto cleanup;
    /* A log shorter than OFFSET was rotated by virtlogd: the whole file belongs to the last run. */
    from = offset > 0 && offset <= st.st_size ? (off_t)offset : 0;
    if (st.st_size - from > EXIT_SCAN_BYTES)
        from = st.st_size - EXIT_SCAN_BYTES;
    buf = xmalloc((size_t)(st.st_size - from) + 1);
    got = pread(fd, buf, (size_t)(st.st_size - from), from);
    if (got < 0)
        goto cleanup;
    buf[got] = '\0';
    /* kiln-init prints the line after the application's output, on the same line when that lacked a newline. */
    for (char *p = buf; (p = memmem(p, (size_t)(buf + got - p), marker, sizeof(marker) - 1));
         p += sizeof(marker) - 1)
        if (exit_line_parse(p + sizeof(marker) - 1, code, signal))
            rc = 0;

cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static long long file_mtime(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0 ? (long long)st.st_mtime : 0;
}

static long long file_size(const char *path)
{
    struct stat st;

    return path && stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* Fills OUT from DOM and its parsed metadata META (whose ports and volumes move into OUT). */
static int instance_fill(virDomainPtr dom, struct lv_meta *meta, struct instance *out)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainInfo info;
    int state, reason;

    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    out->name = xstrdup(virDomainGetName(dom));
    if (virDomainGetState(dom, &state, &reason, 0) < 0 || virDomainGetInfo(dom, &info) < 0) {
        lv_error_set("cannot read the state of instance %s", out->name);
        free(out->name);
        out->name = NULL;
        return -1;
    }
    if (virDomainGetUUIDString(dom, uuid) == 0)
        out->uuid = xstrdup(uuid);
    out->state = lv_state_map(state, reason, meta->started);
    out->memory_mib = (long long)(info.maxMem / 1024);
    out->cpus = info.nrVirtCpu;
    out->created = meta->created;
    out->started = meta->started;
    out->finished = meta->finished;
    out->auto_remove = meta->auto_remove;

    out->image = meta->image;
    out->digest = meta->digest;
    out->log_path = meta->log_path;
    out->ports = meta->ports;
    out->n_ports = meta->n_ports;
    out->volumes = meta->volumes;
    out->n_volumes = meta->n_volumes;
    meta->image = meta->digest = meta->log_path = NULL;
    meta->ports = NULL;
    meta->volumes = NULL;
    meta->n_ports = meta->n_volumes = 0;

    if (out->state == INSTANCE_EXITED || out->state == INSTANCE_CRASHED) {
        /* Destroyed before kiln-init reported anything: the application was killed, as by SIGKILL. */
        if (lv_exit_status_read(out->log_path, meta->log_offset, &out->exit_code, &out->exit_signal) < 0 &&
            state == VIR_DOMAIN_SHUTOFF && reason == VIR_DOMAIN_SHUTOFF_DESTROYED) {
            out->exit_signal = 9;
            out->exit_code = 128 + 9;
        }
        /* Stopped from inside the guest: kiln was not there to record when. */
        if (out->finished < out->started)
            out->finished = file_mtime(out->log_path) >= out->started ? file_mtime(out->log_path) : 0;
    } else if (out->finished < out->started) {
        out->finished = 0;
    }
    return 0;
}

/* ---- list and lookup ---- */

static int instance_compare(const void *a, const void *b)
{
    const struct instance *x = a, *y = b;

    if (x->created != y->created)
        return x->created > y->created ? -1 : 1;
    return strcmp(x->name, y->name);
}

int lv_list(struct backend *b, bool all, struct instance **out, size_t *n)
{
    virDomainPtr *doms = NULL;
    unsigned int flags = all ? 0 : VIR_CONNECT_LIST_DOMAINS_ACTIVE;
    int count, rc;

    *out = NULL;
    *n = 0;
    count = virConnectListAllDomains(b->conn, &doms, flags);
    if (count < 0) {
        lv_error_set("cannot list the domains of %s", b->uri);
        return -1;
    }
    *out = xcalloc((size_t)count + 1, sizeof(**out));
    for (int i = 0; i < count; i++) {
        struct lv_meta meta;
        unsigned char uuid[VIR_UUID_BUFLEN];
        bool have_uuid = virDomainGetUUID(doms[i], uuid) == 0;

        if (have_uuid && lv_known_find(b, uuid) == 0)
            goto next;
        rc = meta_get(doms[i], &meta);
        if (rc == -2 && have_uuid)
            lv_known_add(b, uuid, false);
        if (rc < 0)
            goto next; /* foreign, or vanished while listing */
        if (instance_fill(doms[i], &meta, &(*out)[*n]) == 0) {
            enum instance_state state = (*out)[*n].state;

            /* A domain that stopped after the listing is left out, as it would be a moment later. */
            if (all || state == INSTANCE_RUNNING || state == INSTANCE_PAUSED || state == INSTANCE_STOPPING)
                (*n)++;
            else
                instance_free(&(*out)[*n]);
        }
        lv_meta_free(&meta);
    next:
        virDomainFree(doms[i]);
    }
    free(doms);
    qsort(*out, *n, sizeof(**out), instance_compare);
    err_clear();
    return 0;
}

int lv_lookup(struct backend *b, const char *name, struct instance *out)
{
    struct lv_meta meta;
    virDomainPtr dom = domain_get(b, name, &meta);
    int rc;

    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    if (!dom)
        return -1;
    rc = instance_fill(dom, &meta, out);
    lv_meta_free(&meta);
    virDomainFree(dom);
    return rc;
}

/* ---- create and start ---- */


static int ports_check(const struct port_map *ports, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            if (ports[i].host_port == ports[j].host_port && strcmp(ports[i].proto, ports[j].proto) == 0 &&
                strcmp(ports[i].host_ip, ports[j].host_ip) == 0) {
                err_set("port %s:%d is published twice; give each -p its own host port",
                        ports[i].host_ip, ports[i].host_port);
                err_set_usage();
                return -1;
            }
        }
        if (port_map_check_free(&ports[i]) < 0)
            return -1;
    }
    return 0;
}

static char *instance_dir(const char *name)
{
    char *instances = store_path("instances");
    char *dir = path_join(instances, name);

    free(instances);
    return dir;
}

/* Starts DOM with META as its metadata: records the start time and where this run's log begins. */
static int domain_start(virDomainPtr dom, struct lv_meta *meta)
{
    const char *name = virDomainGetName(dom);
    struct lv_meta old = *meta;

    if (virDomainIsActive(dom) == 1) {
        err_set("instance %s is already running", name);
        return -1;
    }
    if (ports_check(meta->ports, meta->n_ports) < 0)
        return -1;

    meta->started = (long long)time(NULL);
    meta->finished = 0;
    meta->log_offset = file_size(meta->log_path);
    if (meta_set(dom, meta) < 0)
        return -1;
    if (virDomainCreate(dom) < 0) {
        char msg[1024];

        lv_error_set("cannot start instance %s", name);
        snprintf(msg, sizeof(msg), "%s", err_msg());
        meta->started = old.started;
        meta->finished = old.finished;
        meta->log_offset = old.log_offset;
        if (meta_set(dom, meta) < 0)
            log_debug("cannot restore the metadata of %s: %s", name, err_msg());
        err_set("%s", msg);
        return -1;
    }
    log_debug("started %s", name);
    return 0;
}

static int name_free_check(struct backend *b, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(b->conn, name);
    bool kiln;

    if (!dom) {
        if (lv_error_is(VIR_ERR_NO_DOMAIN))
            return 0;
        lv_error_set("cannot check whether instance %s exists", name);
        return -1;
    }
    kiln = lv_domain_is_kiln(b, dom);
    virDomainFree(dom);
    if (kiln)
        err_set("instance %s already exists; remove it with kiln rm %s or choose another name", name, name);
    else
        err_set("libvirt already has a domain named %s that kiln did not create; choose another name", name);
    err_set_usage();
    return -1;
}

/* Checks that the image's kernel and initrd exist; returns their paths. */
static int image_files(const struct image *img, char **kernel, char **initrd)
{
    *kernel = image_kernel_path(img);
    *initrd = image_initrd_path(img);
    if (*kernel && *initrd && path_exists(*kernel) && path_exists(*initrd))
        return 0;
    err_set("image %s:%s is incomplete: %s or %s is missing; rebuild it with kiln build",
            img->name ? img->name : "?", img->tag ? img->tag : "?",
            *kernel ? *kernel : IMAGE_KERNEL_FILE, *initrd ? *initrd : IMAGE_INITRD_FILE);
    free(*kernel);
    free(*initrd);
    *kernel = *initrd = NULL;
    return -1;
}

/* Creates the instance directory with the per-run settings file; readable by the qemu user. */
static int instance_dir_prepare(const char *dir, const struct run_spec *spec, char **config_path)
{
    char *instances = store_path("instances");
    struct runcfg cfg;
    bool created = false;
    int rc = -1;

    *config_path = NULL;
    if (lv_runcfg_build(spec, &cfg) < 0) {
        free(instances);
        return -1;
    }
    /*
     * The directory may belong to an instance of the same name on another
     * connection sharing this store (test:///, qemu:///session), so it is never
     * reused or deleted here.
     */
    if (path_exists(dir)) {
        err_set("instance directory %s already exists, but libvirt has no domain %s; "
                "remove the directory or choose another name", dir, spec->name);
        goto cleanup;
    }
    if (mkdir_p(instances, 0755) < 0 || mkdir_p(dir, 0755) < 0)
        goto cleanup;
    created = true;
    if (chmod(dir, 0755) < 0) {
        err_set_errno(errno, "cannot make %s readable", dir);
        goto cleanup;
    }
    *config_path = path_join(dir, CONFIG_FILE);
    if (file_write_atomic(*config_path, cfg.data, cfg.len, 0644) < 0)
        goto cleanup;
    rc = 0;

cleanup:
    if (rc < 0) {
        free(*config_path);
        *config_path = NULL;
        if (created)
            rm_rf(dir);
    }
    runcfg_free(&cfg);
    free(instances);
    return rc;
}

int lv_create(struct backend *b, const struct run_spec *spec)
{
    struct run_spec resolved = *spec;
    struct lv_meta meta = {0};
    struct lv_domain_def def = {0};
    char *kernel = NULL, *initrd = NULL, *dir = NULL, *config = NULL, *xml = NULL, *ref = NULL;
    bool kvm;
    virDomainPtr dom = NULL;
    int rc = -1, lock = -1;

    if (!spec->image) {
        err_set("no image given for instance %s", spec->name ? spec->name : "");
        return -1;
    }
    if (lv_spec_validate(spec) < 0)
        return -1;
    /* Two runs with one name: the second waits here, then finds the name taken. */
    {
        char *key = xasprintf("instance-%s", spec->name);

        lock = store_lock(key);
        free(key);
        if (lock < 0)
            return -1;
    }
    if (name_free_check(b, spec->name) < 0 ||
        ports_check(spec->ports, spec->n_ports) < 0 || image_files(spec->image, &kernel, &initrd) < 0)
        goto cleanup;
    if (lv_accel_get(b, kernel) < 0)
        goto cleanup;
    kvm = strcmp(b->accel, "kvm") == 0;

    if (resolved.memory_mib <= 0)
        resolved.memory_mib = spec->image->memory_mib > 0 ? spec->image->memory_mib : DEFAULT_MEMORY_MIB;
    if (resolved.cpus <= 0)
        resolved.cpus = spec->image->cpus > 0 ? spec->image->cpus : DEFAULT_CPUS;

    dir = instance_dir(spec->name);
    if (instance_dir_prepare(dir, spec, &config) < 0)
        goto cleanup;

    ref = xasprintf("%s:%s", spec->image->name, spec->image->tag ? spec->image->tag : IMAGE_DEFAULT_TAG);
    meta.image = ref;
    meta.digest = spec->image->digest;
    meta.created = (long long)time(NULL);
    meta.auto_remove = spec->auto_remove;
    meta.log_path = path_join(dir, LOG_FILE);
    meta.ports = (struct port_map *)spec->ports;
    meta.n_ports = spec->n_ports;
    meta.volumes = (struct volume_mount *)spec->volumes;
    meta.n_volumes = spec->n_volumes;

    def.spec = &resolved;
    def.domain_type = kvm ? "kvm" : "qemu";
    def.tcg = !kvm;
    def.kernel = kernel;
    def.initrd = initrd;
    def.cmdline = spec->image->cmdline;
    def.config_path = config;
    def.meta = &meta;
    xml = lv_xml_domain(&def);
    if (!xml)
        goto cleanup;
    log_debug("defining %s:\n%s", spec->name, xml);

    dom = virDomainDefineXMLFlags(b->conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (!dom) {
        lv_error_set("cannot define instance %s", spec->name);
        goto cleanup;
    }
    if (spec->start && domain_start(dom, &meta) < 0)
        goto cleanup_defined;
    rc = 0;
    goto cleanup;

cleanup_defined:
    /* The definition stays, like a container that failed to start; kiln start retries it. */
    rc = -1;

cleanup:
    if (rc < 0 && !dom && config) {
        char msg[1024];

        snprintf(msg, sizeof(msg), "%s", err_msg());
        rm_rf(dir);
        err_set("%s", msg);
    }
    if (dom)
        virDomainFree(dom);
    free(meta.log_path);
    free(ref);
    free(xml);
    free(config);
    free(dir);
    free(kernel);
    free(initrd);
    store_unlock(lock);
    return rc;
}

int lv_start(struct backend *b, const char *name)
{
    struct lv_meta meta;
    virDomainPtr dom = domain_get(b, name, &meta);
    int rc;

    if (!dom)
        return -1;
    rc = domain_start(dom, &meta);
    lv_meta_free(&meta);
    virDomainFree(dom);
    return rc;
}

/* ---- stop, kill, remove ---- */

static bool domain_stopped(virDomainPtr dom)
{
    int state, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return lv_error_is(VIR_ERR_NO_DOMAIN);
    return state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED;
}

static void finished_record(virDomainPtr dom, struct lv_meta *meta)
{
    const char *name = virDomainGetName(dom);

    meta->finished = (long long)time(NULL);
    if (meta_set(dom, meta) < 0)
        log_debug("cannot record when %s finished: %s", name, err_msg());
    err_clear();
}

static int domain_destroy(virDomainPtr dom)
{
    const char *name = virDomainGetName(dom);
    char msg[1024];

    if (virDomainDestroy(dom) == 0)
        return 0;
    lv_error_set("cannot destroy instance %s", name);
    snprintf(msg, sizeof(msg), "%s", err_msg());
    if (domain_stopped(dom))
        return 0; /* it stopped by itself meanwhile */
    err_set("%s", msg);
    return -1;
}

int lv_stop(struct backend *b, const char *name, int timeout, const struct progress *p)
{
    struct timespec pause = {0, 100 * 1000 * 1000};
    struct lv_meta meta;
    virDomainPtr dom = domain_get(b, name, &meta);
    int rc = -1;
    bool pressed = false, stopped = false;

    if (!dom)
        return -1;
    if (virDomainIsActive(dom) != 1) {
        progress_report(p, "%s is not running", name);
        rc = 0;
        goto cleanup;
    }

    if (timeout > 0) {
        pressed = virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) == 0;
        if (pressed) {
            progress_report(p, "pressed the power button of %s; waiting up to %d s", name, timeout);
            for (int i = 0; i < timeout * 10 && !stopped; i++) {
                stopped = domain_stopped(dom);
                if (!stopped)
                    nanosleep(&pause, NULL);
            }
        } else {
            progress_report(p, "cannot press the power button of %s (%s)", name, virGetLastErrorMessage());
        }
    }
    if (!stopped) {
        if (pressed)
            progress_report(p, "%s did not stop within %d s; destroying it", name, timeout);
        else
            progress_report(p, "destroying %s", name);
        if (domain_destroy(dom) < 0)
            goto cleanup;
    }
    finished_record(dom, &meta);
    progress_report(p, "%s stopped", name);
    rc = 0;

cleanup:
    lv_meta_free(&meta);
    virDomainFree(dom);
    return rc;
}

int lv_kill(struct backend *b, const char *name)
{
    struct lv_meta meta;
    virDomainPtr dom = domain_get(b, name, &meta);
    int rc = -1;

    if (!dom)
        return -1;
    if (virDomainIsActive(dom) != 1) {
        err_set("instance %s is not running", name);
        goto cleanup;
    }
    if (domain_destroy(dom) < 0)
        goto cleanup;
    finished_record(dom, &meta);
    rc = 0;

cleanup:
    lv_meta_free(&meta);
    virDomainFree(dom);
    return rc;
}

/* The instance directory to delete: the log's directory when it is named after the instance. */
static char *remove_dir(const char *name, const struct lv_meta *meta)
{
    char *copy, *dir = NULL;

    if (meta->log_path) {
        copy = xstrdup(meta->log_path);
        dir = xstrdup(dirname(copy));
        free(copy);
        copy = xstrdup(dir);
        if (strcmp(basename(copy), name) != 0) {
            free(dir);
            dir = NULL;
        }
        free(copy);
    }
    return dir ? dir : instance_dir(name);
}

int lv_remove(struct backend *b, const char *name, bool force)
{
    struct lv_meta meta;
    virDomainPtr dom = domain_get(b, name, &meta);
    char *dir = NULL;
    int rc = -1;

    if (!dom)
        return -1;
    if (virDomainIsActive(dom) == 1) {
        if (!force) {
            err_set("instance %s is running; stop it first or use -f", name);
            goto cleanup;
        }
        if (domain_destroy(dom) < 0)
            goto cleanup;
    }
    if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                                        VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0) {
        lv_error_set("cannot undefine instance %s", name);
        goto cleanup;
    }
    dir = remove_dir(name, &meta);
    if (rm_rf(dir) < 0)
        goto cleanup;
    log_debug("removed %s and %s", name, dir);
    rc = 0;

cleanup:
    free(dir);
    lv_meta_free(&meta);
    virDomainFree(dom);
    return rc;
}
