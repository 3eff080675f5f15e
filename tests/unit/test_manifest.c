/* Unit tests for the kiln.yaml reader: a manifest of each kind, defaults, and every error message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "util.h"

/* A temporary project directory per test. */
struct fixture {
    char dir[PATH_MAX]; /* canonical, so it can be compared with manifest.dir */
    char file[PATH_MAX];
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    char template[PATH_MAX];
    char *real;

    snprintf(template, sizeof(template), "%s/kiln-test-manifest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(template)) {
        free(f);
        return -1;
    }
    real = realpath(template, NULL);
    snprintf(f->dir, sizeof(f->dir), "%s", real);
    snprintf(f->file, sizeof(f->file), "%s/kiln.yaml", real);
    free(real);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = rm_rf(f->dir);

    free(f);
    return rc;
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Writes TEXT as the fixture's kiln.yaml and loads the directory. */
static int load_text(struct fixture *f, const char *text, struct manifest *m)
{
    write_text(f->file, text, strlen(text));
    err_clear();
    return manifest_load(f->dir, m);
}

/* Asserts that TEXT fails to load with the usage error "KILN_YAML:EXPECTED". */
static void assert_load_error(struct fixture *f, const char *text, const char *expected)
{
    struct manifest m;
    char message[PATH_MAX + 2048];

    assert_int_equal(load_text(f, text, &m), -1);
    snprintf(message, sizeof(message), "%s:%s", f->file, expected);
    assert_string_equal(err_msg(), message);
    assert_true(err_is_usage());
    assert_null(m.name);
    assert_null(m.path);
}

static void kind_c_full(void **state)
{
    struct fixture *f = *state;
    struct manifest m;
    char dir_path[PATH_MAX + 16];

    assert_int_equal(load_text(f,
        "# a complete C project\n"
        "name: hello\n"
        "kind: c\n"
        "sources: [hello.c, lib/util.c]\n"
        "cflags: [-O2, -DNDEBUG]\n"
        "build: [make, all]\n"
        "entrypoint: hello-bin\n"
        "args: [--port, \"8080\", 7, true]\n"
        "env:\n"
        "  GREETING: hello\n"
        "  EMPTY: \"\"\n"
        "workdir: /app\n"
        "files:\n"
        "  - src: static\n"
        "    dest: /srv/static\n"
        "  - conf/app.ini:/etc/app.ini\n"
        "memory: 256M\n"
        "cpus: 2\n"
        "ports: [80, \"53/udp\"]\n"
        "kernel: /boot/vmlinuz-custom\n"
        "modules: /lib/modules/6.1.0\n"
        "kernel_modules: [virtio_rng, vsock]\n", &m), 0);

    snprintf(dir_path, sizeof(dir_path), "%s/kiln.yaml", f->dir);
    assert_string_equal(m.path, dir_path);
    assert_string_equal(m.dir, f->dir);
    assert_string_equal(m.name, "hello");
    assert_int_equal(m.kind, KIND_C);
    assert_int_equal(m.sources.len, 2);
    assert_string_equal(m.sources.items[0], "hello.c");
    assert_string_equal(m.sources.items[1], "lib/util.c");
    assert_int_equal(m.cflags.len, 2);
    assert_string_equal(m.cflags.items[1], "-DNDEBUG");
    assert_int_equal(m.build.len, 2);
    assert_string_equal(m.build.items[0], "make");
    assert_string_equal(m.build.items[1], "all");
    assert_null(m.build.items[2]);
    assert_null(m.build_shell);
    assert_string_equal(m.entrypoint, "hello-bin");
    assert_int_equal(m.args.len, 4);
    assert_string_equal(m.args.items[0], "--port");
    assert_string_equal(m.args.items[1], "8080");
    assert_string_equal(m.args.items[2], "7");
    assert_string_equal(m.args.items[3], "true");
    assert_int_equal(m.env.len, 2);
    assert_string_equal(m.env.items[0], "GREETING=hello");
    assert_string_equal(m.env.items[1], "EMPTY=");
    assert_string_equal(m.workdir, "/app");
    assert_int_equal(m.n_files, 2);
    assert_string_equal(m.files[0].src, "static");
    assert_string_equal(m.files[0].dest, "/srv/static");
    assert_string_equal(m.files[1].src, "conf/app.ini");
    assert_string_equal(m.files[1].dest, "/etc/app.ini");
    assert_int_equal(m.memory_mib, 256);
    assert_int_equal(m.cpus, 2);
    assert_int_equal(m.n_ports, 2);
    assert_int_equal(m.ports[0].port, 80);
    assert_string_equal(m.ports[0].proto, "tcp");
    assert_int_equal(m.ports[1].port, 53);
    assert_string_equal(m.ports[1].proto, "udp");
    assert_string_equal(m.kernel, "/boot/vmlinuz-custom");
    assert_string_equal(m.modules, "/lib/modules/6.1.0");
    assert_int_equal(m.kernel_modules.len, 2);
    assert_string_equal(m.kernel_modules.items[0], "virtio_rng");
    assert_string_equal(m.kernel_modules.items[1], "vsock");
    manifest_free(&m);
    assert_null(m.name);
}

static void kind_binary_full(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: busybox\n"
        "kind: binary\n"
        "entrypoint: /usr/bin/busybox\n"
        "args: [httpd, -f, -p, \"8080\"]\n"
        "env: [HOME=/root, A=b=c]\n"
        "workdir: /srv\n"
        "memory: 1G\n"
        "cpus: 4\n"
        "ports: [8080/tcp]\n", &m), 0);
    assert_int_equal(m.kind, KIND_BINARY);
    assert_string_equal(m.entrypoint, "/usr/bin/busybox");
    assert_int_equal(m.args.len, 4);
    assert_string_equal(m.args.items[3], "8080");
    assert_int_equal(m.env.len, 2);
    assert_string_equal(m.env.items[0], "HOME=/root");
    assert_string_equal(m.env.items[1], "A=b=c");
    assert_int_equal(m.memory_mib, 1024);
    assert_int_equal(m.cpus, 4);
    assert_int_equal(m.n_ports, 1);
    assert_int_equal(m.ports[0].port, 8080);
    assert_string_equal(m.ports[0].proto, "tcp");
    manifest_free(&m);

    assert_int_equal(load_text(f, "name: tool\nkind: binary\nentrypoint: out/tool\n", &m), 0);
    assert_string_equal(m.entrypoint, "out/tool");
    manifest_free(&m);
}

