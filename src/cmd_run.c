/*
 * kiln run: checks every input, defines and starts an instance, then either
 * prints its name (-d) or streams its console log until the VM powers off and
 * exits with the application's own status. Ctrl-C presses the VM's power
 * button (kiln-init forwards SIGTERM to the app); a second Ctrl-C destroys it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "connect.h"
#include "runopts.h"
#include "store.h"
#include "volume.h"

/* Seconds kiln-init gives the app between SIGTERM and destruction when Ctrl-C stops a foreground run. */
#define RUN_STOP_TIMEOUT 10
/* The log is read every RUN_POLL_MS ms, and the domain state is checked every RUN_STATE_EVERY reads. */
#define RUN_POLL_MS 50
#define RUN_STATE_EVERY 10
/* After the domain stopped, how long to wait for virtlogd to write the last bytes (ms). */
#define RUN_DRAIN_MS 1000
/* How long a foreground run tries to reconnect after libvirtd went away (s). */
#define RUN_RECONNECT_S 30

extern char **environ;

/* Everything kiln run parsed from its command line; owns its strings. */
struct run_request {
    char name[RUNOPTS_NAME_MAX + 1];
    bool named;
    struct image image;
    struct strv env;
    struct strv args;
    bool have_args;
    struct port_map *ports;
    size_t n_ports;
    struct volume_mount *volumes;
    size_t n_volumes;
    long long memory_mib;
    int cpus;
};

static void request_free(struct run_request *r)
{
    image_free(&r->image);
    strv_free(&r->env);
    strv_free(&r->args);
    free(r->ports);
    for (size_t i = 0; i < r->n_volumes; i++) {
        free(r->volumes[i].volume);
        free(r->volumes[i].file);
        free(r->volumes[i].path);
    }
    free(r->volumes);
}

/* Parses the options that need no store and no connection; -1 with a usage error. */
static int request_parse(struct cli_args *args, struct run_request *r)
{
    const struct strv *ports = cli_get_all(args, "publish");
    const struct strv *volumes = cli_get_all(args, "volume");
    const struct strv *env = cli_get_all(args, "env");
    const struct strv *env_files = cli_get_all(args, "env-file");
    const char *name = cli_get(args, "name"), *memory = cli_get(args, "memory"), *cpus = cli_get(args, "cpus");

    if (name) {
        if (!runopts_name_valid(name)) {
            err_set("invalid instance name '%s': use letters, digits, '_', '.' and '-', starting with a letter or "
                    "digit, at most %d characters",
                    name, RUNOPTS_NAME_MAX);
            err_set_usage();
            return -1;
        }
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->named = true;
    }
    if (memory && (r->memory_mib = runopts_parse_memory(memory)) < 0)
        return -1;
    if (cpus && (r->cpus = runopts_parse_cpus(cpus)) < 0)
        return -1;

    r->ports = xcalloc(ports->len + 1, sizeof(*r->ports));
    for (size_t i = 0; i < ports->len; i++, r->n_ports++)
        if (runopts_parse_port(ports->items[i], &r->ports[i]) < 0)
            return -1;
    r->volumes = xcalloc(volumes->len + 1, sizeof(*r->volumes));
    for (size_t i = 0; i < volumes->len; i++) {
        if (runopts_parse_volume(volumes->items[i], &r->volumes[i]) < 0)
            return -1;
        r->n_volumes++;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(r->volumes[j].path, r->volumes[i].path) == 0) {
                err_set("mount point %s is given twice with -v; mount each volume on its own path",
                        r->volumes[i].path);
                err_set_usage();
                return -1;
            }
            if (strcmp(r->volumes[j].volume, r->volumes[i].volume) == 0) {
                err_set("volume %s is given twice with -v; mount it once", r->volumes[i].volume);
                err_set_usage();
                return -1;
            }
        }
    }
    /* Files first, then -e, so a -e value overrides the same key from a file (as docker does). */
    for (size_t i = 0; i < env_files->len; i++)
        if (runopts_read_env_file(env_files->items[i], &r->env) < 0)
            return -1;
    for (size_t i = 0; i < env->len; i++)
        if (runopts_parse_env(env->items[i], &r->env) < 0)
            return -1;
    for (int i = 1; i < args->argc; i++) {
        strv_push(&r->args, args->argv[i]);
        r->have_args = true;
    }
    return 0;
}

