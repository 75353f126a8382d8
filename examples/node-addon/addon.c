/* addon.c: uvev inside Node. Owns the addon's native side: the state of each
 * Node environment (one uvev waker on its loop, and its teardown), the
 * streams, and the napi_threadsafe_function baseline that bench.js compares
 * them with.
 *
 * stream(options, onBatch) moves numbered values from native producer threads
 * into JavaScript through a bounded uvev channel. The producers send with
 * uvev_chan_send_sync, so they block while JavaScript is behind. The main
 * thread receives on Node's own loop with uvev_chan_recv_many: one receive
 * takes what is there (up to the batch size) with one claim, and its
 * callback calls onBatch once with what it got (a Float64Array). tsfnStream(options, onValue) does the
 * same work with a blocking napi_threadsafe_function, one call per value.
 *
 * Threads: everything here runs on the environment's JavaScript thread, which
 * is also the thread of its loop (uvev's "loop thread"), except the producer
 * thread functions, which touch only the channel (or the tsfn) and their own
 * counters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <uv.h>
#include <uvev.h>

#define MAX_PRODUCERS 64
#define MAX_CAPACITY (1 << 20)
#define MAX_BATCH (1 << 20)
#define DEFAULT_CAPACITY 1024
#define DEFAULT_BATCH 1024
#define MAX_VALUES 9007199254740992.0  /* 2^53: every value is a safe integer */

#define container_of(ptr, type, field)                                        \
  ((type*) ((char*) (ptr) - offsetof(type, field)))

typedef struct addon_s addon_t;
typedef struct stream_s stream_t;
typedef struct producer_s producer_t;
typedef struct tsfn_run_s tsfn_run_t;

/* The addon in one Node environment (the main thread, or a worker). */
struct addon_s {
  napi_env env;
  uvev_waker_t waker;             /* the one uvev wake handle on this loop */
  napi_async_cleanup_hook_handle cleanup;
  napi_ref handle_class;          /* StreamHandle: done, close(), stats() */
  napi_ref final_key;             /* symbol: a handle's final stats */
  stream_t* running;              /* streams that have not ended */
  unsigned int refs;              /* 1 until the waker is closed, plus one
                                     per stream or tsfn run not yet freed */
  unsigned int nstreams;          /* streams not yet freed */
  int closing;                    /* the environment is being torn down */
};

/* One producer thread, of a stream or of a tsfn run. */
struct producer_s {
  uv_thread_t thread;
  void* owner;                    /* stream_t* or tsfn_run_t* */
  uint64_t first;                 /* its values are first .. first+count-1 */
  uint64_t sent;                  /* atomic, written by the producer only */
  int started;
  char pad[64];                   /* `sent` of the next one on its own line */
};

enum {
  STREAM_RECEIVING,               /* a receive is pending, or a batch is out */
  STREAM_WAITING,                 /* onBatch returned a promise: waiting */
  STREAM_ENDED                    /* producers joined; done settled */
};

struct stream_s {
  addon_t* addon;
  stream_t* prev;                 /* addon->running */
  stream_t* next;
  uvev_chan_t chan;               /* elements are uint64_t values */
  uvev_chan_op_t op;              /* the pending receive, into batch */
  uint64_t* batch;                /* batch_size elements */
  size_t batch_size;
  size_t capacity;
  producer_t* producers;
  int nproducers;
  int producers_left;             /* atomic: the last one closes the channel */
  uint64_t count;                 /* values per producer */
  /* The rest belongs to the loop thread. */
  int state;
  int stopping;                   /* close() or a throw: drop what is left */
  int closed;                     /* close() was called */
  int failed;                     /* onBatch threw (or rejected) */
  int joined;
  int receiving;                  /* op is started */
  uint64_t received;              /* taken out of the channel */
  uint64_t delivered;             /* handed to onBatch */
  uint64_t dropped;               /* taken out after a stop, not handed on */
  uint64_t sum;                   /* of the delivered values, mod 2^64 */
  napi_ref on_batch;
  napi_ref error;                 /* { value }: what onBatch threw */
  napi_ref handle;                /* weak: the StreamHandle */
  napi_deferred deferred;         /* settles `done` */
  napi_async_context async;       /* the context onBatch runs in */
};

struct tsfn_run_s {
  addon_t* addon;
  napi_threadsafe_function tsfn;
  producer_t* producers;
  int nproducers;
  uint64_t count;
  uint64_t received;              /* main thread */
  uint64_t sum;
  int failed;
  napi_ref error;
  napi_deferred deferred;
  napi_async_context async;
};


