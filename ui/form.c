/* Parsing of the dashboard's dialog fields: port mappings, environment, arguments, names. */
#include "ui/form.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runopts.h"

int form_parse_ports(const char *text, struct port_map **out, size_t *n)
{
    char *copy = xstrdup(text), *save = NULL;
    int rc = 0;

    for (char *item = strtok_r(copy, ", \t", &save); item; item = strtok_r(NULL, ", \t", &save)) {
        struct port_map p;

        if (runopts_parse_port(item, &p) < 0) {
            rc = -1;
            break;
        }
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = p;
    }
    free(copy);
    return rc;
}

int form_split_words(const char *text, struct strv *out)
{
    size_t len = strlen(text);
    char *word = xmalloc(len + 1);
    size_t used = 0;
    bool in_word = false;
    char quote = 0;

    for (const char *s = text; *s; s++) {
        if (quote) {
            if (*s == quote)
                quote = 0;
            else if (*s == '\\' && quote == '"' && (s[1] == '"' || s[1] == '\\'))
                word[used++] = *++s;
            else
                word[used++] = *s;
        } else if (*s == '\'' || *s == '"') {
            quote = *s;
            in_word = true;
        } else if (*s == '\\' && s[1]) {
            word[used++] = *++s;
            in_word = true;
        } else if (isspace((unsigned char)*s)) {
            if (in_word)
                strv_push_owned(out, xstrndup(word, used));
            used = 0;
            in_word = false;
        } else {
            word[used++] = *s;
            in_word = true;
        }
    }
    if (quote) {
        free(word);
        err_set("missing closing %c quote in '%s'", quote, text);
        return -1;
    }
    if (in_word)
        strv_push_owned(out, xstrndup(word, used));
    free(word);
    return 0;
}

int form_parse_env(const char *text, struct strv *out)
{
    struct strv words = { 0 }, env = { 0 };
    int rc = -1;

    if (form_split_words(text, &words) < 0)
        goto cleanup;
    for (size_t i = 0; i < words.len; i++)
        if (runopts_parse_env(words.items[i], &env) < 0)
            goto cleanup;
    for (size_t i = 0; i < env.len; i++)
        strv_push(out, env.items[i]);
    rc = 0;

cleanup:
    strv_free(&words);
    strv_free(&env);
    return rc;
}

/* Splits INPUT into the directory to list and the prefix of the name being typed. */
static void split_path(const char *input, char **dir, char **prefix)
{
    const char *slash = strrchr(input, '/');

    if (!slash) {
        *dir = xstrdup(".");
        *prefix = xstrdup(input);
    } else if (slash == input) {
        *dir = xstrdup("/");
        *prefix = xstrdup(slash + 1);
    } else {
        *dir = xstrndup(input, (size_t)(slash - input));
        *prefix = xstrdup(slash + 1);
    }
}

char *form_complete_path(const char *input, struct strv *matches)
{
    char *dir, *prefix, *common = NULL, *result;
    size_t plen;
    DIR *d;
    struct dirent *e;

    split_path(input, &dir, &prefix);
    plen = strlen(prefix);
    d = opendir(dir);
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strncmp(e->d_name, prefix, plen) != 0 || (e->d_name[0] == '.' && prefix[0] != '.'))
            continue;
        char *full = path_join(dir, e->d_name);
        char *name = xasprintf("%s%s", e->d_name, path_is_dir(full) ? "/" : "");
        free(full);
        if (!common) {
            common = xstrdup(name);
        } else {
            size_t i = 0;
            while (common[i] && common[i] == name[i])
                i++;
            common[i] = '\0';
        }
        strv_push_owned(matches, name);
    }
    if (d)
        closedir(d);
    strv_sort(matches);

    if (!common) {
        result = xstrdup(input);
    } else {
        size_t keep = strlen(input) - plen;
        result = xasprintf("%.*s%s", (int)keep, input, common);
    }
    if (matches->len == 1)
        strv_free(matches);
    free(common);
    free(dir);
    free(prefix);
    return result;
}

char *form_expand_home(const char *path)
{
    const char *home = getenv("HOME");

    if (path[0] != '~' || (path[1] != '\0' && path[1] != '/') || !home || !*home)
        return xstrdup(path);
    return xasprintf("%s%s", home, path + 1);
}

void form_join_names(const struct strv *names, size_t max, char *buf, size_t size)
{
    size_t used = 0, shown = 0;

    buf[0] = '\0';
    for (; shown < names->len; shown++) {
        const char *name = names->items[shown];
        size_t add = strlen(name) + (shown ? 2 : 0);
        /* Past the first name, the rest must still fit with room for " and N more". */
        bool last = shown + 1 == names->len;

        if (shown > 0 && used + add + (last ? 0 : 16) > max)
            break;
        used += (size_t)snprintf(buf + used, used < size ? size - used : 0, "%s%s", shown ? ", " : "", name);
        if (used >= size)
            return;
    }
    if (shown < names->len)
        snprintf(buf + used, size - used, " and %zu more", names->len - shown);
}

void form_join_words(const struct strv *words, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < words->len && used < size; i++) {
        const char *word = words->items[i];
        /* Quote a word the way form_split_words reads it back, so blanks inside it show. */
        bool quote = !*word || strpbrk(word, " \t'\"\\") != NULL;

        if (i > 0)
            used += (size_t)snprintf(buf + used, size - used, " ");
        if (used >= size)
            break;
        if (!quote) {
            used += (size_t)snprintf(buf + used, size - used, "%s", word);
            continue;
        }
        used += (size_t)snprintf(buf + used, size - used, "\"");
        for (const char *c = word; *c && used < size; c++)
            used += (size_t)snprintf(buf + used, size - used, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
        if (used < size)
            used += (size_t)snprintf(buf + used, size - used, "\"");
    }
}
