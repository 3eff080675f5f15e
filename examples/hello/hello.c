/*
 * Prints the greeting from GREETING (set in kiln.yaml) and its arguments, then
 * exits with the status in EXIT_STATUS (default 0).
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *status = getenv("EXIT_STATUS");
    const char *greeting = getenv("GREETING");

    printf("%s from a kiln unikernel\n", greeting ? greeting : "GREETING is not set, but hello");
    for (int i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    fflush(stdout);
    return status ? atoi(status) : 0;
}
