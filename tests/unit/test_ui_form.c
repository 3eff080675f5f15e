/*
 * Tests of the dashboard's dialog field parsing: lists of ports and variables,
 * shell-like words, path completion, and the name and word lists it shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ui/form.h"

static void ports_parsed(void **state)
{
    struct port_map *ports = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(form_parse_ports("8080:80, 0.0.0.0:5353:53/udp 9000:9000/tcp", &ports, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ports[0].host_ip, "127.0.0.1");
    assert_int_equal(ports[0].host_port, 8080);
    assert_int_equal(ports[0].guest_port, 80);
    assert_string_equal(ports[0].proto, "tcp");
    assert_string_equal(ports[1].host_ip, "0.0.0.0");
    assert_int_equal(ports[1].host_port, 5353);
    assert_string_equal(ports[1].proto, "udp");
    assert_int_equal(ports[2].guest_port, 9000);
    free(ports);
}

static void ports_empty_is_none(void **state)
{
    struct port_map *ports = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(form_parse_ports("   ", &ports, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ports);
}

static void ports_rejected(void **state)
{
    static const char *const bad[] = { "80", "x:80", "8080:0", "8080:70000", "8080:80/sctp",
                                       "a:b:c:d", "8080:", "300.1.1.1:80:80" };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct port_map *ports = NULL;
        size_t n = 0;
        char *expected = xasprintf("invalid port mapping '%s'", bad[i]);

        if (form_parse_ports(bad[i], &ports, &n) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        if (strncmp(err_msg(), expected, strlen(expected)) != 0)
            fail_msg("message for '%s' was: %s", bad[i], err_msg());
        assert_int_equal(n, 0);
        free(expected);
        free(ports);
    }
}

static void ports_stop_at_first_error(void **state)
{
    struct port_map *ports = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(form_parse_ports("8080:80, bad, 9090:90", &ports, &n), -1);
    assert_non_null(strstr(err_msg(), "'bad'"));
    /* The entries before the bad one were parsed; the dialog discards them with the error. */
    assert_int_equal(n, 1);
    free(ports);
}

static void words_split_like_shell(void **state)
{
    struct strv w = { 0 };

    (void)state;
    assert_int_equal(form_split_words("  -v 'two words' \"say \\\"hi\\\"\" a\\ b end", &w), 0);
    assert_int_equal(w.len, 5);
    assert_string_equal(w.items[0], "-v");
    assert_string_equal(w.items[1], "two words");
    assert_string_equal(w.items[2], "say \"hi\"");
    assert_string_equal(w.items[3], "a b");
    assert_string_equal(w.items[4], "end");
    strv_free(&w);

    assert_int_equal(form_split_words("''", &w), 0);
    assert_int_equal(w.len, 1);
    assert_string_equal(w.items[0], "");
    strv_free(&w);

    assert_int_equal(form_split_words("'open", &w), -1);
    assert_non_null(strstr(err_msg(), "missing closing ' quote"));
    strv_free(&w);
}

static void env_entries(void **state)
{
    struct strv env = { 0 };

    (void)state;
    setenv("KILN_FORM_TEST", "from host", 1);
    unsetenv("KILN_FORM_UNSET");
    assert_int_equal(form_parse_env("A=1 GREETING='hello world' _X= KILN_FORM_TEST KILN_FORM_UNSET", &env), 0);
    assert_int_equal(env.len, 4);
    assert_string_equal(env.items[0], "A=1");
    assert_string_equal(env.items[1], "GREETING=hello world");
    assert_string_equal(env.items[2], "_X=");
    /* A bare KEY copies the dashboard's value, as kiln run -e KEY does; an unset one is skipped. */
    assert_string_equal(env.items[3], "KILN_FORM_TEST=from host");
    strv_free(&env);
}

static void env_rejected_whole(void **state)
{
    struct strv env = { 0 };

    (void)state;
    assert_int_equal(form_parse_env("A=1 =x", &env), -1);
    assert_non_null(strstr(err_msg(), "invalid environment variable '=x'"));
    /* Nothing is added when one word is invalid. */
    assert_int_equal(env.len, 0);
    assert_int_equal(form_parse_env("'A B=1'", &env), -1);
    assert_int_equal(env.len, 0);
    assert_int_equal(form_parse_env("A='unterminated", &env), -1);
    assert_non_null(strstr(err_msg(), "missing closing ' quote"));
    strv_free(&env);
}

