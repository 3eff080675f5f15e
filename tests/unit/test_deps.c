/* Tests for deps: shared library dependencies of ELF files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deps.h"

static char *tmp_dir;

static int setup(void **state)
{
    char template[] = "/tmp/kiln-test-deps-XXXXXX";

    if (!mkdtemp(template))
        return -1;
    tmp_dir = xstrdup(template);
    return 0;
}

static int teardown(void **state)
{
    rm_rf(tmp_dir);
    free(tmp_dir);
    return 0;
}

/* Runs a tool given as NULL-terminated arguments and returns its exit status. */
static int run_tool(const char *arg0, ...)
{
    struct strv argv = {0};
    va_list ap;
    int rc;

    va_start(ap, arg0);
    for (const char *arg = arg0; arg; arg = va_arg(ap, const char *))
        strv_push(&argv, arg);
    va_end(ap);
    rc = run_argv(argv.items, NULL, -1);
    strv_free(&argv);
    return rc;
}

static char *write_source(const char *name, const char *text)
{
    char *path = path_join(tmp_dir, name);

    assert_int_equal(file_write_atomic(path, text, strlen(text), 0644), 0);
    return path;
}

static const char *find_suffix(const struct strv *v, const char *suffix)
{
    size_t m = strlen(suffix);

    for (size_t i = 0; i < v->len; i++) {
        size_t n = strlen(v->items[i]);

        if (n >= m && strcmp(v->items[i] + n - m, suffix) == 0)
            return v->items[i];
    }
    return NULL;
}

static void redis_server_deps(void **state)
{
    struct strv out = {0};
    struct stat st;

    assert_int_equal(deps_resolve("/usr/bin/redis-server", &out), 0);
    assert_true(strv_contains(&out, "/lib64/ld-linux-x86-64.so.2"));
    assert_non_null(find_suffix(&out, "/libc.so.6"));
    assert_non_null(find_suffix(&out, "/libssl.so.3"));
    /* libcrypto is needed by libssl as well as by redis: listed once. */
    assert_non_null(find_suffix(&out, "/libcrypto.so.3"));
    for (size_t i = 0; i < out.len; i++) {
        assert_int_equal(out.items[i][0], '/');
        assert_int_equal(stat(out.items[i], &st), 0);
        assert_true(S_ISREG(st.st_mode));
        if (i > 0)
            assert_true(strcmp(out.items[i - 1], out.items[i]) < 0);
    }
    strv_free(&out);
}

static void deps_append_once(void **state)
{
    struct strv out = {0};
    size_t first;

    assert_int_equal(deps_resolve("/usr/bin/redis-server", &out), 0);
    first = out.len;
    assert_true(first > 2);
    assert_int_equal(deps_resolve("/usr/bin/redis-server", &out), 0);
    assert_int_equal(out.len, first);
    strv_free(&out);
}

static void static_musl_no_deps(void **state)
{
    char *src = write_source("hello.c", "int main(void) { return 0; }\n");
    char *bin = path_join(tmp_dir, "hello");
    struct strv out = {0};

    assert_int_equal(run_tool("musl-gcc", "-static", "-o", bin, src, NULL), 0);
    assert_true(deps_is_elf(bin));
    assert_int_equal(deps_resolve(bin, &out), 0);
    assert_int_equal(out.len, 0);
    strv_free(&out);
    free(src);
    free(bin);
}

static void non_elf_errors(void **state)
{
    char *path = write_source("notes.txt", "just text\n");
    struct strv out = {0};

    assert_false(deps_is_elf(path));
    assert_int_equal(deps_resolve(path, &out), -1);
    assert_non_null(strstr(err_msg(), path));
    assert_non_null(strstr(err_msg(), "not an ELF file"));
    assert_int_equal(out.len, 0);
    free(path);
}

