/* Shared library dependencies of an ELF file, found the way ld.so finds them, read with libelf. */
#include "build/deps.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LD_SO_CONF "/etc/ld.so.conf"
/* ld.so.conf include depth at which a loop is assumed. */
#define CONF_MAX_DEPTH 8

/* Directories searched after RUNPATH and ld.so.conf, in this order. */
static const char *const default_dirs[] = {
    "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
    "/lib64", "/usr/lib64",
    "/lib", "/usr/lib",
};

/* What the loader needs from one ELF object. */
struct elf_info {
    int elf_class;     /* ELFCLASS32 or ELFCLASS64 */
    int machine;       /* e_machine */
    char *interp;      /* PT_INTERP, or NULL */
    char *soname;      /* DT_SONAME, or NULL */
    char *rpath;       /* DT_RPATH, or NULL */
    char *runpath;     /* DT_RUNPATH, or NULL */
    struct strv needed; /* DT_NEEDED in order */
};

/* An object on the loading chain, for the RPATH of its loaders. */
struct loader {
    const char *path;
    const char *origin; /* directory that $ORIGIN names */
    const struct elf_info *info;
    const struct loader *parent;
};

struct resolver {
    int elf_class;
    int machine;
    struct strv conf_dirs;  /* directories named by ld.so.conf */
    struct strv sonames;    /* names already satisfied, like the loader's list of loaded objects */
    struct strv found;      /* paths found so far */
};

static void elf_info_free(struct elf_info *info)
{
    free(info->interp);
    free(info->soname);
    free(info->rpath);
    free(info->runpath);
    strv_free(&info->needed);
}

int deps_is_elf(const char *path)
{
    unsigned char magic[SELFMAG];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, magic, sizeof(magic));
    close(fd);
    return n == (ssize_t)sizeof(magic) && memcmp(magic, ELFMAG, SELFMAG) == 0;
}

/* Reads the PT_INTERP string, bounded by the file size. */
static int read_interp(Elf *elf, const char *path, struct elf_info *info)
{
    size_t phnum, size;
    const char *raw = elf_rawfile(elf, &size);

    if (elf_getphdrnum(elf, &phnum) != 0) {
        err_set("%s: invalid ELF program headers: %s", path, elf_errmsg(-1));
        return -1;
    }
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr phdr;

        if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_INTERP)
            continue;
        if (!raw || phdr.p_offset >= size || phdr.p_filesz > size - phdr.p_offset || phdr.p_filesz == 0) {
            err_set("%s: invalid PT_INTERP segment; the file may be truncated", path);
            return -1;
        }
        info->interp = xstrndup(raw + phdr.p_offset, strnlen(raw + phdr.p_offset, phdr.p_filesz));
        break;
    }
    return 0;
}

/* Reads DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH from the SHT_DYNAMIC section. */
static int read_dynamic(Elf *elf, const char *path, struct elf_info *info)
{
    Elf_Scn *scn = NULL;

    while ((scn = elf_nextscn(elf, scn))) {
        GElf_Shdr shdr;
        Elf_Data *data;

        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC)
            continue;
        data = elf_getdata(scn, NULL);
        if (!data || shdr.sh_entsize == 0) {
            err_set("%s: invalid dynamic section: %s", path, elf_errmsg(-1));
            return -1;
        }
        for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
            GElf_Dyn dyn;
            const char *s;

            if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag == DT_NULL)
                break;
            if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME && dyn.d_tag != DT_RPATH &&
                dyn.d_tag != DT_RUNPATH)
                continue;
            s = elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val);
            if (!s) {
                err_set("%s: invalid string in the dynamic section: %s", path, elf_errmsg(-1));
                return -1;
            }
            if (dyn.d_tag == DT_NEEDED)
                strv_push(&info->needed, s);
            else if (dyn.d_tag == DT_SONAME && !info->soname)
                info->soname = xstrdup(s);
            else if (dyn.d_tag == DT_RPATH && !info->rpath)
                info->rpath = xstrdup(s);
            else if (dyn.d_tag == DT_RUNPATH && !info->runpath)
                info->runpath = xstrdup(s);
        }
        return 0;
    }
    return 0;
}

/*
 * Reads what the loader needs from PATH. A file that is not ELF fails with
 * "PATH: not an ELF file".
 * NOTE: the dynamic entries are read through the section headers, so a program
 * stripped of them (sstrip) is treated as having no DT_NEEDED entries.
 */
