/* Unit tests for the command line engine: the verb tables and what is generated from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Runs cli_main on a NULL-terminated list of words with stdout and stderr silenced. */
static int run_words(const char *const *words)
{
    char *argv[16];
    int argc = 0, saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO), rc;
    FILE *null = fopen("/dev/null", "w");

    for (; words[argc]; argc++)
        argv[argc] = (char *)words[argc];
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    dup2(fileno(null), STDOUT_FILENO);
    dup2(fileno(null), STDERR_FILENO);
    rc = cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, STDOUT_FILENO);
    dup2(saved_err, STDERR_FILENO);
    close(saved_out);
    close(saved_err);
    fclose(null);
    return rc;
}

/* Captures what FN prints into a malloc'ed string. */
static char *capture(void (*fn)(FILE *out))
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    fn(out);
    fclose(out);
    return text;
}

static void tables_are_consistent(void **state)
{
    (void)state;
    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            char shorts[64] = "";

            assert_non_null(v->handler);
            /* Internal verbs have no summary and a name no user would type. */
            assert_true(v->summary != NULL || strncmp(v->name, "__", 2) == 0);
            assert_true(v->max_args < 0 || v->max_args >= v->min_args);
            for (int i = 0; v->options && v->options[i].name; i++) {
                const struct cli_option *o = &v->options[i];

                assert_non_null(o->help);
                assert_true(i < 32);
                if (o->short_name) {
                    assert_null(strchr(shorts, o->short_name));
                    assert_int_not_equal(o->short_name, 'h');
                    strncat(shorts, &o->short_name, 1);
                }
            }
            for (int u = 0; cli_verb_tables[u]; u++)
                for (const struct cli_verb *w = cli_verb_tables[u]; w->name; w++)
                    assert_true(w == v || strcmp(w->name, v->name) != 0);
        }
    }
}

static void usage_errors_exit_2(void **state)
{
    const char *unknown_verb[] = {"kiln", "frobnicate", NULL};
    const char *unknown_option[] = {"kiln", "build", "--bogus", NULL};
    const char *missing_value[] = {"kiln", "build", "-t", NULL};
    const char *too_many[] = {"kiln", "build", "a", "b", NULL};
    const char *bad_format[] = {"kiln", "images", "--format", "xml", NULL};
    const char *no_verb[] = {"kiln", NULL};
    const char *unknown_group_verb[] = {"kiln", "image", "frob", NULL};
    const char *bad_global[] = {"kiln", "--bogus", "images", NULL};

    (void)state;
    assert_int_equal(run_words(unknown_verb), EXIT_USAGE);
    assert_int_equal(run_words(unknown_option), EXIT_USAGE);
    assert_int_equal(run_words(missing_value), EXIT_USAGE);
    assert_int_equal(run_words(too_many), EXIT_USAGE);
    assert_int_equal(run_words(bad_format), EXIT_USAGE);
    assert_int_equal(run_words(no_verb), EXIT_USAGE);
    assert_int_equal(run_words(unknown_group_verb), EXIT_USAGE);
    assert_int_equal(run_words(bad_global), EXIT_USAGE);
}

static void help_exits_0(void **state)
{
    const char *global[] = {"kiln", "--help", NULL};
    const char *verb[] = {"kiln", "build", "--help", NULL};
    const char *group_verb[] = {"kiln", "image", "ls", "-h", NULL};
    const char *help_verb[] = {"kiln", "help", "images", NULL};
    const char *version[] = {"kiln", "version", NULL};

    (void)state;
    assert_int_equal(run_words(global), EXIT_OK);
    assert_int_equal(run_words(verb), EXIT_OK);
    assert_int_equal(run_words(group_verb), EXIT_OK);
    assert_int_equal(run_words(help_verb), EXIT_OK);
    assert_int_equal(run_words(version), EXIT_OK);
}

static void man_and_completion_list_verbs(void **state)
{
    char *man = capture(cli_print_man);
    char *completion = capture(cli_print_completion);

    (void)state;
    assert_non_null(strstr(man, ".TH KILN 1"));
    assert_non_null(strstr(completion, "complete -o default -F _kiln kiln"));
    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            char heading[96];
            char first[32];

            if (!v->summary)
                continue;
            snprintf(heading, sizeof(heading), ".SS \"kiln %s", v->name);
            assert_non_null(strstr(man, heading));
            snprintf(first, sizeof(first), "%.*s", (int)strcspn(v->name, " "), v->name);
            assert_non_null(strstr(completion, first));
        }
    }
    free(man);
    free(completion);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables_are_consistent),
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(help_exits_0),
        cmocka_unit_test(man_and_completion_list_verbs),
    };

    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
