/* The dashboard's screen loop: terminal set-up, signals, resize, worker messages and key dispatch. */
#define _GNU_SOURCE /* pipe2 */
#include "ui/ui.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui/dash.h"
#include "ui/paint.h"

#define CTRL_KEY(c) ((c) & 0x1f)
/* Seconds a message stays on the status line. */
#define STATUS_SECONDS 8.0

/* Signals caught while curses runs are written here and handled by the loop. */
static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t curses_active;
/* The real standard error, kept while fd 2 points at the debug log or /dev/null. */
static int saved_stderr = -1;

/* ---- terminal life cycle ---- */

/*
 * Points standard error away from the screen while curses draws: libraries
 * (libxml2 inside libvirt's drivers among them) print warnings there. Output
 * goes to the KILN_DEBUG log when one is set, else to /dev/null.
 */
static void hide_stderr(void)
{
    const char *log = getenv("KILN_DEBUG");
    int fd = -1;

    if (log && *log && strcmp(log, "-") != 0)
        fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static void restore_stderr(void)
{
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
}

static void end_curses(void)
{
    if (curses_active) {
        curses_active = 0;
        endwin();
    }
    restore_stderr();
}

/* Restores the terminal before a crash or out-of-memory death, then lets the signal kill us. */
static void on_crash(int sig)
{
    end_curses();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;

    if (write(signal_pipe[1], &c, 1) < 0) {
        /* The pipe is full: the loop already has signals to handle. */
    }
    errno = saved;
}

static void install_signals(void)
{
    static const int crash[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL };
    static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGTSTP };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < ARRAY_SIZE(crash); i++)
        sigaction(crash[i], &sa, NULL);

    sa.sa_handler = on_signal;
    sa.sa_flags = 0;
    for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
        sigaction(handled[i], &sa, NULL);

    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    util_set_fatal_hook(end_curses);
}

static void restore_signals(void)
{
    static const int all[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGPIPE };

    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        signal(all[i], SIG_DFL);
    util_set_fatal_hook(NULL);
}

static int start_curses(void)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        err_set("the dashboard needs a terminal; use kiln ps or kiln images in scripts");
        return -1;
    }
    if (!newterm(NULL, stdout, stdin)) {
        err_set("cannot open the terminal '%s'; set TERM to a terminal type curses knows",
                getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    curses_active = 1;
    hide_stderr();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    return 0;
}

/* ---- status and theme ---- */

void dash_status(struct dash *d, enum theme_role role, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->status, sizeof(d->status), fmt, ap);
    va_end(ap);
    d->status_role = role;
    d->status_until = time_now() + STATUS_SECONDS;
    d->dirty = true;
    if (role == ROLE_ERROR)
        log_debug("status: %s", d->status);
}

/* True while an error message is on the status line; informational messages do not replace it. */
static bool error_showing(const struct dash *d)
{
    return d->status[0] && d->status_role == ROLE_ERROR && time_now() < d->status_until;
}

/* Loads theme NAME, falling back to the built-in one with the error on the status line. */
static void load_theme(struct dash *d, const char *name)
{
    char *path = theme_find(name);

    if (!path || theme_load_file(path, &d->theme) < 0) {
        dash_status(d, ROLE_ERROR, "%s; using the built-in theme", err_msg());
        theme_builtin(&d->theme);
    }
    free(path);
    if (!d->color && !d->theme.monochrome) {
        /* NO_COLOR or a terminal without colours: attributes only. */
        theme_builtin_monochrome(&d->theme);
    }
    paint_apply_theme(&d->theme, d->color);
    for (size_t i = 0; i < d->theme_names.len; i++)
        if (strcmp(d->theme_names.items[i], name) == 0)
            d->theme_index = i;
    d->dirty = true;
}

static void next_theme(struct dash *d)
{
    if (d->theme_names.len == 0) {
        dash_status(d, ROLE_WARNING, "no theme files found; put NAME.yaml files in $KILN_THEMES");
        return;
    }
    d->theme_index = (d->theme_index + 1) % d->theme_names.len;
    err_clear();
    d->status[0] = '\0';
    load_theme(d, d->theme_names.items[d->theme_index]);
    if (d->status_role != ROLE_ERROR || !d->status[0])
        dash_status(d, ROLE_STATUS, "theme %s%s", d->theme_names.items[d->theme_index],
                    d->color ? "" : " (no colours: NO_COLOR is set or the terminal has none)");
}

