/* Unit tests for the shared helpers: error record, parsing, formatting, paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void error_prefix_and_usage(void **state)
{
    (void)state;
    err_set("bad value %d", 7);
    assert_false(err_is_usage());
    err_set_usage();
    assert_true(err_is_usage());
    err_prefix("kiln.yaml");
    assert_string_equal(err_msg(), "kiln.yaml: bad value 7");
    err_set("next");
    assert_false(err_is_usage());
    err_clear();
    assert_string_equal(err_msg(), "unknown error");
}

static void error_prefix_long_message(void **state)
{
    char long_text[2000];

    (void)state;
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    err_set("%s", long_text);
    err_prefix("prefix");
    assert_int_equal(strncmp(err_msg(), "prefix: xxx", 11), 0);
    assert_true(strlen(err_msg()) < 1024);
}

static void parse_mib_units(void **state)
{
    (void)state;
    assert_int_equal(parse_mib("512"), 512);
    assert_int_equal(parse_mib("512M"), 512);
    assert_int_equal(parse_mib("512MiB"), 512);
    assert_int_equal(parse_mib("1G"), 1024);
    assert_int_equal(parse_mib("1.5g"), 1536);
    assert_int_equal(parse_mib("2048k"), 2);
    assert_int_equal(parse_mib(""), -1);
    assert_int_equal(parse_mib("-1"), -1);
    assert_int_equal(parse_mib("lots"), -1);
    assert_int_equal(parse_mib("12X"), -1);
    assert_int_equal(parse_mib("0"), -1);
    assert_int_equal(parse_mib("1k"), -1);
}

static void parse_int_range(void **state)
{
    long long value = 0;

    (void)state;
    assert_int_equal(parse_int("42", 1, 64, &value), 0);
    assert_int_equal(value, 42);
    assert_int_equal(parse_int("65", 1, 64, &value), -1);
    assert_int_equal(parse_int("4x", 1, 64, &value), -1);
    assert_int_equal(parse_int("", 1, 64, &value), -1);
}

static void format_sizes(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(fmt_size(999, buf, sizeof(buf)), "999B");
    assert_string_equal(fmt_size(1500, buf, sizeof(buf)), "1.5kB");
    assert_string_equal(fmt_size(14190528, buf, sizeof(buf)), "14.2MB");
    assert_string_equal(fmt_size(250000000, buf, sizeof(buf)), "250MB");
}

static void format_durations(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(fmt_duration(0, buf, sizeof(buf)), "Less than a second");
    assert_string_equal(fmt_duration(1, buf, sizeof(buf)), "1 second");
    assert_string_equal(fmt_duration(10, buf, sizeof(buf)), "10 seconds");
    assert_string_equal(fmt_duration(61, buf, sizeof(buf)), "About a minute");
    assert_string_equal(fmt_duration(150, buf, sizeof(buf)), "2 minutes");
    assert_string_equal(fmt_duration(3700, buf, sizeof(buf)), "About an hour");
    assert_string_equal(fmt_duration(3 * 3600, buf, sizeof(buf)), "3 hours");
    assert_string_equal(fmt_duration(3 * 86400, buf, sizeof(buf)), "3 days");
}

static void rfc3339_round_trip(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(time_rfc3339(1796415110, buf, sizeof(buf)), "2026-12-04T20:11:50Z");
    assert_int_equal(time_parse_rfc3339(buf), 1796415110);
    assert_int_equal(time_parse_rfc3339("yesterday"), -1);
}

static void path_within_and_symlinks(void **state)
{
    char root[] = "/tmp/kiln-test-util.XXXXXX";
    char *inside, *link, *outside_link;

    (void)state;
    assert_non_null(mkdtemp(root));
    inside = path_join(root, "a/b");
    assert_int_equal(mkdir_p(inside, 0755), 0);
    link = path_join(root, "up");
    outside_link = path_join(root, "etc");
    assert_int_equal(symlink("a/b", link), 0);
    assert_int_equal(symlink("/etc", outside_link), 0);
    assert_true(path_is_within(root, inside));
    assert_true(path_is_within(root, link));
    assert_false(path_is_within(root, outside_link));
    assert_false(path_is_within(inside, root));
    assert_int_equal(rm_rf(root), 0);
    assert_false(path_exists(root));
    free(inside);
    free(link);
    free(outside_link);
}

static void file_write_and_read(void **state)
{
    char root[] = "/tmp/kiln-test-util.XXXXXX";
    char *path, *text;
    size_t len = 0;

    (void)state;
    assert_non_null(mkdtemp(root));
    path = path_join(root, "f");
    assert_int_equal(file_write_atomic(path, "abc", 3, 0644), 0);
    text = file_read(path, &len);
    assert_non_null(text);
    assert_int_equal(len, 3);
    assert_string_equal(text, "abc");
    free(text);
    assert_null(file_read("/nonexistent/kiln", NULL));
    assert_non_null(strstr(err_msg(), "/nonexistent/kiln"));
    rm_rf(root);
    free(path);
}

static void run_capture_output(void **state)
{
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)"echo out; exit 3", NULL};
    char *bad[] = {(char *)"/nonexistent/program", NULL};
    char *out = NULL;

    (void)state;
    assert_int_equal(run_capture(argv, NULL, &out), 3);
    assert_string_equal(out, "out\n");
    free(out);
    assert_int_equal(run_argv(bad, NULL, -1), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/program"));
}

static void strv_operations(void **state)
{
    struct strv v = {0};

    (void)state;
    strv_push(&v, "b");
    strv_push(&v, "a");
    strv_push(&v, "c");
    strv_sort(&v);
    assert_int_equal(v.len, 3);
    assert_string_equal(v.items[0], "a");
    assert_null(v.items[3]);
    assert_true(strv_contains(&v, "c"));
    assert_false(strv_contains(&v, "d"));
    strv_free(&v);
    assert_int_equal(v.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_prefix_and_usage),
        cmocka_unit_test(error_prefix_long_message),
        cmocka_unit_test(parse_mib_units),
        cmocka_unit_test(parse_int_range),
        cmocka_unit_test(format_sizes),
        cmocka_unit_test(format_durations),
        cmocka_unit_test(rfc3339_round_trip),
        cmocka_unit_test(path_within_and_symlinks),
        cmocka_unit_test(file_write_and_read),
        cmocka_unit_test(run_capture_output),
        cmocka_unit_test(strv_operations),
    };

    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
