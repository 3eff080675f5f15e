/* kiln build: reads the manifest, gathers the app and its needs, writes the image. */
#include "build/builder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/deps.h"
#include "build/initramfs.h"
#include "build/kernel.h"
#include "build/modules.h"
#include "digest.h"
#include "manifest.h"
#include "runcfg.h"
#include "store.h"

#define KERNEL_CMDLINE "console=ttyS0 quiet panic=-1 tsc=reliable no_timer_check i8042.noaux i8042.nopnp"
#define PYTHON "/usr/bin/python3"
#define SHELL "/bin/sh"

/* Features every image carries: settings (fw_cfg), network, volumes and the power button. */
static const char *const base_features[] = {"fwcfg", "net", "block", "powerbutton"};

/* Python standard library parts no server app needs; left out to keep images small. */
static const char *const python_skip[] = {
    "__pycache__", "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip",
    "lib2to3", "site-packages", "dist-packages", "pydoc_data", "config-3.11-x86_64-linux-gnu",
};

struct build {
    const struct build_options *opts;
    struct manifest m;
    char *name;
    char *tag;
    struct kernel kernel;
    char *stage;
    struct initramfs *fs;
    struct digest *inputs;
    char *entry;           /* program path inside the image */
    struct strv entry_args;/* fixed arguments (the script of an interpreter) */
    struct strv env;
    struct strv modules;   /* module paths inside the image, in load order */
    char *c_binary;        /* kind c: where the compiled binary goes in the stage */
    struct strv claimed_files; /* image paths of files kiln itself put in the image */
    struct strv claimed_dirs;  /* and of the directory trees it copied */
    int lock_fd;
};

