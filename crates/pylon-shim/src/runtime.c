/* ---- pylon-shim runtime: hand-written, emitted verbatim into every shim ----------------
 *
 * Why this part is not generated: nothing here depends on the WIT. It is the fixed
 * machinery the generated converters call into: the per-call cleanup list (buffers to
 * release, memory to free, references to drop, owned handles to mark as moved), the
 * buffer protocol for `list<u8>` arguments, integer range checks, the layout and
 * life cycle of resource objects, and raising `WitError`. Writing it once, by hand,
 * keeps the generated part small and the tricky ownership rules in one reviewed place.
 *
 * Ownership convention (wit-bindgen-c, imports): the caller keeps ownership of every
 * argument, so argument data only has to stay valid for the duration of the call. The
 * shim points WIT strings at the UTF-8 buffer cached inside the `str` object and WIT
 * `list<u8>` at the exporter's buffer (both kept alive for the call), and copies other
 * lists into PyMem arrays released after the call. Results are owned by the caller and
 * are freed with the generated `*_free` functions after conversion, on every path.
 */

#define PYLON_UNUSED __attribute__((unused))

enum { PYLON_CL_BUFFER = 1, PYLON_CL_MEM = 2, PYLON_CL_REF = 3, PYLON_CL_MOVE = 4 };

typedef struct {
    int kind;
    void *ptr;
} pylon_cl_entry;

/* Everything a call must undo once the import returned (or lowering failed). */
typedef struct {
    pylon_cl_entry *items;
    size_t len;
    size_t cap;
    pylon_cl_entry inline_items[8];
} pylon_cleanup;

/* A resource object: a WIT handle owned by a Python object. */
typedef struct {
    PyObject_HEAD
    int32_t handle;
    int state;
} pylon_resource;

enum { PYLON_LIVE = 0, PYLON_CLOSED = 1, PYLON_MOVED = 2 };

static PyObject *pylon_WitError;

PYLON_UNUSED static void
pylon_cleanup_init(pylon_cleanup *c)
{
    c->items = c->inline_items;
    c->len = 0;
    c->cap = sizeof(c->inline_items) / sizeof(c->inline_items[0]);
}

static void
pylon_cleanup_release_one(int kind, void *ptr)
{
    switch (kind) {
    case PYLON_CL_BUFFER:
        PyBuffer_Release((Py_buffer *)ptr);
        PyMem_Free(ptr);
        break;
    case PYLON_CL_MEM:
        PyMem_Free(ptr);
        break;
    case PYLON_CL_REF:
        Py_DECREF((PyObject *)ptr);
        break;
    default:
        break;
    }
}

/* Registers `ptr`; on failure `ptr` is released at once and -1 returned. */
static int
pylon_cleanup_push(pylon_cleanup *c, int kind, void *ptr)
{
    if (c->len == c->cap) {
        size_t ncap = c->cap * 2;
        pylon_cl_entry *n = PyMem_Malloc(ncap * sizeof(*n));
        if (n == NULL) {
            pylon_cleanup_release_one(kind, ptr);
            PyErr_NoMemory();
            return -1;
        }
        memcpy(n, c->items, c->len * sizeof(*n));
        if (c->items != c->inline_items) {
            PyMem_Free(c->items);
        }
        c->items = n;
        c->cap = ncap;
    }
    c->items[c->len].kind = kind;
    c->items[c->len].ptr = ptr;
    c->len++;
    return 0;
}

/* Releases everything, newest first. Safe to call once per init. */
PYLON_UNUSED static void
pylon_cleanup_run(pylon_cleanup *c)
{
    while (c->len > 0) {
        c->len--;
        pylon_cleanup_release_one(c->items[c->len].kind, c->items[c->len].ptr);
    }
    if (c->items != c->inline_items) {
        PyMem_Free(c->items);
        c->items = c->inline_items;
    }
}

/* Called right before the import: every `own<T>` argument is moved into the call. */
PYLON_UNUSED static void
pylon_cleanup_commit(pylon_cleanup *c)
{
    for (size_t i = 0; i < c->len; i++) {
        if (c->items[i].kind == PYLON_CL_MOVE) {
            ((pylon_resource *)c->items[i].ptr)->state = PYLON_MOVED;
        }
    }
}

