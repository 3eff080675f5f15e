/* Tests for modules: module files in load order, against a fake and a real kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/modules.h"

#define FAKE_VERSION "1.0.0-fake"

static char *tmp_dir;
static char *fake_modules;

/* Indexes a fake lib/modules/VERSION with depmod: foo.ko, bar.ko (junk bytes) and a built-in ext4. */
static int fake_setup(void **state)
{
    char template[] = "/tmp/kiln-test-modules-XXXXXX";
    char *kernel_dir, *path;
    struct strv argv = {0};
    const char *builtin = "kernel/fs/ext4/ext4.ko\n";
    int rc, log_fd;

    if (!mkdtemp(template))
        return -1;
    tmp_dir = xstrdup(template);
    fake_modules = xasprintf("%s/lib/modules/%s", tmp_dir, FAKE_VERSION);
    kernel_dir = path_join(fake_modules, "kernel/drivers");
    if (mkdir_p(kernel_dir, 0755) < 0)
        return -1;
    path = path_join(kernel_dir, "foo.ko");
    rc = file_write_atomic(path, "junk", 4, 0644);
    free(path);
    path = path_join(kernel_dir, "bar.ko");
    rc |= file_write_atomic(path, "junk", 4, 0644);
    free(path);
    path = path_join(fake_modules, "modules.builtin");
    rc |= file_write_atomic(path, builtin, strlen(builtin), 0644);
    free(path);
    free(kernel_dir);

    /* depmod is in /usr/sbin, which a user's PATH may lack. */
    strv_push(&argv, access("/usr/sbin/depmod", X_OK) == 0 ? "/usr/sbin/depmod" : "depmod");
    strv_push(&argv, "-b");
    strv_push(&argv, tmp_dir);
    strv_push(&argv, FAKE_VERSION);
    path = path_join(tmp_dir, "depmod.log");
    log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    rc |= run_argv(argv.items, NULL, log_fd);
    if (log_fd >= 0)
        close(log_fd);
    free(path);
    strv_free(&argv);
    return rc == 0 ? 0 : -1;
}

static int fake_teardown(void **state)
{
    rm_rf(tmp_dir);
    free(tmp_dir);
    free(fake_modules);
    return 0;
}

