/* Tests of the libvirt backend against libvirt's test:///default driver (in-process, no daemon, no guests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/libvirt/lv.h"
#include "store.h"

#define URI "test:///default"
/* Asserts that a backend call returned 0, showing the error record when it did not. */
#define assert_ok(call)                                          \
    do {                                                         \
        if ((call) != 0)                                         \
            fail_msg("%s failed: %s", #call, err_msg());         \
    } while (0)

static char store_dir[] = "/tmp/kilntest-store-XXXXXX";
static struct image image;
/* The test driver discards test:///default's domains when its last connection closes; this one stays open. */
static struct backend *keeper;

/* A stored image whose kernel and initrd are placeholder files: the test driver boots nothing. */
static void image_make(void)
{
    char *dir = xasprintf("%s/images/app/v1", store_dir);
    char *kernel = path_join(dir, IMAGE_KERNEL_FILE), *initrd = path_join(dir, IMAGE_INITRD_FILE);

    assert_int_equal(mkdir_p(dir, 0755), 0);
    assert_int_equal(file_write_atomic(kernel, "k", 1, 0644), 0);
    assert_int_equal(file_write_atomic(initrd, "i", 1, 0644), 0);
    memset(&image, 0, sizeof(image));
    image.name = xstrdup("app");
    image.tag = xstrdup("v1");
    image.digest = xstrdup("sha256:0123");
    image.cmdline = xstrdup("console=ttyS0");
    image.memory_mib = 96;
    image.dir = dir;
    free(kernel);
    free(initrd);
}

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(store_dir))
        return -1;
    store_set_root(store_dir);
    unsetenv("KILN_ACCEL");
    image_make();
    keeper = backend_libvirt.connect(URI);
    return keeper ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    backend_libvirt.close(keeper);
    image_free(&image);
    rm_rf(store_dir);
    return 0;
}

static int conn_setup(void **state)
{
    struct backend *b = backend_libvirt.connect(URI);

    if (!b) {
        fprintf(stderr, "connect failed: %s\n", err_msg());
        return -1;
    }
    *state = b;
    return 0;
}

static int conn_teardown(void **state)
{
    backend_libvirt.close(*state);
    return 0;
}

static struct run_spec spec_for(const char *name)
{
    struct run_spec spec = {0};

    spec.name = name;
    spec.image = &image;
    return spec;
}

