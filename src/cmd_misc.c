/* Verbs about kiln itself: version, help, completion and the dashboard. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ui/ui.h"

static int cmd_version(struct cli_args *args)
{
    (void)args;
    printf("kiln version %s\n", KILN_VERSION);
    return EXIT_OK;
}

static int cmd_help(struct cli_args *args)
{
    if (cli_flag(args, "man")) {
        cli_print_man(stdout);
        return EXIT_OK;
    }
    if (args->argc == 0) {
        char *argv[] = {(char *)"kiln", (char *)"--help", NULL};

        return cli_main(2, argv);
    }
    {
        char *argv[5] = {(char *)"kiln", args->argv[0], NULL, NULL, NULL};
        int n = 2;

        if (args->argc > 1)
            argv[n++] = args->argv[1];
        argv[n++] = (char *)"--help";
        return cli_main(n, argv);
    }
}

static int cmd_completion(struct cli_args *args)
{
    if (strcmp(args->argv[0], "bash") != 0)
        return cli_usage_error(args, "unsupported shell '%s' (only bash is supported)", args->argv[0]);
    cli_print_completion(stdout);
    return EXIT_OK;
}

static int cmd_dash(struct cli_args *args)
{
    struct ui_options opts = {.uri = args->connect, .theme = cli_get(args, "theme"), .refresh = 1.0};
    const char *delay = cli_get(args, "delay");

    if (delay) {
        char *end;

        opts.refresh = strtod(delay, &end);
        if (*end || opts.refresh < 0.2 || opts.refresh > 60)
            return cli_usage_error(args, "invalid delay '%s': use seconds between 0.2 and 60", delay);
    }
    return ui_run(&opts) == EXIT_OK ? EXIT_OK : cli_fail();
}

static const struct cli_option help_options[] = {
    {"man", 0, NULL, "print the man page (roff)", false},
    {NULL, 0, NULL, NULL, false},
};

static const struct cli_option dash_options[] = {
    {"theme", 0, "NAME", "colour theme: default, light, monochrome, high-contrast, or a YAML file", false},
    {"delay", 'd', "SECONDS", "refresh interval (default 1)", false},
    {NULL, 0, NULL, NULL, false},
};

const struct cli_verb cmd_misc_verbs[] = {
    {"dash", "", "Open the dashboard (also: kiln alone on a terminal)", dash_options, 0, 0, false, cmd_dash},
    {"version", "", "Print the version", NULL, 0, 0, false, cmd_version},
    {"help", "[COMMAND]", "Show help for kiln or one command", help_options, 0, 2, false, cmd_help},
    {"completion", "bash", "Print a shell completion script", NULL, 1, 1, false, cmd_completion},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
