/* The dashboard's data: instance and image rows kept up to date from the worker's messages. */
#include "ui/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static int compare_instances(const void *a, const void *b)
{
    const struct instance *x = a, *y = b;

    return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static int compare_row_name(const void *key, const void *elem)
{
    const struct inst_row *row = elem;

    return strcmp(key, row->inst.name ? row->inst.name : "");
}

struct inst_row *model_find_instance(struct model *m, const char *name)
{
    if (!name || m->n_inst == 0)
        return NULL;
    return bsearch(name, m->inst, m->n_inst, sizeof(*m->inst), compare_row_name);
}

void model_set_instances(struct model *m, struct instance *list, size_t n)
{
    struct inst_row *rows = xcalloc(n ? n : 1, sizeof(*rows));

    qsort(list, n, sizeof(*list), compare_instances);
    for (size_t i = 0; i < n; i++) {
        struct inst_row *old = model_find_instance(m, list[i].name);

        if (old) {
            /* Keep the history and rates; the instance fields are replaced. */
            rows[i] = *old;
            /* The emptied name sorts first; LIST is sorted, so later lookups still find theirs. */
            instance_free(&old->inst);
            if (!rows_state_active(list[i].state)) {
                /* Stopped since the last sample: its last figures no longer hold. */
                rows[i].cpu_percent = rows[i].net_rx = rows[i].net_tx = -1;
                rows[i].blk_rd = rows[i].blk_wr = -1;
                rows[i].mem_kib = 0;
            }
        } else {
            rows[i].cpu_percent = rows[i].net_rx = rows[i].net_tx = -1;
            rows[i].blk_rd = rows[i].blk_wr = -1;
        }
        rows[i].inst = list[i];
    }
    for (size_t i = 0; i < m->n_inst; i++)
        if (m->inst[i].inst.name)
            instance_free(&m->inst[i].inst);
    free(m->inst);
    free(list);
    m->inst = rows;
    m->n_inst = n;
    model_set_images(m, NULL, (size_t)-1);
}

void model_apply_stats(struct model *m, const struct instance_stats *stats, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct inst_row *row = model_find_instance(m, stats[i].name);

        if (row)
            rows_apply_stats(row, &stats[i]);
    }
}

static bool image_marked(const struct model *m, const struct image *img)
{
    for (size_t i = 0; i < m->n_img; i++)
        if (strcmp(m->img[i].img.name, img->name) == 0 && strcmp(m->img[i].img.tag, img->tag) == 0)
            return m->img[i].marked;
    return false;
}

static void count_users(struct model *m)
{
    for (size_t i = 0; i < m->n_img; i++) {
        char *ref = xasprintf("%s:%s", m->img[i].img.name, m->img[i].img.tag);

        m->img[i].used_by = 0;
        for (size_t j = 0; j < m->n_inst; j++)
            if (m->inst[j].inst.image && strcmp(m->inst[j].inst.image, ref) == 0)
                m->img[i].used_by++;
        free(ref);
    }
}

void model_set_images(struct model *m, struct image *list, size_t n)
{
    if (n == (size_t)-1) {
        /* Only the instances changed: recount. */
        count_users(m);
        return;
    }

    struct image_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        rows[i].img = list[i];
        rows[i].marked = image_marked(m, &list[i]);
    }
    for (size_t i = 0; i < m->n_img; i++)
        image_free(&m->img[i].img);
    free(m->img);
    free(list);
    m->img = rows;
    m->n_img = n;
    count_users(m);
}

void model_free(struct model *m)
{
    for (size_t i = 0; i < m->n_inst; i++)
        instance_free(&m->inst[i].inst);
    free(m->inst);
    for (size_t i = 0; i < m->n_img; i++)
        image_free(&m->img[i].img);
    free(m->img);
    memset(m, 0, sizeof(*m));
}