/* Zeroed PyMem array of n elements, freed after the call. */
PYLON_UNUSED static void *
pylon_alloc_array(pylon_cleanup *c, Py_ssize_t n, size_t size)
{
    void *p = PyMem_Calloc((size_t)n, size);
    if (p == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (pylon_cleanup_push(c, PYLON_CL_MEM, p) < 0) {
        return NULL;
    }
    return p;
}

/* `o` as a tuple kept alive until the call returns (items cannot change under us). */
PYLON_UNUSED static int
pylon_seq(PyObject *o, pylon_cleanup *c, PyObject *const **items, Py_ssize_t *n)
{
    PyObject *t = PySequence_Tuple(o);
    if (t == NULL) {
        return -1;
    }
    if (pylon_cleanup_push(c, PYLON_CL_REF, t) < 0) {
        return -1;
    }
    *items = (PyObject *const *)PySequence_Fast_ITEMS(t);
    *n = PyTuple_GET_SIZE(t);
    return 0;
}

/* A record or tuple argument: a sequence of exactly n items. */
PYLON_UNUSED static int
pylon_fixed_seq(PyObject *o, Py_ssize_t n, const char *what, pylon_cleanup *c,
                PyObject *const **items)
{
    Py_ssize_t got;
    if (!PySequence_Check(o) || PyUnicode_Check(o) || PyBytes_Check(o)
        || PyByteArray_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a sequence of %zd items, got %.200s",
                     what, n, Py_TYPE(o)->tp_name);
        return -1;
    }
    if (pylon_seq(o, c, items, &got) < 0) {
        return -1;
    }
    if (got != n) {
        PyErr_Format(PyExc_TypeError, "%s: expected a sequence of %zd items, got %zd",
                     what, n, got);
        return -1;
    }
    return 0;
}

PYLON_UNUSED static int
pylon_lower_bool(PyObject *o, bool *out)
{
    int r = PyObject_IsTrue(o);
    if (r < 0) {
        return -1;
    }
    *out = r != 0;
    return 0;
}

static int
pylon_lower_signed(PyObject *o, long long min, long long max, const char *what, long long *out)
{
    PyObject *i = PyNumber_Index(o);
    if (i == NULL) {
        return -1;
    }
    long long v = PyLong_AsLongLong(i);
    Py_DECREF(i);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < min || v > max) {
        PyErr_Format(PyExc_OverflowError, "%lld is out of range for %s", v, what);
        return -1;
    }
    *out = v;
    return 0;
}

static int
pylon_lower_unsigned(PyObject *o, unsigned long long max, const char *what,
                     unsigned long long *out)
{
    PyObject *i = PyNumber_Index(o);
    if (i == NULL) {
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(i);
    Py_DECREF(i);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Format(PyExc_OverflowError, "value is out of range for %s", what);
        }
        return -1;
    }
    if (v > max) {
        PyErr_Format(PyExc_OverflowError, "%llu is out of range for %s", v, what);
        return -1;
    }
    *out = v;
    return 0;
}

