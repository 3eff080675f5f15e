/*
 * Chooses KVM or TCG for a connection. A /dev/kvm that exists proves nothing,
 * because a KVM device can run a few instructions yet hang a real guest in its
 * firmware. So KVM is used only when libvirt offers it, a vCPU runs test code,
 * and a kvm domain booted through libvirt prints kernel output. The result is cached.
 */
#define _GNU_SOURCE /* strcasestr */
#include "backends/libvirt/lv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define IOCTL_PROBE_TIMEOUT_S 2
#define BOOT_PROBE_TIMEOUT_S 8
#define PROBE_PORT 0x10
#define PROBE_VALUE 0x2a

/* Exit statuses of the probe child, mapped to reasons by ioctl_probe_reason. */
enum {
    PROBE_OK = 0,
    PROBE_NO_DEVICE = 10,
    PROBE_OPEN_FAILED,
    PROBE_API_VERSION,
    PROBE_CREATE_VM,
    PROBE_MEMORY,
    PROBE_CREATE_VCPU,
    PROBE_MMAP_RUN,
    PROBE_REGISTERS,
    PROBE_RUN_FAILED,
    PROBE_WRONG_EXIT,
    PROBE_NO_HALT,
};

/*
 * Runs in the forked child, so it uses only system calls: a real-mode guest at
 * 0x1000 executes `mov al, 0x2a; out 0x10, al; hlt`.
 */
static int ioctl_probe_child(void)
{
    static const unsigned char code[] = {0xb0, PROBE_VALUE, 0xe6, PROBE_PORT, 0xf4};
    struct kvm_userspace_memory_region region = {0};
    struct kvm_sregs sregs;
    struct kvm_regs regs = {0};
    struct kvm_run *run;
    unsigned char *mem;
    int kvm, vm, vcpu, run_size;

    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return errno == ENOENT ? PROBE_NO_DEVICE : PROBE_OPEN_FAILED;
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
        return PROBE_API_VERSION;
    vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return PROBE_CREATE_VM;

    mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return PROBE_MEMORY;
    memcpy(mem + 0x1000, code, sizeof(code));
    region.memory_size = 0x10000;
    region.userspace_addr = (unsigned long)mem;
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return PROBE_MEMORY;

    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return PROBE_CREATE_VCPU;
    run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size <= 0)
        return PROBE_MMAP_RUN;
    run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return PROBE_MMAP_RUN;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return PROBE_REGISTERS;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    regs.rip = 0x1000;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return PROBE_REGISTERS;

    if (ioctl(vcpu, KVM_RUN, 0) < 0)
        return PROBE_RUN_FAILED;
    if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
        run->io.port != PROBE_PORT || run->io.size != 1 ||
        *((unsigned char *)run + run->io.data_offset) != PROBE_VALUE)
        return PROBE_WRONG_EXIT;
    if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_HLT)
        return PROBE_NO_HALT;
    return PROBE_OK;
}

static const char *ioctl_probe_reason(int status)
{
    switch (status) {
    case PROBE_OK: return "KVM probe passed";
    case PROBE_NO_DEVICE: return "/dev/kvm missing";
    case PROBE_OPEN_FAILED: return "KVM probe: cannot open /dev/kvm (permission denied or busy)";
    case PROBE_API_VERSION: return "KVM probe: /dev/kvm has an unexpected API version";
    case PROBE_CREATE_VM: return "KVM probe: KVM_CREATE_VM failed";
    case PROBE_MEMORY: return "KVM probe: cannot give the test VM memory";
    case PROBE_CREATE_VCPU: return "KVM probe: KVM_CREATE_VCPU failed";
    case PROBE_MMAP_RUN: return "KVM probe: cannot map the vCPU run structure";
    case PROBE_REGISTERS: return "KVM probe: cannot set the vCPU registers";
    case PROBE_RUN_FAILED: return "KVM probe: KVM_RUN failed";
    case PROBE_WRONG_EXIT: return "KVM probe: the vCPU did not execute the test code correctly";
    case PROBE_NO_HALT: return "KVM probe: the vCPU did not halt after the test code";
    default: return "KVM probe: the probe process failed";
    }
}

