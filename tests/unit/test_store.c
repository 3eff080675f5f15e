/* Unit tests for the image store: layout, commits, listing, removal, locks and stale staging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "store.h"

/* Each test gets a fresh temporary directory BASE, and the store root is BASE/store. */
struct fixture {
    char *base;
    char *root;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));

    f->base = xstrdup("/tmp/kiln-test-store.XXXXXX");
    if (!mkdtemp(f->base))
        return -1;
    f->root = path_join(f->base, "store");
    store_set_root(f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_set_root(NULL);
    rm_rf(f->base);
    free(f->base);
    free(f->root);
    free(f);
    return 0;
}

static void write_text(const char *dir, const char *file, const char *text)
{
    char *path = path_join(dir, file);

    if (file_write_atomic(path, text, strlen(text), 0644) != 0)
        fail_msg("%s", err_msg());
    free(path);
}

static char *read_text(const char *dir, const char *file)
{
    char *path = path_join(dir, file), *text = file_read(path, NULL);

    free(path);
    return text;
}

/* Stages a complete image NAME:TAG whose initrd contains CONTENT and whose digest is "sha256:CONTENT". */
static char *stage_image(const char *name, const char *tag, const char *content)
{
    char *stage = store_stage_dir("build");
    struct image img = {0};

    assert_non_null(stage);
    write_text(stage, IMAGE_KERNEL_FILE, "kernel");
    write_text(stage, IMAGE_INITRD_FILE, content);
    img.name = xstrdup(name);
    img.tag = xstrdup(tag);
    img.digest = xasprintf("sha256:%s", content);
    img.created = 1796415110;
    img.kind = xstrdup("binary");
    img.kernel_version = xstrdup("6.1.0-57-cloud-amd64");
    img.cmdline = xstrdup("console=ttyS0");
    img.kernel_size = 6;
    img.initrd_size = strlen(content);
    strv_push(&img.entrypoint, "/app");
    if (image_save(&img, stage) != 0)
        fail_msg("%s", err_msg());
    image_free(&img);
    return stage;
}

static int commit_image(const char *name, const char *tag, const char *content)
{
    char *stage = stage_image(name, tag, content);
    int lock = store_image_lock(name, tag), rc;

    assert_true(lock >= 0);
    rc = store_image_commit(stage, name, tag);
    store_unlock(lock);
    free(stage);
    return rc;
}

static size_t count_entries(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *entry;
    size_t n = 0;

    assert_non_null(dir);
    while ((entry = readdir(dir)))
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            n++;
    closedir(dir);
    return n;
}

static size_t count_tmp(void)
{
    char *tmp = store_path("tmp");
    size_t n = count_entries(tmp);

    free(tmp);
    return n;
}

static void init_creates_layout(void **state)
{
    static const char *const dirs[] = {"", "kernels", "images", "instances", "volumes", "tmp", "locks"};
    struct fixture *f = *state;
    mode_t old_mask = umask(077);
    int rc = store_init();

    umask(old_mask);
    assert_int_equal(rc, 0);
    assert_string_equal(store_root(), f->root);
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        char *path = store_path(dirs[i]);
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        if ((st.st_mode & 07777) != 0755)
            fail_msg("%s has mode %o, expected 0755", path, (unsigned)(st.st_mode & 07777));
        free(path);
    }
    /* A second init on an existing store succeeds too. */
    assert_int_equal(store_init(), 0);
}

static void init_unwritable_root(void **state)
{
    struct fixture *f = *state;
    char *file = path_join(f->base, "plain-file"), *root = path_join(file, "store"), *expected;

    /* A path below a regular file cannot be created even by root. */
    write_text(f->base, "plain-file", "x");
    store_set_root(root);
    assert_int_equal(store_init(), -1);
    expected = xasprintf("store %s is not writable: Not a directory; "
                         "set KILN_STORE to a writable directory or run as its owner", root);
    assert_string_equal(err_msg(), expected);
    free(expected);
    free(root);
    free(file);
}

static void default_root_from_env(void **state)
{
    (void)state;
    store_set_root(NULL);
    setenv("KILN_STORE", "/tmp/kiln-env-store-unused", 1);
    assert_string_equal(store_root(), "/tmp/kiln-env-store-unused");

    unsetenv("KILN_STORE");
    setenv("XDG_DATA_HOME", "/tmp/kiln-xdg-unused", 1);
    store_set_root(NULL);
    if (geteuid() == 0)
        assert_string_equal(store_root(), "/var/lib/kiln");
    else
        assert_string_equal(store_root(), "/tmp/kiln-xdg-unused/kiln");
    unsetenv("XDG_DATA_HOME");
}

