/* Column layout of the dashboard's tables: a pure function from column priorities and a width to positions. */
#ifndef KILN_UI_LAYOUT_H
#define KILN_UI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

/* A table column. Lower PRIORITY numbers are kept longest; the highest number is dropped first. */
struct layout_column {
    const char *title;
    int min;       /* narrowest width worth showing */
    int max;       /* widest useful width; 0 takes whatever width is left */
    int priority;
    bool right;    /* right aligned (numbers) */
};

/* A column's position and width in the table. WIDTH 0 means hidden. */
struct layout_slot {
    int x;
    int width;
};

#define LAYOUT_GAP 1

/* The instances table, in display order. */
enum instance_column {
    ICOL_NAME,
    ICOL_IMAGE,
    ICOL_STATE,
    ICOL_CPU,
    ICOL_MEMORY,
    ICOL_NET,
    ICOL_BLOCK,
    ICOL_UPTIME,
    ICOL_PORTS,
    ICOL_LAST
};

/* The images table, in display order. */
enum image_column {
    MCOL_NAME,
    MCOL_SIZE,
    MCOL_KERNEL,
    MCOL_CREATED,
    MCOL_USED,
    MCOL_LAST
};

extern const struct layout_column layout_instance_columns[ICOL_LAST];
extern const struct layout_column layout_image_columns[MCOL_LAST];

/*
 * Lays out the N columns of COLS in WIDTH cells, LAYOUT_GAP cells apart, into
 * OUT[N]. Columns are dropped by descending priority number until the minimum
 * widths fit. The remaining width then widens the visible columns evenly, a
 * cell at a time in priority order, up to their max. Returns the number of
 * visible columns (0 when not even the most important one fits).
 */
int layout_columns(const struct layout_column *cols, size_t n, int width, struct layout_slot *out);

#endif