/* Records a system file (outside the project) in the input digest by name, size and time. */
static int input_system_file(struct build *b, const char *dest, const char *path)
{
    struct stat st;
    char meta[128];

    if (stat(path, &st) < 0) {
        err_set_errno(errno, "cannot read %s", path);
        return -1;
    }
    snprintf(meta, sizeof(meta), "%lld:%lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec);
    digest_update_str(b->inputs, dest);
    digest_update_str(b->inputs, path);
    digest_update_str(b->inputs, meta);
    return 0;
}

/* Adds a host file to the image and to the input digest (by content for project files). */
static int add_file(struct build *b, const char *dest, const char *src, mode_t mode, bool by_content)
{
    struct stat st;

    if (stat(src, &st) < 0) {
        err_set_errno(errno, "%s: cannot read %s", b->m.path, src);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set("%s: %s is not a regular file; list only files and directories", b->m.path, src);
        return -1;
    }
    if (by_content) {
        digest_update_str(b->inputs, dest);
        if (digest_update_file(b->inputs, src) < 0)
            return -1;
    } else if (input_system_file(b, dest, src) < 0) {
        return -1;
    }
    return initramfs_add_file(b->fs, dest, src, mode);
}

static mode_t file_mode(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return 0644;
    return (st.st_mode & 0111) ? 0755 : 0644;
}

/* Returns PATH inside the image without "." components, repeated or trailing slashes. */
static char *image_path_clean(const char *path)
{
    char *out = xmalloc(strlen(path) + 2), *o = out;

    for (const char *p = path; *p;) {
        size_t n;

        while (*p == '/')
            p++;
        n = strcspn(p, "/");
        if (n == 0)
            break;
        if (!(n == 1 && p[0] == '.')) {
            *o++ = '/';
            memcpy(o, p, n);
            o += n;
        }
        p += n;
    }
    if (o == out)
        *o++ = '/';
    *o = '\0';
    return out;
}

static bool is_below(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/*
 * Returns the path already in the image that DEST would clash with: the same
 * path, a file where DEST needs a directory, or (for a file) a directory.
 */
static const char *claim_conflict(const struct build *b, const char *dest, bool is_dir)
{
    for (size_t i = 0; i < b->claimed_files.len; i++) {
        const char *f = b->claimed_files.items[i];

        if (strcmp(dest, f) == 0 || is_below(dest, f) || is_below(f, dest))
            return f;
    }
    for (size_t i = 0; !is_dir && i < b->claimed_dirs.len; i++) {
        const char *d = b->claimed_dirs.items[i];

        if (strcmp(dest, d) == 0 || is_below(d, dest))
            return d;
    }
    return NULL;
}

/* Resolves SRC, relative to the project, and refuses anything outside it. */
static char *project_path(struct build *b, const char *what, const char *src)
{
    char *joined = src[0] == '/' ? xstrdup(src) : path_join(b->m.dir, src);
    char *real = realpath(joined, NULL);

    if (!real) {
        err_set_errno(errno, "%s: %s %s", b->m.path, what, src);
        free(joined);
        return NULL;
    }
    free(joined);
    if (!path_is_within(b->m.dir, real)) {
        err_set("%s: %s %s: path is outside the project directory %s (a symbolic link or '..'); "
                "copy the file into the project",
                b->m.path, what, src, b->m.dir);
        free(real);
        return NULL;
    }
    return real;
}

typedef bool (*skip_fn)(const char *name);

/* Adds the host directory SRC below DEST, sorted; symlinks must stay inside ROOT when ROOT is set. */
static int add_tree(struct build *b, const char *dest, const char *src, const char *root, bool by_content,
                    skip_fn skip)
{
    struct dirent **entries = NULL;
    int n = scandir(src, &entries, NULL, alphasort), rc = 0;

    if (n < 0) {
        err_set_errno(errno, "cannot read directory %s", src);
        return -1;
    }
    initramfs_add_dir(b->fs, dest, 0755);
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        char *child_src, *child_dest;
        struct stat st;

        if (rc < 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || (skip && skip(name)))
            continue;
        child_src = path_join(src, name);
        child_dest = path_join(dest, name);
        if (lstat(child_src, &st) < 0) {
            err_set_errno(errno, "cannot read %s", child_src);
            rc = -1;
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t len = readlink(child_src, target, sizeof(target) - 1);

            if (len < 0) {
                err_set_errno(errno, "cannot read link %s", child_src);
                rc = -1;
            } else if (root && !path_is_within(root, child_src)) {
                target[len] = '\0';
                err_set("%s: symbolic link points outside the project (%s); copy the file into the project",
                        child_src, target);
                rc = -1;
            } else {
                target[len] = '\0';
                digest_update_str(b->inputs, child_dest);
                digest_update_str(b->inputs, target);
                rc = initramfs_add_symlink(b->fs, child_dest, target);
            }
        } else if (S_ISDIR(st.st_mode)) {
            rc = add_tree(b, child_dest, child_src, root, by_content, skip);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(b, child_dest, child_src, (st.st_mode & 0111) ? 0755 : 0644, by_content);
        }
        free(child_src);
        free(child_dest);
    }
    for (int i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
    return rc;
}

/* Adds an ELF and every library its loader needs, at the paths the loader looks at. */
static int add_elf_with_deps(struct build *b, const char *dest, const char *src)
{
    struct strv libs = {0};
    int rc = 0;

    if (!deps_is_elf(src)) {
        err_set("%s: entrypoint %s is not an ELF executable; use kind: shell, python or node for scripts",
                b->m.path, src);
        return -1;
    }
    if (deps_resolve(src, &libs) < 0) {
        err_prefix("%s", b->m.path);
        return -1;
    }
    rc = add_file(b, dest, src, 0755, false);
    strv_push(&b->claimed_files, dest);
    for (size_t i = 0; rc == 0 && i < libs.len; i++) {
        const char *lib = libs.items[i];
        /* A library of the project (found through $ORIGIN) sits where the program is: below /app. */
        char *lib_dest = is_below(lib, b->m.dir) ? path_join("/app", lib + strlen(b->m.dir)) : xstrdup(lib);

        rc = add_file(b, lib_dest, lib, 0755, is_below(lib, b->m.dir));
        strv_push_owned(&b->claimed_files, lib_dest);
    }
    strv_free(&libs);
    return rc;
}

static int gather_c(struct build *b)
{
    const char *binary = b->m.entrypoint ? b->m.entrypoint : b->m.name;

    if (strchr(binary, '/')) {
        err_set("%s: entrypoint %s: for kind c, give the binary's name without a directory", b->m.path, binary);
        err_set_usage();
        return -1;
    }
    for (size_t i = 0; i < b->m.sources.len; i++) {
        char *real = project_path(b, "source", b->m.sources.items[i]);

        if (!real)
            return -1;
        digest_update_str(b->inputs, b->m.sources.items[i]);
        if (digest_update_file(b->inputs, real) < 0) {
            free(real);
            return -1;
        }
        free(real);
    }
    for (size_t i = 0; i < b->m.cflags.len; i++)
        digest_update_str(b->inputs, b->m.cflags.items[i]);
    if (b->m.sources.len == 0) {
        /* The build command made the program: it is an input like any project file. */
        char *built = project_path(b, "entrypoint", binary);

        if (!built || digest_update_file(b->inputs, built) < 0) {
            free(built);
            return -1;
        }
        free(built);
    }
    b->entry = xasprintf("/app/%s", binary);
    strv_push(&b->claimed_files, b->entry);
    b->c_binary = path_join(b->stage, binary);
    return 0;
}

/* Compiles the C sources into a static musl binary in the stage directory. */
static int compile_c(struct build *b)
{
    struct strv argv = {0};
    int status;

    if (b->m.sources.len == 0) {
        char *built = project_path(b, "entrypoint", b->m.entrypoint ? b->m.entrypoint : b->m.name);

        if (!built)
            return -1;
        status = file_copy(built, b->c_binary, 0755);
        free(built);
        if (status < 0)
            return -1;
        return initramfs_add_file(b->fs, b->entry, b->c_binary, 0755);
    }
    strv_push(&argv, "musl-gcc");
    strv_push(&argv, "-static");
    strv_push(&argv, "-O2");
    for (size_t i = 0; i < b->m.cflags.len; i++)
        strv_push(&argv, b->m.cflags.items[i]);
    strv_push(&argv, "-o");
    strv_push(&argv, b->c_binary);
    for (size_t i = 0; i < b->m.sources.len; i++)
        strv_push(&argv, b->m.sources.items[i]);
    status = run_argv(argv.items, b->m.dir, -1);
    strv_free(&argv);
    if (status < 0) {
        err_prefix("%s: cannot compile (install musl-tools)", b->m.path);
        return -1;
    }
    if (status != 0) {
        err_set("%s: compiling %s failed (musl-gcc exit status %d); see the compiler output above",
                b->m.path, b->m.sources.items[0], status);
        return -1;
    }
    return initramfs_add_file(b->fs, b->entry, b->c_binary, 0755);
}

static int gather_binary(struct build *b)
{
    const char *entry = b->m.entrypoint;
    char *src;
    int rc;

    if (!entry) {
        err_set("%s: missing key 'entrypoint': kind binary needs the path of the ELF to run", b->m.path);
        err_set_usage();
        return -1;
    }
    if (entry[0] == '/') {
        src = realpath(entry, NULL);
        if (!src) {
            err_set_errno(errno, "%s: entrypoint %s", b->m.path, entry);
            return -1;
        }
        b->entry = xstrdup(entry);
    } else {
        char *joined = path_join("/app", entry);

        src = project_path(b, "entrypoint", entry);
        b->entry = image_path_clean(joined);
        free(joined);
        if (!src)
            return -1;
    }
    rc = add_elf_with_deps(b, b->entry, src);
    free(src);
    return rc;
}

static bool python_skip_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(python_skip); i++)
        if (strcmp(name, python_skip[i]) == 0)
            return true;
    return false;
}

