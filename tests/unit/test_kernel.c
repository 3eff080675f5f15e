/* Tests for kernel: the kernel cache, .deb unpacking and custom bzImage kernels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/kernel.h"
#include "store.h"

#define FAKE_VERSION "1.2.3-test-cloud-amd64"
#define FAKE_PACKAGE "linux-image-" FAKE_VERSION
#define MODULE_TEXT "plain module bytes\n"

static char *tmp_dir;
static char *saved_path;

static int setup(void **state)
{
    char template[] = "/tmp/kiln-test-kernel-XXXXXX";
    char *store;

    if (!mkdtemp(template))
        return -1;
    tmp_dir = xstrdup(template);
    store = path_join(tmp_dir, "store");
    store_set_root(store);
    free(store);
    saved_path = xstrdup(getenv("PATH"));
    return store_init();
}

static int teardown(void **state)
{
    setenv("PATH", saved_path, 1);
    free(saved_path);
    store_set_root(NULL);
    rm_rf(tmp_dir);
    free(tmp_dir);
    return 0;
}

static char *tmp_file(const char *name, const void *data, size_t len, mode_t mode)
{
    char *path = path_join(tmp_dir, name);
    char *parent = xstrdup(path);

    *strrchr(parent, '/') = '\0';
    assert_int_equal(mkdir_p(parent, 0755), 0);
    assert_int_equal(file_write_atomic(path, data, len, mode), 0);
    free(parent);
    return path;
}

/* Makes a cache entry kernels/VERSION with a vmlinuz and, when WITH_MODULES, a modules directory. */
static void cache_entry_make(const char *version, bool with_modules)
{
    char *sub = xasprintf("kernels/%s/modules", version);
    char *modules = store_path(sub);
    char *vmlinuz;

    assert_int_equal(mkdir_p(modules, 0755), 0);
    if (!with_modules)
        assert_int_equal(rmdir(modules), 0);
    *strrchr(modules, '/') = '\0';
    vmlinuz = path_join(modules, "vmlinuz");
    assert_int_equal(file_write_atomic(vmlinuz, "k", 1, 0644), 0);
    free(vmlinuz);
    free(modules);
    free(sub);
}

/* ---- fake packages ---- */

struct fake_entry {
    const char *path;
    const char *data; /* NULL: a directory */
    size_t len;
};

/* Writes ENTRIES as an xz-compressed tar, or when RAW as one xz-compressed file, and returns the bytes. */
static char *archive_bytes(const struct fake_entry *entries, size_t n, bool raw, size_t *len)
{
    size_t cap = 1 << 20;
    char *buf = xmalloc(cap);
    struct archive *a = archive_write_new();

    archive_write_add_filter_xz(a);
    if (raw)
        archive_write_set_format_raw(a);
    else
        archive_write_set_format_pax_restricted(a);
    assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, entries[i].path);
        archive_entry_set_filetype(e, entries[i].data ? AE_IFREG : AE_IFDIR);
        archive_entry_set_perm(e, entries[i].data ? 0644 : 0755);
        archive_entry_set_size(e, entries[i].data ? (la_int64_t)entries[i].len : 0);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (entries[i].data)
            assert_int_equal(archive_write_data(a, entries[i].data, entries[i].len), (la_ssize_t)entries[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return buf;
}

/* Writes a .deb (an ar archive) whose data.tar.xz contains ENTRIES and returns its path. */
static char *deb_make(const char *name, const struct fake_entry *entries, size_t n)
{
    size_t data_len;
    char *data = archive_bytes(entries, n, false, &data_len);
    char *path = path_join(tmp_dir, name);
    struct archive *a = archive_write_new();
    const struct fake_entry members[] = {
        {"debian-binary", "2.0\n", 4},
        {"data.tar.xz", data, data_len},
    };

    archive_write_set_format_ar_svr4(a);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, members[i].path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)members[i].len);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, members[i].data, members[i].len), (la_ssize_t)members[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    free(data);
    return path;
}

/* A kernel package like Debian's: vmlinuz, config, a plain and an xz-compressed module, docs. */
static char *fake_kernel_deb(void)
{
    const struct fake_entry module = {"data", MODULE_TEXT, strlen(MODULE_TEXT)};
    size_t xz_len;
    char *xz = archive_bytes(&module, 1, true, &xz_len);
    const struct fake_entry entries[] = {
        {"./", NULL, 0},
        {"./boot/", NULL, 0},
        {"./boot/config-" FAKE_VERSION, "CONFIG_X=y\n", 11},
        {"./boot/vmlinuz-" FAKE_VERSION, "kernel image", 12},
        {"./lib/modules/" FAKE_VERSION "/", NULL, 0},
        {"./lib/modules/" FAKE_VERSION "/kernel/drivers/foo.ko", "foo module", 10},
        {"./lib/modules/" FAKE_VERSION "/kernel/fs/bar.ko.xz", xz, xz_len},
        {"./lib/modules/" FAKE_VERSION "/modules.builtin", "kernel/fs/ext4/ext4.ko\n", 23},
        {"./usr/share/doc/" FAKE_PACKAGE "/copyright", "text", 4},
    };
    char *deb = deb_make("fake.deb", entries, ARRAY_SIZE(entries));

    free(xz);
    return deb;
}

