/* kiln.yaml: the project manifest, read with libyaml into struct manifest. */
#ifndef KILN_MANIFEST_H
#define KILN_MANIFEST_H

#include <stddef.h>

#include "util.h"

enum manifest_kind {
    KIND_C,      /* C sources compiled with musl-gcc -static */
    KIND_BINARY, /* a prebuilt ELF plus the shared libraries it needs */
    KIND_PYTHON, /* a script run by the host's python3 */
    KIND_NODE,   /* a script run by the host's node */
    KIND_SHELL,  /* a script run by the host's /bin/sh (dash) */
};

/* A file or directory copied into the image. */
struct manifest_file {
    char *src;  /* host path, relative to the project directory */
    char *dest; /* absolute path inside the image */
};

struct manifest_port {
    int port;      /* 1..65535, the port the app listens on inside the VM */
    char proto[4]; /* "tcp" or "udp" */
};

struct manifest {
    char *path;            /* the kiln.yaml that was read */
    char *dir;             /* its directory, absolute */
    char *name;            /* image name; required */
    enum manifest_kind kind;
    struct strv sources;   /* c: source files, relative to dir */
    struct strv cflags;    /* c: extra compiler flags */
    struct strv build;     /* optional host build command as argv (run in dir) */
    char *build_shell;     /* or the same as one string, run with /bin/sh -c */
    char *entrypoint;      /* c: binary name; binary: ELF path; scripts: script path */
    struct strv args;      /* default arguments */
    struct strv env;       /* "KEY=VALUE", in file order */
    char *workdir;         /* working directory inside the image, default "/" */
    struct manifest_file *files;
    size_t n_files;
    long long memory_mib;  /* default 128 */
    int cpus;              /* default 1 */
    struct manifest_port *ports;
    size_t n_ports;
    char *kernel;          /* "debian-cloud" (default) or the absolute host path of a vmlinuz */
    char *modules;         /* with a custom kernel: absolute host path of lib/modules/VERSION */
    struct strv kernel_modules; /* extra kernel modules the app needs, by name */
};

/*
 * Reads PATH (a kiln.yaml, or a directory containing one). On error returns -1, leaves
 * OUT zeroed and sets the error record to "FILE:LINE:COLUMN: KEY: what was expected",
 * usage-class. A file that exists but cannot be read is a runtime error instead.
 */
int manifest_load(const char *path, struct manifest *out);
void manifest_free(struct manifest *m);
const char *manifest_kind_name(enum manifest_kind kind);
/*
 * Returns M as compact JSON text with every field normalized (defaults filled in,
 * env as an object, ports as {port, proto}). The image stores it for kiln inspect.
 * The caller frees the text. Returns NULL (error record set) only when memory runs out.
 */
char *manifest_to_json(const struct manifest *m);

#endif
