/* Unit tests of the libvirt backend's domain XML, metadata, per-run settings and exit-line parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/libvirt/lv.h"

#define TRICKY "a<b>&c'd\"e é ü 日本"

/* Evaluates XPATH on XML and returns the string value (caller frees); NULL when nothing matched. */
static char *xpath_string(const char *xml, const char *xpath)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr obj;
    char *out = NULL;

    assert_non_null(doc);
    ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "kiln", BAD_CAST LV_META_NS);
    xmlXPathRegisterNs(ctx, BAD_CAST "qemu", BAD_CAST LV_QEMU_NS);
    obj = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    if (obj && obj->nodesetval && obj->nodesetval->nodeNr > 0) {
        xmlChar *s = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

        out = strdup((const char *)s);
        xmlFree(s);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return out;
}

static int xpath_count(const char *xml, const char *xpath)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr obj;
    int n = 0;

    assert_non_null(doc);
    ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "kiln", BAD_CAST LV_META_NS);
    xmlXPathRegisterNs(ctx, BAD_CAST "qemu", BAD_CAST LV_QEMU_NS);
    obj = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    if (obj && obj->nodesetval)
        n = obj->nodesetval->nodeNr;
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return n;
}

static void assert_xpath(const char *xml, const char *xpath, const char *expected)
{
    char *got = xpath_string(xml, xpath);

    if (!got)
        fail_msg("%s matched nothing", xpath);
    assert_string_equal(got, expected);
    free(got);
}

struct fixture {
    struct image image;
    struct port_map ports[2];
    struct volume_mount volumes[2];
    struct strv env, args;
    struct run_spec spec;
    struct lv_meta meta;
    struct lv_domain_def def;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->image.name = (char *)"app";
    f->image.tag = (char *)"v1";
    f->image.cmdline = (char *)"console=ttyS0 quiet x=\"" TRICKY "\"";

    snprintf(f->ports[0].host_ip, sizeof(f->ports[0].host_ip), "127.0.0.1");
    f->ports[0].host_port = 18080;
    f->ports[0].guest_port = 80;
    snprintf(f->ports[0].proto, sizeof(f->ports[0].proto), "tcp");
    snprintf(f->ports[1].host_ip, sizeof(f->ports[1].host_ip), "127.0.0.1");
    f->ports[1].host_port = 15353;
    f->ports[1].guest_port = 53;
    snprintf(f->ports[1].proto, sizeof(f->ports[1].proto), "udp");

    f->volumes[0].volume = (char *)"data";
    f->volumes[0].file = (char *)"/srv/vol/" TRICKY ".ext4";
    f->volumes[0].path = (char *)"/data é";
    f->volumes[1].volume = (char *)"ro";
    f->volumes[1].file = (char *)"/srv/vol/ro.ext4";
    f->volumes[1].path = (char *)"/etc/app";
    f->volumes[1].readonly = true;

    strv_push(&f->env, "GREETING=" TRICKY);
    strv_push(&f->env, "EMPTY=");
    strv_push(&f->args, "--msg=" TRICKY);
    strv_push(&f->args, "line1\nline2");

    f->spec.name = "kilntest-web.1";
    f->spec.image = &f->image;
    f->spec.memory_mib = 192;
    f->spec.cpus = 2;
    f->spec.ports = f->ports;
    f->spec.n_ports = 2;
    f->spec.env = &f->env;
    f->spec.args = &f->args;
    f->spec.volumes = f->volumes;
    f->spec.n_volumes = 2;

    f->meta.image = (char *)"app&<x>:v1";
    f->meta.digest = (char *)"sha256:" TRICKY;
    f->meta.log_path = (char *)"/var/lib/kiln/instances/kilntest-web.1/console.log";
    f->meta.log_offset = 12345;
    f->meta.created = 1796400000;
    f->meta.started = 1796400010;
    f->meta.auto_remove = true;
    f->meta.ports = f->ports;
    f->meta.n_ports = 2;
    f->meta.volumes = f->volumes;
    f->meta.n_volumes = 2;

    f->def.spec = &f->spec;
    f->def.domain_type = "qemu";
    f->def.tcg = true;
    f->def.kernel = "/var/lib/kiln/images/app/v1/vmlinuz";
    f->def.initrd = "/var/lib/kiln/images/app/v1/initrd";
    f->def.cmdline = f->image.cmdline;
    f->def.config_path = "/var/lib/kiln/instances/kilntest-web.1/config";
    f->def.meta = &f->meta;
}

