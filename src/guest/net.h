/*
 * Guest networking: the loopback interface, the static QEMU user-mode
 * configuration and a minimal DHCP client, all through ioctl(2) and a packet
 * socket. Included once by init.c.
 */
#ifndef KILN_GUEST_NET_H
#define KILN_GUEST_NET_H

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "guest.h"

#define NET_IFNAME "eth0"
/* How long to wait for virtio_net to register eth0. */
#define NET_WAIT_MS 3000
#define DHCP_TIMEOUT_MS 5000
#define DHCP_RETRY_MS 1000
#define DHCP_MAX_DNS 3

/* An IPv4 configuration to apply to one interface; 0 means "not given". */
struct net_config {
    in_addr_t addr;
    in_addr_t mask;
    in_addr_t router;
    in_addr_t dns[DHCP_MAX_DNS];
    size_t dns_count;
};

static void net_ifreq_init(struct ifreq *ifr, const char *ifname)
{
    memset(ifr, 0, sizeof *ifr);
    snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", ifname);
}

/* Runs an address ioctl (SIOCSIFADDR, SIOCSIFNETMASK) with an IPv4 address. */
static int net_ioctl_addr(int sock, unsigned long request, const char *ifname, in_addr_t addr)
{
    struct ifreq ifr;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

    net_ifreq_init(&ifr, ifname);
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    return ioctl(sock, request, &ifr);
}

