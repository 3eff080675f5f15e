/* Lifecycle events of kiln's domains, delivered from the libvirt event loop thread. */
#include "backends/libvirt/lv.h"

#include <stdlib.h>
#include <time.h>

/* Maps a libvirt lifecycle event to kiln's; EVENT_LAST for events kiln does not report. */
static enum backend_event event_map(int event, int detail)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED: return EVENT_DEFINED;
    case VIR_DOMAIN_EVENT_UNDEFINED: return EVENT_REMOVED;
    case VIR_DOMAIN_EVENT_STARTED: return EVENT_STARTED;
    case VIR_DOMAIN_EVENT_SUSPENDED: return EVENT_PAUSED;
    case VIR_DOMAIN_EVENT_PMSUSPENDED: return EVENT_PAUSED;
    case VIR_DOMAIN_EVENT_RESUMED: return EVENT_RESUMED;
    case VIR_DOMAIN_EVENT_CRASHED: return EVENT_CRASHED;
    case VIR_DOMAIN_EVENT_STOPPED:
        return detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ? EVENT_CRASHED : EVENT_STOPPED;
    default:
        /* SHUTDOWN is followed by STOPPED, which is reported. */
        return EVENT_LAST;
    }
}

void lv_events_emit(struct backend *b, const char *name, enum backend_event event)
{
    pthread_mutex_lock(&b->lock);
    if (b->event_fn)
        b->event_fn(b->event_ctx, name, event);
    pthread_mutex_unlock(&b->lock);
}

static int lifecycle_event(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    struct backend *b = opaque;
    enum backend_event mapped = event_map(event, detail);
    unsigned char uuid[VIR_UUID_BUFLEN];

    (void)conn;
    if (mapped == EVENT_LAST)
        return 0;
    if (mapped == EVENT_REMOVED) {
        /* The definition is gone, so only an earlier classification can tell whose it was. */
        if (virDomainGetUUID(dom, uuid) == 0 && lv_known_find(b, uuid) == 0)
            return 0;
    } else if (!lv_domain_is_kiln(b, dom)) {
        return 0;
    }
    log_debug("event %d on %s", (int)mapped, virDomainGetName(dom));
    lv_events_emit(b, virDomainGetName(dom), mapped);
    return 0;
}

/* Called by libvirt once no dispatch of the lifecycle callback can still be running. */
static void lifecycle_released(void *opaque)
{
    struct backend *b = opaque;

    pthread_mutex_lock(&b->lock);
    b->lifecycle_released = true;
    pthread_cond_broadcast(&b->released);
    pthread_mutex_unlock(&b->lock);
}

void lv_events_wait_released(struct backend *b)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    pthread_mutex_lock(&b->lock);
    while (!b->lifecycle_released)
        if (pthread_cond_timedwait(&b->released, &b->lock, &deadline) != 0)
            break;
    pthread_mutex_unlock(&b->lock);
}

int lv_events_start(struct backend *b, backend_event_fn fn, void *ctx)
{
    int id = -1;

    pthread_mutex_lock(&b->lock);
    b->event_fn = fn;
    b->event_ctx = ctx;
    id = b->lifecycle_id;
    pthread_mutex_unlock(&b->lock);
    if (id >= 0)
        return 0;

    pthread_mutex_lock(&b->lock);
    b->lifecycle_released = false;
    pthread_mutex_unlock(&b->lock);
    id = virConnectDomainEventRegisterAny(b->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                          VIR_DOMAIN_EVENT_CALLBACK(lifecycle_event), b, lifecycle_released);
    if (id < 0) {
        lv_error_set("cannot subscribe to the events of %s", b->uri);
        pthread_mutex_lock(&b->lock);
        b->lifecycle_released = true;
        b->event_fn = NULL;
        b->event_ctx = NULL;
        pthread_mutex_unlock(&b->lock);
        return -1;
    }
    pthread_mutex_lock(&b->lock);
    b->lifecycle_id = id;
    pthread_mutex_unlock(&b->lock);
    return 0;
}

void lv_events_stop(struct backend *b)
{
    int id;

    pthread_mutex_lock(&b->lock);
    id = b->lifecycle_id;
    b->lifecycle_id = -1;
    b->event_fn = NULL;
    b->event_ctx = NULL;
    pthread_mutex_unlock(&b->lock);
    if (id >= 0 && virConnectDomainEventDeregisterAny(b->conn, id) < 0)
        log_debug("cannot unsubscribe from the events of %s: %s", b->uri, virGetLastErrorMessage());
}
