/* Drawing primitives of the dashboard: colour roles to curses attributes, clipped text, lines and boxes. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui/paint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static attr_t role_attrs[ROLE_LAST];
static bool utf8_terminal;

static attr_t attrs_of(unsigned bits)
{
    attr_t a = A_NORMAL;

    if (bits & THEME_BOLD)
        a |= A_BOLD;
    if (bits & THEME_DIM)
        a |= A_DIM;
    if (bits & THEME_UNDERLINE)
        a |= A_UNDERLINE;
    if (bits & THEME_REVERSE)
        a |= A_REVERSE;
    if (bits & THEME_ITALIC)
        a |= A_ITALIC;
    if (bits & THEME_BLINK)
        a |= A_BLINK;
    return a;
}

void paint_apply_theme(const struct theme *t, bool color)
{
    for (int r = 0; r < ROLE_LAST; r++) {
        const struct theme_style *s = &t->roles[r];
        attr_t a = attrs_of(s->attrs);

        if (color && !t->monochrome && r + 1 < COLOR_PAIRS) {
            short fg = s->fg, bg = s->bg;

            /* Terminals with 8 colours show bright ones as bold. */
            if (fg >= COLORS && fg >= 8 && fg < 16) {
                fg -= 8;
                a |= A_BOLD;
            }
            if (fg >= COLORS)
                fg = -1;
            if (bg >= COLORS)
                bg = bg >= 8 && bg < 16 ? bg - 8 : -1;
            init_pair((short)(r + 1), fg, bg);
            a |= COLOR_PAIR(r + 1);
        }
        role_attrs[r] = a;
    }
}

attr_t paint_role(enum theme_role role)
{
    return role >= 0 && role < ROLE_LAST ? role_attrs[role] : A_NORMAL;
}

bool paint_utf8(void)
{
    return utf8_terminal;
}

void paint_set_utf8(bool utf8)
{
    utf8_terminal = utf8;
}

int paint_width(const char *text)
{
    mbstate_t st;
    int cols = 0;
    size_t len = strlen(text);

    memset(&st, 0, sizeof(st));
    while (len > 0) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, text, len, &st);

        if (n == (size_t)-1 || n == (size_t)-2) {
            memset(&st, 0, sizeof(st));
            n = 1;
            wc = L'?';
        } else if (n == 0) {
            break;
        }
        int w = wcwidth(wc);
        cols += w > 0 ? w : 0;
        text += n;
        len -= n;
    }
    return cols;
}

size_t paint_wrap(const char *text, int width)
{
    mbstate_t st;
    size_t len = strlen(text), pos = 0, last_blank = 0;
    int cols = 0;

    memset(&st, 0, sizeof(st));
    while (pos < len) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, text + pos, len - pos, &st);

        if (n == (size_t)-1 || n == (size_t)-2) {
            memset(&st, 0, sizeof(st));
            n = 1;
            wc = L'?';
        }
        int w = wcwidth(wc);
        if (cols + (w > 0 ? w : 0) > width)
            return last_blank > 0 ? last_blank : pos;
        cols += w > 0 ? w : 0;
        if (wc == L' ')
            last_blank = pos;
        pos += n;
    }
    return len;
}

/*
 * Converts up to WIDTH columns of TEXT into OUT (at most MAX wide characters);
 * returns the columns. Text that does not fit ends in an ellipsis ("~" without
 * UTF-8), so a cut value such as "web:late" is not read as a whole one.
 */
static int clip_text(const char *text, int width, wchar_t *out, size_t max, size_t *count)
{
    mbstate_t st;
    size_t len = strlen(text), k = 0;
    int cols = 0;

    memset(&st, 0, sizeof(st));
    while (len > 0 && k + 1 < max) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, text, len, &st);

        if (n == (size_t)-1 || n == (size_t)-2) {
            memset(&st, 0, sizeof(st));
            n = 1;
            wc = L'?';
        } else if (n == 0) {
            break;
        }
        if (wc < 0x20 || wc == 0x7f)
            wc = L' ';
        int w = wcwidth(wc);
        if (w < 0)
            w = 1, wc = L'?';
        if (cols + w > width) {
            /* Make room for the one-column mark, dropping wide characters as needed. */
            while (k > 0 && cols + 1 > width) {
                int dropped = wcwidth(out[--k]);

                cols -= dropped > 0 ? dropped : 0;
            }
            if (cols + 1 <= width) {
                out[k++] = paint_utf8() ? L'\u2026' : L'~';
                cols++;
            }
            break;
        }
        out[k++] = wc;
        cols += w;
        text += n;
        len -= n;
    }
    out[k] = L'\0';
    *count = k;
    return cols;
}

int paint_text(int y, int x, int width, const char *text, enum theme_role role, bool right)
{
    wchar_t buf[1024];
    size_t count;
    int cols;

    if (width <= 0 || !text)
        return 0;
    cols = clip_text(text, width, buf, sizeof(buf) / sizeof(buf[0]), &count);
    attrset(paint_role(role));
    if (right && cols < width)
        x += width - cols;
    mvaddnwstr(y, x, buf, (int)count);
    attrset(A_NORMAL);
    return cols;
}

void paint_fill(int y, int x, int width, enum theme_role role)
{
    if (width <= 0)
        return;
    attrset(paint_role(role));
    mvhline(y, x, ' ', width);
    attrset(A_NORMAL);
}

int paint_printf(int y, int x, int width, enum theme_role role, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return paint_text(y, x, width, buf, role, false);
}

void paint_hline(int y, int x, int width, const char *title, enum theme_role role)
{
    if (width <= 0)
        return;
    attrset(paint_role(role));
    mvhline(y, x, utf8_terminal ? ACS_HLINE : '-', width);
    attrset(A_NORMAL);
    if (title && *title && width > 4) {
        char buf[256];

        snprintf(buf, sizeof(buf), " %s ", title);
        paint_text(y, x + 1, width - 2, buf, ROLE_TITLE, false);
    }
}

void paint_box(int y, int x, int h, int w, const char *title, enum theme_role border, enum theme_role fill)
{
    chtype v = utf8_terminal ? ACS_VLINE : '|';
    chtype corner[4] = { '+', '+', '+', '+' };

    if (h < 2 || w < 2)
        return;
    if (utf8_terminal) {
        corner[0] = ACS_ULCORNER;
        corner[1] = ACS_URCORNER;
        corner[2] = ACS_LLCORNER;
        corner[3] = ACS_LRCORNER;
    }
    for (int row = y + 1; row < y + h - 1; row++)
        paint_fill(row, x + 1, w - 2, fill);
    paint_hline(y, x, w, NULL, border);
    paint_hline(y + h - 1, x, w, NULL, border);
    attrset(paint_role(border));
    mvvline(y + 1, x, v, h - 2);
    mvvline(y + 1, x + w - 1, v, h - 2);
    mvaddch(y, x, corner[0]);
    mvaddch(y, x + w - 1, corner[1]);
    mvaddch(y + h - 1, x, corner[2]);
    mvaddch(y + h - 1, x + w - 1, corner[3]);
    attrset(A_NORMAL);
    if (title && *title) {
        char buf[256];

        snprintf(buf, sizeof(buf), " %s ", title);
        paint_text(y, x + 2, w - 4, buf, ROLE_TITLE, false);
    }
}
