/* Kernel module selection with libkmod: names to module files, each after its dependencies. */
#include "build/modules.h"

#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Modules each guest feature needs in Debian's cloud kernel (6.1, bookworm), checked
 * against its modules.dep and modules.builtin. virtio_pci is the transport of the
 * virtio devices, and ext4, tmpfs, devtmpfs and the 8250 serial driver are built in.
 */
static const char *const feature_fwcfg[] = {"qemu_fw_cfg", NULL};
static const char *const feature_net[] = {"virtio_pci", "virtio_net", NULL};
static const char *const feature_block[] = {"virtio_pci", "virtio_blk", NULL};
static const char *const feature_powerbutton[] = {"button", "evdev", NULL};

static const struct {
    const char *name;
    const char *const *modules;
} features[] = {
    {"fwcfg", feature_fwcfg},
    {"net", feature_net},
    {"block", feature_block},
    {"powerbutton", feature_powerbutton},
};

const char *const *modules_for_feature(const char *feature)
{
    for (size_t i = 0; i < ARRAY_SIZE(features); i++)
        if (strcmp(features[i].name, feature) == 0)
            return features[i].modules;
    return NULL;
}

/* Sends libkmod's messages to the debug log instead of stderr. */
static void kmod_log(void *data, int priority, const char *file, int line, const char *fn, const char *format,
                     va_list args)
{
    char message[512];

    vsnprintf(message, sizeof(message), format, args);
    message[strcspn(message, "\n")] = '\0';
    log_debug("libkmod: %s", message);
}

/*
 * Appends the file of MOD to OUT after the files of its dependencies (depth first).
 * VISITED contains the names of the modules already seen, so each
 * module is added once. A module without a file is built in and is skipped.
 */
static void module_add(struct kmod_module *mod, struct strv *visited, struct strv *out)
{
    const char *name = kmod_module_get_name(mod);
    const char *path = kmod_module_get_path(mod);
    struct kmod_list *deps, *item;

    if (strv_contains(visited, name))
        return;
    strv_push(visited, name);
    if (!path) {
        log_debug("module %s is built in", name);
        return;
    }

    /* NOTE: soft dependencies (modules.softdep) are not followed, only modules.dep. */
    deps = kmod_module_get_dependencies(mod);
    kmod_list_foreach(item, deps) {
        struct kmod_module *dep = kmod_module_get_module(item);

        module_add(dep, visited, out);
        kmod_module_unref(dep);
    }
    kmod_module_unref_list(deps);

    if (!strv_contains(out, path))
        strv_push(out, path);
}

int modules_resolve(const char *modules_dir, const struct strv *names, struct strv *out)
{
    /* An empty list of configuration files: the host's modprobe.d must not change the result. */
    const char *no_config[] = {NULL};
    char *index = path_join(modules_dir, "modules.dep.bin");
    struct kmod_ctx *ctx = NULL;
    struct strv visited = {0};
    int rc = -1;

    if (!path_is_dir(modules_dir)) {
        err_set("kernel modules directory %s not found; run kiln kernel fetch, or set modules: to the "
                "kernel's lib/modules/VERSION", modules_dir);
        goto cleanup;
    }
    if (!path_exists(index)) {
        err_set("kernel modules directory %s has no modules.dep.bin; index it with depmod -b ROOT VERSION "
                "(kmod package)", modules_dir);
        goto cleanup;
    }
    ctx = kmod_new(modules_dir, no_config);
    if (!ctx) {
        err_set("cannot open the kernel modules in %s with libkmod", modules_dir);
        goto cleanup;
    }
    kmod_set_log_fn(ctx, kmod_log, NULL);

    for (size_t i = 0; i < names->len; i++) {
        struct kmod_list *found = NULL, *item;

        if (kmod_module_new_from_lookup(ctx, names->items[i], &found) < 0 || !found) {
            err_set("kernel module %s not found in %s; correct or remove it in kernel_modules of kiln.yaml",
                    names->items[i], modules_dir);
            goto cleanup;
        }
        kmod_list_foreach(item, found) {
            struct kmod_module *mod = kmod_module_get_module(item);

            module_add(mod, &visited, out);
            kmod_module_unref(mod);
        }
        kmod_module_unref_list(found);
    }
    rc = 0;

cleanup:
    if (ctx)
        kmod_unref(ctx);
    strv_free(&visited);
    free(index);
    return rc;
}
