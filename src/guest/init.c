/*
 * kiln-init: PID 1 inside every kiln image. Mounts the kernel filesystems,
 * loads the image's kernel modules, reads the image and per-run settings,
 * configures the network and volumes, starts the application and supervises
 * it, then reports how it ended and powers the VM off.
 *
 * When the application has ended, kiln-init prints one line on the console
 * (ttyS0) and powers off. The line is printed after the other processes are
 * killed and the volumes are unmounted and synced, so the host may destroy the
 * VM as soon as it reads it. If the application's output did not end with a
 * newline, the line follows that output on the same line.
 *
 *   KILN-EXIT code=N                              the application exited with status N
 *   KILN-EXIT signal=N                            the application was killed by signal N
 *   KILN-EXIT code=127 error=not-found            the entry does not exist
 *   KILN-EXIT code=127 error=missing-library      the entry's ELF interpreter (PT_INTERP) is missing
 *   KILN-EXIT code=127 error=missing-interpreter  the "#!" interpreter of a script entry is missing
 *   KILN-EXIT code=126 error=not-executable       no execute permission, not a file, or unknown format
 *   KILN-EXIT code=126 error=exec                 execve failed for another reason
 *   KILN-EXIT code=125 error=config               the settings are missing or invalid
 *   KILN-EXIT code=125 error=volume               a volume could not be mounted
 *   KILN-EXIT code=125 error=setup                anything else failed before the application ran
 *
 * Every error also prints a "kiln-init: ..." line before the KILN-EXIT line.
 * Nothing else is printed unless the kernel command line contains kiln.debug.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

#include "guest.h"
#include "settings.h"
#include "net.h"
#include "launch.h"

#define FWCFG_SETTINGS_PATH "/sys/firmware/qemu_fw_cfg/by_name/" RUNCFG_FWCFG_NAME "/raw"
#define VOLUME_WAIT_MS 2000
#define MAX_POWER_BUTTONS 8

/*
 * struct input_event, EV_KEY, KEY_POWER and EVIOCGBIT as in the kernel's uapi
 * linux/input.h and linux/input-event-codes.h: musl-gcc's include path has no
 * kernel headers. The layout is the one of 64-bit kernels (two longs of time).
 */
struct input_event_abi {
    long sec;
    long usec;
    uint16_t type;
    uint16_t code;
    int32_t value;
};
#define INPUT_EV_KEY 0x01
#define INPUT_KEY_POWER 116
#define INPUT_KEY_MAX 0x2ff
#define INPUT_EVIOCGBIT(ev, len) _IOC(_IOC_READ, 'E', 0x20 + (ev), len)

/* Volumes mounted so far, unmounted before powering off. */
static struct strlist mounted_volumes;

/* Kills every other process, unmounts the volumes, prints LINE and powers off. */
static void __attribute__((noreturn)) init_poweroff(const char *line)
{
    long long deadline;

    kill(-1, SIGKILL); /* from PID 1 this reaches every process but itself */
    deadline = now_ms() + 2000;
    while (now_ms() < deadline) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid < 0)
            break;
        if (pid == 0)
            sleep_ms(5);
    }

    for (size_t i = mounted_volumes.count; i-- > 0;) {
        const char *path = mounted_volumes.items[i];
        if (umount2(path, 0) < 0 && mount(NULL, path, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
            log_error("cannot unmount %s before power off: %s; its last writes may be lost", path,
                      strerror(errno));
    }
    sync();

    if (write(STDOUT_FILENO, line, strlen(line)) < 0) {
        /* The console is gone: nothing else can carry the status. */
    }
    tcdrain(STDOUT_FILENO); /* the UART must send the line before the machine stops */
    reboot(RB_POWER_OFF);
    log_error("power off failed: %s; halting here", strerror(errno));
    for (;;)
        pause();
}

static void init_fail(const char *error, const char *fmt, ...)
{
    char line[64];
    va_list ap;

    va_start(ap, fmt);
    log_write("", fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "KILN-EXIT code=%d error=%s\n", STATUS_SETUP, error);
    init_poweroff(line);
}

/* Mounts a filesystem on TARGET, creating it; an existing mount is fine. */
static int init_mount(const char *source, const char *target, const char *type, unsigned long flags,
                      const char *options)
{
    if (mkdir_p(target, 0755) < 0 || (mount(source, target, type, flags, options) < 0 && errno != EBUSY)) {
        log_error("cannot mount %s on %s: %s", type, target, strerror(errno));
        return -1;
    }
    return 0;
}

/* Makes /dev/console fds 0, 1 and 2, so all output reaches the serial console. */
static void init_console(void)
{
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);

    if (fd < 0) {
        /* Without devtmpfs, make the node by hand: console is char device 5:1. */
        mknod("/dev/console", S_IFCHR | 0600, makedev(5, 1));
        fd = open("/dev/console", O_RDWR | O_NOCTTY);
    }
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++) {
        if (fd != i)
            dup2(fd, i);
    }
    if (fd > 2)
        close(fd);
}

