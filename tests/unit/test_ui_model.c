/* Tests of the dashboard model: merging new instance lists and images while keeping history and marks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ui/model.h"

/* Builds an owned list of instances named NAMES (NULL-terminated), all of IMAGE. */
static struct instance *make_list(const char *const *names, const char *image, size_t *n)
{
    size_t count = 0;
    struct instance *list;

    while (names[count])
        count++;
    list = xcalloc(count ? count : 1, sizeof(*list));
    for (size_t i = 0; i < count; i++) {
        list[i].name = xstrdup(names[i]);
        list[i].image = xstrdup(image);
        list[i].state = INSTANCE_RUNNING;
        list[i].exit_code = -1;
    }
    *n = count;
    return list;
}

static struct instance_stats sample(const char *name, double t, unsigned long long cpu_ns)
{
    struct instance_stats s;

    memset(&s, 0, sizeof(s));
    s.name = (char *)name;
    s.state = INSTANCE_RUNNING;
    s.timestamp = t;
    s.cpu_ns = cpu_ns;
    return s;
}

static void model_sorts_and_finds(void **state)
{
    static const char *const names[] = { "web", "api", "db", NULL };
    struct model m = { 0 };
    size_t n;
    struct instance *list = make_list(names, "x:latest", &n);

    (void)state;
    model_set_instances(&m, list, n);
    assert_int_equal(m.n_inst, 3);
    assert_string_equal(m.inst[0].inst.name, "api");
    assert_string_equal(m.inst[2].inst.name, "web");
    assert_non_null(model_find_instance(&m, "db"));
    assert_null(model_find_instance(&m, "cache"));
    assert_null(model_find_instance(&m, NULL));
    model_free(&m);
}

static void model_keeps_history_and_marks(void **state)
{
    static const char *const first[] = { "a", "b", "c", NULL };
    static const char *const second[] = { "d", "c", "a", NULL };
    struct model m = { 0 };
    size_t n;
    struct instance *list;
    struct instance_stats s[2];

    (void)state;
    list = make_list(first, "x:latest", &n);
    model_set_instances(&m, list, n);
    s[0] = sample("c", 10, 0);
    s[1] = sample("c", 11, 500000000ULL);
    model_apply_stats(&m, &s[0], 1);
    model_apply_stats(&m, &s[1], 1);
    model_find_instance(&m, "c")->marked = true;
    assert_float_equal(model_find_instance(&m, "c")->cpu_percent, 50.0, 1e-9);

    /* b went away, d is new; c keeps its figures and its mark. */
    list = make_list(second, "x:latest", &n);
    model_set_instances(&m, list, n);
    assert_int_equal(m.n_inst, 3);
    assert_null(model_find_instance(&m, "b"));
    struct inst_row *c = model_find_instance(&m, "c");
    assert_non_null(c);
    assert_true(c->marked);
    assert_float_equal(c->cpu_percent, 50.0, 1e-9);
    assert_int_equal(c->cpu_history.len, 2);
    struct inst_row *d = model_find_instance(&m, "d");
    assert_non_null(d);
    assert_false(d->marked);
    assert_true(d->cpu_percent < 0);
    assert_int_equal(d->cpu_history.len, 0);
    model_free(&m);
}

/* libvirt reports a shut-off domain's configured size as its memory: the row shows none. */
static void model_stopped_uses_no_memory(void **state)
{
    static const char *const names[] = { "a", NULL };
    struct model m = { 0 };
    size_t n;
    struct instance *list = make_list(names, "x:latest", &n);
    struct instance_stats s[2];

    (void)state;
    model_set_instances(&m, list, n);
    s[0] = sample("a", 10, 0);
    s[0].mem_kib = 150 * 1024;
    model_apply_stats(&m, &s[0], 1);
    assert_int_equal(model_find_instance(&m, "a")->mem_kib, 150 * 1024);

    /* A new list saying it exited clears the figures before the next sample arrives. */
    list = make_list(names, "x:latest", &n);
    list[0].state = INSTANCE_EXITED;
    model_set_instances(&m, list, n);
    assert_int_equal(model_find_instance(&m, "a")->mem_kib, 0);
    assert_true(model_find_instance(&m, "a")->cpu_percent < 0);

    s[1] = sample("a", 11, 0);
    s[1].state = INSTANCE_EXITED;
    s[1].mem_kib = 96 * 1024;
    model_apply_stats(&m, &s[1], 1);
    assert_int_equal(model_find_instance(&m, "a")->mem_kib, 0);
    assert_true(model_find_instance(&m, "a")->cpu_percent < 0);
    model_free(&m);
}

static void model_ignores_unknown_stats(void **state)
{
    static const char *const names[] = { "a", NULL };
    struct model m = { 0 };
    size_t n;
    struct instance *list;
    struct instance_stats s = sample("ghost", 1, 1);

    (void)state;
    list = make_list(names, "x:latest", &n);
    model_set_instances(&m, list, n);
    model_apply_stats(&m, &s, 1);
    assert_int_equal(m.inst[0].cpu_history.len, 0);
    model_free(&m);
}

static struct image *make_images(size_t *n)
{
    struct image *imgs = xcalloc(2, sizeof(*imgs));

    imgs[0].name = xstrdup("hello");
    imgs[0].tag = xstrdup("latest");
    imgs[1].name = xstrdup("web");
    imgs[1].tag = xstrdup("1.0");
    *n = 2;
    return imgs;
}

static void model_counts_image_users(void **state)
{
    static const char *const names[] = { "a", "b", NULL };
    static const char *const more[] = { "a", "b", "c", NULL };
    struct model m = { 0 };
    size_t n, ni;
    struct instance *list;
    struct image *imgs;

    (void)state;
    imgs = make_images(&ni);
    model_set_images(&m, imgs, ni);
    list = make_list(names, "web:1.0", &n);
    model_set_instances(&m, list, n);
    assert_int_equal(m.img[0].used_by, 0);
    assert_int_equal(m.img[1].used_by, 2);

    /* A new list of instances recounts. */
    list = make_list(more, "web:1.0", &n);
    model_set_instances(&m, list, n);
    assert_int_equal(m.img[1].used_by, 3);

    /* A new list of images keeps marks and counts. */
    m.img[0].marked = true;
    imgs = make_images(&ni);
    model_set_images(&m, imgs, ni);
    assert_true(m.img[0].marked);
    assert_false(m.img[1].marked);
    assert_int_equal(m.img[1].used_by, 3);
    model_free(&m);
}

static void model_empty_lists(void **state)
{
    struct model m = { 0 };

    (void)state;
    model_set_instances(&m, xcalloc(1, sizeof(struct instance)), 0);
    model_set_images(&m, xcalloc(1, sizeof(struct image)), 0);
    assert_int_equal(m.n_inst, 0);
    assert_int_equal(m.n_img, 0);
    assert_null(model_find_instance(&m, "a"));
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_sorts_and_finds),
        cmocka_unit_test(model_keeps_history_and_marks),
        cmocka_unit_test(model_stopped_uses_no_memory),
        cmocka_unit_test(model_ignores_unknown_stats),
        cmocka_unit_test(model_counts_image_users),
        cmocka_unit_test(model_empty_lists),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