/* Adds the shared libraries of every extension module in DIR (python's lib-dynload). */
static int add_extension_deps(struct build *b, const char *dir)
{
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, NULL, alphasort), rc = 0;

    if (n < 0)
        return 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(entries[i]->d_name);

        if (rc == 0 && len > 3 && strcmp(entries[i]->d_name + len - 3, ".so") == 0) {
            char *path = path_join(dir, entries[i]->d_name);
            struct strv libs = {0};

            rc = deps_resolve(path, &libs);
            for (size_t j = 0; rc == 0 && j < libs.len; j++)
                rc = add_file(b, libs.items[j], libs.items[j], 0755, false);
            strv_free(&libs);
            free(path);
        }
        free(entries[i]);
    }
    free(entries);
    return rc;
}

/* Adds KEY=VALUE to the image's environment unless the manifest sets KEY itself. */
static void env_default(struct build *b, const char *assignment)
{
    size_t key = strcspn(assignment, "=") + 1;

    for (size_t i = 0; i < b->env.len; i++)
        if (strncmp(b->env.items[i], assignment, key) == 0)
            return;
    strv_push(&b->env, assignment);
}

/* Adds an interpreter (python, node, sh) and the script, which becomes its first argument. */
static int gather_script(struct build *b, const char *interpreter, const char *image_path)
{
    char *script, *real_interpreter, *dest;
    int rc;

    if (!b->m.entrypoint) {
        err_set("%s: missing key 'entrypoint': kind %s needs the script to run", b->m.path,
                manifest_kind_name(b->m.kind));
        err_set_usage();
        return -1;
    }
    real_interpreter = realpath(interpreter, NULL);
    if (!real_interpreter) {
        err_set_errno(errno, "%s: interpreter %s for kind %s not found; install it on this host", b->m.path,
                      interpreter, manifest_kind_name(b->m.kind));
        return -1;
    }
    script = project_path(b, "entrypoint", b->m.entrypoint);
    if (!script) {
        free(real_interpreter);
        return -1;
    }
    b->entry = xstrdup(image_path);
    rc = add_elf_with_deps(b, image_path, real_interpreter);
    {
        char *joined = path_join("/app", b->m.entrypoint);

        dest = image_path_clean(joined);
        free(joined);
    }
    strv_push(&b->claimed_files, dest);
    if (rc == 0)
        rc = add_file(b, dest, script, 0755, true);
    strv_push(&b->entry_args, dest);
    free(dest);
    free(script);

    if (rc == 0 && b->m.kind == KIND_PYTHON) {
        const char *base = strrchr(real_interpreter, '/') + 1; /* python3.11 */
        char *stdlib = xasprintf("/usr/lib/%s", base);
        char *dynload = path_join(stdlib, "lib-dynload");

        rc = add_tree(b, stdlib, stdlib, NULL, false, python_skip_name);
        strv_push(&b->claimed_dirs, stdlib);
        if (rc == 0)
            rc = add_extension_deps(b, dynload);
        env_default(b, "PYTHONUNBUFFERED=1");
        env_default(b, "PYTHONDONTWRITEBYTECODE=1");
        free(dynload);
        free(stdlib);
    }
    free(real_interpreter);
    return rc;
}