/* Queues REQ for every target of the focused pane. */
static void request_targets(struct dash *d, enum worker_req_kind req, const char *verb)
{
    struct strv names = { 0 };

    dash_targets(d, PANE_INSTANCES, &names);
    if (names.len == 0) {
        dash_status(d, ROLE_WARNING, "no instance selected");
    } else {
        char more[32] = "";

        for (size_t i = 0; i < names.len; i++)
            worker_request(d->worker, req, names.items[i], false);
        if (names.len > 1)
            snprintf(more, sizeof(more), " and %zu more", names.len - 1);
        dash_status(d, ROLE_STATUS, "%s %s%s", verb, names.items[0], more);
        dash_clear_marks(d);
    }
    strv_free(&names);
}

void dash_dispatch(struct dash *d, enum ui_action action)
{
    struct inst_row *inst = dash_selected_instance(d);

    switch (action) {
    case ACTION_NONE: break;
    case ACTION_HELP: viewer_open_help(d); break;
    case ACTION_QUIT: d->quit = true; break;
    case ACTION_MENU: dialog_open_menu(d); break;
    case ACTION_UP: dash_move_selection(d, -1); break;
    case ACTION_DOWN: dash_move_selection(d, 1); break;
    case ACTION_PAGE_UP:
    case ACTION_PAGE_DOWN: {
        long page = dash_focused_view(d)->height > 1 ? dash_focused_view(d)->height - 1 : 1;

        if (d->focus == PANE_BOTTOM && d->show_console && d->console) {
            int iy, ih, my, mh, by, bh;

            /* A console page: the pane's inside less one line of overlap. */
            draw_geometry(LINES, &iy, &ih, &my, &mh, &by, &bh);
            page = bh > 3 ? bh - 3 : 1;
            console_view_scroll(d->console, action == ACTION_PAGE_UP ? (int)page : -(int)page);
        } else {
            dash_move_selection(d, action == ACTION_PAGE_UP ? -page : page);
        }
        d->dirty = true;
        break;
    }
    case ACTION_HOME: dash_move_selection(d, -(long)dash_focused_view(d)->count); break;
    case ACTION_END: dash_move_selection(d, (long)dash_focused_view(d)->count); break;
    case ACTION_NEXT_PANE: d->focus = (enum ui_pane)((d->focus + 1) % PANE_LAST); d->dirty = true; break;
    case ACTION_MARK: dash_toggle_mark(d); break;
    case ACTION_FILTER: dialog_open_filter(d); break;
    case ACTION_SORT: dash_cycle_sort(d); break;
    case ACTION_SORT_REVERSE:
        dash_focused_view(d)->descending = !dash_focused_view(d)->descending;
        dash_rebuild_views(d);
        break;
    case ACTION_THEME: next_theme(d); break;
    case ACTION_DELAY: dialog_open_delay(d); break;
    case ACTION_RUN: dialog_open_run(d); break;
    case ACTION_BUILD: dialog_open_build(d); break;
    case ACTION_ATTACH:
        if (!inst) {
            dash_status(d, ROLE_WARNING, "no instance selected");
            break;
        }
        worker_request(d->worker, REQ_CONSOLE, inst->inst.name, true);
        dash_status(d, ROLE_STATUS, "opening the console of %s", inst->inst.name);
        break;
    case ACTION_LOGS: viewer_open_logs(d); break;
    case ACTION_INSPECT: viewer_open_inspect(d); break;
    case ACTION_FILES: viewer_open_files(d); break;
    case ACTION_START: request_targets(d, REQ_START, "starting"); break;
    case ACTION_RESTART: request_targets(d, REQ_RESTART, "restarting"); break;
    case ACTION_STOP:
    case ACTION_KILL:
    case ACTION_REMOVE:
        dialog_open_confirm(d, action);
        break;
    case ACTION_CONSOLE_PANE:
        d->show_console = !d->show_console;
        d->dirty = true;
        break;
    case ACTION_REDRAW:
        clearok(curscr, TRUE);
        d->dirty = true;
        break;
    case ACTION_LAST: break;
    }
}

/* ---- worker messages ---- */

