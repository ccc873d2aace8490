/*
 * The pre-initialised snapshot of python.wasm (pylon-launch's startup snapshot).
 *
 * Two entry points:
 *
 * - `pylon-snapshot-initialize`, a component export (its WIT is `snapshot.wit`; the
 *   component-type section that declares it is `component_type.h`). A pre-initialiser
 *   (wasmtime-wizer, driven by pylon-launch) calls it once, then captures the
 *   instance's memory and globals as the snapshot. It initialises CPython the way a
 *   plain `python` launch does (encodings, site, the stdlib zip's index), imports
 *   linecache (every `-c` run does) and the modules named in PYLON_SNAPSHOT_IMPORTS,
 *   and then drops every WASI resource handle
 *   libc holds: handles are indices into the pre-initialiser's instance's tables and
 *   mean nothing in a later instance, so none may be captured. libc reopens stdio and
 *   the preopened directories lazily, from the instance that runs.
 *
 * - `main` (wrapped: `-Wl,--wrap,__main_argc_argv` in setup.flags). In a fresh
 *   python.wasm it is CPython's main. In a snapshot (the flag `snapshot_ready` is part
 *   of the captured memory) CPython is already initialised, so it re-does what belongs
 *   to this run and not to the snapshot: it reads this run's configuration from argv
 *   and the environment exactly as CPython's main would; if anything differs from the
 *   snapshot's that initialisation depended on (an -X option, -I, -E, -S, -u,
 *   PYTHONPATH, an explicit PYTHONHASHSEED, …) it finalises the snapshot's interpreter
 *   and runs CPython's main from scratch, so such a run behaves as without a snapshot.
 *   Otherwise it installs the run's configuration (sys.argv, sys.orig_argv, sys.flags,
 *   what to run), rebuilds os.environ from this run's environment (libc re-read it:
 *   its constructors run again when `run` starts), reseeds `random` if the snapshot
 *   imported it, re-reads the time zone, line-buffers stdout when it is a terminal, and
 *   runs the program. Clocks and os.urandom are live host calls and need nothing.
 *
 * - `Py_FinalizeEx` (wrapped too): the end of a resumed run does what a program can
 *   observe of CPython's finalisation and skips tearing down the snapshot's
 *   interpreter (see __wrap_Py_FinalizeEx).
 *
 * What stays the snapshot's: the str-hash secret (CPython hashes thousands of strings
 *   while it initialises), and modules' import-time state. pylon-launch's default
 *   snapshot is made on the machine that runs it with live randomness, so its secret is
 *   that installation's own; `pylon snapshot --seed N` makes it PYTHONHASHSEED=N's.
 */
#include "Python.h"
#include "pycore_initconfig.h" // _PyConfig_AsDict
#include "pycore_pystate.h"    // _Py_GetConfig
#include "pycore_pylifecycle.h" // _PySys_UpdateConfig, _PyAtExit_Call
#include "pycore_moduleobject.h" // _PyModule_Clear
#include "pycore_runtime.h"     // _PyRuntime.atexit (Py_AtExit's callbacks)
#if PY_VERSION_HEX >= 0x030E0000
#  include "pycore_pyhash.h"   // _Py_HashSecret (public in 3.13, internal since 3.14)
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/libc.h> // __wasilibc_reset_preopens

/* Declares the pylon-snapshot-initialize export (snapshot.wit) to wasm-component-ld. */
#include "component_type.h"

extern char **environ;

int __real___main_argc_argv(int argc, char **argv);
int __real_Py_FinalizeEx(void);
/* What libc's `run` export does before main (crt1-command.c); the linker does not do
   it for other exports of a command. */
extern void __wasi_init_tp(void);
extern void __wasm_call_ctors(void);

/* Set by the last step of pylon_snapshot_initialize; true only in a snapshot. */
static volatile int snapshot_ready = 0;
/* This run was resumed from the snapshot (for _pylon_snapshot.resumed()). */
static int resumed = 0;
/* The resumed run's end is still to come (__wrap_Py_FinalizeEx runs once). */
static int finalize_pending = 0;
/* The snapshot's configuration as read from its argv and environment, before the
   path configuration (a dict of _PyConfig_AsDict; one strong reference, kept). */
