/*
 * Prints the key table of docs/dashboard.md as Markdown, generated from the
 * dashboard's key table (ui/keys.c) the same way the help screen is: one row
 * per action, in table order, with every key bound to it. Built and compared
 * with the document by tests/tui/keys-doc.sh.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ui/keys.h"

static const char *scope_words(enum ui_key_scope scope)
{
    switch (scope) {
    case SCOPE_INSTANCE: return "instances table";
    case SCOPE_IMAGE: return "images table";
    case SCOPE_GLOBAL: break;
    }
    return "everywhere";
}

/* Prints KEYS ("F7, x") with each key name in backquotes. */
static void print_keys(const char *keys)
{
    const char *p = keys;

    while (*p) {
        size_t len = strcspn(p, ",");

        printf("%s`%.*s`", p == keys ? "" : ", ", (int)len, p);
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
}

int main(void)
{
    bool seen[ACTION_LAST] = { false };

    printf("| Keys | Where | What it does | Label |\n");
    printf("|---|---|---|---|\n");
    for (size_t i = 0; i < keys_count; i++) {
        const struct ui_key *k = &keys_table[i];
        char keys[64];
        const char *label = keys_action_label(k->action);

        if (seen[k->action])
            continue;
        seen[k->action] = true;
        keys_for_action(k->action, keys, sizeof(keys));
        printf("| ");
        print_keys(keys);
        printf(" | %s | %s | %s |\n", scope_words(k->scope), k->help, strcmp(label, "?") == 0 ? "" : label);
    }
    return 0;
}
