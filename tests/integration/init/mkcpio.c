/* Test helper: writes the tree under ROOT to stdout as a newc cpio archive (uid 0, mtime 0). */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t root_len;
static unsigned long ino = 1;

static void pad(size_t len)
{
    static const char zeros[4];

    fwrite(zeros, 1, (4 - len % 4) % 4, stdout);
}

static void entry(const char *name, mode_t mode, const char *data, size_t size)
{
    size_t name_size = strlen(name) + 1;

    printf("070701%08lX%08X%08X%08X%08X%08X%08lX%08X%08X%08X%08X%08lX%08X", ino++, (unsigned)mode, 0u, 0u,
           1u, 0u, (unsigned long)size, 0u, 0u, 0u, 0u, (unsigned long)name_size, 0u);
    fwrite(name, 1, name_size, stdout);
    pad(110 + name_size);
    fwrite(data, 1, size, stdout);
    pad(size);
}

static int add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    const char *name = path + root_len;
    char *data = NULL;
    size_t size = 0;

    (void)type;
    (void)ftw;

    while (*name == '/')
        name++;
    if (*name == '\0')
        return 0;
    if (S_ISLNK(st->st_mode)) {
        data = calloc(1, (size_t)st->st_size + 1);
        if (!data || readlink(path, data, (size_t)st->st_size) != st->st_size)
            return perror(path), 1;
        size = (size_t)st->st_size;
    } else if (S_ISREG(st->st_mode)) {
        FILE *f = fopen(path, "rb");
        data = malloc((size_t)st->st_size + 1);
        if (!f || !data || fread(data, 1, (size_t)st->st_size, f) != (size_t)st->st_size)
            return perror(path), 1;
        fclose(f);
        size = (size_t)st->st_size;
    } else if (!S_ISDIR(st->st_mode)) {
        fprintf(stderr, "mkcpio: %s: unsupported file type\n", path);
        return 1;
    }
    entry(name, st->st_mode, data, size);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkcpio ROOT > archive.cpio\n");
        return 2;
    }
    root_len = strlen(argv[1]);
    if (nftw(argv[1], add, 16, FTW_PHYS) != 0)
        return 1;
    entry("TRAILER!!!", 0, NULL, 0);
    return fflush(stdout) == 0 ? 0 : 1;
}
