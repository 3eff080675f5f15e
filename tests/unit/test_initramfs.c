/* Unit tests for the reproducible initramfs writer and its listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/initramfs.h"
#include "util.h"

/* Larger than the writer's copy chunk, so files are streamed in several reads. */
#define BIG_SIZE (700 * 1024 + 13)

static int setup(void **state)
{
    char *dir = xstrdup("/tmp/kiln-test-initramfs.XXXXXX");

    if (!mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    rm_rf(*state);
    free(*state);
    return 0;
}

static char *write_host_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
    char *path = path_join(dir, name);

    if (file_write_atomic(path, data, len, mode) != 0)
        fail_msg("%s", err_msg());
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static unsigned char *big_content(void)
{
    unsigned char *data = xmalloc(BIG_SIZE);
    uint32_t x = 12345;

    for (size_t i = 0; i < BIG_SIZE; i++) {
        x = x * 1103515245 + 12345;
        data[i] = (unsigned char)(x >> 16);
    }
    return data;
}

/* Collects listed entries as "PATH MODE SIZE [-> LINK]" lines. */
static int collect(void *ctx, const struct initramfs_entry *e)
{
    struct strv *lines = ctx;

    if (e->link)
        strv_push_owned(lines, xasprintf("%s %o %llu -> %s", e->path, (unsigned)e->mode, e->size, e->link));
    else
        strv_push_owned(lines, xasprintf("%s %o %llu", e->path, (unsigned)e->mode, e->size));
    return 0;
}

static void list_lines(const char *archive, struct strv *lines)
{
    if (initramfs_list(archive, collect, lines) != 0)
        fail_msg("%s", err_msg());
}

static void assert_lines(const struct strv *lines, const char *const *expected, size_t n)
{
    for (size_t i = 0; i < lines->len && i < n; i++)
        assert_string_equal(lines->items[i], expected[i]);
    assert_int_equal(lines->len, n);
}

/* Adds the same five entries in the order given by ORDER (indexes 0..4). */
static void add_in_order(struct initramfs *fs, const char *big, const char *script, const int order[5])
{
    for (int i = 0; i < 5; i++) {
        switch (order[i]) {
        case 0: assert_int_equal(initramfs_add_file(fs, "/app/data/big.bin", big, 0644), 0); break;
        case 1: assert_int_equal(initramfs_add_file(fs, "/app/run.sh", script, 0755), 0); break;
        case 2: assert_int_equal(initramfs_add_data(fs, "/etc/hostname", "kiln\n", 5, 0644), 0); break;
        case 3: assert_int_equal(initramfs_add_symlink(fs, "/bin/sh", "/app/run.sh"), 0); break;
        case 4: assert_int_equal(initramfs_add_dir(fs, "/tmp", 01777), 0); break;
        }
    }
}

static void same_entries_identical_bytes(void **state)
{
    static const int forward[5] = {0, 1, 2, 3, 4}, backward[5] = {4, 3, 2, 1, 0};
    const char *dir = *state;
    unsigned char *data = big_content();
    char *big = write_host_file(dir, "big.bin", data, BIG_SIZE, 0644);
    char *script = write_host_file(dir, "run.sh", "#!/bin/sh\necho hi\n", 18, 0755);
    char *out1 = path_join(dir, "one.cpio.gz"), *out2 = path_join(dir, "two.cpio.gz");
    struct initramfs *fs1 = initramfs_new(), *fs2 = initramfs_new();
    char *bytes1, *bytes2, *tmp;
    size_t len1, len2;

    add_in_order(fs1, big, script, forward);
    add_in_order(fs2, big, script, backward);
    assert_int_equal(initramfs_write(fs1, out1), 0);
    /* The gzip header would carry the current time if it were stored: cross a second boundary. */
    sleep(1);
    assert_int_equal(initramfs_write(fs2, out2), 0);

    bytes1 = file_read(out1, &len1);
    bytes2 = file_read(out2, &len2);
    assert_non_null(bytes1);
    assert_non_null(bytes2);
    assert_int_equal(len1, len2);
    assert_memory_equal(bytes1, bytes2, len1);

    /* gzip header: magic, deflate, no flags (no file name), zero modification time. */
    assert_int_equal((unsigned char)bytes1[0], 0x1f);
    assert_int_equal((unsigned char)bytes1[1], 0x8b);
    assert_int_equal(bytes1[3], 0);
    assert_int_equal(bytes1[4] | bytes1[5] | bytes1[6] | bytes1[7], 0);
    /* No temporary file is left next to the output. */
    tmp = xasprintf("%s.tmp.%d", out1, (int)getpid());
    assert_false(path_exists(tmp));
    free(tmp);

    initramfs_free(fs1);
    initramfs_free(fs2);
    free(bytes1);
    free(bytes2);
    free(out1);
    free(out2);
    free(big);
    free(script);
    free(data);
}

static void list_sorted_with_parents(void **state)
{
    static const char *const expected[] = {
        "bin 40755 0",
        "bin/sh 120777 11 -> /app/run.sh",
        "etc 40755 0",
        "etc/hostname 100644 5",
        "init 100755 3",
        "usr 40755 0",
        "usr/lib 40755 0",
        "usr/lib/x86_64-linux-gnu 40700 0",
        "usr/lib/x86_64-linux-gnu/libc.so.6 100644 4",
        "usr/lib/x86_64-linux-gnu/libc.so.6.d 40755 0",
        "usr/lib/x86_64-linux-gnu/libc.so.6.d/x 100600 1",
        "usr/lib/x86_64-linux-gnu/libc.so.6x 100644 1",
    };
    const char *dir = *state;
    char *out = path_join(dir, "initrd");
    struct initramfs *fs = initramfs_new();
    struct strv lines = {0};

    assert_int_equal(initramfs_add_data(fs, "usr/lib/x86_64-linux-gnu/libc.so.6x", "x", 1, 0644), 0);
    assert_int_equal(initramfs_add_data(fs, "//usr/lib/x86_64-linux-gnu/libc.so.6.d/x", "x", 1, 0600), 0);
    assert_int_equal(initramfs_add_data(fs, "/usr/lib/x86_64-linux-gnu/libc.so.6", "libc", 4, 0644), 0);
    assert_int_equal(initramfs_add_dir(fs, "/usr/lib/x86_64-linux-gnu/", 0700), 0);
    assert_int_equal(initramfs_add_symlink(fs, "/bin/sh", "/app/run.sh"), 0);
    assert_int_equal(initramfs_add_data(fs, "/etc/hostname", "kiln\n", 5, 0644), 0);
    assert_int_equal(initramfs_add_data(fs, "/init", "elf", 3, 0755), 0);
    assert_int_equal(initramfs_write(fs, out), 0);

    list_lines(out, &lines);
    assert_lines(&lines, expected, ARRAY_SIZE(expected));

    strv_free(&lines);
    initramfs_free(fs);
    free(out);
}

static void later_add_replaces(void **state)
{
    static const char *const expected[] = {"etc 40755 0", "etc/motd 100600 3"};
    const char *dir = *state;
    char *out = path_join(dir, "initrd");
    struct initramfs *fs = initramfs_new();
    struct strv lines = {0};

    assert_int_equal(initramfs_add_data(fs, "/etc/motd", "first", 5, 0644), 0);
    assert_int_equal(initramfs_add_data(fs, "etc/motd", "two", 3, 0600), 0);
    assert_int_equal(initramfs_write(fs, out), 0);
    list_lines(out, &lines);
    assert_lines(&lines, expected, ARRAY_SIZE(expected));

    strv_free(&lines);
    initramfs_free(fs);
    free(out);
}

/* Reads PATH back from ARCHIVE with libarchive and checks the fixed metadata of every entry. */
static void check_contents(const char *archive, const char *path, const void *data, size_t len)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    bool found = false;
    int64_t last_ino = 0;

    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    assert_int_equal(archive_read_open_filename(a, archive, 65536), ARCHIVE_OK);
    while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
        assert_int_equal(archive_entry_mtime(ae), 0);
        assert_int_equal(archive_entry_uid(ae), 0);
        assert_int_equal(archive_entry_gid(ae), 0);
        assert_int_equal(archive_entry_nlink(ae), 1);
        assert_int_equal(archive_entry_ino64(ae), last_ino + 1);
        last_ino = archive_entry_ino64(ae);
        if (strcmp(archive_entry_pathname(ae), path) == 0) {
            char *buf = xmalloc(len + 1);
            la_ssize_t n, got = 0;

            while ((n = archive_read_data(a, buf + got, len + 1 - (size_t)got)) > 0)
                got += n;
            assert_int_equal(got, len);
            assert_memory_equal(buf, data, len);
            free(buf);
            found = true;
        }
    }
    archive_read_free(a);
    assert_true(found);
}

