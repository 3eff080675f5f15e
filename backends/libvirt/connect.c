/* The libvirt connection: URI choice, error conversion, the event loop thread and the vtable. */
#include "backends/libvirt/lv.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYSTEM_SOCKET "/run/libvirt/libvirt-sock"
#define DAEMON_HINT "start the daemon with: libvirtd -d (and virtlogd -d)"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status;

static void error_discard(void *ctx, virErrorPtr error)
{
    (void)ctx;
    (void)error;
}

void lv_error_set(const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set("%s: %s", msg, virGetLastErrorMessage());
}

bool lv_error_is(int code)
{
    virErrorPtr e = virGetLastError();

    return e && e->code == code;
}

static void *event_loop_run(void *arg)
{
    (void)arg;
    for (;;) {
        if (virEventRunDefaultImpl() < 0) {
            log_debug("event loop iteration failed: %s", virGetLastErrorMessage());
            usleep(100 * 1000);
        }
    }
    return NULL;
}

/* Initializes libvirt once: silent errors, the default event loop on its own thread. */
static void library_init(void)
{
    pthread_t thread;
    pthread_attr_t attr;
    int rc;

    if (virInitialize() < 0) {
        init_status = -1;
        return;
    }
    virSetErrorFunc(NULL, error_discard);
    if (virEventRegisterDefaultImpl() < 0) {
        init_status = -1;
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&thread, &attr, event_loop_run, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        init_status = rc;
}

void lv_event_loop_start(void)
{
    pthread_once(&init_once, library_init);
}

static char *env_nonempty(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? xstrdup(v) : NULL;
}

/* Reads the value of a `connect = URI` line from the config file at PATH; NULL when absent. */
static char *config_connect_uri(const char *path)
{
    char *text = file_read(path, NULL);
    char *uri = NULL, *line, *save = NULL;

    if (!text) {
        err_clear();
        return NULL;
    }
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *key = line, *value, *end;

        while (*key == ' ' || *key == '\t')
            key++;
        if (*key == '#' || strncmp(key, "connect", 7) != 0)
            continue;
        value = key + 7;
        while (*value == ' ' || *value == '\t')
            value++;
        if (*value != '=')
            continue;
        value++;
        while (*value == ' ' || *value == '\t')
            value++;
        end = value + strlen(value);
        while (end > value && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (*value) {
            free(uri);
            uri = xstrdup(value);
        }
    }
    free(text);
    return uri;
}

static char *config_uri(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *path = NULL, *uri = NULL;

    if (xdg && *xdg)
        path = xasprintf("%s/kiln/config", xdg);
    else if (home && *home)
        path = xasprintf("%s/.config/kiln/config", home);
    if (path) {
        uri = config_connect_uri(path);
        free(path);
        if (uri)
            return uri;
    }
    return config_connect_uri("/etc/kiln/config");
}

/* The URI from the explicit choice, $KILN_CONNECT, the config file or $LIBVIRT_DEFAULT_URI; NULL: the default. */
static char *uri_configured(const char *uri)
{
    char *chosen;

    if (uri && *uri)
        return xstrdup(uri);
    if ((chosen = env_nonempty("KILN_CONNECT")))
        return chosen;
    if ((chosen = config_uri()))
        return chosen;
    return env_nonempty("LIBVIRT_DEFAULT_URI");
}

static virConnectPtr open_uri(const char *uri)
{
    virConnectPtr conn = virConnectOpen(uri);

    if (!conn)
        lv_error_set("cannot connect to libvirt at %s", uri);
    else
        log_debug("connected to %s", uri);
    return conn;
}

/* Opens the default: qemu:///system for root when its daemon responds, else qemu:///session. */
static virConnectPtr open_default(void)
{
    virConnectPtr conn;

    if (geteuid() == 0 && path_exists(SYSTEM_SOCKET)) {
        conn = open_uri("qemu:///system");
        if (conn)
            return conn;
        log_debug("qemu:///system failed (%s); trying qemu:///session", err_msg());
    }
    return open_uri("qemu:///session");
}

/* True when URI names a hypervisor on this machine (no host part, or localhost). */
static bool uri_is_local(const char *uri)
{
    const char *p = strstr(uri, "://");
    size_t len;

    if (!p)
        return true;
    p += 3;
    len = strcspn(p, "/?");
    return len == 0 || (len == 9 && strncmp(p, "localhost", 9) == 0);
}

static void connection_closed(virConnectPtr conn, int reason, void *opaque)
{
    struct backend *b = opaque;

    (void)conn;
    log_debug("connection to %s closed (reason %d)", b->uri, reason);
    pthread_mutex_lock(&b->lock);
    b->lost = true;
    pthread_mutex_unlock(&b->lock);
    lv_events_emit(b, NULL, EVENT_DISCONNECTED);
}

static struct backend *lv_connect(const char *uri)
{
    struct backend *b;
    virConnectPtr conn;
    pthread_mutexattr_t attr;
    char *chosen, *canonical;

    lv_event_loop_start();
    if (init_status != 0) {
        err_set("cannot initialize libvirt: %s", virGetLastErrorMessage());
        return NULL;
    }

    chosen = uri_configured(uri);
    conn = chosen ? open_uri(chosen) : open_default();
    if (!conn) {
        char msg[900];

        snprintf(msg, sizeof(msg), "%s", err_msg());
        err_set("%s; " DAEMON_HINT, msg);
        free(chosen);
        return NULL;
    }
    free(chosen);

    b = xcalloc(1, sizeof(*b));
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&b->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&b->released, NULL);
    b->lifecycle_released = true;
    b->conn = conn;
    b->lifecycle_id = -1;
    canonical = virConnectGetURI(conn);
    b->uri = xstrdup(canonical ? canonical : "unknown");
    free(canonical);
    b->local = uri_is_local(b->uri);

    /* Drivers without keepalive or close callbacks (test:///, embedded) return -1, which is not an error. */
    if (virConnectSetKeepAlive(conn, 5, 3) < 0)
        log_debug("no keepalive on %s: %s", b->uri, virGetLastErrorMessage());
    if (virConnectRegisterCloseCallback(conn, connection_closed, b, NULL) == 0)
        b->close_registered = true;
    else
        log_debug("no close callback on %s: %s", b->uri, virGetLastErrorMessage());
    err_clear();
    return b;
}

