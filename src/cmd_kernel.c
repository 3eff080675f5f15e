/* kiln kernel ls and kiln kernel fetch: the kernel cache. */
#include <stdio.h>
#include <stdlib.h>

#include "build/kernel.h"
#include "cli.h"
#include "store.h"

static int cmd_kernel_ls(struct cli_args *args)
{
    struct kernel *list = NULL;
    size_t n = 0;

    (void)args;
    if (store_open_readonly() < 0 || kernel_list(&list, &n) < 0)
        return cli_fail();
    printf("%-32s %s\n", "VERSION", "PATH");
    for (size_t i = 0; i < n; i++)
        printf("%-32s %s\n", list[i].version, list[i].vmlinuz);
    kernel_list_free(list, n);
    return EXIT_OK;
}

static int cmd_kernel_fetch(struct cli_args *args)
{
    struct progress progress = {cli_progress_line, NULL};
    struct kernel k = {0};

    (void)args;
    if (store_init() < 0 || kernel_fetch(&progress, &k) < 0)
        return cli_fail();
    printf("Kernel %s ready at %s\n", k.version, k.vmlinuz);
    kernel_free(&k);
    return EXIT_OK;
}

const struct cli_verb cmd_kernel_verbs[] = {
    {"kernel ls", "", "List the kernels in the cache", NULL, 0, 0, false, cmd_kernel_ls},
    {"kernel fetch", "", "Download Debian's cloud kernel into the cache", NULL, 0, 0, false, cmd_kernel_fetch},
    {NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