static void file_content_round_trip(void **state)
{
    const char *dir = *state;
    unsigned char *data = big_content();
    char *big = write_host_file(dir, "big.bin", data, BIG_SIZE, 0644);
    char *out = path_join(dir, "initrd");
    struct initramfs *fs = initramfs_new();

    assert_int_equal(initramfs_add_file(fs, "/data/big.bin", big, 0644), 0);
    assert_int_equal(initramfs_add_data(fs, "/etc/hostname", "kiln\n", 5, 0644), 0);
    assert_int_equal(initramfs_add_data(fs, "/empty", "", 0, 0644), 0);
    assert_int_equal(initramfs_write(fs, out), 0);

    check_contents(out, "data/big.bin", data, BIG_SIZE);
    check_contents(out, "etc/hostname", "kiln\n", 5);
    check_contents(out, "empty", "", 0);

    initramfs_free(fs);
    free(out);
    free(big);
    free(data);
}

static void mode_bits_kept(void **state)
{
    static const char *const expected[] = {
        "app 40755 0",
        "app/bin 40750 0",
        "app/bin/server 100750 2",
        "app/conf 100640 2",
        "app/run 100755 2",
        "app/secret 100600 2",
    };
    const char *dir = *state;
    char *tree = path_join(dir, "tree"), *bin = path_join(dir, "tree/bin"), *out = path_join(dir, "initrd");
    char *host;
    struct initramfs *fs = initramfs_new();
    struct strv lines = {0};

    assert_int_equal(mkdir_p(bin, 0750), 0);
    assert_int_equal(chmod(bin, 0750), 0);
    free(write_host_file(bin, "server", "#!", 2, 0750));
    free(write_host_file(tree, "conf", "a=", 2, 0640));
    host = write_host_file(dir, "run", "#!", 2, 0644);
    assert_int_equal(chmod(tree, 0755), 0);
    assert_int_equal(initramfs_add_tree(fs, "/app", tree, tree), 0);
    /* The mode argument wins over the host file's mode. */
    assert_int_equal(initramfs_add_file(fs, "/app/run", host, 0755), 0);
    assert_int_equal(initramfs_add_data(fs, "/app/secret", "pw", 2, 0600), 0);
    assert_int_equal(initramfs_write(fs, out), 0);

    list_lines(out, &lines);
    assert_lines(&lines, expected, ARRAY_SIZE(expected));

    strv_free(&lines);
    initramfs_free(fs);
    free(host);
    free(tree);
    free(bin);
    free(out);
}