/* Loads the image and checks that its files are there. */
static int image_check(const char *ref, struct image *img)
{
    char *kernel, *initrd;
    int rc = 0;

    if (store_init() < 0 || store_image_get(ref, img) < 0)
        return -1;
    kernel = image_kernel_path(img);
    initrd = image_initrd_path(img);
    if (!path_exists(kernel) || !path_exists(initrd)) {
        err_set("image %s:%s is incomplete: %s is missing from the store; rebuild it with kiln build -t %s:%s DIR",
                img->name, img->tag, path_exists(kernel) ? initrd : kernel, img->name, img->tag);
        rc = -1;
    }
    free(kernel);
    free(initrd);
    return rc;
}

/* Picks a free default name "IMAGE-xxxxxx" or checks the given one is unused. */
static int name_choose(struct backend *b, struct run_request *r)
{
    struct instance inst;

    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned int random = 0;

        if (!r->named) {
            if (getrandom(&random, sizeof(random), 0) != (ssize_t)sizeof(random))
                random = (unsigned int)time_now() * 2654435761u + (unsigned int)attempt;
            runopts_default_name(r->image.name, random, r->name, sizeof(r->name));
        }
        if (connect_ops->lookup(b, r->name, &inst) < 0) {
            err_clear();
            return 0;
        }
        instance_free(&inst);
        if (r->named) {
            err_set("instance name %s is already in use; choose another with --name or remove it with kiln rm %s",
                    r->name, r->name);
            return -1;
        }
    }
    err_set("cannot find an unused name for an instance of %s; give one with --name", r->image.name);
    return -1;
}

/*
 * Resolves each volume to its file. Rejects a volume that a running instance
 * has mounted unless both mounts are read-only.
 */
static int volumes_check(struct backend *b, struct run_request *r)
{
    struct instance *list = NULL;
    size_t n = 0;
    int rc = -1;

    for (size_t i = 0; i < r->n_volumes; i++)
        if (volume_resolve(&r->volumes[i]) < 0)
            return -1;
    if (r->n_volumes == 0)
        return 0;
    if (connect_ops->list(b, false, &list, &n) < 0)
        return -1;
    for (size_t i = 0; i < r->n_volumes; i++) {
        for (size_t k = 0; k < n; k++) {
            for (size_t m = 0; m < list[k].n_volumes; m++) {
                const struct volume_mount *other = &list[k].volumes[m];

                if (!other->volume || strcmp(other->volume, r->volumes[i].volume) != 0)
                    continue;
                if (other->readonly && r->volumes[i].readonly)
                    continue;
                err_set("volume %s is in use by running instance %s; stop it first with kiln stop %s, or mount "
                        "the volume read-only (:ro) in both",
                        r->volumes[i].volume, list[k].name, list[k].name);
                goto cleanup;
            }
        }
    }
    rc = 0;

cleanup:
    instance_list_free(list, n);
    return rc;
}

/*
 * Removes what a failed create left behind: the backend keeps a domain that was
 * defined but did not start. A domain that started, or was created before
 * SINCE, belongs to a concurrent kiln run of the same name and stays.
 */
static void create_undo(struct backend *b, const char *name, long long since)
{
    char msg[1024];
    struct instance inst;
    bool usage = err_is_usage();

    snprintf(msg, sizeof(msg), "%s", err_msg());
    if (connect_ops->lookup(b, name, &inst) == 0) {
        if (inst.state == INSTANCE_CREATED && inst.started == 0 && inst.created >= since &&
            connect_ops->remove(b, name, true) < 0)
            log_debug("cannot remove the half-made instance %s: %s", name, err_msg());
        instance_free(&inst);
    }
    err_set("%s", msg);
    if (usage)
        err_set_usage();
}

