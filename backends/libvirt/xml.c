/* The domain XML kiln defines (libxml2 writer), kiln's metadata in it, and the per-run settings. */
#include "backends/libvirt/lv.h"

#include <arpa/inet.h>
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Guest PCI slot of the user-mode NIC; libvirt fills pcie.0 from slot 1 upwards with root ports. */
#define USER_NIC_ADDR "0x9"
#define TCG_TB_CACHE_MIB "32"

#define W(call)                \
    do {                       \
        if ((call) < 0)        \
            goto cleanup;      \
    } while (0)

typedef const xmlChar *xs;

/* Set when a value was rejected by text_check, so the generic writer message is not used. */
static _Thread_local bool text_rejected;

/* Rejects values XML cannot carry: invalid UTF-8 and control characters other than tab and newline. */
static int text_check(const char *field, const char *value)
{
    if (!xmlCheckUTF8((xs)value))
        goto invalid;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            goto invalid;
    return 0;

invalid:
    err_set("invalid %s '%s': it must be UTF-8 text without control characters", field, value);
    text_rejected = true;
    return -1;
}

bool lv_name_valid(const char *name)
{
    size_t len;

    if (!name || !*name)
        return false;
    len = strlen(name);
    if (len > LV_NAME_MAX || strstr(name, ".."))
        return false;
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= '0' && name[0] <= '9')))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

void lv_disk_target(size_t index, char *buf, size_t size)
{
    snprintf(buf, size, "vd%c", (char)('a' + (index % LV_MAX_VOLUMES)));
}

static int port_validate(const struct port_map *p)
{
    struct in_addr addr;

    if (inet_pton(AF_INET, p->host_ip, &addr) != 1) {
        err_set("invalid host address '%s' in port mapping %d:%d; use an IPv4 address such as 127.0.0.1",
                p->host_ip, p->host_port, p->guest_port);
        return -1;
    }
    if (p->host_port < 1 || p->host_port > 65535 || p->guest_port < 1 || p->guest_port > 65535) {
        err_set("invalid port mapping %d:%d; ports are 1 to 65535", p->host_port, p->guest_port);
        return -1;
    }
    if (strcmp(p->proto, "tcp") != 0 && strcmp(p->proto, "udp") != 0) {
        err_set("invalid protocol '%s' in port mapping %d:%d; use tcp or udp",
                p->proto, p->host_port, p->guest_port);
        return -1;
    }
    return 0;
}

static int volume_validate(const struct volume_mount *v)
{
    if (!v->file || v->file[0] != '/') {
        err_set("volume %s has no absolute host file; create it with kiln volume create",
                v->volume ? v->volume : "(unnamed)");
        return -1;
    }
    if (!v->path || v->path[0] != '/' || strchr(v->path, ':') || strchr(v->path, '\n')) {
        err_set("invalid mount point '%s' for volume %s; use an absolute path without ':'",
                v->path ? v->path : "", v->volume ? v->volume : v->file);
        return -1;
    }
    return 0;
}

/* Checks the parts of SPEC that end up in the XML or the settings file. */
int lv_spec_validate(const struct run_spec *spec)
{
    if (!lv_name_valid(spec->name)) {
        err_set("invalid instance name '%s'; use letters, digits, '_', '.' and '-', "
                "starting with a letter or digit, at most %d characters",
                spec->name ? spec->name : "", LV_NAME_MAX);
        err_set_usage();
        return -1;
    }
    for (size_t i = 0; i < spec->n_ports; i++)
        if (port_validate(&spec->ports[i]) < 0)
            goto usage;
    if (spec->n_ports > 0 && spec->network) {
        err_set("publishing ports (-p) needs kiln's user-mode networking; drop --network %s or the -p options",
                spec->network);
        goto usage;
    }
    if (spec->n_volumes > LV_MAX_VOLUMES) {
        err_set("too many volumes (%zu) for instance %s; at most %d", spec->n_volumes, spec->name,
                LV_MAX_VOLUMES);
        goto usage;
    }
    for (size_t i = 0; i < spec->n_volumes; i++)
        if (volume_validate(&spec->volumes[i]) < 0)
            goto usage;
    for (size_t i = 0; spec->env && i < spec->env->len; i++) {
        const char *eq = strchr(spec->env->items[i], '=');

        if (!eq || eq == spec->env->items[i]) {
            err_set("invalid environment variable '%s'; use KEY=VALUE", spec->env->items[i]);
            goto usage;
        }
    }
    return 0;

usage:
    err_set_usage();
    return -1;
}

