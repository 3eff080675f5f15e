/* Tests of dashboard rates: CPU percent from two samples, byte rates, host counters, sparklines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ui/rates.h"

static struct instance_stats sample(double t, unsigned long long cpu_ns, int vcpus)
{
    struct instance_stats s = { 0 };

    s.state = INSTANCE_RUNNING;
    s.timestamp = t;
    s.cpu_ns = cpu_ns;
    s.vcpus = vcpus;
    return s;
}

static void cpu_one_vcpu_half_busy(void **state)
{
    struct instance_stats a = sample(100.0, 5000000000ULL, 1);
    struct instance_stats b = sample(102.0, 6000000000ULL, 1);

    (void)state;
    /* 1 s of CPU over 2 s of wall time. */
    assert_float_equal(rates_cpu_percent(&a, &b), 50.0, 1e-9);
}

static void cpu_multi_vcpu_exceeds_100(void **state)
{
    struct instance_stats a = sample(10.0, 0, 4);
    struct instance_stats b = sample(11.0, 3500000000ULL, 4);

    (void)state;
    /* Four vCPUs, 3.5 s of CPU in 1 s: 350 % of one host CPU. */
    assert_float_equal(rates_cpu_percent(&a, &b), 350.0, 1e-9);
}

static void cpu_counter_reset_is_unknown(void **state)
{
    struct instance_stats a = sample(10.0, 9000000000ULL, 1);
    struct instance_stats b = sample(11.0, 100000000ULL, 1);

    (void)state;
    /* The instance was restarted between the samples: its counter started again. */
    assert_true(rates_cpu_percent(&a, &b) < 0);
}

static void cpu_needs_time_and_running(void **state)
{
    struct instance_stats a = sample(10.0, 0, 1);
    struct instance_stats b = sample(10.0, 1000, 1);
    struct instance_stats c = sample(12.0, 2000000000ULL, 1);

    (void)state;
    assert_true(rates_cpu_percent(&a, &b) < 0);
    assert_true(rates_cpu_percent(&b, &a) < 0);
    c.state = INSTANCE_EXITED;
    assert_true(rates_cpu_percent(&a, &c) < 0);
    c.state = INSTANCE_RUNNING;
    assert_float_equal(rates_cpu_percent(&a, &c), 100.0, 1e-9);
}

static void bytes_per_second(void **state)
{
    (void)state;
    assert_float_equal(rates_per_second(1000, 5000, 2.0), 2000.0, 1e-9);
    assert_float_equal(rates_per_second(7, 7, 1.0), 0.0, 1e-9);
    assert_true(rates_per_second(5000, 10, 1.0) < 0);
    assert_true(rates_per_second(0, 10, 0.0) < 0);
}

static void rate_formatting(void **state)
{
    char buf[16];

    (void)state;
    assert_string_equal(rates_format(0, buf, sizeof(buf)), "0");
    assert_string_equal(rates_format(999, buf, sizeof(buf)), "999");
    assert_string_equal(rates_format(12345, buf, sizeof(buf)), "12.3k");
    assert_string_equal(rates_format(4100000, buf, sizeof(buf)), "4.1M");
    assert_string_equal(rates_format(250e9, buf, sizeof(buf)), "250G");
    assert_string_equal(rates_format(-1, buf, sizeof(buf)), "-");
}

static void history_ring_wraps(void **state)
{
    struct rates_history h;

    (void)state;
    memset(&h, 0, sizeof(h));
    assert_float_equal(rates_history_get(&h, 0), 0, 0);
    for (int i = 0; i < RATES_HISTORY + 5; i++)
        rates_history_push(&h, (float)i);
    assert_int_equal(h.len, RATES_HISTORY);
    assert_float_equal(rates_history_get(&h, 0), RATES_HISTORY + 4, 0);
    assert_float_equal(rates_history_get(&h, RATES_HISTORY - 1), 5, 0);
    assert_float_equal(rates_history_get(&h, RATES_HISTORY), 0, 0);
    assert_float_equal(rates_history_max(&h, 10), RATES_HISTORY + 4, 0);
}

