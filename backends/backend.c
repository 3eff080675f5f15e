/* Backend-independent helpers declared in backend.h: freeing results and naming states. */
#include "backends/backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static void volume_mounts_free(struct volume_mount *volumes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(volumes[i].volume);
        free(volumes[i].file);
        free(volumes[i].path);
    }
    free(volumes);
}

void instance_free(struct instance *inst)
{
    if (!inst)
        return;
    free(inst->name);
    free(inst->uuid);
    free(inst->image);
    free(inst->digest);
    free(inst->ports);
    volume_mounts_free(inst->volumes, inst->n_volumes);
    free(inst->log_path);
    memset(inst, 0, sizeof(*inst));
    inst->exit_code = -1;
}

void instance_list_free(struct instance *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        instance_free(&list[i]);
    free(list);
}

void instance_stats_list_free(struct instance_stats *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].name);
    free(list);
}

void backend_info_free(struct backend_info *info)
{
    if (!info)
        return;
    free(info->uri);
    free(info->hypervisor);
    free(info->accel);
    free(info->accel_reason);
    memset(info, 0, sizeof(*info));
}

const char *instance_state_name(enum instance_state state)
{
    static const char *const names[INSTANCE_STATE_LAST] = {
        [INSTANCE_CREATED] = "created",
        [INSTANCE_RUNNING] = "running",
        [INSTANCE_PAUSED] = "paused",
        [INSTANCE_STOPPING] = "stopping",
        [INSTANCE_EXITED] = "exited",
        [INSTANCE_CRASHED] = "crashed",
        [INSTANCE_UNKNOWN] = "unknown",
    };

    if ((int)state < 0 || state >= INSTANCE_STATE_LAST)
        return "unknown";
    return names[state];
}

int port_map_check_free(const struct port_map *port)
{
    struct sockaddr_in addr = {0};
    bool udp = strcmp(port->proto, "udp") == 0;
    int fd, one = 1, rc = -1;

    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port->host_port);
    if (inet_pton(AF_INET, port->host_ip, &addr.sin_addr) != 1) {
        err_set("invalid host address '%s' for port %d; use an IPv4 address such as 127.0.0.1",
                port->host_ip, port->host_port);
        return -1;
    }
    fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set_errno(errno, "cannot check port %s:%d", port->host_ip, port->host_port);
        return -1;
    }
    /* QEMU's user-mode network binds with SO_REUSEADDR too, so sockets in TIME_WAIT do not count. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        rc = 0;
    else if (errno == EADDRINUSE)
        err_set("host port %s:%d is already in use; free it, or choose another with -p", port->host_ip,
                port->host_port);
    else if (errno == EADDRNOTAVAIL)
        err_set("host address %s of port %d is not an address of this machine; use 127.0.0.1",
                port->host_ip, port->host_port);
    else
        err_set_errno(errno, "cannot bind host port %s:%d; choose another with -p", port->host_ip,
                      port->host_port);
    close(fd);
    return rc;
}
