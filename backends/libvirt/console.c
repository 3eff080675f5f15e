/*
 * The serial console as a file descriptor: a non-blocking libvirt stream bridged
 * to one end of a socketpair by callbacks on the event loop thread. The caller
 * reads and writes the other end, and closing it ends the stream. When the
 * stream ends (the domain stopped), the bridge closes its end, so the caller reads EOF.
 */
#include "backends/libvirt/lv.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BRIDGE_BUF 65536

struct bridge {
    pthread_mutex_t lock;  /* held by the opener during setup and by every callback */
    virStreamPtr stream;
    int fd;                /* the bridge's end of the socketpair */
    int watch;             /* event loop handle of FD, -1 when removed */
    bool done;
    char to_fd[BRIDGE_BUF];     /* console output not yet written to FD */
    size_t to_fd_len;
    char to_stream[BRIDGE_BUF]; /* input from FD not yet sent to the stream */
    size_t to_stream_len;
};

static void bridge_free(void *opaque)
{
    struct bridge *br = opaque;

    close(br->fd);
    pthread_mutex_destroy(&br->lock);
    free(br);
}

/* Tears the bridge down; the handle's free function releases it once the loop lets go. */
static void bridge_finish(struct bridge *br)
{
    if (br->done)
        return;
    br->done = true;
    virStreamEventRemoveCallback(br->stream);
    if (virStreamAbort(br->stream) < 0)
        log_debug("console stream abort: %s", virGetLastErrorMessage());
    virStreamFree(br->stream);
    br->stream = NULL;
    shutdown(br->fd, SHUT_RDWR);
    virEventRemoveHandle(br->watch);
    br->watch = -1;
}

static void flush_to_fd(struct bridge *br)
{
    while (br->to_fd_len > 0) {
        /* MSG_NOSIGNAL: a caller that closed its end must not get SIGPIPE. */
        ssize_t n = send(br->fd, br->to_fd, br->to_fd_len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                bridge_finish(br);
            return;
        }
        memmove(br->to_fd, br->to_fd + n, br->to_fd_len - (size_t)n);
        br->to_fd_len -= (size_t)n;
    }
}

static void flush_to_stream(struct bridge *br)
{
    while (!br->done && br->to_stream_len > 0) {
        int n = virStreamSend(br->stream, br->to_stream, br->to_stream_len);

        if (n == -2)
            return;
        if (n < 0) {
            bridge_finish(br);
            return;
        }
        memmove(br->to_stream, br->to_stream + n, br->to_stream_len - (size_t)n);
        br->to_stream_len -= (size_t)n;
    }
}

/* Asks for the events that can make progress: room to read into, data to write out. */
static void interests_update(struct bridge *br)
{
    int stream_events = VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
    int fd_events = 0;

    if (br->done)
        return;
    if (br->to_fd_len < BRIDGE_BUF)
        stream_events |= VIR_STREAM_EVENT_READABLE;
    if (br->to_stream_len > 0)
        stream_events |= VIR_STREAM_EVENT_WRITABLE;
    if (br->to_stream_len < BRIDGE_BUF)
        fd_events |= VIR_EVENT_HANDLE_READABLE;
    if (br->to_fd_len > 0)
        fd_events |= VIR_EVENT_HANDLE_WRITABLE;
    virStreamEventUpdateCallback(br->stream, stream_events);
    virEventUpdateHandle(br->watch, fd_events);
}

static void stream_event(virStreamPtr stream, int events, void *opaque)
{
    struct bridge *br = opaque;

    (void)stream;
    pthread_mutex_lock(&br->lock);
    if ((events & VIR_STREAM_EVENT_READABLE) && !br->done && br->to_fd_len < BRIDGE_BUF) {
        int n = virStreamRecv(br->stream, br->to_fd + br->to_fd_len, BRIDGE_BUF - br->to_fd_len);

        if (n > 0)
            br->to_fd_len += (size_t)n;
        else if (n == 0 || n == -1)
            events |= VIR_STREAM_EVENT_HANGUP; /* the domain stopped or the stream failed */
    }
    if (!br->done && (events & VIR_STREAM_EVENT_WRITABLE))
        flush_to_stream(br);
    if (!br->done)
        flush_to_fd(br);
    if (!br->done && (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP))) {
        /* Pass on what was read before the end, then close. */
        bridge_finish(br);
    }
    interests_update(br);
    pthread_mutex_unlock(&br->lock);
}