static bool init_cmdline_has(const char *cmdline, const char *word)
{
    size_t len = strlen(word);

    for (const char *p = cmdline; (p = strstr(p, word)) != NULL; p += len) {
        bool starts = p == cmdline || p[-1] == ' ';
        bool ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
        if (starts && ends)
            return true;
    }
    return false;
}

/* Mounts /dev first (for the console), then /proc (for kiln.debug), then the rest. */
static void init_filesystems(void)
{
    char *cmdline;
    size_t len;
    int failed = 0;

    failed |= init_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    init_console();
    failed |= init_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    if (file_read("/proc/cmdline", 65536, &cmdline, &len) == 0) {
        debug_enabled = init_cmdline_has(cmdline, "kiln.debug");
        free(cmdline);
    }
    failed |= init_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    failed |= init_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
    failed |= init_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    failed |= init_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    failed |= init_mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (failed)
        init_fail("setup", "cannot mount the kernel filesystems; does the kernel have devtmpfs, tmpfs and devpts?");

    /* The usual /dev links; an image that ships its own keeps them. */
    symlink("/proc/self/fd", "/dev/fd");
    symlink("/proc/self/fd/0", "/dev/stdin");
    symlink("/proc/self/fd/1", "/dev/stdout");
    symlink("/proc/self/fd/2", "/dev/stderr");
    log_debug("mounted /dev /proc /sys /dev/pts /dev/shm /tmp /run");
}

/* Loads the image's kernel modules in order with finit_module(2). A failure is reported, not fatal. */
static void init_modules(const struct strlist *modules)
{
    for (size_t i = 0; i < modules->count; i++) {
        const char *path = modules->items[i];
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
            log_error("cannot load kernel module %s: %s; rebuild the image", path, strerror(errno));
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
            log_error("cannot load kernel module %s: %s; are its dependencies listed before it?", path,
                      strerror(errno));
        else
            log_debug("loaded %s", path);
        close(fd);
    }
}

/* Reads the image defaults, loads the modules, then reads and merges the per-run settings. */
static void init_settings(struct settings *merged)
{
    static struct settings image, run;
    bool found;

    if (settings_read(RUNCFG_IMAGE_PATH, RUNCFG_IMAGE_PATH, &image, &found) < 0)
        init_fail("config", "the image settings are unusable; rebuild the image");
    log_debug("%s: %s", RUNCFG_IMAGE_PATH, found ? "read" : "absent");

    init_modules(&image.modules);

    if (settings_read(FWCFG_SETTINGS_PATH, "fw_cfg " RUNCFG_FWCFG_NAME, &run, &found) < 0)
        init_fail("config", "the per-run settings are unusable");
    log_debug("fw_cfg %s: %s", RUNCFG_FWCFG_NAME,
              found ? "read"
              : access("/sys/firmware/qemu_fw_cfg", F_OK) == 0 ? "absent"
                                                               : "absent (no qemu_fw_cfg in /sys/firmware)");

    settings_merge(merged, &image, &run);
    settings_check(merged);
}

