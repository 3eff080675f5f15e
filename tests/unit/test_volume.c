/* Unit tests for volumes: create (with mkfs.ext4), list, resolve and remove in a temporary store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "volume.h"

static char root[] = "/tmp/kiln-test-volume-XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(root))
        return -1;
    store_set_root(root);
    return store_init();
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(root);
    store_set_root(NULL);
    return 0;
}

/* Runs after each test: removes every volume it left. */
static int volumes_clear(void **state)
{
    struct volume_info *list;
    size_t n;

    (void)state;
    if (volume_list(&list, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        volume_remove(list[i].name);
    volume_list_free(list, n);
    return 0;
}

static void test_create_list_remove(void **state)
{
    struct volume_info *list;
    size_t n;

    (void)state;
    assert_int_equal(volume_create("data", 16, NULL), 0);
    assert_int_equal(volume_create("alpha", 32, NULL), 0);
    assert_int_equal(volume_list(&list, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].name, "alpha");
    assert_string_equal(list[1].name, "data");
    assert_int_equal(list[1].size, 16ULL * 1024 * 1024);
    assert_true(list[1].on_disk < list[1].size); /* sparse */
    volume_list_free(list, n);

    assert_int_equal(volume_remove("data"), 0);
    assert_int_equal(volume_list(&list, &n), 0);
    assert_int_equal(n, 1);
    volume_list_free(list, n);
    assert_int_equal(volume_remove("data"), -1);
    assert_non_null(strstr(err_msg(), "volume data not found"));
}

static void test_create_existing(void **state)
{
    (void)state;
    assert_int_equal(volume_create("twice", 16, NULL), 0);
    assert_int_equal(volume_create("twice", 16, NULL), -1);
    assert_non_null(strstr(err_msg(), "volume twice already exists"));
}

static void test_create_from_dir(void **state)
{
    char *dir = path_join(root, "content"), *file = path_join(dir, "hello.txt");
    char *debugfs[] = {(char *)"debugfs", (char *)"-R", (char *)"cat /hello.txt", NULL, NULL};
    char *out = NULL, *image;

    (void)state;
    assert_int_equal(mkdir_p(dir, 0755), 0);
    assert_int_equal(file_write_atomic(file, "hi from the host\n", 17, 0644), 0);
    assert_int_equal(volume_create("filled", 16, dir), 0);
    image = volume_file("filled");
    debugfs[3] = image;
    assert_int_equal(run_capture(debugfs, NULL, &out), 0);
    assert_non_null(strstr(out, "hi from the host"));
    free(out);
    free(image);
    free(file);
    free(dir);
}

static void test_create_invalid(void **state)
{
    struct volume_info *list;
    size_t n;

    (void)state;
    assert_int_equal(volume_create("bad/name", 16, NULL), -1);
    assert_true(err_is_usage());
    assert_int_equal(volume_create("small", 1, NULL), -1);
    assert_non_null(strstr(err_msg(), "invalid volume size 1M"));
    assert_int_equal(volume_create("nodir", 16, "/nonexistent/dir"), -1);
    assert_non_null(strstr(err_msg(), "not a directory"));
    assert_int_equal(volume_list(&list, &n), 0);
    assert_int_equal(n, 0);
    volume_list_free(list, n);
}

static void test_resolve(void **state)
{
    struct volume_mount m = {.volume = (char *)"disk", .path = (char *)"/data"};
    char *expected;

    (void)state;
    assert_int_equal(volume_resolve(&m), -1);
    assert_non_null(strstr(err_msg(), "volume disk not found; create it with kiln volume create disk"));
    assert_int_equal(volume_create("disk", 16, NULL), 0);
    assert_int_equal(volume_resolve(&m), 0);
    expected = volume_file("disk");
    assert_string_equal(m.file, expected);
    assert_true(path_exists(m.file));
    free(expected);
    free(m.file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_create_list_remove, volumes_clear),
        cmocka_unit_test_teardown(test_create_existing, volumes_clear),
        cmocka_unit_test_teardown(test_create_from_dir, volumes_clear),
        cmocka_unit_test_teardown(test_create_invalid, volumes_clear),
        cmocka_unit_test_teardown(test_resolve, volumes_clear),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
