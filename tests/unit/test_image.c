/* Unit tests for image references and image.json reading and writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

struct ref_case {
    const char *ref;
    const char *name; /* NULL: the reference is invalid */
    const char *tag;
};

static void ref_parse_table(void **state)
{
    char long_name[70], long_ref[80];
    const struct ref_case cases[] = {
        {"myapp", "myapp", "latest"},
        {"myapp:v1", "myapp", "v1"},
        {"my-app_2.0:V1.2-rc_3", "my-app_2.0", "V1.2-rc_3"},
        {"0app:_x", "0app", "_x"},
        {"a/b", NULL, NULL},
        {"a b", NULL, NULL},
        {"..", NULL, NULL},
        {"a..b", NULL, NULL},
        {"A", NULL, NULL},
        {"myApp", NULL, NULL},
        {"x:", NULL, NULL},
        {":t", NULL, NULL},
        {"", NULL, NULL},
        {".hidden", NULL, NULL},
        {"-app", NULL, NULL},
        {"app:..", NULL, NULL},
        {"app:.", NULL, NULL},
        {"app:-x", NULL, NULL},
        {"app:a/b", NULL, NULL},
        {"app:a:b", NULL, NULL},
        {"app:a b", NULL, NULL},
        {long_name, NULL, NULL},
        {long_ref, NULL, NULL},
    };

    (void)state;
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    snprintf(long_ref, sizeof(long_ref), "app:%.*s", 65, long_name);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *name = (char *)"unset", *tag = (char *)"unset";
        int rc = image_ref_parse(cases[i].ref, &name, &tag);

        if (cases[i].name) {
            if (rc != 0)
                fail_msg("\"%s\" rejected: %s", cases[i].ref, err_msg());
            assert_string_equal(name, cases[i].name);
            assert_string_equal(tag, cases[i].tag);
        } else {
            if (rc != -1)
                fail_msg("\"%s\" accepted as %s:%s", cases[i].ref, name, tag);
            assert_true(err_is_usage());
            assert_null(name);
            assert_null(tag);
        }
        free(name);
        free(tag);
    }
}

static void ref_parse_max_length(void **state)
{
    char name[65], ref[140], *n, *t;

    (void)state;
    memset(name, 'b', 64);
    name[64] = '\0';
    snprintf(ref, sizeof(ref), "%s:%s", name, name);
    assert_int_equal(image_ref_parse(ref, &n, &t), 0);
    assert_int_equal(strlen(n), 64);
    assert_int_equal(strlen(t), 64);
    free(n);
    free(t);
}

static void ref_parse_messages(void **state)
{
    char *n, *t;

    (void)state;
    assert_int_equal(image_ref_parse("a/b", &n, &t), -1);
    assert_string_equal(err_msg(), "invalid image name \"a/b\": use lower case letters, digits, '.', '_' and '-'");
    assert_int_equal(image_ref_parse("app:a/b", &n, &t), -1);
    assert_non_null(strstr(err_msg(), "invalid image tag \"a/b\" in \"app:a/b\""));
    assert_int_equal(image_ref_parse("x:", &n, &t), -1);
    assert_non_null(strstr(err_msg(), "\"x:\""));
}