/* ---- small helpers ------------------------------------------------------- */

/* Entering JavaScript from a libuv callback: a handle scope for the values we
 * create, and a callback scope, so that the process.nextTick callbacks and
 * promise reactions the call queues run when we leave, as after any Node
 * callback. Nesting (entering from inside JavaScript) is fine. (Node 20
 * ignores the resource object given to napi_open_callback_scope; older
 * versions require one.) */
typedef struct {
  napi_handle_scope handles;
  napi_callback_scope callback;
  int has_callback;
} js_scope_t;

static void js_enter(napi_env env, napi_async_context async, js_scope_t* sc) {
  napi_value resource;

  napi_open_handle_scope(env, &sc->handles);
  sc->has_callback =
      napi_create_object(env, &resource) == napi_ok &&
      napi_open_callback_scope(env, resource, async, &sc->callback) == napi_ok;
}

static void js_leave(napi_env env, js_scope_t* sc) {
  if (sc->has_callback)
    napi_close_callback_scope(env, sc->callback);
  napi_close_handle_scope(env, sc->handles);
}

static napi_value throw_type(napi_env env, const char* code, const char* msg) {
  napi_throw_type_error(env, code, msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char* msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

static napi_value throw_uv(napi_env env, const char* what, int err) {
  char msg[256];

  snprintf(msg, sizeof(msg), "%s: %s", what, uv_strerror(err));
  napi_throw_error(env, uv_err_name(err), msg);
  return NULL;
}

/* Reads options[name], an integer in [min, max]; if it is undefined, *out is
 * def, unless def < 0 (required). Returns 0, or -1 after throwing. */
static int get_int_option(napi_env env, napi_value options, const char* name,
                          double def, double min, double max, double* out) {
  char msg[128];
  napi_value v;
  napi_valuetype type;
  double d;

  if (napi_get_named_property(env, options, name, &v) != napi_ok ||
      napi_typeof(env, v, &type) != napi_ok)
    return -1;
  if (type == napi_undefined && def >= 0) {
    *out = def;
    return 0;
  }
  if (type == napi_undefined) {
    snprintf(msg, sizeof(msg), "options.%s is required", name);
    napi_throw_type_error(env, "ERR_MISSING_ARGS", msg);
    return -1;
  }
  /* d - d is 0 unless d is NaN or infinite. */
  if (type != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      d - d != 0)
    goto not_integer;
  if (d < min || d > max) {
    snprintf(msg, sizeof(msg), "options.%s must be from %.0f to %.0f, got %g",
             name, min, max, d);
    throw_range(env, msg);
    return -1;
  }
  if ((double) (int64_t) d != d)  /* in range, so the cast is defined */
    goto not_integer;
  *out = d;
  return 0;

not_integer:
  snprintf(msg, sizeof(msg), "options.%s must be an integer", name);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return -1;
}

struct run_options {
  int producers;
  uint64_t count;
  size_t capacity;
  size_t batch_size;
};

/* Parses (options, callback) for stream() and tsfnStream(). Returns 0, or -1
 * after throwing. */
static int get_run_args(napi_env env, napi_callback_info info,
                        struct run_options* o, napi_value* callback,
                        void** data) {
  napi_value argv[2];
  napi_valuetype type;
  size_t argc = 2;
  double producers, count, capacity, batch;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, data) != napi_ok)
    return -1;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok ||
      type != napi_object) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", "options must be an object");
    return -1;
  }
  if (argc < 2 || napi_typeof(env, argv[1], &type) != napi_ok ||
      type != napi_function) {
    throw_type(env, "ERR_INVALID_ARG_TYPE", "the callback must be a function");
    return -1;
  }
  if (get_int_option(env, argv[0], "producers", 1, 1, MAX_PRODUCERS,
                     &producers) ||
      get_int_option(env, argv[0], "count", -1, 0, MAX_VALUES, &count) ||
      get_int_option(env, argv[0], "capacity", DEFAULT_CAPACITY, 1,
                     MAX_CAPACITY, &capacity) ||
      get_int_option(env, argv[0], "batchSize", DEFAULT_BATCH, 1, MAX_BATCH,
                     &batch))
    return -1;
  if (producers * count > MAX_VALUES) {
    throw_range(env, "options.producers * options.count must not exceed 2^53");
    return -1;
  }
  o->producers = (int) producers;
  o->count = (uint64_t) count;
  o->capacity = (size_t) capacity;
  o->batch_size = (size_t) batch;
  *callback = argv[1];
  return 0;
}

