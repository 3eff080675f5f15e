/* Counters of every kiln instance from one virConnectGetAllDomainStats call. */
#include "backends/libvirt/lv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long param_value(const virTypedParameter *p)
{
    switch (p->type) {
    case VIR_TYPED_PARAM_INT: return p->value.i > 0 ? (unsigned long long)p->value.i : 0;
    case VIR_TYPED_PARAM_UINT: return p->value.ui;
    case VIR_TYPED_PARAM_LLONG: return p->value.l > 0 ? (unsigned long long)p->value.l : 0;
    case VIR_TYPED_PARAM_ULLONG: return p->value.ul;
    default: return 0;
    }
}

/* True when FIELD is PREFIX, a decimal index, then SUFFIX (e.g. "net.0.rx.bytes"). */
static bool indexed_field(const char *field, const char *prefix, const char *suffix)
{
    size_t plen = strlen(prefix), slen = strlen(suffix), flen = strlen(field);
    const char *p;

    if (flen <= plen + slen || strncmp(field, prefix, plen) != 0 || strcmp(field + flen - slen, suffix) != 0)
        return false;
    for (p = field + plen; p < field + flen - slen; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static double monotonic_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lv_stats_record_fill(const virDomainStatsRecord *rec, struct instance_stats *s, double now)
{
    int state = VIR_DOMAIN_NOSTATE, reason = 0;
    unsigned long long rss = 0, current = 0;
    bool have_rss = false;

    memset(s, 0, sizeof(*s));
    s->name = xstrdup(virDomainGetName(rec->dom));
    s->timestamp = now;
    for (int i = 0; i < rec->nparams; i++) {
        const virTypedParameter *p = &rec->params[i];
        const char *f = p->field;
        unsigned long long v = param_value(p);

        if (strcmp(f, "state.state") == 0)
            state = (int)v;
        else if (strcmp(f, "state.reason") == 0)
            reason = (int)v;
        else if (strcmp(f, "cpu.time") == 0)
            s->cpu_ns = v;
        else if (strcmp(f, "vcpu.current") == 0)
            s->vcpus = (int)v;
        else if (strcmp(f, "balloon.rss") == 0)
            rss = v, have_rss = true;
        else if (strcmp(f, "balloon.current") == 0)
            current = v;
        else if (strcmp(f, "balloon.maximum") == 0)
            s->mem_max_kib = v;
        else if (indexed_field(f, "net.", ".rx.bytes"))
            s->net_rx_bytes += v;
        else if (indexed_field(f, "net.", ".tx.bytes"))
            s->net_tx_bytes += v;
        else if (indexed_field(f, "block.", ".rd.bytes"))
            s->blk_rd_bytes += v;
        else if (indexed_field(f, "block.", ".wr.bytes"))
            s->blk_wr_bytes += v;
    }
    /* The RSS of the QEMU process is what the host pays; balloon.current is the guest's size. */
    s->mem_kib = have_rss ? rss : current;
    s->state = lv_state_map(state, reason, -1);
}

int lv_stats(struct backend *b, struct instance_stats **out, size_t *n)
{
    unsigned int types = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |
                         VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
    virDomainStatsRecordPtr *records = NULL;
    double now = monotonic_now();
    int count;

    *out = NULL;
    *n = 0;
    count = virConnectGetAllDomainStats(b->conn, types, &records, 0);
    if (count < 0) {
        lv_error_set("cannot read domain statistics from %s", b->uri);
        return -1;
    }
    *out = xcalloc((size_t)count + 1, sizeof(**out));
    for (int i = 0; i < count; i++) {
        if (!lv_domain_is_kiln(b, records[i]->dom))
            continue;
        lv_stats_record_fill(records[i], &(*out)[*n], now);
        (*n)++;
    }
    virDomainStatsRecordListFree(records);
    err_clear();
    return 0;
}
