/* Unit tests for kiln run's option parsing and the instance formatting of ps, inspect and stats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runopts.h"
#include "volume.h"

static void test_name_valid(void **state)
{
    (void)state;
    assert_true(runopts_name_valid("web"));
    assert_true(runopts_name_valid("Web_1.test-2"));
    assert_true(runopts_name_valid("0abc"));
    assert_false(runopts_name_valid(""));
    assert_false(runopts_name_valid(NULL));
    assert_false(runopts_name_valid("-web"));
    assert_false(runopts_name_valid(".hidden"));
    assert_false(runopts_name_valid("a/b"));
    assert_false(runopts_name_valid("a b"));
    assert_false(runopts_name_valid("a'b"));
    assert_false(runopts_name_valid("caf\xc3\xa9"));
    assert_false(runopts_name_valid("a<b>"));
    assert_false(runopts_name_valid("a..b"));
}

static void test_name_length(void **state)
{
    char name[80];

    (void)state;
    memset(name, 'a', sizeof(name));
    name[RUNOPTS_NAME_MAX] = '\0';
    assert_true(runopts_name_valid(name));
    name[RUNOPTS_NAME_MAX] = 'a';
    name[RUNOPTS_NAME_MAX + 1] = '\0';
    assert_false(runopts_name_valid(name));
}

static void test_default_name(void **state)
{
    char buf[128], image[70];

    (void)state;
    runopts_default_name("hello", 0xabc123, buf, sizeof(buf));
    assert_string_equal(buf, "hello-abc123");
    runopts_default_name("hello", 0xff000001, buf, sizeof(buf));
    assert_string_equal(buf, "hello-000001");
    memset(image, 'x', 64);
    image[64] = '\0';
    runopts_default_name(image, 1, buf, sizeof(buf));
    assert_int_equal(strlen(buf), RUNOPTS_NAME_MAX);
    assert_true(runopts_name_valid(buf));
}

static void test_port_host_guest(void **state)
{
    struct port_map p;

    (void)state;
    assert_int_equal(runopts_parse_port("8080:80", &p), 0);
    assert_string_equal(p.host_ip, "127.0.0.1");
    assert_int_equal(p.host_port, 8080);
    assert_int_equal(p.guest_port, 80);
    assert_string_equal(p.proto, "tcp");
}

static void test_port_with_ip_and_proto(void **state)
{
    struct port_map p;

    (void)state;
    assert_int_equal(runopts_parse_port("0.0.0.0:5353:53/udp", &p), 0);
    assert_string_equal(p.host_ip, "0.0.0.0");
    assert_int_equal(p.host_port, 5353);
    assert_int_equal(p.guest_port, 53);
    assert_string_equal(p.proto, "udp");
    assert_int_equal(runopts_parse_port("127.0.0.2:1:65535/tcp", &p), 0);
    assert_int_equal(p.host_port, 1);
    assert_int_equal(p.guest_port, 65535);
}

static void test_port_invalid(void **state)
{
    static const char *const bad[] = {
        "80", "", ":80", "8080:", "0:80", "8080:0", "65536:80", "8080:80/sctp", "8080:80/", "abc:80",
        "8080:8o", "-1:80", "+80:80", "1.2.3:8080:80", "localhost:8080:80", ":8080:80", "::1:8080:80",
        "999.1.1.1:8080:80", "8080:80:90:100", "12345678:80",
    };
    struct port_map p;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err_clear();
        if (runopts_parse_port(bad[i], &p) != -1)
            fail_msg("port mapping '%s' was accepted", bad[i]);
        assert_true(err_is_usage());
        assert_non_null(strstr(err_msg(), "invalid port mapping"));
        if (!strstr(err_msg(), bad[i]))
            fail_msg("message for '%s' does not name it: %s", bad[i], err_msg());
    }
}

static void test_volume_parse(void **state)
{
    struct volume_mount m;

    (void)state;
    assert_int_equal(runopts_parse_volume("data:/data", &m), 0);
    assert_string_equal(m.volume, "data");
    assert_string_equal(m.path, "/data");
    assert_null(m.file);
    assert_false(m.readonly);
    free(m.volume);
    free(m.path);

    assert_int_equal(runopts_parse_volume("cfg.v1:/etc/app conf:ro", &m), 0);
    assert_string_equal(m.volume, "cfg.v1");
    assert_string_equal(m.path, "/etc/app conf");
    assert_true(m.readonly);
    free(m.volume);
    free(m.path);

    assert_int_equal(runopts_parse_volume("x:/srv:rw", &m), 0);
    assert_false(m.readonly);
    free(m.volume);
    free(m.path);
}

static void test_volume_invalid(void **state)
{
    static const struct {
        const char *spec, *text;
    } bad[] = {
        {"data", "use VOLUME:/path"},
        {"/host/dir:/data", "named volumes"},
        {"./dir:/data", "named volumes"},
        {"data:relative", "absolute"},
        {"data:/", "cannot be /"},
        {"data:/data:rx", "ro or rw"},
        {"data:/data:ro:x", "ro or rw"},
        {"data:/a/../etc", "'..'"},
        {"data:/a/./b", "'..'"},
        {"data:/proc", "kiln-init mounts"},
        {"data:/dev/x", "kiln-init mounts"},
        {"data:/a\nb", "control character"},
        {"bad name:/data", "not a valid volume name"},
        {":/data", "not a valid volume name"},
    };
    struct volume_mount m;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err_clear();
        if (runopts_parse_volume(bad[i].spec, &m) != -1)
            fail_msg("volume '%s' was accepted", bad[i].spec);
        assert_true(err_is_usage());
        if (!strstr(err_msg(), bad[i].text))
            fail_msg("message for '%s' lacks '%s': %s", bad[i].spec, bad[i].text, err_msg());
        assert_null(m.volume);
        assert_null(m.path);
    }
    assert_int_equal(runopts_parse_volume("data:/proceed", &m), 0);
    free(m.volume);
    free(m.path);
}

static void test_env_values(void **state)
{
    struct strv env = {0};

    (void)state;
    assert_int_equal(runopts_parse_env("1A=digit first", &env), -1);
    assert_int_equal(runopts_parse_env("A-B=dash", &env), -1);
    assert_int_equal(env.len, 0);
    assert_int_equal(runopts_parse_env("A=1", &env), 0);
    assert_int_equal(runopts_parse_env("B=x=y z", &env), 0);
    assert_int_equal(runopts_parse_env("EMPTY=", &env), 0);
    assert_int_equal(runopts_parse_env("NL=a\nb", &env), 0);
    setenv("KILN_TEST_FROM_HOST", "host value", 1);
    assert_int_equal(runopts_parse_env("KILN_TEST_FROM_HOST", &env), 0);
    unsetenv("KILN_TEST_UNSET");
    assert_int_equal(runopts_parse_env("KILN_TEST_UNSET", &env), 0);
    assert_int_equal(env.len, 5);
    assert_string_equal(env.items[0], "A=1");
    assert_string_equal(env.items[1], "B=x=y z");
    assert_string_equal(env.items[2], "EMPTY=");
    assert_string_equal(env.items[3], "NL=a\nb");
    assert_string_equal(env.items[4], "KILN_TEST_FROM_HOST=host value");
    strv_free(&env);
}

static void test_env_invalid(void **state)
{
    static const char *const bad[] = {"=x", "", "A B=1", "A\tB", " A=1"};
    struct strv env = {0};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err_clear();
        if (runopts_parse_env(bad[i], &env) != -1)
            fail_msg("environment entry '%s' was accepted", bad[i]);
        assert_true(err_is_usage());
    }
    assert_int_equal(env.len, 0);
}

static void test_env_file(void **state)
{
    char path[] = "/tmp/kiln-test-env-XXXXXX";
    const char text[] = "# comment\n\nA=1\r\n  B=two words\nC=\"quoted\"\n\t# indented comment\nD=x=y\n";
    struct strv env = {0};
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(runopts_read_env_file(path, &env), 0);
    assert_int_equal(env.len, 4);
    assert_string_equal(env.items[0], "A=1");
    assert_string_equal(env.items[1], "B=two words");
    assert_string_equal(env.items[2], "C=\"quoted\"");
    assert_string_equal(env.items[3], "D=x=y");
    strv_free(&env);
    unlink(path);
}

static void test_env_file_errors(void **state)
{
    char path[] = "/tmp/kiln-test-env-XXXXXX";
    const char text[] = "A=1\nBAD KEY=2\n";
    struct strv env = {0};
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(runopts_read_env_file(path, &env), -1);
    assert_non_null(strstr(err_msg(), "line 2"));
    assert_non_null(strstr(err_msg(), path));
    strv_free(&env);
    unlink(path);

    assert_int_equal(runopts_read_env_file("/nonexistent/kiln.env", &env), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/kiln.env"));
}

static void test_memory(void **state)
{
    static const char *const bad[] = {"", "0", "-5M", "abc", "10X", "16M", "64M", "95", "2T", "1.5.5G"};

    (void)state;
    assert_int_equal(runopts_parse_memory("512M"), 512);
    assert_int_equal(runopts_parse_memory("1G"), 1024);
    assert_int_equal(runopts_parse_memory("1.5G"), 1536);
    assert_int_equal(runopts_parse_memory("128"), 128);
    assert_int_equal(runopts_parse_memory("96M"), 96);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err_clear();
        if (runopts_parse_memory(bad[i]) != -1)
            fail_msg("memory size '%s' was accepted", bad[i]);
        assert_true(err_is_usage());
        assert_non_null(strstr(err_msg(), "invalid memory size"));
    }
}

static void test_cpus(void **state)
{
    (void)state;
    assert_int_equal(runopts_parse_cpus("1"), 1);
    assert_int_equal(runopts_parse_cpus("4"), 4);
    assert_int_equal(runopts_parse_cpus("0"), -1);
    assert_int_equal(runopts_parse_cpus("x"), -1);
    assert_int_equal(runopts_parse_cpus("1000"), -1);
}

static void test_exit_status(void **state)
{
    (void)state;
    assert_int_equal(runopts_exit_status(0, 0), 0);
    assert_int_equal(runopts_exit_status(3, 0), 3);
    assert_int_equal(runopts_exit_status(-1, 9), 137);
    assert_int_equal(runopts_exit_status(-1, 15), 143);
    assert_int_equal(runopts_exit_status(-1, 0), -1);
}

static struct instance instance_in(enum instance_state state)
{
    struct instance inst = {.state = state, .exit_code = -1, .created = 1000, .started = 1000, .finished = 0};

    return inst;
}

static void test_status_strings(void **state)
{
    struct instance inst;
    char buf[128];

    (void)state;
    inst = instance_in(INSTANCE_RUNNING);
    assert_string_equal(runopts_status(&inst, 1120, buf, sizeof(buf)), "Up 2 minutes");
    assert_string_equal(runopts_status(&inst, 1000, buf, sizeof(buf)), "Up Less than a second");
    inst = instance_in(INSTANCE_PAUSED);
    assert_string_equal(runopts_status(&inst, 1005, buf, sizeof(buf)), "Up 5 seconds (Paused)");
    inst = instance_in(INSTANCE_CREATED);
    assert_string_equal(runopts_status(&inst, 2000, buf, sizeof(buf)), "Created");

    inst = instance_in(INSTANCE_EXITED);
    inst.exit_code = 3;
    inst.finished = 1050;
    assert_string_equal(runopts_status(&inst, 1060, buf, sizeof(buf)), "Exited (3) 10 seconds ago");
    inst.exit_code = -1;
    inst.exit_signal = 9;
    assert_string_equal(runopts_status(&inst, 1060, buf, sizeof(buf)), "Exited (137, SIGKILL) 10 seconds ago");
    inst.exit_signal = 0;
    assert_string_equal(runopts_status(&inst, 1060, buf, sizeof(buf)), "Exited 10 seconds ago");
    inst.finished = 0;
    assert_string_equal(runopts_status(&inst, 1060, buf, sizeof(buf)), "Exited");

    inst = instance_in(INSTANCE_CRASHED);
    inst.finished = 1000;
    assert_string_equal(runopts_status(&inst, 1000 + 3600, buf, sizeof(buf)), "Crashed About an hour ago");
}

static void test_ports_column(void **state)
{
    struct port_map ports[2] = {
        {"127.0.0.1", 8080, 80, "tcp"},
        {"0.0.0.0", 5353, 53, "udp"},
    };
    char buf[128];

    (void)state;
    assert_string_equal(runopts_ports(ports, 0, buf, sizeof(buf)), "");
    assert_string_equal(runopts_ports(ports, 1, buf, sizeof(buf)), "127.0.0.1:8080->80/tcp");
    assert_string_equal(runopts_ports(ports, 2, buf, sizeof(buf)), "127.0.0.1:8080->80/tcp, 0.0.0.0:5353->53/udp");
    runopts_ports(ports, 2, buf, 10);
    assert_int_equal(strlen(buf), 9);
}

static void test_instance_json(void **state)
{
    struct port_map port = {"127.0.0.1", 8080, 80, "tcp"};
    struct volume_mount vol = {(char *)"data", (char *)"/store/volumes/data.ext4", (char *)"/data", true};
    struct instance inst = instance_in(INSTANCE_EXITED);
    json_t *root, *v;
    char *text;

    (void)state;
    inst.name = (char *)"web";
    inst.image = (char *)"http-c:latest";
    inst.exit_code = 3;
    inst.finished = 1010;
    inst.memory_mib = 64;
    inst.cpus = 1;
    inst.ports = &port;
    inst.n_ports = 1;
    inst.volumes = &vol;
    inst.n_volumes = 1;
    text = runopts_instance_json(&inst, 1020, true);
    root = json_loads(text, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "type")), "instance");
    assert_string_equal(json_string_value(json_object_get(root, "name")), "web");
    assert_string_equal(json_string_value(json_object_get(root, "state")), "exited");
    assert_string_equal(json_string_value(json_object_get(root, "status")), "Exited (3) 10 seconds ago");
    assert_int_equal(json_integer_value(json_object_get(root, "exit_status")), 3);
    assert_true(json_is_null(json_object_get(root, "exit_signal")));
    assert_true(json_is_null(json_object_get(root, "uuid")));
    assert_string_equal(json_string_value(json_object_get(root, "created")), "1970-01-01T00:16:40Z");
    v = json_array_get(json_object_get(root, "ports"), 0);
    assert_int_equal(json_integer_value(json_object_get(v, "host_port")), 8080);
    assert_int_equal(json_integer_value(json_object_get(v, "guest_port")), 80);
    v = json_array_get(json_object_get(root, "volumes"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "path")), "/data");
    assert_true(json_is_true(json_object_get(v, "readonly")));
    json_decref(root);
    free(text);
}

static void test_tail_start(void **state)
{
    const char *text = "one\ntwo\nthree\n";
    size_t len = strlen(text);

    (void)state;
    assert_string_equal(text + runopts_tail_start(text, len, 1), "three\n");
    assert_string_equal(text + runopts_tail_start(text, len, 2), "two\nthree\n");
    assert_string_equal(text + runopts_tail_start(text, len, 3), text);
    assert_string_equal(text + runopts_tail_start(text, len, 10), text);
    assert_int_equal(runopts_tail_start(text, len, 0), len);
    assert_string_equal("one\ntwo" + runopts_tail_start("one\ntwo", 7, 1), "two");
    assert_int_equal(runopts_tail_start("", 0, 5), 0);
}

static void test_rates(void **state)
{
    struct instance_stats a = {.timestamp = 10.0, .cpu_ns = 1000000000ULL, .net_rx_bytes = 100, .blk_wr_bytes = 0};
    struct instance_stats b = {.timestamp = 12.0, .cpu_ns = 2000000000ULL, .net_rx_bytes = 2100, .blk_wr_bytes = 4096};
    struct runopts_rates r;

    (void)state;
    runopts_rates(&a, &b, &r);
    assert_float_equal(r.cpu_percent, 50.0, 0.001);
    assert_float_equal(r.net_rx, 1000.0, 0.001);
    assert_float_equal(r.blk_wr, 2048.0, 0.001);
    runopts_rates(&b, &a, &r); /* counters went back: a restart */
    assert_float_equal(r.cpu_percent, 0.0, 0.001);
    b.timestamp = a.timestamp;
    runopts_rates(&a, &b, &r);
    assert_float_equal(r.cpu_percent, 0.0, 0.001);
}