static void read_host_figures(struct dash *d)
{
    char *text = file_read("/proc/stat", NULL);
    struct host_cpu_sample now;

    if (text && rates_parse_proc_stat(text, &now) == 0) {
        d->host_cpu = d->have_host_prev ? rates_host_cpu_percent(&d->host_prev, &now) : -1;
        d->host_prev = now;
        d->have_host_prev = true;
    }
    free(text);
    text = file_read("/proc/meminfo", NULL);
    if (text)
        rates_parse_meminfo(text, &d->host_mem_total, &d->host_mem_avail);
    free(text);
    err_clear();
}

static void handle_message(struct dash *d, struct worker_msg *m)
{
    switch (m->kind) {
    case MSG_INFO:
        backend_info_free(&d->info);
        d->info = m->info;
        memset(&m->info, 0, sizeof(m->info));
        break;
    case MSG_CONNECTED: {
        bool was_lost = d->conn_error != NULL;

        d->connected = true;
        d->ever_connected = true;
        free(d->conn_error);
        d->conn_error = NULL;
        if (was_lost || !error_showing(d))
            dash_status(d, ROLE_STATUS, "connected to %s; press ? for help",
                        d->opts->uri ? d->opts->uri : "the default hypervisor");
        break;
    }
    case MSG_DISCONNECTED:
        d->connected = false;
        free(d->conn_error);
        d->conn_error = xstrdup(m->text);
        dash_status(d, ROLE_ERROR, "%s", m->text);
        break;
    case MSG_INSTANCES:
        model_set_instances(&d->model, m->instances, m->n_instances);
        m->instances = NULL;
        m->n_instances = 0;
        dash_rebuild_views(d);
        if (d->select_after_run && model_find_instance(&d->model, d->select_after_run)) {
            /* Once listed, it is selected unless the filter hides it. */
            dash_select_instance(d, d->select_after_run);
            free(d->select_after_run);
            d->select_after_run = NULL;
        }
        break;
    case MSG_STATS:
        log_debug("stats sample of %zu instances", m->n_stats);
        model_apply_stats(&d->model, m->stats, m->n_stats);
        if (d->iview.sort != ICOL_NAME)
            dash_rebuild_views(d);
        if (d->show_console && d->console && dash_selected_instance(d))
            console_view_follow(d->console, &dash_selected_instance(d)->inst);
        if (d->viewer)
            viewer_refresh(d);
        break;
    case MSG_IMAGES:
        model_set_images(&d->model, m->images, m->n_images);
        m->images = NULL;
        m->n_images = 0;
        dash_rebuild_views(d);
        if (d->select_after_build) {
            dash_select_image(d, d->select_after_build);
            free(d->select_after_build);
            d->select_after_build = NULL;
        }
        break;
    case MSG_EVENT:
        if (m->name && m->event == EVENT_CRASHED)
            dash_status(d, ROLE_WARNING, "%s crashed", m->name);
        break;
    case MSG_DONE:
        if (!dialog_request_finished(d, m->name, NULL))
            dash_status(d, ROLE_STATUS, "%s", m->text);
        break;
    case MSG_FAILED:
        if (m->name && d->select_after_run && strcmp(m->name, d->select_after_run) == 0) {
            free(d->select_after_run);
            d->select_after_run = NULL;
        }
        if (!dialog_request_finished(d, m->name, m->text))
            dash_status(d, ROLE_ERROR, "%s", m->text);
        break;
    case MSG_PROGRESS:
        if (d->building)
            strv_push(&d->build_log, m->text);
        dash_status(d, ROLE_STATUS, "%s", m->text);
        break;
    case MSG_BUILT:
        d->building = false;
        if (m->name) {
            strv_push(&d->build_log, m->text);
            free(d->select_after_build);
            d->select_after_build = xstrdup(m->name);
            dash_status(d, ROLE_STATUS, "%s", m->text);
            worker_refresh_images(d->worker);
        } else {
            strv_push_owned(&d->build_log, xasprintf("failed: %s", m->text));
            dash_status(d, ROLE_ERROR, "build failed: %s", m->text);
        }
        break;
    case MSG_CONSOLE:
        if (m->attach && d->attach_fd < 0) {
            int fd = m->fd;
            m->fd = -1;
            console_attach(d, fd, m->name);
        }
        break;
    }
    d->dirty = true;
}

void dash_drain_messages(struct dash *d)
{
    struct worker_msg *m;

    while ((m = worker_receive(d->worker)) != NULL) {
        handle_message(d, m);
        worker_msg_free(m);
    }
}

