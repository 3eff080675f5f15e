/*
 * Instance verbs: ps, logs, console, stop, kill, start, restart, rm, stats,
 * events and info. Each opens one backend connection and works only through
 * the backend vtable, because libvirt is the only record of what exists.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "connect.h"
#include "runopts.h"
#include "store.h"

#define STOP_TIMEOUT_DEFAULT 10
#define FOLLOW_POLL_MS 100
#define DETACH_KEY 0x1d /* Ctrl-] */
/* How long kiln events tries to reconnect after the connection was lost (s). */
#define EVENTS_RECONNECT_S 30

static int format_json(struct cli_args *args, bool *json)
{
    const char *format = cli_get(args, "format");

    *json = false;
    if (!format || strcmp(format, "table") == 0 || strcmp(format, "text") == 0)
        return 0;
    if (strcmp(format, "json") == 0) {
        *json = true;
        return 0;
    }
    cli_usage_error(args, "invalid format '%s': use json, or table (also called text) for the default", format);
    return -1;
}

static bool state_active(enum instance_state s)
{
    return s == INSTANCE_RUNNING || s == INSTANCE_PAUSED || s == INSTANCE_STOPPING;
}

/* Blocks SIGINT, SIGTERM and SIGHUP (before the backend starts its thread) and returns a signalfd for them. */
static int signals_take(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* A shell starts background jobs with SIGINT ignored; an ignored signal never reaches the signalfd. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

/* ---- ps ---- */

/* One row of kiln ps, formatted. */
struct ps_row {
    char *cells[7];
};

static int cmd_ps(struct cli_args *args)
{
    static const char *const headers[7] = {"NAME", "IMAGE", "STATUS", "CPU", "MEMORY", "PORTS", "CREATED"};
    struct backend *b;
    struct instance *list = NULL;
    struct ps_row *rows;
    size_t n = 0, width[7];
    long long now = (long long)time_now();
    bool json;

    if (format_json(args, &json) < 0)
        return EXIT_USAGE;
    b = connect_open(args->connect);
    if (!b || connect_ops->list(b, cli_flag(args, "all"), &list, &n) < 0) {
        connect_close(b);
        return cli_fail();
    }
    connect_close(b);

    if (json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            char *text = runopts_instance_json(&list[i], now, false);

            printf("%s%s", i ? "," : "", text);
            free(text);
        }
        printf("]\n");
        instance_list_free(list, n);
        return EXIT_OK;
    }
    if (cli_flag(args, "quiet")) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", list[i].name);
        instance_list_free(list, n);
        return EXIT_OK;
    }

    rows = xcalloc(n + 1, sizeof(*rows));
    for (int c = 0; c < 7; c++)
        width[c] = strlen(headers[c]);
    for (size_t i = 0; i < n; i++) {
        char status[128], ports[512], created[64], span[48];

        runopts_status(&list[i], now, status, sizeof(status));
        runopts_ports(list[i].ports, list[i].n_ports, ports, sizeof(ports));
        fmt_duration(now > list[i].created ? now - list[i].created : 0, span, sizeof(span));
        snprintf(created, sizeof(created), "%s ago", span);
        rows[i].cells[0] = xstrdup(list[i].name);
        rows[i].cells[1] = xstrdup(list[i].image ? list[i].image : "-");
        rows[i].cells[2] = xstrdup(status);
        rows[i].cells[3] = xasprintf("%d", list[i].cpus);
        rows[i].cells[4] = xasprintf("%lldM", list[i].memory_mib);
        rows[i].cells[5] = xstrdup(ports);
        rows[i].cells[6] = xstrdup(created);
        for (int c = 0; c < 7; c++)
            if (strlen(rows[i].cells[c]) > width[c])
                width[c] = strlen(rows[i].cells[c]);
    }
    for (int c = 0; c < 6; c++)
        printf("%-*s   ", (int)width[c], headers[c]);
    printf("%s\n", headers[6]);
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 6; c++)
            printf("%-*s   ", (int)width[c], rows[i].cells[c]);
        printf("%s\n", rows[i].cells[6]);
        for (int c = 0; c < 7; c++)
            free(rows[i].cells[c]);
    }
    free(rows);
    instance_list_free(list, n);
    return EXIT_OK;
}

