/* The dashboard's backend threads: polling, queued actions and builds, reporting through a pipe. */
#define _GNU_SOURCE /* pipe2 */
#include "ui/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build/builder.h"
#include "store.h"

/* Seconds between reconnection attempts after the connection failed or was lost. */
#define RECONNECT_SECONDS 2.0
/* Seconds a stop waits for the guest's ACPI shutdown before destroying it. */
#define STOP_TIMEOUT 10
/* Every this many refreshes the list is fetched again even without events. */
#define LIST_EVERY_TICKS 10
#define IMAGES_EVERY_TICKS 5
/* Threads running actions, each with its own connection: stops of several instances overlap. */
#define ACTION_THREADS 4
/* Seconds worker_stop waits for the threads before leaving them behind. */
#define STOP_WAIT_SECONDS 2

struct request {
    enum worker_req_kind kind;
    char *name;
    bool attach;
    struct worker_run run;
    struct request *next;
};

struct worker {
    const struct backend_ops *ops;
    char *uri;
    int pipe[2];

    pthread_mutex_t lock;
    pthread_cond_t poll_wake;
    pthread_cond_t action_wake;
    bool quit;
    double refresh;
    bool need_list;
    bool need_images;
    bool lost;
    struct request *queue, *queue_tail;
    bool building;
    /*
     * True when one connection serves polling and actions. libvirt's test
     * driver keeps a separate in-memory state per connection, so an action on a
     * second connection would never show in the list. For test: URIs the poll
     * thread runs the actions itself.
     */
    bool shared;
    int refs;            /* the key thread's, one per backend thread and one per running build */

    pthread_t poll_thread;
    pthread_t action_threads[ACTION_THREADS];
    struct strv busy;    /* names with an action in progress, so each name's actions keep their order */
};

/* ---- messages ---- */

static struct worker_msg *msg_new(enum worker_msg_kind kind)
{
    struct worker_msg *m = xcalloc(1, sizeof(*m));

    m->kind = kind;
    m->fd = -1;
    return m;
}

void worker_msg_free(struct worker_msg *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->text);
    backend_info_free(&m->info);
    if (m->instances)
        instance_list_free(m->instances, m->n_instances);
    if (m->stats)
        instance_stats_list_free(m->stats, m->n_stats);
    if (m->images)
        store_image_list_free(m->images, m->n_images);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

/* Hands M to the key thread; frees it when the pipe is gone. */
static void post(struct worker *w, struct worker_msg *m)
{
    ssize_t n;

    do
        n = write(w->pipe[1], &m, sizeof(m));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(m)) {
        log_debug("dropping message %d: %s", (int)m->kind, strerror(errno));
        worker_msg_free(m);
    }
}

static void post_text(struct worker *w, enum worker_msg_kind kind, const char *name, const char *text)
{
    struct worker_msg *m = msg_new(kind);

    m->name = xstrdup(name);
    m->text = xstrdup(text);
    post(w, m);
}

struct worker_msg *worker_receive(struct worker *w)
{
    struct worker_msg *m;
    ssize_t n = read(w->pipe[0], &m, sizeof(m));

    if (n != (ssize_t)sizeof(m))
        return NULL;
    return m;
}

int worker_fd(const struct worker *w)
{
    return w->pipe[0];
}

/* ---- shared state ---- */

static bool should_quit(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    bool quit = w->quit;
    pthread_mutex_unlock(&w->lock);
    return quit;
}

/* Clears and returns *FLAG under the lock. */
static bool take_flag(struct worker *w, bool *flag)
{
    pthread_mutex_lock(&w->lock);
    bool value = *flag;
    *flag = false;
    pthread_mutex_unlock(&w->lock);
    return value;
}

static void set_flag(struct worker *w, bool *flag)
{
    pthread_mutex_lock(&w->lock);
    *flag = true;
    pthread_cond_signal(&w->poll_wake);
    pthread_mutex_unlock(&w->lock);
}

static double monotonic_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until the monotonic time DEADLINE or until something wakes the poll thread. */
static void poll_wait(struct worker *w, double deadline)
{
    struct timespec ts;

    if (deadline <= monotonic_now())
        return;
    ts.tv_sec = (time_t)deadline;
    ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);

    pthread_mutex_lock(&w->lock);
    if (!w->quit && !w->need_list && !w->need_images && !w->lost && !(w->shared && w->queue))
        pthread_cond_timedwait(&w->poll_wake, &w->lock, &ts);
    pthread_mutex_unlock(&w->lock);
}

