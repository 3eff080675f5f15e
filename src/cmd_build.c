/* kiln build: turns a project directory into an image in the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/builder.h"
#include "cli.h"
#include "store.h"

static int cmd_build(struct cli_args *args)
{
    struct build_options opts = {
        .dir = args->argc > 0 ? args->argv[0] : ".",
        .ref = cli_get(args, "tag"),
        .no_cache = cli_flag(args, "no-cache"),
        .progress = {cli_flag(args, "quiet") ? NULL : cli_progress_line, NULL},
    };
    struct image img = {0};
    char initrd[32], total[32];
    double start = time_now();
    bool cached = false;

    if (opts.ref) {
        char *name, *tag;

        if (image_ref_parse(opts.ref, &name, &tag) < 0)
            return cli_fail();
        free(name);
        free(tag);
    }
    if (builder_build(&opts, &img, &cached) < 0)
        return cli_fail();
    if (cli_flag(args, "quiet")) {
        printf("%s\n", img.digest);
    } else {
        fmt_size(img.initrd_size, initrd, sizeof(initrd));
        fmt_size(img.initrd_size + img.kernel_size, total, sizeof(total));
        printf("%s %s:%s (%.19s) in %.1f s: initrd %s, %s with the kernel\n",
               cached ? "Reused cached image" : "Built", img.name, img.tag, img.digest,
               time_now() - start, initrd, total);
    }
    image_free(&img);
    return EXIT_OK;
}

static const struct cli_option build_options[] = {
    {"tag", 't', "NAME[:TAG]", "name and tag of the image (default: the manifest's name, tag latest)", false},
    {"no-cache", 0, NULL, "build again even when the inputs are unchanged", false},
    {"quiet", 'q', NULL, "print only the image digest", false},
    {NULL, 0, NULL, NULL, false},
};

const struct cli_verb cmd_build_verbs[] = {
    {"build", "[DIR]", "Build an image from a project directory holding kiln.yaml", build_options, 0, 1, false,
     cmd_build},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