int lv_runcfg_build(const struct run_spec *spec, struct runcfg *out)
{
    char target[8];

    if (lv_spec_validate(spec) < 0)
        return -1;
    runcfg_init(out);
    /* Per-run arguments replace the image's cmd only: the entrypoint's fixed
     * arguments (an interpreter's script) come first, as docker keeps ENTRYPOINT. */
    if (spec->args && spec->args->len > 0)
        for (size_t i = 1; i < spec->image->entrypoint.len; i++)
            runcfg_add(out, "arg", spec->image->entrypoint.items[i]);
    for (size_t i = 0; spec->args && i < spec->args->len; i++)
        runcfg_add(out, "arg", spec->args->items[i]);
    for (size_t i = 0; spec->env && i < spec->env->len; i++)
        runcfg_add(out, "env", spec->env->items[i]);
    if (!spec->network)
        runcfg_add(out, "net", "user");
    else if (strcmp(spec->network, "none") == 0)
        runcfg_add(out, "net", "none");
    else
        runcfg_add(out, "net", "dhcp");
    for (size_t i = 0; i < spec->n_volumes; i++) {
        const struct volume_mount *v = &spec->volumes[i];
        char *mount;

        lv_disk_target(i, target, sizeof(target));
        mount = xasprintf("/dev/%s:%s:%s", target, v->path, v->readonly ? "ro" : "rw");
        runcfg_add(out, "mount", mount);
        free(mount);
    }
    runcfg_add(out, "hostname", spec->name);
    return 0;
}

/* ---- writing ---- */

static int write_elem(xmlTextWriterPtr w, const char *name, const char *text)
{
    if (text_check(name, text) < 0)
        return -1;
    return xmlTextWriterWriteElement(w, (xs)name, (xs)text);
}

static int write_kiln_elem(xmlTextWriterPtr w, xs prefix, const char *name, const char *text)
{
    if (text_check(name, text) < 0)
        return -1;
    return xmlTextWriterWriteElementNS(w, prefix, (xs)name, NULL, (xs)text);
}

static int write_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
    if (text_check(name, value) < 0)
        return -1;
    return xmlTextWriterWriteAttribute(w, (xs)name, (xs)value);
}

static int write_attr_int(xmlTextWriterPtr w, const char *name, long long value)
{
    return xmlTextWriterWriteFormatAttribute(w, (xs)name, "%lld", value);
}

static int write_time(xmlTextWriterPtr w, xs prefix, const char *name, long long epoch)
{
    char buf[32];

    if (epoch <= 0)
        return 0;
    return write_kiln_elem(w, prefix, name, time_rfc3339(epoch, buf, sizeof(buf)));
}

/*
 * Writes <kiln:instance> with its namespace declaration when NAMESPACED, else a
 * plain <instance>: virDomainSetMetadata adds the namespace itself and fails
 * when the element already declares it.
 */
static int write_meta(xmlTextWriterPtr w, const struct lv_meta *m, bool namespaced)
{
    xs prefix = namespaced ? (xs)LV_META_PREFIX : NULL;
    int rc = -1;

    W(xmlTextWriterStartElementNS(w, prefix, (xs)"instance", namespaced ? (xs)LV_META_NS : NULL));
    if (m->image)
        W(write_kiln_elem(w, prefix, "image", m->image));
    if (m->digest)
        W(write_kiln_elem(w, prefix, "digest", m->digest));
    W(write_time(w, prefix, "created", m->created));
    W(write_time(w, prefix, "started", m->started));
    W(write_time(w, prefix, "finished", m->finished));
    W(write_kiln_elem(w, prefix, "auto-remove", m->auto_remove ? "true" : "false"));
    if (m->log_path) {
        W(xmlTextWriterStartElementNS(w, prefix, (xs)"log", NULL));
        W(write_attr_int(w, "offset", m->log_offset));
        W(text_check("log path", m->log_path));
        W(xmlTextWriterWriteString(w, (xs)m->log_path));
        W(xmlTextWriterEndElement(w));
    }
    for (size_t i = 0; i < m->n_ports; i++) {
        const struct port_map *p = &m->ports[i];

        W(xmlTextWriterStartElementNS(w, prefix, (xs)"port", NULL));
        W(write_attr(w, "host-ip", p->host_ip));
        W(write_attr_int(w, "host", p->host_port));
        W(write_attr_int(w, "guest", p->guest_port));
        W(write_attr(w, "proto", p->proto));
        W(xmlTextWriterEndElement(w));
    }
    for (size_t i = 0; i < m->n_volumes; i++) {
        const struct volume_mount *v = &m->volumes[i];

        W(xmlTextWriterStartElementNS(w, prefix, (xs)"volume", NULL));
        if (v->volume)
            W(write_attr(w, "name", v->volume));
        W(write_attr(w, "file", v->file ? v->file : ""));
        W(write_attr(w, "path", v->path ? v->path : ""));
        W(write_attr(w, "readonly", v->readonly ? "true" : "false"));
        W(xmlTextWriterEndElement(w));
    }
    W(xmlTextWriterEndElement(w));
    rc = 0;

cleanup:
    return rc;
}

