/* Full-screen serial console: the terminal is handed to the guest until Ctrl-], then the dashboard is restored. */
#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ui/dash.h"

/* Ctrl-]: leaves the attached console, as telnet and virsh console do. */
#define DETACH_KEY 0x1d

/* Copies between the terminal and the console until Ctrl-] or the console closes; returns the reason it ended, NULL for Ctrl-]. */
static const char *attach_loop(struct dash *d, int fd)
{
    char buf[4096];

    for (;;) {
        struct pollfd fds[3] = {
            { STDIN_FILENO, POLLIN, 0 },
            { fd, POLLIN, 0 },
            { worker_fd(d->worker), POLLIN, 0 },
        };

        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return "poll failed";
        }
        if (fds[2].revents & POLLIN)
            dash_drain_messages(d);
        if (fds[0].revents & POLLIN) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0)
                return "the terminal closed";
            char *detach = memchr(buf, DETACH_KEY, (size_t)n);
            size_t len = detach ? (size_t)(detach - buf) : (size_t)n;
            if (len > 0 && fd_write_all(fd, buf, len) < 0)
                return "the console closed";
            if (detach)
                return NULL;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0)
                return "the console closed (the instance stopped?)";
            if (fd_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                return "the terminal closed";
        }
    }
}

/* Sends terminfo capability CAP (such as "smcup") when the terminal has it. */
static void put_capability(const char *cap)
{
    char *s = tigetstr(cap);

    if (s && s != (char *)-1)
        putp(s);
}

/*
 * Runs the console on the alternate screen the dashboard uses, cleared before
 * and after, so nothing it printed is left on the shell's normal screen.
 */
void console_attach(struct dash *d, int fd, const char *name)
{
    struct termios saved, raw;
    const char *reason;
    char banner[256];
    int n;

    d->attach_fd = fd;
    def_prog_mode();
    endwin();
    /* endwin left the alternate screen; go back to it, cleared, for the guest's output. */
    put_capability("smcup");
    put_capability("clear");
    fflush(stdout);
    n = snprintf(banner, sizeof(banner), "\r\n[kiln] console of %s; press Ctrl-] to return to the dashboard\r\n", name);
    fd_write_all(STDOUT_FILENO, banner, (size_t)n);

    tcgetattr(STDIN_FILENO, &saved);
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    reason = attach_loop(d, fd);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);

    close(fd);
    d->attach_fd = -1;
    put_capability("clear");
    fflush(stdout);
    reset_prog_mode();
    clearok(curscr, TRUE);
    if (reason)
        dash_status(d, ROLE_WARNING, "left the console of %s: %s", name, reason);
    else
        dash_status(d, ROLE_STATUS, "back from the console of %s", name);
    d->dirty = true;
}