static void fixture_free(struct fixture *f)
{
    strv_free(&f->env);
    strv_free(&f->args);
}

static void domain_xml_is_escaped(void **state)
{
    struct fixture f;
    char *xml;

    (void)state;
    fixture_init(&f);
    xml = lv_xml_domain(&f.def);
    assert_non_null(xml);

    assert_xpath(xml, "/domain/@type", "qemu");
    assert_xpath(xml, "/domain/name", "kilntest-web.1");
    assert_xpath(xml, "/domain/os/cmdline", f.image.cmdline);
    assert_xpath(xml, "/domain/os/kernel", f.def.kernel);
    assert_xpath(xml, "/domain/os/initrd", f.def.initrd);
    assert_xpath(xml, "/domain/os/type/@machine", "q35");
    assert_xpath(xml, "/domain/devices/disk[1]/source/@file", f.volumes[0].file);
    assert_xpath(xml, "/domain/devices/disk[1]/target/@dev", "vda");
    assert_xpath(xml, "/domain/devices/disk[2]/target/@dev", "vdb");
    assert_int_equal(xpath_count(xml, "/domain/devices/disk[1]/readonly"), 0);
    assert_int_equal(xpath_count(xml, "/domain/devices/disk[2]/readonly"), 1);
    assert_xpath(xml, "/domain/metadata/kiln:instance/kiln:image", "app&<x>:v1");
    assert_xpath(xml, "/domain/memory", "192");
    assert_xpath(xml, "/domain/memory/@unit", "MiB");
    assert_xpath(xml, "/domain/vcpu", "2");
    free(xml);
    fixture_free(&f);
}

static void domain_xml_has_devices(void **state)
{
    struct fixture f;
    char *xml;

    (void)state;
    fixture_init(&f);
    xml = lv_xml_domain(&f.def);
    assert_non_null(xml);

    assert_xpath(xml, "/domain/sysinfo[@type='fwcfg']/entry/@name", RUNCFG_FWCFG_NAME);
    assert_xpath(xml, "/domain/sysinfo[@type='fwcfg']/entry/@file", f.def.config_path);
    assert_xpath(xml, "/domain/devices/serial[@type='pty']/log/@file", f.meta.log_path);
    assert_xpath(xml, "/domain/devices/serial/log/@append", "on");
    assert_int_equal(xpath_count(xml, "/domain/devices/console[@type='pty']"), 1);
    assert_xpath(xml, "/domain/devices/memballoon/@model", "none");
    assert_xpath(xml, "/domain/devices/controller[@type='usb']/@model", "none");
    assert_xpath(xml, "/domain/on_poweroff", "destroy");
    assert_xpath(xml, "/domain/on_reboot", "destroy");
    assert_xpath(xml, "/domain/on_crash", "destroy");
    assert_int_equal(xpath_count(xml, "/domain/features/acpi"), 1);
    assert_int_equal(xpath_count(xml, "/domain/devices/graphics"), 0);
    assert_int_equal(xpath_count(xml, "/domain/devices/video"), 0);
    assert_int_equal(xpath_count(xml, "/domain/devices/interface"), 0);
    free(xml);
    fixture_free(&f);
}

static void ports_in_qemu_commandline(void **state)
{
    struct fixture f;
    char *xml;

    (void)state;
    fixture_init(&f);
    xml = lv_xml_domain(&f.def);
    assert_non_null(xml);
    assert_int_equal(xpath_count(xml, "/domain/qemu:commandline/qemu:arg"), 4);
    assert_xpath(xml, "/domain/qemu:commandline/qemu:arg[1]/@value", "-netdev");
    assert_xpath(xml, "/domain/qemu:commandline/qemu:arg[2]/@value",
                 "user,id=kiln0,hostfwd=tcp:127.0.0.1:18080-:80,hostfwd=udp:127.0.0.1:15353-:53");
    assert_xpath(xml, "/domain/qemu:commandline/qemu:arg[3]/@value", "-device");
    assert_xpath(xml, "/domain/qemu:commandline/qemu:arg[4]/@value",
                 "virtio-net-pci,netdev=kiln0,bus=pcie.0,addr=0x9");
    free(xml);
    fixture_free(&f);
}