static int write_os(xmlTextWriterPtr w, const struct lv_domain_def *def)
{
    int rc = -1;

    W(xmlTextWriterStartElement(w, (xs)"os"));
    W(xmlTextWriterStartElement(w, (xs)"type"));
    W(write_attr(w, "arch", "x86_64"));
    W(write_attr(w, "machine", "q35"));
    W(xmlTextWriterWriteString(w, (xs)"hvm"));
    W(xmlTextWriterEndElement(w));
    W(write_elem(w, "kernel", def->kernel));
    W(write_elem(w, "initrd", def->initrd));
    W(write_elem(w, "cmdline", def->cmdline ? def->cmdline : "console=ttyS0"));
    W(xmlTextWriterEndElement(w));

    W(xmlTextWriterStartElement(w, (xs)"features"));
    W(xmlTextWriterWriteElement(w, (xs)"acpi", NULL));
    if (def->tcg) {
        /* libvirt >= 9.0 turns this into -accel tcg,tb-size=32 (QEMU's default is 1 GiB). */
        W(xmlTextWriterStartElement(w, (xs)"tcg"));
        W(xmlTextWriterStartElement(w, (xs)"tb-cache"));
        W(write_attr(w, "unit", "MiB"));
        W(xmlTextWriterWriteString(w, (xs)TCG_TB_CACHE_MIB));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterEndElement(w));
    }
    W(xmlTextWriterEndElement(w));
    rc = 0;

cleanup:
    return rc;
}

static int write_disks(xmlTextWriterPtr w, const struct run_spec *spec)
{
    char target[8];
    int rc = -1;

    for (size_t i = 0; i < spec->n_volumes; i++) {
        const struct volume_mount *v = &spec->volumes[i];

        lv_disk_target(i, target, sizeof(target));
        W(xmlTextWriterStartElement(w, (xs)"disk"));
        W(write_attr(w, "type", "file"));
        W(write_attr(w, "device", "disk"));
        W(xmlTextWriterStartElement(w, (xs)"driver"));
        W(write_attr(w, "name", "qemu"));
        W(write_attr(w, "type", "raw"));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterStartElement(w, (xs)"source"));
        W(write_attr(w, "file", v->file));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterStartElement(w, (xs)"target"));
        W(write_attr(w, "dev", target));
        W(write_attr(w, "bus", "virtio"));
        W(xmlTextWriterEndElement(w));
        if (v->readonly)
            W(xmlTextWriterWriteElement(w, (xs)"readonly", NULL));
        W(xmlTextWriterEndElement(w));
    }
    rc = 0;

cleanup:
    return rc;
}

static int write_devices(xmlTextWriterPtr w, const struct lv_domain_def *def)
{
    const struct run_spec *spec = def->spec;
    int rc = -1;

    W(xmlTextWriterStartElement(w, (xs)"devices"));
    W(write_disks(w, spec));
    if (spec->network && strcmp(spec->network, "none") != 0) {
        W(xmlTextWriterStartElement(w, (xs)"interface"));
        W(write_attr(w, "type", "network"));
        W(xmlTextWriterStartElement(w, (xs)"source"));
        W(write_attr(w, "network", spec->network));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterStartElement(w, (xs)"model"));
        W(write_attr(w, "type", "virtio"));
        W(xmlTextWriterEndElement(w));
        W(xmlTextWriterEndElement(w));
    }

    W(xmlTextWriterStartElement(w, (xs)"serial"));
    W(write_attr(w, "type", "pty"));
    if (def->meta->log_path) {
        W(xmlTextWriterStartElement(w, (xs)"log"));
        W(write_attr(w, "file", def->meta->log_path));
        W(write_attr(w, "append", "on"));
        W(xmlTextWriterEndElement(w));
    }
    W(xmlTextWriterStartElement(w, (xs)"target"));
    W(write_attr(w, "port", "0"));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));

    W(xmlTextWriterStartElement(w, (xs)"console"));
    W(write_attr(w, "type", "pty"));
    W(xmlTextWriterStartElement(w, (xs)"target"));
    W(write_attr(w, "type", "serial"));
    W(write_attr(w, "port", "0"));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));

    /* Without this libvirt adds a USB controller to q35 machines. */
    W(xmlTextWriterStartElement(w, (xs)"controller"));
    W(write_attr(w, "type", "usb"));
    W(write_attr(w, "model", "none"));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterStartElement(w, (xs)"memballoon"));
    W(write_attr(w, "model", "none"));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));
    rc = 0;

