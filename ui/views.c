/* The dashboard's table views: filtered and sorted row indexes, the selection, marks and sort order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/dash.h"

static void view_keep_selection(struct table_view *v, const char *(*name_of)(struct dash *, size_t),
                                struct dash *d)
{
    if (v->selected_name) {
        for (size_t i = 0; i < v->count; i++) {
            if (strcmp(name_of(d, v->index[i]), v->selected_name) == 0) {
                v->selected = i;
                return;
            }
        }
    }
    if (v->selected >= v->count)
        v->selected = v->count ? v->count - 1 : 0;
}

static const char *instance_name_at(struct dash *d, size_t i)
{
    return d->model.inst[i].inst.name;
}

static const char *image_ref_at(struct dash *d, size_t i)
{
    static char ref[160];

    snprintf(ref, sizeof(ref), "%s:%s", d->model.img[i].img.name, d->model.img[i].img.tag);
    return ref;
}

void dash_remember_selection(struct dash *d)
{
    free(d->iview.selected_name);
    free(d->mview.selected_name);
    d->iview.selected_name = d->iview.count ? xstrdup(instance_name_at(d, d->iview.index[d->iview.selected])) : NULL;
    d->mview.selected_name = d->mview.count ? xstrdup(image_ref_at(d, d->mview.index[d->mview.selected])) : NULL;
}

void dash_rebuild_views(struct dash *d)
{
    d->iview.index = xrealloc(d->iview.index, (d->model.n_inst + 1) * sizeof(size_t));
    d->iview.count = rows_instance_view(d->model.inst, d->model.n_inst, d->filter,
                                        (enum instance_column)d->iview.sort, d->iview.descending, d->iview.index);
    view_keep_selection(&d->iview, instance_name_at, d);

    d->mview.index = xrealloc(d->mview.index, (d->model.n_img + 1) * sizeof(size_t));
    d->mview.count = rows_image_view(d->model.img, d->model.n_img, d->filter,
                                     (enum image_column)d->mview.sort, d->mview.descending, d->mview.index);
    view_keep_selection(&d->mview, image_ref_at, d);
    dash_remember_selection(d);
    d->dirty = true;
}

struct inst_row *dash_selected_instance(struct dash *d)
{
    if (d->iview.count == 0)
        return NULL;
    return &d->model.inst[d->iview.index[d->iview.selected]];
}

struct image_row *dash_selected_image(struct dash *d)
{
    if (d->mview.count == 0)
        return NULL;
    return &d->model.img[d->mview.index[d->mview.selected]];
}

void dash_targets(struct dash *d, enum ui_pane pane, struct strv *out)
{
    if (pane == PANE_IMAGES) {
        for (size_t i = 0; i < d->mview.count; i++)
            if (d->model.img[d->mview.index[i]].marked)
                strv_push(out, image_ref_at(d, d->mview.index[i]));
        if (out->len == 0 && dash_selected_image(d))
            strv_push(out, image_ref_at(d, d->mview.index[d->mview.selected]));
        return;
    }
    for (size_t i = 0; i < d->iview.count; i++)
        if (d->model.inst[d->iview.index[i]].marked)
            strv_push(out, d->model.inst[d->iview.index[i]].inst.name);
    if (out->len == 0 && dash_selected_instance(d))
        strv_push(out, dash_selected_instance(d)->inst.name);
}

/* The table the keys move in: the focused one, the instances when the bottom pane has the focus. */
struct table_view *dash_focused_view(struct dash *d)
{
    return d->focus == PANE_IMAGES ? &d->mview : &d->iview;
}

void dash_move_selection(struct dash *d, long delta)
{
    struct table_view *v = dash_focused_view(d);
    long pos = (long)v->selected + delta;

    if (v->count == 0)
        return;
    if (pos < 0)
        pos = 0;
    if (pos >= (long)v->count)
        pos = (long)v->count - 1;
    v->selected = (size_t)pos;
    dash_remember_selection(d);
    d->dirty = true;
}

void dash_toggle_mark(struct dash *d)
{
    if (d->focus == PANE_IMAGES) {
        struct image_row *r = dash_selected_image(d);
        if (r)
            r->marked = !r->marked;
    } else {
        struct inst_row *r = dash_selected_instance(d);
        if (r)
            r->marked = !r->marked;
    }
    dash_move_selection(d, 1);
}

void dash_clear_marks(struct dash *d)
{
    for (size_t i = 0; i < d->model.n_inst; i++)
        d->model.inst[i].marked = false;
    for (size_t i = 0; i < d->model.n_img; i++)
        d->model.img[i].marked = false;
}

void dash_cycle_sort(struct dash *d)
{
    struct table_view *v = dash_focused_view(d);
    bool images = d->focus == PANE_IMAGES;
    int columns = images ? MCOL_LAST : ICOL_LAST;
    const struct layout_column *cols = images ? layout_image_columns : layout_instance_columns;

    v->sort = (v->sort + 1) % columns;
    /* Figures read best largest first, names alphabetically. */
    v->descending = images ? (v->sort == MCOL_SIZE || v->sort == MCOL_CREATED || v->sort == MCOL_USED)
                           : (v->sort == ICOL_CPU || v->sort == ICOL_MEMORY || v->sort == ICOL_NET ||
                              v->sort == ICOL_BLOCK || v->sort == ICOL_UPTIME);
    dash_rebuild_views(d);
    dash_status(d, ROLE_STATUS, "%s sorted by %s", images ? "images" : "instances", cols[v->sort].title);
}

bool dash_select_instance(struct dash *d, const char *name)
{
    for (size_t i = 0; i < d->iview.count; i++) {
        if (strcmp(instance_name_at(d, d->iview.index[i]), name) == 0) {
            d->iview.selected = i;
            dash_remember_selection(d);
            d->dirty = true;
            return true;
        }
    }
    return false;
}

void dash_select_image(struct dash *d, const char *ref)
{
    for (size_t i = 0; i < d->mview.count; i++) {
        if (strcmp(image_ref_at(d, d->mview.index[i]), ref) == 0) {
            d->mview.selected = i;
            d->focus = PANE_IMAGES;
            dash_remember_selection(d);
            return;
        }
    }
}