static napi_value make_result(napi_env env, uint64_t count, uint64_t sum) {
  napi_value result, v;

  if (napi_create_object(env, &result) != napi_ok)
    return NULL;
  napi_create_double(env, (double) count, &v);
  napi_set_named_property(env, result, "count", v);
  napi_create_bigint_uint64(env, sum, &v);
  napi_set_named_property(env, result, "sum", v);
  return result;
}

static void set_number(napi_env env, napi_value obj, const char* name,
                       double d) {
  napi_value v;

  if (napi_create_double(env, d, &v) == napi_ok)
    napi_set_named_property(env, obj, name, v);
}

static void set_bool(napi_env env, napi_value obj, const char* name, int b) {
  napi_value v;

  if (napi_get_boolean(env, b != 0, &v) == napi_ok)
    napi_set_named_property(env, obj, name, v);
}

/* Keeps `value` (any value, also a primitive) behind a reference. */
static napi_ref hold_value(napi_env env, napi_value value) {
  napi_value holder;
  napi_ref ref;

  if (napi_create_object(env, &holder) != napi_ok ||
      napi_set_named_property(env, holder, "value", value) != napi_ok ||
      napi_create_reference(env, holder, 1, &ref) != napi_ok)
    return NULL;
  return ref;
}

static napi_value held_value(napi_env env, napi_ref ref) {
  napi_value holder, value;

  if (napi_get_reference_value(env, ref, &holder) != napi_ok ||
      napi_get_named_property(env, holder, "value", &value) != napi_ok)
    return NULL;
  return value;
}

/* Joins the producers that were started. */
static void join_producers(producer_t* producers, int n) {
  int i;

  for (i = 0; i < n; i++) {
    if (producers[i].started)
      uv_thread_join(&producers[i].thread);
    producers[i].started = 0;
  }
}

static uint64_t sent_by(producer_t* producers, int n) {
  uint64_t sent = 0;
  int i;

  for (i = 0; i < n; i++)
    sent += __atomic_load_n(&producers[i].sent, __ATOMIC_RELAXED);
  return sent;
}

static void addon_unref(addon_t* a) {
  if (--a->refs == 0)
    free(a);
}


/* ---- streams: the producer side ------------------------------------------ */

static void stream_producer(void* arg) {
  producer_t* p = arg;
  stream_t* s = p->owner;
  uint64_t value;
  uint64_t i;

  for (i = 0; i < s->count; i++) {
    value = p->first + i;
    /* Blocks while the channel is full; UV_EPIPE once it is closed (close(),
     * a throw in onBatch, or the environment going away). */
    if (uvev_chan_send_sync(&s->chan, &value) != 0)
      break;
    __atomic_store_n(&p->sent, i + 1, __ATOMIC_RELAXED);
  }
  /* The last producer out closes the channel: the receiver then drains what
   * is left and gets UV_EOF. */
  if (__atomic_sub_fetch(&s->producers_left, 1, __ATOMIC_ACQ_REL) == 0)
    uvev_chan_close(&s->chan);
}


/* ---- streams: the loop side ---------------------------------------------- */

static void stream_on_recv(uvev_chan_op_t* op, int status);

static void stream_free(stream_t* s) {
  addon_t* a = s->addon;

  /* Producers joined and no receive pending: nothing can be busy. */
  uvev_chan_destroy(&s->chan);
  free(s->producers);
  free(s->batch);
  free(s);
  a->nstreams--;
  addon_unref(a);
}

static void stream_join(stream_t* s) {
  if (!s->joined) {
    join_producers(s->producers, s->nproducers);
    s->joined = 1;
  }
}

/* Closes the channel: producers get UV_EPIPE, and whatever is still in the
 * channel is taken out and counted as dropped. */
static void stream_stop(stream_t* s) {
  if (!s->stopping) {
    s->stopping = 1;
    uvev_chan_close(&s->chan);
  }
}

/* Releases what the stream holds in JavaScript; the napi_env must be alive. */
static void stream_release_js(stream_t* s) {
  napi_env env = s->addon->env;

  if (s->on_batch != NULL)
    napi_delete_reference(env, s->on_batch);
  if (s->error != NULL)
    napi_delete_reference(env, s->error);
  if (s->handle != NULL)
    napi_delete_reference(env, s->handle);
  if (s->async != NULL)
    napi_async_destroy(env, s->async);
  s->on_batch = NULL;
  s->error = NULL;
  s->handle = NULL;
  s->async = NULL;
}

/* The stream is over: joins its producers, takes it off the running list and
 * frees it. Calls no napi function (see addon_cleanup). */