static void kind_python_full(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: web.py\n"
        "kind: python\n"
        "entrypoint: app/main.py\n"
        "args: [--debug]\n"
        "env: {PYTHONUNBUFFERED: \"1\"}\n"
        "workdir: /app\n"
        "files: [\"app:/app\"]\n"
        "ports: [\"8000\"]\n", &m), 0);
    assert_int_equal(m.kind, KIND_PYTHON);
    assert_string_equal(m.entrypoint, "app/main.py");
    assert_string_equal(m.env.items[0], "PYTHONUNBUFFERED=1");
    assert_string_equal(m.files[0].src, "app");
    assert_string_equal(m.files[0].dest, "/app");
    assert_int_equal(m.ports[0].port, 8000);
    assert_string_equal(m.ports[0].proto, "tcp");
    manifest_free(&m);
}

static void kind_node_full(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: api\n"
        "kind: node\n"
        "build: npm ci --omit=dev && npm run build\n"
        "entrypoint: dist/server.js\n"
        "env:\n"
        "  NODE_ENV: production\n"
        "files:\n"
        "  - {src: node_modules, dest: /app/node_modules}\n"
        "memory: 512\n"
        "ports: [3000]\n", &m), 0);
    assert_int_equal(m.kind, KIND_NODE);
    assert_string_equal(m.build_shell, "npm ci --omit=dev && npm run build");
    assert_int_equal(m.build.len, 0);
    assert_string_equal(m.entrypoint, "dist/server.js");
    assert_int_equal(m.memory_mib, 512);
    assert_string_equal(m.files[0].dest, "/app/node_modules");
    assert_int_equal(m.ports[0].port, 3000);
    manifest_free(&m);
}