/* Returns the modules directory of the kernel the test runner fetched, and fails the test when it is unset. */
static char *real_modules_dir(void)
{
    const char *kernel = getenv("KILN_TEST_KERNEL_DIR");
    char *dir;

    if (!kernel || !*kernel)
        fail_msg("KILN_TEST_KERNEL_DIR is not set: run kiln kernel fetch and set it to STORE/kernels/VERSION");
    dir = path_join(kernel, "modules");
    if (!path_is_dir(dir))
        fail_msg("%s is not a directory: KILN_TEST_KERNEL_DIR must be a kernel cache entry", dir);
    return dir;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Returns the index of the entry of V ending in "/NAME", failing the test when there is none or several. */
static size_t index_of(const struct strv *v, const char *name)
{
    char *suffix = xasprintf("/%s", name);
    size_t found = v->len, count = 0;

    for (size_t i = 0; i < v->len; i++) {
        if (ends_with(v->items[i], suffix)) {
            found = i;
            count++;
        }
    }
    if (count != 1)
        fail_msg("%s appears %zu times in the result", name, count);
    free(suffix);
    return found;
}

static int resolve_names(const char *dir, struct strv *out, const char *first, ...)
{
    struct strv names = {0};
    va_list ap;
    int rc;

    va_start(ap, first);
    for (const char *name = first; name; name = va_arg(ap, const char *))
        strv_push(&names, name);
    va_end(ap);
    rc = modules_resolve(dir, &names, out);
    strv_free(&names);
    return rc;
}

/* ---- a fake modules directory ---- */

static void fake_module_found(void **state)
{
    struct strv out = {0};
    char *expected = path_join(fake_modules, "kernel/drivers/foo.ko");

    assert_int_equal(resolve_names(fake_modules, &out, "foo", NULL), 0);
    assert_int_equal(out.len, 1);
    assert_string_equal(out.items[0], expected);
    strv_free(&out);
    free(expected);
}

static void fake_builtin_skipped(void **state)
{
    struct strv out = {0};

    assert_int_equal(resolve_names(fake_modules, &out, "ext4", "bar", NULL), 0);
    assert_int_equal(out.len, 1);
    assert_true(ends_with(out.items[0], "/bar.ko"));
    strv_free(&out);
}

static void fake_duplicates_once(void **state)
{
    struct strv out = {0};

    assert_int_equal(resolve_names(fake_modules, &out, "foo", "bar", "foo", NULL), 0);
    assert_int_equal(out.len, 2);
    assert_true(ends_with(out.items[0], "/foo.ko"));
    assert_true(ends_with(out.items[1], "/bar.ko"));
    strv_free(&out);
}

static void fake_unknown_named(void **state)
{
    struct strv out = {0};

    assert_int_equal(resolve_names(fake_modules, &out, "foo", "no_such_module", NULL), -1);
    assert_non_null(strstr(err_msg(), "no_such_module"));
    assert_non_null(strstr(err_msg(), fake_modules));
    strv_free(&out);
}

static void unindexed_dir_errors(void **state)
{
    struct strv out = {0};
    char *index = path_join(fake_modules, "modules.dep.bin");

    assert_int_equal(unlink(index), 0);
    assert_int_equal(resolve_names(fake_modules, &out, "foo", NULL), -1);
    assert_non_null(strstr(err_msg(), "modules.dep.bin"));
    assert_non_null(strstr(err_msg(), "depmod"));
    assert_int_equal(out.len, 0);
    free(index);
}

static void missing_dir_errors(void **state)
{
    struct strv out = {0};

    assert_int_equal(resolve_names("/nonexistent/lib/modules/1.0", &out, "foo", NULL), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/lib/modules/1.0"));
}

static void feature_tables(void **state)
{
    const char *const *net = modules_for_feature("net");
    const char *const *fwcfg = modules_for_feature("fwcfg");

    assert_non_null(net);
    assert_string_equal(net[0], "virtio_pci");
    assert_string_equal(net[1], "virtio_net");
    assert_null(net[2]);
    assert_non_null(fwcfg);
    assert_string_equal(fwcfg[0], "qemu_fw_cfg");
    assert_non_null(modules_for_feature("block"));
    assert_non_null(modules_for_feature("powerbutton"));
    assert_null(modules_for_feature("vsock"));
    assert_null(modules_for_feature(""));
}

/* ---- the Debian cloud kernel ---- */

static void real_net_order(void **state)
{
    char *dir = real_modules_dir();
    struct strv out = {0};
    size_t ring, virtio, failover, net_failover, net;

    assert_int_equal(resolve_names(dir, &out, "virtio_net", NULL), 0);
    ring = index_of(&out, "virtio_ring.ko");
    virtio = index_of(&out, "virtio.ko");
    failover = index_of(&out, "failover.ko");
    net_failover = index_of(&out, "net_failover.ko");
    net = index_of(&out, "virtio_net.ko");
    assert_true(ring < virtio);
    assert_true(virtio < net);
    assert_true(failover < net_failover);
    assert_true(net_failover < net);
    assert_int_equal(net, out.len - 1);
    for (size_t i = 0; i < out.len; i++)
        assert_true(strncmp(out.items[i], dir, strlen(dir)) == 0 && path_exists(out.items[i]));
    strv_free(&out);
    free(dir);
}

static void real_shared_deps_once(void **state)
{
    char *dir = real_modules_dir();
    struct strv out = {0};

    assert_int_equal(resolve_names(dir, &out, "virtio_net", "virtio_blk", "virtio-pci", NULL), 0);
    /* index_of fails the test when a module is listed twice. */
    assert_true(index_of(&out, "virtio.ko") < index_of(&out, "virtio_blk.ko"));
    assert_true(index_of(&out, "virtio_pci_modern_dev.ko") < index_of(&out, "virtio_pci.ko"));
    assert_int_equal(index_of(&out, "virtio_ring.ko"), 0);
    strv_free(&out);
    free(dir);
}

static void real_builtins_skipped(void **state)
{
    char *dir = real_modules_dir();
    struct strv out = {0};

    assert_int_equal(resolve_names(dir, &out, "ext4", "unix", NULL), 0);
    assert_int_equal(out.len, 0);
    strv_free(&out);
    free(dir);
}

static void real_features_resolve(void **state)
{
    static const char *const names[] = {"fwcfg", "net", "block", "powerbutton"};
    char *dir = real_modules_dir();

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *const *feature = modules_for_feature(names[i]);
        struct strv wanted = {0}, out = {0};

        assert_non_null(feature);
        for (size_t j = 0; feature[j]; j++)
            strv_push(&wanted, feature[j]);
        assert_int_equal(modules_resolve(dir, &wanted, &out), 0);
        /* Every module a feature names is a module file, not built in. */
        for (size_t j = 0; feature[j]; j++) {
            char *file = xasprintf("%s.ko", feature[j]);

            index_of(&out, file);
            free(file);
        }
        strv_free(&wanted);
        strv_free(&out);
    }
    free(dir);
}

static void real_unknown_named(void **state)
{
    char *dir = real_modules_dir();
    struct strv out = {0};

    assert_int_equal(resolve_names(dir, &out, "no_such_module", NULL), -1);
    assert_non_null(strstr(err_msg(), "no_such_module"));
    strv_free(&out);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fake_module_found, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(fake_builtin_skipped, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(fake_duplicates_once, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(fake_unknown_named, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(unindexed_dir_errors, fake_setup, fake_teardown),
        cmocka_unit_test(missing_dir_errors),
        cmocka_unit_test(feature_tables),
        cmocka_unit_test(real_net_order),
        cmocka_unit_test(real_shared_deps_once),
        cmocka_unit_test(real_builtins_skipped),
        cmocka_unit_test(real_features_resolve),
        cmocka_unit_test(real_unknown_named),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