static void tcg_limits_translation_cache(void **state)
{
    struct fixture f;
    char *xml;

    (void)state;
    fixture_init(&f);
    xml = lv_xml_domain(&f.def);
    assert_xpath(xml, "/domain/features/tcg/tb-cache", "32");
    assert_xpath(xml, "/domain/features/tcg/tb-cache/@unit", "MiB");
    free(xml);

    f.def.domain_type = "kvm";
    f.def.tcg = false;
    xml = lv_xml_domain(&f.def);
    assert_xpath(xml, "/domain/@type", "kvm");
    assert_int_equal(xpath_count(xml, "/domain/features/tcg"), 0);
    free(xml);
    fixture_free(&f);
}

static void libvirt_network_mode(void **state)
{
    struct fixture f;
    char *xml;

    (void)state;
    fixture_init(&f);
    f.spec.network = "default";
    assert_null(lv_xml_domain(&f.def));
    assert_non_null(strstr(err_msg(), "publishing ports (-p) needs"));

    f.spec.n_ports = 0;
    xml = lv_xml_domain(&f.def);
    assert_non_null(xml);
    assert_xpath(xml, "/domain/devices/interface/@type", "network");
    assert_xpath(xml, "/domain/devices/interface/source/@network", "default");
    assert_xpath(xml, "/domain/devices/interface/model/@type", "virtio");
    assert_int_equal(xpath_count(xml, "/domain/qemu:commandline"), 0);
    free(xml);

    f.spec.network = "none";
    xml = lv_xml_domain(&f.def);
    assert_int_equal(xpath_count(xml, "/domain/devices/interface"), 0);
    assert_int_equal(xpath_count(xml, "/domain/qemu:commandline"), 0);
    free(xml);
    fixture_free(&f);
}

static void metadata_round_trip(void **state)
{
    struct fixture f;
    struct lv_meta back;
    char *xml, *domain;

    (void)state;
    fixture_init(&f);
    xml = lv_xml_metadata(&f.meta);
    assert_non_null(xml);
    domain = lv_xml_domain(&f.def);
    assert_non_null(domain);

    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(lv_xml_metadata_parse(pass == 0 ? xml : domain, &back), 0);
        assert_string_equal(back.image, f.meta.image);
        assert_string_equal(back.digest, f.meta.digest);
        assert_string_equal(back.log_path, f.meta.log_path);
        assert_int_equal(back.log_offset, 12345);
        assert_int_equal(back.created, f.meta.created);
        assert_int_equal(back.started, f.meta.started);
        assert_int_equal(back.finished, 0);
        assert_true(back.auto_remove);
        assert_int_equal(back.n_ports, 2);
        assert_string_equal(back.ports[0].host_ip, "127.0.0.1");
        assert_int_equal(back.ports[0].host_port, 18080);
        assert_int_equal(back.ports[0].guest_port, 80);
        assert_string_equal(back.ports[0].proto, "tcp");
        assert_string_equal(back.ports[1].proto, "udp");
        assert_int_equal(back.n_volumes, 2);
        assert_string_equal(back.volumes[0].volume, "data");
        assert_string_equal(back.volumes[0].file, f.volumes[0].file);
        assert_string_equal(back.volumes[0].path, "/data é");
        assert_false(back.volumes[0].readonly);
        assert_true(back.volumes[1].readonly);
        lv_meta_free(&back);
    }
    free(xml);
    free(domain);
    fixture_free(&f);
}

static void metadata_missing_rejected(void **state)
{
    struct lv_meta back;

    (void)state;
    assert_int_equal(lv_xml_metadata_parse("<domain><name>x</name></domain>", &back), -1);
    assert_int_equal(lv_xml_metadata_parse("<domain><metadata><other:a xmlns:other='urn:x'/></metadata></domain>",
                                           &back), -1);
    assert_int_equal(lv_xml_metadata_parse("not xml <", &back), -1);
}

static void invalid_text_rejected(void **state)
{
    struct fixture f;

    (void)state;
    fixture_init(&f);
    f.def.cmdline = "console=ttyS0 \x01";
    assert_null(lv_xml_domain(&f.def));
    assert_non_null(strstr(err_msg(), "invalid cmdline"));

    f.def.cmdline = "bad utf-8 \xff\xfe";
    assert_null(lv_xml_domain(&f.def));
    assert_non_null(strstr(err_msg(), "UTF-8"));
    fixture_free(&f);
}