/* ---- keys, mouse, resize, signals ---- */

/* The one place that reacts to a new terminal size. */
static void handle_resize(struct dash *d)
{
    d->too_small = COLS < UI_MIN_COLS || LINES < UI_MIN_LINES;
    clearok(curscr, TRUE);
    d->dirty = true;
}

static void handle_mouse(struct dash *d)
{
    MEVENT ev;

    if (getmouse(&ev) != OK)
        return;
    if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
        dash_move_selection(d, ev.bstate & BUTTON4_PRESSED ? -3 : 3);
        return;
    }
    if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
        return;

    struct table_view *views[2] = { &d->iview, &d->mview };
    for (int p = 0; p < 2; p++) {
        struct table_view *v = views[p];
        if (ev.y >= v->y && ev.y < v->y + v->height) {
            size_t pos = v->top + (size_t)(ev.y - v->y);
            d->focus = p == 0 ? PANE_INSTANCES : PANE_IMAGES;
            if (pos < v->count)
                v->selected = pos;
            dash_remember_selection(d);
            d->dirty = true;
            return;
        }
    }
    int iy, ih, my, mh, by, bh;
    draw_geometry(LINES, &iy, &ih, &my, &mh, &by, &bh);
    if (ev.y >= by && ev.y < by + bh) {
        d->focus = PANE_BOTTOM;
        d->dirty = true;
    }
}

/* Ctrl-Z or SIGTSTP: give the terminal back, stop, and redraw everything on SIGCONT. */
static void suspend(struct dash *d)
{
    struct sigaction sa, old;

    def_prog_mode();
    endwin();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &sa, &old);
    raise(SIGTSTP);
    /* Execution continues here after SIGCONT. */
    sigaction(SIGTSTP, &old, NULL);
    reset_prog_mode();
    clearok(curscr, TRUE);
    d->dirty = true;
}

static void handle_key(struct dash *d, int key)
{
    if (key == '\r')
        key = '\n'; /* nonl(): Enter arrives as a carriage return */
    if (key == KEY_RESIZE) {
        handle_resize(d);
        return;
    }
    if (key == CTRL_KEY('c')) {
        d->quit = true;
        return;
    }
    if (key == CTRL_KEY('z')) {
        suspend(d);
        return;
    }
    if (d->too_small) {
        if (key == 'q' || key == KEY_F(10))
            d->quit = true;
        return;
    }
    if (d->dialog) {
        dialog_key(d, key);
        return;
    }
    if (d->viewer) {
        viewer_key(d, key);
        return;
    }
    if (key == KEY_MOUSE) {
        handle_mouse(d);
        return;
    }
    if (key == 27) {
        if (d->filter[0]) {
            d->filter[0] = '\0';
            dash_rebuild_views(d);
            dash_status(d, ROLE_STATUS, "filter cleared");
        }
        return;
    }
    if (d->focus == PANE_BOTTOM && d->show_console && d->console && (key == KEY_UP || key == KEY_DOWN)) {
        console_view_scroll(d->console, key == KEY_UP ? 1 : -1);
        d->dirty = true;
        return;
    }

    enum ui_key_scope scope = d->focus == PANE_IMAGES ? SCOPE_IMAGE : SCOPE_INSTANCE;
    enum ui_action action = keys_lookup(key, scope);
    if (action == ACTION_NONE && keys_lookup(key, scope == SCOPE_IMAGE ? SCOPE_INSTANCE : SCOPE_IMAGE) != ACTION_NONE) {
        dash_status(d, ROLE_WARNING, "that key works in the %s table; Tab switches tables",
                    scope == SCOPE_IMAGE ? "instances" : "images");
        return;
    }
    dash_dispatch(d, action);
}

static void handle_signals(struct dash *d)
{
    unsigned char sig;

    while (read(signal_pipe[0], &sig, 1) == 1) {
        if (sig == SIGTSTP)
            suspend(d);
        else
            d->quit = true;
    }
}

/* Milliseconds until the next whole second, so the clock ticks on time. */
static int ms_to_next_second(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int)(1000 - ts.tv_nsec / 1000000) + 1;
}

/*
 * Logs how long after KEY was read its effect was written to the terminal. The
 * time covers handling, drawing and curses' refresh, not the terminal's own
 * delay. tests/bench/dashboard.sh reads these lines.
 */
