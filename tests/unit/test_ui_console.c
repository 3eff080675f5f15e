/* Tests of the console pane: a console log rendered through libvterm, followed as it grows, with scrollback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/dash.h"

static char dir[] = "/tmp/kiln-console-test.XXXXXX";
static char *log_path;

static int setup(void **state)
{
    (void)state;
    setlocale(LC_ALL, "C.UTF-8");
    if (!mkdtemp(dir))
        return -1;
    log_path = xasprintf("%s/console.log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(dir);
    free(log_path);
    return 0;
}

static void append(const char *text)
{
    FILE *f = fopen(log_path, "a");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_line(struct console_view *c, size_t line, const char *expected)
{
    char *text = console_view_text(c, line);

    assert_non_null(text);
    if (strcmp(text, expected) != 0)
        fail_msg("line %zu is '%s', expected '%s'", line, text, expected);
    free(text);
}

static struct instance instance_with_log(const char *name)
{
    struct instance inst;

    memset(&inst, 0, sizeof(inst));
    inst.name = (char *)name;
    inst.log_path = log_path;
    return inst;
}

static void console_renders_escapes(void **state)
{
    struct console_view *c = console_view_new();
    struct instance inst = instance_with_log("a");

    (void)state;
    unlink(log_path);
    append("plain\r\n\033[1mbold\033[0m text\r\nbare line feed\nnext \xc3\xa9t\xc3\xa9\r\n");
    console_view_resize(c, 5, 30);
    console_view_follow(c, &inst);
    assert_int_equal(console_view_lines(c), 5);
    assert_line(c, 0, "plain");
    assert_line(c, 1, "bold text");
    /* A bare "\n" starts the next line at column 0. */
    assert_line(c, 2, "bare line feed");
    assert_line(c, 3, "next \xc3\xa9t\xc3\xa9");
    assert_line(c, 4, "");
    assert_null(console_view_text(c, 5));
    console_view_free(c);
}

static void console_hides_exit_line(void **state)
{
    struct console_view *c = console_view_new();
    struct instance inst = instance_with_log("e");

    (void)state;
    unlink(log_path);
    append("app output\r\nKILN-EXIT code=3\r\n[    2.345678] reboot: Power down\r\n");
    console_view_resize(c, 3, 40);
    console_view_follow(c, &inst);
    /* kiln logs' filter removes kiln-init's status line and the kernel's power-down line. */
    assert_line(c, 0, "app output");
    assert_line(c, 1, "");
    assert_line(c, 2, "");
    console_view_free(c);
}

static void console_scrollback_and_growth(void **state)
{
    struct console_view *c = console_view_new();
    struct instance inst = instance_with_log("b");
    char line[32];

    (void)state;
    unlink(log_path);
    for (int i = 1; i <= 12; i++) {
        snprintf(line, sizeof(line), "line %d\r\n", i);
        append(line);
    }
    console_view_resize(c, 4, 20);
    console_view_follow(c, &inst);
    /* 12 lines and the cursor's empty line on a 4-row screen: 9 went to the scrollback. */
    assert_int_equal(console_view_lines(c), 9 + 4);
    assert_line(c, 0, "line 1");
    assert_line(c, 8, "line 9");
    assert_line(c, 9, "line 10");
    assert_line(c, 11, "line 12");

    /* Only what was appended is read on the next follow. */
    append("line 13\r\n");
    console_view_follow(c, &inst);
    assert_int_equal(console_view_lines(c), 10 + 4);
    assert_line(c, 12, "line 13");
    assert_line(c, 0, "line 1");
    console_view_free(c);
}

static void console_restarts_on_new_log(void **state)
{
    struct console_view *c = console_view_new();
    struct instance inst = instance_with_log("c");

    (void)state;
    unlink(log_path);
    append("old run\r\n");
    console_view_resize(c, 3, 20);
    console_view_follow(c, &inst);
    assert_line(c, 0, "old run");

    /* A re-created instance gets a new, shorter log. */
    unlink(log_path);
    append("new\r\n");
    console_view_follow(c, &inst);
    assert_line(c, 0, "new");
    assert_int_equal(console_view_lines(c), 3);
    console_view_free(c);
}

static void console_switches_instance(void **state)
{
    struct console_view *c = console_view_new();
    struct instance first = instance_with_log("first");
    struct instance second = instance_with_log("second");
    char *other = xasprintf("%s/other.log", dir);

    (void)state;
    unlink(log_path);
    append("from first\r\n");
    assert_int_equal(file_write_atomic(other, "from second\r\n", 13, 0644), 0);
    second.log_path = other;
    console_view_resize(c, 3, 20);
    console_view_follow(c, &first);
    assert_line(c, 0, "from first");
    console_view_follow(c, &second);
    assert_line(c, 0, "from second");
    /* A missing log leaves an empty screen. */
    second.log_path = (char *)"/nonexistent/console.log";
    console_view_follow(c, &second);
    assert_line(c, 0, "");
    console_view_free(c);
    free(other);
}

static void console_resize_replays(void **state)
{
    struct console_view *c = console_view_new();
    struct instance inst = instance_with_log("d");

    (void)state;
    unlink(log_path);
    append("a long line that wraps on a narrow screen\r\n");
    console_view_resize(c, 4, 10);
    console_view_follow(c, &inst);
    assert_line(c, 0, "a long lin");
    console_view_resize(c, 4, 60);
    assert_line(c, 0, "a long line that wraps on a narrow screen");
    console_view_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(console_renders_escapes),
        cmocka_unit_test(console_hides_exit_line),
        cmocka_unit_test(console_scrollback_and_growth),
        cmocka_unit_test(console_restarts_on_new_log),
        cmocka_unit_test(console_switches_instance),
        cmocka_unit_test(console_resize_replays),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