static void spec_validation(void **state)
{
    struct fixture f;

    (void)state;
    fixture_init(&f);
    f.spec.name = "bad name";
    assert_int_equal(lv_spec_validate(&f.spec), -1);
    assert_non_null(strstr(err_msg(), "invalid instance name 'bad name'"));
    assert_true(err_is_usage());
    f.spec.name = "kilntest-ok";

    snprintf(f.ports[0].host_ip, sizeof(f.ports[0].host_ip), "127.0.0.1,hostfwd=tcp::1-:2");
    assert_int_equal(lv_spec_validate(&f.spec), -1);
    assert_non_null(strstr(err_msg(), "invalid host address"));
    snprintf(f.ports[0].host_ip, sizeof(f.ports[0].host_ip), "127.0.0.1");

    f.ports[0].host_port = 70000;
    assert_int_equal(lv_spec_validate(&f.spec), -1);
    assert_non_null(strstr(err_msg(), "ports are 1 to 65535"));
    f.ports[0].host_port = 18080;

    f.volumes[0].path = (char *)"/a:b";
    assert_int_equal(lv_spec_validate(&f.spec), -1);
    assert_non_null(strstr(err_msg(), "invalid mount point '/a:b'"));
    f.volumes[0].path = (char *)"/data";

    strv_push(&f.env, "=novalue");
    assert_int_equal(lv_spec_validate(&f.spec), -1);
    assert_non_null(strstr(err_msg(), "invalid environment variable '=novalue'"));
    fixture_free(&f);
}