static void log_key_latency(int key, double read_at)
{
    char name[16];

    keys_name(key, name, sizeof(name));
    log_debug("key %s drawn %.3f ms after it was read", name, (time_now() - read_at) * 1000.0);
}

static void main_loop(struct dash *d)
{
    time_t drawn_at = 0;
    double key_read_at = 0; /* when the first key since the last redraw was read, 0: none */
    int first_key = 0;

    while (!d->quit) {
        struct pollfd fds[3] = {
            { STDIN_FILENO, POLLIN, 0 },
            { worker_fd(d->worker), POLLIN, 0 },
            { signal_pipe[0], POLLIN, 0 },
        };
        int key;

        if (time(NULL) != drawn_at) {
            /* The host figures come from /proc, so they tick with the clock, connected or not. */
            read_host_figures(d);
            d->dirty = true;
        }
        if (d->dirty) {
            draw_screen(d);
            d->dirty = false;
            drawn_at = time(NULL);
            if (key_read_at > 0)
                log_key_latency(first_key, key_read_at);
            key_read_at = 0;
        }
        if (poll(fds, 3, ms_to_next_second()) < 0 && errno != EINTR)
            break;
        if (fds[2].revents & POLLIN)
            handle_signals(d);
        if (fds[1].revents & POLLIN)
            dash_drain_messages(d);
        while (!d->quit && (key = getch()) != ERR) {
            if (key_read_at == 0 && key != KEY_MOUSE && key != KEY_RESIZE) {
                key_read_at = time_now();
                first_key = key;
            }
            handle_key(d, key);
        }
        if (!d->dirty)
            key_read_at = 0; /* the keys changed nothing on the screen */
        if (d->status[0] && time_now() > d->status_until && !d->conn_error) {
            d->status[0] = '\0';
            d->dirty = true;
        }
    }
}

/* ---- entry ---- */

static void dash_free(struct dash *d)
{
    if (d->dialog)
        dialog_close(d);
    dialog_forget(d);
    if (d->viewer)
        viewer_close(d);
    console_view_free(d->console);
    model_free(&d->model);
    backend_info_free(&d->info);
    free(d->conn_error);
    free(d->iview.index);
    free(d->mview.index);
    free(d->iview.selected_name);
    free(d->mview.selected_name);
    free(d->select_after_build);
    free(d->select_after_run);
    strv_free(&d->theme_names);
    strv_free(&d->build_log);
}

int ui_run_backend(const struct ui_options *opts, const struct backend_ops *ops)
{
    struct dash d;
    const char *codeset;

    memset(&d, 0, sizeof(d));
    d.opts = opts;
    d.ops = ops;
    d.refresh = opts->refresh > 0 ? opts->refresh : 1.0;
    d.iview.sort = ICOL_NAME;
    d.mview.sort = MCOL_NAME;
    d.attach_fd = -1;

    setlocale(LC_ALL, "");
    codeset = nl_langinfo(CODESET);
    paint_set_utf8(codeset && strcmp(codeset, "UTF-8") == 0);

    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        err_set_errno(errno, "cannot create the dashboard's signal pipe");
        return EXIT_RUNTIME;
    }
    if (start_curses() < 0) {
        close(signal_pipe[0]);
        close(signal_pipe[1]);
        return EXIT_RUNTIME;
    }
    install_signals();

    d.color = has_colors() && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    if (d.color) {
        start_color();
        use_default_colors();
    }
    theme_list(&d.theme_names);
    load_theme(&d, opts->theme ? opts->theme : (d.color ? "default" : "monochrome"));
    d.console = console_view_new();
    handle_resize(&d);

    d.worker = worker_start(ops, opts->uri, d.refresh);
    if (!d.worker) {
        end_curses();
        restore_signals();
        dash_free(&d);
        return EXIT_RUNTIME;
    }
    if (!error_showing(&d))
        dash_status(&d, ROLE_STATUS, "connecting to %s; press ? for help",
                    opts->uri ? opts->uri : "the default hypervisor");
    main_loop(&d);

    end_curses();
    worker_stop(d.worker);
    restore_signals();
    close(signal_pipe[0]);
    close(signal_pipe[1]);
    signal_pipe[0] = signal_pipe[1] = -1;
    dash_free(&d);
    return EXIT_OK;
}

int ui_run(const struct ui_options *opts)
{
    return ui_run_backend(opts, &backend_libvirt);
}