/* Mounts each ext4 volume, creating its mount point. A failure is fatal: the application relies on it. */
static void init_volumes(const struct strlist *mounts)
{
    for (size_t i = 0; i < mounts->count; i++) {
        struct volume v;

        volume_parse(mounts->items[i], &v); /* checked by settings_check */
        if (!path_wait(v.device, VOLUME_WAIT_MS))
            init_fail("volume", "cannot mount %s on %s: %s did not appear within %d s; is virtio_blk listed "
                      "as a module and the disk attached?", v.device, v.path, v.device, VOLUME_WAIT_MS / 1000);
        if (mkdir_p(v.path, 0755) < 0)
            init_fail("volume", "cannot create mount point %s: %s", v.path, strerror(errno));
        if (mount(v.device, v.path, "ext4", v.read_only ? MS_RDONLY : 0, NULL) < 0)
            init_fail("volume", "cannot mount %s on %s as ext4: %s", v.device, v.path, strerror(errno));
        strlist_push(&mounted_volumes, strdup(v.path));
        log_debug("mounted %s on %s %s", v.device, v.path, v.read_only ? "read-only" : "read-write");
    }
}

/* Sets the hostname and writes /etc/hosts when the image has none. */
static void init_hostname(const char *hostname)
{
    char hosts[512];

    if (hostname && sethostname(hostname, strlen(hostname)) < 0)
        log_error("cannot set hostname \"%s\": %s", hostname, strerror(errno));
    if (access("/etc/hosts", F_OK) == 0)
        return;
    snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost%s%s\n::1\tlocalhost\n", hostname ? " " : "",
             hostname ? hostname : "");
    if (mkdir_p("/etc", 0755) < 0 || file_write("/etc/hosts", hosts, 0644) < 0)
        log_error("cannot write /etc/hosts: %s", strerror(errno));
}

/* Opens the input devices that can send KEY_POWER (the ACPI power button); returns how many. */
static size_t init_power_buttons(int *fds, size_t max)
{
    DIR *dir = opendir("/dev/input");
    struct dirent *de;
    size_t count = 0;

    if (!dir) {
        log_debug("no /dev/input: the power button cannot stop the application (load button and evdev)");
        return 0;
    }
    while ((de = readdir(dir)) != NULL && count < max) {
        unsigned char keys[INPUT_KEY_MAX / 8 + 1];
        char path[300];
        int fd;

        if (strncmp(de->d_name, "event", 5) != 0)
            continue;
        snprintf(path, sizeof path, "/dev/input/%s", de->d_name);
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        memset(keys, 0, sizeof keys);
        if (ioctl(fd, INPUT_EVIOCGBIT(INPUT_EV_KEY, sizeof keys), keys) >= 0 &&
            (keys[INPUT_KEY_POWER / 8] & (1 << (INPUT_KEY_POWER % 8)))) {
            fds[count++] = fd;
            log_debug("watching %s for the power button", path);
        } else {
            close(fd);
        }
    }
    closedir(dir);
    return count;
}

/* Returns true when FD delivered a KEY_POWER press. */
static bool init_power_pressed(int fd)
{
    struct input_event_abi events[16];
    bool pressed = false;
    ssize_t n;

    while ((n = read(fd, events, sizeof events)) > 0) {
        for (size_t i = 0; i < (size_t)n / sizeof events[0]; i++) {
            if (events[i].type == INPUT_EV_KEY && events[i].code == INPUT_KEY_POWER && events[i].value == 1)
                pressed = true;
        }
    }
    return pressed;
}

/* State of the supervision loop. */
struct supervisor {
    pid_t app;
    int signal_fd;
    int buttons[MAX_POWER_BUTTONS];
    size_t button_count;
    long stop_timeout_s;
    long long kill_at; /* ms since boot when SIGKILL is due, 0 when not stopping */
};

/* Reaps every exited child; returns true with *STATUS when the application was among them. */
static bool supervise_reap(pid_t app, int *status)
{
    bool app_done = false;
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid == app) {
            *status = st;
            app_done = true;
        }
    }
    return app_done;
}

