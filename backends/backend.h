/*
 * The hypervisor backend: one vtable that the CLI and the dashboard call, so
 * neither includes libvirt headers. backends/libvirt/ implements it.
 * Every function returns 0 (or a pointer) on success and -1 (or NULL) with the
 * error record (util.h) set. Functions may be called from any one thread at a
 * time per connection; event callbacks arrive on the backend's own thread.
 */
#ifndef KILN_BACKEND_H
#define KILN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "image.h"
#include "util.h"

enum instance_state {
    INSTANCE_CREATED,  /* defined, never started */
    INSTANCE_RUNNING,
    INSTANCE_PAUSED,
    INSTANCE_STOPPING, /* shutdown requested */
    INSTANCE_EXITED,   /* shut off; exit_code/exit_signal tell how the app ended */
    INSTANCE_CRASHED,
    INSTANCE_UNKNOWN,
    INSTANCE_STATE_LAST
};

struct port_map {
    char host_ip[64]; /* default "127.0.0.1" */
    int host_port;
    int guest_port;
    char proto[4];    /* "tcp" or "udp" */
};

struct volume_mount {
    char *volume;  /* volume name */
    char *file;    /* host path of the ext4 image */
    char *path;    /* mount point inside the guest */
    bool readonly;
};

/* The settings of one `kiln run` request. Strings are borrowed. */
struct run_spec {
    const char *name;
    const struct image *image;
    long long memory_mib;
    int cpus;
    const struct port_map *ports;
    size_t n_ports;
    const struct strv *env;   /* appended to the image's */
    const struct strv *args;  /* NULL: the image's default arguments */
    const struct volume_mount *volumes;
    size_t n_volumes;
    const char *network;      /* libvirt network name, NULL: user-mode networking, "none": no NIC */
    bool auto_remove;         /* --rm */
    bool start;               /* start after defining */
};

/* One instance as libvirt reports it, with kiln's metadata. */
struct instance {
    char *name;
    char *uuid;
    char *image;       /* "NAME:TAG" */
    char *digest;
    enum instance_state state;
    int exit_code;     /* -1 when unknown */
    int exit_signal;   /* 0 when none */
    long long created; /* seconds since the epoch */
    long long started; /* 0 when never */
    long long finished;
    long long memory_mib;
    int cpus;
    struct port_map *ports;
    size_t n_ports;
    struct volume_mount *volumes;
    size_t n_volumes;
    char *log_path;    /* serial console log file */
    bool auto_remove;
};

/* One sample of an instance's counters (cumulative; rates are computed by the caller). */
struct instance_stats {
    char *name;
    enum instance_state state;
    double timestamp;              /* seconds, monotonic clock */
    unsigned long long cpu_ns;     /* total guest CPU time */
    int vcpus;
    unsigned long long mem_kib;    /* memory in use by the guest (RSS of its process when known) */
    unsigned long long mem_max_kib;
    unsigned long long net_rx_bytes, net_tx_bytes;
    unsigned long long blk_rd_bytes, blk_wr_bytes;
};

struct backend_info {
    char *uri;
    char *hypervisor;       /* "QEMU" */
    unsigned long libvirt_version; /* major * 1000000 + minor * 1000 + release */
    unsigned long hv_version;
    char *accel;            /* "kvm" or "tcg" */
    char *accel_reason;     /* why this acceleration was chosen */
    int host_cpus;
    unsigned long long host_mem_kib, host_mem_free_kib;
};

enum backend_event {
    EVENT_DEFINED,
    EVENT_STARTED,
    EVENT_STOPPED,
    EVENT_CRASHED,
    EVENT_REMOVED,
    EVENT_PAUSED,
    EVENT_RESUMED,
    EVENT_DISCONNECTED, /* the connection was lost; NAME is NULL */
    EVENT_LAST
};

typedef void (*backend_event_fn)(void *ctx, const char *name, enum backend_event event);

struct backend;

struct backend_ops {
    const char *name;
    /* Opens a connection to URI (NULL: the default chain). */
    struct backend *(*connect)(const char *uri);
    /* Closes the connection and frees it. */
    void (*close)(struct backend *b);
    /* True while the connection is alive. */
    bool (*alive)(struct backend *b);
    /* Fills INFO (caller frees with backend_info_free). */
    int (*info)(struct backend *b, struct backend_info *info);
    /* Lists kiln's instances (running only unless ALL); others' domains are skipped. */
    int (*list)(struct backend *b, bool all, struct instance **out, size_t *n);
    /* Finds one instance by name; -1 with "no such instance NAME" otherwise. */
    int (*lookup)(struct backend *b, const char *name, struct instance *out);
    /* Defines the domain for SPEC and starts it when SPEC->start. */
    int (*create)(struct backend *b, const struct run_spec *spec);
    /* Starts a stopped instance; -1 when it is running or a published port is taken. */
    int (*start)(struct backend *b, const char *name);
    /*
     * Presses the ACPI power button, waits TIMEOUT seconds, then destroys (at once
     * when TIMEOUT is 0). Stopping an instance that is not running succeeds.
     */
    int (*stop)(struct backend *b, const char *name, int timeout, const struct progress *p);
    /* Destroys a running instance at once; -1 when it is not running. */
    int (*kill)(struct backend *b, const char *name);
    /* Undefines the domain and removes its files; FORCE kills a running one first. */
    int (*remove)(struct backend *b, const char *name, bool force);
    /* One sample of every kiln instance, from one bulk stats call. */
    int (*stats)(struct backend *b, struct instance_stats **out, size_t *n);
    /* Delivers lifecycle events to FN from the backend's event thread until events_stop. */
    int (*events_start)(struct backend *b, backend_event_fn fn, void *ctx);
    /* Stops delivering events; FN is not called after it returns. */
    void (*events_stop)(struct backend *b);
    /* Opens the serial console; returns a file descriptor to read and write, closed by the caller. */
    int (*console_open)(struct backend *b, const char *name);
};

/* The backend in use (libvirt). */
extern const struct backend_ops backend_libvirt;

/* Checks that PORT's host address and port can be bound now; -1 with "host port ... is already in use" otherwise. */
int port_map_check_free(const struct port_map *port);
void instance_free(struct instance *inst);
void instance_list_free(struct instance *list, size_t n);
void instance_stats_list_free(struct instance_stats *list, size_t n);
void backend_info_free(struct backend_info *info);
const char *instance_state_name(enum instance_state state);

#endif
