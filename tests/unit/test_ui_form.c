/* Tests of the dashboard's dialog field parsing: ports, environment, arguments, instance names. */
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
                                       "a:b:c:d", "8080:" };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct port_map *ports = NULL;
        size_t n = 0;

        if (form_parse_ports(bad[i], &ports, &n) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err_msg(), bad[i]));
        assert_non_null(strstr(err_msg(), "HOST:GUEST"));
        free(ports);
    }
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
    assert_int_equal(form_parse_env("A=1 GREETING='hello world' _X=", &env), 0);
    assert_int_equal(env.len, 3);
    assert_string_equal(env.items[1], "GREETING=hello world");
    assert_string_equal(env.items[2], "_X=");
    strv_free(&env);

    assert_int_equal(form_parse_env("A=1 NOVALUE", &env), -1);
    assert_non_null(strstr(err_msg(), "'NOVALUE'"));
    assert_int_equal(env.len, 0);
    assert_int_equal(form_parse_env("1A=x", &env), -1);
    assert_int_equal(form_parse_env("=x", &env), -1);
    strv_free(&env);
}

static void instance_names(void **state)
{
    (void)state;
    assert_true(form_name_valid("web-1"));
    assert_true(form_name_valid("A.b_c"));
    assert_false(form_name_valid(""));
    assert_false(form_name_valid("-web"));
    assert_false(form_name_valid("has space"));
    assert_false(form_name_valid("slash/name"));
    assert_true(form_name_valid("a234567890123456789012345678901234567890123456789012345678901234"));
    assert_false(form_name_valid("a2345678901234567890123456789012345678901234567890123456789012345"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ports_parsed),
        cmocka_unit_test(ports_empty_is_none),
        cmocka_unit_test(ports_rejected),
        cmocka_unit_test(words_split_like_shell),
        cmocka_unit_test(env_entries),
        cmocka_unit_test(instance_names),
        cmocka_unit_test(path_completion),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
