/* kiln build: manifest + kernel + files -> an image in the store. */
#ifndef KILN_BUILDER_H
#define KILN_BUILDER_H

#include <stdbool.h>

#include "image.h"
#include "util.h"

struct build_options {
    const char *dir;      /* project directory or kiln.yaml path */
    const char *ref;      /* "NAME[:TAG]", NULL: the manifest's name and "latest" */
    bool no_cache;        /* rebuild even when the inputs are unchanged */
    struct progress progress;
};

/* Result of a build; *cached tells whether the stored image was reused. */
int builder_build(const struct build_options *opts, struct image *out, bool *cached);
/* Path of kiln-init: $KILN_INIT, next to the kiln binary, or the installed one. */
char *builder_init_path(void);

#endif
