/* Backend-independent helpers declared in backend.h: freeing results and naming states. */
#include "backends/backend.h"

#include <stdlib.h>
#include <string.h>

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
