/* Image verbs: kiln images, rmi, inspect and image ls. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build/initramfs.h"
#include "cli.h"
#include "connect.h"
#include "runopts.h"
#include "store.h"

static const char *short_digest(const char *digest)
{
    const char *hex = digest ? strchr(digest, ':') : NULL;

    return hex ? hex + 1 : (digest ? digest : "");
}

static int check_format(struct cli_args *args, bool *json)
{
    const char *format = cli_get(args, "format");

    *json = false;
    if (!format || strcmp(format, "table") == 0)
        return 0;
    if (strcmp(format, "json") == 0) {
        *json = true;
        return 0;
    }
    cli_usage_error(args, "invalid format '%s': use table or json", format);
    return -1;
}

static int cmd_images(struct cli_args *args)
{
    struct strv broken = {0};
    struct image *list = NULL;
    size_t n = 0;
    bool json;
    long long now = (long long)time_now();

    if (check_format(args, &json) < 0)
        return EXIT_USAGE;
    if (store_open_readonly() < 0 || store_image_list_checked(&list, &n, &broken) < 0)
        return cli_fail();
    for (size_t i = 0; i < broken.len; i++)
        fprintf(stderr, "kiln: warning: image %s has unreadable metadata and is not listed; remove it with kiln rmi %s\n",
                broken.items[i], broken.items[i]);
    strv_free(&broken);
    if (json) {
        printf("[");
        for (size_t i = 0; i < n; i++) {
            char *text = image_to_json(&list[i], false);

            printf("%s%s", i ? "," : "", text);
            free(text);
        }
        printf("]\n");
    } else if (cli_flag(args, "quiet")) {
        for (size_t i = 0; i < n; i++)
            printf("%s:%s\n", list[i].name, list[i].tag);
    } else {
        printf("%-24s %-12s %-14s %-24s %-9s %s\n", "NAME", "TAG", "DIGEST", "CREATED", "SIZE", "KERNEL");
        for (size_t i = 0; i < n; i++) {
            char ago[40], size[32];

            fmt_duration(now - list[i].created, ago, sizeof(ago));
            fmt_size(list[i].initrd_size + list[i].kernel_size, size, sizeof(size));
            printf("%-24s %-12s %-14.12s %-24s %-9s %s\n", list[i].name, list[i].tag,
                   short_digest(list[i].digest), strcat(ago, " ago"), size, list[i].kernel_version);
        }
    }
    store_image_list_free(list, n);
    return EXIT_OK;
}

/* Sets an error and returns true when a kiln instance still boots from NAME:TAG. */
static bool image_in_use(struct backend *b, const char *name, const char *tag)
{
    struct instance *list = NULL;
    size_t n = 0;
    char *ref = xasprintf("%s:%s", name, tag);
    bool used = false;

    if (b && connect_ops->list(b, true, &list, &n) == 0) {
        for (size_t i = 0; i < n && !used; i++) {
            if (list[i].image && strcmp(list[i].image, ref) == 0) {
                err_set("image %s is used by instance %s; remove the instance first (kiln rm -f %s) or use "
                        "kiln rmi -f", ref, list[i].name, list[i].name);
                used = true;
            }
        }
        instance_list_free(list, n);
    }
    free(ref);
    return used;
}

/* Removes one image; a directory whose image.json is unreadable is removed too. */
static int remove_image(struct cli_args *args, struct backend *b, const char *ref)
{
    struct image img = {0};
    char *name = NULL, *tag = NULL, *dir = NULL;
    int rc = -1;

    if (image_ref_parse(ref, &name, &tag) < 0)
        return -1;
    dir = store_image_dir(name, tag);
    if (store_image_get(ref, &img) < 0 && !(path_is_dir(dir) && strstr(err_msg(), "invalid image metadata")))
        goto cleanup;
    if (!cli_flag(args, "force") && image_in_use(b, name, tag))
        goto cleanup;
    if (store_image_remove(name, tag) < 0)
        goto cleanup;
    printf("Deleted: %s:%s\n", name, tag);
    rc = 0;
cleanup:
    image_free(&img);
    free(name);
    free(tag);
    free(dir);
    return rc;
}

static int cmd_rmi(struct cli_args *args)
{
    struct backend *b;
    int status = EXIT_OK;

    if (store_init() < 0)
        return cli_fail();
    /* NOTE: when libvirt cannot be reached, images are removed without the in-use check. */
    b = cli_flag(args, "force") ? NULL : connect_open(args->connect);
    err_clear();
    for (int i = 0; i < args->argc; i++) {
        if (remove_image(args, b, args->argv[i]) < 0) {
            if (!cli_flag(args, "force") || !strstr(err_msg(), "not found"))
                status = cli_fail();
        }
    }
    if (b)
        connect_ops->close(b);
    return status;
}

