/* Column layout of the dashboard's tables: which columns fit a width, and where they go. */
#include "ui/layout.h"

#include <string.h>

const struct layout_column layout_instance_columns[ICOL_LAST] = {
    [ICOL_NAME]   = { "NAME",      12, 20, 1, false },
    [ICOL_IMAGE]  = { "IMAGE",     14, 24, 4, false },
    [ICOL_STATE]  = { "STATE",     16, 16, 2, false }, /* "exited (SIGKILL)" */
    [ICOL_CPU]    = { "CPU %",     10, 16, 3, false },
    [ICOL_MEMORY] = { "MEMORY",     8,  9, 5, true },
    [ICOL_NET]    = { "NET RX/TX", 10, 15, 7, true },
    [ICOL_BLOCK]  = { "BLOCK R/W", 10, 15, 8, true },
    [ICOL_UPTIME] = { "UPTIME",     8,  9, 6, true },
    [ICOL_PORTS]  = { "PORTS",     14,  0, 9, false },
};

const struct layout_column layout_image_columns[MCOL_LAST] = {
    [MCOL_NAME]    = { "NAME:TAG", 16, 40, 1, false },
    [MCOL_SIZE]    = { "SIZE",      8, 10, 2, true },
    [MCOL_KERNEL]  = { "KERNEL",   12,  0, 4, false },
    [MCOL_CREATED] = { "CREATED",  12, 22, 3, false }, /* "Less than a second ago" */
    [MCOL_USED]    = { "USED BY",   7,  7, 5, true },
};

/* Total width of the shown columns at their current widths, gaps included. */
static int used_width(const struct layout_slot *out, size_t n)
{
    int total = 0, visible = 0;

    for (size_t i = 0; i < n; i++) {
        if (out[i].width > 0) {
            total += out[i].width;
            visible++;
        }
    }
    return visible ? total + (visible - 1) * LAYOUT_GAP : 0;
}

/* Hides the shown column with the highest priority number (the rightmost on ties); false when none is left. */
static bool drop_least_important(const struct layout_column *cols, size_t n, struct layout_slot *out)
{
    size_t victim = n;

    for (size_t i = 0; i < n; i++) {
        if (out[i].width == 0)
            continue;
        if (victim == n || cols[i].priority >= cols[victim].priority)
            victim = i;
    }
    if (victim == n)
        return false;
    out[victim].width = 0;
    return true;
}

/*
 * Shares SPARE among the shown columns one cell per column and round, most
 * important first, so every column grows evenly until it reaches its max.
 * Columns without a max take the rest.
 */
static void widen(const struct layout_column *cols, size_t n, struct layout_slot *out, int spare)
{
    int lowest = 0, highest = 0;

    for (size_t i = 0; i < n; i++) {
        if (i == 0 || cols[i].priority < lowest)
            lowest = cols[i].priority;
        if (i == 0 || cols[i].priority > highest)
            highest = cols[i].priority;
    }
    while (spare > 0) {
        bool grew = false;

        for (int p = lowest; p <= highest && spare > 0; p++) {
            for (size_t i = 0; i < n && spare > 0; i++) {
                if (cols[i].priority != p || out[i].width == 0)
                    continue;
                if (cols[i].max != 0 && out[i].width >= cols[i].max)
                    continue;
                out[i].width++;
                spare--;
                grew = true;
            }
        }
        if (!grew)
            break;
    }
}

int layout_columns(const struct layout_column *cols, size_t n, int width, struct layout_slot *out)
{
    int visible = 0, x = 0;

    for (size_t i = 0; i < n; i++) {
        out[i].x = 0;
        out[i].width = cols[i].min;
    }
    while (used_width(out, n) > width)
        if (!drop_least_important(cols, n, out))
            break;

    widen(cols, n, out, width - used_width(out, n));

    for (size_t i = 0; i < n; i++) {
        if (out[i].width == 0)
            continue;
        out[i].x = x;
        x += out[i].width + LAYOUT_GAP;
        visible++;
    }
    return visible;
}