/* Starts `kiln [-c URI] __autoremove NAME` in its own session, to remove a detached --rm instance once it stops. */
static void autoremove_spawn(const char *connect, const char *name)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    char *argv[6];
    int n = 0, rc;
    pid_t pid;

    argv[n++] = (char *)"kiln";
    if (connect) {
        argv[n++] = (char *)"-c";
        argv[n++] = (char *)connect;
    }
    argv[n++] = (char *)"__autoremove";
    argv[n++] = (char *)name;
    argv[n] = NULL;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv, environ);
    if (rc != 0)
        fprintf(stderr, "kiln: cannot start the watcher that removes %s when it stops (%s); remove it later with "
                        "kiln rm %s\n",
                name, strerror(rc), name);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
}

/* ---- foreground ---- */

/* The graceful stop of a foreground run, on its own thread so the log keeps streaming meanwhile. */
struct stopper {
    struct backend *b;
    const char *name;
    pthread_t thread;
    bool started;
    atomic_bool done;
};

static void *stopper_run(void *arg)
{
    struct stopper *s = arg;

    if (connect_ops->stop(s->b, s->name, RUN_STOP_TIMEOUT, NULL) < 0)
        log_debug("stop of %s failed: %s", s->name, err_msg());
    atomic_store(&s->done, true);
    return NULL;
}

/* Copies what was appended to the log since *OFFSET through the filter to stdout; returns the bytes read. */
static size_t log_pump(int fd, long long *offset, struct runopts_filter *f)
{
    char buf[16384], out[2 * sizeof(buf) + 256];
    size_t total = 0;
    ssize_t n;

    while ((n = pread(fd, buf, sizeof(buf), (off_t)*offset)) > 0) {
        size_t len = runopts_filter_feed(f, buf, (size_t)n, out);

        *offset += n;
        total += (size_t)n;
        if (fd_write_all(STDOUT_FILENO, out, len) < 0)
            log_debug("cannot write to stdout: %s", strerror(errno));
    }
    return total;
}

static bool state_active(enum instance_state s)
{
    return s == INSTANCE_RUNNING || s == INSTANCE_PAUSED || s == INSTANCE_STOPPING;
}

/*
 * Reopens *B when its connection was lost (a restarted libvirtd keeps running
 * its domains), trying for RUN_RECONNECT_S seconds. Returns true when connected.
 */
static bool connection_ensure(struct backend **b, const char *uri)
{
    if (*b && connect_ops->alive(*b))
        return true;
    for (int i = 0; i < RUN_RECONNECT_S * 2; i++) {
        connect_close(*b);
        *b = connect_open(uri);
        if (*b) {
            log_debug("reconnected to libvirt");
            return true;
        }
        usleep(500 * 1000);
    }
    return false;
}

/*
 * Streams the console log of NAME until the domain stops. Returns the app's
 * exit status, or -1 with the error record set when it is not known. URI is
 * the connection's URI: a second Ctrl-C opens a second connection with it.
 */