static void stream_end(stream_t* s) {
  addon_t* a = s->addon;

  stream_join(s);
  s->state = STREAM_ENDED;
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    a->running = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
  stream_free(s);
}

static napi_value make_stats(napi_env env, stream_t* s) {
  napi_value stats;

  if (napi_create_object(env, &stats) != napi_ok)
    return NULL;
  set_number(env, stats, "sent", (double) sent_by(s->producers,
                                                  s->nproducers));
  set_number(env, stats, "received", (double) s->received);
  set_number(env, stats, "delivered", (double) s->delivered);
  set_number(env, stats, "dropped", (double) s->dropped);
  set_number(env, stats, "capacity", (double) s->capacity);
  set_bool(env, stats, "ended", s->state == STREAM_ENDED);
  return stats;
}

/* Unlinks the handle from the stream, which is about to be freed, and leaves
 * the final stats on it for stats(). The handle has no native finalizer (see
 * js_stream), so nothing else points at the stream. */
static void stream_detach(stream_t* s) {
  napi_env env = s->addon->env;
  napi_property_descriptor prop;
  napi_value handle, key;
  void* unused;

  if (s->handle == NULL ||
      napi_get_reference_value(env, s->handle, &handle) != napi_ok ||
      handle == NULL)
    return;  /* already collected */
  napi_remove_wrap(env, handle, &unused);
  if (napi_get_reference_value(env, s->addon->final_key, &key) != napi_ok)
    return;
  memset(&prop, 0, sizeof(prop));
  prop.name = key;
  prop.value = make_stats(env, s);
  prop.attributes = napi_default;
  napi_define_properties(env, handle, 1, &prop);
}

/* The channel is closed and drained (UV_EOF): settles `done` and ends. */
static void stream_finish(stream_t* s) {
  napi_env env = s->addon->env;
  napi_async_context async;
  napi_value result, error;
  js_scope_t sc;

  /* The producers have returned or are returning: the join is short. After
   * it the counters are final when `done` settles. */
  stream_join(s);
  s->state = STREAM_ENDED;
  js_enter(env, s->async, &sc);
  stream_detach(s);
  if (s->failed) {
    error = s->error != NULL ? held_value(env, s->error) : NULL;
    if (error == NULL)
      napi_get_undefined(env, &error);
    napi_reject_deferred(env, s->deferred, error);
  } else {
    result = make_result(env, s->delivered, s->sum);
    if (result != NULL) {
      set_number(env, result, "dropped", (double) s->dropped);
      set_bool(env, result, "closed", s->closed);
    }
    napi_resolve_deferred(env, s->deferred, result);
  }
  s->deferred = NULL;
  /* Free the stream before `await done` continues (when the scope closes). */
  async = s->async;
  s->async = NULL;
  stream_release_js(s);
  stream_end(s);
  js_leave(env, &sc);
  napi_async_destroy(env, async);
}

static void stream_receive(stream_t* s) {
  if (s->receiving)
    return;  /* a promise settled inside the delivery: already restarted */
  /* Fails only on a closing waker, and the waker closes only after every
   * stream has been told (addon_cleanup). */
  if (uvev_chan_recv_many(&s->addon->waker, &s->op, &s->chan, s->batch,
                          s->batch_size, stream_on_recv) != 0) {
    stream_end(s);
    return;
  }
  s->receiving = 1;
}

/* Records the first failure of onBatch and stops the stream. */
static void stream_fail(stream_t* s, napi_value error) {
  if (!s->failed) {
    s->failed = 1;
    if (error != NULL)
      s->error = hold_value(s->addon->env, error);
  }
  stream_stop(s);
}

/* The promise returned by onBatch settled: receive the next batch. */
static napi_value stream_settled(napi_env env, napi_callback_info info,
                                 int rejected) {
  napi_value argv[1];
  size_t argc = 1;
  stream_t* s;
  void* data;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok)
    return NULL;
  s = data;
  if (s->state == STREAM_WAITING) {
    if (rejected)
      stream_fail(s, argc > 0 ? argv[0] : NULL);
    s->state = STREAM_RECEIVING;
    stream_receive(s);
  }
  return NULL;
}

static napi_value stream_resolved(napi_env env, napi_callback_info info) {
  return stream_settled(env, info, 0);
}

static napi_value stream_rejected(napi_env env, napi_callback_info info) {
  return stream_settled(env, info, 1);
}