/* Fills IMG with every field set. */
static void sample_image(struct image *img)
{
    memset(img, 0, sizeof(*img));
    img->name = xstrdup("web");
    img->tag = xstrdup("v2");
    img->digest = xstrdup("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    img->input_digest = xstrdup("sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
    img->created = 1796415110; /* 2026-12-04T20:11:50Z */
    img->kind = xstrdup("c");
    img->kernel_version = xstrdup("6.1.0-57-cloud-amd64");
    img->cmdline = xstrdup("console=ttyS0 quiet");
    img->kernel_size = 7000000;
    img->initrd_size = 123456;
    strv_push(&img->entrypoint, "/app/server");
    strv_push(&img->entrypoint, "--port=80");
    strv_push(&img->env, "MODE=prod");
    img->workdir = xstrdup("/app");
    img->memory_mib = 256;
    img->cpus = 2;
    img->n_ports = 2;
    img->ports = xcalloc(2, sizeof(*img->ports));
    img->ports[0].port = 80;
    strcpy(img->ports[0].proto, "tcp");
    img->ports[1].port = 53;
    strcpy(img->ports[1].proto, "udp");
    img->manifest_json = xstrdup("{\"name\": \"web\", \"run\": {\"memory\": \"256M\"}}");
}

static char *make_tmpdir(void)
{
    char *dir = xstrdup("/tmp/kiln-test-image.XXXXXX");

    assert_non_null(mkdtemp(dir));
    return dir;
}

static void save_load_round_trip(void **state)
{
    struct image img, loaded;
    char *dir = make_tmpdir();

    (void)state;
    sample_image(&img);
    assert_int_equal(image_save(&img, dir), 0);
    if (image_load(dir, &loaded) != 0)
        fail_msg("load failed: %s", err_msg());

    assert_string_equal(loaded.name, "web");
    assert_string_equal(loaded.tag, "v2");
    assert_string_equal(loaded.digest, img.digest);
    assert_string_equal(loaded.input_digest, img.input_digest);
    assert_int_equal(loaded.created, img.created);
    assert_string_equal(loaded.kind, "c");
    assert_string_equal(loaded.kernel_version, "6.1.0-57-cloud-amd64");
    assert_string_equal(loaded.cmdline, "console=ttyS0 quiet");
    assert_int_equal(loaded.kernel_size, 7000000);
    assert_int_equal(loaded.initrd_size, 123456);
    assert_int_equal(loaded.entrypoint.len, 2);
    assert_string_equal(loaded.entrypoint.items[0], "/app/server");
    assert_string_equal(loaded.entrypoint.items[1], "--port=80");
    assert_int_equal(loaded.env.len, 1);
    assert_string_equal(loaded.env.items[0], "MODE=prod");
    assert_string_equal(loaded.workdir, "/app");
    assert_int_equal(loaded.memory_mib, 256);
    assert_int_equal(loaded.cpus, 2);
    assert_int_equal(loaded.n_ports, 2);
    assert_int_equal(loaded.ports[0].port, 80);
    assert_string_equal(loaded.ports[0].proto, "tcp");
    assert_int_equal(loaded.ports[1].port, 53);
    assert_string_equal(loaded.ports[1].proto, "udp");
    assert_string_equal(loaded.manifest_json, "{\"name\":\"web\",\"run\":{\"memory\":\"256M\"}}");
    assert_string_equal(loaded.dir, dir);

    image_free(&img);
    image_free(&loaded);
    assert_int_equal(rm_rf(dir), 0);
    free(dir);
}

static void saved_json_schema(void **state)
{
    struct image img;
    char *dir = make_tmpdir(), *path = path_join(dir, IMAGE_META_FILE);
    json_error_t error;
    json_t *root;

    (void)state;
    sample_image(&img);
    assert_int_equal(image_save(&img, dir), 0);
    root = json_load_file(path, 0, &error);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "schema")), 1);
    assert_string_equal(json_string_value(json_object_get(root, "created")), "2026-12-04T20:11:50Z");
    assert_int_equal(json_integer_value(json_object_get(root, "size")), 7000000 + 123456);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "kernel"), "version")),
                        "6.1.0-57-cloud-amd64");
    assert_true(json_is_object(json_object_get(root, "manifest")));
    assert_null(json_object_get(root, "dir"));
    json_decref(root);

    image_free(&img);
    assert_int_equal(rm_rf(dir), 0);
    free(path);
    free(dir);
}

static void to_json_includes_dir(void **state)
{
    struct image img;
    char *text;
    json_t *root;
    json_error_t error;

    (void)state;
    sample_image(&img);
    img.dir = xstrdup("/store/images/web/v2");
    text = image_to_json(&img, true);
    assert_non_null(text);
    assert_non_null(strstr(text, "\n  \"cmdline\": "));
    /* Keys are sorted: "cmdline" precedes "cpus" which precedes "created". */
    assert_true(strstr(text, "\"cmdline\"") < strstr(text, "\"cpus\""));
    assert_true(strstr(text, "\"cpus\"") < strstr(text, "\"created\""));
    root = json_loads(text, 0, &error);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "dir")), "/store/images/web/v2");
    json_decref(root);
    free(text);

    text = image_to_json(&img, false);
    assert_non_null(text);
    assert_null(strchr(text, '\n'));
    free(text);
    image_free(&img);
}

