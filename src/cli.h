/*
 * The command line engine: verbs and their options are data (one table entry per
 * verb), and parsing, `--help`, usage errors, the man page and shell completion
 * are all generated from those tables.
 */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

struct cli_option {
    const char *name;  /* long name, "tag" for --tag */
    char short_name;   /* 't' for -t, 0 when none */
    const char *arg;   /* value placeholder ("NAME[:TAG]"), NULL for a flag */
    const char *help;
    bool repeat;       /* may be given several times (-e, -p, -v) */
};

struct cli_args;

struct cli_verb {
    const char *name;        /* "build", or "image ls" for a verb of a group */
    const char *args;        /* positional arguments in the usage line */
    const char *summary;     /* one line for `kiln --help` */
    const struct cli_option *options; /* ends with an entry whose name is NULL */
    int min_args;
    int max_args;            /* -1: no limit */
    bool stop_at_args;       /* options end at the first positional (run IMAGE ARGS...) */
    int (*handler)(struct cli_args *args);
};

struct cli_args {
    const struct cli_verb *verb;
    int argc;              /* positional arguments */
    char **argv;
    const char *connect;   /* -c/--connect, global */
    struct strv values[32];/* option values, indexed like verb->options */
    bool set[32];
};

/* Value of option NAME (the last one given), or NULL. */
const char *cli_get(const struct cli_args *args, const char *name);
/* Every value of a repeatable option NAME. */
const struct strv *cli_get_all(const struct cli_args *args, const char *name);
bool cli_flag(const struct cli_args *args, const char *name);
/* Sets a usage error "kiln VERB: MESSAGE; see kiln VERB --help" and returns EXIT_USAGE. */
int cli_usage_error(const struct cli_args *args, const char *fmt, ...) KILN_PRINTF(2, 3);
/* A progress callback (struct progress) printing one "=> STEP" line per report. */
void cli_progress_line(void *ctx, const char *message);
/* Prints the error record as "kiln: MESSAGE" and returns 2 for usage errors, else 1. */
int cli_fail(void);

/* Runs the verb named by ARGV (after global options); returns the exit status. */
int cli_main(int argc, char **argv);
/* Prints the man page and the bash completion script, generated from the tables. */
void cli_print_man(FILE *out);
void cli_print_completion(FILE *out);

/* Every verb, in help order; the last entry has a NULL name. */
extern const struct cli_verb *const cli_verb_tables[];

/* Verb tables, one per cmd_*.c file. */
extern const struct cli_verb cmd_build_verbs[];
extern const struct cli_verb cmd_image_verbs[];
extern const struct cli_verb cmd_kernel_verbs[];
extern const struct cli_verb cmd_misc_verbs[];
extern const struct cli_verb cmd_run_verbs[];
extern const struct cli_verb cmd_instance_verbs[];
extern const struct cli_verb cmd_volume_verbs[];

#endif