static void kind_shell_full(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: tick\n"
        "kind: shell\n"
        "entrypoint: tick.sh\n"
        "args: [\"5\"]\n"
        "env: [INTERVAL=1]\n"
        "kernel_modules: [virtio_rng]\n", &m), 0);
    assert_int_equal(m.kind, KIND_SHELL);
    assert_string_equal(m.entrypoint, "tick.sh");
    assert_string_equal(m.env.items[0], "INTERVAL=1");
    assert_string_equal(m.kernel_modules.items[0], "virtio_rng");
    assert_string_equal(manifest_kind_name(m.kind), "shell");
    manifest_free(&m);
}

static void defaults_filled(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f, "name: hello\nkind: c\nsources: [hello.c]\n", &m), 0);
    assert_string_equal(m.entrypoint, "hello");
    assert_string_equal(m.workdir, "/");
    assert_int_equal(m.memory_mib, 128);
    assert_int_equal(m.cpus, 1);
    assert_string_equal(m.kernel, "debian-cloud");
    assert_null(m.modules);
    assert_null(m.build_shell);
    assert_int_equal(m.build.len, 0);
    assert_int_equal(m.args.len, 0);
    assert_int_equal(m.env.len, 0);
    assert_int_equal(m.n_files, 0);
    assert_int_equal(m.n_ports, 0);
    assert_int_equal(m.cflags.len, 0);
    assert_int_equal(m.kernel_modules.len, 0);
    manifest_free(&m);
}

static void null_values_use_defaults(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: hello\nkind: c\nsources: [hello.c]\nworkdir:\nmemory: ~\ncpus: null\nargs:\n", &m), 0);
    assert_string_equal(m.workdir, "/");
    assert_int_equal(m.memory_mib, 128);
    assert_int_equal(m.cpus, 1);
    assert_int_equal(m.args.len, 0);
    manifest_free(&m);
}

static void load_by_file_path(void **state)
{
    struct fixture *f = *state;
    struct manifest m;
    char other[PATH_MAX + 16];
    const char *text = "name: x\nkind: shell\nentrypoint: run.sh\n";

    snprintf(other, sizeof(other), "%s/other.yaml", f->dir);
    write_text(other, text, strlen(text));
    assert_int_equal(manifest_load(other, &m), 0);
    assert_string_equal(m.path, other);
    assert_string_equal(m.dir, f->dir);
    assert_string_equal(m.name, "x");
    manifest_free(&m);
}

static void load_missing_file(void **state)
{
    struct fixture *f = *state;
    struct manifest m;
    char expected[PATH_MAX + 128], missing[PATH_MAX + 16];

    err_clear();
    assert_int_equal(manifest_load(f->dir, &m), -1);
    snprintf(expected, sizeof(expected), "%s: no kiln.yaml found; create one (see docs/kiln-yaml.md)",
             f->dir);
    assert_string_equal(err_msg(), expected);
    assert_true(err_is_usage());

    snprintf(missing, sizeof(missing), "%s/nope.yaml", f->dir);
    err_clear();
    assert_int_equal(manifest_load(missing, &m), -1);
    snprintf(expected, sizeof(expected),
             "%s: no such file or directory; give a project directory or its kiln.yaml", missing);
    assert_string_equal(err_msg(), expected);
    assert_true(err_is_usage());
}

static void invalid_yaml(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name: hello\nkind: c\nsources: [hello.c\n",
                      "4:1: invalid YAML: did not find expected ',' or ']' "
                      "(while parsing a flow sequence)");
    assert_load_error(f, "name: hello\n  kind: c\n",
                      "2:7: invalid YAML: mapping values are not allowed in this context");
    /* Invalid UTF-8 is a reader error that carries only a byte offset. */
    assert_load_error(f, "name: hello\nkind: \xff\n",
                      "2:7: invalid YAML: invalid leading UTF-8 octet");
}

static void missing_required_keys(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "kind: c\nsources: [a.c]\n",
                      "1:1: missing required key 'name'; add the image name, such as 'name: hello'");
    assert_load_error(f, "# project\n\nname: hello\n",
                      "3:1: missing required key 'kind'; add one of c, binary, python, node, shell");
    assert_load_error(f, "",
                      "1:1: missing required key 'name'; the file is empty, add at least 'name' "
                      "and 'kind'");
    assert_load_error(f, "name: hello\nkind: c\n",
                      "1:1: missing required key 'sources'; kind c needs the source files to "
                      "compile, or a build command");
    assert_load_error(f, "name: hello\nkind: python\n",
                      "1:1: missing required key 'entrypoint'; kind python needs the path of its "
                      "script");
    assert_load_error(f, "name: hello\nkind: binary\n",
                      "1:1: missing required key 'entrypoint'; kind binary needs the path of its "
                      "program");
    assert_load_error(f, "name: hello\nkind: c\nfiles:\n  - src: a\n",
                      "4:5: files[0]: missing required key 'dest'");
}