/* Writes TEXT as DIR/image.json and returns the result of image_load. */
static int load_text(const char *dir, const char *text, struct image *img)
{
    char *path = path_join(dir, IMAGE_META_FILE);

    assert_int_equal(file_write_atomic(path, text, strlen(text), 0644), 0);
    free(path);
    return image_load(dir, img);
}

static void broken_json_rejected(void **state)
{
    static const struct {
        const char *text;
        const char *what;
    } cases[] = {
        {"{\"schema\": 1, \"name\": ", "invalid image metadata: line"},
        {"[1, 2]", "the top level is not an object"},
        {"{\"schema\": 2}", "\"schema\" is 2"},
        {"{\"schema\": 1, \"name\": 5}", "\"name\" is not a string"},
        {"{\"schema\": 1, \"name\": \"web\"}", "\"tag\" is missing"},
        {"{\"schema\": 1, \"name\": \"a/b\", \"tag\": \"x\"}", "not a valid image name"},
    };
    struct image img, good;
    char *dir = make_tmpdir(), *path = path_join(dir, IMAGE_META_FILE), *text;
    json_t *root;
    json_error_t error;

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(load_text(dir, cases[i].text, &img), -1);
        assert_non_null(strstr(err_msg(), "/image.json: invalid image metadata: "));
        if (!strstr(err_msg(), cases[i].what))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err_msg(), cases[i].what);
        assert_null(img.name);
    }

    /* Type errors in a file that is otherwise valid. */
    sample_image(&good);
    assert_int_equal(image_save(&good, dir), 0);
    image_free(&good);
    root = json_load_file(path, 0, &error);
    assert_non_null(root);
    json_object_set_new(root, "entrypoint", json_pack("[s, i]", "/app", 3));
    text = json_dumps(root, 0);
    assert_int_equal(load_text(dir, text, &img), -1);
    assert_non_null(strstr(err_msg(), "\"entrypoint\"[1] is not a string"));
    free(text);

    json_object_set_new(root, "entrypoint", json_pack("[s]", "/app"));
    json_object_set_new(root, "ports", json_pack("[{s:i, s:s}]", "port", 70000, "proto", "tcp"));
    text = json_dumps(root, 0);
    assert_int_equal(load_text(dir, text, &img), -1);
    assert_non_null(strstr(err_msg(), "port 70000"));
    free(text);

    json_object_set_new(root, "ports", json_array());
    json_object_set_new(root, "created", json_string("yesterday"));
    text = json_dumps(root, 0);
    assert_int_equal(load_text(dir, text, &img), -1);
    assert_non_null(strstr(err_msg(), "\"created\" is \"yesterday\""));
    free(text);

    json_object_set_new(root, "created", json_string("2026-12-04T20:11:50Z"));
    text = json_dumps(root, 0);
    assert_int_equal(load_text(dir, text, &img), 0);
    image_free(&img);
    free(text);

    json_decref(root);
    assert_int_equal(rm_rf(dir), 0);
    free(path);
    free(dir);
}

static void load_missing_file(void **state)
{
    struct image img;
    char *dir = make_tmpdir();

    (void)state;
    assert_int_equal(image_load(dir, &img), -1);
    assert_non_null(strstr(err_msg(), "image.json"));
    assert_int_equal(rm_rf(dir), 0);
    free(dir);
}

static void invalid_manifest_json_not_saved(void **state)
{
    struct image img;
    char *dir = make_tmpdir(), *path = path_join(dir, IMAGE_META_FILE);

    (void)state;
    sample_image(&img);
    free(img.manifest_json);
    img.manifest_json = xstrdup("{not json");
    assert_int_equal(image_save(&img, dir), -1);
    assert_non_null(strstr(err_msg(), "invalid manifest JSON"));
    assert_false(path_exists(path));
    image_free(&img);
    assert_int_equal(rm_rf(dir), 0);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ref_parse_table),
        cmocka_unit_test(ref_parse_max_length),
        cmocka_unit_test(ref_parse_messages),
        cmocka_unit_test(save_load_round_trip),
        cmocka_unit_test(saved_json_schema),
        cmocka_unit_test(to_json_includes_dir),
        cmocka_unit_test(broken_json_rejected),
        cmocka_unit_test(load_missing_file),
        cmocka_unit_test(invalid_manifest_json_not_saved),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