/* onBatch returned a promise: the next receive waits until it settles. */
static void stream_await(stream_t* s, napi_value promise) {
  napi_env env = s->addon->env;
  napi_value then, fns[2], exc;

  if (napi_get_named_property(env, promise, "then", &then) == napi_ok &&
      napi_create_function(env, "resolved", NAPI_AUTO_LENGTH, stream_resolved,
                           s, &fns[0]) == napi_ok &&
      napi_create_function(env, "rejected", NAPI_AUTO_LENGTH, stream_rejected,
                           s, &fns[1]) == napi_ok &&
      napi_call_function(env, promise, then, 2, fns, NULL) == napi_ok) {
    s->state = STREAM_WAITING;
    return;
  }
  exc = NULL;
  napi_get_and_clear_last_exception(env, &exc);
  stream_fail(s, exc);
}

/* Hands batch[0..n) to onBatch. */
static void stream_deliver(stream_t* s, size_t n) {
  napi_env env = s->addon->env;
  napi_value buffer, array, fn, undefined, ret, exc;
  napi_status st;
  js_scope_t sc;
  double* out;
  bool is_promise;
  size_t i;

  js_enter(env, s->async, &sc);
  st = napi_create_arraybuffer(env, n * sizeof(double), (void**) &out,
                               &buffer);
  if (st == napi_ok) {
    for (i = 0; i < n; i++)
      out[i] = (double) s->batch[i];
    st = napi_create_typedarray(env, napi_float64_array, n, buffer, 0, &array);
  }
  if (st == napi_ok)
    st = napi_get_reference_value(env, s->on_batch, &fn);
  if (st == napi_ok)
    st = napi_get_undefined(env, &undefined);
  if (st == napi_ok)
    st = napi_call_function(env, undefined, fn, 1, &array, &ret);

  if (st == napi_ok || st == napi_pending_exception) {
    /* onBatch ran (and may have thrown): the batch was delivered. */
    s->delivered += n;
    for (i = 0; i < n; i++)
      s->sum += s->batch[i];
  } else {
    s->dropped += n;
  }
  if (st != napi_ok) {
    exc = NULL;
    napi_get_and_clear_last_exception(env, &exc);
    stream_fail(s, exc);
  } else if (napi_is_promise(env, ret, &is_promise) == napi_ok && is_promise) {
    stream_await(s, ret);
  }
  /* Runs process.nextTick callbacks and promise reactions: they may call
   * close(), or settle the promise just returned (then the next receive has
   * started already). */
  js_leave(env, &sc);
}

/* status: how many values the receive put in s->batch (one wake-up, one
 * batch), or UV_EOF, or UV_ECANCELED. */
static void stream_on_recv(uvev_chan_op_t* op, int status) {
  stream_t* s = op->data;
  size_t n = 0;

  s->receiving = 0;
  if (status > 0) {
    n = (size_t) status;
    s->received += n;
  }
  if (s->addon->closing || (status < 0 && status != UV_EOF)) {
    /* The environment is going away (UV_ECANCELED from the waker's close):
     * no JavaScript any more. */
    s->dropped += n;
    stream_end(s);
    return;
  }
  if (status == UV_EOF) {
    stream_finish(s);
    return;
  }
  if (s->stopping)
    s->dropped += n;
  else
    stream_deliver(s, n);
  if (s->state == STREAM_RECEIVING)
    stream_receive(s);
}


/* ---- streams: the JavaScript handle -------------------------------------- */

/* The class of the handles stream() returns. Its methods live on the
 * prototype, made once per environment. */
static napi_value js_handle_new(napi_env env, napi_callback_info info) {
  napi_value self;

  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok)
    return NULL;
  return self;
}

/* The running stream behind `this`; NULL, with *final set, once it has ended;
 * NULL after throwing if `this` is no stream handle. */
static stream_t* unwrap_stream(napi_env env, napi_callback_info info,
                               const char* method, napi_value* final) {
  char msg[128];
  napi_value self, key;
  void* data;
  addon_t* a;

  *final = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, &data) != napi_ok)
    return NULL;
  a = data;
  if (napi_unwrap(env, self, &data) == napi_ok)
    return data;
  if (napi_get_reference_value(env, a->final_key, &key) == napi_ok &&
      napi_get_property(env, self, key, final) == napi_ok) {
    napi_valuetype type;
    if (napi_typeof(env, *final, &type) == napi_ok && type == napi_object)
      return NULL;
  }
  *final = NULL;
  snprintf(msg, sizeof(msg), "%s() must be called on a stream handle",
           method);
  throw_type(env, "ERR_INVALID_THIS", msg);
  return NULL;
}