static void tree_sorted_with_symlinks(void **state)
{
    static const char *const expected[] = {
        "srv 40755 0",
        "srv/a.txt 100644 1",
        "srv/b 40755 0",
        "srv/b/c.txt 100644 1",
        "srv/link-dir 120777 1 -> b",
        "srv/link-file 120777 7 -> b/c.txt",
    };
    const char *dir = *state;
    char *tree = path_join(dir, "tree"), *sub = path_join(dir, "tree/b"), *link, *out = path_join(dir, "initrd");
    struct initramfs *fs = initramfs_new();
    struct strv lines = {0};

    assert_int_equal(mkdir_p(sub, 0755), 0);
    assert_int_equal(chmod(tree, 0755), 0);
    assert_int_equal(chmod(sub, 0755), 0);
    free(write_host_file(sub, "c.txt", "c", 1, 0644));
    free(write_host_file(tree, "a.txt", "a", 1, 0644));
    link = path_join(tree, "link-file");
    assert_int_equal(symlink("b/c.txt", link), 0);
    free(link);
    link = path_join(tree, "link-dir");
    assert_int_equal(symlink("b", link), 0);
    free(link);

    assert_int_equal(initramfs_add_tree(fs, "srv", tree, dir), 0);
    assert_int_equal(initramfs_write(fs, out), 0);
    list_lines(out, &lines);
    assert_lines(&lines, expected, ARRAY_SIZE(expected));

    strv_free(&lines);
    initramfs_free(fs);
    free(tree);
    free(sub);
    free(out);
}