static void path_completion(void **state)
{
    char dir[] = "/tmp/kiln-complete.XXXXXX";
    struct strv matches = { 0 };
    char *input, *out;

    (void)state;
    assert_non_null(mkdtemp(dir));
    char *p1 = xasprintf("%s/project-one", dir), *p2 = xasprintf("%s/project-two", dir);
    char *f = xasprintf("%s/notes.txt", dir);
    assert_int_equal(mkdir_p(p1, 0755), 0);
    assert_int_equal(mkdir_p(p2, 0755), 0);
    assert_int_equal(file_write_atomic(f, "x", 1, 0644), 0);

    /* Two matches: extend to the shared prefix and list both. */
    input = xasprintf("%s/pro", dir);
    out = form_complete_path(input, &matches);
    char *expected = xasprintf("%s/project-", dir);
    assert_string_equal(out, expected);
    assert_int_equal(matches.len, 2);
    assert_string_equal(matches.items[0], "project-one/");
    free(out);
    free(input);
    free(expected);
    strv_free(&matches);

    /* One directory: complete it with a slash, no list. */
    input = xasprintf("%s/project-o", dir);
    out = form_complete_path(input, &matches);
    expected = xasprintf("%s/project-one/", dir);
    assert_string_equal(out, expected);
    assert_int_equal(matches.len, 0);
    free(out);
    free(input);
    free(expected);

    /* A file gets no slash; no match leaves the input alone. */
    input = xasprintf("%s/no", dir);
    out = form_complete_path(input, &matches);
    expected = xasprintf("%s/notes.txt", dir);
    assert_string_equal(out, expected);
    free(out);
    free(input);
    free(expected);
    input = xasprintf("%s/zzz", dir);
    out = form_complete_path(input, &matches);
    assert_string_equal(out, input);
    assert_int_equal(matches.len, 0);
    free(out);
    free(input);

    rm_rf(dir);
    free(p1);
    free(p2);
    free(f);
}

static void home_expanded(void **state)
{
    char *out;

    (void)state;
    setenv("HOME", "/home/user", 1);
    out = form_expand_home("~/project");
    assert_string_equal(out, "/home/user/project");
    free(out);
    out = form_expand_home("~");
    assert_string_equal(out, "/home/user");
    free(out);
    /* Another user's home and a tilde inside the path stay as typed. */
    out = form_expand_home("~other/x");
    assert_string_equal(out, "~other/x");
    free(out);
    out = form_expand_home("/tmp/~x");
    assert_string_equal(out, "/tmp/~x");
    free(out);
    unsetenv("HOME");
    out = form_expand_home("~/project");
    assert_string_equal(out, "~/project");
    free(out);
}

static void names_joined(void **state)
{
    struct strv names = { 0 };
    char buf[256];

    (void)state;
    strv_push(&names, "web-1");
    form_join_names(&names, 48, buf, sizeof(buf));
    assert_string_equal(buf, "web-1");
    strv_push(&names, "web-2");
    form_join_names(&names, 48, buf, sizeof(buf));
    assert_string_equal(buf, "web-1, web-2");
    strv_free(&names);
}

static void names_cut_with_count(void **state)
{
    struct strv names = { 0 };
    char buf[256];

    (void)state;
    for (int i = 0; i < 12; i++)
        strv_push_owned(&names, xasprintf("instance-%02d", i));
    form_join_names(&names, 48, buf, sizeof(buf));
    assert_string_equal(buf, "instance-00, instance-01 and 10 more");
    /* The first name is shown even when it alone is longer than the limit. */
    form_join_names(&names, 4, buf, sizeof(buf));
    assert_string_equal(buf, "instance-00 and 11 more");
    /* A small buffer is cut, not overrun. */
    form_join_names(&names, 48, buf, 8);
    assert_int_equal(strlen(buf), 7);
    strv_free(&names);
}

static void words_joined_with_quotes(void **state)
{
    struct strv words = { 0 }, back = { 0 };
    char buf[256];

    (void)state;
    form_join_words(&words, buf, sizeof(buf));
    assert_string_equal(buf, "");
    strv_push(&words, "/usr/bin/python3");
    strv_push(&words, "/app/main.py");
    strv_push(&words, "hello world");
    strv_push(&words, "");
    strv_push(&words, "say \"hi\"");
    form_join_words(&words, buf, sizeof(buf));
    assert_string_equal(buf, "/usr/bin/python3 /app/main.py \"hello world\" \"\" \"say \\\"hi\\\"\"");
    /* The joined text splits back into the same words. */
    assert_int_equal(form_split_words(buf, &back), 0);
    assert_int_equal(back.len, words.len);
    for (size_t i = 0; i < words.len; i++)
        assert_string_equal(back.items[i], words.items[i]);
    strv_free(&words);
    strv_free(&back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ports_parsed),
        cmocka_unit_test(ports_empty_is_none),
        cmocka_unit_test(ports_rejected),
        cmocka_unit_test(ports_stop_at_first_error),
        cmocka_unit_test(words_split_like_shell),
        cmocka_unit_test(env_entries),
        cmocka_unit_test(env_rejected_whole),
        cmocka_unit_test(path_completion),
        cmocka_unit_test(home_expanded),
        cmocka_unit_test(names_joined),
        cmocka_unit_test(names_cut_with_count),
        cmocka_unit_test(words_joined_with_quotes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
