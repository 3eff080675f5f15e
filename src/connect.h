/* The backend connection of one kiln command: -c URI, else the backend's default chain. */
#ifndef KILN_CONNECT_H
#define KILN_CONNECT_H

#include "backends/backend.h"

/* The backend every verb uses. */
extern const struct backend_ops *const connect_ops;

/* Opens a connection to URI (NULL: KILN_CONNECT, the config file, LIBVIRT_DEFAULT_URI, the default). */
struct backend *connect_open(const char *uri);
void connect_close(struct backend *b);

#endif