cleanup:
    return rc;
}

static int write_qemu_arg(xmlTextWriterPtr w, const char *value)
{
    int rc = -1;

    W(xmlTextWriterStartElementNS(w, (xs)"qemu", (xs)"arg", NULL));
    W(write_attr(w, "value", value));
    W(xmlTextWriterEndElement(w));
    rc = 0;

cleanup:
    return rc;
}

/* Builds the -netdev value of QEMU's user-mode network with one hostfwd per published port. */
static char *user_netdev(const struct run_spec *spec)
{
    char *netdev = xstrdup("user,id=kiln0");

    for (size_t i = 0; i < spec->n_ports; i++) {
        const struct port_map *p = &spec->ports[i];
        char *next = xasprintf("%s,hostfwd=%s:%s:%d-:%d", netdev, p->proto, p->host_ip,
                               p->host_port, p->guest_port);

        free(netdev);
        netdev = next;
    }
    return netdev;
}

static int write_qemu_commandline(xmlTextWriterPtr w, const struct run_spec *spec)
{
    char *netdev = NULL;
    int rc = -1;

    if (spec->network)
        return 0;
    netdev = user_netdev(spec);
    W(xmlTextWriterStartElementNS(w, (xs)"qemu", (xs)"commandline", NULL));
    W(write_qemu_arg(w, "-netdev"));
    W(write_qemu_arg(w, netdev));
    W(write_qemu_arg(w, "-device"));
    /* q35 needs an explicit bus and slot for a device libvirt does not manage. */
    W(write_qemu_arg(w, "virtio-net-pci,netdev=kiln0,bus=pcie.0,addr=" USER_NIC_ADDR));
    W(xmlTextWriterEndElement(w));
    rc = 0;

cleanup:
    free(netdev);
    return rc;
}

static int write_domain(xmlTextWriterPtr w, const struct lv_domain_def *def)
{
    const struct run_spec *spec = def->spec;
    int rc = -1;

    W(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
    W(xmlTextWriterStartElement(w, (xs)"domain"));
    W(write_attr(w, "type", def->domain_type));
    W(xmlTextWriterWriteAttributeNS(w, (xs)"xmlns", (xs)"qemu", NULL, (xs)LV_QEMU_NS));
    W(write_elem(w, "name", spec->name));

    W(xmlTextWriterStartElement(w, (xs)"metadata"));
    W(write_meta(w, def->meta, true));
    W(xmlTextWriterEndElement(w));

    W(xmlTextWriterStartElement(w, (xs)"memory"));
    W(write_attr(w, "unit", "MiB"));
    W(xmlTextWriterWriteFormatString(w, "%lld", spec->memory_mib));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterWriteFormatElement(w, (xs)"vcpu", "%d", spec->cpus));

    W(xmlTextWriterStartElement(w, (xs)"sysinfo"));
    W(write_attr(w, "type", "fwcfg"));
    W(xmlTextWriterStartElement(w, (xs)"entry"));
    W(write_attr(w, "name", RUNCFG_FWCFG_NAME));
    W(write_attr(w, "file", def->config_path));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));

    W(write_os(w, def));
    W(xmlTextWriterStartElement(w, (xs)"clock"));
    W(write_attr(w, "offset", "utc"));
    W(xmlTextWriterEndElement(w));
    W(write_elem(w, "on_poweroff", "destroy"));
    W(write_elem(w, "on_reboot", "destroy"));
    W(write_elem(w, "on_crash", "destroy"));
    W(write_devices(w, def));
    W(write_qemu_commandline(w, spec));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndDocument(w));
    rc = 0;

cleanup:
    return rc;
}

