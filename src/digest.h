/* SHA-256 digests (OpenSSL's EVP interface) as "sha256:HEX" strings. */
#ifndef KILN_DIGEST_H
#define KILN_DIGEST_H

#include <stddef.h>

#define DIGEST_TEXT_SIZE 72 /* "sha256:" + 64 hex digits + NUL */

struct digest;

struct digest *digest_new(void);
void digest_update(struct digest *d, const void *data, size_t len);
/* Feeds a string and its terminating NUL, so "ab","c" and "a","bc" differ. */
void digest_update_str(struct digest *d, const char *s);
/* Feeds the bytes of the file at PATH; -1 with the error record set when unreadable. */
int digest_update_file(struct digest *d, const char *path);
/* Writes "sha256:HEX" into OUT and frees D. */
void digest_finish(struct digest *d, char out[DIGEST_TEXT_SIZE]);
/* Digest of one file's bytes. */
int digest_file(const char *path, char out[DIGEST_TEXT_SIZE]);

#endif