static int net_link_up(int sock, const char *ifname)
{
    struct ifreq ifr;

    net_ifreq_init(&ifr, ifname);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int net_add_default_route(int sock, const char *ifname, in_addr_t gateway)
{
    struct rtentry rt;
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = INADDR_ANY };
    struct sockaddr_in gw = { .sin_family = AF_INET, .sin_addr.s_addr = gateway };
    char dev[IFNAMSIZ];

    memset(&rt, 0, sizeof rt);
    snprintf(dev, sizeof dev, "%s", ifname);
    memcpy(&rt.rt_dst, &any, sizeof any);
    memcpy(&rt.rt_genmask, &any, sizeof any);
    memcpy(&rt.rt_gateway, &gw, sizeof gw);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = dev;
    if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static const char *net_ntoa(in_addr_t addr, char *buf)
{
    struct in_addr in = { .s_addr = addr };

    return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* Writes /etc/resolv.conf with CFG's name servers; the initramfs root is writable. */
static void net_write_resolv_conf(const struct net_config *cfg)
{
    char text[256] = "", addr[INET_ADDRSTRLEN];
    size_t used = 0;

    if (cfg->dns_count == 0)
        return;
    for (size_t i = 0; i < cfg->dns_count; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "nameserver %s\n", net_ntoa(cfg->dns[i], addr));
    /* A symlink copied from a host system (systemd-resolved) would point at a missing file. */
    struct stat st;
    if (lstat("/etc/resolv.conf", &st) == 0 && S_ISLNK(st.st_mode))
        unlink("/etc/resolv.conf");
    if (mkdir_p("/etc", 0755) < 0 || file_write("/etc/resolv.conf", text, 0644) < 0)
        log_error("cannot write /etc/resolv.conf: %s; name resolution will fail", strerror(errno));
}

/* Applies CFG to IFNAME: address, mask, link up, default route, DNS. */
static int net_apply(int sock, const char *ifname, const struct net_config *cfg)
{
    char addr[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN], router[INET_ADDRSTRLEN];

    if (net_ioctl_addr(sock, SIOCSIFADDR, ifname, cfg->addr) < 0 ||
        net_ioctl_addr(sock, SIOCSIFNETMASK, ifname, cfg->mask) < 0 || net_link_up(sock, ifname) < 0) {
        log_error("cannot configure %s with %s/%s: %s", ifname, net_ntoa(cfg->addr, addr),
                  net_ntoa(cfg->mask, mask), strerror(errno));
        return -1;
    }
    if (cfg->router && net_add_default_route(sock, ifname, cfg->router) < 0) {
        log_error("cannot add a default route via %s on %s: %s", net_ntoa(cfg->router, router), ifname,
                  strerror(errno));
        return -1;
    }
    net_write_resolv_conf(cfg);
    log_debug("%s: address %s netmask %s router %s, %zu name server(s)", ifname, net_ntoa(cfg->addr, addr),
              net_ntoa(cfg->mask, mask), cfg->router ? net_ntoa(cfg->router, router) : "none", cfg->dns_count);
    return 0;
}

/* The BOOTP message that carries DHCP (RFC 2131), options area sized for a 576-byte datagram. */
struct dhcp_message {
    uint8_t op, htype, hlen, hops;
    uint32_t xid;
    uint16_t secs, flags;
    uint32_t ciaddr, yiaddr, siaddr, giaddr;
    uint8_t chaddr[16];
    uint8_t sname[64];
    uint8_t file[128];
    uint32_t cookie;
    uint8_t options[308];
} __attribute__((packed));

/* An IPv4 datagram as sent and received on the packet socket (no Ethernet header). */
struct dhcp_datagram {
    struct iphdr ip;
    struct udphdr udp;
    struct dhcp_message msg;
} __attribute__((packed));

#define DHCP_COOKIE 0x63825363u
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

enum {
    DHCP_OPT_PAD = 0,
    DHCP_OPT_SUBNET_MASK = 1,
    DHCP_OPT_ROUTER = 3,
    DHCP_OPT_DNS = 6,
    DHCP_OPT_REQUESTED_IP = 50,
    DHCP_OPT_MESSAGE_TYPE = 53,
    DHCP_OPT_SERVER_ID = 54,
    DHCP_OPT_PARAMS = 55,
    DHCP_OPT_CLIENT_ID = 61,
    DHCP_OPT_END = 255,
};

enum { DHCP_DISCOVER = 1, DHCP_OFFER = 2, DHCP_REQUEST = 3, DHCP_ACK = 5, DHCP_NAK = 6 };

/* The client side of one DHCP exchange on one interface. */
struct dhcp_client {
    int sock;
    int ifindex;
    uint8_t mac[6];
    uint32_t xid;
    in_addr_t offered;
    in_addr_t server;
};

static uint16_t ip_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

static uint8_t *dhcp_put_option(uint8_t *p, uint8_t code, const void *value, uint8_t len)
{
    *p++ = code;
    *p++ = len;
    memcpy(p, value, len);
    return p + len;
}

/* Broadcasts a DISCOVER or, after an offer, a REQUEST for the offered address. */
static int dhcp_send(struct dhcp_client *c, uint8_t type)
{
    static const uint8_t params[] = { DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS };
    struct dhcp_datagram d;
    struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                              .sll_ifindex = c->ifindex, .sll_halen = 6 };
    uint8_t client_id[7] = { 1 }, *p;

    memset(&d, 0, sizeof d);
    d.msg.op = 1;
    d.msg.htype = 1;
    d.msg.hlen = 6;
    d.msg.xid = c->xid;
    d.msg.flags = htons(0x8000); /* ask for broadcast replies: the interface has no address yet */
    memcpy(d.msg.chaddr, c->mac, 6);
    d.msg.cookie = htonl(DHCP_COOKIE);

    p = d.msg.options;
    p = dhcp_put_option(p, DHCP_OPT_MESSAGE_TYPE, &type, 1);
    memcpy(client_id + 1, c->mac, 6);
    p = dhcp_put_option(p, DHCP_OPT_CLIENT_ID, client_id, sizeof client_id);
    if (type == DHCP_REQUEST) {
        p = dhcp_put_option(p, DHCP_OPT_REQUESTED_IP, &c->offered, 4);
        p = dhcp_put_option(p, DHCP_OPT_SERVER_ID, &c->server, 4);
    }
    p = dhcp_put_option(p, DHCP_OPT_PARAMS, params, sizeof params);
    *p = DHCP_OPT_END;

    d.udp.uh_sport = htons(DHCP_CLIENT_PORT);
    d.udp.uh_dport = htons(DHCP_SERVER_PORT);
    d.udp.uh_ulen = htons(sizeof d.udp + sizeof d.msg);
    d.udp.uh_sum = 0; /* optional for UDP over IPv4 */
    d.ip.version = 4;
    d.ip.ihl = 5;
    d.ip.tot_len = htons(sizeof d);
    d.ip.ttl = 64;
    d.ip.protocol = IPPROTO_UDP;
    d.ip.saddr = INADDR_ANY;
    d.ip.daddr = INADDR_BROADCAST;
    d.ip.check = ip_checksum(&d.ip, sizeof d.ip);

    memset(to.sll_addr, 0xff, 6);
    if (sendto(c->sock, &d, sizeof d, 0, (struct sockaddr *)&to, sizeof to) < 0)
        return -1;
    return 0;
}

/* Finds option CODE in MSG's first OPTIONS_LEN option bytes; returns its length or -1. */
static int dhcp_find_option(const struct dhcp_message *msg, size_t options_len, uint8_t code, const uint8_t **value)
{
    size_t i = 0;

    while (i < options_len) {
        uint8_t opt = msg->options[i];
        if (opt == DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (opt == DHCP_OPT_END || i + 1 >= options_len)
            break;
        uint8_t len = msg->options[i + 1];
        if (i + 2 + len > options_len)
            break;
        if (opt == code) {
            *value = &msg->options[i + 2];
            return len;
        }
        i += 2 + (size_t)len;
    }
    return -1;
}

static in_addr_t dhcp_addr_option(const struct dhcp_message *msg, size_t options_len, uint8_t code)
{
    const uint8_t *value;
    in_addr_t addr = 0;

    if (dhcp_find_option(msg, options_len, code, &value) >= 4)
        memcpy(&addr, value, 4);
    return addr;
}

/*
 * Waits up to TIMEOUT_MS for a reply to this client; ignores other traffic.
 * Returns the DHCP message type with the message in *MSG, 0 on timeout, -1 on error.
 */
static int dhcp_receive(struct dhcp_client *c, long timeout_ms, struct dhcp_message *msg, size_t *options_len)
{
    long long deadline = now_ms() + timeout_ms;
    union {
        struct dhcp_datagram d;
        uint8_t raw[2048];
    } buf;

    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd pfd = { .fd = c->sock, .events = POLLIN };
        int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;

        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return ready;
        ssize_t n = recv(c->sock, &buf, sizeof buf, 0);
        if (n < 0)
            return errno == EINTR || errno == EAGAIN ? 0 : -1;

        size_t ip_len = (size_t)buf.d.ip.ihl * 4;
        size_t fixed = offsetof(struct dhcp_message, options);
        if ((size_t)n < sizeof buf.d.ip || buf.d.ip.version != 4 || buf.d.ip.protocol != IPPROTO_UDP ||
            ip_len < sizeof buf.d.ip || (size_t)n < ip_len + sizeof(struct udphdr) + fixed)
            continue;
        const struct udphdr *udp = (const void *)(buf.raw + ip_len);
        if (udp->uh_dport != htons(DHCP_CLIENT_PORT))
            continue;
        size_t msg_len = (size_t)n - ip_len - sizeof *udp;
        if (msg_len > sizeof *msg)
            msg_len = sizeof *msg;
        memset(msg, 0, sizeof *msg);
        memcpy(msg, buf.raw + ip_len + sizeof *udp, msg_len);
        if (msg->op != 2 || msg->xid != c->xid || memcmp(msg->chaddr, c->mac, 6) != 0 ||
            msg->cookie != htonl(DHCP_COOKIE))
            continue;
        *options_len = msg_len - fixed;

        const uint8_t *type;
        if (dhcp_find_option(msg, *options_len, DHCP_OPT_MESSAGE_TYPE, &type) == 1)
            return type[0];
    }
}

static int dhcp_open(struct dhcp_client *c, const char *ifname)
{
    struct ifreq ifr;
    struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };

    c->sock = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
    if (c->sock < 0)
        return -1;
    net_ifreq_init(&ifr, ifname);
    if (ioctl(c->sock, SIOCGIFHWADDR, &ifr) < 0)
        return -1;
    memcpy(c->mac, ifr.ifr_hwaddr.sa_data, 6);
    c->ifindex = (int)if_nametoindex(ifname);
    addr.sll_ifindex = c->ifindex;
    if (c->ifindex == 0 || bind(c->sock, (struct sockaddr *)&addr, sizeof addr) < 0)
        return -1;
    /* Only needs to differ between clients on one link; early boot has little entropy. */
    c->xid = (uint32_t)now_ms() ^ (uint32_t)c->mac[2] << 24 ^ (uint32_t)c->mac[3] << 16 ^
             (uint32_t)c->mac[4] << 8 ^ c->mac[5];
    return 0;
}