static const struct instance *list_find(const struct instance *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

/* Defines a domain without kiln's metadata, as another libvirt user would. */
static void foreign_define(struct backend *b, const char *name)
{
    char *xml = xasprintf("<domain type='test'><name>%s</name><memory>65536</memory>"
                          "<os><type>hvm</type></os></domain>", name);
    virDomainPtr dom = virDomainDefineXML(b->conn, xml);

    assert_non_null(dom);
    virDomainFree(dom);
    free(xml);
}

static void connect_explicit_uri(void **state)
{
    struct backend *b = *state;
    struct backend_info info;

    assert_true(backend_libvirt.alive(b));
    assert_ok(backend_libvirt.info(b, &info));
    assert_string_equal(info.uri, URI);
    assert_string_equal(info.hypervisor, "TEST");
    assert_true(info.libvirt_version >= 9000000);
    assert_true(info.host_cpus > 0);
    assert_string_equal(info.accel, "tcg");
    assert_non_null(strstr(info.accel_reason, "offers no KVM domains"));
    backend_info_free(&info);
}

static void connect_env_and_config(void **state)
{
    char *config_home = xasprintf("%s/config-home", store_dir);
    char *config_dir = path_join(config_home, "kiln"), *config = path_join(config_dir, "config");
    const char *text = "# kiln settings\n  connect =  " URI "  \n";
    struct backend_info info;
    struct backend *b;

    (void)state;
    setenv("KILN_CONNECT", URI, 1);
    b = backend_libvirt.connect(NULL);
    assert_non_null(b);
    assert_ok(backend_libvirt.info(b, &info));
    assert_string_equal(info.uri, URI);
    backend_info_free(&info);
    backend_libvirt.close(b);
    unsetenv("KILN_CONNECT");

    assert_int_equal(mkdir_p(config_dir, 0755), 0);
    assert_int_equal(file_write_atomic(config, text, strlen(text), 0644), 0);
    setenv("XDG_CONFIG_HOME", config_home, 1);
    setenv("LIBVIRT_DEFAULT_URI", "test:///nonexistent/kiln.xml", 1);
    b = backend_libvirt.connect(NULL);
    assert_non_null(b);
    assert_ok(backend_libvirt.info(b, &info));
    assert_string_equal(info.uri, URI);
    backend_info_free(&info);
    backend_libvirt.close(b);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("LIBVIRT_DEFAULT_URI");
    free(config);
    free(config_dir);
    free(config_home);
}

static void connect_failure_message(void **state)
{
    (void)state;
    assert_null(backend_libvirt.connect("test:///nonexistent/kiln.xml"));
    assert_non_null(strstr(err_msg(), "cannot connect to libvirt at test:///nonexistent/kiln.xml: "));
    assert_non_null(strstr(err_msg(), "; start the daemon with: libvirtd -d (and virtlogd -d)"));
}

static void accel_env_override(void **state)
{
    struct backend_info info;
    struct backend *b;

    (void)state;
    setenv("KILN_ACCEL", "kvm", 1);
    b = backend_libvirt.connect(URI);
    assert_non_null(b);
    assert_ok(backend_libvirt.info(b, &info));
    assert_string_equal(info.accel, "kvm");
    assert_string_equal(info.accel_reason, "set by KILN_ACCEL=kvm");
    backend_info_free(&info);
    backend_libvirt.close(b);
    unsetenv("KILN_ACCEL");
}

/* The probe's verdict depends on the host; its reason must match the verdict either way. */
static void accel_ioctl_probe_reason(void **state)
{
    char *reason = NULL;
    int rc;

    (void)state;
    rc = lv_accel_kvm_ioctl_probe(&reason);
    assert_non_null(reason);
    if (rc == 0) {
        assert_string_equal(reason, "KVM probe passed");
    } else {
        assert_int_equal(rc, -1);
        assert_true(strcmp(reason, "/dev/kvm missing") == 0 || strncmp(reason, "KVM probe: ", 11) == 0);
    }
    free(reason);
}

static void create_list_lookup(void **state)
{
    struct backend *b = *state;
    struct port_map port = {"127.0.0.1", 0, 80, "tcp"};
    struct run_spec spec = spec_for("kilntest-a");
    struct instance *list, inst;
    const struct instance *found;
    char *config;
    size_t n;
    long long before = (long long)time(NULL);

    port.host_port = 20000 + (int)(getpid() % 20000);
    spec.ports = &port;
    spec.n_ports = 1;
    spec.auto_remove = true;
    foreign_define(b, "kilntest-foreign");
    assert_ok(backend_libvirt.create(b, &spec));

    assert_ok(backend_libvirt.list(b, true, &list, &n));
    found = list_find(list, n, "kilntest-a");
    assert_non_null(found);
    assert_null(list_find(list, n, "kilntest-foreign"));
    assert_null(list_find(list, n, "test")); /* the driver's own default domain */
    assert_int_equal(found->state, INSTANCE_CREATED);
    instance_list_free(list, n);

    assert_ok(backend_libvirt.list(b, false, &list, &n));
    assert_null(list_find(list, n, "kilntest-a")); /* defined, not running */
    instance_list_free(list, n);

    assert_ok(backend_libvirt.lookup(b, "kilntest-a", &inst));
    assert_string_equal(inst.name, "kilntest-a");
    assert_non_null(inst.uuid);
    assert_string_equal(inst.image, "app:v1");
    assert_string_equal(inst.digest, "sha256:0123");
    assert_int_equal(inst.state, INSTANCE_CREATED);
    assert_int_equal(inst.memory_mib, 96); /* the image's default */
    assert_int_equal(inst.cpus, 1);
    assert_true(inst.created >= before);
    assert_int_equal(inst.started, 0);
    assert_true(inst.auto_remove);
    assert_int_equal(inst.exit_code, -1);
    assert_int_equal(inst.n_ports, 1);
    assert_int_equal(inst.ports[0].host_port, port.host_port);
    assert_non_null(strstr(inst.log_path, "/instances/kilntest-a/console.log"));

    config = xasprintf("%s/instances/kilntest-a/config", store_dir);
    assert_true(path_exists(config));
    free(config);
    instance_free(&inst);
}

static void lookup_not_found(void **state)
{
    struct backend *b = *state;
    struct instance inst;

    assert_int_equal(backend_libvirt.lookup(b, "kilntest-missing", &inst), -1);
    assert_string_equal(err_msg(), "no such instance kilntest-missing; list instances with kiln ps -a");
    assert_int_equal(backend_libvirt.lookup(b, "kilntest-foreign", &inst), -1);
    assert_non_null(strstr(err_msg(), "no such instance kilntest-foreign (libvirt has a domain"));
    assert_int_equal(backend_libvirt.lookup(b, "../etc", &inst), -1);
    assert_non_null(strstr(err_msg(), "no such instance '../etc'"));
    assert_int_equal(backend_libvirt.remove(b, "kilntest-foreign", true), -1);
    assert_non_null(strstr(err_msg(), "kiln did not create it"));
}

static void create_rejects_taken_names(void **state)
{
    struct backend *b = *state;
    struct run_spec spec = spec_for("kilntest-a");
    char *dir;

    assert_int_equal(backend_libvirt.create(b, &spec), -1);
    assert_string_equal(err_msg(),
                        "instance kilntest-a already exists; remove it with kiln rm kilntest-a or choose another name");
    spec.name = "kilntest-foreign";
    assert_int_equal(backend_libvirt.create(b, &spec), -1);
    assert_non_null(strstr(err_msg(), "libvirt already has a domain named kilntest-foreign"));
    spec.name = "kilntest-leftover";
    dir = xasprintf("%s/instances/kilntest-leftover", store_dir);
    assert_int_equal(mkdir_p(dir, 0755), 0);
    assert_int_equal(backend_libvirt.create(b, &spec), -1);
    assert_non_null(strstr(err_msg(), "kilntest-leftover already exists, but libvirt has no domain"));
    assert_true(path_is_dir(dir));
    rm_rf(dir);
    free(dir);
    spec.name = "bad/name";
    assert_int_equal(backend_libvirt.create(b, &spec), -1);
    assert_non_null(strstr(err_msg(), "invalid instance name 'bad/name'"));
}

static void create_rejects_busy_port(void **state)
{
    struct backend *b = *state;
    struct sockaddr_in addr = {0};
    socklen_t len = sizeof(addr);
    struct port_map port = {"127.0.0.1", 0, 80, "tcp"};
    struct run_spec spec = spec_for("kilntest-busy");
    struct instance inst;
    char expected[128], *dir;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    port.host_port = ntohs(addr.sin_port);
    spec.ports = &port;
    spec.n_ports = 1;

    assert_int_equal(backend_libvirt.create(b, &spec), -1);
    snprintf(expected, sizeof(expected), "host port 127.0.0.1:%d is already in use; free it, or choose another with -p",
             port.host_port);
    assert_string_equal(err_msg(), expected);
    assert_int_equal(backend_libvirt.lookup(b, "kilntest-busy", &inst), -1);
    dir = xasprintf("%s/instances/kilntest-busy", store_dir);
    assert_false(path_exists(dir));
    free(dir);
    close(fd);
}

struct progress_log {
    char lines[8][256];
    int n;
};

static void progress_record(void *ctx, const char *message)
{
    struct progress_log *log = ctx;

    if (log->n < 8)
        snprintf(log->lines[log->n++], sizeof(log->lines[0]), "%s", message);
}

static void start_stats_stop(void **state)
{
    struct backend *b = *state;
    struct progress_log log = {0};
    struct progress p = {progress_record, &log};
    struct instance_stats *stats;
    struct instance inst, *list;
    const struct instance_stats *mine = NULL;
    size_t n;

    assert_ok(backend_libvirt.start(b, "kilntest-a"));
    assert_int_equal(backend_libvirt.start(b, "kilntest-a"), -1);
    assert_string_equal(err_msg(), "instance kilntest-a is already running");
    assert_ok(backend_libvirt.lookup(b, "kilntest-a", &inst));
    assert_int_equal(inst.state, INSTANCE_RUNNING);
    assert_true(inst.started >= inst.created);
    assert_int_equal(inst.finished, 0);
    instance_free(&inst);

    assert_ok(backend_libvirt.list(b, false, &list, &n));
    assert_non_null(list_find(list, n, "kilntest-a"));
    instance_list_free(list, n);

    assert_ok(backend_libvirt.stats(b, &stats, &n));
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(stats[i].name, "test");
        assert_string_not_equal(stats[i].name, "kilntest-foreign");
        if (strcmp(stats[i].name, "kilntest-a") == 0)
            mine = &stats[i];
    }
    assert_non_null(mine);
    assert_int_equal(mine->state, INSTANCE_RUNNING);
    assert_true(mine->timestamp > 0);
    instance_stats_list_free(stats, n);

    assert_int_equal(backend_libvirt.remove(b, "kilntest-a", false), -1);
    assert_string_equal(err_msg(), "instance kilntest-a is running; stop it first or use -f");

    /* The test driver rejects the power button flag, so stop falls back to destroying. */
    assert_ok(backend_libvirt.stop(b, "kilntest-a", 2, &p));
    assert_int_equal(log.n, 3);
    assert_non_null(strstr(log.lines[0], "cannot press the power button of kilntest-a"));
    assert_string_equal(log.lines[1], "destroying kilntest-a");
    assert_string_equal(log.lines[2], "kilntest-a stopped");
    assert_ok(backend_libvirt.lookup(b, "kilntest-a", &inst));
    assert_int_equal(inst.state, INSTANCE_EXITED);
    assert_true(inst.finished >= inst.started);
    assert_int_equal(inst.exit_code, 137); /* no exit line: the test driver runs no guest */
    assert_int_equal(inst.exit_signal, 9);
    instance_free(&inst);

    assert_int_equal(backend_libvirt.kill(b, "kilntest-a"), -1);
    assert_string_equal(err_msg(), "instance kilntest-a is not running");
    assert_ok(backend_libvirt.stop(b, "kilntest-a", 2, NULL));
}

