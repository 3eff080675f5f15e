/* The command line engine: verb lookup, option parsing and generated help. */
#include "cli.h"

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define MAX_OPTIONS 32

const struct cli_verb *const cli_verb_tables[] = {
    cmd_build_verbs,
    cmd_run_verbs,
    cmd_instance_verbs,
    cmd_image_verbs,
    cmd_volume_verbs,
    cmd_kernel_verbs,
    cmd_misc_verbs,
    NULL,
};

static const char *program_summary =
    "Build applications into minimal microVM images and run them on libvirt.";

static const struct cli_option global_options[] = {
    {"connect", 'c', "URI", "libvirt connection URI (default: KILN_CONNECT, the config file, "
                            "LIBVIRT_DEFAULT_URI, then qemu:///system for root or qemu:///session)", false},
    {"verbose", 'v', NULL, "write a debug log to stderr (KILN_DEBUG=FILE writes it to FILE)", false},
    {"help", 'h', NULL, "show this help", false},
    {"version", 0, NULL, "print the version", false},
    {NULL, 0, NULL, NULL, false},
};

const char *cli_get(const struct cli_args *args, const char *name)
{
    const struct cli_option *o = args->verb->options;

    for (int i = 0; o && o[i].name; i++)
        if (strcmp(o[i].name, name) == 0 && args->values[i].len > 0)
            return args->values[i].items[args->values[i].len - 1];
    return NULL;
}

const struct strv *cli_get_all(const struct cli_args *args, const char *name)
{
    static const struct strv empty;
    const struct cli_option *o = args->verb->options;

    for (int i = 0; o && o[i].name; i++)
        if (strcmp(o[i].name, name) == 0)
            return &args->values[i];
    return &empty;
}

bool cli_flag(const struct cli_args *args, const char *name)
{
    const struct cli_option *o = args->verb->options;

    for (int i = 0; o && o[i].name; i++)
        if (strcmp(o[i].name, name) == 0)
            return args->set[i];
    return false;
}

int cli_usage_error(const struct cli_args *args, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set("%s: %s; see 'kiln %s --help'", args->verb->name, msg, args->verb->name);
    err_set_usage();
    return cli_fail();
}

int cli_fail(void)
{
    fprintf(stderr, "kiln: %s\n", err_msg());
    return err_is_usage() ? EXIT_USAGE : EXIT_RUNTIME;
}

void cli_progress_line(void *ctx, const char *message)
{
    (void)ctx;
    printf("=> %s\n", message);
    fflush(stdout);
}

/* ---- help ---- */

static void print_options(FILE *out, const struct cli_option *options)
{
    for (int i = 0; options && options[i].name; i++) {
        const struct cli_option *o = &options[i];
        char left[64];

        if (o->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (strlen(left) > 28)
            fprintf(out, "  %s\n  %-28s %s%s\n", left, "", o->help, o->repeat ? " (repeatable)" : "");
        else
            fprintf(out, "  %-28s %s%s\n", left, o->help, o->repeat ? " (repeatable)" : "");
    }
}

static void print_verb_help(FILE *out, const struct cli_verb *v)
{
    fprintf(out, "Usage: kiln %s%s%s%s\n", v->name, v->options && v->options[0].name ? " [OPTIONS]" : "",
            v->args && *v->args ? " " : "", v->args ? v->args : "");
    fprintf(out, "\n%s.\n", v->summary);
    fprintf(out, "\nOptions:\n");
    print_options(out, v->options);
    fprintf(out, "  -h, --help                   show this help\n");
}

static void print_help(FILE *out)
{
    fprintf(out, "Usage: kiln [-c URI] [-v] COMMAND [OPTIONS] [ARGS...]\n\n%s\n"
                 "With no command on a terminal, kiln opens the dashboard.\n\nCommands:\n",
            program_summary);
    for (int t = 0; cli_verb_tables[t]; t++)
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++)
            if (v->summary)
                fprintf(out, "  %-16s %s\n", v->name, v->summary);
    fprintf(out, "\nGlobal options:\n");
    print_options(out, global_options);
    fprintf(out, "\nRun 'kiln COMMAND --help' for the options of a command.\n");
}