/*
 * Gets a lease for IFNAME (which must be up): DISCOVER, OFFER, REQUEST, ACK,
 * retrying each second for DHCP_TIMEOUT_MS. Returns 0 with *CFG filled, or -1.
 * NOTE: the lease is never renewed; QEMU user-mode leases last a day.
 */
static int dhcp_lease(const char *ifname, struct net_config *cfg)
{
    struct dhcp_client c = { .sock = -1 };
    struct dhcp_message msg;
    size_t options_len;
    long long deadline = now_ms() + DHCP_TIMEOUT_MS;
    uint8_t state = DHCP_DISCOVER;
    int result = -1;

    if (dhcp_open(&c, ifname) < 0) {
        log_error("DHCP on %s failed: cannot open a packet socket: %s", ifname, strerror(errno));
        goto cleanup;
    }
    while (now_ms() < deadline) {
        long window = (long)(deadline - now_ms());
        if (window > DHCP_RETRY_MS)
            window = DHCP_RETRY_MS;
        if (dhcp_send(&c, state) < 0) {
            log_error("DHCP on %s failed: cannot send: %s", ifname, strerror(errno));
            goto cleanup;
        }
        log_debug("DHCP %s sent on %s", state == DHCP_DISCOVER ? "DISCOVER" : "REQUEST", ifname);

        long long window_end = now_ms() + window;
        int type = 0;
        while (type == 0 && now_ms() < window_end) {
            type = dhcp_receive(&c, (long)(window_end - now_ms()), &msg, &options_len);
            if (type < 0) {
                log_error("DHCP on %s failed: cannot receive: %s", ifname, strerror(errno));
                goto cleanup;
            }
            if (state == DHCP_DISCOVER && type != DHCP_OFFER)
                type = 0;
            else if (state == DHCP_REQUEST && type != DHCP_ACK && type != DHCP_NAK)
                type = 0;
        }
        if (type == DHCP_OFFER) {
            c.offered = msg.yiaddr;
            c.server = dhcp_addr_option(&msg, options_len, DHCP_OPT_SERVER_ID);
            state = DHCP_REQUEST;
        } else if (type == DHCP_NAK) {
            state = DHCP_DISCOVER;
        } else if (type == DHCP_ACK) {
            memset(cfg, 0, sizeof *cfg);
            cfg->addr = msg.yiaddr;
            cfg->mask = dhcp_addr_option(&msg, options_len, DHCP_OPT_SUBNET_MASK);
            if (!cfg->mask)
                cfg->mask = htonl(0xffffff00u); /* NOTE: assumed /24 when the server sends no mask */
            cfg->router = dhcp_addr_option(&msg, options_len, DHCP_OPT_ROUTER);
            const uint8_t *dns;
            int dns_len = dhcp_find_option(&msg, options_len, DHCP_OPT_DNS, &dns);
            for (int i = 0; i + 4 <= dns_len && cfg->dns_count < DHCP_MAX_DNS; i += 4)
                memcpy(&cfg->dns[cfg->dns_count++], dns + i, 4);
            result = 0;
            goto cleanup;
        }
    }
    errno = ETIMEDOUT;
    log_error("DHCP on %s timed out after %d s without a lease; the application runs without network",
              ifname, DHCP_TIMEOUT_MS / 1000);

cleanup:
    if (c.sock >= 0)
        close(c.sock);
    return result;
}