static void unknown_key_suggestion(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name: hello\nkind: shell\nentrypiont: run.sh\n",
                      "3:1: unknown key 'entrypiont'; did you mean 'entrypoint'?");
    assert_load_error(f, "name: hello\nkind: shell\nentrypoint: run.sh\nEnv: [A=1]\n",
                      "4:1: unknown key 'Env'; did you mean 'env'?");
    assert_load_error(f, "name: hello\nkind: shell\nentrypoint: run.sh\nkernel_module: [a]\n",
                      "4:1: unknown key 'kernel_module'; did you mean 'kernel_modules'?");
    assert_load_error(f, "name: hello\nkind: shell\nentrypoint: run.sh\ncolour: red\n",
                      "4:1: unknown key 'colour'; valid keys are name, kind, sources, cflags, "
                      "build, entrypoint, args, env, workdir, files, memory, cpus, ports, "
                      "kernel, modules, kernel_modules");
    assert_load_error(f, "name: hello\nkind: shell\nentrypoint: run.sh\n\"x\\ny\": 1\n",
                      "4:1: unknown key 'x?y'; valid keys are name, kind, sources, cflags, "
                      "build, entrypoint, args, env, workdir, files, memory, cpus, ports, "
                      "kernel, modules, kernel_modules");
    assert_load_error(f,
        "name: hello\nkind: shell\nentrypoint: run.sh\nfiles:\n  - src: a\n    dst: /a\n",
        "6:5: files[0]: unknown key 'dst'; did you mean 'dest'?");
    assert_load_error(f,
        "name: hello\nkind: shell\nentrypoint: run.sh\nfiles:\n  - {src: a, dest: /a, mode: 644}\n",
        "5:24: files[0]: unknown key 'mode'; valid keys are src, dest");
}

static void wrong_types(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name:\n  first: hello\nkind: c\n",
                      "2:3: name: expected an image name (lower case letters, digits, '.', '_' "
                      "and '-', starting with a letter or digit, at most 64 characters), got a "
                      "mapping");
    assert_load_error(f, "name: hello\nkind: java\n",
                      "2:7: kind: expected one of c, binary, python, node, shell, got 'java'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\ncpus: many\n",
                      "4:7: cpus: expected an integer from 1 to 64, got 'many'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\ncpus: 65\n",
                      "4:7: cpus: expected an integer from 1 to 64, got '65'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\ncpus: 0\n",
                      "4:7: cpus: expected an integer from 1 to 64, got '0'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nmemory: lots\n",
                      "4:9: memory: expected a size in MiB, or with a unit such as 512M or 1G, "
                      "at most 1T, got 'lots'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [80, 70000]\n",
                      "4:13: ports[1]: expected a port from 1 to 65535, optionally followed by "
                      "/tcp or /udp, got '70000'");
    assert_load_error(f, "name: hello\nkind: c\nsources: hello.c\n",
                      "3:10: sources: expected a list of source files, such as [hello.c], got "
                      "'hello.c'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [[a.c]]\n",
                      "3:11: sources[0]: expected a string, got a list");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nargs: [~]\n",
                      "4:8: args[0]: expected a string, got null");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv: A=1\n",
                      "4:6: env: expected a mapping of variables to strings, or a list of "
                      "KEY=VALUE strings, got 'A=1'");
    assert_load_error(f, "- name: hello\n",
                      "1:1: expected a mapping of keys such as 'name: hello', got a list");
    assert_load_error(f, "name: ~\nkind: c\n",
                      "1:7: name: expected an image name (lower case letters, digits, '.', '_' "
                      "and '-', starting with a letter or digit, at most 64 characters), got null");
}

static void long_value_shortened(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f,
        "name: hello\nkind: c\nsources: [a.c]\n"
        "cpus: abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n",
        "4:7: cpus: expected an integer from 1 to 64, got "
        "'abcdefghijklmnopqrstuvwxyzabcdefghijklmn...'");
}