static char *cache_file(const char *rel)
{
    char *sub = xasprintf("kernels/%s/%s", FAKE_VERSION, rel);
    char *path = store_path(sub);

    free(sub);
    return path;
}

static void assert_cache_file(const char *rel, const char *expected)
{
    char *path = cache_file(rel);
    size_t len;
    char *data = file_read(path, &len);

    assert_non_null(data);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(data, expected, len);
    free(data);
    free(path);
}

static void assert_cache_absent(const char *rel)
{
    char *path = cache_file(rel);

    assert_false(path_exists(path));
    free(path);
}

/* Puts fake apt-cache and apt-get scripts first in PATH. APT_GET_BODY is the script of apt-get. */
static void fake_apt_install(const char *apt_get_body)
{
    const char *apt_cache = "#!/bin/sh\n"
                            "echo linux-image-cloud-amd64\n"
                            "echo '  Depends: " FAKE_PACKAGE "'\n";
    char *bin = path_join(tmp_dir, "bin");
    char *script = xasprintf("#!/bin/sh\n%s", apt_get_body);
    char *path = xasprintf("%s:%s", bin, saved_path);

    free(tmp_file("bin/apt-cache", apt_cache, strlen(apt_cache), 0755));
    free(tmp_file("bin/apt-get", script, strlen(script), 0755));
    setenv("PATH", path, 1);
    free(path);
    free(script);
    free(bin);
}

/* ---- tests ---- */

static void list_empty_store(void **state)
{
    struct kernel *list = NULL;
    size_t n = 99;

    assert_int_equal(kernel_list(&list, &n), 0);
    assert_int_equal(n, 0);
    assert_null(list);
}

static void list_cache_entries(void **state)
{
    struct kernel *list = NULL;
    size_t n = 0;
    char *junk = store_path("kernels/9.9.9-no-vmlinuz");

    cache_entry_make("5.10.0-30-cloud-amd64", true);
    cache_entry_make("6.1.0-99-cloud-amd64", false);
    cache_entry_make("6.1.0-100-cloud-amd64", true);
    assert_int_equal(mkdir_p(junk, 0755), 0);

    assert_int_equal(kernel_list(&list, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].version, "6.1.0-100-cloud-amd64");
    assert_string_equal(list[1].version, "6.1.0-99-cloud-amd64");
    assert_string_equal(list[2].version, "5.10.0-30-cloud-amd64");
    assert_non_null(strstr(list[0].vmlinuz, "/kernels/6.1.0-100-cloud-amd64/vmlinuz"));
    assert_non_null(list[0].modules_dir);
    assert_non_null(strstr(list[0].modules_dir, "/kernels/6.1.0-100-cloud-amd64/modules"));
    assert_null(list[1].modules_dir);
    kernel_list_free(list, n);
    free(junk);
}

static void resolve_default_uses_newest(void **state)
{
    struct kernel k;

    cache_entry_make("6.1.0-50-cloud-amd64", true);
    cache_entry_make("6.1.0-57-cloud-amd64", true);
    assert_int_equal(kernel_resolve(KERNEL_DEFAULT, NULL, NULL, &k), 0);
    assert_string_equal(k.version, "6.1.0-57-cloud-amd64");
    assert_true(path_exists(k.vmlinuz));
    kernel_free(&k);
    assert_int_equal(kernel_resolve(NULL, NULL, NULL, &k), 0);
    assert_string_equal(k.version, "6.1.0-57-cloud-amd64");
    kernel_free(&k);
}

static void resolve_default_rejects_modules(void **state)
{
    struct kernel k;

    assert_int_equal(kernel_resolve(KERNEL_DEFAULT, "/lib/modules/x", NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "/lib/modules/x"));
}

static void custom_not_bzimage(void **state)
{
    char *path = tmp_file("vmlinuz", "not a kernel at all", 19, 0644);
    struct kernel k;

    assert_int_equal(kernel_resolve(path, NULL, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), path));
    assert_non_null(strstr(err_msg(), "not a Linux bzImage"));
    assert_null(k.vmlinuz);
    free(path);
}