static int gather_app(struct build *b)
{
    switch (b->m.kind) {
    case KIND_C: return gather_c(b);
    case KIND_BINARY: return gather_binary(b);
    case KIND_PYTHON: return gather_script(b, PYTHON, PYTHON);
    case KIND_NODE: {
        char *node = path_which("node");
        int rc;

        if (!node) {
            err_set("%s: kind node needs node on this host; install the nodejs package", b->m.path);
            return -1;
        }
        rc = gather_script(b, node, "/usr/bin/node");
        free(node);
        return rc;
    }
    case KIND_SHELL: return gather_script(b, SHELL, SHELL);
    }
    return -1;
}

static int gather_files(struct build *b)
{
    strv_push(&b->claimed_files, "/init");
    strv_push(&b->claimed_files, RUNCFG_IMAGE_PATH);
    for (size_t i = 0; i < b->m.n_files; i++) {
        const struct manifest_file *f = &b->m.files[i];
        char *src = project_path(b, "file", f->src), *dest, *joined = NULL;
        const char *conflict;
        bool is_dir;
        int rc;

        if (!src)
            return -1;
        is_dir = path_is_dir(src);
        /* "dest/" copies into that directory, as cp does. */
        if (f->dest[strlen(f->dest) - 1] == '/' && !is_dir)
            joined = path_join(f->dest, strrchr(src, '/') + 1);
        dest = image_path_clean(joined ? joined : f->dest);
        free(joined);
        conflict = claim_conflict(b, dest, is_dir);
        if (conflict) {
            err_set("%s: files[%zu]: destination %s clashes with %s, which the image already holds; "
                    "choose another destination", b->m.path, i, dest, conflict);
            err_set_usage();
            free(src);
            free(dest);
            return -1;
        }
        if (is_dir)
            rc = add_tree(b, dest, src, b->m.dir, true, NULL);
        else
            rc = add_file(b, dest, src, file_mode(src), true);
        strv_push_owned(is_dir ? &b->claimed_dirs : &b->claimed_files, dest);
        free(src);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int gather_modules(struct build *b)
{
    struct strv names = {0}, paths = {0};
    size_t prefix;
    int rc;

    if (!b->kernel.modules_dir) {
        if (b->m.kernel_modules.len == 0)
            return 0;
        err_set("%s: kernel_modules needs the kernel's modules; set modules: to its lib/modules/VERSION "
                "directory", b->m.path);
        err_set_usage();
        return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(base_features); i++) {
        const char *const *list = modules_for_feature(base_features[i]);

        for (size_t j = 0; list && list[j]; j++)
            if (!strv_contains(&names, list[j]))
                strv_push(&names, list[j]);
    }
    for (size_t i = 0; i < b->m.kernel_modules.len; i++)
        strv_push(&names, b->m.kernel_modules.items[i]);
    rc = modules_resolve(b->kernel.modules_dir, &names, &paths);
    prefix = strlen(b->kernel.modules_dir);
    for (size_t i = 0; rc == 0 && i < paths.len; i++) {
        char *dest = xasprintf("/lib/modules/%s%s", b->kernel.version, paths.items[i] + prefix);

        rc = add_file(b, dest, paths.items[i], 0644, false);
        strv_push_owned(&b->modules, dest);
    }
    strv_free(&names);
    strv_free(&paths);
    if (rc < 0)
        err_prefix("%s: kernel %s", b->m.path, b->kernel.version);
    return rc;
}

/* The minimal /etc an application expects; never a copy of the host's. */
static void add_etc(struct build *b)
{
    static const struct {
        const char *path;
        const char *text;
    } files[] = {
        {"/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
        {"/etc/resolv.conf", "nameserver 10.0.2.3\n"},
        {"/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
        {"/etc/group", "root:x:0:\nnogroup:x:65534:\n"},
        {"/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"},
    };

    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        initramfs_add_data(b->fs, files[i].path, files[i].text, strlen(files[i].text), 0644);
    initramfs_add_dir(b->fs, "/root", 0700);
    initramfs_add_dir(b->fs, "/tmp", 01777);
    initramfs_add_dir(b->fs, "/proc", 0755);
    initramfs_add_dir(b->fs, "/sys", 0755);
    initramfs_add_dir(b->fs, "/dev", 0755);
    initramfs_add_dir(b->fs, "/run", 0755);
}

/* Writes the image defaults for kiln-init (see runcfg.h). */
static void add_config(struct build *b)
{
    struct runcfg cfg;

    runcfg_init(&cfg);
    runcfg_add(&cfg, "entry", b->entry);
    for (size_t i = 0; i < b->entry_args.len; i++)
        runcfg_add(&cfg, "arg", b->entry_args.items[i]);
    for (size_t i = 0; i < b->m.args.len; i++)
        runcfg_add(&cfg, "arg", b->m.args.items[i]);
    for (size_t i = 0; i < b->env.len; i++)
        runcfg_add(&cfg, "env", b->env.items[i]);
    runcfg_add(&cfg, "workdir", b->m.workdir ? b->m.workdir : "/");
    for (size_t i = 0; i < b->modules.len; i++)
        runcfg_add(&cfg, "module", b->modules.items[i]);
    runcfg_add(&cfg, "net", "none");
    initramfs_add_data(b->fs, RUNCFG_IMAGE_PATH, cfg.data, cfg.len, 0644);
    digest_update(b->inputs, cfg.data, cfg.len);
    runcfg_free(&cfg);
}

char *builder_init_path(void)
{
    const char *env = getenv("KILN_INIT");
    char self[PATH_MAX];
    ssize_t n;

    if (env && *env)
        return xstrdup(env);
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        char *slash, *candidate;

        self[n] = '\0';
        slash = strrchr(self, '/');
        *slash = '\0';
        candidate = path_join(self, "kiln-init");
        if (access(candidate, R_OK) == 0)
            return candidate;
        free(candidate);
        /* build/asan/kiln uses build/kiln-init; an installed PREFIX/bin/kiln uses PREFIX/libexec. */
        candidate = path_join(self, "../kiln-init");
        if (access(candidate, R_OK) == 0)
            return candidate;
        free(candidate);
        candidate = path_join(self, "../libexec/kiln/kiln-init");
        if (access(candidate, R_OK) == 0)
            return candidate;
        free(candidate);
    }
    return xstrdup(KILN_LIBEXECDIR "/kiln-init");
}

static int run_build_command(struct build *b)
{
    int status;

    if (b->m.build.len == 0 && !b->m.build_shell)
        return 0;
    progress_report(&b->opts->progress, "running the build command");
    if (b->m.build.len > 0) {
        status = run_argv(b->m.build.items, b->m.dir, -1);
    } else {
        char *argv[] = {(char *)"/bin/sh", (char *)"-c", b->m.build_shell, NULL};

        status = run_argv(argv, b->m.dir, -1);
    }
    if (status < 0) {
        err_prefix("%s: build command", b->m.path);
        return -1;
    }
    if (status != 0) {
        err_set("%s: the build command failed with exit status %d; see its output above", b->m.path, status);
        return -1;
    }
    return 0;
}

/* Fills IMG's metadata from the build. */
static void describe_image(struct build *b, struct image *img, const char *input_digest)
{
    img->name = xstrdup(b->name);
    img->tag = xstrdup(b->tag);
    img->input_digest = xstrdup(input_digest);
    img->created = (long long)time_now();
    img->kind = xstrdup(manifest_kind_name(b->m.kind));
    img->kernel_version = xstrdup(b->kernel.version);
    img->cmdline = xstrdup(KERNEL_CMDLINE);
    strv_push(&img->entrypoint, b->entry);
    for (size_t i = 0; i < b->entry_args.len; i++)
        strv_push(&img->entrypoint, b->entry_args.items[i]);
    for (size_t i = 0; i < b->m.args.len; i++)
        strv_push(&img->cmd, b->m.args.items[i]);
    for (size_t i = 0; i < b->env.len; i++)
        strv_push(&img->env, b->env.items[i]);
    img->workdir = xstrdup(b->m.workdir ? b->m.workdir : "/");
    img->memory_mib = b->m.memory_mib;
    img->cpus = b->m.cpus;
    img->n_ports = b->m.n_ports;
    img->ports = xcalloc(b->m.n_ports, sizeof(*img->ports));
    for (size_t i = 0; i < b->m.n_ports; i++) {
        img->ports[i].port = b->m.ports[i].port;
        memcpy(img->ports[i].proto, b->m.ports[i].proto, sizeof(img->ports[i].proto));
    }
    img->manifest_json = manifest_to_json(&b->m);
}

static void digest_strv(struct digest *d, const char *label, const struct strv *v)
{
    digest_update_str(d, label);
    for (size_t i = 0; i < v->len; i++)
        digest_update_str(d, v->items[i]);
}

/* Computes the image digest: the initrd's bytes, the kernel version and every run default. */
static void image_digest(const struct image *img, const char *initrd_digest, char out[DIGEST_TEXT_SIZE])
{
    struct digest *d = digest_new();
    char numbers[64];

    digest_update_str(d, initrd_digest);
    digest_update_str(d, img->kernel_version);
    digest_update_str(d, img->cmdline);
    digest_strv(d, "entrypoint", &img->entrypoint);
    digest_strv(d, "cmd", &img->cmd);
    digest_strv(d, "env", &img->env);
    digest_update_str(d, img->workdir);
    snprintf(numbers, sizeof(numbers), "%lld %d", img->memory_mib, img->cpus);
    digest_update_str(d, numbers);
    for (size_t i = 0; i < img->n_ports; i++) {
        snprintf(numbers, sizeof(numbers), "%d/%s", img->ports[i].port, img->ports[i].proto);
        digest_update_str(d, numbers);
    }
    digest_finish(d, out);
}

/* Writes the initrd, links the kernel and image.json into the stage, then commits it. */
static int write_image(struct build *b, struct image *img)
{
    char *initrd = path_join(b->stage, IMAGE_INITRD_FILE);
    char *kernel = path_join(b->stage, IMAGE_KERNEL_FILE);
    char digest[DIGEST_TEXT_SIZE];
    struct stat st;
    int rc = -1;

    progress_report(&b->opts->progress, "writing the initramfs");
    if (initramfs_write(b->fs, initrd) < 0 || digest_file(initrd, digest) < 0)
        goto cleanup;
    if (link(b->kernel.vmlinuz, kernel) < 0 && file_copy(b->kernel.vmlinuz, kernel, 0644) < 0)
        goto cleanup;
    {
        char full[DIGEST_TEXT_SIZE];

        image_digest(img, digest, full);
        img->digest = xstrdup(full);
    }
    if (stat(initrd, &st) == 0)
        img->initrd_size = (unsigned long long)st.st_size;
    if (stat(kernel, &st) == 0)
        img->kernel_size = (unsigned long long)st.st_size;
    if (image_save(img, b->stage) < 0)
        goto cleanup;
    if (store_image_commit(b->stage, b->name, b->tag) < 0)
        goto cleanup;
    free(b->stage);
    b->stage = NULL;
    img->dir = store_image_dir(b->name, b->tag);
    rc = 0;
cleanup:
    free(initrd);
    free(kernel);
    return rc;
}

/* Returns true (and loads OUT) when the stored image was built from the same inputs. */
static bool reuse_cached(struct build *b, const char *input_digest, struct image *out)
{
    struct image old = {0};
    char *ref = xasprintf("%s:%s", b->name, b->tag);
    bool same = false;

    if (!b->opts->no_cache && store_image_get(ref, &old) == 0) {
        char *initrd = image_initrd_path(&old);
        char *kernel = image_kernel_path(&old);

        same = old.input_digest && strcmp(old.input_digest, input_digest) == 0 && path_exists(initrd) &&
               path_exists(kernel);
        free(initrd);
        free(kernel);
    }
    if (same)
        *out = old;
    else
        image_free(&old);
    err_clear();
    free(ref);
    return same;
}

static void build_free(struct build *b)
{
    if (b->stage)
        rm_rf(b->stage);
    if (b->lock_fd >= 0)
        store_unlock(b->lock_fd);
    if (b->inputs) {
        char unused[DIGEST_TEXT_SIZE];

        digest_finish(b->inputs, unused);
    }
    initramfs_free(b->fs);
    manifest_free(&b->m);
    kernel_free(&b->kernel);
    free(b->name);
    free(b->tag);
    free(b->stage);
    free(b->entry);
    free(b->c_binary);
    strv_free(&b->entry_args);
    strv_free(&b->env);
    strv_free(&b->modules);
    strv_free(&b->claimed_files);
    strv_free(&b->claimed_dirs);
}

/* Reads the manifest and settles the image's name and tag. */
static int build_prepare(struct build *b)
{
    progress_report(&b->opts->progress, "reading %s", b->opts->dir);
    if (manifest_load(b->opts->dir, &b->m) < 0)
        return -1;
    if (b->opts->ref) {
        if (image_ref_parse(b->opts->ref, &b->name, &b->tag) < 0)
            return -1;
    } else {
        b->name = xstrdup(b->m.name);
        b->tag = xstrdup(IMAGE_DEFAULT_TAG);
    }
    if (store_init() < 0)
        return -1;
    progress_report(&b->opts->progress, "kernel %s", b->m.kernel ? b->m.kernel : KERNEL_DEFAULT);
    if (kernel_resolve(b->m.kernel ? b->m.kernel : KERNEL_DEFAULT, b->m.modules, &b->opts->progress, &b->kernel) < 0)
        return -1;
    return 0;
}

int builder_build(const struct build_options *opts, struct image *out, bool *cached)
{
    struct build b = {.opts = opts, .lock_fd = -1};
    char input_digest[DIGEST_TEXT_SIZE], *init = NULL, *lock_key = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    *cached = false;
    if (build_prepare(&b) < 0)
        goto cleanup;
    lock_key = xasprintf("image-%s-%s", b.name, b.tag);
    b.lock_fd = store_lock(lock_key);
    if (b.lock_fd < 0)
        goto cleanup;
    if (run_build_command(&b) < 0)
        goto cleanup;

    b.stage = store_stage_dir("build");
    if (!b.stage)
        goto cleanup;
    b.fs = initramfs_new();
    for (size_t i = 0; i < b.m.env.len; i++)
        strv_push(&b.env, b.m.env.items[i]);
    b.inputs = digest_new();
    digest_update_str(b.inputs, KILN_VERSION);
    digest_update_str(b.inputs, b.kernel.version);
    digest_update_str(b.inputs, b.name);

    progress_report(&opts->progress, "gathering the %s application and its libraries", manifest_kind_name(b.m.kind));
    add_etc(&b);
    if (gather_app(&b) < 0 || gather_files(&b) < 0)
        goto cleanup;
    progress_report(&opts->progress, "selecting kernel modules");
    if (gather_modules(&b) < 0)
        goto cleanup;
    init = builder_init_path();
    if (!path_exists(init)) {
        err_set("kiln-init not found at %s; run make, or set KILN_INIT", init);
        goto cleanup;
    }
    digest_update_file(b.inputs, init);
    initramfs_add_file(b.fs, "/init", init, 0755);
    add_config(&b);
    {
        char *manifest = manifest_to_json(&b.m);

        digest_update_str(b.inputs, manifest);
        free(manifest);
    }

    digest_finish(b.inputs, input_digest);
    b.inputs = NULL;
    if (reuse_cached(&b, input_digest, out)) {
        *cached = true;
        progress_report(&opts->progress, "inputs unchanged: reusing %s:%s", b.name, b.tag);
        rc = 0;
        goto cleanup;
    }
    if (b.m.kind == KIND_C) {
        if (b.m.sources.len > 0)
            progress_report(&opts->progress, "compiling with musl-gcc -static");
        if (compile_c(&b) < 0)
            goto cleanup;
    }
    describe_image(&b, out, input_digest);
    if (write_image(&b, out) < 0) {
        image_free(out);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(init);
    free(lock_key);
    build_free(&b);
    return rc;
}