static void duplicate_key(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name: hello\nkind: c\nname: again\n",
                      "3:1: duplicate key 'name' (first set on line 1); remove one of them");
    assert_load_error(f,
        "name: hello\nkind: c\nsources: [a.c]\nfiles:\n  - src: a\n    src: b\n",
        "6:5: files[0]: duplicate key 'src' (first set on line 5); remove one of them");
}

static void name_rules(void **state)
{
    struct fixture *f = *state;
    const char *expected_tail = "name: expected an image name (lower case letters, digits, '.', "
                                "'_' and '-', starting with a letter or digit, at most 64 "
                                "characters), got ";
    char expected[512];
    struct manifest m;

    snprintf(expected, sizeof(expected), "1:7: %s'Hello'", expected_tail);
    assert_load_error(f, "name: Hello\nkind: c\nsources: [a.c]\n", expected);
    snprintf(expected, sizeof(expected), "1:7: %s'-x'", expected_tail);
    assert_load_error(f, "name: \"-x\"\nkind: c\nsources: [a.c]\n", expected);
    snprintf(expected, sizeof(expected), "1:7: %s'a..b'", expected_tail);
    assert_load_error(f, "name: a..b\nkind: c\nsources: [a.c]\n", expected);
    snprintf(expected, sizeof(expected), "1:7: %s'a/b'", expected_tail);
    assert_load_error(f, "name: a/b\nkind: c\nsources: [a.c]\n", expected);
    snprintf(expected, sizeof(expected),
             "1:7: %s'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'", expected_tail);
    assert_load_error(f,
        "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
        "kind: c\nsources: [a.c]\n", expected);

    /* 64 characters is the limit, inclusive. */
    assert_int_equal(load_text(f,
        "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
        "kind: c\nsources: [a.c]\n", &m), 0);
    assert_int_equal(strlen(m.name), 64);
    manifest_free(&m);
    assert_int_equal(load_text(f, "name: 9lives_v1.2-x\nkind: c\nsources: [a.c]\n", &m), 0);
    manifest_free(&m);
}

static void path_rules(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nworkdir: app\n",
                      "4:10: workdir: expected an absolute path inside the image, such as /app, "
                      "got 'app'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nworkdir: /app/../..\n",
                      "4:10: workdir: expected an absolute path without '..' components, got "
                      "'/app/../..'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nfiles: [{src: a, dest: srv}]\n",
                      "4:24: files[0].dest: expected an absolute path inside the image, such as "
                      "/app, got 'srv'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nfiles: [\"a:srv\"]\n",
                      "4:9: files[0]: expected an absolute path inside the image, such as /app, "
                      "got 'a:srv'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nfiles: [static]\n",
                      "4:9: files[0]: expected 'SRC:DEST' or a mapping with src and dest, got "
                      "'static'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [src/../../etc/passwd]\n",
                      "3:11: sources[0]: expected a path without '..' components (files must be "
                      "inside the project directory), got 'src/../../etc/passwd'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [/etc/passwd]\n",
                      "3:11: sources[0]: expected a path relative to the project directory, got "
                      "'/etc/passwd'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nfiles:\n  - src: ..\n    dest: /x\n",
                      "5:10: files[0].src: expected a path without '..' components (files must be "
                      "inside the project directory), got '..'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nfiles: [\"/etc:/etc\"]\n",
                      "4:9: files[0]: expected a path relative to the project directory, got "
                      "'/etc:/etc'");
    assert_load_error(f, "name: hello\nkind: python\nentrypoint: ../x.py\n",
                      "3:13: entrypoint: expected a path without '..' components (files must be "
                      "inside the project directory), got '../x.py'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nentrypoint: bin/hello\n",
                      "4:13: entrypoint: expected a file name without '/' for the compiled "
                      "program, got 'bin/hello'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nworkdir: \"/a\\0b\"\n",
                      "4:10: workdir: expected an absolute path inside the image, got a value "
                      "containing a NUL byte");
}