/* handle.close(): stops the stream early. Producers get UV_EPIPE, what is in
 * the channel is dropped, and `done` resolves with closed: true. A no-op once
 * the stream is stopping or has ended. */
static napi_value js_stream_close(napi_env env, napi_callback_info info) {
  napi_value final;
  stream_t* s;

  s = unwrap_stream(env, info, "close", &final);
  if (s != NULL && !s->stopping) {
    s->closed = 1;
    stream_stop(s);
  }
  return NULL;
}

/* handle.stats(): the counters, live while the stream runs, final after. */
static napi_value js_stream_stats(napi_env env, napi_callback_info info) {
  napi_value final;
  stream_t* s;

  s = unwrap_stream(env, info, "stats", &final);
  return s != NULL ? make_stats(env, s) : final;
}

/* Frees a stream that never started receiving: producers are released and
 * joined first. */
static void stream_discard(stream_t* s) {
  uvev_chan_close(&s->chan);
  join_producers(s->producers, s->nproducers);
  stream_release_js(s);
  stream_free(s);
}

/* stream(options, onBatch) -> StreamHandle { done, close(), stats() } */
static napi_value js_stream(napi_env env, napi_callback_info info) {
  struct run_options o;
  napi_value on_batch, cls, handle, promise, name;
  stream_t* s;
  addon_t* a;
  void* data;
  int err;
  int i;

  if (get_run_args(env, info, &o, &on_batch, &data) != 0)
    return NULL;
  a = data;
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return throw_uv(env, "stream", UV_ENOMEM);
  s->batch = malloc(o.batch_size * sizeof(*s->batch));
  s->producers = calloc((size_t) o.producers, sizeof(*s->producers));
  if (s->batch == NULL || s->producers == NULL)
    err = UV_ENOMEM;
  else
    err = uvev_chan_init(&s->chan, o.capacity, sizeof(uint64_t));
  if (err != 0) {
    free(s->batch);
    free(s->producers);
    free(s);
    return throw_uv(env, "stream", err);
  }
  s->addon = a;
  s->capacity = o.capacity;
  s->batch_size = o.batch_size;
  s->nproducers = o.producers;
  s->producers_left = o.producers;
  s->count = o.count;
  s->state = STREAM_RECEIVING;
  s->op.data = s;
  a->refs++;
  a->nstreams++;

  /* The JavaScript side first, so that a failure there needs no thread.
   * The handle points at the stream with a wrap that has no finalizer: the
   * stream frees itself when it ends and removes the wrap then. (A wrap with
   * a finalizer costs about 330 bytes of native memory per handle that Node
   * 20 keeps after the finalizer has run: measured over 20,000 streams.)
   * The async context is what onBatch runs in, for async_hooks and
   * AsyncLocalStorage. */
  if (napi_get_reference_value(env, a->handle_class, &cls) != napi_ok ||
      napi_new_instance(env, cls, 0, NULL, &handle) != napi_ok ||
      napi_create_promise(env, &s->deferred, &promise) != napi_ok ||
      napi_set_named_property(env, handle, "done", promise) != napi_ok ||
      napi_create_reference(env, on_batch, 1, &s->on_batch) != napi_ok ||
      napi_create_reference(env, handle, 0, &s->handle) != napi_ok ||
      napi_create_string_utf8(env, "uvev.stream", NAPI_AUTO_LENGTH, &name) !=
          napi_ok ||
      napi_async_init(env, handle, name, &s->async) != napi_ok ||
      napi_wrap(env, handle, s, NULL, NULL, NULL) != napi_ok) {
    stream_discard(s);
    return NULL;  /* a napi failure leaves its exception pending */
  }

  for (i = 0; i < s->nproducers; i++) {
    s->producers[i].owner = s;
    s->producers[i].first = (uint64_t) i * s->count;
    err = uv_thread_create(&s->producers[i].thread, stream_producer,
                           &s->producers[i]);
    if (err != 0) {
      napi_remove_wrap(env, handle, &data);
      stream_discard(s);
      return throw_uv(env, "uv_thread_create", err);
    }
    s->producers[i].started = 1;
  }
  /* From here the stream runs until UV_EOF or teardown. */
  s->next = a->running;
  if (s->next != NULL)
    s->next->prev = s;
  a->running = s;
  stream_receive(s);
  return handle;
}


/* ---- the napi_threadsafe_function baseline ------------------------------- */