/* Escapes a string for roff: backslashes and leading dots or quotes. */
static void man_text(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

static void man_options(FILE *out, const struct cli_option *options)
{
    for (int i = 0; options && options[i].name; i++) {
        const struct cli_option *o = &options[i];

        fputs(".TP\n", out);
        if (o->short_name)
            fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
        fprintf(out, "\\fB\\-\\-%s\\fR", o->name);
        if (o->arg) {
            fputs(" \\fI", out);
            man_text(out, o->arg);
            fputs("\\fR", out);
        }
        fputc('\n', out);
        man_text(out, o->help);
        fputs("\n", out);
    }
}

/* Prints the man page, generated from the same tables as --help. */
void cli_print_man(FILE *out)
{
    fprintf(out, ".TH KILN 1 \"\" \"kiln %s\" \"User Commands\"\n.SH NAME\nkiln \\- ", KILN_VERSION);
    man_text(out, program_summary);
    fputs("\n.SH SYNOPSIS\n\\fBkiln\\fR [\\fB\\-c\\fR \\fIURI\\fR] [\\fB\\-v\\fR] "
          "\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR...]\n"
          ".SH DESCRIPTION\nWith no command on a terminal, kiln opens the dashboard.\n"
          ".SH GLOBAL OPTIONS\n", out);
    man_options(out, global_options);
    fputs(".SH COMMANDS\n", out);
    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            if (!v->summary)
                continue;
            fprintf(out, ".SS \"kiln %s ", v->name);
            man_text(out, v->args ? v->args : "");
            fputs("\"\n", out);
            man_text(out, v->summary);
            fputs(".\n", out);
            man_options(out, v->options);
        }
    }
    fputs(".SH EXIT STATUS\n0 on success, 1 when the command failed, 2 for invalid usage;\n"
          "\\fBkiln run\\fR exits with the application's own status.\n"
          ".SH ENVIRONMENT\n.TP\n\\fBKILN_CONNECT\\fR\nlibvirt URI to use.\n"
          ".TP\n\\fBKILN_STORE\\fR\nimage store directory.\n"
          ".TP\n\\fBKILN_DEBUG\\fR\nfile to write a debug log to.\n", out);
}

/* Prints a bash completion script built from the verb and option tables. */
void cli_print_completion(FILE *out)
{
    struct strv groups = {0};

    fputs("# bash completion for kiln, generated by 'kiln completion bash'\n"
          "_kiln() {\n    local cur=${COMP_WORDS[COMP_CWORD]} verb=${COMP_WORDS[1]}\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n        COMPREPLY=($(compgen -W \"", out);
    for (int t = 0; cli_verb_tables[t]; t++)
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++)
            if (v->summary && !strchr(v->name, ' '))
                fprintf(out, "%s ", v->name);
    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            char *group;

            if (!v->summary || !strchr(v->name, ' '))
                continue;
            group = xstrndup(v->name, strcspn(v->name, " "));
            if (!strv_contains(&groups, group)) {
                fprintf(out, "%s ", group);
                strv_push(&groups, group);
            }
            free(group);
        }
    }
    strv_free(&groups);
    fputs("\" -- \"$cur\"))\n        return\n    fi\n    case \"$verb\" in\n", out);
    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            if (!v->summary || strchr(v->name, ' '))
                continue;
            fprintf(out, "    %s) COMPREPLY=($(compgen -W \"--help", v->name);
            for (int i = 0; v->options && v->options[i].name; i++)
                fprintf(out, " --%s", v->options[i].name);
            fputs("\" -- \"$cur\")) ;;\n", out);
        }
    }
    fputs("    esac\n}\ncomplete -o default -F _kiln kiln\n", out);
}

/* ---- parsing ---- */

static const struct cli_verb *find_verb(int argc, char **argv, int *words)
{
    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            size_t n = strcspn(v->name, " ");

            if (v->name[n] == '\0' && strcmp(v->name, argv[0]) == 0) {
                *words = 1;
                return v;
            }
            if (v->name[n] == ' ' && argc > 1 && strncmp(v->name, argv[0], n) == 0 &&
                argv[0][n] == '\0' && strcmp(v->name + n + 1, argv[1]) == 0) {
                *words = 2;
                return v;
            }
        }
    }
    return NULL;
}

/* Returns the edit distance between A and B (insertions, deletions, substitutions). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t lb = strlen(b), row[64];

    if (lb >= ARRAY_SIZE(row))
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        size_t diagonal = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);

            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* Returns the single-word verb closest to WORD (at most two edits away), or NULL. */
static const char *nearest_verb(const char *word)
{
    const char *best = NULL;
    size_t best_distance = 3;

    for (int t = 0; cli_verb_tables[t]; t++) {
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++) {
            size_t d;

            if (!v->summary || strchr(v->name, ' '))
                continue;
            d = edit_distance(word, v->name);
            if (d < best_distance) {
                best_distance = d;
                best = v->name;
            }
        }
    }
    return best;
}

/* True when WORD names a verb group such as "image" or "kernel". */
static bool is_group(const char *word)
{
    size_t n = strlen(word);

    for (int t = 0; cli_verb_tables[t]; t++)
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++)
            if (strncmp(v->name, word, n) == 0 && v->name[n] == ' ')
                return true;
    return false;
}

