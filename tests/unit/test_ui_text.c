/* Tests of the dashboard's text helpers: wrapping a message over two dialog rows, theme directories for display. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "ui/paint.h"
#include "ui/theme.h"
#include "util.h"

static void wrap_fits_whole(void **state)
{
    (void)state;
    assert_int_equal(paint_wrap("port in use", 20), strlen("port in use"));
    assert_int_equal(paint_wrap("", 20), 0);
}

static void wrap_at_last_blank(void **state)
{
    const char *text = "port 127.0.0.1:18081 is already in use; choose another with -p";
    size_t first = paint_wrap(text, 40);

    (void)state;
    /* The first row ends before the blank, so no word is split. */
    assert_int_equal(first, strlen("port 127.0.0.1:18081 is already in use;"));
    assert_int_equal(text[first], ' ');
    assert_true(paint_width(text + first + 1) <= 40);
}

static void wrap_long_word_cut(void **state)
{
    (void)state;
    assert_int_equal(paint_wrap("abcdefghij", 4), 4);
}

static void wrap_counts_columns(void **state)
{
    (void)state;
    /* "é" is two bytes and one column, so five of them fit in five columns. */
    assert_int_equal(paint_wrap("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5), 10);
}

static void theme_dir_resolved(void **state)
{
    char dir[] = "/tmp/kiln-themedir.XXXXXX";
    char *sub, *dotted, *shown, *missing, *expected;

    (void)state;
    assert_non_null(mkdtemp(dir));
    sub = xasprintf("%s/build", dir);
    assert_int_equal(mkdir_p(sub, 0755), 0);

    /* An existing directory: its realpath. */
    dotted = xasprintf("%s/build/..", dir);
    shown = theme_dir_canonical(dotted);
    assert_string_equal(shown, dir);
    free(shown);

    /* A missing directory under an existing one: the parent resolved, the name kept. */
    missing = xasprintf("%s/build/../themes", dir);
    expected = xasprintf("%s/themes", dir);
    shown = theme_dir_canonical(missing);
    assert_string_equal(shown, expected);
    free(shown);

    /* Nothing to resolve: shown as given. */
    shown = theme_dir_canonical("/nonexistent-kiln/a/../themes");
    assert_string_equal(shown, "/nonexistent-kiln/a/../themes");
    free(shown);

    rm_rf(dir);
    free(sub);
    free(dotted);
    free(missing);
    free(expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wrap_fits_whole),
        cmocka_unit_test(wrap_at_last_blank),
        cmocka_unit_test(wrap_long_word_cut),
        cmocka_unit_test(wrap_counts_columns),
        cmocka_unit_test(theme_dir_resolved),
    };

    setlocale(LC_ALL, "C.UTF-8");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