static virTypedParameter param_ull(const char *field, unsigned long long value)
{
    virTypedParameter p;

    memset(&p, 0, sizeof(p));
    snprintf(p.field, sizeof(p.field), "%s", field);
    p.type = VIR_TYPED_PARAM_ULLONG;
    p.value.ul = value;
    return p;
}

/* The test driver reports only state.*, so the other fields are fed by hand. */
static void stats_record_sums_counters(void **state)
{
    struct backend *b = *state;
    virTypedParameter params[] = {
        param_ull("state.state", VIR_DOMAIN_RUNNING), param_ull("state.reason", 1),
        param_ull("cpu.time", 123456789), param_ull("balloon.current", 131072),
        param_ull("balloon.maximum", 262144), param_ull("balloon.rss", 90000),
        param_ull("vcpu.current", 2), param_ull("net.count", 2),
        param_ull("net.0.rx.bytes", 10), param_ull("net.1.rx.bytes", 5),
        param_ull("net.0.rx.pkts", 99), param_ull("net.0.tx.bytes", 7),
        param_ull("block.count", 2), param_ull("block.0.rd.bytes", 100),
        param_ull("block.1.rd.bytes", 1), param_ull("block.0.wr.bytes", 3),
        param_ull("block.0.rd.reqs", 50),
    };
    virDomainStatsRecord rec = {0};
    struct instance_stats s;

    rec.dom = virDomainLookupByName(b->conn, "test");
    assert_non_null(rec.dom);
    rec.params = params;
    rec.nparams = (int)ARRAY_SIZE(params);
    lv_stats_record_fill(&rec, &s, 42.0);
    assert_string_equal(s.name, "test");
    assert_int_equal(s.state, INSTANCE_RUNNING);
    assert_true(s.timestamp == 42.0);
    assert_int_equal(s.cpu_ns, 123456789);
    assert_int_equal(s.vcpus, 2);
    assert_int_equal(s.mem_kib, 90000);
    assert_int_equal(s.mem_max_kib, 262144);
    assert_int_equal(s.net_rx_bytes, 15);
    assert_int_equal(s.net_tx_bytes, 7);
    assert_int_equal(s.blk_rd_bytes, 101);
    assert_int_equal(s.blk_wr_bytes, 3);
    free(s.name);

    /* Without balloon.rss the guest's balloon size is used. */
    rec.nparams = 5;
    lv_stats_record_fill(&rec, &s, 43.0);
    assert_int_equal(s.mem_kib, 131072);
    assert_int_equal(s.net_rx_bytes, 0);
    free(s.name);
    virDomainFree(rec.dom);
}