static int elf_info_read(const char *path, struct elf_info *info)
{
    int fd, rc = -1;
    Elf *elf = NULL;
    GElf_Ehdr ehdr;

    memset(info, 0, sizeof(*info));
    if (elf_version(EV_CURRENT) == EV_NONE) {
        err_set("libelf is out of date: %s", elf_errmsg(-1));
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set_errno(errno, "cannot read %s", path);
        return -1;
    }
    elf = elf_begin(fd, ELF_C_READ, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
        err_set("%s: not an ELF file", path);
        goto cleanup;
    }
    info->elf_class = gelf_getclass(elf);
    info->machine = ehdr.e_machine;

    if (read_interp(elf, path, info) < 0 || read_dynamic(elf, path, info) < 0)
        goto cleanup;
    rc = 0;

cleanup:
    if (elf)
        elf_end(elf);
    close(fd);
    if (rc < 0)
        elf_info_free(info);
    return rc;
}

/* Adds the directories of one ld.so.conf file, following "include GLOB" lines. */
static void conf_read(struct resolver *r, const char *path, int depth)
{
    char *text, *save = NULL, *dir;

    if (depth > CONF_MAX_DEPTH)
        return;
    text = file_read(path, NULL);
    if (!text) {
        log_debug("skipping %s: %s", path, err_msg());
        return;
    }
    dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *hash = strchr(line, '#'), *end;

        if (hash)
            *hash = '\0';
        line += strspn(line, " \t");
        end = line + strlen(line);
        while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (!*line)
            continue;

        if (strncmp(line, "include", 7) == 0 && (line[7] == ' ' || line[7] == '\t')) {
            char *pattern = line + 7 + strspn(line + 7, " \t");
            char *full = pattern[0] == '/' ? xstrdup(pattern) : path_join(dir, pattern);
            glob_t g;

            if (glob(full, 0, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc; i++)
                    conf_read(r, g.gl_pathv[i], depth + 1);
                globfree(&g);
            }
            free(full);
        } else if (line[0] == '/' && !strv_contains(&r->conf_dirs, line)) {
            strv_push(&r->conf_dirs, line);
        }
    }
    free(dir);
    free(text);
}

/* True when PATH is a regular file holding an ELF object the resolver's program can load. */
static bool library_fits(const struct resolver *r, const char *path)
{
    struct stat st;
    struct elf_info info;
    bool fits;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !deps_is_elf(path))
        return false;
    if (elf_info_read(path, &info) < 0)
        return false;
    fits = info.elf_class == r->elf_class && info.machine == r->machine;
    elf_info_free(&info);
    return fits;
}

/* Replaces $ORIGIN and ${ORIGIN} in DIR with ORIGIN. */
static char *expand_origin(const char *dir, const char *origin)
{
    size_t cap = strlen(dir) + 1, len = 0;
    char *out = xmalloc(cap);

    while (*dir) {
        size_t skip = 0;

        if (strncmp(dir, "$ORIGIN", 7) == 0)
            skip = 7;
        else if (strncmp(dir, "${ORIGIN}", 9) == 0)
            skip = 9;
        if (skip) {
            size_t n = strlen(origin);

            cap += n;
            out = xrealloc(out, cap);
            memcpy(out + len, origin, n);
            len += n;
            dir += skip;
        } else {
            out[len++] = *dir++;
        }
    }
    out[len] = '\0';
    return out;
}

/*
 * Looks for NAME in each directory of the colon-separated LIST.
 * NOTE: only $ORIGIN is expanded. $LIB and $PLATFORM stay literal, so
 * directories using them are never searched.
 */
static char *search_list(const struct resolver *r, const char *list, const char *origin, const char *name)
{
    char *copy = xstrdup(list), *save = NULL, *found = NULL;

    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *expanded = expand_origin(dir, origin);
        char *candidate = path_join(expanded, name);

        if (candidate[0] == '/' && library_fits(r, candidate))
            found = candidate;
        else
            free(candidate);
        free(expanded);
    }
    free(copy);
    return found;
}

static char *search_dirs(const struct resolver *r, char *const *dirs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        char *candidate = path_join(dirs[i], name);

        if (library_fits(r, candidate))
            return candidate;
        free(candidate);
    }
    return NULL;
}