static int run_foreground(struct backend **b, const char *uri, const char *name, int sigfd)
{
    struct runopts_filter filter;
    struct stopper stopper = {.name = name};
    struct instance inst;
    long long offset = 0;
    char *log_path = NULL;
    int fd = -1, tick = 0, status = -1, interrupts = 0;
    bool running = true;
    char out[300];
    size_t len;

    runopts_filter_init(&filter);
    if (connect_ops->lookup(*b, name, &inst) < 0)
        return -1;
    log_path = inst.log_path ? xstrdup(inst.log_path) : NULL;
    instance_free(&inst);

    while (running) {
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};

        if (poll(&pfd, 1, RUN_POLL_MS) > 0) {
            struct signalfd_siginfo si;

            if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                interrupts++;
                if (interrupts == 1) {
                    fprintf(stderr, "kiln: stopping %s (Ctrl-C again destroys it at once)\n", name);
                    stopper.b = *b;
                    stopper.started = pthread_create(&stopper.thread, NULL, stopper_run, &stopper) == 0;
                } else if (interrupts == 2) {
                    /* The stop thread uses the connection, so the kill goes through a second one. */
                    struct backend *second = connect_open(uri);

                    fprintf(stderr, "kiln: destroying %s\n", name);
                    if (!second || connect_ops->kill(second, name) < 0)
                        fprintf(stderr, "kiln: cannot destroy %s: %s\n", name, err_msg());
                    connect_close(second);
                }
            }
        }
        if (fd < 0 && log_path)
            fd = open(log_path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            log_pump(fd, &offset, &filter);
        if (stopper.started && !atomic_load(&stopper.done))
            continue;
        if (++tick % RUN_STATE_EVERY != 0 && !stopper.started)
            continue;
        if (connect_ops->lookup(*b, name, &inst) < 0) {
            if (!stopper.started && !connect_ops->alive(*b) && connection_ensure(b, uri))
                continue;
            running = false;
            break;
        }
        running = state_active(inst.state);
        instance_free(&inst);
    }
    if (stopper.started)
        pthread_join(stopper.thread, NULL);

    /* virtlogd may write the last lines a moment after the domain stopped. */
    for (int waited = 0; fd >= 0 && filter.exit_code < 0 && filter.exit_signal == 0 && waited < RUN_DRAIN_MS;
         waited += RUN_POLL_MS) {
        if (log_pump(fd, &offset, &filter) == 0)
            usleep(RUN_POLL_MS * 1000);
    }
    if (fd < 0 && log_path)
        fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        log_pump(fd, &offset, &filter);
        close(fd);
    }
    len = runopts_filter_flush(&filter, out);
    fd_write_all(STDOUT_FILENO, out, len);

    status = runopts_exit_status(filter.exit_code, filter.exit_signal);
    if (status < 0 && connection_ensure(b, uri) && connect_ops->lookup(*b, name, &inst) == 0) {
        status = runopts_exit_status(inst.exit_code, inst.exit_signal);
        instance_free(&inst);
    }
    if (status < 0 && interrupts >= 2)
        status = 128 + SIGKILL;
    if (status < 0)
        err_set("instance %s stopped without reporting the app's exit status (the VM was destroyed or crashed); "
                "see kiln logs %s",
                name, name);
    free(log_path);
    return status;
}

/* Blocks the signals a foreground run handles, before any thread starts, and returns a signalfd for them. */
static int signals_take(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* A shell starts background jobs with SIGINT ignored; an ignored signal never reaches the signalfd. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_BLOCK, &set, old);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