static void names_validated(void **state)
{
    (void)state;
    assert_true(lv_name_valid("web"));
    assert_true(lv_name_valid("Web_1.a-b"));
    assert_true(lv_name_valid("1abc"));
    assert_false(lv_name_valid(""));
    assert_false(lv_name_valid(NULL));
    assert_false(lv_name_valid("-web"));
    assert_false(lv_name_valid(".web"));
    assert_false(lv_name_valid("a..b"));
    assert_false(lv_name_valid("a/b"));
    assert_false(lv_name_valid("a b"));
    assert_false(lv_name_valid("é"));
    assert_false(lv_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
}

/* Splits runcfg bytes into strings; returns the count. */
static size_t runcfg_split(const struct runcfg *c, const char **items, size_t max)
{
    size_t n = 0;

    for (size_t off = 0; off < c->len && n < max; off += strlen(c->data + off) + 1)
        items[n++] = c->data + off;
    return n;
}

static void runcfg_keeps_script_before_args(void **state)
{
    struct fixture f;
    struct runcfg c;
    const char *items[64];
    size_t n;

    (void)state;
    fixture_init(&f);
    strv_push(&f.image.entrypoint, "/bin/sh");
    strv_push(&f.image.entrypoint, "/app/hello.sh");
    assert_int_equal(lv_runcfg_build(&f.spec, &c), 0);
    n = runcfg_split(&c, items, 64);
    assert_true(n > 6);
    assert_string_equal(items[1], "arg");
    assert_string_equal(items[2], "/app/hello.sh");
    assert_string_equal(items[3], "arg");
    assert_string_equal(items[4], "--msg=" TRICKY);
    runcfg_free(&c);
    strv_free(&f.image.entrypoint);
    fixture_free(&f);
}

static void runcfg_carries_values_unchanged(void **state)
{
    struct fixture f;
    struct runcfg c;
    const char *items[64];
    size_t n;

    (void)state;
    fixture_init(&f);
    assert_int_equal(lv_runcfg_build(&f.spec, &c), 0);
    assert_int_equal(c.data[c.len - 1], '\0');
    n = runcfg_split(&c, items, 64);
    assert_int_equal(n, 1 + 2 * 8);
    assert_string_equal(items[0], RUNCFG_MAGIC);
    assert_string_equal(items[1], "arg");
    assert_string_equal(items[2], "--msg=" TRICKY);
    assert_string_equal(items[3], "arg");
    assert_string_equal(items[4], "line1\nline2");
    assert_string_equal(items[5], "env");
    assert_string_equal(items[6], "GREETING=" TRICKY);
    assert_string_equal(items[7], "env");
    assert_string_equal(items[8], "EMPTY=");
    assert_string_equal(items[9], "net");
    assert_string_equal(items[10], "user");
    assert_string_equal(items[11], "mount");
    assert_string_equal(items[12], "/dev/vda:/data é:rw");
    assert_string_equal(items[13], "mount");
    assert_string_equal(items[14], "/dev/vdb:/etc/app:ro");
    assert_string_equal(items[15], "hostname");
    assert_string_equal(items[16], "kilntest-web.1");
    runcfg_free(&c);

    f.spec.args = NULL;
    f.spec.n_ports = 0;
    f.spec.network = "default";
    assert_int_equal(lv_runcfg_build(&f.spec, &c), 0);
    n = runcfg_split(&c, items, 64);
    assert_string_equal(items[1], "env");
    assert_string_equal(items[6], "dhcp");
    runcfg_free(&c);
    fixture_free(&f);
}

static char *log_write_temp(const char *text)
{
    char *path = strdup("/tmp/kilntest-log-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void exit_line_parsed(void **state)
{
    const char *text = "boot\r\nKILN-EXIT code=1\r\nsecond run\nKILN-EXIT code=9\nKILN-EXIT code=42\r\n";
    char *path = log_write_temp(text);
    int code, sig;

    (void)state;
    assert_int_equal(lv_exit_status_read(path, 0, &code, &sig), 0);
    assert_int_equal(code, 42);
    assert_int_equal(sig, 0);

    /* From an offset past the last line: this run printed none. */
    assert_int_equal(lv_exit_status_read(path, (long long)strlen(text), &code, &sig), -1);
    assert_int_equal(code, -1);
    unlink(path);
    free(path);

    path = log_write_temp("old\nKILN-EXIT code=0\nnew run\nKILN-EXIT signal=9\n");
    assert_int_equal(lv_exit_status_read(path, 0, &code, &sig), 0);
    assert_int_equal(sig, 9);
    assert_int_equal(code, 137);
    /* An offset beyond the end means the log was rotated: the whole file counts. */
    assert_int_equal(lv_exit_status_read(path, 1 << 20, &code, &sig), 0);
    assert_int_equal(sig, 9);
    unlink(path);
    free(path);

    /* Output without a final newline puts the line after it; error= details follow the code. */
    path = log_write_temp("partial outputKILN-EXIT code=127 error=not-found\r\n");
    assert_int_equal(lv_exit_status_read(path, 0, &code, &sig), 0);
    assert_int_equal(code, 127);
    assert_int_equal(sig, 0);
    unlink(path);
    free(path);

    path = log_write_temp("KILN-EXIT code=abc\nKILN-EXIT code=300\n");
    assert_int_equal(lv_exit_status_read(path, 0, &code, &sig), -1);
    unlink(path);
    free(path);

    assert_int_equal(lv_exit_status_read("/nonexistent/kiln/console.log", 0, &code, &sig), -1);
    assert_int_equal(code, -1);
}

static void states_mapped(void **state)
{
    (void)state;
    assert_int_equal(lv_state_map(VIR_DOMAIN_RUNNING, 0, 1), INSTANCE_RUNNING);
    assert_int_equal(lv_state_map(VIR_DOMAIN_BLOCKED, 0, 1), INSTANCE_RUNNING);
    assert_int_equal(lv_state_map(VIR_DOMAIN_PAUSED, 0, 1), INSTANCE_PAUSED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_SHUTDOWN, 0, 1), INSTANCE_STOPPING);
    assert_int_equal(lv_state_map(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, 1), INSTANCE_EXITED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN, 0), INSTANCE_CREATED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN, -1), INSTANCE_CREATED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED, -1), INSTANCE_EXITED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, 1), INSTANCE_CRASHED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_CRASHED, 0, 1), INSTANCE_CRASHED);
    assert_int_equal(lv_state_map(VIR_DOMAIN_NOSTATE, 0, 1), INSTANCE_UNKNOWN);
    assert_string_equal(instance_state_name(INSTANCE_EXITED), "exited");
    assert_string_equal(instance_state_name(INSTANCE_STATE_LAST), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domain_xml_is_escaped),
        cmocka_unit_test(domain_xml_has_devices),
        cmocka_unit_test(ports_in_qemu_commandline),
        cmocka_unit_test(tcg_limits_translation_cache),
        cmocka_unit_test(libvirt_network_mode),
        cmocka_unit_test(metadata_round_trip),
        cmocka_unit_test(metadata_missing_rejected),
        cmocka_unit_test(invalid_text_rejected),
        cmocka_unit_test(spec_validation),
        cmocka_unit_test(names_validated),
        cmocka_unit_test(runcfg_carries_values_unchanged),
        cmocka_unit_test(runcfg_keeps_script_before_args),
        cmocka_unit_test(exit_line_parsed),
        cmocka_unit_test(states_mapped),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