static void commit_and_get(void **state)
{
    char *stage, *dir, *initrd;
    struct image img;
    int lock;
    struct stat st;

    (void)state;
    assert_int_equal(store_init(), 0);
    stage = stage_image("web", "v1", "one");
    lock = store_image_lock("web", "v1");
    assert_true(lock >= 0);
    if (store_image_commit(stage, "web", "v1") != 0)
        fail_msg("%s", err_msg());
    store_unlock(lock);
    assert_false(path_exists(stage));

    assert_int_equal(store_image_get("web:v1", &img), 0);
    dir = store_image_dir("web", "v1");
    assert_string_equal(img.dir, dir);
    assert_string_equal(img.name, "web");
    assert_string_equal(img.tag, "v1");
    assert_string_equal(img.digest, "sha256:one");
    initrd = image_initrd_path(&img);
    assert_int_equal(stat(initrd, &st), 0);
    assert_int_equal(st.st_size, 3);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(count_tmp(), 0);

    image_free(&img);
    free(initrd);
    free(dir);
    free(stage);
}

static void get_default_tag_and_not_found(void **state)
{
    struct image img;

    (void)state;
    assert_int_equal(store_init(), 0);
    assert_int_equal(commit_image("web", "latest", "l"), 0);
    assert_int_equal(store_image_get("web", &img), 0);
    assert_string_equal(img.tag, "latest");
    image_free(&img);

    assert_int_equal(store_image_get("web:v9", &img), -1);
    assert_string_equal(err_msg(), "image \"web:v9\" not found; see kiln images");
    assert_int_equal(store_image_get("nothing", &img), -1);
    assert_string_equal(err_msg(), "image \"nothing:latest\" not found; see kiln images");
    assert_int_equal(store_image_get("Bad/Name", &img), -1);
    assert_true(err_is_usage());
}

static void commit_replaces_existing(void **state)
{
    struct image img;
    char *text;

    (void)state;
    assert_int_equal(store_init(), 0);
    assert_int_equal(commit_image("web", "v1", "first"), 0);
    assert_int_equal(commit_image("web", "v1", "second"), 0);
    assert_int_equal(store_image_get("web:v1", &img), 0);
    assert_string_equal(img.digest, "sha256:second");
    text = read_text(img.dir, IMAGE_INITRD_FILE);
    assert_string_equal(text, "second");
    /* The old image and the staging directory are both gone. */
    assert_int_equal(count_tmp(), 0);
    free(text);
    image_free(&img);
}

static void commit_incomplete_stage_rejected(void **state)
{
    char *stage, *dir;

    (void)state;
    assert_int_equal(store_init(), 0);
    stage = store_stage_dir("build");
    assert_non_null(stage);
    write_text(stage, IMAGE_KERNEL_FILE, "kernel");
    write_text(stage, IMAGE_META_FILE, "{}");
    assert_int_equal(store_image_commit(stage, "web", "v1"), -1);
    assert_non_null(strstr(err_msg(), "initrd is missing"));
    dir = store_image_dir("web", "v1");
    assert_false(path_exists(dir));
    assert_int_equal(store_image_commit(stage, "Web", "v1"), -1);
    assert_true(err_is_usage());
    rm_rf(stage);
    free(stage);
    free(dir);
}

static void list_sorted_skips_broken(void **state)
{
    static const char *const expected[][2] = {{"alpha", "10"}, {"alpha", "2"}, {"beta", "latest"}, {"gamma", "1"}};
    struct image *list = NULL, img;
    size_t n = 0;
    char *bad;

    (void)state;
    assert_int_equal(store_init(), 0);
    assert_int_equal(store_image_list(&list, &n), 0);
    assert_int_equal(n, 0);
    store_image_list_free(list, n);

    assert_int_equal(commit_image("gamma", "1", "g"), 0);
    assert_int_equal(commit_image("alpha", "2", "a2"), 0);
    assert_int_equal(commit_image("beta", "latest", "b"), 0);
    assert_int_equal(commit_image("alpha", "10", "a10"), 0);
    bad = store_image_dir("broken", "latest");
    assert_int_equal(mkdir_p(bad, 0755), 0);
    write_text(bad, IMAGE_META_FILE, "{\"schema\": 1, \"name\": ");

    assert_int_equal(store_image_list(&list, &n), 0);
    assert_int_equal(n, ARRAY_SIZE(expected));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(list[i].name, expected[i][0]);
        assert_string_equal(list[i].tag, expected[i][1]);
    }
    store_image_list_free(list, n);

    assert_int_equal(store_image_get("broken", &img), -1);
    assert_non_null(strstr(err_msg(), "broken/latest/image.json: invalid image metadata: "));
    free(bad);
}

static void get_rejects_mismatched_name(void **state)
{
    char *dir, *other;
    struct image img;

    (void)state;
    assert_int_equal(store_init(), 0);
    assert_int_equal(commit_image("web", "v1", "w"), 0);
    dir = store_image_dir("web", "v1");
    other = store_image_dir("copy", "v1");
    assert_int_equal(mkdir_p(other, 0755), 0);
    assert_int_equal(rmdir(other), 0);
    assert_int_equal(rename(dir, other), 0);
    assert_int_equal(store_image_get("copy:v1", &img), -1);
    assert_non_null(strstr(err_msg(), "it names web:v1, expected copy:v1"));
    free(dir);
    free(other);
}