/* Feeds TEXT to a fresh filter in chunks of CHUNK bytes and returns what it lets through. */
static char *filter_all(const char *text, size_t chunk, struct runopts_filter *f)
{
    size_t len = strlen(text), used = 0;
    char *out = xmalloc(2 * len + 600);

    runopts_filter_init(f);
    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;

        used += runopts_filter_feed(f, text + i, n, out + used);
    }
    used += runopts_filter_flush(f, out + used);
    out[used] = '\0';
    return out;
}

static void test_filter_hides_exit_line(void **state)
{
    const char *text = "Hello from kiln\r\narg 1: a b\r\nKILN-EXIT code=3\r\n";
    struct runopts_filter f;

    (void)state;
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        char *out = filter_all(text, chunk, &f);

        assert_string_equal(out, "Hello from kiln\narg 1: a b\n");
        assert_int_equal(f.exit_code, 3);
        assert_int_equal(f.exit_signal, 0);
        free(out);
    }
}

static void test_filter_signal_and_partial(void **state)
{
    struct runopts_filter f;
    char *out;

    (void)state;
    out = filter_all("KILN-EXIT signal=9\n", 1, &f);
    assert_string_equal(out, "");
    assert_int_equal(f.exit_signal, 9);
    assert_int_equal(f.exit_code, -1);
    free(out);

    /* Lines that only start like the tag, or carry it mid-line, are shown. */
    out = filter_all("KILN-EXITED\nx KILN-EXIT code=1\nKILN\n", 3, &f);
    assert_string_equal(out, "KILN-EXITED\nx KILN-EXIT code=1\nKILN\n");
    assert_int_equal(f.exit_code, -1);
    free(out);

    /* An unfinished last line comes out on flush; a lone CR stays. */
    out = filter_all("no newline\rat end", 4, &f);
    assert_string_equal(out, "no newline\rat end");
    free(out);
    out = filter_all("KILN-EXIT code=127 error=not-found", 5, &f);
    assert_string_equal(out, "");
    assert_int_equal(f.exit_code, 127);
    free(out);
}