/* ---- logs ---- */

static int cmd_logs(struct cli_args *args)
{
    const char *name = args->argv[0], *tail = cli_get(args, "tail");
    bool follow = cli_flag(args, "follow");
    struct runopts_filter filter;
    struct backend *b;
    struct instance inst;
    long long lines = -1, offset = 0;
    char *text = NULL, *shown = NULL;
    size_t len = 0, shown_len;
    int rc = EXIT_RUNTIME, sigfd = -1, fd = -1;

    if (tail && strcmp(tail, "all") != 0 && parse_int(tail, 0, 1LL << 40, &lines) < 0)
        return cli_usage_error(args, "invalid --tail '%s': use a number of lines or all", tail);
    if (follow)
        sigfd = signals_take();
    b = connect_open(args->connect);
    if (!b || connect_ops->lookup(b, name, &inst) < 0) {
        connect_close(b);
        return cli_fail();
    }

    runopts_filter_init(&filter);
    if (inst.log_path && path_exists(inst.log_path)) {
        text = file_read(inst.log_path, &len);
        if (!text)
            goto fail;
    }
    offset = (long long)len;
    shown = xmalloc(2 * len + 300);
    shown_len = runopts_filter_feed(&filter, text ? text : "", len, shown);
    if (!follow)
        shown_len += runopts_filter_flush(&filter, shown + shown_len);
    {
        size_t from = lines >= 0 ? runopts_tail_start(shown, shown_len, lines) : 0;

        fd_write_all(STDOUT_FILENO, shown + from, shown_len - from);
    }

    while (follow) {
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
        char buf[16384], out[2 * sizeof(buf) + 300];
        ssize_t got;
        bool active;

        if (poll(&pfd, 1, FOLLOW_POLL_MS * 10) > 0)
            break;
        if (fd < 0 && inst.log_path)
            fd = open(inst.log_path, O_RDONLY | O_CLOEXEC);
        while (fd >= 0 && (got = pread(fd, buf, sizeof(buf), (off_t)offset)) > 0) {
            offset += got;
            fd_write_all(STDOUT_FILENO, out, runopts_filter_feed(&filter, buf, (size_t)got, out));
        }
        instance_free(&inst);
        if (connect_ops->lookup(b, name, &inst) < 0)
            break;
        active = state_active(inst.state);
        if (!active) {
            /* Give virtlogd a moment for the last lines, then stop following like docker logs -f. */
            usleep(300 * 1000);
            while (fd >= 0 && (got = pread(fd, buf, sizeof(buf), (off_t)offset)) > 0) {
                offset += got;
                fd_write_all(STDOUT_FILENO, out, runopts_filter_feed(&filter, buf, (size_t)got, out));
            }
            fd_write_all(STDOUT_FILENO, out, runopts_filter_flush(&filter, out));
            break;
        }
    }
    rc = EXIT_OK;
    goto cleanup;

fail:
    rc = cli_fail();

cleanup:
    if (fd >= 0)
        close(fd);
    if (sigfd >= 0)
        close(sigfd);
    free(text);
    free(shown);
    instance_free(&inst);
    connect_close(b);
    return rc;
}

/* ---- console ---- */

static struct termios console_saved;
static bool console_raw;

static void console_restore(void)
{
    if (console_raw) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &console_saved);
        console_raw = false;
    }
}

static void console_on_signal(int sig)
{
    console_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Puts the terminal in raw mode, restored at exit and on fatal signals. */
static int console_raw_enter(void)
{
    struct termios raw;
    static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS};

    if (!isatty(STDIN_FILENO))
        return 0;
    if (tcgetattr(STDIN_FILENO, &console_saved) < 0) {
        err_set_errno(errno, "cannot read the terminal settings");
        return -1;
    }
    atexit(console_restore);
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
        signal(signals[i], console_on_signal);
    raw = console_saved;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0) {
        err_set_errno(errno, "cannot put the terminal in raw mode");
        return -1;
    }
    console_raw = true;
    return 0;
}

