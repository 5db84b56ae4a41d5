/*
 * main.c - the `lask` executable: a Lua 5.4 interpreter with lask built in.
 *
 *   lask script.lua [args]   run a script (arg as in lua: arg[0] = script)
 *   lask -e 'code'           run code (may be repeated, runs before a script)
 *   lask -l mod              require mod into the global of that name
 *   lask -i                  the REPL after the script (or alone)
 *   lask -v                  version
 *   lask -                   run standard input as a script
 *   lask                     the REPL (readline, history in ~/.lask_history)
 *
 * Ctrl-C while Lua code or a compute runs interrupts it (the pool's Lua
 * states stop at their next instruction count hook, the runtime drops
 * pending tasks) and the REPL keeps going; at the prompt it clears the line.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include "lcore.h"

#define LASK_VERSION "lask 0.1.0"

static const char *progname = "lask";
static lua_State *running_L;                 /* for the signal handler */
static volatile sig_atomic_t at_prompt;
static sigjmp_buf prompt_jmp;

/* ------------------------------------------------------------- signals */

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint(int sig) {
    (void)sig;
    if (at_prompt) {
        at_prompt = 0;
        siglongjmp(prompt_jmp, 1);
    }
    /* like lua.c: lua_sethook is safe in a signal handler */
    if (running_L)
        lua_sethook(running_L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    lask__interrupt_states(NULL);
}

static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    /* Ctrl-C is not a bug: no traceback for it */
    size_t n = strlen(msg);
    if ((n >= 12 && strcmp(msg + n - 12, "interrupted!") == 0) ||
        strncmp(msg, "lask: interrupted", 17) == 0) {
        lua_pushliteral(L, "interrupted");
        return 1;
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Call the function below narg arguments with a traceback handler, Ctrl-C
 * armed. */
static int docall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    running_L = L;
    signal(SIGINT, on_sigint);
    int st = lua_pcall(L, narg, nres, base);
    running_L = NULL;
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    return st;
}

static int report(lua_State *L, int st) {
    if (st != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return st;
}

static int dochunk(lua_State *L, int st) {
    if (st == LUA_OK) st = docall(L, 0, 0);
    return report(L, st);
}

/* ----------------------------------------------------------------- REPL */

/* Print the values on the stack above base through lask.repl.show. */
static void print_results(lua_State *L, int base) {
    int n = lua_gettop(L) - base;
    if (n <= 0) return;
    luaL_checkstack(L, 4, "too many results to print");
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lask.repl");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        lua_getglobal(L, "print");
    } else {
        lua_getfield(L, -1, "show");
        lua_remove(L, -2);
    }
    lua_insert(L, base + 1);
    if (docall(L, n, 0) != LUA_OK) report(L, LUA_ERRRUN);
}

static int incomplete(lua_State *L, int st) {
    if (st == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        if (lmsg >= 5 && strcmp(msg + lmsg - 5, "<eof>") == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

typedef struct input {
    int tty;
    char *last;
} input;

/* Read one line (without its newline), NULL at end of input. */
static char *read_line(input *in, const char *prompt) {
    if (in->tty) {
        char *l = readline(prompt);
        return l;
    }
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
        }
        buf[n++] = (char)c;
    }
    if (c == EOF && n == 0) { free(buf); return NULL; }
    buf[n] = '\0';
    return buf;
}

__attribute__((noinline)) static const char *history_path(void) {
    static char path[4096];
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    snprintf(path, sizeof path, "%s/.lask_history", home);
    return path;
}

static void repl(lua_State *L) {
    input in = {isatty(0) && isatty(1), NULL};
    const char *hist = history_path();
    if (in.tty) {
        rl_catch_signals = 0;
        rl_readline_name = "lask";
        using_history();
        stifle_history(1000);
        if (hist) read_history(hist);
        printf("%s (%s)  Ctrl-D to quit, Ctrl-C stops a compute\n", LASK_VERSION, LUA_RELEASE);
    }
    /* a progress bar for long computes, as people expect at a prompt */
    (void)luaL_dostring(L, "local ok, d = pcall(require, 'lask.diagnostics') "
                     "if ok then d.ProgressBar():register() end");
    lua_settop(L, 0);
    for (;;) {
        lua_settop(L, 0);
        signal(SIGINT, on_sigint);
        char *line;
        if (sigsetjmp(prompt_jmp, 1)) {
            /* Ctrl-C at the prompt: drop the line, start over */
            if (in.tty) {
                rl_free_line_state();
                rl_cleanup_after_signal();
                fputc('\n', stdout);
            }
            continue;
        }
        at_prompt = 1;
        line = read_line(&in, "> ");
        at_prompt = 0;
        if (!line) break;
        size_t len = strlen(line);
        /* the chunk so far: "=expr" means "return expr" as in lua 5.1 */
        lua_pushstring(L, line[0] == '=' ? line + 1 : line);
        if (in.tty && len > 0) add_history(line);
        free(line);
        int st;
        /* first try it as an expression */
        const char *src = lua_tostring(L, 1);
        lua_pushfstring(L, "return %s;", src);
        st = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
        if (st == LUA_OK) {
            lua_remove(L, -2);    /* the "return" text */
        } else {
            lua_pop(L, 2);
            for (;;) {
                size_t n;
                const char *s = lua_tolstring(L, 1, &n);
                st = luaL_loadbuffer(L, s, n, "=stdin");
                if (!incomplete(L, st)) break;
                at_prompt = 1;
                char *more = read_line(&in, ">> ");
                at_prompt = 0;
                if (!more) {
                    lua_pushliteral(L, "incomplete statement at the end of input");
                    break;
                }
                if (in.tty && *more) add_history(more);
                lua_pushliteral(L, "\n");
                lua_pushstring(L, more);
                free(more);
                lua_concat(L, 3);
            }
        }
        if (st == LUA_OK) {
            lua_remove(L, 1);     /* the source; the function stays */
            st = docall(L, 0, LUA_MULTRET);
            if (st == LUA_OK) print_results(L, 0);
        }
        if (st != LUA_OK) report(L, st);
        fflush(stdout);
    }
    if (in.tty) {
        fputc('\n', stdout);
        if (hist) write_history(hist);
    }
}

/* ----------------------------------------------------------------- args */

static void usage(void) {
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "  -e code  run code\n"
            "  -l mod   require mod into global 'mod'\n"
            "  -i       interactive prompt after the script\n"
            "  -v       show the version\n"
            "  -        run standard input\n"
            "  --       stop handling options\n"
            "With no arguments: the interactive prompt.\n", progname);
}

static void make_arg(lua_State *L, char **argv, int argc, int script) {
    lua_createtable(L, argc - script, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, char **argv, int argc, int script) {
    const char *fname = argv[script];
    if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
    int st = luaL_loadfile(L, fname);
    if (st == LUA_OK) {
        int n = argc - script - 1;
        luaL_checkstack(L, n + 3, "too many arguments to script");
        for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
        st = docall(L, n, 0);
    }
    return report(L, st);
}

static int pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    luaL_openlibs(L);
    lask__preload(L);
    lua_gc(L, LUA_GCGEN, 0, 0);
    int interactive = 0, version = 0, script = 0, ran = 0;
    /* first pass: find the script and check options */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) { script = i; break; }
        if (strcmp(a, "--") == 0) { if (i + 1 < argc) script = i + 1; break; }
        if (strcmp(a, "-i") == 0) interactive = 1;
        else if (strcmp(a, "-v") == 0) version = 1;
        else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
            if (++i >= argc) { usage(); lua_pushboolean(L, 0); return 1; }
        } else if ((a[1] == 'e' || a[1] == 'l') && a[2]) {
            /* -ecode, -lmod */
        } else {
            fprintf(stderr, "%s: unrecognized option '%s'\n", progname, a);
            usage();
            lua_pushboolean(L, 0);
            return 1;
        }
    }
    make_arg(L, argv, argc, script ? script : argc);
    if (version) { printf("%s (%s)\n", LASK_VERSION, LUA_RELEASE); ran = 1; }
    /* second pass: -e and -l in order */
    int last = script ? script : argc;
    for (int i = 1; i < last; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "--") == 0) break;
        if (a[1] == 'e' || a[1] == 'l') {
            const char *v = a[2] ? a + 2 : argv[++i];
            int st;
            if (a[1] == 'e') {
                st = dochunk(L, luaL_loadbuffer(L, v, strlen(v), "=(command line)"));
            } else {
                lua_getglobal(L, "require");
                lua_pushstring(L, v);
                st = docall(L, 1, 1);
                if (st == LUA_OK) lua_setglobal(L, v);
                else report(L, st);
            }
            if (st != LUA_OK) { lua_pushboolean(L, 0); return 1; }
            ran = 1;
        }
    }
    if (script) {
        if (run_script(L, argv, argc, script) != LUA_OK) { lua_pushboolean(L, 0); return 1; }
        ran = 1;
    }
    if (interactive || !ran) {
        lua_getglobal(L, "require");
        lua_pushliteral(L, "lask");
        if (docall(L, 1, 1) == LUA_OK) lua_setglobal(L, "lask");
        else report(L, LUA_ERRRUN);
        repl(L);
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv) {
    if (argv[0] && argv[0][0]) progname = argv[0];
    lua_State *L = lask__newstate();
    if (!L) {
        fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n", progname);
        return 1;
    }
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int st = lua_pcall(L, 2, 1, 0);
    int ok = st == LUA_OK && lua_toboolean(L, -1);
    if (st != LUA_OK) report(L, st);
    lua_close(L);
    return ok ? 0 : 1;
}