static void kind_specific_keys(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name: hello\nkind: python\nentrypoint: a.py\nsources: [a.c]\n",
                      "4:1: sources: only used with kind c, but kind is python; remove it");
    assert_load_error(f, "name: hello\nkind: shell\nentrypoint: a.sh\ncflags: [-O2]\n",
                      "4:1: cflags: only used with kind c, but kind is shell; remove it");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nmodules: /lib/modules/6.1.0\n",
                      "4:1: modules: only used with a custom kernel path; set kernel to your "
                      "vmlinuz or remove modules");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nkernel: debian\n",
                      "4:9: kernel: expected 'debian-cloud' or the path of a vmlinuz file (with a "
                      "'/', such as ./vmlinuz), got 'debian'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nkernel_modules: [virtio_rng.ko]\n",
                      "4:18: kernel_modules[0]: expected a kernel module name (letters, digits, "
                      "'_' and '-', no .ko suffix), got 'virtio_rng.ko'");
}

static void kernel_paths_relative_to_project(void **state)
{
    struct fixture *f = *state;
    struct manifest m;
    char expected[PATH_MAX + 64];

    assert_int_equal(load_text(f,
        "name: a\nkind: shell\nentrypoint: a.sh\nkernel: ./k/vmlinuz\nmodules: k/lib/modules/6.1\n",
        &m), 0);
    snprintf(expected, sizeof(expected), "%s/./k/vmlinuz", f->dir);
    assert_string_equal(m.kernel, expected);
    snprintf(expected, sizeof(expected), "%s/k/lib/modules/6.1", f->dir);
    assert_string_equal(m.modules, expected);
    manifest_free(&m);
}

static void build_list_or_string(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f, "name: hello\nkind: c\nbuild: [make, -C, src]\n", &m), 0);
    assert_int_equal(m.build.len, 3);
    assert_string_equal(m.build.items[0], "make");
    assert_string_equal(m.build.items[2], "src");
    assert_null(m.build_shell);
    assert_int_equal(m.sources.len, 0);
    manifest_free(&m);

    assert_int_equal(load_text(f, "name: hello\nkind: c\nbuild: make -j4 && strip hello\n", &m), 0);
    assert_int_equal(m.build.len, 0);
    assert_string_equal(m.build_shell, "make -j4 && strip hello");
    manifest_free(&m);

    assert_int_equal(load_text(f, "name: hello\nkind: c\nbuild: |\n  set -e\n  make\n", &m), 0);
    assert_string_equal(m.build_shell, "set -e\nmake\n");
    manifest_free(&m);

    assert_load_error(f, "name: hello\nkind: c\nbuild: []\n",
                      "3:8: build: expected a command as a list of arguments, such as [make, all], "
                      "or as a string run by /bin/sh -c, got a list");
    assert_load_error(f, "name: hello\nkind: c\nbuild: [\"\", x]\n",
                      "3:9: build[0]: expected a non-empty string, got ''");
    assert_load_error(f, "name: hello\nkind: c\nbuild: {cmd: make}\n",
                      "3:8: build: expected a command as a list of arguments, such as [make, all], "
                      "or as a string run by /bin/sh -c, got a mapping");
}

static void env_forms(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: hello\nkind: c\nsources: [a.c]\nenv:\n  B: 2\n  A: \"x y\"\n  _C1: 'z=1'\n", &m), 0);
    assert_int_equal(m.env.len, 3);
    assert_string_equal(m.env.items[0], "B=2");
    assert_string_equal(m.env.items[1], "A=x y");
    assert_string_equal(m.env.items[2], "_C1=z=1");
    manifest_free(&m);

    assert_int_equal(load_text(f,
        "name: hello\nkind: c\nsources: [a.c]\nenv:\n  - B=2\n  - A=\n", &m), 0);
    assert_int_equal(m.env.len, 2);
    assert_string_equal(m.env.items[0], "B=2");
    assert_string_equal(m.env.items[1], "A=");
    manifest_free(&m);

    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv: [NOEQUALS]\n",
                      "4:7: env[0]: expected a string KEY=VALUE, got 'NOEQUALS'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv: [1A=x]\n",
                      "4:7: env[0]: expected a variable name (letters, digits and '_', not "
                      "starting with a digit), got '1A'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv: [A=1, A=2]\n",
                      "4:12: env[1]: variable 'A' is set twice; remove one");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv:\n  A-B: x\n",
                      "5:3: env: expected a variable name (letters, digits and '_', not starting "
                      "with a digit), got 'A-B'");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv:\n  A: x\n  A: y\n",
                      "6:3: env: variable 'A' is set twice; remove one");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nenv:\n  A:\n",
                      "5:5: env.A: expected a string (write \"\" for an empty value), got null");
}

