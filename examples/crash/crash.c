/* Prints a line, then kills itself with SIGABRT, so kiln run can be seen to report a signal (exit status 134). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("crash: about to abort\n");
    fflush(stdout);
    abort();
}