static void custom_missing_file(void **state)
{
    struct kernel k;

    assert_int_equal(kernel_resolve("/nonexistent/vmlinuz", NULL, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/vmlinuz"));
    assert_non_null(strstr(err_msg(), "not found"));
}

/* Writes a minimal bzImage header: "HdrS", protocol 2.15 and a kernel_version string. */
static char *fake_bzimage(const char *version_text)
{
    unsigned char image[0x400] = {0};

    memcpy(image + 0x202, "HdrS", 4);
    image[0x206] = 0x0f;
    image[0x207] = 0x02;
    if (version_text) {
        image[0x20e] = 0x00; /* the string sits at 0x100 + 0x200 */
        image[0x20f] = 0x01;
        memcpy(image + 0x300, version_text, strlen(version_text));
    }
    return tmp_file("bzImage", image, sizeof(image), 0644);
}

static void custom_version_from_header(void **state)
{
    char *path = fake_bzimage("6.6.6-custom (me@host) #1 SMP PREEMPT");
    struct kernel k;

    assert_int_equal(kernel_resolve(path, NULL, NULL, &k), 0);
    assert_string_equal(k.version, "6.6.6-custom");
    assert_string_equal(k.vmlinuz, path);
    assert_null(k.modules_dir);
    kernel_free(&k);
    free(path);
}

static void custom_version_missing(void **state)
{
    char *path = fake_bzimage(NULL);
    struct kernel k;

    assert_int_equal(kernel_resolve(path, NULL, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "cannot read the kernel version"));
    free(path);
}

static void custom_version_from_modules(void **state)
{
    char *path = fake_bzimage("7.0.1-mine (me@host)");
    char *modules = path_join(tmp_dir, "lib/modules/7.0.1-mine");
    struct kernel k;

    assert_int_equal(mkdir_p(modules, 0755), 0);
    assert_int_equal(kernel_resolve(path, modules, NULL, &k), 0);
    assert_string_equal(k.version, "7.0.1-mine");
    assert_string_equal(k.modules_dir, modules);
    kernel_free(&k);
    free(modules);
    free(path);
}

static void custom_modules_other_release(void **state)
{
    char *path = fake_bzimage("6.6.6-custom (me@host)");
    char *modules = path_join(tmp_dir, "lib/modules/7.0.1-mine");
    struct kernel k;

    assert_int_equal(mkdir_p(modules, 0755), 0);
    assert_int_equal(kernel_resolve(path, modules, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "are for kernel 7.0.1-mine"));
    assert_non_null(strstr(err_msg(), "is kernel 6.6.6-custom"));
    assert_true(err_is_usage());
    free(modules);
    free(path);
}

static void custom_modules_not_dir(void **state)
{
    char *path = fake_bzimage("6.6.6-custom");
    struct kernel k;

    assert_int_equal(kernel_resolve(path, "/nonexistent/modules", NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/modules"));
    free(path);
}

static void import_deb_unpacks(void **state)
{
    char *deb = fake_kernel_deb();
    struct kernel k;
    struct kernel *list;
    size_t n;

    assert_int_equal(kernel_import_deb(deb, NULL, &k), 0);
    assert_string_equal(k.version, FAKE_VERSION);
    assert_non_null(k.modules_dir);
    assert_cache_file("vmlinuz", "kernel image");
    assert_cache_file("modules/kernel/drivers/foo.ko", "foo module");
    assert_cache_file("modules/kernel/fs/bar.ko", MODULE_TEXT);
    assert_cache_absent("modules/kernel/fs/bar.ko.xz");
    assert_cache_absent("config-" FAKE_VERSION);
    assert_cache_absent("boot");
    /* depmod wrote the indexes libkmod reads. */
    {
        char *index = cache_file("modules/modules.dep.bin");

        assert_true(path_exists(index));
        free(index);
    }
    kernel_free(&k);

    assert_int_equal(kernel_list(&list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].version, FAKE_VERSION);
    kernel_list_free(list, n);
    free(deb);
}

static void import_deb_replaces(void **state)
{
    char *deb = fake_kernel_deb();
    char *stale = cache_file("modules/stale.ko");
    struct kernel k;

    assert_int_equal(kernel_import_deb(deb, NULL, &k), 0);
    kernel_free(&k);
    assert_int_equal(file_write_atomic(stale, "x", 1, 0644), 0);
    assert_int_equal(kernel_import_deb(deb, NULL, &k), 0);
    assert_false(path_exists(stale));
    assert_cache_file("vmlinuz", "kernel image");
    kernel_free(&k);
    free(stale);
    free(deb);
}

static void import_unsafe_path_rejected(void **state)
{
    const struct fake_entry entries[] = {
        {"./boot/vmlinuz-" FAKE_VERSION, "kernel image", 12},
        /* Seven levels up from lib/modules/VERSION in the staging root is the test directory. */
        {"./lib/modules/" FAKE_VERSION "/../../../../../../../evil", "evil", 4},
    };
    char *deb = deb_make("evil.deb", entries, ARRAY_SIZE(entries));
    char *evil = path_join(tmp_dir, "evil");
    struct kernel *list;
    size_t n;
    struct kernel k;

    assert_int_equal(kernel_import_deb(deb, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "unsafe path"));
    assert_non_null(strstr(err_msg(), deb));
    assert_false(path_exists(evil));
    assert_int_equal(kernel_list(&list, &n), 0);
    assert_int_equal(n, 0);
    free(evil);
    free(deb);
}

static void import_absolute_path_rejected(void **state)
{
    const struct fake_entry entries[] = {
        {"/lib/modules/" FAKE_VERSION "/kernel/x.ko", "x", 1},
    };
    char *deb = deb_make("absolute.deb", entries, ARRAY_SIZE(entries));
    struct kernel k;

    assert_int_equal(kernel_import_deb(deb, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "unsafe path"));
    free(deb);
}

static void import_not_deb(void **state)
{
    char *path = tmp_file("notes.deb", "plain text", 10, 0644);
    struct kernel k;

    assert_int_equal(kernel_import_deb(path, NULL, &k), -1);
    assert_non_null(strstr(err_msg(), path));
    free(path);
}

static void fetch_without_apt(void **state)
{
    char *empty = path_join(tmp_dir, "empty");
    struct kernel k;

    assert_int_equal(mkdir_p(empty, 0755), 0);
    setenv("PATH", empty, 1);
    assert_int_equal(kernel_fetch(NULL, &k), -1);
    assert_non_null(strstr(err_msg(), "linux-image-cloud-amd64"));
    assert_non_null(strstr(err_msg(), "apt-get not found"));
    assert_non_null(strstr(err_msg(), "kernel: /path/to/vmlinuz"));
    free(empty);
}

static void fetch_download_fails(void **state)
{
    struct kernel k;

    fake_apt_install("echo 'E: Failed to fetch http://127.0.0.1/pool/x.deb'\nexit 100\n");
    assert_int_equal(kernel_fetch(NULL, &k), -1);
    assert_non_null(strstr(err_msg(), FAKE_PACKAGE));
    assert_non_null(strstr(err_msg(), "status 100"));
    assert_non_null(strstr(err_msg(), "E: Failed to fetch"));
    assert_non_null(strstr(err_msg(), "kernel: /path/to/vmlinuz"));
}

static void step_record(void *ctx, const char *message)
{
    strv_push(ctx, message);
}

static void resolve_fetches_once(void **state)
{
    char *deb = fake_kernel_deb();
    char *body = xasprintf("[ \"$1 $2\" = 'download %s' ] || exit 1\ncp '%s' ./%s_1.0_amd64.deb\n",
                           FAKE_PACKAGE, deb, FAKE_PACKAGE);
    struct strv steps = {0};
    struct progress p = {step_record, &steps};
    struct kernel k;
    char *tmp = store_path("tmp");
    struct kernel *list;
    size_t n;

    fake_apt_install(body);
    assert_int_equal(kernel_resolve(KERNEL_DEFAULT, NULL, &p, &k), 0);
    assert_string_equal(k.version, FAKE_VERSION);
    assert_cache_file("modules/kernel/fs/bar.ko", MODULE_TEXT);
    assert_true(strv_contains(&steps, "no cached kernel: fetching linux-image-cloud-amd64"));
    assert_true(strv_contains(&steps, "fetching kernel package " FAKE_PACKAGE));
    kernel_free(&k);

    /* The staging directory is gone, and resolve uses the cached kernel without fetching. */
    assert_int_equal(rmdir(tmp), 0);
    assert_int_equal(mkdir(tmp, 0755), 0);
    fake_apt_install("exit 1\n");
    assert_int_equal(kernel_resolve(KERNEL_DEFAULT, NULL, NULL, &k), 0);
    assert_string_equal(k.version, FAKE_VERSION);
    kernel_free(&k);
    assert_int_equal(kernel_list(&list, &n), 0);
    assert_int_equal(n, 1);
    kernel_list_free(list, n);

    strv_free(&steps);
    free(tmp);
    free(body);
    free(deb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(list_empty_store, setup, teardown),
        cmocka_unit_test_setup_teardown(list_cache_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(resolve_default_uses_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(resolve_default_rejects_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_not_bzimage, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_version_from_header, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_version_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_version_from_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_modules_other_release, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_modules_not_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(import_deb_unpacks, setup, teardown),
        cmocka_unit_test_setup_teardown(import_deb_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(import_unsafe_path_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(import_absolute_path_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(import_not_deb, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_without_apt, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_download_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(resolve_fetches_once, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
