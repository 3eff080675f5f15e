/* Parsing of the dashboard's dialog fields, on top of the CLI's run option parsers (runopts.h). */
#ifndef KILN_UI_FORM_H
#define KILN_UI_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "util.h"

/*
 * Parses port mappings separated by commas or blanks, each as kiln run -p takes
 * it ("HOST:GUEST", "IP:HOST:GUEST", optionally "/tcp" or "/udp"). Appends to
 * *OUT and *N. Returns -1 with the error record naming the bad entry.
 */
int form_parse_ports(const char *text, struct port_map **out, size_t *n);
/* Splits TEXT into words like a shell: blanks separate, quotes and backslashes group. */
int form_split_words(const char *text, struct strv *out);
/*
 * Splits TEXT into words, each as kiln run -e takes it: KEY=VALUE, or KEY alone
 * to copy the dashboard's own value. Appends to OUT only when every word is valid.
 */
int form_parse_env(const char *text, struct strv *out);

/*
 * Completes the path INPUT against the file system: returns the longest
 * completion shared by every match (a directory gets a trailing '/') and fills
 * MATCHES with the candidate names when there are several. Caller frees.
 */
char *form_complete_path(const char *input, struct strv *matches);
/* Returns PATH with a leading "~" or "~/" replaced by $HOME (PATH unchanged without HOME). Caller frees. */
char *form_expand_home(const char *path);
/* Joins WORDS with blanks into BUF, double-quoting a word that form_split_words would split or strip. */
void form_join_words(const struct strv *words, char *buf, size_t size);
/*
 * Joins NAMES with ", " into BUF, keeping to about MAX bytes: the names that do
 * not fit are counted as " and N more". The first name is always shown.
 */
void form_join_names(const struct strv *names, size_t max, char *buf, size_t size);

#endif