static int cmd_console(struct cli_args *args)
{
    const char *name = args->argv[0];
    struct backend *b = connect_open(args->connect);
    struct instance inst;
    bool input = true, detached = false;
    int fd = -1, rc = EXIT_RUNTIME;

    if (!b || connect_ops->lookup(b, name, &inst) < 0) {
        connect_close(b);
        return cli_fail();
    }
    if (!state_active(inst.state)) {
        err_set("instance %s is not running; start it with kiln start %s, or read its output with kiln logs %s",
                name, name, name);
        goto fail;
    }
    fd = connect_ops->console_open(b, name);
    if (fd < 0)
        goto fail;
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "Connected to %s; press Ctrl-] to detach.\r\n", name);
    if (console_raw_enter() < 0)
        goto fail;

    for (;;) {
        struct pollfd pfds[2] = {{.fd = fd, .events = POLLIN}, {.fd = input ? STDIN_FILENO : -1, .events = POLLIN}};
        char buf[4096];
        ssize_t n;

        if (poll(pfds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfds[0].revents) {
            n = read(fd, buf, sizeof(buf));
            if (n <= 0)
                break;
            fd_write_all(STDOUT_FILENO, buf, (size_t)n);
        }
        if (pfds[1].revents) {
            char *key;

            n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                input = false; /* keep showing output after the end of input */
                continue;
            }
            key = memchr(buf, DETACH_KEY, (size_t)n);
            if (key)
                n = key - buf;
            if (n > 0 && fd_write_all(fd, buf, (size_t)n) < 0)
                break;
            if (key) {
                detached = true;
                break;
            }
        }
    }
    console_restore();
    if (!detached && !connect_ops->alive(b)) {
        err_set("the connection to libvirt was lost; %s may still be running: attach again with kiln console %s",
                name, name);
        fputc('\n', stderr);
        goto fail;
    }
    if (!detached) {
        struct instance now;

        /* The stream also ends when another client takes the console over. */
        if (connect_ops->lookup(b, name, &now) == 0) {
            bool running = now.state == INSTANCE_RUNNING;

            instance_free(&now);
            if (running) {
                fputc('\n', stderr);
                err_set("another client took over the console of %s, which is still running; attach again "
                        "with kiln console %s", name, name);
                goto fail;
            }
        }
        err_clear();
    }
    fprintf(stderr, detached ? "\nDetached from %s.\n" : "\nConsole of %s closed (the VM stopped).\n", name);
    rc = EXIT_OK;
    goto cleanup;

fail:
    console_restore();
    rc = cli_fail();

cleanup:
    if (fd >= 0)
        close(fd);
    instance_free(&inst);
    connect_close(b);
    return rc;
}

/* ---- stop, kill, start, restart, rm ---- */

static void print_progress(void *ctx, const char *message)
{
    (void)ctx;
    log_debug("%s", message);
}

static int stop_timeout(struct cli_args *args, int *timeout)
{
    const char *t = cli_get(args, "time");
    long long value = STOP_TIMEOUT_DEFAULT;

    if (t && parse_int(t, 0, 3600, &value) < 0) {
        cli_usage_error(args, "invalid timeout '%s': use seconds from 0 to 3600", t);
        return -1;
    }
    *timeout = (int)value;
    return 0;
}

/*
 * Appends a KILN-EXIT line for SIGKILL to the console log of a destroyed
 * instance, so ps and inspect report how it ended as docker does (137).
 */
