/* Tests of the table column layout: fits the width, no overlap, least important columns dropped first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ui/layout.h"
#include "util.h"

/* Checks the invariants every layout must hold and returns the number of visible columns. */
static int check_layout(const struct layout_column *cols, size_t n, int width, struct layout_slot *out)
{
    int visible = layout_columns(cols, n, width, out);
    int counted = 0, end = -LAYOUT_GAP;

    for (size_t i = 0; i < n; i++) {
        if (out[i].width == 0)
            continue;
        counted++;
        assert_true(out[i].width >= cols[i].min);
        if (cols[i].max > 0)
            assert_true(out[i].width <= cols[i].max);
        /* Shown columns keep display order and never overlap. */
        assert_true(out[i].x >= end + LAYOUT_GAP);
        end = out[i].x + out[i].width;
        assert_true(end <= width);
    }
    assert_int_equal(counted, visible);

    /* A hidden column never has a lower priority number than a visible one. */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (out[i].width == 0 && out[j].width > 0)
                assert_true(cols[i].priority >= cols[j].priority);
        }
    }
    return visible;
}

static void layout_instances_80(void **state)
{
    struct layout_slot out[ICOL_LAST];
    int visible = check_layout(layout_instance_columns, ICOL_LAST, 80, out);

    (void)state;
    assert_true(visible >= 5);
    assert_true(visible < ICOL_LAST);
    assert_true(out[ICOL_NAME].width > 0);
    assert_true(out[ICOL_STATE].width > 0);
    assert_true(out[ICOL_CPU].width > 0);
    assert_int_equal(out[ICOL_PORTS].width, 0);
    assert_int_equal(out[ICOL_BLOCK].width, 0);
}

static void layout_instances_120(void **state)
{
    struct layout_slot out[ICOL_LAST];
    int visible = check_layout(layout_instance_columns, ICOL_LAST, 120, out);

    (void)state;
    assert_int_equal(visible, ICOL_LAST);
    assert_true(out[ICOL_PORTS].x + out[ICOL_PORTS].width <= 120);
}

static void layout_instances_200(void **state)
{
    struct layout_slot out[ICOL_LAST];
    int visible = check_layout(layout_instance_columns, ICOL_LAST, 200, out);

    (void)state;
    assert_int_equal(visible, ICOL_LAST);
    /* The unbounded PORTS column takes what the others cannot use. */
    assert_int_equal(out[ICOL_PORTS].x + out[ICOL_PORTS].width, 200);
    assert_int_equal(out[ICOL_NAME].width, layout_instance_columns[ICOL_NAME].max);
}

static void layout_images_each_width(void **state)
{
    static const int widths[] = { 80, 120, 200 };
    struct layout_slot out[MCOL_LAST];

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(widths); i++) {
        int visible = check_layout(layout_image_columns, MCOL_LAST, widths[i], out);

        assert_int_equal(visible, MCOL_LAST);
    }
}

static void layout_drops_by_priority(void **state)
{
    static const struct layout_column cols[] = {
        { "A", 10, 10, 1, false },
        { "B", 10, 10, 3, false },
        { "C", 10, 10, 2, false },
        { "D", 10, 0, 4, false },
    };
    struct layout_slot out[4];

    (void)state;
    /* 43 = four columns and three gaps: all fit, D absorbs nothing extra. */
    assert_int_equal(check_layout(cols, 4, 43, out), 4);
    assert_int_equal(out[3].width, 10);
    /* One cell less: D (priority 4) goes first. */
    assert_int_equal(check_layout(cols, 4, 42, out), 3);
    assert_int_equal(out[3].width, 0);
    /* Then B (priority 3), although it is left of C. */
    assert_int_equal(check_layout(cols, 4, 31, out), 2);
    assert_int_equal(out[1].width, 0);
    assert_true(out[2].width > 0);
    assert_int_equal(out[2].x, 11);
    /* Then C, leaving A alone. */
    assert_int_equal(check_layout(cols, 4, 20, out), 1);
    assert_int_equal(out[0].width, 10);
}

static void layout_too_narrow_shows_nothing(void **state)
{
    struct layout_slot out[ICOL_LAST];

    (void)state;
    assert_int_equal(check_layout(layout_instance_columns, ICOL_LAST, 5, out), 0);
    assert_int_equal(check_layout(layout_instance_columns, ICOL_LAST, 0, out), 0);
}

static void layout_spare_shared_evenly(void **state)
{
    static const struct layout_column cols[] = {
        { "LOW", 5, 20, 2, false },
        { "HIGH", 5, 20, 1, false },
        { "REST", 5, 0, 3, false },
    };
    struct layout_slot out[3];

    (void)state;
    /* 17 minimum + 5 spare: one cell each per round, HIGH first. */
    check_layout(cols, 3, 22, out);
    assert_int_equal(out[1].width, 7);
    assert_int_equal(out[0].width, 7);
    assert_int_equal(out[2].width, 6);
    assert_int_equal(out[1].x, 8);
    /* Once the bounded columns are at their max, the unbounded one takes the rest. */
    check_layout(cols, 3, 100, out);
    assert_int_equal(out[0].width, 20);
    assert_int_equal(out[1].width, 20);
    assert_int_equal(out[2].width, 100 - 40 - 2);
}

static void layout_instances_ports_readable_at_120(void **state)
{
    struct layout_slot out[ICOL_LAST];

    (void)state;
    check_layout(layout_instance_columns, ICOL_LAST, 118, out);
    /* "18080->8080/tcp" fits once the spare width is shared. */
    assert_true(out[ICOL_PORTS].width >= 15);
    assert_true(out[ICOL_IMAGE].width >= 14);
}

static void layout_state_fits_signal_name(void **state)
{
    static const int widths[] = { 78, 118, 198 };
    struct layout_slot out[ICOL_LAST];

    (void)state;
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        check_layout(layout_instance_columns, ICOL_LAST, widths[i], out);
        /* "exited (SIGKILL)", a killed instance's state. */
        assert_true(out[ICOL_STATE].width >= 16);
    }
}

static void layout_images_created_readable_at_120(void **state)
{
    struct layout_slot out[MCOL_LAST];

    (void)state;
    check_layout(layout_image_columns, MCOL_LAST, 118, out);
    /* The widest age kiln writes, "Less than a second ago", is not cut. */
    assert_true(out[MCOL_CREATED].width >= 22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_instances_80),
        cmocka_unit_test(layout_instances_120),
        cmocka_unit_test(layout_instances_200),
        cmocka_unit_test(layout_images_each_width),
        cmocka_unit_test(layout_drops_by_priority),
        cmocka_unit_test(layout_too_narrow_shows_nothing),
        cmocka_unit_test(layout_spare_shared_evenly),
        cmocka_unit_test(layout_instances_ports_readable_at_120),
        cmocka_unit_test(layout_images_created_readable_at_120),
        cmocka_unit_test(layout_state_fits_signal_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