static void lv_close(struct backend *b)
{
    if (!b)
        return;
    lv_events_stop(b);
    lv_events_wait_released(b);
    if (b->close_registered)
        virConnectUnregisterCloseCallback(b->conn, connection_closed);
    virConnectClose(b->conn);
    pthread_cond_destroy(&b->released);
    pthread_mutex_destroy(&b->lock);
    free(b->known);
    free(b->uri);
    free(b->accel);
    free(b->accel_reason);
    free(b);
}

static bool lv_alive(struct backend *b)
{
    bool lost;

    pthread_mutex_lock(&b->lock);
    lost = b->lost;
    pthread_mutex_unlock(&b->lock);
    return !lost && virConnectIsAlive(b->conn) == 1;
}

static int lv_info(struct backend *b, struct backend_info *info)
{
    virNodeInfo node;
    const char *type;
    unsigned long long free_bytes;

    memset(info, 0, sizeof(*info));
    info->uri = xstrdup(b->uri);
    type = virConnectGetType(b->conn);
    info->hypervisor = xstrdup(type ? type : "unknown");
    if (virConnectGetLibVersion(b->conn, &info->libvirt_version) < 0)
        info->libvirt_version = 0;
    if (virConnectGetVersion(b->conn, &info->hv_version) < 0)
        info->hv_version = 0;
    if (virNodeGetInfo(b->conn, &node) == 0) {
        info->host_cpus = (int)node.cpus;
        info->host_mem_kib = node.memory;
    }
    free_bytes = virNodeGetFreeMemory(b->conn);
    info->host_mem_free_kib = free_bytes / 1024;

    if (lv_accel_get(b, NULL) < 0) {
        backend_info_free(info);
        return -1;
    }
    info->accel = xstrdup(b->accel);
    info->accel_reason = xstrdup(b->accel_reason);
    err_clear();
    return 0;
}

const struct backend_ops backend_libvirt = {
    .name = "libvirt",
    .connect = lv_connect,
    .close = lv_close,
    .alive = lv_alive,
    .info = lv_info,
    .list = lv_list,
    .lookup = lv_lookup,
    .create = lv_create,
    .start = lv_start,
    .stop = lv_stop,
    .kill = lv_kill,
    .remove = lv_remove,
    .stats = lv_stats,
    .events_start = lv_events_start,
    .events_stop = lv_events_stop,
    .console_open = lv_console_open,
};