static PyObject *snapshot_read_config = NULL;
/* Why a snapshot's run initialised CPython again (for _pylon_snapshot.fallback()). */
static char fallback_reason[2048];
/* The names in sys.modules when the snapshot was taken (a frozenset; kept): at exit,
   the modules a run imported itself are released like __main__. */
static PyObject *snapshot_module_names = NULL;

static void
fail_initialize(const char *what, PyStatus status)
{
    fprintf(stderr, "pylon snapshot: %s failed", what);
    if (status.err_msg != NULL) {
        fprintf(stderr, ": %s", status.err_msg);
    }
    fputc('\n', stderr);
    if (PyErr_Occurred()) {
        PyErr_Print();
    }
    fflush(stderr);
    /* A trap fails the pre-initialiser, which reports it: no snapshot is written. */
    abort();
}

/* Imports the comma-separated modules of PYLON_SNAPSHOT_IMPORTS. */
static void
import_listed_modules(void)
{
    const char *list = getenv("PYLON_SNAPSHOT_IMPORTS");
    if (list == NULL || *list == '\0') {
        return;
    }
    char *copy = strdup(list);
    if (copy == NULL) {
        fail_initialize("copying PYLON_SNAPSHOT_IMPORTS", PyStatus_NoMemory());
    }
    for (char *name = strtok(copy, ","); name != NULL; name = strtok(NULL, ",")) {
        PyObject *module = PyImport_ImportModule(name);
        if (module == NULL) {
            fprintf(stderr, "pylon snapshot: cannot import %s\n", name);
            fail_initialize("importing PYLON_SNAPSHOT_IMPORTS", PyStatus_Ok());
        }
        Py_DECREF(module);
    }
    free(copy);
}

/* Collects the garbage of initialisation, then moves every object left into the
   collector's permanent generation (gc.freeze, made for pre-forked servers): no
   collection of a run, its last one at exit included, traverses them, which also
   spares the pages they sit on from being written (each a copy-on-write fault when
   the launcher maps the snapshot). */
static void
freeze_heap(void)
{
    PyGC_Collect();
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *res = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
    Py_XDECREF(gc);
    if (res == NULL) {
        fail_initialize("gc.freeze()", PyStatus_Ok());
    }
    Py_DECREF(res);
}

static void
flush_std_stream(const char *name)
{
    PyObject *stream = PySys_GetObject(name); /* borrowed */
    if (stream != NULL && stream != Py_None) {
        PyObject *res = PyObject_CallMethod(stream, "flush", NULL);
        if (res == NULL) {
            PyErr_Clear();
        }
        Py_XDECREF(res);
    }
}

__attribute__((export_name("pylon-snapshot-initialize"))) void
pylon_snapshot_initialize(void)
{
    if (snapshot_ready) {
        /* Already a snapshot (the export stays so that the composition around it keeps
           its type): initialising twice is not an operation. */
        return;
    }
    /* Constructors first, as `run` does: libc's reads the environment. They run again
       when `run` starts in the snapshot, which re-reads this run's environment. */
    __wasi_init_tp();
    __wasm_call_ctors();

    PyStatus status;
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status)) {
        fail_initialize("Py_PreInitialize", status);
    }

    /* argv[0] as pylon-launch passes it, so that the path configuration computed
       here is the one a plain launch computes. */
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    char *argv[] = {"python", NULL};
    status = PyConfig_SetBytesArgv(&config, 1, argv);
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        fail_initialize("Py_InitializeFromConfig", status);
    }

    /* The configuration as a run reads it before the path configuration is computed
       (what a resumed run compares its own with, see same_initialization). */
    PyConfig read;
    PyConfig_InitPythonConfig(&read);
    status = PyConfig_SetBytesArgv(&read, 1, argv);
    if (!PyStatus_Exception(status)) {
        status = PyConfig_Read(&read);
    }
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&read);
        fail_initialize("reading the configuration", status);
    }
    snapshot_read_config = _PyConfig_AsDict(&read);
    PyConfig_Clear(&read);
    if (snapshot_read_config == NULL) {
        fail_initialize("_PyConfig_AsDict", PyStatus_Ok());
    }

    /* What every `-c` run imports (3.13 keeps the command's source in linecache for
       its tracebacks): half a millisecond a run otherwise. */
    PyObject *linecache = PyImport_ImportModule("linecache");
    if (linecache == NULL) {
        fail_initialize("importing linecache", PyStatus_Ok());
    }
    Py_DECREF(linecache);
    import_listed_modules();
    snapshot_module_names = PyFrozenSet_New(PyImport_GetModuleDict());
    if (snapshot_module_names == NULL) {
        fail_initialize("recording the snapshot's modules", PyStatus_Ok());
    }
    freeze_heap();
    flush_std_stream("stdout");
    flush_std_stream("stderr");
    fflush(NULL);

    /* Drop every handle libc holds (preopens and the descriptor table, stdio
       included); libc opens them again on first use, in the instance that runs. */
    __wasilibc_reset_preopens();
    snapshot_ready = 1;
}

