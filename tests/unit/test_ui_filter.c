/* Tests of the dashboard's table rows: filtering, sorting, state and uptime cells, stats folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "ui/rows.h"
#include "util.h"

static struct port_map web_port = { "127.0.0.1", 8080, 80, "tcp" };

static struct inst_row make_row(const char *name, const char *image, enum instance_state state,
                                double cpu, long long started)
{
    struct inst_row r;

    memset(&r, 0, sizeof(r));
    r.inst.name = (char *)name;
    r.inst.image = (char *)image;
    r.inst.state = state;
    r.inst.exit_code = -1;
    r.inst.started = started;
    r.cpu_percent = cpu;
    return r;
}

/* Four instances used by most tests, in no useful order. */
static void fill_rows(struct inst_row rows[4])
{
    rows[0] = make_row("web-2", "nginx:latest", INSTANCE_RUNNING, 12.5, 1000);
    rows[1] = make_row("batch", "cruncher:1.0", INSTANCE_EXITED, -1, 0);
    rows[2] = make_row("Web-1", "nginx:latest", INSTANCE_RUNNING, 80.0, 500);
    rows[3] = make_row("db", "postgres:15", INSTANCE_CRASHED, -1, 0);
    rows[1].inst.exit_code = 3;
    rows[0].inst.ports = &web_port;
    rows[0].inst.n_ports = 1;
}

static void filter_empty_matches_all(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    assert_int_equal(rows_instance_view(rows, 4, "", ICOL_NAME, false, view), 4);
    assert_int_equal(rows_instance_view(rows, 4, NULL, ICOL_NAME, false, view), 4);
}

static void filter_by_name_ignores_case(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    assert_int_equal(rows_instance_view(rows, 4, "WEB", ICOL_NAME, false, view), 2);
    /* Names sort byte-wise: "Web-1" before "web-2". */
    assert_int_equal(view[0], 2);
    assert_int_equal(view[1], 0);
}

static void filter_by_image_state_and_port(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    assert_int_equal(rows_instance_view(rows, 4, "postgres", ICOL_NAME, false, view), 1);
    assert_int_equal(view[0], 3);
    assert_int_equal(rows_instance_view(rows, 4, "exited (3)", ICOL_NAME, false, view), 1);
    assert_int_equal(view[0], 1);
    assert_int_equal(rows_instance_view(rows, 4, "8080", ICOL_NAME, false, view), 1);
    assert_int_equal(view[0], 0);
    assert_int_equal(rows_instance_view(rows, 4, "nothing-like-this", ICOL_NAME, false, view), 0);
}

static void sort_by_cpu_descending(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    assert_int_equal(rows_instance_view(rows, 4, "", ICOL_CPU, true, view), 4);
    assert_int_equal(view[0], 2); /* 80 % */
    assert_int_equal(view[1], 0); /* 12.5 % */
    /* Equal (unknown) CPU: ties are broken by name, ascending even when descending. */
    assert_int_equal(view[2], 1); /* batch */
    assert_int_equal(view[3], 3); /* db */
}

static void sort_by_state_and_uptime(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    rows_instance_view(rows, 4, "", ICOL_STATE, false, view);
    /* RUNNING < EXITED < CRASHED in the state enum. */
    assert_int_equal(view[0], 2);
    assert_int_equal(view[1], 0);
    assert_int_equal(view[2], 1);
    assert_int_equal(view[3], 3);

    rows_instance_view(rows, 4, "", ICOL_UPTIME, true, view);
    /* Started at 500 is up longer than started at 1000. */
    assert_int_equal(view[0], 2);
    assert_int_equal(view[1], 0);
}

static void sort_by_name_descending(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    assert_int_equal(rows_instance_view(rows, 4, "", ICOL_NAME, true, view), 4);
    assert_int_equal(view[0], 0); /* web-2 */
    assert_int_equal(view[1], 3); /* db */
    assert_int_equal(view[2], 1); /* batch */
    assert_int_equal(view[3], 2); /* Web-1: upper case sorts first byte-wise */
}

static void ports_cell_compact(void **state)
{
    struct inst_row rows[4];
    struct port_map two[2] = { { "127.0.0.1", 8080, 80, "tcp" }, { "0.0.0.0", 5353, 53, "udp" } };
    char buf[128];

    (void)state;
    fill_rows(rows);
    rows[0].inst.ports = two;
    rows[0].inst.n_ports = 2;
    assert_string_equal(rows_ports(&rows[0].inst, false, buf, sizeof(buf)),
                        "127.0.0.1:8080->80/tcp, 0.0.0.0:5353->53/udp");
    assert_string_equal(rows_ports(&rows[0].inst, true, buf, sizeof(buf)), "8080->80/tcp, 0.0.0.0:5353->53/udp");
    assert_string_equal(rows_ports(&rows[1].inst, true, buf, sizeof(buf)), "");
}

static void sort_filtered_subset(void **state)
{
    struct inst_row rows[4];
    size_t view[4];

    (void)state;
    fill_rows(rows);
    assert_int_equal(rows_instance_view(rows, 4, "nginx", ICOL_CPU, false, view), 2);
    assert_int_equal(view[0], 0);
    assert_int_equal(view[1], 2);
}