static void kill_record(const char *log_path)
{
    static const char line[] = "\nKILN-EXIT signal=9\n";
    int fd;

    if (!log_path)
        return;
    fd = open(log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 || fd_write_all(fd, line, sizeof(line) - 1) < 0)
        log_debug("cannot record the kill in %s: %s", log_path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

enum lifecycle_action { ACTION_STOP, ACTION_KILL, ACTION_START, ACTION_RESTART, ACTION_REMOVE };

static int lifecycle_one(struct backend *b, enum lifecycle_action action, const char *name, int timeout, bool force)
{
    struct progress p = {print_progress, NULL};
    struct instance inst;
    int rc = -1;

    if (connect_ops->lookup(b, name, &inst) < 0)
        return -1;
    switch (action) {
    case ACTION_STOP:
        rc = state_active(inst.state) ? connect_ops->stop(b, name, timeout, &p) : 0;
        break;
    case ACTION_KILL:
        if (!state_active(inst.state)) {
            err_set("instance %s is not running", name);
            break;
        }
        rc = connect_ops->kill(b, name);
        if (rc == 0)
            kill_record(inst.log_path);
        break;
    case ACTION_START:
        rc = state_active(inst.state) ? 0 : connect_ops->start(b, name);
        break;
    case ACTION_RESTART:
        rc = state_active(inst.state) ? connect_ops->stop(b, name, timeout, &p) : 0;
        if (rc == 0)
            rc = connect_ops->start(b, name);
        break;
    case ACTION_REMOVE:
        if (state_active(inst.state) && !force) {
            err_set("instance %s is running; stop it first with kiln stop %s, or use kiln rm -f %s", name, name,
                    name);
            break;
        }
        rc = connect_ops->remove(b, name, force);
        break;
    }
    instance_free(&inst);
    return rc;
}

/* Runs ACTION on every named instance, printing each name that succeeded; exit status 1 when any failed. */
static int lifecycle(struct cli_args *args, enum lifecycle_action action)
{
    struct backend *b;
    int timeout = STOP_TIMEOUT_DEFAULT, status = EXIT_OK;

    if ((action == ACTION_STOP || action == ACTION_RESTART) && stop_timeout(args, &timeout) < 0)
        return EXIT_USAGE;
    b = connect_open(args->connect);
    if (!b)
        return cli_fail();
    for (int i = 0; i < args->argc; i++) {
        if (lifecycle_one(b, action, args->argv[i], timeout, cli_flag(args, "force")) < 0)
            status = cli_fail();
        else
            printf("%s\n", args->argv[i]);
        fflush(stdout);
    }
    connect_close(b);
    return status;
}

static int cmd_stop(struct cli_args *args) { return lifecycle(args, ACTION_STOP); }
static int cmd_kill(struct cli_args *args) { return lifecycle(args, ACTION_KILL); }
static int cmd_start(struct cli_args *args) { return lifecycle(args, ACTION_START); }
static int cmd_restart(struct cli_args *args) { return lifecycle(args, ACTION_RESTART); }
static int cmd_rm(struct cli_args *args) { return lifecycle(args, ACTION_REMOVE); }

/* ---- stats ---- */

static const struct instance_stats *stats_find(const struct instance_stats *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

static int stats_compare(const void *a, const void *b)
{
    return strcmp(((const struct instance_stats *)a)->name, ((const struct instance_stats *)b)->name);
}

static void stats_print(const struct instance_stats *before, size_t n_before, const struct instance_stats *after,
                        size_t n_after, bool json)
{
    json_t *array = json ? json_array() : NULL;

    /* The backend's memory figure is the qemu process's RSS when it can read it, which includes QEMU's own
       memory and can exceed the VM's memory, so no percentage of the VM's memory is shown. */
    if (!json)
        printf("%-24s %7s %10s %10s %11s %11s %11s %11s\n", "NAME", "CPU %", "MEM USAGE", "VM MEMORY",
               "NET RX/s", "NET TX/s", "BLOCK R/s", "BLOCK W/s");
    for (size_t i = 0; i < n_after; i++) {
        const struct instance_stats *s = &after[i], *prev = stats_find(before, n_before, s->name);
        struct runopts_rates r = {0};
        char mem[32], max[32], rx[32], tx[32], rd[32], wr[32];

        if (!state_active(s->state))
            continue;
        if (prev)
            runopts_rates(prev, s, &r);
        if (json) {
            json_array_append_new(array, json_pack("{s:s, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:i}", "name",
                                                   s->name, "cpu_percent", r.cpu_percent, "mem_bytes",
                                                   (json_int_t)(s->mem_kib * 1024), "vm_memory_bytes",
                                                   (json_int_t)(s->mem_max_kib * 1024), "net_rx_bytes_per_s",
                                                   r.net_rx, "net_tx_bytes_per_s", r.net_tx,
                                                   "block_read_bytes_per_s", r.blk_rd, "block_write_bytes_per_s",
                                                   r.blk_wr, "vcpus", s->vcpus));
            continue;
        }
        printf("%-24s %6.1f%% %10s %10s %9s/s %9s/s %9s/s %9s/s\n", s->name, r.cpu_percent,
               fmt_size(s->mem_kib * 1024, mem, sizeof(mem)), fmt_size(s->mem_max_kib * 1024, max, sizeof(max)),
               fmt_size((unsigned long long)r.net_rx, rx, sizeof(rx)),
               fmt_size((unsigned long long)r.net_tx, tx, sizeof(tx)),
               fmt_size((unsigned long long)r.blk_rd, rd, sizeof(rd)),
               fmt_size((unsigned long long)r.blk_wr, wr, sizeof(wr)));
    }
    if (json) {
        char *text = json_dumps(array, JSON_SORT_KEYS | JSON_INDENT(4));

        printf("%s\n", text);
        free(text);
        json_decref(array);
    }
    fflush(stdout);
}

static int cmd_stats(struct cli_args *args)
{
    struct instance_stats *before = NULL, *after = NULL;
    size_t n_before = 0, n_after = 0;
    bool json, stream = !cli_flag(args, "no-stream"), clear = isatty(STDOUT_FILENO);
    struct backend *b;
    int sigfd = -1, rc = EXIT_RUNTIME;

    if (format_json(args, &json) < 0)
        return EXIT_USAGE;
    if (stream)
        sigfd = signals_take();
    b = connect_open(args->connect);
    if (!b || connect_ops->stats(b, &before, &n_before) < 0)
        goto fail;
    for (;;) {
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};

        /* Rates need two samples about a second apart. */
        if (poll(sigfd >= 0 ? &pfd : NULL, sigfd >= 0 ? 1 : 0, 1000) > 0)
            break;
        if (connect_ops->stats(b, &after, &n_after) < 0)
            goto fail;
        qsort(after, n_after, sizeof(*after), stats_compare);
        if (stream && clear)
            printf("\033[H\033[J");
        stats_print(before, n_before, after, n_after, json);
        instance_stats_list_free(before, n_before);
        before = after;
        n_before = n_after;
        after = NULL;
        n_after = 0;
        if (!stream)
            break;
    }
    rc = EXIT_OK;
    goto cleanup;

fail:
    rc = cli_fail();

cleanup:
    instance_stats_list_free(before, n_before);
    instance_stats_list_free(after, n_after);
    if (sigfd >= 0)
        close(sigfd);
    connect_close(b);
    return rc;
}

/* ---- events ---- */

static const char *event_name(enum backend_event e)
{
    static const char *const names[EVENT_LAST] = {
        [EVENT_DEFINED] = "defined", [EVENT_STARTED] = "started", [EVENT_STOPPED] = "stopped",
        [EVENT_CRASHED] = "crashed", [EVENT_REMOVED] = "removed", [EVENT_PAUSED] = "paused",
        [EVENT_RESUMED] = "resumed", [EVENT_DISCONNECTED] = "disconnected",
    };

    return (int)e >= 0 && e < EVENT_LAST && names[e] ? names[e] : "unknown";
}

/* Write end of the pipe that wakes the main thread when the connection is lost. */
static int events_lost_fd = -1;
/* Instances seen paused, touched only on the backend's event thread. */
static struct strv events_paused;

/*
 * libvirt starts a domain paused and resumes it, so every start also sends a
 * "resumed" event, with the same detail as a real resume. Only a resume of an
 * instance seen paused is printed.
 * NOTE: an instance paused before kiln events began has its resume dropped.
 */
static bool event_shown(const char *name, enum backend_event event)
{
    if (!name)
        return true;
    if (event == EVENT_PAUSED && !strv_contains(&events_paused, name))
        strv_push(&events_paused, name);
    if (event != EVENT_RESUMED)
        return true;
    for (size_t i = 0; i < events_paused.len; i++) {
        if (strcmp(events_paused.items[i], name) == 0) {
            free(events_paused.items[i]);
            events_paused.items[i] = events_paused.items[--events_paused.len];
            events_paused.items[events_paused.len] = NULL;
            return true;
        }
    }
    return false;
}

static void on_event(void *ctx, const char *name, enum backend_event event)
{
    char when[40];
    bool json = *(bool *)ctx;

    if (!event_shown(name, event))
        return;
    time_rfc3339((long long)time_now(), when, sizeof(when));
    if (json) {
        json_t *obj = json_pack("{s:s, s:o, s:s}", "time", when, "name", name ? json_string(name) : json_null(),
                                "event", event_name(event));
        char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

        printf("%s\n", text);
        free(text);
        json_decref(obj);
    } else {
        printf("%s %s %s\n", when, name ? name : "-", event_name(event));
    }
    fflush(stdout);
    if (event == EVENT_DISCONNECTED && events_lost_fd >= 0 && write(events_lost_fd, "x", 1) < 0)
        log_debug("cannot signal the lost connection: %s", strerror(errno));
}

/*
 * Opens a new connection after the old one was lost (a restarted libvirtd keeps
 * its domains) and subscribes again, trying for EVENTS_RECONNECT_S seconds or
 * until a signal arrives on SIGFD. Returns 0 when subscribed again, 1 on a
 * signal, -1 with the error record set. Events in the gap are not reported.
 */
static int events_reconnect(const char *uri, struct backend **b, bool *json, int sigfd)
{
    connect_ops->events_stop(*b);
    connect_close(*b);
    *b = NULL;
    for (int i = 0; i < EVENTS_RECONNECT_S; i++) {
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};

        if (poll(&pfd, 1, 1000) > 0)
            return 1;
        *b = connect_open(uri);
        if (*b && connect_ops->events_start(*b, on_event, json) == 0) {
            log_debug("reconnected to libvirt for events");
            return 0;
        }
        connect_close(*b);
        *b = NULL;
    }
    err_set("the connection to libvirt was lost and could not be opened again; is libvirtd running?");
    return -1;
}

static int cmd_events(struct cli_args *args)
{
    struct backend *b;
    int lost[2], sigfd, rc = EXIT_OK, again;
    bool json;

    if (format_json(args, &json) < 0)
        return EXIT_USAGE;
    sigfd = signals_take();
    if (pipe2(lost, O_CLOEXEC) < 0) {
        err_set_errno(errno, "cannot create a pipe");
        return cli_fail();
    }
    events_lost_fd = lost[1];
    b = connect_open(args->connect);
    if (!b || connect_ops->events_start(b, on_event, &json) < 0) {
        rc = cli_fail();
        goto cleanup;
    }
    for (;;) {
        struct pollfd pfds[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = lost[0], .events = POLLIN}};
        char byte;

        if (poll(pfds, 2, -1) < 0 && errno == EINTR)
            continue;
        if (!pfds[1].revents)
            break;
        if (read(lost[0], &byte, 1) < 0)
            log_debug("cannot read the lost-connection pipe: %s", strerror(errno));
        again = events_reconnect(args->connect, &b, &json, sigfd);
        if (again < 0)
            rc = cli_fail();
        if (again != 0)
            break;
    }
    if (b)
        connect_ops->events_stop(b);
    strv_free(&events_paused);

cleanup:
    connect_close(b);
    events_lost_fd = -1;
    close(lost[0]);
    close(lost[1]);
    close(sigfd);
    return rc;
}

