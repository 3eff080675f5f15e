/* Parsing of the dashboard's dialog fields: port mappings, environment, arguments, names. */
#ifndef KILN_UI_FORM_H
#define KILN_UI_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "util.h"

/*
 * Parses port mappings separated by commas or blanks, each "HOST:GUEST",
 * "IP:HOST:GUEST", optionally followed by "/tcp" or "/udp". Appends to *OUT and
 * *N. Returns -1 with the error record naming the bad entry.
 */
int form_parse_ports(const char *text, struct port_map **out, size_t *n);
/* Splits TEXT into words like a shell: blanks separate, quotes and backslashes group. */
int form_split_words(const char *text, struct strv *out);
/* Splits TEXT into words and checks that each is KEY=VALUE with a valid variable name. */
int form_parse_env(const char *text, struct strv *out);
/* True for an instance name: a letter or digit, then letters, digits, '_', '.', '-'; at most 64. */
bool form_name_valid(const char *name);

/*
 * Completes the path INPUT against the file system: returns the longest
 * completion shared by every match (a directory gets a trailing '/') and fills
 * MATCHES with the candidate names when there are several. Caller frees.
 */
char *form_complete_path(const char *input, struct strv *matches);

#endif