/* Runs on the backend's event thread. */
static void on_event(void *ctx, const char *name, enum backend_event event)
{
    struct worker *w = ctx;
    struct worker_msg *m = msg_new(MSG_EVENT);

    m->name = xstrdup(name);
    m->event = event;
    post(w, m);
    pthread_mutex_lock(&w->lock);
    if (event == EVENT_DISCONNECTED)
        w->lost = true;
    else
        w->need_list = true;
    pthread_cond_signal(&w->poll_wake);
    pthread_mutex_unlock(&w->lock);
}

/* ---- poll thread ---- */

static struct request *action_pop(struct worker *w, bool wait);
static void action_handle(struct worker *w, struct backend **b, bool own, struct request *r);

static struct backend *poll_connect(struct worker *w)
{
    struct backend *b = w->ops->connect(w->uri);
    struct worker_msg *m;

    if (!b) {
        char *text = xasprintf("%s; retrying every 2 s", err_msg());

        post_text(w, MSG_DISCONNECTED, NULL, text);
        free(text);
        return NULL;
    }
    /* info() may probe acceleration for a long time, so the action thread calls it and stats start at once. */
    m = msg_new(MSG_CONNECTED);
    post(w, m);
    worker_request(w, REQ_INFO, NULL, false);
    if (w->ops->events_start(b, on_event, w) < 0)
        log_debug("events unavailable, polling only: %s", err_msg());
    pthread_mutex_lock(&w->lock);
    w->lost = false;
    w->need_list = true;
    w->need_images = true;
    pthread_mutex_unlock(&w->lock);
    return b;
}

static void poll_disconnect(struct worker *w, struct backend *b, const char *reason)
{
    char *text = xasprintf("%s; reconnecting every 2 s", reason);

    w->ops->events_stop(b);
    w->ops->close(b);
    post_text(w, MSG_DISCONNECTED, NULL, text);
    free(text);
}

static void poll_list(struct worker *w, struct backend *b)
{
    struct worker_msg *m = msg_new(MSG_INSTANCES);

    if (w->ops->list(b, true, &m->instances, &m->n_instances) < 0) {
        m->instances = NULL;
        m->n_instances = 0;
        worker_msg_free(m);
        post_text(w, MSG_FAILED, NULL, err_msg());
        return;
    }
    post(w, m);
}

static void poll_stats(struct worker *w, struct backend *b)
{
    struct worker_msg *m = msg_new(MSG_STATS);

    if (w->ops->stats(b, &m->stats, &m->n_stats) < 0) {
        m->stats = NULL;
        m->n_stats = 0;
        worker_msg_free(m);
        post_text(w, MSG_FAILED, NULL, err_msg());
        return;
    }
    post(w, m);
}

static void poll_images(struct worker *w)
{
    struct worker_msg *m = msg_new(MSG_IMAGES);

    if (store_image_list(&m->images, &m->n_images) < 0) {
        m->images = NULL;
        m->n_images = 0;
        worker_msg_free(m);
        post_text(w, MSG_FAILED, NULL, err_msg());
        return;
    }
    post(w, m);
}

static void worker_unref(struct worker *w);

static void *poll_main(void *arg)
{
    struct worker *w = arg;
    struct backend *b = NULL;
    double next = 0;
    unsigned long tick = 0;

    while (!should_quit(w)) {
        /* The store needs no connection: images show even while the hypervisor is unreachable. */
        if (take_flag(w, &w->need_images))
            poll_images(w);
        if (!b) {
            b = poll_connect(w);
            if (!b) {
                poll_wait(w, monotonic_now() + RECONNECT_SECONDS);
                continue;
            }
            next = 0;
        }
        if (take_flag(w, &w->lost) || !w->ops->alive(b)) {
            poll_disconnect(w, b, "the connection to the hypervisor was lost");
            b = NULL;
            continue;
        }
        if (w->shared) {
            struct request *r;

            while ((r = action_pop(w, false)) != NULL)
                action_handle(w, &b, false, r);
        }
        if (take_flag(w, &w->need_list))
            poll_list(w, b);
        if (take_flag(w, &w->need_images))
            poll_images(w);

        double now = monotonic_now();
        if (now >= next) {
            tick++;
            if (tick % LIST_EVERY_TICKS == 0)
                poll_list(w, b);
            if (tick % IMAGES_EVERY_TICKS == 0)
                poll_images(w);
            poll_stats(w, b);
            pthread_mutex_lock(&w->lock);
            next = now + w->refresh;
            pthread_mutex_unlock(&w->lock);
        }
        poll_wait(w, next);
    }
    if (b) {
        w->ops->events_stop(b);
        w->ops->close(b);
    }
    worker_unref(w);
    return NULL;
}