/* Configuration fields that belong to one run, not to the initialised interpreter:
   the run's configuration replaces them freely. */
static const char *const per_run_fields[] = {
    "argv",          "orig_argv", "run_command",           "run_module",
    "run_filename",  "inspect",   "interactive",           "quiet",
    "safe_path",     "skip_source_first_line",
    /* 3.14: the sys.path[0] a run computed (absent from 3.13's dict). */
    "sys_path_0",    NULL,
};

static int
drop_keys(PyObject *dict, const char *const *keys)
{
    for (; *keys != NULL; keys++) {
        if (PyDict_PopString(dict, *keys, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

/* 1: `config` can run in the snapshot's interpreter, 0: it cannot, -1: error. */
static int
same_initialization(const PyConfig *config)
{
    /* Pre-configuration that PyConfig does not carry. */
    if (config->use_environment) {
        const char *const pre_env[] = {"PYTHONUTF8", "PYTHONCOERCECLOCALE", NULL};
        for (const char *const *name = pre_env; *name != NULL; name++) {
            const char *value = getenv(*name);
            if (value != NULL && *value != '\0') {
                snprintf(fallback_reason, sizeof fallback_reason, "%s is set", *name);
                return 0;
            }
        }
    }
    /* Both read the same way (PyConfig_Read, no path configuration): equal inputs
       read equal, and the snapshot's path configuration is the one they give. */
    PyObject *now = _PyConfig_AsDict(config);
    PyObject *then = snapshot_read_config ? PyDict_Copy(snapshot_read_config) : NULL;
    int same = -1;
    if (now == NULL || then == NULL) {
        goto done;
    }
    if (drop_keys(now, per_run_fields) < 0 || drop_keys(then, per_run_fields) < 0) {
        goto done;
    }
    if (!config->use_hash_seed) {
        /* No seed asked for: the snapshot's secret serves (see the top comment). */
        const char *const hash_fields[] = {"use_hash_seed", "hash_seed", NULL};
        if (drop_keys(now, hash_fields) < 0 || drop_keys(then, hash_fields) < 0) {
            goto done;
        }
    }
    same = PyObject_RichCompareBool(now, then, Py_EQ);
    if (same == 0) {
        /* Name the fields that differ, for _pylon_snapshot.fallback(). */
        size_t used = (size_t)snprintf(fallback_reason, sizeof fallback_reason,
                                       "the configuration differs in");
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(then, &pos, &key, &value)) {
            PyObject *other = PyDict_GetItemWithError(now, key); /* borrowed */
            int eq = other == NULL ? 0 : PyObject_RichCompareBool(value, other, Py_EQ);
            if (eq == 0 && used < sizeof fallback_reason) {
                PyObject *text = PyUnicode_FromFormat(" %U (%.60R, now %.60R)", key, value,
                                                      other ? other : Py_None);
                const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
                used += (size_t)snprintf(fallback_reason + used,
                                         sizeof fallback_reason - used, "%s",
                                         utf8 ? utf8 : " ?");
                Py_XDECREF(text);
            }
            PyErr_Clear();
        }
    }
done:
    Py_XDECREF(now);
    Py_XDECREF(then);
    return same;
}

/* posix.environ (which os.environ and os.environb share on POSIX) from this run's
   environment, updated in place so every reference to it sees the new one. */
static int
refresh_environ(void)
{
    PyObject *posix = PyImport_ImportModule("posix");
    if (posix == NULL) {
        return -1;
    }
    PyObject *dict = PyObject_GetAttrString(posix, "environ");
    Py_DECREF(posix);
    if (dict == NULL) {
        return -1;
    }
    if (!PyDict_Check(dict)) {
        Py_DECREF(dict);
        PyErr_SetString(PyExc_TypeError, "posix.environ is not a dict");
        return -1;
    }
    PyDict_Clear(dict);
    int rc = 0;
    for (char **entry = environ; entry != NULL && *entry != NULL; entry++) {
        const char *eq = strchr(*entry, '=');
        if (eq == NULL) {
            continue;
        }
        PyObject *key = PyBytes_FromStringAndSize(*entry, eq - *entry);
        PyObject *value = PyBytes_FromString(eq + 1);
        /* As posix does: the first of duplicated names wins. */
        if (key == NULL || value == NULL ||
            PyDict_SetDefaultRef(dict, key, value, NULL) < 0) {
            rc = -1;
        }
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (rc < 0) {
            break;
        }
    }
    Py_DECREF(dict);
    return rc;
}

/* Calls sys.modules[module].<method>(*args) if the snapshot imported that module and
   this build has that function (WASI's `time` has no tzset, for one). */
static int
call_if_imported(const char *module, const char *method, PyObject *args)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *mod = PyDict_GetItemString(modules, module); /* borrowed */
    if (mod == NULL) {
        return 0;
    }
    PyObject *func;
    if (PyObject_GetOptionalAttrString(mod, method, &func) <= 0) {
        return func == NULL && PyErr_Occurred() ? -1 : 0;
    }
    PyObject *res = PyObject_Call(func, args, NULL);
    Py_DECREF(func);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* What create_stdio decides from isatty(), which in the snapshot was the
   pre-initialiser's answer. */
static int
refresh_stdout_buffering(const PyConfig *config)
{
    if (!config->buffered_stdio || !isatty(STDOUT_FILENO)) {
        return 0;
    }
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    if (out == NULL || out == Py_None) {
        return 0;
    }
    PyObject *reconfigure = PyObject_GetAttrString(out, "reconfigure");
    if (reconfigure == NULL) {
        return -1;
    }
    PyObject *args = PyTuple_New(0);
    PyObject *kwargs = Py_BuildValue("{s:O}", "line_buffering", Py_True);
    PyObject *res = NULL;
    if (args != NULL && kwargs != NULL) {
        res = PyObject_Call(reconfigure, args, kwargs);
    }
    Py_DECREF(reconfigure);
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

static int
refresh_run_state(const PyConfig *config)
{
    if (refresh_environ() < 0) {
        return -1;
    }
    PyObject *no_args = PyTuple_New(0);
    if (no_args == NULL) {
        return -1;
    }
    int rc = 0;
    if (call_if_imported("random", "seed", no_args) < 0 ||
        call_if_imported("time", "tzset", no_args) < 0 ||
        refresh_stdout_buffering(config) < 0) {
        rc = -1;
    }
    Py_DECREF(no_args);
    return rc;
}

/* Makes the run's per-run fields (per_run_fields) the interpreter's, and sys's
   attributes follow (sys.argv, sys.orig_argv, sys.flags). The rest is equal to the
   snapshot's (same_initialization), so the interpreter's configuration, path
   configuration included, stays: no second computation of the paths. */
static int
install_run_config(const PyConfig *run)
{
    PyConfig *live = (PyConfig *)_Py_GetConfig();
    PyStatus status = PyConfig_SetWideStringList(live, &live->argv, run->argv.length,
                                                 run->argv.items);
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetWideStringList(live, &live->orig_argv, run->orig_argv.length,
                                            run->orig_argv.items);
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(live, &live->run_command, run->run_command);
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(live, &live->run_module, run->run_module);
    }
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(live, &live->run_filename, run->run_filename);
    }
#if PY_VERSION_HEX >= 0x030E0000
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetString(live, &live->sys_path_0, run->sys_path_0);
    }
#endif
    if (PyStatus_Exception(status)) {
        _PyErr_SetFromPyStatus(status);
        return -1;
    }
    live->inspect = run->inspect;
    live->interactive = run->interactive;
    live->quiet = run->quiet;
    live->safe_path = run->safe_path;
    live->skip_source_first_line = run->skip_source_first_line;

    /* _PySys_UpdateConfig sets sys.path back to the bare search path; keep the one
       initialisation made (site's additions included). */
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    Py_XINCREF(path);
    int rc = _PySys_UpdateConfig(_PyThreadState_GET());
    if (rc == 0 && path != NULL) {
        rc = PySys_SetObject("path", path);
    }
    Py_XDECREF(path);
    return rc;
}

/* The str-hash secret PYTHONHASHSEED=seed gives: all zero for 0 (no randomisation),
   else each byte the high byte of the next state of the linear congruential
   generator x' = x * 214013 + 2531011 (mod 2^32) started at the seed, as CPython's
   Python/bootstrap_hash.c specifies it. */
static void
set_hash_secret_from_seed(unsigned long seed)
{
    unsigned char *secret = (unsigned char *)&_Py_HashSecret;
    uint32_t x = (uint32_t)seed;
    for (size_t i = 0; i < sizeof(_Py_HashSecret); i++) {
        if (seed == 0) {
            secret[i] = 0;
            continue;
        }
        x = x * 214013u + 2531011u;
        secret[i] = (unsigned char)((x >> 16) & 0xff);
    }
}

int
__wrap___main_argc_argv(int argc, char **argv)
{
    if (!snapshot_ready) {
        return __real___main_argc_argv(argc, argv);
    }
    /* Never twice: a second `run` of one instance is refused by libc already. */
    snapshot_ready = 0;

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    PyStatus status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (!PyStatus_Exception(status)) {
        status = PyConfig_Read(&config);
    }
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        /* What CPython's main does with it (usage errors, --help, --version). */
        Py_ExitStatusException(status);
    }
    int same = same_initialization(&config);
    if (same != 1) {
        if (same < 0) {
            snprintf(fallback_reason, sizeof fallback_reason,
                     "comparing the configurations failed");
            PyErr_Clear();
        }
        int seeded = config.use_hash_seed;
        unsigned long seed = config.hash_seed;
        PyConfig_Clear(&config);
        /* This run needs another initialisation: start over as without a snapshot. */
        Py_FinalizeEx();
        if (seeded) {
            /* CPython derives the secret once per process, so its second
               initialisation would keep the snapshot's: derive the asked one here. */
            set_hash_secret_from_seed(seed);
        }
        return __real___main_argc_argv(argc, argv);
    }
    resumed = 1;
    int rc = install_run_config(&config);
    if (rc == 0) {
        rc = refresh_run_state(&config);
    }
    PyConfig_Clear(&config);
    if (rc < 0) {
        fprintf(stderr, "pylon: resuming the startup snapshot failed:\n");
        PyErr_Print();
        Py_FinalizeEx();
        return 1;
    }
    finalize_pending = 1;
    return Py_RunMain();
}