/* ---- info ---- */

static void version_format(unsigned long v, char *buf, size_t size)
{
    if (v == 0)
        snprintf(buf, size, "unknown");
    else
        snprintf(buf, size, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

static int cmd_info(struct cli_args *args)
{
    struct backend_info info;
    struct backend *b = connect_open(args->connect);
    struct instance *list = NULL;
    size_t n = 0, running = 0;
    char libvirt[32], hv[32], mem[32], free_mem[32];

    if (!b || connect_ops->info(b, &info) < 0) {
        connect_close(b);
        return cli_fail();
    }
    if (connect_ops->list(b, true, &list, &n) == 0)
        for (size_t i = 0; i < n; i++)
            running += state_active(list[i].state);
    version_format(info.libvirt_version, libvirt, sizeof(libvirt));
    version_format(info.hv_version, hv, sizeof(hv));
    printf("URI:           %s\n", info.uri);
    printf("libvirt:       %s\n", libvirt);
    printf("Hypervisor:    %s %s\n", info.hypervisor, hv);
    /* The reason may quote a multi-line libvirt error; keep it on one line. */
    for (char *p = info.accel_reason; p && *p; p++)
        if (*p == '\n')
            *p = ' ';
    printf("Acceleration:  %s (%s)\n", info.accel, info.accel_reason ? info.accel_reason : "no reason given");
    printf("Host:          %d CPUs, %s memory, %s free\n", info.host_cpus,
           fmt_size(info.host_mem_kib * 1024, mem, sizeof(mem)),
           fmt_size(info.host_mem_free_kib * 1024, free_mem, sizeof(free_mem)));
    printf("Instances:     %zu (%zu running)\n", n, running);
    printf("Store:         %s\n", store_root());
    instance_list_free(list, n);
    backend_info_free(&info);
    connect_close(b);
    return EXIT_OK;
}

static const struct cli_option ps_options[] = {
    {"all", 'a', NULL, "list stopped instances too", false},
    {"quiet", 'q', NULL, "print only the names", false},
    {"format", 0, "FORMAT", "output format: table (default) or json", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option logs_options[] = {
    {"follow", 'f', NULL, "keep printing new output until the instance stops", false},
    {"tail", 'n', "N", "print only the last N lines (default: all)", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option stop_options[] = {
    {"time", 't', "SECONDS", "seconds to wait after the power button before destroying the VM (default 10)", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option rm_options[] = {
    {"force", 'f', NULL, "destroy a running instance first", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option stats_options[] = {
    {"no-stream", 0, NULL, "print one table (rates over one second) and exit", false},
    {"format", 0, "FORMAT", "output format: table (default) or json", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option events_options[] = {
    {"format", 0, "FORMAT", "output format: text (default) or json, one event per line", false},
    {NULL, 0, NULL, NULL, false},
};

const struct cli_verb cmd_instance_verbs[] = {
    {"ps", "", "List instances (running only unless -a)", ps_options, 0, 0, false, cmd_ps},
    {"logs", "NAME", "Print an instance's console output, also after it stopped", logs_options, 1, 1, false,
     cmd_logs},
    {"console", "NAME", "Attach to an instance's serial console (Ctrl-] detaches)", NULL, 1, 1, false, cmd_console},
    {"stop", "NAME...", "Stop instances gracefully: SIGTERM to the app, then power off", stop_options, 1, -1, false,
     cmd_stop},
    {"kill", "NAME...", "Destroy running instances at once", NULL, 1, -1, false, cmd_kill},
    {"start", "NAME...", "Start stopped instances", NULL, 1, -1, false, cmd_start},
    {"restart", "NAME...", "Stop and start instances", stop_options, 1, -1, false, cmd_restart},
    {"rm", "NAME...", "Remove instances: the libvirt domain and its files", rm_options, 1, -1, false, cmd_rm},
    {"stats", "", "Show CPU, memory, network and disk rates of running instances", stats_options, 0, 0, false,
     cmd_stats},
    {"events", "", "Print instance lifecycle events as they happen (Ctrl-C ends)", events_options, 0, 0, false,
     cmd_events},
    {"info", "", "Show the libvirt connection, versions, acceleration and store", NULL, 0, 0, false, cmd_info},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