static int cmd_run(struct cli_args *args)
{
    struct run_request r = {0};
    struct run_spec spec = {0};
    struct backend *b = NULL;
    bool detach = cli_flag(args, "detach"), remove = cli_flag(args, "rm");
    sigset_t old;
    long long since;
    int sigfd = -1, status = EXIT_RUNTIME;

    if (request_parse(args, &r) < 0) {
        request_free(&r);
        return cli_fail();
    }
    if (image_check(args->argv[0], &r.image) < 0)
        goto fail;
    if (r.memory_mib == 0 && r.image.memory_mib > 0 && r.image.memory_mib < RUNOPTS_MEMORY_MIN_MIB) {
        /* The kernel does not boot in that little memory, and the VM would end without any output. */
        log_debug("image %s asks for %lldM; running it with %dM", r.image.name, r.image.memory_mib,
                  RUNOPTS_MEMORY_MIN_MIB);
        r.memory_mib = RUNOPTS_MEMORY_MIN_MIB;
    }
    if (!detach)
        sigfd = signals_take(&old);
    b = connect_open(args->connect);
    if (!b || name_choose(b, &r) < 0 || volumes_check(b, &r) < 0)
        goto fail;

    spec.name = r.name;
    spec.image = &r.image;
    spec.memory_mib = r.memory_mib;
    spec.cpus = r.cpus;
    spec.ports = r.ports;
    spec.n_ports = r.n_ports;
    spec.env = &r.env;
    spec.args = r.have_args ? &r.args : NULL;
    spec.volumes = r.volumes;
    spec.n_volumes = r.n_volumes;
    spec.network = cli_get(args, "network");
    spec.auto_remove = remove;
    spec.start = true;
    since = (long long)time_now();
    if (connect_ops->create(b, &spec) < 0) {
        create_undo(b, r.name, since);
        goto fail;
    }

    if (detach) {
        printf("%s\n", r.name);
        if (remove)
            autoremove_spawn(args->connect, r.name);
        status = EXIT_OK;
        goto cleanup;
    }
    status = run_foreground(&b, args->connect, r.name, sigfd);
    if (status < 0) {
        cli_fail();
        status = EXIT_RUNTIME;
    }
    if (remove && (!connection_ensure(&b, args->connect) || connect_ops->remove(b, r.name, true) < 0))
        fprintf(stderr, "kiln: cannot remove %s: %s; remove it with kiln rm -f %s\n", r.name, err_msg(), r.name);
    goto cleanup;

fail:
    status = cli_fail();

cleanup:
    connect_close(b);
    if (sigfd >= 0) {
        close(sigfd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    request_free(&r);
    return status;
}

/* Hidden helper of run -d --rm: waits until NAME stops, then removes it. */
static int cmd_autoremove(struct cli_args *args)
{
    const char *name = args->argv[0];
    struct backend *b = NULL;
    struct instance inst;
    int rc = EXIT_RUNTIME;

    for (;;) {
        if (!b || !connect_ops->alive(b)) {
            connect_close(b);
            b = connect_open(args->connect);
            if (!b) {
                sleep(5);
                continue;
            }
        }
        if (connect_ops->lookup(b, name, &inst) < 0)
            break; /* already removed */
        if (!state_active(inst.state) && inst.state != INSTANCE_CREATED) {
            bool autoremove = inst.auto_remove;

            instance_free(&inst);
            if (autoremove && connect_ops->remove(b, name, false) == 0)
                rc = EXIT_OK;
            break;
        }
        instance_free(&inst);
        sleep(1);
    }
    connect_close(b);
    return rc;
}

static const struct cli_option run_options[] = {
    {"detach", 'd', NULL, "start the instance in the background and print its name", false},
    {"rm", 0, NULL, "remove the instance when it stops", false},
    {"name", 0, "NAME", "instance name (default: the image name and a random suffix)", false},
    {"memory", 'm', "SIZE", "memory of the VM, e.g. 256M or 1G (default: the image's)", false},
    {"cpus", 0, "N", "virtual CPUs (default: the image's)", false},
    {"publish", 'p', "[IP:]HOST:GUEST[/PROTO]", "forward a host port to the VM (IP default 127.0.0.1)", true},
    {"env", 'e', "KEY=VALUE", "set an environment variable for the app (KEY alone copies it from here)", true},
    {"env-file", 0, "FILE", "read KEY=VALUE lines from FILE", true},
    {"volume", 'v', "VOLUME:/PATH[:ro]", "mount a volume (see kiln volume create) at PATH in the VM", true},
    {"network", 0, "NAME", "attach to libvirt network NAME instead of user-mode networking", false},
    {NULL, 0, NULL, NULL, false},
};

const struct cli_verb cmd_run_verbs[] = {
    {"run", "IMAGE [ARGS...]", "Run an image in a new VM; ARGS replace the image's default arguments", run_options,
     1, -1, true, cmd_run},
    {"__autoremove", "NAME", NULL, NULL, 1, 1, false, cmd_autoremove},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