static void supervise_stop(struct supervisor *sv)
{
    if (sv->kill_at)
        return;
    log_debug("power button: sending SIGTERM to pid %d, SIGKILL after %ld s", (int)sv->app, sv->stop_timeout_s);
    kill(sv->app, SIGTERM);
    sv->kill_at = now_ms() + sv->stop_timeout_s * 1000;
}

/*
 * Waits for the application to end while forwarding SIGTERM and SIGINT to it,
 * reaping orphans and handling the power button. Returns its wait status.
 */
static int supervise(struct supervisor *sv)
{
    struct pollfd fds[1 + MAX_POWER_BUTTONS];
    int status = 0;

    fds[0] = (struct pollfd){ .fd = sv->signal_fd, .events = POLLIN };
    for (size_t i = 0; i < sv->button_count; i++)
        fds[1 + i] = (struct pollfd){ .fd = sv->buttons[i], .events = POLLIN };

    for (;;) {
        int timeout = -1;
        if (sv->kill_at) {
            long long left = sv->kill_at - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        int ready = poll(fds, 1 + sv->button_count, timeout);
        if (ready < 0 && errno != EINTR)
            init_fail("setup", "poll failed while supervising pid %d: %s", (int)sv->app, strerror(errno));

        if (sv->kill_at && now_ms() >= sv->kill_at) {
            log_debug("pid %d still runs %ld s after SIGTERM: sending SIGKILL", (int)sv->app, sv->stop_timeout_s);
            kill(sv->app, SIGKILL);
            sv->kill_at = 0;
            sv->stop_timeout_s = -1; /* do not start a second countdown */
        }
        if (ready <= 0)
            continue;

        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sv->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    log_debug("forwarding signal %u to pid %d", si.ssi_signo, (int)sv->app);
                    kill(sv->app, (int)si.ssi_signo);
                }
            }
            if (supervise_reap(sv->app, &status))
                return status;
        }
        for (size_t i = 0; i < sv->button_count; i++) {
            if ((fds[1 + i].revents & POLLIN) && init_power_pressed(sv->buttons[i]) && sv->stop_timeout_s >= 0)
                supervise_stop(sv);
            if (fds[1 + i].revents & (POLLERR | POLLHUP | POLLNVAL))
                fds[1 + i].fd = -1; /* the device went away: poll would report it forever */
        }
    }
}

/* Blocks the signals kiln-init handles and returns a signalfd for them. */
static int init_signals(void)
{
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        init_fail("setup", "signalfd failed: %s", strerror(errno));
    /* Ctrl-Alt-Del then sends SIGINT to PID 1 instead of rebooting at once. */
    reboot(RB_DISABLE_CAD);
    return fd;
}

int main(int argc, char **argv)
{
    struct settings cfg;
    struct supervisor sv = { 0 };
    struct launch_failure failure;
    char line[64];
    int status;

    if (getpid() != 1) {
        fprintf(stderr, "kiln-init: must run as PID 1 inside a kiln VM; it mounts filesystems and powers off\n");
        return 1;
    }
    umask(022);
    sv.signal_fd = init_signals();
    init_filesystems();
    init_settings(&cfg);
    sv.button_count = init_power_buttons(sv.buttons, MAX_POWER_BUTTONS);
    sv.stop_timeout_s = settings_stop_timeout(&cfg);
    net_setup(cfg.net);
    init_volumes(&cfg.mounts);
    init_hostname(cfg.hostname);

    sv.app = launch_start(&cfg, &failure);
    if (sv.app < 0) {
        snprintf(line, sizeof line, "KILN-EXIT code=%d error=%s\n", failure.code, failure.error);
        init_poweroff(line);
    }
    status = supervise(&sv);
    if (WIFSIGNALED(status))
        snprintf(line, sizeof line, "KILN-EXIT signal=%d\n", WTERMSIG(status));
    else
        snprintf(line, sizeof line, "KILN-EXIT code=%d\n", WEXITSTATUS(status));
    log_debug("pid %d ended: %.*s", (int)sv.app, (int)strcspn(line, "\n"), line);
    init_poweroff(line);
}
