/*
 * Test application for tests/integration/init.sh. The image contains this one
 * static binary under several names, and the name it runs as (argv[0]) selects
 * the behaviour:
 *   exit3     prints a greeting and exits with status 3
 *   abort     kills itself with SIGABRT
 *   info      prints its arguments and environment hex-encoded, its working
 *             directory, parent pid, hostname, name servers, eth0 address, and
 *             reads /data/in.txt and writes /data/out.txt when /data exists
 *   httpd     serves "kiln-http-ok" on port 80 until SIGTERM, then prints goodbye
 *   stubborn  ignores SIGTERM and waits forever
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

static void print_hex(const char *label, const char *s)
{
    printf("%s ", label);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        printf("%02x", *p);
    printf("\n");
}

static int run_info(int argc, char **argv)
{
    char buf[4096], label[32];
    struct ifaddrs *ifa, *i;
    FILE *f;

    printf("ARGC %d\n", argc);
    for (int n = 0; n < argc; n++) {
        snprintf(label, sizeof label, "ARG%d", n);
        print_hex(label, argv[n]);
    }
    for (char **e = environ; *e; e++)
        print_hex("ENV", *e);
    if (getcwd(buf, sizeof buf))
        printf("CWD %s\n", buf);
    printf("PPID %d\n", (int)getppid());
    if (gethostname(buf, sizeof buf) == 0)
        printf("HOSTNAME %s\n", buf);
    if ((f = fopen("/etc/resolv.conf", "r")) != NULL) {
        while (fgets(buf, sizeof buf, f))
            printf("RESOLV %s", buf);
        fclose(f);
    }
    if (getifaddrs(&ifa) == 0) {
        for (i = ifa; i; i = i->ifa_next) {
            if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf);
                printf("ADDR %s %s\n", i->ifa_name, buf);
            }
        }
        freeifaddrs(ifa);
    }
    if ((f = fopen("/data/in.txt", "r")) != NULL) {
        if (fgets(buf, sizeof buf, f))
            printf("VOLUME-READ %s", buf);
        fclose(f);
        f = fopen("/data/out.txt", "w");
        if (f && fputs("written by the guest\n", f) >= 0 && fclose(f) == 0)
            printf("VOLUME-WRITE ok\n");
        else
            printf("VOLUME-WRITE failed: %s\n", strerror(errno));
    }
    return 0;
}

static volatile sig_atomic_t terminated;

static void on_term(int sig)
{
    (void)sig;
    terminated = 1;
}

static int run_httpd(void)
{
    static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
                                "Connection: close\r\n\r\nkiln-http-ok\n";
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(80) };
    struct sigaction sa = { .sa_handler = on_term }; /* no SA_RESTART: accept returns EINTR */
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    sigaction(SIGTERM, &sa, NULL);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 8) < 0) {
        printf("httpd: cannot listen on port 80: %s\n", strerror(errno));
        return 1;
    }
    printf("LISTENING\n");
    fflush(stdout);
    while (!terminated) {
        char request[2048];
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        ssize_t n = read(c, request, sizeof request);
        if (n > 0 && write(c, reply, sizeof reply - 1) < 0)
            printf("httpd: write failed: %s\n", strerror(errno));
        close(c);
        printf("SERVED\n");
        fflush(stdout);
    }
    printf("goodbye after SIGTERM\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(name, "exit3") == 0) {
        printf("hello from exit3\n");
        return 3;
    }
    if (strcmp(name, "abort") == 0) {
        printf("about to abort\n");
        fflush(stdout);
        abort();
    }
    if (strcmp(name, "info") == 0)
        return run_info(argc, argv);
    if (strcmp(name, "httpd") == 0)
        return run_httpd();
    if (strcmp(name, "stubborn") == 0) {
        signal(SIGTERM, SIG_IGN);
        printf("ignoring SIGTERM\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    printf("testapp: unknown name %s\n", name);
    return 2;
}