#define PYLON_LOWER_S(NAME, CT, MIN, MAX)                                   \
    PYLON_UNUSED static int pylon_lower_##NAME(PyObject *o, CT *out)        \
    {                                                                       \
        long long v;                                                        \
        if (pylon_lower_signed(o, (MIN), (MAX), #NAME, &v) < 0) {           \
            return -1;                                                      \
        }                                                                   \
        *out = (CT)v;                                                       \
        return 0;                                                           \
    }
#define PYLON_LOWER_U(NAME, CT, MAX)                                        \
    PYLON_UNUSED static int pylon_lower_##NAME(PyObject *o, CT *out)        \
    {                                                                       \
        unsigned long long v;                                               \
        if (pylon_lower_unsigned(o, (MAX), #NAME, &v) < 0) {                \
            return -1;                                                      \
        }                                                                   \
        *out = (CT)v;                                                       \
        return 0;                                                           \
    }
PYLON_LOWER_S(s8, int8_t, INT8_MIN, INT8_MAX)
PYLON_LOWER_S(s16, int16_t, INT16_MIN, INT16_MAX)
PYLON_LOWER_S(s32, int32_t, INT32_MIN, INT32_MAX)
PYLON_LOWER_S(s64, int64_t, INT64_MIN, INT64_MAX)
PYLON_LOWER_U(u8, uint8_t, UINT8_MAX)
PYLON_LOWER_U(u16, uint16_t, UINT16_MAX)
PYLON_LOWER_U(u32, uint32_t, UINT32_MAX)
PYLON_LOWER_U(u64, uint64_t, UINT64_MAX)

PYLON_UNUSED static int
pylon_lower_f64(PyObject *o, double *out)
{
    double v = PyFloat_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    *out = v;
    return 0;
}

PYLON_UNUSED static int
pylon_lower_f32(PyObject *o, float *out)
{
    double v;
    if (pylon_lower_f64(o, &v) < 0) {
        return -1;
    }
    *out = (float)v;
    return 0;
}

PYLON_UNUSED static int
pylon_lower_char(PyObject *o, uint32_t *out)
{
    if (!PyUnicode_Check(o) || PyUnicode_GetLength(o) != 1) {
        PyErr_Format(PyExc_TypeError, "expected a str of length 1, got %.200s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_UCS4 ch = PyUnicode_ReadChar(o, 0);
    if (ch == (Py_UCS4)-1 && PyErr_Occurred()) {
        return -1;
    }
    if (ch >= 0xD800 && ch <= 0xDFFF) {
        PyErr_SetString(PyExc_ValueError, "a surrogate is not a WIT char");
        return -1;
    }
    *out = (uint32_t)ch;
    return 0;
}

/* A WIT string pointing at the str's cached UTF-8 (alive as long as `o` is). */
PYLON_UNUSED static int
pylon_lower_str(PyObject *o, uint8_t **ptr, size_t *len)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "expected str, got %.200s", Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s == NULL) {
        return -1;
    }
    *ptr = (uint8_t *)s;
    *len = (size_t)n;
    return 0;
}

/* A WIT list<u8> pointing at any bytes-like object's buffer; released after the call. */
PYLON_UNUSED static int
pylon_lower_bytes(PyObject *o, uint8_t **ptr, size_t *len, pylon_cleanup *c)
{
    Py_buffer *view = PyMem_Malloc(sizeof(*view));
    if (view == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (PyObject_GetBuffer(o, view, PyBUF_SIMPLE) < 0) {
        PyMem_Free(view);
        return -1;
    }
    if (pylon_cleanup_push(c, PYLON_CL_BUFFER, view) < 0) {
        return -1;
    }
    *ptr = (uint8_t *)view->buf;
    *len = (size_t)view->len;
    return 0;
}

PYLON_UNUSED static PyObject *
pylon_lift_bytes(const uint8_t *ptr, size_t len)
{
    if (len > (size_t)PY_SSIZE_T_MAX) {
        return PyErr_NoMemory();
    }
    return PyBytes_FromStringAndSize((const char *)ptr, (Py_ssize_t)len);
}

PYLON_UNUSED static PyObject *
pylon_lift_str(const uint8_t *ptr, size_t len)
{
    if (len > (size_t)PY_SSIZE_T_MAX) {
        return PyErr_NoMemory();
    }
    return PyUnicode_DecodeUTF8((const char *)ptr, (Py_ssize_t)len, "strict");
}

/* An enum case index (or any index below n). */
PYLON_UNUSED static int
pylon_lower_index(PyObject *o, unsigned long long n, const char *what, uint32_t *out)
{
    unsigned long long v;
    if (pylon_lower_unsigned(o, UINT32_MAX, what, &v) < 0) {
        return -1;
    }
    if (v >= n) {
        PyErr_Format(PyExc_ValueError, "%llu is not a case of %s (0..%llu)", v, what, n - 1);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

PYLON_UNUSED static int
pylon_lower_flags(PyObject *o, unsigned nflags, const char *what, uint64_t *out)
{
    unsigned long long v;
    if (pylon_lower_unsigned(o, UINT64_MAX, what, &v) < 0) {
        return -1;
    }
    if (nflags < 64 && (v >> nflags) != 0) {
        PyErr_Format(PyExc_ValueError, "%s: bits %#llx are not flags", what, v >> nflags << nflags);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* A variant argument: `(case, payload)` or a bare int case (`*bare` set, payload None). */
PYLON_UNUSED static int
pylon_variant_parts(PyObject *o, unsigned long long ncases, const char *what, pylon_cleanup *c,
                    uint32_t *tag, PyObject **payload, int *bare)
{
    if (PyLong_Check(o)) {
        *bare = 1;
        *payload = Py_None;
        return pylon_lower_index(o, ncases, what, tag);
    }
    PyObject *const *items;
    if (pylon_fixed_seq(o, 2, what, c, &items) < 0) {
        return -1;
    }
    *bare = 0;
    *payload = items[1];
    return pylon_lower_index(items[0], ncases, what, tag);
}

PYLON_UNUSED static PyObject *
pylon_lift_case(unsigned long tag, PyObject *payload)
{
    /* steals payload */
    if (payload == NULL) {
        return NULL;
    }
    PyObject *t = PyLong_FromUnsignedLong(tag);
    if (t == NULL) {
        Py_DECREF(payload);
        return NULL;
    }
    PyObject *r = PyTuple_New(2);
    if (r == NULL) {
        Py_DECREF(t);
        Py_DECREF(payload);
        return NULL;
    }
    PyTuple_SET_ITEM(r, 0, t);
    PyTuple_SET_ITEM(r, 1, payload);
    return r;
}

PYLON_UNUSED static int
pylon_no_payload(PyObject *payload, const char *what)
{
    if (payload != Py_None) {
        PyErr_Format(PyExc_TypeError, "%s takes no payload (pass None or the bare case)", what);
        return -1;
    }
    return 0;
}

PYLON_UNUSED static int
pylon_need_payload(int bare, const char *what)
{
    if (bare) {
        PyErr_Format(PyExc_TypeError, "%s needs a payload: pass (case, payload)", what);
        return -1;
    }
    return 0;
}

/* Raises WitError(payload); steals payload (NULL: an error is already set). */
PYLON_UNUSED static void
pylon_raise_wit_error(PyObject *payload)
{
    if (payload == NULL) {
        return;
    }
    PyObject *exc = PyObject_CallOneArg(pylon_WitError, payload);
    Py_DECREF(payload);
    if (exc != NULL) {
        PyErr_SetObject(pylon_WitError, exc);
        Py_DECREF(exc);
    }
}

static int
pylon_resource_live(PyObject *o)
{
    pylon_resource *r = (pylon_resource *)o;
    if (r->state == PYLON_LIVE) {
        return 0;
    }
    PyErr_Format(PyExc_ValueError,
                 r->state == PYLON_CLOSED
                     ? "%.200s object is closed"
                     : "%.200s object was moved into a call that took ownership of it",
                 Py_TYPE(o)->tp_name);
    return -1;
}

/* A `borrow<T>` (own = 0) or `own<T>` (own = 1) argument. */
PYLON_UNUSED static int
pylon_lower_handle(PyObject *o, PyTypeObject *tp, int own, pylon_cleanup *c, int32_t *out)
{
    if (!PyObject_TypeCheck(o, tp)) {
        PyErr_Format(PyExc_TypeError, "expected %.200s, got %.200s", tp->tp_name,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    if (pylon_resource_live(o) < 0) {
        return -1;
    }
    if (own) {
        for (size_t i = 0; i < c->len; i++) {
            if (c->items[i].kind == PYLON_CL_MOVE && c->items[i].ptr == (void *)o) {
                PyErr_Format(PyExc_ValueError, "the same %.200s object is passed twice as owned",
                             tp->tp_name);
                return -1;
            }
        }
        if (pylon_cleanup_push(c, PYLON_CL_MOVE, o) < 0) {
            return -1;
        }
    }
    *out = ((pylon_resource *)o)->handle;
    return 0;
}

/* The handle behind `self` of a method (a borrow for the call). */
PYLON_UNUSED static int
pylon_self_handle(PyObject *self, int32_t *out)
{
    if (pylon_resource_live(self) < 0) {
        return -1;
    }
    *out = ((pylon_resource *)self)->handle;
    return 0;
}

/* A new Python object owning `handle` (dropped with `drop` if that fails). */
PYLON_UNUSED static PyObject *
pylon_wrap_handle(PyTypeObject *tp, int32_t handle, void (*drop)(int32_t))
{
    pylon_resource *r = (pylon_resource *)tp->tp_alloc(tp, 0);
    if (r == NULL) {
        drop(handle);
        return NULL;
    }
    r->handle = handle;
    r->state = PYLON_LIVE;
    return (PyObject *)r;
}

/* close() and tp_dealloc: drop the handle once, if it is still ours. */
PYLON_UNUSED static void
pylon_resource_drop(PyObject *self, void (*drop)(int32_t))
{
    pylon_resource *r = (pylon_resource *)self;
    if (r->state == PYLON_LIVE) {
        r->state = PYLON_CLOSED;
        drop(r->handle);
    }
}

PYLON_UNUSED static void
pylon_resource_dealloc(PyObject *self, void (*drop)(int32_t))
{
    PyTypeObject *tp = Py_TYPE(self);
    pylon_resource_drop(self, drop);
    tp->tp_free(self);
    Py_DECREF(tp);
}

PYLON_UNUSED static PyObject *
pylon_resource_enter(PyObject *self, PyObject *unused)
{
    (void)unused;
    if (pylon_resource_live(self) < 0) {
        return NULL;
    }
    return Py_NewRef(self);
}

PYLON_UNUSED static int
pylon_add_u64(PyObject *ns, const char *name, unsigned long long v)
{
    PyObject *o = PyLong_FromUnsignedLongLong(v);
    if (o == NULL) {
        return -1;
    }
    int r = PyModule_AddObjectRef(ns, name, o);
    Py_DECREF(o);
    return r;
}

/* ---- end of the pylon-shim runtime; the rest is generated from the WIT ---------------- */