static void ports_forms(void **state)
{
    struct fixture *f = *state;
    struct manifest m;
    const char *expected_tail = "expected a port from 1 to 65535, optionally followed by /tcp or "
                                "/udp, got ";
    char expected[512];

    assert_int_equal(load_text(f,
        "name: hello\nkind: c\nsources: [a.c]\n"
        "ports: [1, \"65535\", 53/udp, 53/tcp, \"8080/TCP\", '9000/Udp']\n", &m), 0);
    assert_int_equal(m.n_ports, 6);
    assert_int_equal(m.ports[0].port, 1);
    assert_string_equal(m.ports[0].proto, "tcp");
    assert_int_equal(m.ports[1].port, 65535);
    assert_int_equal(m.ports[2].port, 53);
    assert_string_equal(m.ports[2].proto, "udp");
    assert_int_equal(m.ports[3].port, 53);
    assert_string_equal(m.ports[3].proto, "tcp");
    assert_int_equal(m.ports[4].port, 8080);
    assert_string_equal(m.ports[4].proto, "tcp");
    assert_int_equal(m.ports[5].port, 9000);
    assert_string_equal(m.ports[5].proto, "udp");
    manifest_free(&m);

    snprintf(expected, sizeof(expected), "4:9: ports[0]: %s'0'", expected_tail);
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [0]\n", expected);
    snprintf(expected, sizeof(expected), "4:9: ports[0]: %s'80/sctp'", expected_tail);
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [80/sctp]\n", expected);
    snprintf(expected, sizeof(expected), "4:9: ports[0]: %s'-80'", expected_tail);
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [-80]\n", expected);
    snprintf(expected, sizeof(expected), "4:9: ports[0]: %s'http'", expected_tail);
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [http]\n", expected);
    snprintf(expected, sizeof(expected), "4:9: ports[0]: %s'/tcp'", expected_tail);
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [/tcp]\n", expected);
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: [80, 80/tcp]\n",
                      "4:13: ports[1]: port 80/tcp is listed twice; remove one");
    assert_load_error(f, "name: hello\nkind: c\nsources: [a.c]\nports: 80\n",
                      "4:8: ports: expected a list of ports, such as [80, \"53/udp\"], got '80'");
}

static void memory_units(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f, "name: a\nkind: c\nsources: [a.c]\nmemory: 1.5G\n", &m), 0);
    assert_int_equal(m.memory_mib, 1536);
    manifest_free(&m);
    assert_int_equal(load_text(f, "name: a\nkind: c\nsources: [a.c]\nmemory: 64MiB\n", &m), 0);
    assert_int_equal(m.memory_mib, 64);
    manifest_free(&m);
    assert_load_error(f, "name: a\nkind: c\nsources: [a.c]\nmemory: -5\n",
                      "4:9: memory: expected a size in MiB, or with a unit such as 512M or 1G, "
                      "at most 1T, got '-5'");
    assert_load_error(f, "name: a\nkind: c\nsources: [a.c]\nmemory: 2T\n",
                      "4:9: memory: expected a size in MiB, or with a unit such as 512M or 1G, "
                      "at most 1T, got '2T'");
}

static void multiple_documents(void **state)
{
    struct fixture *f = *state;

    assert_load_error(f, "name: a\nkind: c\nsources: [a.c]\n---\nname: b\n",
                      "4:1: only one YAML document is allowed; remove the '---' line and what "
                      "follows it");
}

static void aliases_resolved(void **state)
{
    struct fixture *f = *state;
    struct manifest m;

    assert_int_equal(load_text(f,
        "name: a\nkind: c\nsources: &src [a.c, b.c]\nfiles:\n  - &f {src: x, dest: /x}\n  - *f\n",
        &m), 0);
    assert_int_equal(m.sources.len, 2);
    assert_int_equal(m.n_files, 2);
    assert_string_equal(m.files[1].dest, "/x");
    manifest_free(&m);
}

