/* Tests of the dashboard key table: unique keys, help for every action, the generated function bar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <string.h>

#include "ui/keys.h"
#include "util.h"

static bool scopes_overlap(enum ui_key_scope a, enum ui_key_scope b)
{
    return a == SCOPE_GLOBAL || b == SCOPE_GLOBAL || a == b;
}

static void keys_unique_per_scope(void **state)
{
    (void)state;
    for (size_t i = 0; i < keys_count; i++) {
        for (size_t j = i + 1; j < keys_count; j++) {
            const struct ui_key *a = &keys_table[i], *b = &keys_table[j];

            if (a->key == b->key && scopes_overlap(a->scope, b->scope))
                fail_msg("key %d is bound twice (entries %zu and %zu)", a->key, i, j);
        }
    }
}

static void keys_every_action_has_help(void **state)
{
    (void)state;
    for (int action = ACTION_NONE + 1; action < ACTION_LAST; action++) {
        const char *help = keys_action_help((enum ui_action)action);

        if (!help)
            fail_msg("action %d has no key binding", action);
        assert_true(strlen(help) > 10);
    }
    for (size_t i = 0; i < keys_count; i++) {
        assert_non_null(keys_table[i].help);
        assert_true(keys_table[i].help[0] != '\0');
    }
}

static void keys_fbar_generated_from_table(void **state)
{
    struct ui_fbar_item bar[16];
    size_t n = keys_fbar(bar, ARRAY_SIZE(bar));

    (void)state;
    assert_int_equal(n, 10);
    assert_string_equal(bar[0].key, "F1");
    assert_string_equal(bar[0].label, "Help");
    assert_int_equal(bar[0].action, ACTION_HELP);
    assert_string_equal(bar[5].key, "F6");
    assert_string_equal(bar[5].label, "SortBy");
    assert_string_equal(bar[9].key, "F10");
    assert_string_equal(bar[9].label, "Quit");
    for (size_t i = 0; i < n; i++) {
        char expected[32];

        snprintf(expected, sizeof(expected), "F%zu", i + 1);
        assert_string_equal(bar[i].key, expected);
        assert_int_equal(keys_lookup(KEY_F((int)i + 1), SCOPE_INSTANCE), bar[i].action);
    }
}

static void keys_fbar_respects_max(void **state)
{
    struct ui_fbar_item bar[3];

    (void)state;
    assert_int_equal(keys_fbar(bar, 3), 3);
}

static void keys_lookup_scopes(void **state)
{
    (void)state;
    assert_int_equal(keys_lookup('q', SCOPE_INSTANCE), ACTION_QUIT);
    assert_int_equal(keys_lookup('q', SCOPE_IMAGE), ACTION_QUIT);
    assert_int_equal(keys_lookup('k', SCOPE_INSTANCE), ACTION_KILL);
    assert_int_equal(keys_lookup('k', SCOPE_IMAGE), ACTION_NONE);
    assert_int_equal(keys_lookup('f', SCOPE_IMAGE), ACTION_FILES);
    assert_int_equal(keys_lookup('f', SCOPE_INSTANCE), ACTION_NONE);
    assert_int_equal(keys_lookup('\n', SCOPE_IMAGE), ACTION_MENU);
    assert_int_equal(keys_lookup('Z', SCOPE_INSTANCE), ACTION_NONE);
}

static void keys_names_for_help(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(keys_for_action(ACTION_SORT, buf, sizeof(buf)), "F6, s");
    assert_string_equal(keys_for_action(ACTION_MENU, buf, sizeof(buf)), "Enter");
    assert_string_equal(keys_for_action(ACTION_REDRAW, buf, sizeof(buf)), "^L");
    assert_string_equal(keys_name(KEY_DC, buf, sizeof(buf)), "Del");
    assert_string_equal(keys_name(' ', buf, sizeof(buf)), "Space");
    assert_string_equal(keys_action_label(ACTION_STOP), "Stop");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_unique_per_scope),
        cmocka_unit_test(keys_every_action_has_help),
        cmocka_unit_test(keys_fbar_generated_from_table),
        cmocka_unit_test(keys_fbar_respects_max),
        cmocka_unit_test(keys_lookup_scopes),
        cmocka_unit_test(keys_names_for_help),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