static void test_filter_hides_power_down(void **state)
{
    const char *text = "hi\r\nKILN-EXIT code=0\r\n[    1.539371] reboot: Power down\r\n[    0.5] other kernel line\r\n[x\n";
    struct runopts_filter f;

    (void)state;
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        char *out = filter_all(text, chunk, &f);

        assert_string_equal(out, "hi\n[    0.5] other kernel line\n[x\n");
        assert_int_equal(f.exit_code, 0);
        free(out);
    }
}

static void test_filter_utf8_and_long_lines(void **state)
{
    struct runopts_filter f;
    char long_line[2000];
    char *out;

    (void)state;
    out = filter_all("caf\xc3\xa9 \xe2\x9c\x93\r\n", 2, &f);
    assert_string_equal(out, "caf\xc3\xa9 \xe2\x9c\x93\n");
    free(out);
    memset(long_line, 'y', sizeof(long_line) - 2);
    long_line[sizeof(long_line) - 2] = '\n';
    long_line[sizeof(long_line) - 1] = '\0';
    out = filter_all(long_line, 700, &f);
    assert_string_equal(out, long_line);
    free(out);
}

static void test_volume_names(void **state)
{
    (void)state;
    assert_true(volume_name_valid("data"));
    assert_true(volume_name_valid("redis-data_1.v2"));
    assert_false(volume_name_valid(""));
    assert_false(volume_name_valid("../x"));
    assert_false(volume_name_valid("a/b"));
    assert_false(volume_name_valid(".x"));
    assert_false(volume_name_valid("a b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_default_name),
        cmocka_unit_test(test_port_host_guest),
        cmocka_unit_test(test_port_with_ip_and_proto),
        cmocka_unit_test(test_port_invalid),
        cmocka_unit_test(test_volume_parse),
        cmocka_unit_test(test_volume_invalid),
        cmocka_unit_test(test_env_values),
        cmocka_unit_test(test_env_invalid),
        cmocka_unit_test(test_env_file),
        cmocka_unit_test(test_env_file_errors),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_ports_column),
        cmocka_unit_test(test_instance_json),
        cmocka_unit_test(test_tail_start),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_filter_hides_exit_line),
        cmocka_unit_test(test_filter_signal_and_partial),
        cmocka_unit_test(test_filter_hides_power_down),
        cmocka_unit_test(test_filter_utf8_and_long_lines),
        cmocka_unit_test(test_volume_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
