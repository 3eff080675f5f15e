/*
 * The console pane: a libvterm screen fed from the instance's console log, with
 * scrollback. The log passes through kiln logs' filter first, so kiln-init's
 * exit line and the kernel's power-down line do not show.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vterm.h>
#include <wchar.h>

#include "runopts.h"
#include "ui/dash.h"
#include "ui/paint.h"

/* Lines kept above the visible console screen. */
#define CONSOLE_SCROLLBACK 2000
/* A newly followed log is replayed from at most this many bytes before its end. */
#define CONSOLE_REPLAY_BYTES (64 * 1024)

struct console_view {
    VTerm *vt;
    VTermScreen *screen;
    int rows, cols;
    char *name;
    char *path;
    off_t offset;
    ino_t inode;
    char *scrollback[CONSOLE_SCROLLBACK];
    size_t sb_head, sb_len;    /* ring: the oldest line is at (sb_head - sb_len) */
    int back;                  /* lines scrolled back from the live screen */
    struct runopts_filter filter; /* hides kiln-init's exit line, as kiln logs does */
};

/* Converts one row of CELLS to UTF-8. */
static char *cells_to_text(const VTermScreenCell *cells, int cols)
{
    char *out = xmalloc((size_t)cols * MB_CUR_MAX + 1);
    size_t used = 0;
    mbstate_t st;

    memset(&st, 0, sizeof(st));
    for (int i = 0; i < cols; i++) {
        uint32_t ch = cells[i].chars[0];

        if (cells[i].width == 0 && ch == 0)
            continue;
        size_t n = wcrtomb(out + used, ch ? (wchar_t)ch : L' ', &st);
        if (n == (size_t)-1) {
            out[used] = '?';
            n = 1;
            memset(&st, 0, sizeof(st));
        }
        used += n;
    }
    while (used > 0 && out[used - 1] == ' ')
        used--;
    out[used] = '\0';
    return out;
}

static int on_pushline(int cols, const VTermScreenCell *cells, void *user)
{
    struct console_view *c = user;
    size_t slot = c->sb_head;

    free(c->scrollback[slot]);
    c->scrollback[slot] = cells_to_text(cells, cols);
    c->sb_head = (c->sb_head + 1) % CONSOLE_SCROLLBACK;
    if (c->sb_len < CONSOLE_SCROLLBACK)
        c->sb_len++;
    return 1;
}

static const VTermScreenCallbacks screen_callbacks = {
    .sb_pushline = on_pushline,
};

static void console_reset(struct console_view *c, int rows, int cols)
{
    if (c->vt)
        vterm_free(c->vt);
    for (size_t i = 0; i < CONSOLE_SCROLLBACK; i++) {
        free(c->scrollback[i]);
        c->scrollback[i] = NULL;
    }
    c->sb_head = c->sb_len = 0;
    c->back = 0;
    runopts_filter_init(&c->filter);
    c->rows = rows;
    c->cols = cols;
    c->vt = vterm_new(rows, cols);
    vterm_set_utf8(c->vt, 1);
    c->screen = vterm_obtain_screen(c->vt);
    vterm_screen_set_callbacks(c->screen, &screen_callbacks, c);
    vterm_screen_reset(c->screen, 1);
    /* Line feed also returns the carriage: serial logs often end lines with "\n" alone. */
    vterm_input_write(c->vt, "\033[20h", 5);
}

struct console_view *console_view_new(void)
{
    struct console_view *c = xcalloc(1, sizeof(*c));

    console_reset(c, 24, 80);
    return c;
}

void console_view_free(struct console_view *c)
{
    if (!c)
        return;
    if (c->vt)
        vterm_free(c->vt);
    for (size_t i = 0; i < CONSOLE_SCROLLBACK; i++)
        free(c->scrollback[i]);
    free(c->name);
    free(c->path);
    free(c);
}

/* Feeds what was appended to the log since the last read. */
static void console_read_log(struct console_view *c)
{
    struct stat st;
    char buf[16384];
    int fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0) {
        if (st.st_ino != c->inode || st.st_size < c->offset) {
            /* A new or truncated log (the instance was re-created): start over. */
            console_reset(c, c->rows, c->cols);
            c->inode = st.st_ino;
            c->offset = st.st_size > CONSOLE_REPLAY_BYTES ? st.st_size - CONSOLE_REPLAY_BYTES : 0;
        }
        if (lseek(fd, c->offset, SEEK_SET) == c->offset) {
            ssize_t n;

            char *shown = xmalloc(2 * sizeof(buf) + 256);

            while ((n = read(fd, buf, sizeof(buf))) > 0) {
                size_t len = runopts_filter_feed(&c->filter, buf, (size_t)n, shown);

                vterm_input_write(c->vt, shown, len);
                c->offset += n;
            }
            free(shown);
        }
    }
    close(fd);
}