static void symlink_outside_root_rejected(void **state)
{
    static const char *const expected[] = {"srv 40755 0", "srv/passwd 120777 11 -> /etc/passwd"};
    const char *dir = *state;
    char *tree = path_join(dir, "tree"), *link = path_join(tree, "passwd"), *msg;
    char *dangling = path_join(tree, "dangling"), *out = path_join(dir, "initrd");
    struct initramfs *fs = initramfs_new();
    struct strv lines = {0};

    assert_int_equal(mkdir_p(tree, 0755), 0);
    assert_int_equal(chmod(tree, 0755), 0);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(initramfs_add_tree(fs, "srv", tree, tree), -1);
    msg = xasprintf("%s: symbolic link points outside the project (/etc/passwd)", link);
    assert_string_equal(err_msg(), msg);
    free(msg);

    /* A relative link climbing out of the tree is rejected the same way. */
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink("../../../../etc/passwd", link), 0);
    assert_int_equal(initramfs_add_tree(fs, "srv", tree, tree), -1);
    assert_non_null(strstr(err_msg(), "symbolic link points outside the project (../../../../etc/passwd)"));

    assert_int_equal(symlink("missing", dangling), 0);
    assert_int_equal(initramfs_add_tree(fs, "srv2", tree, tree), -1);
    assert_non_null(strstr(err_msg(), "dangling: symbolic link target missing cannot be resolved"));
    assert_int_equal(unlink(dangling), 0);
    initramfs_free(fs);

    /* Without a root, links are copied as they are. */
    fs = initramfs_new();
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_int_equal(initramfs_add_tree(fs, "srv", tree, NULL), 0);
    assert_int_equal(initramfs_write(fs, out), 0);
    list_lines(out, &lines);
    assert_lines(&lines, expected, ARRAY_SIZE(expected));

    strv_free(&lines);
    initramfs_free(fs);
    free(tree);
    free(link);
    free(dangling);
    free(out);
}

static void invalid_inputs_rejected(void **state)
{
    const char *dir = *state;
    char *missing = path_join(dir, "missing"), *garbage, *out = path_join(dir, "initrd");
    struct initramfs *fs = initramfs_new();
    struct strv lines = {0};

    assert_int_equal(initramfs_add_data(fs, "/app/../etc/x", "x", 1, 0644), -1);
    assert_non_null(strstr(err_msg(), "invalid path \"/app/../etc/x\" in the initramfs"));
    assert_int_equal(initramfs_add_data(fs, "./x", "x", 1, 0644), -1);
    assert_int_equal(initramfs_add_dir(fs, "/", 0755), -1);
    assert_int_equal(initramfs_add_symlink(fs, "/x", ""), -1);
    assert_int_equal(initramfs_add_file(fs, "/x", missing, 0644), -1);
    assert_non_null(strstr(err_msg(), missing));
    assert_int_equal(initramfs_add_file(fs, "/x", dir, 0644), -1);
    assert_non_null(strstr(err_msg(), "not a regular file"));
    assert_int_equal(initramfs_add_tree(fs, "/x", missing, NULL), -1);

    /* Nothing invalid was recorded: the archive has no entries besides the trailer. */
    assert_int_equal(initramfs_write(fs, out), 0);
    list_lines(out, &lines);
    assert_int_equal(lines.len, 0);

    garbage = write_host_file(dir, "garbage", "not an archive at all", 21, 0644);
    assert_int_equal(initramfs_list(garbage, collect, &lines), -1);
    assert_non_null(strstr(err_msg(), garbage));
    assert_int_equal(initramfs_list(missing, collect, &lines), -1);

    strv_free(&lines);
    initramfs_free(fs);
    free(missing);
    free(garbage);
    free(out);
}

static void write_to_missing_dir_fails(void **state)
{
    const char *dir = *state;
    char *out = path_join(dir, "no/such/dir/initrd");
    struct initramfs *fs = initramfs_new();

    assert_int_equal(initramfs_add_data(fs, "/x", "x", 1, 0644), 0);
    assert_int_equal(initramfs_write(fs, out), -1);
    assert_non_null(strstr(err_msg(), "cannot write the initramfs"));
    initramfs_free(fs);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(same_entries_identical_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(list_sorted_with_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(later_add_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(file_content_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(mode_bits_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(tree_sorted_with_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_outside_root_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_inputs_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_missing_dir_fails, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
