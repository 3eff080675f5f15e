/* Shared library dependencies of an ELF file, read with libelf (the program is never run). */
#ifndef KILN_DEPS_H
#define KILN_DEPS_H

#include "util.h"

/*
 * Appends to OUT every file the dynamic loader needs to start the ELF at PATH:
 * its interpreter and each DT_NEEDED library, recursively, found through
 * RUNPATH/RPATH ($ORIGIN expanded), /etc/ld.so.conf directories and the default
 * directories. Each entry is the absolute path at which the loader will look,
 * which is also where the image must hold it. A static ELF adds nothing.
 * Errors: PATH is not an ELF; a library is not found (naming it and who needs it).
 */
int deps_resolve(const char *path, struct strv *out);
/* True when PATH is an ELF file (by its header). */
int deps_is_elf(const char *path);

#endif
