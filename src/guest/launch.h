/*
 * Starting the application: its environment, the fork and execve, and when
 * execve fails, a diagnosis of why (missing file, missing ELF interpreter,
 * permissions). Included once by init.c.
 */
#ifndef KILN_GUEST_LAUNCH_H
#define KILN_GUEST_LAUNCH_H

#include <elf.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "guest.h"
#include "settings.h"

#define LAUNCH_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The reason the application did not start, as reported in the KILN-EXIT line. */
struct launch_failure {
    int code;
    const char *error;
};

/* The message the child writes to the CLOEXEC pipe when chdir or execve fails. */
struct launch_report {
    int step; /* LAUNCH_STEP_* */
    int err;  /* errno */
};

enum { LAUNCH_STEP_CHDIR = 1, LAUNCH_STEP_EXEC = 2 };

/* Sets KEY=VALUE in ENV, replacing an entry with the same KEY. */
static void launch_env_set(struct strlist *env, const char *entry)
{
    size_t key_len = (size_t)(strchr(entry, '=') - entry) + 1;

    for (size_t i = 0; i < env->count; i++) {
        if (strncmp(env->items[i], entry, key_len) == 0) {
            env->items[i] = entry;
            return;
        }
    }
    strlist_push(env, entry);
}

/* Builds the application's environment: the defaults, then each env setting in order. */
static char **launch_env(const struct settings *s)
{
    struct strlist env = { 0 };

    strlist_push(&env, "PATH=" LAUNCH_DEFAULT_PATH);
    strlist_push(&env, "HOME=/root");
    strlist_push(&env, "TERM=vt220");
    for (size_t i = 0; i < s->env.count; i++)
        launch_env_set(&env, s->env.items[i]);
    strlist_push(&env, NULL);
    return (char **)env.items;
}

static const char *launch_env_get(char **envp, const char *key)
{
    size_t len = strlen(key);

    for (; *envp; envp++) {
        if (strncmp(*envp, key, len) == 0 && (*envp)[len] == '=')
            return *envp + len + 1;
    }
    return NULL;
}

/* Finds an entry without a '/' in the application's PATH, as a shell would; NULL when not found. */
static char *launch_find_in_path(const char *name, char **envp)
{
    const char *path = launch_env_get(envp, "PATH");
    char candidate[4096];

    if (!path)
        path = LAUNCH_DEFAULT_PATH;
    while (*path) {
        size_t dir_len = strcspn(path, ":");
        struct stat st;

        snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dir_len, dir_len ? path : ".", name);
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
            return strdup(candidate);
        path += dir_len;
        if (*path == ':')
            path++;
    }
    return NULL;
}

/* Reads the PT_INTERP path of the ELF file FD into OUT; false if there is none. */
static bool launch_elf_interp(int fd, char *out, size_t size)
{
    unsigned char ident[EI_NIDENT];
    uint64_t phoff, offset, filesz;
    size_t phentsize, phnum;

    if (pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident || memcmp(ident, ELFMAG, SELFMAG) != 0)
        return false;
    if (ident[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr eh;
        if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
            return false;
        phoff = eh.e_phoff;
        phentsize = eh.e_phentsize;
        phnum = eh.e_phnum;
    } else if (ident[EI_CLASS] == ELFCLASS32) {
        Elf32_Ehdr eh;
        if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh)
            return false;
        phoff = eh.e_phoff;
        phentsize = eh.e_phentsize;
        phnum = eh.e_phnum;
    } else {
        return false;
    }

    for (size_t i = 0; i < phnum; i++) {
        off_t at = (off_t)(phoff + i * phentsize);
        if (ident[EI_CLASS] == ELFCLASS64) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
                return false;
            if (ph.p_type != PT_INTERP)
                continue;
            offset = ph.p_offset;
            filesz = ph.p_filesz;
        } else {
            Elf32_Phdr ph;
            if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph)
                return false;
            if (ph.p_type != PT_INTERP)
                continue;
            offset = ph.p_offset;
            filesz = ph.p_filesz;
        }
        if (filesz == 0 || filesz >= size)
            return false;
        if (pread(fd, out, (size_t)filesz, (off_t)offset) != (ssize_t)filesz)
            return false;
        out[filesz] = '\0';
        return true;
    }
    return false;
}

/* Reads the interpreter of a "#!" script FD into OUT; false if FD is not such a script. */
static bool launch_script_interp(int fd, char *out, size_t size)
{
    char line[256];
    ssize_t n = pread(fd, line, sizeof line - 1, 0);
    size_t start = 2, len;

    if (n < 2 || line[0] != '#' || line[1] != '!')
        return false;
    line[n] = '\0';
    start += strspn(line + start, " \t");
    len = strcspn(line + start, " \t\r\n");
    if (len == 0 || len >= size)
        return false;
    memcpy(out, line + start, len);
    out[len] = '\0';
    return true;
}