/* ---- action thread ---- */

static void progress_to_pipe(void *ctx, const char *message)
{
    post_text(ctx, MSG_PROGRESS, NULL, message);
}

static int action_create(struct worker *w, struct backend *b, struct request *r)
{
    struct image img;
    struct run_spec spec;
    int rc;

    memset(&img, 0, sizeof(img));
    if (store_image_get(r->run.image_ref, &img) < 0)
        return -1;
    memset(&spec, 0, sizeof(spec));
    spec.name = r->run.name;
    spec.image = &img;
    spec.memory_mib = r->run.memory_mib;
    spec.cpus = r->run.cpus;
    spec.ports = r->run.ports;
    spec.n_ports = r->run.n_ports;
    spec.env = &r->run.env;
    spec.args = r->run.have_args ? &r->run.args : NULL;
    spec.start = true;
    rc = w->ops->create(b, &spec);
    image_free(&img);
    return rc;
}

/* Opens the console of R->name and hands the descriptor to the key thread. */
static int action_console(struct worker *w, struct backend *b, const struct request *r)
{
    int fd = w->ops->console_open(b, r->name);
    struct worker_msg *m;

    if (fd < 0)
        return -1;
    m = msg_new(MSG_CONSOLE);
    m->name = xstrdup(r->name);
    m->fd = fd;
    m->attach = r->attach;
    post(w, m);
    return 0;
}

static int action_info(struct worker *w, struct backend *b)
{
    struct worker_msg *m = msg_new(MSG_INFO);

    if (w->ops->info(b, &m->info) < 0) {
        memset(&m->info, 0, sizeof(m->info));
        worker_msg_free(m);
        return -1;
    }
    post(w, m);
    return 0;
}

/* Performs R on B; returns 0 or -1 with the error record set, and the message for success in *DONE. */
static int action_perform(struct worker *w, struct backend *b, struct request *r, char **done)
{
    struct progress progress = { progress_to_pipe, w };

    switch (r->kind) {
    case REQ_START:
        *done = xasprintf("started %s", r->name);
        return w->ops->start(b, r->name);
    case REQ_STOP:
        *done = xasprintf("stopped %s", r->name);
        return w->ops->stop(b, r->name, STOP_TIMEOUT, &progress);
    case REQ_KILL:
        *done = xasprintf("killed %s", r->name);
        return w->ops->kill(b, r->name);
    case REQ_RESTART:
        *done = xasprintf("restarted %s", r->name);
        if (w->ops->stop(b, r->name, STOP_TIMEOUT, &progress) < 0)
            return -1;
        return w->ops->start(b, r->name);
    case REQ_REMOVE:
        *done = xasprintf("removed %s", r->name);
        return w->ops->remove(b, r->name, true);
    case REQ_CREATE:
        *done = xasprintf("started %s from %s", r->run.name, r->run.image_ref);
        return action_create(w, b, r);
    case REQ_CONSOLE:
        return action_console(w, b, r);
    case REQ_INFO:
        return action_info(w, b);
    case REQ_REMOVE_IMAGE:
        break;
    }
    return -1;
}

static int action_remove_image(const char *ref)
{
    char *name = NULL, *tag = NULL;
    int rc = -1;

    if (image_ref_parse(ref, &name, &tag) < 0)
        goto cleanup;
    rc = store_image_remove(name, tag);

cleanup:
    free(name);
    free(tag);
    return rc;
}

/* Takes the first queued request; waits for one when WAIT. NULL when none or quitting. */
/* Unlinks and returns the first queued request whose name has no action in progress; the caller holds the lock. */
static struct request *take_ready(struct worker *w)
{
    struct request *prev = NULL;

    for (struct request *r = w->queue; r; prev = r, r = r->next) {
        if (r->name && strv_contains(&w->busy, r->name))
            continue;
        if (prev)
            prev->next = r->next;
        else
            w->queue = r->next;
        if (w->queue_tail == r)
            w->queue_tail = prev;
        r->next = NULL;
        if (r->name)
            strv_push(&w->busy, r->name);
        return r;
    }
    return NULL;
}

/* Takes the next request that may run now; waits for one when WAIT. NULL when none or quitting. */
static struct request *action_pop(struct worker *w, bool wait)
{
    struct request *r = NULL;