/* Runs WRITE on a fresh memory writer and returns the text, or NULL with the error record set. */
static char *write_to_string(int (*write)(xmlTextWriterPtr, const void *), const void *arg, const char *what)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = NULL;
    char *out = NULL;

    text_rejected = false;
    if (!buf)
        goto cleanup;
    w = xmlNewTextWriterMemory(buf, 0);
    if (!w)
        goto cleanup;
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, (xs)"  ");
    if (write(w, arg) < 0 || xmlTextWriterFlush(w) < 0)
        goto cleanup;
    out = xstrdup((const char *)xmlBufferContent(buf));

cleanup:
    if (!out && !text_rejected)
        err_set("cannot write the %s XML: the libxml2 writer failed", what);
    if (w)
        xmlFreeTextWriter(w);
    if (buf)
        xmlBufferFree(buf);
    return out;
}

static int write_domain_cb(xmlTextWriterPtr w, const void *arg)
{
    return write_domain(w, arg);
}

static int write_meta_cb(xmlTextWriterPtr w, const void *arg)
{
    return write_meta(w, arg, false);
}

char *lv_xml_domain(const struct lv_domain_def *def)
{
    if (lv_spec_validate(def->spec) < 0)
        return NULL;
    return write_to_string(write_domain_cb, def, "domain");
}

char *lv_xml_metadata(const struct lv_meta *meta)
{
    return write_to_string(write_meta_cb, meta, "metadata");
}

/* ---- reading ---- */

static char *node_text(xmlNodePtr node)
{
    xmlChar *s = xmlNodeGetContent(node);
    char *out = xstrdup(s ? (const char *)s : "");

    xmlFree(s);
    return out;
}

static char *node_attr(xmlNodePtr node, const char *name)
{
    xmlChar *s = xmlGetNoNsProp(node, (xs)name);
    char *out = s ? xstrdup((const char *)s) : NULL;

    xmlFree(s);
    return out;
}

static long long node_attr_ll(xmlNodePtr node, const char *name)
{
    char *s = node_attr(node, name);
    long long v = s ? strtoll(s, NULL, 10) : 0;

    free(s);
    return v;
}

static bool node_attr_true(xmlNodePtr node, const char *name)
{
    char *s = node_attr(node, name);
    bool v = s && strcmp(s, "true") == 0;

    free(s);
    return v;
}

static void parse_port(xmlNodePtr node, struct lv_meta *m)
{
    struct port_map *p;
    char *ip = node_attr(node, "host-ip"), *proto = node_attr(node, "proto");

    m->ports = xrealloc(m->ports, (m->n_ports + 1) * sizeof(*m->ports));
    p = &m->ports[m->n_ports++];
    memset(p, 0, sizeof(*p));
    snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip ? ip : "127.0.0.1");
    snprintf(p->proto, sizeof(p->proto), "%s", proto ? proto : "tcp");
    p->host_port = (int)node_attr_ll(node, "host");
    p->guest_port = (int)node_attr_ll(node, "guest");
    free(ip);
    free(proto);
}

static void parse_volume(xmlNodePtr node, struct lv_meta *m)
{
    struct volume_mount *v;

    m->volumes = xrealloc(m->volumes, (m->n_volumes + 1) * sizeof(*m->volumes));
    v = &m->volumes[m->n_volumes++];
    v->volume = node_attr(node, "name");
    v->file = node_attr(node, "file");
    v->path = node_attr(node, "path");
    v->readonly = node_attr_true(node, "readonly");
}

static long long parse_time(xmlNodePtr node)
{
    char *s = node_text(node);
    long long t = time_parse_rfc3339(s);

    free(s);
    return t > 0 ? t : 0;
}

static void parse_meta_child(xmlNodePtr c, struct lv_meta *m)
{
    const char *name = (const char *)c->name;

    if (strcmp(name, "image") == 0) {
        free(m->image);
        m->image = node_text(c);
    } else if (strcmp(name, "digest") == 0) {
        free(m->digest);
        m->digest = node_text(c);
    } else if (strcmp(name, "created") == 0) {
        m->created = parse_time(c);
    } else if (strcmp(name, "started") == 0) {
        m->started = parse_time(c);
    } else if (strcmp(name, "finished") == 0) {
        m->finished = parse_time(c);
    } else if (strcmp(name, "auto-remove") == 0) {
        char *s = node_text(c);

        m->auto_remove = strcmp(s, "true") == 0;
        free(s);
    } else if (strcmp(name, "log") == 0) {
        free(m->log_path);
        m->log_path = node_text(c);
        m->log_offset = node_attr_ll(c, "offset");
    } else if (strcmp(name, "port") == 0) {
        parse_port(c, m);
    } else if (strcmp(name, "volume") == 0) {
        parse_volume(c, m);
    }
}