/* Explains an execve failure ERR for PATH on the console and fills F. */
static void launch_diagnose(const char *path, int err, struct launch_failure *f)
{
    char interp[512];
    struct stat st;
    int fd;

    if (err == ENOENT || err == ENOTDIR) {
        if (stat(path, &st) < 0) {
            log_error("cannot start %s: not found", path);
            *f = (struct launch_failure){ 127, "not-found" };
            return;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && launch_elf_interp(fd, interp, sizeof interp) && access(interp, F_OK) < 0) {
            log_error("cannot start %s: missing interpreter %s", path, interp);
            *f = (struct launch_failure){ 127, "missing-library" };
        } else if (fd >= 0 && launch_script_interp(fd, interp, sizeof interp) && access(interp, F_OK) < 0) {
            log_error("cannot start %s: missing script interpreter %s", path, interp);
            *f = (struct launch_failure){ 127, "missing-interpreter" };
        } else {
            log_error("cannot start %s: %s", path, strerror(err));
            *f = (struct launch_failure){ 126, "exec" };
        }
        if (fd >= 0)
            close(fd);
        return;
    }
    if (err == EACCES || err == ENOEXEC || err == EISDIR) {
        const char *reason = err == ENOEXEC ? "unknown binary format; is it built for x86_64 Linux?"
                          : stat(path, &st) == 0 && !S_ISREG(st.st_mode) ? "not a regular file"
                                                                          : "no execute permission";
        log_error("cannot start %s: not executable (%s)", path, reason);
        *f = (struct launch_failure){ 126, "not-executable" };
        return;
    }
    log_error("cannot start %s: %s", path, strerror(err));
    *f = (struct launch_failure){ 126, "exec" };
}

/* Runs in the forked child: a new session with the console as controlling terminal, then execve. */
static void launch_child(const char *path, char **argv, char **envp, const char *workdir, int report_fd)
{
    sigset_t none;
    struct launch_report report = { LAUNCH_STEP_EXEC, 0 };

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    ioctl(STDIN_FILENO, TIOCSCTTY, 0); /* lets ^C on the console reach the application */
    if (workdir && chdir(workdir) < 0) {
        report = (struct launch_report){ LAUNCH_STEP_CHDIR, errno };
    } else {
        execve(path, argv, envp);
        report.err = errno;
    }
    if (write(report_fd, &report, sizeof report) < 0) {
        /* The parent then treats the child as started and reports its exit status 127. */
    }
    _exit(127);
}

/*
 * Forks and execs the application described by S. Returns its pid, or -1 with
 * F filled after printing why it could not start.
 */
static pid_t launch_start(const struct settings *s, struct launch_failure *f)
{
    char **envp = launch_env(s);
    const char *path = s->entry;
    struct strlist argv = { 0 };
    struct launch_report report;
    int report_pipe[2];
    ssize_t n;
    pid_t pid;

    if (!strchr(path, '/')) {
        path = launch_find_in_path(s->entry, envp);
        if (!path) {
            log_error("cannot start %s: not found in PATH %s", s->entry, launch_env_get(envp, "PATH"));
            *f = (struct launch_failure){ 127, "not-found" };
            return -1;
        }
    }
    strlist_push(&argv, s->entry);
    for (size_t i = 0; i < s->args.count; i++)
        strlist_push(&argv, s->args.items[i]);
    strlist_push(&argv, NULL);

    if (s->workdir && mkdir_p(s->workdir, 0755) < 0)
        log_error("cannot create working directory %s: %s", s->workdir, strerror(errno));
    if (pipe2(report_pipe, O_CLOEXEC) < 0)
        init_fail("setup", "cannot create a pipe to start %s: %s", path, strerror(errno));

    pid = fork();
    if (pid < 0)
        init_fail("setup", "cannot fork to start %s: %s", path, strerror(errno));
    if (pid == 0) {
        close(report_pipe[0]);
        launch_child(path, (char **)argv.items, envp, s->workdir, report_pipe[1]);
    }

    close(report_pipe[1]);
    do
        n = read(report_pipe[0], &report, sizeof report);
    while (n < 0 && errno == EINTR);
    close(report_pipe[0]);
    if (n != (ssize_t)sizeof report) {
        log_debug("started %s as pid %d", path, (int)pid);
        return pid; /* execve succeeded and closed the pipe */
    }

    waitpid(pid, NULL, 0);
    if (report.step == LAUNCH_STEP_CHDIR) {
        log_error("cannot start %s: cannot change to working directory %s: %s", path, s->workdir,
                  strerror(report.err));
        *f = (struct launch_failure){ STATUS_SETUP, "setup" };
        return -1;
    }
    launch_diagnose(path, report.err, f);
    return -1;
}

#endif
