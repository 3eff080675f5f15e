/* SHA-256 digests through OpenSSL's EVP interface. */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct digest {
    EVP_MD_CTX *ctx;
};

struct digest *digest_new(void)
{
    struct digest *d = xmalloc(sizeof(*d));

    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "kiln: OpenSSL cannot compute SHA-256\n");
        abort();
    }
    return d;
}

void digest_update(struct digest *d, const void *data, size_t len)
{
    EVP_DigestUpdate(d->ctx, data, len);
}

void digest_update_str(struct digest *d, const char *s)
{
    digest_update(d, s ? s : "", s ? strlen(s) + 1 : 1);
}

int digest_update_file(struct digest *d, const char *path)
{
    char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        err_set_errno(errno, "cannot read %s", path);
        return -1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        digest_update(d, buf, (size_t)n);
    if (n < 0)
        err_set_errno(errno, "cannot read %s", path);
    close(fd);
    return n < 0 ? -1 : 0;
}

void digest_finish(struct digest *d, char out[DIGEST_TEXT_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    EVP_DigestFinal_ex(d->ctx, md, &len);
    EVP_MD_CTX_free(d->ctx);
    free(d);
    memcpy(out, "sha256:", 7);
    for (unsigned int i = 0; i < len && i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

int digest_file(const char *path, char out[DIGEST_TEXT_SIZE])
{
    struct digest *d = digest_new();

    if (digest_update_file(d, path) < 0) {
        digest_finish(d, out);
        return -1;
    }
    digest_finish(d, out);
    return 0;
}