    pthread_mutex_lock(&w->lock);
    while (!w->quit && (r = take_ready(w)) == NULL && wait)
        pthread_cond_wait(&w->action_wake, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return r;
}

/* Marks the action on NAME finished and lets a waiting thread take that name's next request. */
static void action_release(struct worker *w, const char *name)
{
    if (!name)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->busy.len; i++) {
        if (strcmp(w->busy.items[i], name) == 0) {
            free(w->busy.items[i]);
            w->busy.items[i] = w->busy.items[--w->busy.len];
            w->busy.items[w->busy.len] = NULL;
            break;
        }
    }
    pthread_cond_broadcast(&w->action_wake);
    pthread_mutex_unlock(&w->lock);
}

static void request_free(struct request *r)
{
    free(r->name);
    worker_run_free(&r->run);
    free(r);
}

/* Performs R on *B, connecting *B first when OWN and it is missing, and reports the outcome. */
static void action_handle(struct worker *w, struct backend **b, bool own, struct request *r)
{
    char *done = NULL;
    int rc;

    if (r->kind == REQ_REMOVE_IMAGE) {
        done = xasprintf("removed image %s", r->name);
        rc = action_remove_image(r->name);
        set_flag(w, &w->need_images);
    } else {
        if (own && *b && !w->ops->alive(*b)) {
            w->ops->close(*b);
            *b = NULL;
        }
        if (own && !*b)
            *b = w->ops->connect(w->uri);
        rc = *b ? action_perform(w, *b, r, &done) : -1;
        if (r->kind != REQ_INFO)
            set_flag(w, &w->need_list);
    }
    if (rc < 0)
        post_text(w, MSG_FAILED, r->name, err_msg());
    else if (done)
        post_text(w, MSG_DONE, r->name, done);
    free(done);
    action_release(w, r->name);
    request_free(r);
}

static void *action_main(void *arg)
{
    struct worker *w = arg;
    struct backend *b = NULL;
    struct request *r;

    while ((r = action_pop(w, true)) != NULL)
        action_handle(w, &b, true, r);
    if (b)
        w->ops->close(b);
    worker_unref(w);
    return NULL;
}

/* ---- builds ---- */

struct build_job {
    struct worker *w;
    char *dir;
};

static void *build_main(void *arg)
{
    struct build_job *job = arg;
    struct worker *w = job->w;
    struct build_options opts;
    struct image img;
    bool cached = false;

    memset(&opts, 0, sizeof(opts));
    memset(&img, 0, sizeof(img));
    opts.dir = job->dir;
    opts.progress.fn = progress_to_pipe;
    opts.progress.ctx = w;
    if (builder_build(&opts, &img, &cached) == 0) {
        char *ref = xasprintf("%s:%s", img.name, img.tag);
        char *text = xasprintf("%s %s", cached ? "reused the unchanged image" : "built", ref);

        post_text(w, MSG_BUILT, ref, text);
        free(ref);
        free(text);
        image_free(&img);
        set_flag(w, &w->need_images);
    } else {
        post_text(w, MSG_BUILT, NULL, err_msg());
    }

    pthread_mutex_lock(&w->lock);
    w->building = false;
    pthread_mutex_unlock(&w->lock);
    free(job->dir);
    free(job);
    worker_unref(w);
    return NULL;
}

int worker_build(struct worker *w, const char *dir)
{
    struct build_job *job;
    pthread_t thread;

    pthread_mutex_lock(&w->lock);
    if (w->building) {
        pthread_mutex_unlock(&w->lock);
        err_set("a build is already running; wait for it to finish");
        return -1;
    }
    w->building = true;
    w->refs++;
    pthread_mutex_unlock(&w->lock);

    job = xcalloc(1, sizeof(*job));
    job->w = w;
    job->dir = xstrdup(dir);
    if (pthread_create(&thread, NULL, build_main, job) != 0) {
        pthread_mutex_lock(&w->lock);
        w->building = false;
        w->refs--;
        pthread_mutex_unlock(&w->lock);
        free(job->dir);
        free(job);
        err_set("cannot start the build thread");
        return -1;
    }
    pthread_detach(thread);
    return 0;
}

/* ---- life cycle ---- */

