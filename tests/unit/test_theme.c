/* Tests of dashboard themes: the shipped files load, errors name FILE:LINE:COLUMN, failures fall back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/theme.h"
#include "util.h"

static char themes_dir[4096];
static char tmp_dir[64];

/* Points the search path at the repository's themes/ (tests run from the repository root). */
static int setup(void **state)
{
    const char *data = getenv("KILN_TEST_DATA");

    (void)state;
    size_t len = data ? strlen(data) : 0;

    /* KILN_TEST_DATA is ROOT/tests/data; the themes are in ROOT/themes. */
    if (len > 11 && strcmp(data + len - 11, "/tests/data") == 0)
        snprintf(themes_dir, sizeof(themes_dir), "%.*s/themes", (int)(len - 11), data);
    else
        snprintf(themes_dir, sizeof(themes_dir), "themes");
    setenv("KILN_THEMES", themes_dir, 1);
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/kiln-theme-test.XXXXXX");
    if (!mkdtemp(tmp_dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(tmp_dir);
    return 0;
}

static char *write_theme(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", tmp_dir, name);

    assert_int_equal(file_write_atomic(path, text, strlen(text), 0644), 0);
    return path;
}

static bool same_theme_roles(const struct theme *a, const struct theme *b)
{
    return memcmp(a->roles, b->roles, sizeof(a->roles)) == 0;
}

static void theme_shipped_files_load(void **state)
{
    static const char *const expected[] = { "default", "light", "monochrome", "high-contrast" };
    struct strv names = { 0 };

    (void)state;
    theme_list(&names);
    for (size_t i = 0; i < ARRAY_SIZE(expected); i++)
        if (!strv_contains(&names, expected[i]))
            fail_msg("theme %s missing from %s", expected[i], themes_dir);

    for (size_t i = 0; i < names.len; i++) {
        struct theme t;
        char *path = theme_find(names.items[i]);

        assert_non_null(path);
        if (theme_load_file(path, &t) < 0)
            fail_msg("%s", err_msg());
        assert_string_equal(t.name, names.items[i]);
        free(path);
    }
    strv_free(&names);
}

static void theme_default_file_matches_builtin(void **state)
{
    struct theme file, builtin;
    char *path = theme_find("default");

    (void)state;
    assert_non_null(path);
    assert_int_equal(theme_load_file(path, &file), 0);
    theme_builtin(&builtin);
    /* The built-in fallback looks the same as the shipped default. */
    assert_true(same_theme_roles(&file, &builtin));
    free(path);
}

static void theme_values_parsed(void **state)
{
    struct theme t;
    char *path = write_theme("ok.yaml",
                             "roles:\n"
                             "  header: {fg: bright-red, bg: 17, attrs: [bold, underline]}\n"
                             "  error:\n"
                             "    fg: default\n"
                             "    attrs: reverse\n");

    (void)state;
    assert_int_equal(theme_load_file(path, &t), 0);
    assert_int_equal(t.roles[ROLE_HEADER].fg, 9);
    assert_int_equal(t.roles[ROLE_HEADER].bg, 17);
    assert_int_equal(t.roles[ROLE_HEADER].attrs, THEME_BOLD | THEME_UNDERLINE);
    assert_int_equal(t.roles[ROLE_ERROR].fg, THEME_COLOR_DEFAULT);
    assert_int_equal(t.roles[ROLE_ERROR].attrs, THEME_REVERSE);
    /* A role the file leaves out keeps the built-in style. */
    struct theme builtin;
    theme_builtin(&builtin);
    assert_memory_equal(&t.roles[ROLE_RUNNING], &builtin.roles[ROLE_RUNNING], sizeof(struct theme_style));
    /* Without a name key the theme is named after its file. */
    assert_string_equal(t.name, "ok");
    free(path);
}

static void theme_unknown_colour_names_position(void **state)
{
    struct theme t, builtin;
    char *path = write_theme("bad-colour.yaml",
                             "name: bad\n"
                             "roles:\n"
                             "  header: {fg: white, bg: blue}\n"
                             "  title:  {fg: bleu}\n");
    char *expected = xasprintf("%s:4:16: unknown colour 'bleu'; use one of black, red,", path);

    (void)state;
    assert_int_equal(theme_load_file(path, &t), -1);
    if (strncmp(err_msg(), expected, strlen(expected)) != 0)
        fail_msg("message was: %s", err_msg());
    /* The failed load leaves the built-in theme in place. */
    theme_builtin(&builtin);
    assert_true(same_theme_roles(&t, &builtin));
    free(expected);
    free(path);
}

static void theme_malformed_yaml_has_line(void **state)
{
    struct theme t, builtin;
    char *path = write_theme("broken.yaml",
                             "roles:\n"
                             "  header: {fg: white, bg: blue\n"
                             "  title: {fg: red}\n");
    char *prefix = xasprintf("%s:3:", path);

    (void)state;
    assert_int_equal(theme_load_file(path, &t), -1);
    if (strncmp(err_msg(), prefix, strlen(prefix)) != 0)
        fail_msg("message was: %s", err_msg());
    assert_non_null(strstr(err_msg(), "invalid YAML"));
    theme_builtin(&builtin);
    assert_true(same_theme_roles(&t, &builtin));
    free(prefix);
    free(path);
}

static void theme_unknown_role_and_attr(void **state)
{
    struct theme t;
    char *role = write_theme("role.yaml", "roles:\n  headr: {fg: red}\n");
    char *attr = write_theme("attr.yaml", "roles:\n  header: {attrs: [bold, shiny]}\n");
    char *key = write_theme("key.yaml", "roles:\n  header: {colour: red}\n");
    char *empty = write_theme("empty.yaml", "name: nothing\n");

    (void)state;
    assert_int_equal(theme_load_file(role, &t), -1);
    assert_non_null(strstr(err_msg(), "role.yaml:2:3: unknown role 'headr'"));
    assert_int_equal(theme_load_file(attr, &t), -1);
    assert_non_null(strstr(err_msg(), "attr.yaml:2:26: unknown attribute 'shiny'"));
    assert_int_equal(theme_load_file(key, &t), -1);
    assert_non_null(strstr(err_msg(), "key.yaml:2:12: unknown key 'colour'"));
    assert_int_equal(theme_load_file(empty, &t), -1);
    assert_non_null(strstr(err_msg(), "no 'roles' mapping"));
    free(role);
    free(attr);
    free(key);
    free(empty);
}

static void theme_missing_file_falls_back(void **state)
{
    struct theme t, builtin;

    (void)state;
    assert_null(theme_find("no-such-theme"));
    assert_non_null(strstr(err_msg(), "theme 'no-such-theme' not found"));
    assert_int_equal(theme_load_file("/nonexistent/x.yaml", &t), -1);
    theme_builtin(&builtin);
    assert_true(same_theme_roles(&t, &builtin));
}

static void theme_search_path_order(void **state)
{
    char *mine = write_theme("default.yaml", "name: mine\nroles:\n  header: {fg: red}\n");
    char *env = xasprintf("%s:%s", tmp_dir, themes_dir);
    char *found;
    struct theme t;
    struct strv dirs = { 0 };

    (void)state;
    setenv("KILN_THEMES", env, 1);
    theme_search_path(&dirs);
    assert_true(dirs.len >= 3);
    assert_string_equal(dirs.items[0], tmp_dir);
    assert_string_equal(dirs.items[dirs.len - 1], KILN_DATADIR "/themes");

    /* Next to the binary: BINDIR/../themes, then BINDIR/../../themes for build/asan. */
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    assert_true(len > 0);
    exe[len] = '\0';
    *strrchr(exe, '/') = '\0';
    char *up1 = xasprintf("%s/../themes", exe), *up2 = xasprintf("%s/../../themes", exe);
    assert_true(strv_contains(&dirs, up1));
    assert_true(strv_contains(&dirs, up2));
    free(up1);
    free(up2);

    /* The first directory wins for a name found in two. */
    found = theme_find("default");
    assert_non_null(found);
    assert_int_equal(theme_load_file(found, &t), 0);
    assert_string_equal(t.name, "mine");
    free(found);

    /* A path is used as it is. */
    found = theme_find(mine);
    assert_string_equal(found, mine);
    free(found);

    setenv("KILN_THEMES", themes_dir, 1);
    strv_free(&dirs);
    free(env);
    free(mine);
}

static void theme_monochrome_has_no_colours(void **state)
{
    struct theme t;

    (void)state;
    theme_builtin_monochrome(&t);
    assert_true(t.monochrome);
    for (int r = 0; r < ROLE_LAST; r++) {
        assert_int_equal(t.roles[r].fg, THEME_COLOR_DEFAULT);
        assert_int_equal(t.roles[r].bg, THEME_COLOR_DEFAULT);
    }
    /* The selection must still be visible without colour. */
    assert_true(t.roles[ROLE_SELECTED].attrs & THEME_REVERSE);
    assert_string_equal(theme_role_name(ROLE_KEY_LABEL), "key_label");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(theme_shipped_files_load),
        cmocka_unit_test(theme_default_file_matches_builtin),
        cmocka_unit_test(theme_values_parsed),
        cmocka_unit_test(theme_unknown_colour_names_position),
        cmocka_unit_test(theme_malformed_yaml_has_line),
        cmocka_unit_test(theme_unknown_role_and_attr),
        cmocka_unit_test(theme_missing_file_falls_back),
        cmocka_unit_test(theme_search_path_order),
        cmocka_unit_test(theme_monochrome_has_no_colours),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
