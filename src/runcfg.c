/* Writer for the kiln-init settings format described in runcfg.h. */
#include "runcfg.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static void append(struct runcfg *c, const char *s)
{
    size_t n = strlen(s) + 1;

    if (c->len + n > c->cap) {
        while (c->len + n > c->cap)
            c->cap = c->cap ? c->cap * 2 : 256;
        c->data = xrealloc(c->data, c->cap);
    }
    memcpy(c->data + c->len, s, n);
    c->len += n;
}

void runcfg_init(struct runcfg *c)
{
    c->data = NULL;
    c->len = c->cap = 0;
    append(c, RUNCFG_MAGIC);
}

void runcfg_add(struct runcfg *c, const char *key, const char *value)
{
    append(c, key);
    append(c, value);
}

void runcfg_free(struct runcfg *c)
{
    free(c->data);
    c->data = NULL;
    c->len = c->cap = 0;
}
