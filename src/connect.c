/* The backend connection of one kiln command. */
#include "connect.h"

#include <stddef.h>

const struct backend_ops *const connect_ops = &backend_libvirt;

struct backend *connect_open(const char *uri)
{
    struct backend *b = connect_ops->connect(uri);

    if (!b)
        log_debug("connection failed: %s", err_msg());
    return b;
}

void connect_close(struct backend *b)
{
    if (b)
        connect_ops->close(b);
}