static void json_normalized(void **state)
{
    struct fixture *f = *state;
    struct manifest m;
    json_error_t error;
    json_t *root;
    char *text;

    assert_int_equal(load_text(f,
        "name: hello\nkind: c\nsources: [hello.c]\nenv: [A=1]\nports: [\"53/udp\"]\n"
        "files: [\"s:/d\"]\n", &m), 0);
    text = manifest_to_json(&m);
    assert_non_null(text);
    root = json_loads(text, 0, &error);
    assert_non_null(root);

    assert_string_equal(json_string_value(json_object_get(root, "name")), "hello");
    assert_string_equal(json_string_value(json_object_get(root, "kind")), "c");
    assert_string_equal(json_string_value(json_object_get(root, "dir")), f->dir);
    assert_string_equal(json_string_value(json_object_get(root, "entrypoint")), "hello");
    assert_string_equal(json_string_value(json_object_get(root, "workdir")), "/");
    assert_string_equal(json_string_value(json_object_get(root, "kernel")), "debian-cloud");
    assert_true(json_is_null(json_object_get(root, "modules")));
    assert_true(json_is_null(json_object_get(root, "build")));
    assert_int_equal(json_integer_value(json_object_get(root, "memory_mib")), 128);
    assert_int_equal(json_integer_value(json_object_get(root, "cpus")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(root, "sources"), 0)),
                        "hello.c");
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "env"), "A")), "1");
    assert_int_equal(json_integer_value(json_object_get(
        json_array_get(json_object_get(root, "ports"), 0), "port")), 53);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(json_object_get(root, "ports"), 0), "proto")), "udp");
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(json_object_get(root, "files"), 0), "dest")), "/d");
    assert_int_equal(json_array_size(json_object_get(root, "args")), 0);
    json_decref(root);
    free(text);
    manifest_free(&m);

    assert_int_equal(load_text(f, "name: hello\nkind: node\nentrypoint: a.js\nbuild: [npm, ci]\n",
                               &m), 0);
    text = manifest_to_json(&m);
    root = json_loads(text, 0, &error);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "kind")), "node");
    assert_string_equal(json_string_value(json_array_get(json_object_get(root, "build"), 1)), "ci");
    json_decref(root);
    free(text);
    manifest_free(&m);

    assert_int_equal(load_text(f, "name: hello\nkind: shell\nentrypoint: a.sh\nbuild: make\n",
                               &m), 0);
    text = manifest_to_json(&m);
    root = json_loads(text, 0, &error);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "build")), "make");
    json_decref(root);
    free(text);
    manifest_free(&m);
}

static void kind_names(void **state)
{
    assert_string_equal(manifest_kind_name(KIND_C), "c");
    assert_string_equal(manifest_kind_name(KIND_BINARY), "binary");
    assert_string_equal(manifest_kind_name(KIND_PYTHON), "python");
    assert_string_equal(manifest_kind_name(KIND_NODE), "node");
    assert_string_equal(manifest_kind_name(KIND_SHELL), "shell");
    assert_string_equal(manifest_kind_name((enum manifest_kind)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(kind_c_full, setup, teardown),
        cmocka_unit_test_setup_teardown(kind_binary_full, setup, teardown),
        cmocka_unit_test_setup_teardown(kind_python_full, setup, teardown),
        cmocka_unit_test_setup_teardown(kind_node_full, setup, teardown),
        cmocka_unit_test_setup_teardown(kind_shell_full, setup, teardown),
        cmocka_unit_test_setup_teardown(defaults_filled, setup, teardown),
        cmocka_unit_test_setup_teardown(null_values_use_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(load_by_file_path, setup, teardown),
        cmocka_unit_test_setup_teardown(load_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_yaml, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_required_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key_suggestion, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(long_value_shortened, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(name_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(path_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(kind_specific_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(kernel_paths_relative_to_project, setup, teardown),
        cmocka_unit_test_setup_teardown(build_list_or_string, setup, teardown),
        cmocka_unit_test_setup_teardown(env_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(ports_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(memory_units, setup, teardown),
        cmocka_unit_test_setup_teardown(multiple_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(aliases_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(json_normalized, setup, teardown),
        cmocka_unit_test(kind_names),
    };

    return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
