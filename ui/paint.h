/* Drawing primitives of the dashboard: colour roles to curses attributes, clipped text, lines and boxes. */
#ifndef KILN_UI_PAINT_H
#define KILN_UI_PAINT_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "ui/theme.h"

/* Applies theme T: one colour pair per role, or attributes only without colour. */
void paint_apply_theme(const struct theme *t, bool color);
/* Returns the curses attributes of ROLE under the applied theme. */
attr_t paint_role(enum theme_role role);
/* True when the terminal's encoding is UTF-8 (decided once after setlocale). */
bool paint_utf8(void);
void paint_set_utf8(bool utf8);

/* Writes TEXT (UTF-8) at Y, X in at most WIDTH columns with ROLE; RIGHT aligns it right. Returns columns used. */
int paint_text(int y, int x, int width, const char *text, enum theme_role role, bool right);
/* Fills WIDTH columns at Y, X with blanks in ROLE. */
void paint_fill(int y, int x, int width, enum theme_role role);
/* Draws a horizontal line with an optional TITLE in ROLE_TITLE. */
void paint_hline(int y, int x, int width, const char *title, enum theme_role role);
/* Draws a box of H rows and W columns with TITLE, clearing its inside with FILL. */
void paint_box(int y, int x, int h, int w, const char *title, enum theme_role border, enum theme_role fill);
/* Writes text like printf, clipped to WIDTH columns. */
int paint_printf(int y, int x, int width, enum theme_role role, const char *fmt, ...) KILN_PRINTF(5, 6);
/* Returns the display width of UTF-8 TEXT in columns. */
int paint_width(const char *text);
/*
 * Returns the byte length of the first line of TEXT wrapped at WIDTH columns:
 * all of it when it fits, else up to the last blank that fits, else as many
 * characters as fit.
 */
size_t paint_wrap(const char *text, int width);

#endif