static void console_needs_running_instance(void **state)
{
    struct backend *b = *state;
    struct run_spec spec = spec_for("kilntest-con");

    assert_ok(backend_libvirt.create(b, &spec));
    assert_int_equal(backend_libvirt.console_open(b, "kilntest-con"), -1);
    assert_string_equal(err_msg(), "instance kilntest-con is not running; start it with kiln start kilntest-con");
    assert_int_equal(backend_libvirt.console_open(b, "kilntest-missing"), -1);
    assert_non_null(strstr(err_msg(), "no such instance kilntest-missing"));
    assert_ok(backend_libvirt.remove(b, "kilntest-con", false));
}

static void stop_reports_progress(void **state)
{
    struct backend *b = *state;
    struct progress_log log = {0};
    struct progress p = {progress_record, &log};
    struct instance inst;

    assert_ok(backend_libvirt.start(b, "kilntest-a"));
    assert_ok(backend_libvirt.stop(b, "kilntest-a", 0, &p));
    assert_int_equal(log.n, 2);
    assert_string_equal(log.lines[0], "destroying kilntest-a");
    assert_string_equal(log.lines[1], "kilntest-a stopped");
    assert_ok(backend_libvirt.lookup(b, "kilntest-a", &inst));
    assert_int_equal(inst.state, INSTANCE_EXITED);
    assert_int_equal(inst.exit_signal, 9); /* destroyed without an exit line */
    assert_int_equal(inst.exit_code, 137);
    instance_free(&inst);
}