int lv_xml_metadata_parse(const char *xml, struct lv_meta *meta)
{
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr ctx = NULL;
    xmlXPathObjectPtr found = NULL;
    xmlNodePtr inst;
    int rc = -1;

    memset(meta, 0, sizeof(*meta));
    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        err_set("cannot parse the domain XML from libvirt");
        goto cleanup;
    }
    ctx = xmlXPathNewContext(doc);
    if (!ctx || xmlXPathRegisterNs(ctx, (xs)LV_META_PREFIX, (xs)LV_META_NS) < 0)
        goto cleanup;
    found = xmlXPathEvalExpression((xs) "//" LV_META_PREFIX ":instance", ctx);
    if (found && found->nodesetval && found->nodesetval->nodeNr > 0) {
        inst = found->nodesetval->nodeTab[0];
    } else {
        /* virDomainGetMetadata returns the element with its namespace removed. */
        inst = xmlDocGetRootElement(doc);
        if (!inst || inst->ns || !xmlStrEqual(inst->name, (xs) "instance")) {
            err_set("the domain has no kiln metadata");
            goto cleanup;
        }
    }
    for (xmlNodePtr c = inst->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && (!c->ns || xmlStrEqual(c->ns->href, (xs)LV_META_NS)))
            parse_meta_child(c, meta);
    rc = 0;

cleanup:
    if (found)
        xmlXPathFreeObject(found);
    if (ctx)
        xmlXPathFreeContext(ctx);
    if (doc)
        xmlFreeDoc(doc);
    if (rc < 0)
        lv_meta_free(meta);
    return rc;
}

void lv_meta_free(struct lv_meta *meta)
{
    free(meta->image);
    free(meta->digest);
    free(meta->log_path);
    free(meta->ports);
    for (size_t i = 0; i < meta->n_volumes; i++) {
        free(meta->volumes[i].volume);
        free(meta->volumes[i].file);
        free(meta->volumes[i].path);
    }
    free(meta->volumes);
    memset(meta, 0, sizeof(*meta));
}

static int write_probe_domain(xmlTextWriterPtr w, const void *arg)
{
    const char *const *v = arg; /* name, kernel, log path */
    int rc = -1;

    W(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
    W(xmlTextWriterStartElement(w, (xs)"domain"));
    W(write_attr(w, "type", "kvm"));
    W(write_elem(w, "name", v[0]));
    W(xmlTextWriterStartElement(w, (xs)"memory"));
    W(write_attr(w, "unit", "MiB"));
    W(xmlTextWriterWriteString(w, (xs)"128"));
    W(xmlTextWriterEndElement(w));
    W(write_elem(w, "vcpu", "1"));
    W(xmlTextWriterStartElement(w, (xs)"os"));
    W(xmlTextWriterStartElement(w, (xs)"type"));
    W(write_attr(w, "arch", "x86_64"));
    W(write_attr(w, "machine", "q35"));
    W(xmlTextWriterWriteString(w, (xs)"hvm"));
    W(xmlTextWriterEndElement(w));
    W(write_elem(w, "kernel", v[1]));
    W(write_elem(w, "cmdline", "console=ttyS0 panic=-1"));
    W(xmlTextWriterEndElement(w));
    W(write_elem(w, "on_poweroff", "destroy"));
    W(write_elem(w, "on_reboot", "destroy"));
    W(write_elem(w, "on_crash", "destroy"));
    W(xmlTextWriterStartElement(w, (xs)"devices"));
    W(xmlTextWriterStartElement(w, (xs)"serial"));
    W(write_attr(w, "type", "pty"));
    W(xmlTextWriterStartElement(w, (xs)"log"));
    W(write_attr(w, "file", v[2]));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterStartElement(w, (xs)"memballoon"));
    W(write_attr(w, "model", "none"));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndDocument(w));
    rc = 0;

cleanup:
    return rc;
}

char *lv_xml_probe_domain(const char *name, const char *kernel, const char *log_path)
{
    const char *v[3] = {name, kernel, log_path};

    return write_to_string(write_probe_domain, v, "probe domain");
}