/* Brings up lo and, for net=user or net=dhcp, eth0. Network problems are reported, not fatal. */
static void net_setup(const char *mode)
{
    struct net_config cfg = { 0 };
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (sock < 0) {
        log_error("cannot configure the network: socket: %s", strerror(errno));
        return;
    }
    if (net_ioctl_addr(sock, SIOCSIFADDR, "lo", htonl(INADDR_LOOPBACK)) < 0 ||
        net_ioctl_addr(sock, SIOCSIFNETMASK, "lo", htonl(0xff000000u)) < 0 || net_link_up(sock, "lo") < 0)
        log_error("cannot bring up lo with 127.0.0.1/8: %s", strerror(errno));
    else
        log_debug("lo: 127.0.0.1/8 up");

    if (!mode || strcmp(mode, "none") == 0)
        goto cleanup;
    long long start = now_ms();
    while (if_nametoindex(NET_IFNAME) == 0 && now_ms() - start < NET_WAIT_MS)
        sleep_ms(10);
    if (if_nametoindex(NET_IFNAME) == 0) {
        log_error("network interface %s did not appear within %d s; is virtio_net (and its dependencies) "
                  "listed as a module in the image? The application runs without network",
                  NET_IFNAME, NET_WAIT_MS / 1000);
        goto cleanup;
    }
    log_debug("%s appeared after %lld ms", NET_IFNAME, now_ms() - start);

    if (strcmp(mode, "user") == 0) {
        /* QEMU user-mode networking (slirp) defaults: guest .15, gateway .2, DNS .3. */
        inet_pton(AF_INET, "10.0.2.15", &cfg.addr);
        inet_pton(AF_INET, "255.255.255.0", &cfg.mask);
        inet_pton(AF_INET, "10.0.2.2", &cfg.router);
        inet_pton(AF_INET, "10.0.2.3", &cfg.dns[0]);
        cfg.dns_count = 1;
        net_apply(sock, NET_IFNAME, &cfg);
    } else {
        if (net_link_up(sock, NET_IFNAME) < 0) {
            log_error("cannot bring up %s: %s", NET_IFNAME, strerror(errno));
            goto cleanup;
        }
        if (dhcp_lease(NET_IFNAME, &cfg) == 0)
            net_apply(sock, NET_IFNAME, &cfg);
    }

cleanup:
    close(sock);
}

#endif