static void remove_image(void **state)
{
    char *name_dir = store_path("images/web");
    struct image img;

    (void)state;
    assert_int_equal(store_init(), 0);
    assert_int_equal(commit_image("web", "v1", "1"), 0);
    assert_int_equal(commit_image("web", "v2", "2"), 0);

    assert_int_equal(store_image_remove("web", "v1"), 0);
    assert_int_equal(store_image_get("web:v1", &img), -1);
    assert_int_equal(store_image_get("web:v2", &img), 0);
    image_free(&img);
    assert_true(path_is_dir(name_dir));

    /* Removing the last tag removes the empty name directory too. */
    assert_int_equal(store_image_remove("web", "v2"), 0);
    assert_false(path_exists(name_dir));
    assert_int_equal(count_tmp(), 0);

    assert_int_equal(store_image_remove("web", "v2"), -1);
    assert_string_equal(err_msg(), "image \"web:v2\" not found; see kiln images");
    free(name_dir);
}

static void lock_key_stays_in_locks(void **state)
{
    struct fixture *f = *state;
    char *locks;
    int fd;

    assert_int_equal(store_init(), 0);
    fd = store_lock("../../escape/x");
    assert_true(fd >= 0);
    store_unlock(fd);
    locks = store_path("locks");
    assert_int_equal(count_entries(locks), 1);
    assert_int_equal(count_entries(f->root), 6);
    free(locks);
}

/* Forks a child that stages a half-written image, then kills it with SIGKILL. */
static void kill_staging_child(void)
{
    int fds[2];
    pid_t pid;
    char ready;
    int status;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *stage = store_stage_dir("build");

        if (!stage)
            _exit(1);
        write_text(stage, IMAGE_KERNEL_FILE, "partial kernel");
        if (write(fds[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &ready, 1), 1);
    close(fds[0]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void killed_build_leaves_nothing(void **state)
{
    char *own, *initrd;
    struct image img;

    (void)state;
    assert_int_equal(store_init(), 0);
    assert_int_equal(commit_image("web", "v1", "kept"), 0);
    own = store_stage_dir("build");
    assert_non_null(own);

    kill_staging_child();
    assert_int_equal(count_tmp(), 2);
    store_clean_stale();
    /* Only the staging directory of this live process is left. */
    assert_int_equal(count_tmp(), 1);
    assert_true(path_is_dir(own));
    assert_int_equal(rm_rf(own), 0);
    assert_int_equal(count_tmp(), 0);

    /* store_init cleans too, so the next kiln command removes what a killed build left. */
    kill_staging_child();
    assert_int_equal(count_tmp(), 1);
    assert_int_equal(store_init(), 0);
    assert_int_equal(count_tmp(), 0);

    assert_int_equal(store_image_get("web:v1", &img), 0);
    assert_string_equal(img.digest, "sha256:kept");
    initrd = read_text(img.dir, IMAGE_INITRD_FILE);
    assert_string_equal(initrd, "kept");
    image_free(&img);
    free(initrd);
    free(own);
}

/* Forks a child that commits web:race ROUNDS times. Each initrd names the child and the round. */
static pid_t spawn_committer(int child, int rounds)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid != 0)
        return pid;
    for (int i = 0; i < rounds; i++) {
        char content[32];

        snprintf(content, sizeof(content), "c%d-r%d", child, i);
        if (commit_image("web", "race", content) != 0) {
            fprintf(stderr, "child %d round %d: %s\n", child, i, err_msg());
            _exit(1);
        }
    }
    _exit(0);
}

static void concurrent_commits_complete(void **state)
{
    const int rounds = 25;
    pid_t pids[2];
    struct image img;
    char *text, *expected_digest;
    int status;

    (void)state;
    assert_int_equal(store_init(), 0);
    for (int c = 0; c < 2; c++)
        pids[c] = spawn_committer(c, rounds);
    for (int c = 0; c < 2; c++) {
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    if (store_image_get("web:race", &img) != 0)
        fail_msg("%s", err_msg());
    text = read_text(img.dir, IMAGE_KERNEL_FILE);
    assert_string_equal(text, "kernel");
    free(text);
    text = read_text(img.dir, IMAGE_INITRD_FILE);
    assert_non_null(text);
    /* The initrd and image.json come from the same commit, the last round of one child. */
    expected_digest = xasprintf("sha256:%s", text);
    assert_string_equal(img.digest, expected_digest);
    assert_true(strcmp(text, "c0-r24") == 0 || strcmp(text, "c1-r24") == 0);
    assert_int_equal(count_entries(img.dir), 3);
    assert_int_equal(count_tmp(), 0);
    free(expected_digest);
    free(text);
    image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(default_root_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(init_creates_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(init_unwritable_root, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(get_default_tag_and_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_replaces_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_incomplete_stage_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(list_sorted_skips_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(get_rejects_mismatched_name, setup, teardown),
        cmocka_unit_test_setup_teardown(remove_image, setup, teardown),
        cmocka_unit_test_setup_teardown(lock_key_stays_in_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_build_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_commits_complete, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