/* Runs ioctl_probe_child in a child process, killed after IOCTL_PROBE_TIMEOUT_S. Returns 0 when KVM ran the code. */
int lv_accel_kvm_ioctl_probe(char **reason)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    pid_t pid;
    int status = 0;

    pid = fork();
    if (pid < 0) {
        *reason = xasprintf("KVM probe: cannot fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        _exit(ioctl_probe_child());

    for (int i = 0; i < IOCTL_PROBE_TIMEOUT_S * 100; i++) {
        pid_t done = waitpid(pid, &status, WNOHANG);

        if (done == pid) {
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

            *reason = xstrdup(ioctl_probe_reason(code));
            return code == PROBE_OK ? 0 : -1;
        }
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    *reason = xasprintf("KVM probe: vCPU did not run the test code within %d s", IOCTL_PROBE_TIMEOUT_S);
    return -1;
}

/* Returns the vmlinuz of some kernel in the store's kernel cache, or NULL. */
static char *store_any_kernel(void)
{
    char *dir = store_path("kernels"), *found = NULL;
    DIR *d = opendir(dir);
    struct dirent *e;

    while (d && !found && (e = readdir(d))) {
        char *path;

        if (e->d_name[0] == '.')
            continue;
        path = xasprintf("%s/%s/vmlinuz", dir, e->d_name);
        if (path_exists(path))
            found = path;
        else
            free(path);
    }
    if (d)
        closedir(d);
    free(dir);
    return found;
}

static bool file_contains(const char *path, const char *needle)
{
    char *text = file_read(path, NULL);
    bool found = text && strstr(text, needle);

    if (!text)
        err_clear();
    free(text);
    return found;
}

/*
 * Boots KERNEL (no initrd) in a transient kvm domain and waits for "Linux version"
 * on its serial log. Returns 0 when it appeared, -1 when KVM failed, and -2 when
 * the probe failed for another reason (not worth caching).
 */
static int boot_probe(struct backend *b, const char *kernel, char **reason)
{
    char *cache = store_path("cache"), *log_path = NULL, *name = NULL, *xml = NULL;
    struct timespec pause = {0, 100 * 1000 * 1000};
    virDomainPtr dom = NULL;
    int rc = -1;

    if (mkdir_p(cache, 0755) < 0) {
        *reason = xasprintf("KVM probe: %s", err_msg());
        goto cleanup;
    }
    name = xasprintf("kiln-accel-probe-%ld", (long)getpid());
    log_path = xasprintf("%s/%s.log", cache, name);
    unlink(log_path);
    xml = lv_xml_probe_domain(name, kernel, log_path);
    if (!xml) {
        *reason = xasprintf("KVM probe: %s", err_msg());
        goto cleanup;
    }
    /* AUTODESTROY removes the probe if kiln dies; embedded drivers (libvirt 9.0) reject it. */
    dom = virDomainCreateXML(b->conn, xml,
                             strncmp(b->uri, "qemu:///embed", 13) == 0 ? 0 : VIR_DOMAIN_START_AUTODESTROY);
    if (!dom) {
        const char *msg = virGetLastErrorMessage();

        /* QEMU's own lines follow libvirt's first line, which is enough. */
        *reason = xasprintf("KVM probe: libvirt could not start a kvm domain: %.*s", (int)strcspn(msg, "\n"), msg);
        /* Only a failure that names KVM is a lasting verdict on it. */
        if (!strcasestr(msg, "kvm"))
            rc = -2;
        goto cleanup;
    }
    /*
     * NOTE: on the development machine libvirt's QEMU could not open /dev/kvm, so
     * this wait has not yet run against a kvm guest that starts and then hangs.
     */
    for (int i = 0; i < BOOT_PROBE_TIMEOUT_S * 10; i++) {
        if (file_contains(log_path, "Linux version")) {
            rc = 0;
            break;
        }
        nanosleep(&pause, NULL);
    }
    *reason = rc == 0 ? xstrdup("KVM probe passed: a kvm domain booted the kernel")
                      : xasprintf("KVM probe: a kvm domain printed no kernel output within %d s "
                                  "(the KVM device runs code but not a real guest)",
                                  BOOT_PROBE_TIMEOUT_S);

cleanup:
    if (dom) {
        virDomainDestroy(dom);
        virDomainFree(dom);
    }
    if (log_path)
        unlink(log_path);
    free(log_path);
    free(name);
    free(xml);
    free(cache);
    return rc;
}

/*
 * The cache key: what invalidates the result. That is the host kernel, the QEMU
 * and libvirt versions, and the owner, mode and change time of /dev/kvm, so
 * fixing the device's permissions leads to a new probe.
 */
static char *cache_key(struct backend *b)
{
    struct utsname u;
    struct stat st;
    unsigned long hv = 0, lib = 0;
    char device[96];

    if (uname(&u) < 0)
        snprintf(u.release, sizeof(u.release), "unknown");
    virConnectGetVersion(b->conn, &hv);
    virConnectGetLibVersion(b->conn, &lib);
    if (stat("/dev/kvm", &st) == 0)
        snprintf(device, sizeof(device), "/dev/kvm %d:%d %o changed %lld", (int)st.st_uid, (int)st.st_gid,
                 (unsigned)(st.st_mode & 07777), (long long)st.st_ctime);
    else
        snprintf(device, sizeof(device), "no /dev/kvm");
    return xasprintf("linux %s, hypervisor %lu, libvirt %lu, %s", u.release, hv, lib, device);
}

static int cache_read(struct backend *b, const char *key)
{
    char *path = store_path("cache/accel.json");
    json_t *root = json_load_file(path, 0, NULL);
    json_t *entry = root ? json_object_get(root, b->uri) : NULL;
    const char *k = json_string_value(json_object_get(entry, "key"));
    const char *accel = json_string_value(json_object_get(entry, "accel"));
    const char *reason = json_string_value(json_object_get(entry, "reason"));
    int rc = -1;

    if (k && accel && reason && strcmp(k, key) == 0 &&
        (strcmp(accel, "kvm") == 0 || strcmp(accel, "tcg") == 0)) {
        b->accel = xstrdup(accel);
        b->accel_reason = xasprintf("%s (cached)", reason);
        rc = 0;
    }
    json_decref(root);
    free(path);
    return rc;
}

static void cache_write(struct backend *b, const char *key)
{
    char *path = store_path("cache/accel.json"), *dir = store_path("cache"), *text = NULL;
    json_t *root = json_load_file(path, 0, NULL);

    if (!json_is_object(root)) {
        json_decref(root);
        root = json_object();
    }
    json_object_set_new(root, b->uri, json_pack("{s:s, s:s, s:s}", "key", key, "accel", b->accel,
                                                  "reason", b->accel_reason));
    text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text || mkdir_p(dir, 0755) < 0 || file_write_atomic(path, text, strlen(text), 0644) < 0)
        log_debug("cannot cache the acceleration choice in %s: %s", path, err_msg());
    err_clear();
    free(text);
    json_decref(root);
    free(dir);
    free(path);
}

static void decide(struct backend *b, const char *accel, char *reason)
{
    free(b->accel);
    free(b->accel_reason);
    b->accel = xstrdup(accel);
    b->accel_reason = reason;
    log_debug("acceleration for %s: %s (%s)", b->uri, accel, reason);
}

/* True when libvirt's domain capabilities offer virt type kvm for x86_64. */
static bool kvm_offered(struct backend *b, char **reason)
{
    char *caps = virConnectGetDomainCapabilities(b->conn, NULL, "x86_64", NULL, "kvm", 0);

    if (!caps) {
        *reason = xasprintf("libvirt at %s offers no KVM domains: %s", b->uri, virGetLastErrorMessage());
        return false;
    }
    free(caps);
    return true;
}

int lv_accel_get(struct backend *b, const char *kernel)
{
    const char *forced = getenv("KILN_ACCEL");
    char *key = NULL, *reason = NULL, *any_kernel = NULL;
    int rc;

    if (b->accel && !(b->accel_provisional && kernel))
        return 0;
    b->accel_provisional = false;
    if (forced && (strcmp(forced, "kvm") == 0 || strcmp(forced, "tcg") == 0)) {
        decide(b, forced, xasprintf("set by KILN_ACCEL=%s", forced));
        return 0;
    }
    if (b->local) {
        /* Before the capabilities call, which can take seconds when libvirt re-probes QEMU. */
        key = cache_key(b);
        if (cache_read(b, key) == 0)
            goto cleanup;
    }
    if (!kvm_offered(b, &reason)) {
        decide(b, "tcg", reason);
        goto cleanup;
    }
    if (!b->local) {
        decide(b, "tcg", xasprintf("KVM cannot be probed on the remote host of %s; set KILN_ACCEL=kvm to use it",
                                   b->uri));
        goto cleanup;
    }

    if (lv_accel_kvm_ioctl_probe(&reason) < 0) {
        decide(b, "tcg", reason);
        cache_write(b, key);
        goto cleanup;
    }
    free(reason);
    reason = NULL;

    if (!kernel)
        kernel = any_kernel = store_any_kernel();
    if (!kernel) {
        /* Not cached: the next call that has a kernel to boot probes again. */
        decide(b, "tcg", xstrdup("KVM not probed yet: no kernel in the store to boot; build an image first"));
        b->accel_provisional = true;
        goto cleanup;
    }
    rc = boot_probe(b, kernel, &reason);
    decide(b, rc == 0 ? "kvm" : "tcg", reason);
    if (rc != -2)
        cache_write(b, key);

cleanup:
    free(any_kernel);
    free(key);
    err_clear();
    return 0;
}