void console_view_follow(struct console_view *c, const struct instance *inst)
{
    bool same = c->name && inst->name && strcmp(c->name, inst->name) == 0 && c->path && inst->log_path &&
                strcmp(c->path, inst->log_path) == 0;

    if (!same) {
        free(c->name);
        free(c->path);
        c->name = xstrdup(inst->name);
        c->path = xstrdup(inst->log_path);
        c->inode = 0;
        c->offset = 0;
        console_reset(c, c->rows, c->cols);
    }
    if (c->path)
        console_read_log(c);
}

void console_view_scroll(struct console_view *c, int lines)
{
    c->back += lines;
    if (c->back < 0)
        c->back = 0;
    if (c->back > (int)c->sb_len)
        c->back = (int)c->sb_len;
}

static attr_t cell_attrs(const VTermScreenCell *cell)
{
    attr_t a = paint_role(ROLE_NORMAL);

    if (cell->attrs.bold)
        a |= A_BOLD;
    if (cell->attrs.underline)
        a |= A_UNDERLINE;
    if (cell->attrs.reverse)
        a |= A_REVERSE;
    return a;
}

static void draw_screen_row(struct console_view *c, int row, int y, int x, int w)
{
    for (int col = 0; col < c->cols && col < w; col++) {
        VTermScreenCell cell;
        VTermPos pos = { .row = row, .col = col };
        wchar_t wc;

        if (!vterm_screen_get_cell(c->screen, pos, &cell) || (cell.width == 0 && cell.chars[0] == 0))
            continue;
        wc = cell.chars[0] ? (wchar_t)cell.chars[0] : L' ';
        if (cell.width > 1 && col + cell.width > w)
            break;
        attrset(cell_attrs(&cell));
        mvaddnwstr(y, x + col, &wc, 1);
    }
    attrset(A_NORMAL);
}

void console_view_resize(struct console_view *c, int rows, int cols)
{
    if (rows <= 0 || cols <= 0 || (rows == c->rows && cols == c->cols))
        return;
    /* Replay the log into a screen of the new size: libvterm does not reflow. */
    console_reset(c, rows, cols);
    c->offset = 0;
    c->inode = 0;
    if (c->path)
        console_read_log(c);
}

size_t console_view_lines(const struct console_view *c)
{
    return c->sb_len + (size_t)c->rows;
}

char *console_view_text(const struct console_view *c, size_t line)
{
    if (line < c->sb_len)
        return xstrdup(c->scrollback[(c->sb_head + CONSOLE_SCROLLBACK - c->sb_len + line) % CONSOLE_SCROLLBACK]);
    if (line >= console_view_lines(c))
        return NULL;

    VTermScreenCell *cells = xcalloc((size_t)c->cols, sizeof(*cells));
    for (int col = 0; col < c->cols; col++) {
        VTermPos pos = { .row = (int)(line - c->sb_len), .col = col };
        if (!vterm_screen_get_cell(c->screen, pos, &cells[col]))
            memset(&cells[col], 0, sizeof(cells[col]));
    }
    char *text = cells_to_text(cells, c->cols);
    free(cells);
    return text;
}

void console_view_draw(struct console_view *c, int y, int x, int h, int w)
{
    if (h <= 0 || w <= 0)
        return;
    console_view_resize(c, h, w);
    for (int line = 0; line < h; line++) {
        /* Line LINE of the pane, counted in the sequence "scrollback, then screen rows", scrolled back by BACK. */
        long seq = (long)c->sb_len - c->back + line;

        if (seq < (long)c->sb_len) {
            size_t slot = (c->sb_head + CONSOLE_SCROLLBACK - c->sb_len + (size_t)seq) % CONSOLE_SCROLLBACK;
            paint_text(y + line, x, w, c->scrollback[slot], ROLE_DIM, false);
        } else {
            draw_screen_row(c, (int)(seq - (long)c->sb_len), y + line, x, w);
        }
    }
    if (c->back > 0) {
        char note[48];
        snprintf(note, sizeof(note), " %d lines back ", c->back);
        paint_text(y, x + w - (int)strlen(note), (int)strlen(note), note, ROLE_WARNING, false);
    }
}