struct worker *worker_start(const struct backend_ops *ops, const char *uri, double refresh)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    sigset_t all, old;

    w->ops = ops;
    w->uri = xstrdup(uri);
    w->refresh = refresh > 0 ? refresh : 1.0;
    w->refs = 1;
    w->need_images = true;
    w->shared = uri && strncmp(uri, "test:", 5) == 0;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->poll_wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&w->action_wake, NULL);
    if (pipe2(w->pipe, O_CLOEXEC) < 0) {
        err_set_errno(errno, "cannot create the dashboard's message pipe");
        free(w->uri);
        free(w);
        return NULL;
    }
    /*
     * Both ends are non-blocking, so no thread waits on a full pipe: that would
     * deadlock worker_stop once the key thread stops reading. A message that
     * does not fit (Linux's default 64 KiB pipe takes 8192) is dropped and logged.
     */
    fcntl(w->pipe[0], F_SETFL, fcntl(w->pipe[0], F_GETFL) | O_NONBLOCK);
    fcntl(w->pipe[1], F_SETFL, fcntl(w->pipe[1], F_GETFL) | O_NONBLOCK);

    /*
     * Signals (resize, Ctrl-C, Ctrl-Z) go to the key thread only, because the
     * threads started here and the backend's own block them. Crash signals stay
     * open: a blocked SIGSEGV would kill without running the handler that
     * restores the terminal.
     */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    w->refs++;
    pthread_create(&w->poll_thread, NULL, poll_main, w);
    for (int i = 0; i < ACTION_THREADS && !w->shared; i++) {
        w->refs++;
        pthread_create(&w->action_threads[i], NULL, action_main, w);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w;
}

static void worker_unref(struct worker *w)
{
    pthread_mutex_lock(&w->lock);
    int refs = --w->refs;
    pthread_mutex_unlock(&w->lock);
    if (refs > 0)
        return;

    struct worker_msg *m;
    while ((m = worker_receive(w)) != NULL)
        worker_msg_free(m);
    close(w->pipe[0]);
    close(w->pipe[1]);
    while (w->queue) {
        struct request *r = w->queue;
        w->queue = r->next;
        request_free(r);
    }
    strv_free(&w->busy);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->poll_wake);
    pthread_cond_destroy(&w->action_wake);
    free(w->uri);
    free(w);
}

/*
 * Waits until DEADLINE for THREAD, then leaves it running: a backend call can
 * block much longer (a stop waits for the guest, info may probe acceleration),
 * and quitting must not wait for it. A detached thread still holds its
 * reference, so the worker stays valid until it returns.
 */
static void join_or_detach(pthread_t thread, const char *name, const struct timespec *deadline)
{
    if (pthread_timedjoin_np(thread, NULL, deadline) != 0) {
        log_debug("the %s thread is still in a backend call; leaving it", name);
        pthread_detach(thread);
    }
}

void worker_stop(struct worker *w)
{
    struct timespec deadline;

    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_broadcast(&w->poll_wake);
    pthread_cond_broadcast(&w->action_wake);
    pthread_mutex_unlock(&w->lock);

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += STOP_WAIT_SECONDS;
    join_or_detach(w->poll_thread, "poll", &deadline);
    for (int i = 0; i < ACTION_THREADS && !w->shared; i++)
        join_or_detach(w->action_threads[i], "action", &deadline);
    worker_unref(w);
}

void worker_set_refresh(struct worker *w, double seconds)
{
    pthread_mutex_lock(&w->lock);
    w->refresh = seconds;
    pthread_cond_signal(&w->poll_wake);
    pthread_mutex_unlock(&w->lock);
}

void worker_refresh_images(struct worker *w)
{
    set_flag(w, &w->need_images);
}

static void enqueue(struct worker *w, struct request *r)
{
    pthread_mutex_lock(&w->lock);
    if (w->queue_tail)
        w->queue_tail->next = r;
    else
        w->queue = r;
    w->queue_tail = r;
    pthread_cond_signal(&w->action_wake);
    pthread_cond_signal(&w->poll_wake);
    pthread_mutex_unlock(&w->lock);
}

void worker_request(struct worker *w, enum worker_req_kind kind, const char *name, bool attach)
{
    struct request *r = xcalloc(1, sizeof(*r));

    r->kind = kind;
    r->name = xstrdup(name);
    r->attach = attach;
    enqueue(w, r);
}

void worker_request_create(struct worker *w, struct worker_run *run)
{
    struct request *r = xcalloc(1, sizeof(*r));

    r->kind = REQ_CREATE;
    r->name = xstrdup(run->name);
    r->run = *run;
    memset(run, 0, sizeof(*run));
    enqueue(w, r);
}

void worker_run_free(struct worker_run *run)
{
    free(run->name);
    free(run->image_ref);
    free(run->ports);
    strv_free(&run->env);
    strv_free(&run->args);
    memset(run, 0, sizeof(*run));
}
