/*
 * A dashboard on a fake backend, for tests/tui/attach.sh. Its instances have
 * stats that grow at known rates and a console that echoes in upper case. The
 * connection is lost while the file $FAKE_LOSE exists, and a stop takes 2 s.
 * Start and stop calls are appended to $FAKE_DIR/calls.log.
 * Environment: FAKE_DIR (console logs, call log), FAKE_LOSE (path of the loss switch).
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "ui/dash.h"

struct backend {
    double opened;
};

static double monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool lost(void)
{
    const char *path = getenv("FAKE_LOSE");

    return path && path_exists(path);
}

static struct backend *fake_connect(const char *uri)
{
    struct backend *b;

    if (lost()) {
        err_set("cannot connect to %s: the fake hypervisor is down", uri ? uri : "fake:///");
        return NULL;
    }
    b = xcalloc(1, sizeof(*b));
    b->opened = monotonic();
    return b;
}

static void fake_close(struct backend *b)
{
    free(b);
}

static bool fake_alive(struct backend *b)
{
    return !lost();
}

static int fake_info(struct backend *b, struct backend_info *info)
{
    memset(info, 0, sizeof(*info));
    info->uri = xstrdup("fake:///");
    info->hypervisor = xstrdup("QEMU");
    info->hv_version = 7002000;
    info->accel = xstrdup("tcg");
    info->host_cpus = 2;
    return 0;
}

static void fill(struct instance *inst, const char *name, enum instance_state state, int cpus)
{
    const char *dir = getenv("FAKE_DIR");

    memset(inst, 0, sizeof(*inst));
    inst->name = xstrdup(name);
    inst->uuid = xasprintf("00000000-0000-0000-0000-%012d", (int)name[0]);
    inst->image = xstrdup("hello:latest");
    inst->state = state;
    inst->exit_code = -1;
    inst->cpus = cpus;
    inst->memory_mib = 256;
    inst->created = 1764800000;
    inst->started = state == INSTANCE_RUNNING ? (long long)time(NULL) - 125 : 0;
    inst->log_path = xasprintf("%s/%s.log", dir ? dir : "/tmp", name);
}

static int fake_list(struct backend *b, bool all, struct instance **out, size_t *n)
{
    struct instance *list = xcalloc(3, sizeof(*list));

    fill(&list[0], "alpha", INSTANCE_RUNNING, 2);
    fill(&list[1], "beta", INSTANCE_EXITED, 1);
    list[1].exit_code = 3;
    fill(&list[2], "gamma", INSTANCE_CRASHED, 1);
    *out = list;
    *n = 3;
    return 0;
}

static int fake_lookup(struct backend *b, const char *name, struct instance *out)
{
    err_set("no such instance %s", name);
    return -1;
}

/* Appends "WHAT NAME" to the call log. */
static void log_call(const char *what, const char *name)
{
    const char *dir = getenv("FAKE_DIR");
    char *path = xasprintf("%s/calls.log", dir ? dir : "/tmp");
    char *line = xasprintf("%s %s\n", what, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    if (fd >= 0) {
        if (write(fd, line, strlen(line)) < 0)
            perror(path);
        close(fd);
    }
    free(line);
    free(path);
}

static int fake_start(struct backend *b, const char *name)
{
    log_call("start", name);
    return 0;
}

static int fake_kill(struct backend *b, const char *name)
{
    return 0;
}

static int fake_create(struct backend *b, const struct run_spec *spec)
{
    return 0;
}

static int fake_stop(struct backend *b, const char *name, int timeout, const struct progress *p)
{
    log_call("stop-begin", name);
    sleep(2);
    log_call("stop-end", name);
    return 0;
}

static int fake_remove(struct backend *b, const char *name, bool force)
{
    return 0;
}

/* alpha uses 1.5 CPUs and receives 2000 bytes per second since the connection opened. */
static int fake_stats(struct backend *b, struct instance_stats **out, size_t *n)
{
    struct instance_stats *s = xcalloc(1, sizeof(*s));
    double now = monotonic(), up = now - b->opened;

    s->name = xstrdup("alpha");
    s->state = INSTANCE_RUNNING;
    s->timestamp = now;
    s->cpu_ns = (unsigned long long)(up * 1.5e9);
    s->vcpus = 2;
    s->mem_kib = 100 * 1024;
    s->mem_max_kib = 256 * 1024;
    s->net_rx_bytes = (unsigned long long)(up * 2000);
    *out = s;
    *n = 1;
    return 0;
}

static int fake_events_start(struct backend *b, backend_event_fn fn, void *ctx)
{
    return 0;
}

static void fake_events_stop(struct backend *b)
{
}

/* Greets, then echoes every byte in upper case until the other end closes. */
static void *console_main(void *arg)
{
    int fd = (int)(long)arg;
    char buf[256];
    ssize_t n;
    static const char greeting[] = "fake console ready\r\n";

    if (write(fd, greeting, sizeof(greeting) - 1) < 0)
        return NULL;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (char)toupper((unsigned char)buf[i]);
        if (write(fd, buf, (size_t)n) < 0)
            break;
    }
    close(fd);
    return NULL;
}

static int fake_console_open(struct backend *b, const char *name)
{
    int sv[2];
    pthread_t thread;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err_set("cannot open the console of %s", name);
        return -1;
    }
    pthread_create(&thread, NULL, console_main, (void *)(long)sv[1]);
    pthread_detach(thread);
    return sv[0];
}

static const struct backend_ops fake_ops = {
    .name = "fake",
    .connect = fake_connect,
    .close = fake_close,
    .alive = fake_alive,
    .info = fake_info,
    .list = fake_list,
    .lookup = fake_lookup,
    .create = fake_create,
    .start = fake_start,
    .stop = fake_stop,
    .kill = fake_kill,
    .remove = fake_remove,
    .stats = fake_stats,
    .events_start = fake_events_start,
    .events_stop = fake_events_stop,
    .console_open = fake_console_open,
};

int main(void)
{
    struct ui_options opts = { .uri = "fake:///", .theme = NULL, .refresh = 1.0 };

    return ui_run_backend(&opts, &fake_ops);
}
