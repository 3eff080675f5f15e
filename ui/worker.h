/*
 * The dashboard's backend threads. The key thread never calls the backend: a
 * poll thread owns one connection (connect, list, stats, events), and a few
 * action threads own one each for requests that may block (a stop waits for
 * the guest, info may probe acceleration). All of them hand results to the key
 * thread as messages through a pipe.
 */
#ifndef KILN_UI_WORKER_H
#define KILN_UI_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "image.h"

enum worker_msg_kind {
    MSG_CONNECTED,      /* the poll thread has a connection; INFO follows in MSG_INFO */
    MSG_INFO,           /* INFO describes the connection (may take long: the backend probes acceleration) */
    MSG_DISCONNECTED,   /* TEXT is the reason; the poll thread retries every 2 s */
    MSG_INSTANCES,      /* INSTANCES: every kiln instance */
    MSG_STATS,          /* STATS: one sample of every instance */
    MSG_IMAGES,         /* IMAGES: every stored image */
    MSG_EVENT,          /* NAME changed: EVENT */
    MSG_DONE,           /* a request finished: TEXT describes it */
    MSG_FAILED,         /* a request failed: TEXT is the error */
    MSG_PROGRESS,       /* TEXT: one progress line of a build or a stop */
    MSG_BUILT,          /* the build made image NAME ("NAME:TAG"); NAME is NULL and TEXT the error when it failed */
    MSG_CONSOLE,        /* FD is NAME's serial console, owned by the receiver */
};

/* One message to the key thread; free with worker_msg_free. */
struct worker_msg {
    enum worker_msg_kind kind;
    char *name;
    char *text;
    enum backend_event event;
    int fd;
    bool attach;                 /* MSG_CONSOLE: open the full-screen console */
    struct backend_info info;
    struct instance *instances;
    size_t n_instances;
    struct instance_stats *stats;
    size_t n_stats;
    struct image *images;
    size_t n_images;
};

enum worker_req_kind {
    REQ_START,
    REQ_STOP,
    REQ_KILL,
    REQ_RESTART,
    REQ_REMOVE,
    REQ_CREATE,
    REQ_CONSOLE,
    REQ_REMOVE_IMAGE,
    REQ_INFO,          /* queued by the poll thread after each connect */
};

/* The run dialog's input: an owned copy of what a run_spec borrows. */
struct worker_run {
    char *name;
    char *image_ref;
    long long memory_mib;
    int cpus;
    struct port_map *ports;
    size_t n_ports;
    struct strv env;
    struct strv args;
    bool have_args;    /* false: the image's default arguments */
};

struct worker;

/* Starts the threads for URI (NULL: the default chain). OPS is the backend. */
struct worker *worker_start(const struct backend_ops *ops, const char *uri, double refresh);
/* Stops the threads, closes the connections and frees W. */
void worker_stop(struct worker *w);
/* The read end of the message pipe, non-blocking; each read yields one pointer. */
int worker_fd(const struct worker *w);
/* Reads the next message, or NULL when none is waiting. */
struct worker_msg *worker_receive(struct worker *w);
void worker_msg_free(struct worker_msg *m);

/* Changes the refresh interval (seconds). */
void worker_set_refresh(struct worker *w, double seconds);
/* Asks for a fresh list of images (after a build or removal). */
void worker_refresh_images(struct worker *w);
/* Queues an action on instance or image NAME; ATTACH marks a console request for full screen. */
void worker_request(struct worker *w, enum worker_req_kind kind, const char *name, bool attach);
/* Queues a create; takes ownership of RUN's contents. */
void worker_request_create(struct worker *w, struct worker_run *run);
/* Starts a build of DIR on its own thread; -1 with the error record set when one is running. */
int worker_build(struct worker *w, const char *dir);

void worker_run_free(struct worker_run *run);

#endif