static void fd_event(int watch, int fd, int events, void *opaque)
{
    struct bridge *br = opaque;

    (void)watch;
    pthread_mutex_lock(&br->lock);
    if (!br->done && (events & VIR_EVENT_HANDLE_READABLE) && br->to_stream_len < BRIDGE_BUF) {
        ssize_t n = read(fd, br->to_stream + br->to_stream_len, BRIDGE_BUF - br->to_stream_len);

        if (n > 0)
            br->to_stream_len += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            bridge_finish(br); /* the caller closed its end */
    }
    if (!br->done && (events & VIR_EVENT_HANDLE_WRITABLE))
        flush_to_fd(br);
    if (!br->done)
        flush_to_stream(br);
    if (!br->done && (events & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) &&
        !(events & VIR_EVENT_HANDLE_READABLE))
        bridge_finish(br);
    interests_update(br);
    pthread_mutex_unlock(&br->lock);
}

int lv_console_open(struct backend *b, const char *name)
{
    struct instance inst;
    struct bridge *br = NULL;
    virDomainPtr dom = NULL;
    int fds[2] = {-1, -1}, rc = -1;

    if (lv_lookup(b, name, &inst) < 0)
        return -1;
    if (inst.state != INSTANCE_RUNNING && inst.state != INSTANCE_PAUSED && inst.state != INSTANCE_STOPPING) {
        err_set("instance %s is not running; start it with kiln start %s", name, name);
        goto cleanup;
    }
    dom = virDomainLookupByName(b->conn, name);
    if (!dom) {
        lv_error_set("cannot look up instance %s", name);
        goto cleanup;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        err_set_errno(errno, "cannot open the console of %s", name);
        goto cleanup;
    }
    br = xcalloc(1, sizeof(*br));
    pthread_mutex_init(&br->lock, NULL);
    br->fd = fds[0];
    br->watch = -1;
    fcntl(br->fd, F_SETFL, fcntl(br->fd, F_GETFL) | O_NONBLOCK);
    br->stream = virStreamNew(b->conn, VIR_STREAM_NONBLOCK);
    if (!br->stream) {
        lv_error_set("cannot open the console of %s", name);
        goto cleanup;
    }
    /* FORCE takes the console over from another client, like a second kiln attach. */
    if (virDomainOpenConsole(dom, NULL, br->stream, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
        lv_error_set("cannot open the console of %s", name);
        goto cleanup;
    }

    pthread_mutex_lock(&br->lock);
    br->watch = virEventAddHandle(br->fd, VIR_EVENT_HANDLE_READABLE, fd_event, br, bridge_free);
    if (br->watch < 0) {
        pthread_mutex_unlock(&br->lock);
        lv_error_set("cannot watch the console of %s", name);
        goto cleanup;
    }
    if (virStreamEventAddCallback(br->stream, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
                                                  VIR_STREAM_EVENT_HANGUP, stream_event, br, NULL) < 0) {
        lv_error_set("cannot watch the console stream of %s", name);
        /* The handle owns BR from here: finishing it frees BR and closes fds[0]. */
        bridge_finish(br);
        pthread_mutex_unlock(&br->lock);
        br = NULL;
        fds[0] = -1;
        goto cleanup;
    }
    pthread_mutex_unlock(&br->lock);
    rc = fds[1];
    fds[1] = -1;
    br = NULL;
    fds[0] = -1;

cleanup:
    if (br) {
        if (br->stream) {
            virStreamAbort(br->stream);
            virStreamFree(br->stream);
        }
        pthread_mutex_destroy(&br->lock);
        free(br);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (dom)
        virDomainFree(dom);
    instance_free(&inst);
    return rc;
}