static void missing_file_errors(void **state)
{
    struct strv out = {0};

    assert_false(deps_is_elf("/nonexistent/kiln-test"));
    assert_int_equal(deps_resolve("/nonexistent/kiln-test", &out), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/kiln-test"));
}

/* Builds lib/libfoo.so.1 and a program "prog" that finds it through RUNPATH $ORIGIN/lib. */
static char *build_foo_program(char **lib_path)
{
    char *lib_src = write_source("foo.c", "int foo(void) { return 42; }\n");
    char *main_src = write_source("main.c", "int foo(void);\nint main(void) { return foo() != 42; }\n");
    char *lib_dir = path_join(tmp_dir, "lib");
    char *lib = path_join(lib_dir, "libfoo.so.1");
    char *bin = path_join(tmp_dir, "prog");

    assert_int_equal(mkdir_p(lib_dir, 0755), 0);
    assert_int_equal(run_tool("gcc", "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", lib, lib_src, NULL), 0);
    assert_int_equal(run_tool("gcc", "-o", bin, main_src, lib, "-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib",
                              NULL), 0);
    free(lib_src);
    free(main_src);
    free(lib_dir);
    *lib_path = lib;
    return bin;
}

static void runpath_origin_found(void **state)
{
    char *lib, *bin = build_foo_program(&lib);
    struct strv out = {0};

    assert_int_equal(deps_resolve(bin, &out), 0);
    assert_true(strv_contains(&out, lib));
    assert_non_null(find_suffix(&out, "/libc.so.6"));
    assert_true(strv_contains(&out, "/lib64/ld-linux-x86-64.so.2"));
    strv_free(&out);
    free(lib);
    free(bin);
}

static void missing_library_named(void **state)
{
    char *lib, *bin = build_foo_program(&lib);
    struct strv out = {0};

    assert_int_equal(unlink(lib), 0);
    assert_int_equal(deps_resolve(bin, &out), -1);
    assert_non_null(strstr(err_msg(), "libfoo.so.1 needed by"));
    assert_non_null(strstr(err_msg(), bin));
    assert_non_null(strstr(err_msg(), "RUNPATH"));
    assert_int_equal(out.len, 0);
    free(lib);
    free(bin);
}

/* Sets e_machine (offset 18, little endian) of the ELF file at PATH. */
static void set_machine(const char *path, unsigned machine)
{
    size_t len;
    char *data = file_read(path, &len);

    assert_non_null(data);
    assert_true(len > 20);
    data[18] = (char)(machine & 0xff);
    data[19] = (char)(machine >> 8);
    assert_int_equal(file_write_atomic(path, data, len, 0755), 0);
    free(data);
}

static void foreign_machine_library_skipped(void **state)
{
    char *lib, *bin = build_foo_program(&lib);
    struct strv out = {0};

    set_machine(lib, 183 /* EM_AARCH64 */);
    assert_int_equal(deps_resolve(bin, &out), -1);
    assert_non_null(strstr(err_msg(), "libfoo.so.1 needed by"));
    assert_int_equal(out.len, 0);
    free(lib);
    free(bin);
}

static void non_elf_library_skipped(void **state)
{
    char *lib, *bin = build_foo_program(&lib);
    struct strv out = {0};

    assert_int_equal(file_write_atomic(lib, "not a library\n", 14, 0644), 0);
    assert_int_equal(deps_resolve(bin, &out), -1);
    assert_non_null(strstr(err_msg(), "libfoo.so.1 needed by"));
    assert_int_equal(out.len, 0);
    free(lib);
    free(bin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(redis_server_deps),
        cmocka_unit_test(deps_append_once),
        cmocka_unit_test_setup_teardown(static_musl_no_deps, setup, teardown),
        cmocka_unit_test_setup_teardown(non_elf_errors, setup, teardown),
        cmocka_unit_test(missing_file_errors),
        cmocka_unit_test_setup_teardown(runpath_origin_found, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_library_named, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_machine_library_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(non_elf_library_skipped, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