static void history_columns_compress(void **state)
{
    struct rates_history h;
    float cols[4];

    (void)state;
    memset(&h, 0, sizeof(h));
    /* Short history: one sample per column, right-aligned. */
    rates_history_push(&h, 1);
    rates_history_push(&h, 2);
    assert_int_equal(rates_history_columns(&h, 4, cols), 1);
    assert_float_equal(cols[0], 0, 0);
    assert_float_equal(cols[1], 0, 0);
    assert_float_equal(cols[2], 1, 0);
    assert_float_equal(cols[3], 2, 0);

    /* Nine samples in four columns: three per column, each its maximum. */
    for (int v = 3; v <= 9; v++)
        rates_history_push(&h, (float)(v == 5 ? 50 : v));
    assert_int_equal(rates_history_columns(&h, 4, cols), 3);
    assert_float_equal(cols[3], 9, 0);  /* 7 8 9 */
    assert_float_equal(cols[2], 50, 0); /* 4 50 6 */
    assert_float_equal(cols[1], 3, 0);  /* 1 2 3 */
    assert_float_equal(cols[0], 0, 0);

    /* A full ring of 300 samples fits 60 columns at 5 samples each. */
    float wide[60];
    for (int i = 0; i < RATES_HISTORY; i++)
        rates_history_push(&h, (float)i);
    assert_int_equal(rates_history_columns(&h, 60, wide), 5);
    assert_float_equal(wide[59], RATES_HISTORY - 1, 0);
    assert_float_equal(wide[0], 4, 0);
}

static void sparkline_ascii_and_utf8(void **state)
{
    struct rates_history h;
    char buf[64];

    (void)state;
    memset(&h, 0, sizeof(h));
    rates_history_push(&h, 0);
    rates_history_push(&h, 50);
    rates_history_push(&h, 100);
    /* Short history: blanks on the left, newest sample on the right. */
    assert_string_equal(rates_sparkline(&h, 5, 100, false, buf, sizeof(buf)), "   =#");
    assert_string_equal(rates_sparkline(&h, 2, 100, true, buf, sizeof(buf)), "\u2584\u2588");
    /* A tiny non-zero value still shows. */
    rates_history_push(&h, 0.01f);
    assert_string_equal(rates_sparkline(&h, 1, 100, false, buf, sizeof(buf)), ".");
    /* Values over MAX are clipped to a full cell. */
    rates_history_push(&h, 500);
    assert_string_equal(rates_sparkline(&h, 1, 100, false, buf, sizeof(buf)), "#");
}

static void host_proc_stat(void **state)
{
    static const char first[] = "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n";
    static const char second[] = "cpu  200 0 150 850 0 0 0 0 0 0\ncpu0 100 0 75 425 0 0 0 0 0 0\n";
    struct host_cpu_sample a, b;

    (void)state;
    assert_int_equal(rates_parse_proc_stat(first, &a), 0);
    assert_int_equal(rates_parse_proc_stat(second, &b), 0);
    assert_int_equal(a.total, 1000);
    assert_int_equal(a.busy, 200);
    /* 150 busy of 200 ticks. */
    assert_float_equal(rates_host_cpu_percent(&a, &b), 75.0, 1e-9);
    assert_true(rates_host_cpu_percent(&b, &a) < 0);
    assert_int_equal(rates_parse_proc_stat("intr 1 2 3\n", &a), -1);
}

static void host_meminfo(void **state)
{
    static const char text[] = "MemTotal:       24000000 kB\nMemFree:        1000 kB\n"
                               "MemAvailable:   18000000 kB\nBuffers: 0 kB\n";
    unsigned long long total = 0, available = 0;

    (void)state;
    assert_int_equal(rates_parse_meminfo(text, &total, &available), 0);
    assert_int_equal(total, 24000000ULL);
    assert_int_equal(available, 18000000ULL);
    assert_int_equal(rates_parse_meminfo("MemTotal: 5 kB\n", &total, &available), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_one_vcpu_half_busy),
        cmocka_unit_test(cpu_multi_vcpu_exceeds_100),
        cmocka_unit_test(cpu_counter_reset_is_unknown),
        cmocka_unit_test(cpu_needs_time_and_running),
        cmocka_unit_test(bytes_per_second),
        cmocka_unit_test(rate_formatting),
        cmocka_unit_test(history_ring_wraps),
        cmocka_unit_test(history_columns_compress),
        cmocka_unit_test(sparkline_ascii_and_utf8),
        cmocka_unit_test(host_proc_stat),
        cmocka_unit_test(host_meminfo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
