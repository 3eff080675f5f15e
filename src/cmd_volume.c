/* Volume verbs: kiln volume create, ls and rm. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "connect.h"
#include "volume.h"

/* Adds to USERS each instance of LIST that mounts volume NAME, as "INSTANCE (state)". */
static void volume_users(const struct instance *list, size_t n, const char *name, struct strv *users)
{
    for (size_t i = 0; i < n; i++)
        for (size_t v = 0; v < list[i].n_volumes; v++)
            if (list[i].volumes[v].volume && strcmp(list[i].volumes[v].volume, name) == 0)
                strv_push_owned(users, xasprintf("%s (%s)", list[i].name, instance_state_name(list[i].state)));
}

static int cmd_volume_create(struct cli_args *args)
{
    const char *size = cli_get(args, "size"), *from = cli_get(args, "from");
    long long size_mib = VOLUME_DEFAULT_SIZE_MIB;

    if (size && (size_mib = parse_mib(size)) < 0)
        return cli_usage_error(args, "invalid size '%s': use a number with a unit, e.g. 512M or 10G", size);
    if (size && (size_mib < VOLUME_MIN_SIZE_MIB || size_mib > VOLUME_MAX_SIZE_MIB))
        return cli_usage_error(args, "invalid size '%s': use %lldM to %lldT", size, (long long)VOLUME_MIN_SIZE_MIB,
                               (long long)VOLUME_MAX_SIZE_MIB / 1024 / 1024);
    if (volume_create(args->argv[0], size_mib, from) < 0)
        return cli_fail();
    printf("%s\n", args->argv[0]);
    return EXIT_OK;
}

static int cmd_volume_ls(struct cli_args *args)
{
    struct volume_info *vols = NULL;
    struct instance *list = NULL;
    size_t n = 0, n_inst = 0;
    struct backend *b;
    bool known = false;

    if (volume_list(&vols, &n) < 0)
        return cli_fail();
    if (cli_flag(args, "quiet")) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", vols[i].name);
        volume_list_free(vols, n);
        return EXIT_OK;
    }
    b = n > 0 ? connect_open(args->connect) : NULL;
    if (b && connect_ops->list(b, true, &list, &n_inst) == 0)
        known = true;
    else if (n > 0)
        fprintf(stderr, "kiln: cannot tell which instances use the volumes: %s\n", err_msg());
    connect_close(b);

    printf("%-24s %-10s %-10s %s\n", "NAME", "SIZE", "ON DISK", "USED BY");
    for (size_t i = 0; i < n; i++) {
        struct strv users = {0};
        char size[32], disk[32], *joined = NULL;
        const char *used_by;

        if (known)
            volume_users(list, n_inst, vols[i].name, &users);
        for (size_t u = 0; u < users.len; u++) {
            char *next = xasprintf("%s%s%s", joined ? joined : "", joined ? ", " : "", users.items[u]);

            free(joined);
            joined = next;
        }
        used_by = joined ? joined : "-";
        if (!known)
            used_by = "?";
        printf("%-24s %-10s %-10s %s\n", vols[i].name, fmt_size(vols[i].size, size, sizeof(size)),
               fmt_size(vols[i].on_disk, disk, sizeof(disk)), used_by);
        free(joined);
        strv_free(&users);
    }
    instance_list_free(list, n_inst);
    volume_list_free(vols, n);
    return EXIT_OK;
}

static int cmd_volume_rm(struct cli_args *args)
{
    struct instance *list = NULL;
    size_t n = 0;
    struct backend *b = connect_open(args->connect);
    int status = EXIT_OK;

    /* Without the instance list kiln cannot tell whether a VM writes to the volume, so it removes nothing. */
    if (!b || connect_ops->list(b, true, &list, &n) < 0) {
        err_prefix("cannot check whether the volumes are in use");
        connect_close(b);
        return cli_fail();
    }
    connect_close(b);
    for (int i = 0; i < args->argc; i++) {
        const char *name = args->argv[i];
        struct strv users = {0};

        volume_users(list, n, name, &users);
        if (users.len > 0) {
            err_set("volume %s is in use by instance %s; remove that instance first with kiln rm %s", name,
                    users.items[0], users.items[0]);
            status = cli_fail();
        } else if (volume_remove(name) < 0) {
            status = cli_fail();
        } else {
            printf("%s\n", name);
        }
        strv_free(&users);
    }
    instance_list_free(list, n);
    return status;
}

static const struct cli_option create_options[] = {
    {"size", 's', "SIZE", "size of the volume, e.g. 512M or 10G (default 1G; the file is sparse)", false},
    {"from", 0, "DIR", "copy the contents of DIR into the new volume", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option ls_options[] = {
    {"quiet", 'q', NULL, "print only the names", false},
    {NULL, 0, NULL, NULL, false},
};

const struct cli_verb cmd_volume_verbs[] = {
    {"volume create", "NAME", "Create an ext4 volume in the store", create_options, 1, 1, false,
     cmd_volume_create},
    {"volume ls", "", "List volumes and the instances that use them", ls_options, 0, 0, false, cmd_volume_ls},
    {"volume rm", "NAME...", "Remove volumes that no instance uses", NULL, 1, -1, false, cmd_volume_rm},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
