/* An image: its metadata (image.json, read and written with jansson) and its reference. */
#ifndef KILN_IMAGE_H
#define KILN_IMAGE_H

#include <stdbool.h>

#include "util.h"

#define IMAGE_KERNEL_FILE "vmlinuz"
#define IMAGE_INITRD_FILE "initrd"
#define IMAGE_META_FILE "image.json"
#define IMAGE_DEFAULT_TAG "latest"

struct image_port {
    int port;      /* inside the VM */
    char proto[4]; /* "tcp" or "udp" */
};

struct image {
    char *name;
    char *tag;
    char *digest;         /* "sha256:HEX" of the initrd bytes, kernel version and run defaults */
    char *input_digest;   /* "sha256:HEX" of everything the build read: the cache key */
    long long created;    /* seconds since the epoch */
    char *kind;           /* "c", "binary", "python", "node", "shell" */
    char *kernel_version; /* e.g. "6.1.0-57-cloud-amd64" */
    char *cmdline;        /* kernel command line to boot with */
    unsigned long long kernel_size;
    unsigned long long initrd_size;
    struct strv entrypoint; /* program inside the image and its fixed arguments (docker's ENTRYPOINT) */
    struct strv cmd;        /* default arguments, replaced by kiln run's (docker's CMD) */
    struct strv env;        /* "KEY=VALUE" */
    char *workdir;
    long long memory_mib;
    int cpus;
    struct image_port *ports;
    size_t n_ports;
    char *manifest_json;  /* the manifest as JSON text, for inspect; may be NULL */
    char *dir;            /* the image's directory in the store (not serialized) */
};

/*
 * Splits "NAME[:TAG]" into *NAME and *TAG (default "latest"). Names are lower
 * case letters, digits, '.', '_' and '-' starting with a letter or digit, at most
 * 64 characters, no "..". Tags: letters, digits, '.', '_', '-', not starting
 * with '.' or '-' (a tag is a directory name), at most 64.
 * Returns -1 with a usage error naming REF otherwise.
 */
int image_ref_parse(const char *ref, char **name, char **tag);
bool image_name_valid(const char *name);
bool image_tag_valid(const char *tag);

/* Reads DIR/image.json into IMG (IMG->dir = DIR). */
int image_load(const char *dir, struct image *img);
/* Writes IMG as DIR/image.json, atomically. */
int image_save(const struct image *img, const char *dir);
/* Returns the JSON text kiln inspect prints (pretty, keys sorted); caller frees. */
char *image_to_json(const struct image *img, bool pretty);
void image_free(struct image *img);
/* Kernel and initrd paths of a stored image; caller frees. */
char *image_kernel_path(const struct image *img);
char *image_initrd_path(const struct image *img);

#endif