static void remove_force(void **state)
{
    struct backend *b = *state;
    struct instance inst;
    char *dir = xasprintf("%s/instances/kilntest-a", store_dir);

    assert_true(path_is_dir(dir));
    assert_ok(backend_libvirt.start(b, "kilntest-a"));
    assert_ok(backend_libvirt.remove(b, "kilntest-a", true));
    assert_int_equal(backend_libvirt.lookup(b, "kilntest-a", &inst), -1);
    assert_false(path_exists(dir));
    free(dir);
}

struct event_log {
    pthread_mutex_t lock;
    char names[32][64];
    enum backend_event events[32];
    int n;
};

static void event_record(void *ctx, const char *name, enum backend_event event)
{
    struct event_log *log = ctx;

    pthread_mutex_lock(&log->lock);
    if (log->n < 32) {
        snprintf(log->names[log->n], sizeof(log->names[0]), "%s", name ? name : "");
        log->events[log->n++] = event;
    }
    pthread_mutex_unlock(&log->lock);
}

static bool event_seen(struct event_log *log, const char *name, enum backend_event event)
{
    bool seen = false;

    pthread_mutex_lock(&log->lock);
    for (int i = 0; i < log->n; i++)
        if (strcmp(log->names[i], name) == 0 && log->events[i] == event)
            seen = true;
    pthread_mutex_unlock(&log->lock);
    return seen;
}

static bool event_wait(struct event_log *log, const char *name, enum backend_event event)
{
    struct timespec pause = {0, 10 * 1000 * 1000};

    for (int i = 0; i < 300; i++) {
        if (event_seen(log, name, event))
            return true;
        nanosleep(&pause, NULL);
    }
    return false;
}

static void events_for_kiln_domains_only(void **state)
{
    struct backend *b = *state;
    struct event_log log = {PTHREAD_MUTEX_INITIALIZER, {{0}}, {0}, 0};
    struct run_spec spec = spec_for("kilntest-ev");

    spec.start = true;
    assert_ok(backend_libvirt.events_start(b, event_record, &log));
    foreign_define(b, "kilntest-foreign2");
    assert_ok(backend_libvirt.create(b, &spec));
    assert_true(event_wait(&log, "kilntest-ev", EVENT_DEFINED));
    assert_true(event_wait(&log, "kilntest-ev", EVENT_STARTED));
    assert_ok(backend_libvirt.kill(b, "kilntest-ev"));
    assert_true(event_wait(&log, "kilntest-ev", EVENT_STOPPED));
    assert_ok(backend_libvirt.remove(b, "kilntest-ev", false));
    assert_true(event_wait(&log, "kilntest-ev", EVENT_REMOVED));
    /* Events come in order, so the foreign definition's would have arrived before these. */
    assert_false(event_seen(&log, "kilntest-foreign2", EVENT_DEFINED));
    backend_libvirt.events_stop(b);

    spec.name = "kilntest-ev2";
    assert_ok(backend_libvirt.create(b, &spec));
    assert_ok(backend_libvirt.remove(b, "kilntest-ev2", true));
    assert_false(event_seen(&log, "kilntest-ev2", EVENT_DEFINED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(connect_explicit_uri, conn_setup, conn_teardown),
        cmocka_unit_test(connect_env_and_config),
        cmocka_unit_test(connect_failure_message),
        cmocka_unit_test(accel_env_override),
        cmocka_unit_test(accel_ioctl_probe_reason),
        cmocka_unit_test_setup_teardown(create_list_lookup, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(lookup_not_found, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(create_rejects_taken_names, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(create_rejects_busy_port, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(start_stats_stop, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(stop_reports_progress, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(remove_force, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(stats_record_sums_counters, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(console_needs_running_instance, conn_setup, conn_teardown),
        cmocka_unit_test_setup_teardown(events_for_kiln_domains_only, conn_setup, conn_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