/* --- the end of a resumed run ------------------------------------------------ */

/* sys.<name>.flush() unless it is None or closed, as CPython's finalisation does;
   -1 if it failed (reported as unraisable for stdout, silently for stderr). */
static int
flush_std_file(const char *name)
{
    PyObject *file = PySys_GetObject(name); /* borrowed */
    if (file == NULL || file == Py_None) {
        return 0;
    }
    PyObject *closed = PyObject_GetAttrString(file, "closed");
    int is_closed = closed == NULL ? 0 : PyObject_IsTrue(closed);
    Py_XDECREF(closed);
    PyErr_Clear();
    if (is_closed > 0) {
        return 0;
    }
    PyObject *res = PyObject_CallMethod(file, "flush", NULL);
    if (res == NULL) {
        if (strcmp(name, "stdout") == 0) {
            PyErr_FormatUnraisable("Exception ignored on flushing sys.stdout");
        }
        else {
            PyErr_Clear();
        }
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* Releases the contents of the modules this run imported (newest first), then
   __main__'s, as CPython's finalisation does: their objects' __del__ methods run,
   files they left open are flushed and closed. */
static void
release_run_modules(void)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *items = PyDict_Items(modules);
    if (items == NULL) {
        PyErr_FormatUnraisable("Exception ignored on releasing the run's modules");
        return;
    }
    for (Py_ssize_t i = PyList_GET_SIZE(items) - 1; i >= 0; i--) {
        PyObject *item = PyList_GET_ITEM(items, i);
        PyObject *name = PyTuple_GET_ITEM(item, 0);
        PyObject *module = PyTuple_GET_ITEM(item, 1);
        int known = PySet_Contains(snapshot_module_names, name);
        if (known < 0) {
            PyErr_Clear();
            continue;
        }
        if (known == 0 && PyModule_Check(module)) {
            _PyModule_Clear(module);
        }
    }
    Py_DECREF(items);
    PyObject *main_module = PyDict_GetItemString(modules, "__main__"); /* borrowed */
    if (main_module != NULL && PyModule_Check(main_module)) {
        _PyModule_Clear(main_module);
    }
    PyErr_Clear();
}

/* CPython's finalisation as a resumed run ends (Py_RunMain calls it): what a program
   can observe of it, in CPython's order, and not the rest.
     1. threading._shutdown() (non-daemon threads), if threading was imported;
     2. the atexit callbacks;
     3. sys.stdout and sys.stderr flushed;
     4. the modules this run imported and __main__ released, then a full collection:
        the run's objects are finalised (__del__, weakref callbacks, files closed);
     5. sys.stdout and sys.stderr flushed again.
   What is skipped is tearing down the interpreter the snapshot built (freeing every
   module, type and interned string one by one): about a millisecond of the short
   runs the snapshot is for, spent on memory the instance is about to drop. Objects
   the snapshot's own modules still hold are not finalised at exit, which CPython
   does not promise either ("It is not guaranteed that __del__() methods are called
   for objects that still exist when the interpreter exits"). A run that registered
   a C-level Py_AtExit function, `sys.exit()` (which finalises inside CPython) and
   every run that fell back to a fresh initialisation get the whole finalisation.
   Returns -1 when a flush failed (Py_RunMain's exit status is then 120). */
int
__wrap_Py_FinalizeEx(void)
{
    if (!finalize_pending || snapshot_module_names == NULL ||
        _PyRuntime.atexit.ncallbacks > 0 || !Py_IsInitialized()) {
        return __real_Py_FinalizeEx();
    }
    finalize_pending = 0; /* once: a second call (CPython makes none) finalises fully */
    int status = 0;

    PyObject *threading_name = PyUnicode_FromString("threading");
    PyObject *threading = threading_name ? PyImport_GetModule(threading_name) : NULL;
    Py_XDECREF(threading_name);
    if (threading != NULL) {
        PyObject *res = PyObject_CallMethod(threading, "_shutdown", NULL);
        if (res == NULL) {
            PyErr_FormatUnraisable("Exception ignored on threading shutdown");
        }
        Py_XDECREF(res);
        Py_DECREF(threading);
    }
    else if (PyErr_Occurred()) {
        PyErr_FormatUnraisable("Exception ignored on threading shutdown");
    }

    _PyAtExit_Call(PyInterpreterState_Get());

    if (flush_std_file("stdout") < 0 || flush_std_file("stderr") < 0) {
        status = -1;
    }
    release_run_modules();
    PyGC_Collect();
    if (flush_std_file("stdout") < 0 || flush_std_file("stderr") < 0) {
        status = -1;
    }
    return status;
}

/* --- the _pylon_snapshot module: what a program (and the tests) can ask ----- */

static PyObject *
snapshot_resumed(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(resumed);
}

static PyObject *
snapshot_fallback(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    if (fallback_reason[0] == '\0') {
        Py_RETURN_NONE;
    }
    return PyUnicode_DecodeUTF8(fallback_reason, strlen(fallback_reason), "replace");
}

static PyMethodDef snapshot_methods[] = {
    {"fallback", snapshot_fallback, METH_NOARGS,
     PyDoc_STR("fallback()\n--\n\nWhy this run, started from the snapshot, initialised "
               "CPython again (its configuration needed another initialisation), "
               "or None.")},
    {"resumed", snapshot_resumed, METH_NOARGS,
     PyDoc_STR("resumed()\n--\n\nTrue if this run started from pylon-launch's "
               "pre-initialised snapshot instead of initialising CPython itself.")},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot snapshot_slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef snapshot_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pylon_snapshot",
    .m_doc = "Whether this run resumed pylon-launch's startup snapshot.",
    .m_size = 0,
    .m_methods = snapshot_methods,
    .m_slots = snapshot_slots,
};

PyMODINIT_FUNC
PyInit__pylon_snapshot(void)
{
    return PyModuleDef_Init(&snapshot_module);
}