static char *dir_of(const char *path)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');

    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    return dir;
}

/*
 * Finds NAME needed by the object at the head of CHAIN, in ld.so's order: DT_RPATH
 * of the object and then of its loaders (only when the object has no DT_RUNPATH),
 * DT_RUNPATH, ld.so.conf directories, the default directories. LD_LIBRARY_PATH is
 * ignored because the image does not inherit the host's environment.
 */
static char *library_find(struct resolver *r, const struct loader *chain, const char *name)
{
    char *found = NULL;

    if (strchr(name, '/'))
        return name[0] == '/' && library_fits(r, name) ? xstrdup(name) : NULL;

    if (!chain->info->runpath) {
        for (const struct loader *l = chain; l && !found; l = l->parent)
            if (l->info->rpath)
                found = search_list(r, l->info->rpath, l->origin, name);
    } else {
        found = search_list(r, chain->info->runpath, chain->origin, name);
    }
    if (!found)
        found = search_dirs(r, r->conf_dirs.items, r->conf_dirs.len, name);
    if (!found)
        found = search_dirs(r, (char *const *)default_dirs, ARRAY_SIZE(default_dirs), name);
    return found;
}

/* Resolves what the object at PATH (with INFO read from it) needs, depth first. */
static int object_walk(struct resolver *r, const char *path, const char *origin,
                       const struct elf_info *info, const struct loader *parent)
{
    struct loader self = {path, origin, info, parent};

    for (size_t i = 0; i < info->needed.len; i++) {
        const char *name = info->needed.items[i];
        struct elf_info lib;
        char *found, *lib_origin;
        int rc;

        if (strv_contains(&r->sonames, name))
            continue;
        found = library_find(r, &self, name);
        if (!found) {
            err_set("%s needed by %s: not found in %sthe system library path; "
                    "install the package that provides it", name, path,
                    info->runpath ? "RUNPATH or " : info->rpath ? "RPATH or " : "");
            return -1;
        }
        strv_push(&r->sonames, name);
        if (strv_contains(&r->found, found)) {
            free(found);
            continue;
        }
        if (elf_info_read(found, &lib) < 0) {
            free(found);
            return -1;
        }
        if (lib.soname && !strv_contains(&r->sonames, lib.soname))
            strv_push(&r->sonames, lib.soname);
        strv_push_owned(&r->found, found);
        lib_origin = dir_of(found);
        rc = object_walk(r, found, lib_origin, &lib, &self);
        free(lib_origin);
        elf_info_free(&lib);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Records the program interpreter, which ld.so also counts as loaded under its soname. */
static int interp_add(struct resolver *r, const char *path, const char *interp)
{
    struct elf_info info;
    const char *base = strrchr(interp, '/');

    if (interp[0] != '/' || !path_exists(interp)) {
        err_set("%s: its interpreter %s is not found; install the package that provides it", path, interp);
        return -1;
    }
    if (elf_info_read(interp, &info) < 0)
        return -1;
    strv_push(&r->sonames, base + 1);
    if (info.soname && !strv_contains(&r->sonames, info.soname))
        strv_push(&r->sonames, info.soname);
    elf_info_free(&info);
    strv_push(&r->found, interp);
    return 0;
}

int deps_resolve(const char *path, struct strv *out)
{
    struct resolver r = {0};
    struct elf_info info;
    char *real = NULL, *origin = NULL;
    int rc = -1;

    if (elf_info_read(path, &info) < 0)
        return -1;
    r.elf_class = info.elf_class;
    r.machine = info.machine;
    conf_read(&r, LD_SO_CONF, 0);

    if (info.interp && interp_add(&r, path, info.interp) < 0)
        goto cleanup;
    /* $ORIGIN of the program is the directory of its canonical path, as the kernel reports it. */
    real = path_real(path);
    if (!real)
        goto cleanup;
    origin = dir_of(real);
    if (object_walk(&r, path, origin, &info, NULL) < 0)
        goto cleanup;

    strv_sort(&r.found);
    for (size_t i = 0; i < r.found.len; i++)
        if (!strv_contains(out, r.found.items[i]))
            strv_push(out, r.found.items[i]);
    rc = 0;

cleanup:
    free(real);
    free(origin);
    elf_info_free(&info);
    strv_free(&r.conf_dirs);
    strv_free(&r.sonames);
    strv_free(&r.found);
    return rc;
}