static void image_rows_filter_and_sort(void **state)
{
    struct image_row rows[3];
    size_t view[3];

    (void)state;
    memset(rows, 0, sizeof(rows));
    rows[0].img.name = (char *)"nginx";
    rows[0].img.tag = (char *)"latest";
    rows[0].img.initrd_size = 9000;
    rows[1].img.name = (char *)"nginx";
    rows[1].img.tag = (char *)"1.25";
    rows[1].img.initrd_size = 100;
    rows[2].img.name = (char *)"hello";
    rows[2].img.tag = (char *)"latest";
    rows[2].img.initrd_size = 5000;
    rows[2].used_by = 3;

    assert_int_equal(rows_image_view(rows, 3, "", MCOL_NAME, false, view), 3);
    assert_int_equal(view[0], 2); /* hello:latest */
    assert_int_equal(view[1], 1); /* nginx:1.25 before nginx:latest */
    assert_int_equal(view[2], 0);

    assert_int_equal(rows_image_view(rows, 3, "nginx:l", MCOL_NAME, false, view), 1);
    assert_int_equal(view[0], 0);

    rows_image_view(rows, 3, NULL, MCOL_SIZE, true, view);
    assert_int_equal(view[0], 0);
    assert_int_equal(view[2], 1);

    rows_image_view(rows, 3, NULL, MCOL_USED, true, view);
    assert_int_equal(view[0], 2);

    rows_image_view(rows, 3, NULL, MCOL_NAME, true, view);
    assert_int_equal(view[0], 0); /* nginx:latest */
    assert_int_equal(view[1], 1); /* nginx:1.25 */
    assert_int_equal(view[2], 2); /* hello:latest */
}

static void state_labels(void **state)
{
    struct instance inst;
    char buf[32];

    (void)state;
    memset(&inst, 0, sizeof(inst));
    inst.state = INSTANCE_EXITED;
    inst.exit_code = 0;
    assert_string_equal(rows_state_label(&inst, buf, sizeof(buf)), "exited (0)");
    inst.exit_signal = SIGKILL;
    assert_string_equal(rows_state_label(&inst, buf, sizeof(buf)), "exited (SIGKILL)");
    inst.exit_signal = 0;
    inst.exit_code = -1;
    assert_string_equal(rows_state_label(&inst, buf, sizeof(buf)), "exited");
    inst.state = INSTANCE_CRASHED;
    assert_string_equal(rows_state_label(&inst, buf, sizeof(buf)), "crashed");
}

static void uptime_cells(void **state)
{
    struct instance inst;
    char buf[32];

    (void)state;
    memset(&inst, 0, sizeof(inst));
    inst.state = INSTANCE_RUNNING;
    inst.started = 1000;
    assert_string_equal(rows_uptime(&inst, 1042, buf, sizeof(buf)), "42s");
    assert_string_equal(rows_uptime(&inst, 1000 + 192, buf, sizeof(buf)), "3m 12s");
    assert_string_equal(rows_uptime(&inst, 1000 + 7500, buf, sizeof(buf)), "2h 05m");
    assert_string_equal(rows_uptime(&inst, 1000 + 4 * 86400 + 3600, buf, sizeof(buf)), "4d 01h");
    inst.state = INSTANCE_EXITED;
    assert_string_equal(rows_uptime(&inst, 2000, buf, sizeof(buf)), "-");
}

static void stats_fold_into_rates(void **state)
{
    struct inst_row row = make_row("a", "x:latest", INSTANCE_RUNNING, -1, 1);
    struct instance_stats s1 = { 0 }, s2 = { 0 }, s3 = { 0 };

    (void)state;
    s1.state = s2.state = s3.state = INSTANCE_RUNNING;
    s1.timestamp = 10;
    s1.cpu_ns = 1000000000ULL;
    s1.net_rx_bytes = 1000;
    s1.mem_kib = 2048;
    s2 = s1;
    s2.timestamp = 12;
    s2.cpu_ns = 2000000000ULL;
    s2.net_rx_bytes = 5000;
    s3 = s2;
    s3.timestamp = 13;
    s3.cpu_ns = 10; /* restarted */

    rows_apply_stats(&row, &s1);
    assert_true(row.cpu_percent < 0);
    assert_int_equal(row.mem_kib, 2048);
    rows_apply_stats(&row, &s2);
    assert_float_equal(row.cpu_percent, 50.0, 1e-9);
    assert_float_equal(row.net_rx, 2000.0, 1e-9);
    assert_float_equal(rates_history_get(&row.cpu_history, 0), 50.0, 1e-6);
    assert_float_equal(rates_history_get(&row.mem_history, 0), 2.0, 1e-6);
    rows_apply_stats(&row, &s3);
    assert_true(row.cpu_percent < 0);
    assert_float_equal(rates_history_get(&row.cpu_history, 0), 0.0, 0);
    assert_int_equal(row.cpu_history.len, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filter_empty_matches_all),
        cmocka_unit_test(filter_by_name_ignores_case),
        cmocka_unit_test(filter_by_image_state_and_port),
        cmocka_unit_test(sort_by_cpu_descending),
        cmocka_unit_test(sort_by_state_and_uptime),
        cmocka_unit_test(sort_by_name_descending),
        cmocka_unit_test(ports_cell_compact),
        cmocka_unit_test(sort_filtered_subset),
        cmocka_unit_test(image_rows_filter_and_sort),
        cmocka_unit_test(state_labels),
        cmocka_unit_test(uptime_cells),
        cmocka_unit_test(stats_fold_into_rates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