static void tsfn_producer(void* arg) {
  producer_t* p = arg;
  tsfn_run_t* r = p->owner;
  uint64_t i;

  for (i = 0; i < r->count; i++) {
    /* The value travels as the data pointer: no allocation per call. */
    if (napi_call_threadsafe_function(r->tsfn,
                                      (void*) (uintptr_t) (p->first + i),
                                      napi_tsfn_blocking) != napi_ok)
      return;  /* napi_closing: the function is gone, touch it no more */
    __atomic_store_n(&p->sent, i + 1, __ATOMIC_RELAXED);
  }
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
}

static void tsfn_call_js(napi_env env, napi_value fn, void* context,
                         void* data) {
  tsfn_run_t* r = context;
  uint64_t value = (uintptr_t) data;
  napi_value arg, undefined, exc;

  if (env == NULL || r->failed)
    return;  /* being torn down, or a call threw: drop the rest */
  if (napi_create_double(env, (double) value, &arg) != napi_ok ||
      napi_get_undefined(env, &undefined) != napi_ok)
    return;
  if (napi_call_function(env, undefined, fn, 1, &arg, NULL) != napi_ok) {
    r->failed = 1;
    exc = NULL;
    napi_get_and_clear_last_exception(env, &exc);
    if (exc != NULL)
      r->error = hold_value(env, exc);
    return;
  }
  r->received++;
  r->sum += value;
}

/* Runs on the main thread once every producer released the function and its
 * queue is empty, or when the environment goes away. (Then Node wakes one
 * blocked producer with napi_closing; with several blocked at once the join
 * below may wait for ever: the nodejs/node#58723 family. This baseline is for
 * bench.js, which never tears down a running one.) */
static void tsfn_finalize(napi_env env, void* data, void* hint) {
  tsfn_run_t* r = data;
  addon_t* a = r->addon;
  napi_value error;
  js_scope_t sc;

  join_producers(r->producers, r->nproducers);
  if (!a->closing) {
    js_enter(env, r->async, &sc);
    if (r->failed) {
      error = r->error != NULL ? held_value(env, r->error) : NULL;
      if (error == NULL)
        napi_get_undefined(env, &error);
      napi_reject_deferred(env, r->deferred, error);
    } else {
      napi_resolve_deferred(env, r->deferred, make_result(env, r->received,
                                                          r->sum));
    }
    js_leave(env, &sc);
  }
  if (r->error != NULL)
    napi_delete_reference(env, r->error);
  napi_async_destroy(env, r->async);
  free(r->producers);
  free(r);
  addon_unref(a);
}

/* tsfnStream(options, onValue) -> Promise<{ count, sum }> */
static napi_value js_tsfn_stream(napi_env env, napi_callback_info info) {
  struct run_options o;
  napi_value on_value, promise, name;
  tsfn_run_t* r;
  addon_t* a;
  void* data;
  int err;
  int i;

  if (get_run_args(env, info, &o, &on_value, &data) != 0)
    return NULL;
  a = data;
  if ((double) o.producers * (double) o.count > (double) UINTPTR_MAX)
    return throw_range(env, "too many values for a pointer-sized payload");
  r = calloc(1, sizeof(*r));
  if (r != NULL)
    r->producers = calloc((size_t) o.producers, sizeof(*r->producers));
  if (r == NULL || r->producers == NULL) {
    free(r);
    return throw_uv(env, "tsfnStream", UV_ENOMEM);
  }
  r->addon = a;
  r->nproducers = o.producers;
  r->count = o.count;
  if (napi_create_promise(env, &r->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "uvev.tsfn", NAPI_AUTO_LENGTH, &name) !=
          napi_ok ||
      napi_async_init(env, NULL, name, &r->async) != napi_ok) {
    free(r->producers);
    free(r);
    return NULL;
  }
  /* Its ordinary use: blocking calls, a queue as long as the channel, one
   * JavaScript call per value. */
  if (napi_create_threadsafe_function(env, on_value, NULL, name, o.capacity,
                                      (size_t) o.producers, r, tsfn_finalize,
                                      r, tsfn_call_js, &r->tsfn) != napi_ok) {
    napi_async_destroy(env, r->async);
    free(r->producers);
    free(r);
    return NULL;
  }
  a->refs++;
  for (i = 0; i < r->nproducers; i++) {
    r->producers[i].owner = r;
    r->producers[i].first = (uint64_t) i * r->count;
    err = uv_thread_create(&r->producers[i].thread, tsfn_producer,
                           &r->producers[i]);
    if (err != 0) {
      /* Release for the producers that will not run; the finalizer joins
       * the others and settles the promise. */
      r->failed = 1;
      for (; i < r->nproducers; i++)
        napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
      break;
    }
    r->producers[i].started = 1;
  }
  return promise;
}


/* ---- the environment ----------------------------------------------------- */

