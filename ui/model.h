/* The dashboard's data: instance and image rows kept up to date from the worker's messages. */
#ifndef KILN_UI_MODEL_H
#define KILN_UI_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "ui/rows.h"

struct model {
    struct inst_row *inst;   /* sorted by name */
    size_t n_inst;
    struct image_row *img;   /* sorted by name, then tag */
    size_t n_img;
};

/* Replaces the instances by LIST[N] (taking ownership of its contents), keeping the figures and marks of known names. */
void model_set_instances(struct model *m, struct instance *list, size_t n);
/* Folds one stats sample per instance into the rows; samples of unknown names are ignored. */
void model_apply_stats(struct model *m, const struct instance_stats *stats, size_t n);
/* Replaces the images by LIST[N] (taking ownership), keeping marks, and recounts their users. */
void model_set_images(struct model *m, struct image *list, size_t n);
/* Returns the row of instance NAME, or NULL. */
struct inst_row *model_find_instance(struct model *m, const char *name);
void model_free(struct model *m);

#endif
