/* Internal interface shared by the libvirt backend's files; nothing outside backends/libvirt includes it. */
#ifndef KILN_LV_H
#define KILN_LV_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "runcfg.h"

/* kiln's metadata namespace inside <metadata> of every domain kiln defines. */
#define LV_META_NS "https://kiln.dev/xmlns/instance/1"
#define LV_META_PREFIX "kiln"
#define LV_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* Maximum volumes per instance, because virtio disks are named vda..vdz. */
#define LV_MAX_VOLUMES 26
#define LV_NAME_MAX 64

/*
 * One connection. LOCK (recursive, so an event callback may call events_stop)
 * guards the fields shared with the event thread.
 */
struct backend {
    virConnectPtr conn;
    char *uri;
    bool local;                 /* the hypervisor runs on this machine */
    bool close_registered;
    char *accel;                /* NULL until lv_accel_get decided */
    char *accel_reason;
    bool accel_provisional;     /* decided without the boot probe; probe again when a kernel is known */

    pthread_mutex_t lock;
    bool lost;                  /* the close callback fired */
    int lifecycle_id;           /* -1 when no event callback is registered */
    bool lifecycle_released;    /* libvirt let go of the last lifecycle callback */
    pthread_cond_t released;    /* signalled when lifecycle_released becomes true */
    backend_event_fn event_fn;
    void *event_ctx;
    struct lv_known *known;     /* domains already classified as kiln's or not, by UUID */
    size_t n_known;
};

struct lv_known {
    unsigned char uuid[VIR_UUID_BUFLEN];
    bool kiln;
};

/* kiln's metadata of one instance, as stored in the domain XML. */
struct lv_meta {
    char *image;      /* "NAME:TAG" */
    char *digest;
    char *log_path;
    long long log_offset; /* size of the log when the last run started */
    long long created, started, finished;
    bool auto_remove;
    struct port_map *ports;
    size_t n_ports;
    struct volume_mount *volumes;
    size_t n_volumes;
};

/* Everything the domain XML needs besides the metadata. */
struct lv_domain_def {
    const struct run_spec *spec;
    const char *domain_type;  /* "kvm" or "qemu" */
    bool tcg;                 /* limit the TCG translation cache */
    const char *kernel;
    const char *initrd;
    const char *cmdline;
    const char *config_path;  /* the runcfg file passed through fw_cfg */
    const struct lv_meta *meta;
};

/* connect.c */
/*
 * Sets the error record to the message followed by libvirt's last error. Every
 * libvirt call (even virDomainGetName) clears that error, so no argument may call libvirt.
 */
void lv_error_set(const char *fmt, ...) KILN_PRINTF(1, 2);
bool lv_error_is(int code);
void lv_event_loop_start(void);

/* accel.c: decides between kvm and tcg for this connection; KERNEL is a kernel to boot-probe with (may be NULL). */
int lv_accel_get(struct backend *b, const char *kernel);
int lv_accel_kvm_ioctl_probe(char **reason);

/* xml.c */
char *lv_xml_domain(const struct lv_domain_def *def);
/* The metadata element for virDomainSetMetadata: <instance> without a namespace. */
char *lv_xml_metadata(const struct lv_meta *meta);
/* A transient kvm domain booting KERNEL alone, its serial port logged to LOG_PATH. */
char *lv_xml_probe_domain(const char *name, const char *kernel, const char *log_path);
/* Reads kiln's metadata from XML: a domain, or the element virDomainGetMetadata returns; -1 when there is none. */
int lv_xml_metadata_parse(const char *xml, struct lv_meta *meta);
void lv_meta_free(struct lv_meta *meta);
/* Builds the per-run settings for SPEC (arguments, environment, network, mounts, hostname). */
int lv_runcfg_build(const struct run_spec *spec, struct runcfg *out);
void lv_disk_target(size_t index, char *buf, size_t size);
bool lv_name_valid(const char *name);
/* Checks the name, ports, volumes and environment of SPEC; -1 with a usage error otherwise. */
int lv_spec_validate(const struct run_spec *spec);

/* domain.c */
int lv_list(struct backend *b, bool all, struct instance **out, size_t *n);
int lv_lookup(struct backend *b, const char *name, struct instance *out);
int lv_create(struct backend *b, const struct run_spec *spec);
int lv_start(struct backend *b, const char *name);
int lv_stop(struct backend *b, const char *name, int timeout, const struct progress *p);
int lv_kill(struct backend *b, const char *name);
int lv_remove(struct backend *b, const char *name, bool force);
/* True when DOM carries kiln's metadata (cached by UUID). */
bool lv_domain_is_kiln(struct backend *b, virDomainPtr dom);
void lv_known_add(struct backend *b, const unsigned char *uuid, bool kiln);
/* Returns 1 (kiln's) or 0 (foreign) for a UUID classified before, -1 when unknown. */
int lv_known_find(struct backend *b, const unsigned char *uuid);
enum instance_state lv_state_map(int state, int reason, long long started);
/* Parses the last "KILN-EXIT code=N" or "KILN-EXIT signal=N" at or after OFFSET of the log at PATH; -1 when none. */
int lv_exit_status_read(const char *path, long long offset, int *code, int *signal);

/* stats.c */
int lv_stats(struct backend *b, struct instance_stats **out, size_t *n);
/* Fills S from one stats record: sums of the net.N and block.N byte counters, RSS before balloon size. */
void lv_stats_record_fill(const virDomainStatsRecord *rec, struct instance_stats *s, double now);

/* events.c */
int lv_events_start(struct backend *b, backend_event_fn fn, void *ctx);
void lv_events_stop(struct backend *b);
void lv_events_emit(struct backend *b, const char *name, enum backend_event event);
/* Waits (at most 2 s) until libvirt released the lifecycle callback, so B may be freed. */
void lv_events_wait_released(struct backend *b);

/* console.c */
int lv_console_open(struct backend *b, const char *name);

#endif