static void print_group_help(FILE *out, const char *group)
{
    size_t n = strlen(group);

    fprintf(out, "Usage: kiln %s COMMAND\n\nCommands:\n", group);
    for (int t = 0; cli_verb_tables[t]; t++)
        for (const struct cli_verb *v = cli_verb_tables[t]; v->name; v++)
            if (strncmp(v->name, group, n) == 0 && v->name[n] == ' ' && v->summary)
                fprintf(out, "  %-16s %s\n", v->name + n + 1, v->summary);
}

static int parse_verb(const struct cli_verb *verb, int argc, char **argv, struct cli_args *args)
{
    struct option longopts[MAX_OPTIONS + 2];
    char shortopts[MAX_OPTIONS * 2 + 4];
    size_t s = 0, count = 0;
    int c;

    if (verb->stop_at_args)
        shortopts[s++] = '+';
    shortopts[s++] = ':';
    for (; verb->options && verb->options[count].name; count++) {
        const struct cli_option *o = &verb->options[count];

        longopts[count] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, 256 + (int)count};
        if (o->short_name) {
            shortopts[s++] = o->short_name;
            if (o->arg)
                shortopts[s++] = ':';
        }
    }
    longopts[count] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[count + 1] = (struct option){NULL, 0, NULL, 0};
    shortopts[s++] = 'h';
    shortopts[s] = '\0';

    args->verb = verb;
    optind = 0; /* 0 makes glibc's getopt start over, also after an earlier parse */
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int index = -1;

        if (c == 'h') {
            print_verb_help(stdout, verb);
            return 1;
        }
        if (c == '?') {
            if (optopt)
                return cli_usage_error(args, "unknown option '-%c'", optopt), -1;
            return cli_usage_error(args, "unknown option '%s'", argv[optind - 1]), -1;
        }
        if (c == ':')
            return cli_usage_error(args, "option '%s' needs a value", argv[optind - 1]), -1;
        if (c >= 256)
            index = c - 256;
        for (size_t i = 0; index < 0 && i < count; i++)
            if (verb->options[i].short_name == c)
                index = (int)i;
        if (index < 0)
            return cli_usage_error(args, "unknown option '%s'", argv[optind - 1]), -1;
        args->set[index] = true;
        if (verb->options[index].arg) {
            if (!verb->options[index].repeat)
                strv_free(&args->values[index]);
            strv_push(&args->values[index], optarg);
        }
    }
    args->argc = argc - optind;
    args->argv = argv + optind;
    if (args->argc < verb->min_args)
        return cli_usage_error(args, verb->min_args == 1 && verb->args ? "missing %s" : "too few arguments (expected %s)",
                               verb->args), -1;
    if (verb->max_args >= 0 && args->argc > verb->max_args)
        return cli_usage_error(args, "unexpected argument '%s'", args->argv[verb->max_args]), -1;
    return 0;
}

int cli_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli_args args = {0};
    const struct cli_verb *verb;
    int c, words = 0, rc;

    if (getenv("KILN_DEBUG"))
        log_open(getenv("KILN_DEBUG"));
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:c:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': args.connect = optarg; break;
        case 'v': log_open("-"); break;
        case 'h': print_help(stdout); return EXIT_OK;
        case 'V': printf("kiln version %s\n", KILN_VERSION); return EXIT_OK;
        case ':':
            fprintf(stderr, "kiln: option '%s' needs a value; see 'kiln --help'\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "kiln: unknown option '%s'; see 'kiln --help'\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc == 0) {
        fprintf(stderr, "kiln: missing command; see 'kiln --help', or run kiln alone on a terminal for the "
                        "dashboard\n");
        return EXIT_USAGE;
    }
    verb = find_verb(argc, argv, &words);
    if (!verb && is_group(argv[0])) {
        if (argc == 1 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            print_group_help(argc == 1 ? stderr : stdout, argv[0]);
            return argc == 1 ? EXIT_USAGE : EXIT_OK;
        }
        fprintf(stderr, "kiln: unknown command 'kiln %s %s'; see 'kiln %s --help'\n", argv[0], argv[1], argv[0]);
        return EXIT_USAGE;
    }
    if (!verb) {
        const char *near = nearest_verb(argv[0]);

        if (near)
            fprintf(stderr, "kiln: unknown command '%s'; did you mean '%s'?\n", argv[0], near);
        else
            fprintf(stderr, "kiln: unknown command '%s'; see 'kiln --help'\n", argv[0]);
        return EXIT_USAGE;
    }
    rc = parse_verb(verb, argc - words + 1, argv + words - 1, &args);
    if (rc == 0)
        rc = verb->handler(&args);
    else
        rc = rc > 0 ? EXIT_OK : EXIT_USAGE;
    for (size_t i = 0; i < ARRAY_SIZE(args.values); i++)
        strv_free(&args.values[i]);
    return rc;
}
