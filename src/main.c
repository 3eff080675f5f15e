/* Entry point: `kiln` alone on a terminal opens the dashboard, otherwise a verb runs. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ui/ui.h"

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (argc == 1 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        struct ui_options opts = {.uri = NULL, .theme = NULL, .refresh = 1.0};

        if (getenv("KILN_DEBUG"))
            log_open(getenv("KILN_DEBUG"));
        return ui_run(&opts) == EXIT_OK ? EXIT_OK : cli_fail();
    }
    return cli_main(argc, argv);
}
