/*
 * A small HTTP/1.0 server that replies to every request with a short text page.
 * Listens on PORT (default 80), logs each request, and on SIGTERM prints a
 * goodbye line and exits 0, so a graceful stop can be seen in the logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static void answer(int fd, unsigned long count)
{
    char request[2048], body[256], head[256];
    ssize_t n = read(fd, request, sizeof(request) - 1);
    int len;

    if (n <= 0)
        return;
    request[n] = '\0';
    request[strcspn(request, "\r\n")] = '\0';
    printf("request %lu: %s\n", count, request);
    fflush(stdout);
    len = snprintf(body, sizeof(body), "Hello from kiln's HTTP example (request %lu)\n", count);
    snprintf(head, sizeof(head),
             "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len);
    if (write(fd, head, strlen(head)) < 0 || write(fd, body, (size_t)len) < 0)
        perror("write");
}

int main(void)
{
    const char *port_env = getenv("PORT");
    int port = port_env ? atoi(port_env) : 80, one = 1, server;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    struct sigaction sa = {.sa_handler = on_term};
    unsigned long count = 0;

    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    addr.sin_port = htons((unsigned short)port);
    server = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(server, 16) < 0) {
        perror("http-c: cannot listen");
        return 1;
    }
    printf("http-c listening on port %d\n", port);
    fflush(stdout);
    while (!stopping) {
        int fd = accept(server, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        answer(fd, ++count);
        close(fd);
    }
    printf("http-c: got SIGTERM after %lu requests, goodbye\n", count);
    fflush(stdout);
    return 0;
}