static void addon_waker_closed(uvev_waker_t* w) {
  addon_t* a = container_of(w, addon_t, waker);

  napi_remove_async_cleanup_hook(a->cleanup);
  addon_unref(a);
}

/* The environment is being torn down (the process exits, or a worker stops).
 * No JavaScript runs any more, and the napi_env may be gone by the time the
 * waker has closed, so everything that needs napi happens here, now. */
static void addon_cleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  addon_t* a = arg;
  stream_t* s;
  stream_t* next;

  a->closing = 1;
  a->cleanup = handle;
  napi_delete_reference(a->env, a->handle_class);
  napi_delete_reference(a->env, a->final_key);
  /* Release every producer first, then join them: they return UV_EPIPE. */
  for (s = a->running; s != NULL; s = s->next)
    uvev_chan_close(&s->chan);
  for (s = a->running; s != NULL; s = next) {
    next = s->next;
    stream_join(s);
    /* `done` stays pending: no JavaScript could see it settle. */
    stream_release_js(s);
    if (s->state == STREAM_WAITING)
      stream_end(s);  /* no receive pending */
  }
  /* Pending receives complete with UV_ECANCELED (stream_on_recv ends their
   * streams), then addon_waker_closed runs. */
  uvev_waker_close(&a->waker, addon_waker_closed);
}

/* liveStreams(): streams not yet freed, to check for leaks. */
static napi_value js_live_streams(napi_env env, napi_callback_info info) {
  napi_value v;
  void* data;

  if (napi_get_cb_info(env, info, NULL, NULL, NULL, &data) != napi_ok ||
      napi_create_uint32(env, ((addon_t*) data)->nstreams, &v) != napi_ok)
    return NULL;
  return v;
}

static napi_value make_uv_version(napi_env env) {
  napi_value obj, v;
  char compiled[32];

  if (napi_create_object(env, &obj) != napi_ok)
    return NULL;
  snprintf(compiled, sizeof(compiled), "%d.%d.%d", UV_VERSION_MAJOR,
           UV_VERSION_MINOR, UV_VERSION_PATCH);
  napi_create_string_utf8(env, compiled, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "compiled", v);
  napi_create_string_utf8(env, uv_version_string(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "runtime", v);
  return obj;
}

/* node_api.h defines this one without a prototype. */
NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void);

NAPI_MODULE_INIT() {
  napi_value cls, key;
  uv_loop_t* loop;
  addon_t* a;
  int err;

  a = calloc(1, sizeof(*a));
  if (a == NULL)
    return throw_uv(env, "uvev addon", UV_ENOMEM);
  a->env = env;
  a->refs = 1;

  napi_property_descriptor methods[] = {
    { "close", NULL, js_stream_close, NULL, NULL, NULL, napi_default, a },
    { "stats", NULL, js_stream_stats, NULL, NULL, NULL, napi_default, a },
  };
  if (napi_get_uv_event_loop(env, &loop) != napi_ok ||
      napi_define_class(env, "StreamHandle", NAPI_AUTO_LENGTH, js_handle_new,
                        NULL, 2, methods, &cls) != napi_ok ||
      napi_create_reference(env, cls, 1, &a->handle_class) != napi_ok ||
      napi_create_symbol(env, NULL, &key) != napi_ok ||
      napi_create_reference(env, key, 1, &a->final_key) != napi_ok) {
    free(a);  /* (the references leak, once, on a failure that cannot be) */
    return NULL;
  }
  /* Node's loop, on its own thread: the waker belongs here. It keeps the
   * loop alive only while a receive is pending. */
  err = uvev_waker_init(loop, &a->waker);
  if (err != 0) {
    free(a);
    return throw_uv(env, "uvev_waker_init", err);
  }
  if (napi_add_async_cleanup_hook(env, addon_cleanup, a, &a->cleanup) !=
      napi_ok) {
    /* `a` stays allocated: the waker's handles use it until closed. */
    uvev_waker_close(&a->waker, NULL);
    return NULL;
  }

  napi_property_descriptor props[] = {
    { "stream", NULL, js_stream, NULL, NULL, NULL, napi_enumerable, a },
    { "tsfnStream", NULL, js_tsfn_stream, NULL, NULL, NULL, napi_enumerable,
      a },
    { "liveStreams", NULL, js_live_streams, NULL, NULL, NULL,
      napi_enumerable, a },
    { "uvVersion", NULL, NULL, NULL, NULL, make_uv_version(env),
      napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, 4, props) != napi_ok)
    return NULL;
  return exports;
}