/* Adds the JSON of instance NAME to ARRAY, connecting on first use; -1 with the error record set. */
static int inspect_instance(struct cli_args *args, struct backend **b, const char *name, json_t *array)
{
    struct instance inst;
    char *one;

    if (!*b && !(*b = connect_open(args->connect)))
        return -1;
    if (connect_ops->lookup(*b, name, &inst) < 0)
        return -1;
    one = runopts_instance_json(&inst, (long long)time_now(), false);
    json_array_append_new(array, json_loads(one, 0, NULL));
    free(one);
    instance_free(&inst);
    return 0;
}

/* Adds the JSON of image REF to ARRAY; -1 with the error record set. */
static int inspect_image(const char *ref, json_t *array)
{
    struct image img = {0};
    char *one;

    if (store_image_get(ref, &img) < 0) {
        image_free(&img);
        return -1;
    }
    one = image_to_json(&img, false);
    json_array_append_new(array, json_loads(one, 0, NULL));
    free(one);
    image_free(&img);
    return 0;
}

static int cmd_inspect(struct cli_args *args)
{
    const char *type = cli_get(args, "type");
    json_t *array;
    struct backend *b = NULL;
    int status = EXIT_OK;
    char *text;

    if (type && strcmp(type, "image") != 0 && strcmp(type, "instance") != 0)
        return cli_usage_error(args, "invalid type '%s': use image or instance", type);
    if (store_open_readonly() < 0)
        return cli_fail();
    array = json_array();
    for (int i = 0; i < args->argc; i++) {
        const char *name = args->argv[i];
        char image_msg[768];

        if (!(type && strcmp(type, "instance") == 0) && inspect_image(name, array) == 0)
            continue;
        if (type && strcmp(type, "image") == 0) {
            status = cli_fail();
            continue;
        }
        /* No image of that name (or --type instance): an instance may have it. */
        snprintf(image_msg, sizeof(image_msg), "%s", err_msg());
        if (!runopts_name_valid(name)) {
            err_set(type ? "no instance named %s; see kiln ps -a" : "no image or instance named %s; see kiln images "
                                                                    "and kiln ps -a", name);
            status = cli_fail();
        } else if (inspect_instance(args, &b, name, array) < 0) {
            if (!type && strstr(err_msg(), "no such instance"))
                err_set("no image or instance named %s; see kiln images and kiln ps -a", name);
            else if (!type)
                err_set("%s, and cannot look for an instance: %s", image_msg, err_msg());
            status = cli_fail();
        }
    }
    connect_close(b);
    if (json_array_size(array) > 0) {
        text = json_dumps(array, JSON_INDENT(4) | JSON_SORT_KEYS);
        printf("%s\n", text);
        free(text);
    }
    json_decref(array);
    return status;
}

static int print_entry(void *ctx, const struct initramfs_entry *e)
{
    char size[32] = "-";
    char type = S_ISDIR(e->mode) ? 'd' : S_ISLNK(e->mode) ? 'l' : '-';

    (void)ctx;
    if (S_ISREG(e->mode))
        fmt_size(e->size, size, sizeof(size));
    printf("%c%04o %9s  %s%s%s\n", type, (unsigned)(e->mode & 07777), size, e->path,
           e->link ? " -> " : "", e->link ? e->link : "");
    return 0;
}

static int cmd_image_ls(struct cli_args *args)
{
    struct image img = {0};
    char *initrd;
    int rc;

    if (store_open_readonly() < 0 || store_image_get(args->argv[0], &img) < 0)
        return cli_fail();
    initrd = image_initrd_path(&img);
    rc = initramfs_list(initrd, print_entry, NULL);
    free(initrd);
    image_free(&img);
    return rc < 0 ? cli_fail() : EXIT_OK;
}

static const struct cli_option images_options[] = {
    {"quiet", 'q', NULL, "print only NAME:TAG references", false},
    {"format", 0, "FORMAT", "output format: table (default) or json", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option inspect_options[] = {
    {"type", 0, "TYPE", "look only for an image or only for an instance (default: an image, then an instance)",
     false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option rmi_options[] = {
    {"force", 'f', NULL, "remove images used by instances too, and ignore images that do not exist", false},
    {NULL, 0, NULL, NULL, false},
};

const struct cli_verb cmd_image_verbs[] = {
    {"images", "", "List the images in the store", images_options, 0, 0, false, cmd_images},
    {"rmi", "IMAGE...", "Remove one or more images", rmi_options, 1, -1, false, cmd_rmi},
    {"inspect", "IMAGE|INSTANCE...", "Print the metadata of images or instances as JSON", inspect_options, 1, -1, false,
     cmd_inspect},
    {"image ls", "IMAGE", "List the files inside an image with their sizes", NULL, 1, 1, false, cmd_image_ls},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
