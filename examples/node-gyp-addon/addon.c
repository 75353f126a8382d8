/* addon.c: the node-gyp example's native side (C, Node-API). Owns the
 * state of each Node environment (one uvev waker on its loop, and its
 * teardown) and the streams.
 *
 * stream(count, capacity, onBatch) starts a native thread that sends the
 * numbers 0 .. count-1 into a bounded uvev channel of `capacity` elements,
 * blocking while it is full, then closes it. The JavaScript thread receives
 * on Node's own loop (uvev_chan_recv_many on a waker bound to the loop of
 * napi_get_uv_event_loop): one receive takes what the channel holds, up to
 * a batch, with one claim, and its callback calls onBatch(Float64Array)
 * once.
 * onBatch returning false stops the stream: the channel is closed, the
 * thread's blocked send returns, and what is left is dropped. The returned
 * promise settles once the thread has been joined: with { delivered,
 * stopped }, or with what onBatch threw.
 *
 * Threads: everything runs on the environment's JavaScript thread (the
 * loop's), except produce(), which touches only its stream's channel.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <uv.h>
#include <uvev.h>

#define BATCH 1024                  /* values per onBatch call, at most */
#define MAX_CAPACITY (1 << 20)
#define MAX_COUNT 9007199254740992.0 /* 2^53: every value a safe integer */

#define container_of(ptr, type, field)                                        \
  ((type*) ((char*) (ptr) - offsetof(type, field)))

typedef struct env_s env_t;
typedef struct stream_s stream_t;

/* The addon in one environment (the main thread, or a worker). */
struct env_s {
  napi_env env;
  uvev_waker_t waker;               /* the one wake handle on this loop */
  napi_async_cleanup_hook_handle hook;
  stream_t* streams;                /* not yet freed */
  unsigned int live;                /* how many */
  int closing;                      /* being torn down: no more JavaScript */
};

struct stream_s {
  env_t* e;
  stream_t* next;
  stream_t** link;                  /* what points at this one */
  uvev_chan_t chan;                 /* elements are doubles */
  uvev_chan_op_t op;                /* the pending receive, into batch */
  double batch[BATCH];
  uv_thread_t thread;
  double count;                     /* the thread sends 0 .. count-1 */
  double delivered;                 /* handed to onBatch */
  int stopped;                      /* onBatch returned false, or threw */
  int joined;
  napi_ref on_batch;
  napi_ref error;                   /* { value }: what onBatch threw */
  napi_deferred deferred;
  napi_async_context async;
};

static void on_recv(uvev_chan_op_t* op, int status);


/* ---- the producer thread ------------------------------------------------- */

static void produce(void* arg) {
  stream_t* s = arg;
  double v;

  for (v = 0; v < s->count; v++)
    if (uvev_chan_send_sync(&s->chan, &v) != 0)
      break;                        /* UV_EPIPE: the loop side closed it */
  uvev_chan_close(&s->chan);        /* the receiver drains, then UV_EOF */
}


/* ---- the loop side ------------------------------------------------------- */

/* Releases what the stream holds in JavaScript (the napi_env is alive). */
static void release_js(stream_t* s) {
  napi_env env = s->e->env;

  napi_delete_reference(env, s->on_batch);
  if (s->error != NULL)
    napi_delete_reference(env, s->error);
  if (s->async != NULL)
    napi_async_destroy(env, s->async);
}

/* Frees a stream whose thread is joined and whose receive is not pending. */
static void stream_free(stream_t* s) {
  *s->link = s->next;
  if (s->next != NULL)
    s->next->link = s->link;
  s->e->live--;
  uvev_chan_destroy(&s->chan);
  free(s);
}

static void stream_join(stream_t* s) {
  if (!s->joined)
    uv_thread_join(&s->thread);
  s->joined = 1;
}

/* Closing the channel releases the thread (its send returns UV_EPIPE); the
 * receives go on, dropping what is left, until UV_EOF. */
static void stream_stop(stream_t* s) {
  s->stopped = 1;
  uvev_chan_close(&s->chan);
}

/* Calls onBatch(values) inside a callback scope, so that promise reactions
 * and process.nextTick callbacks it queues run when it returns, as after
 * any Node callback. Every napi call is checked: while a worker is being
 * terminated they fail (and leave their outputs unset), and the stream then
 * stops as if onBatch had thrown. */
static void deliver(stream_t* s, size_t n) {
  napi_env env = s->e->env;
  napi_handle_scope handles;
  napi_callback_scope scope;
  napi_value resource, fn, buffer, array, undefined, no, result, thrown;
  napi_value holder;
  napi_ref ref;
  void* data;
  bool is_false = false;

  s->delivered += (double) n;
  if (napi_open_handle_scope(env, &handles) != napi_ok) {
    stream_stop(s);
    return;
  }
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_open_callback_scope(env, resource, s->async, &scope) != napi_ok) {
    stream_stop(s);
    napi_close_handle_scope(env, handles);
    return;
  }
  if (napi_create_arraybuffer(env, n * sizeof(double), &data, &buffer) !=
          napi_ok ||
      napi_create_typedarray(env, napi_float64_array, n, buffer, 0,
                             &array) != napi_ok ||
      napi_get_reference_value(env, s->on_batch, &fn) != napi_ok ||
      napi_get_undefined(env, &undefined) != napi_ok ||
      napi_get_boolean(env, false, &no) != napi_ok) {
    stream_stop(s);
  } else {
    memcpy(data, s->batch, n * sizeof(double));
    if (napi_call_function(env, undefined, fn, 1, &array, &result) ==
        napi_ok) {
      if (napi_strict_equals(env, result, no, &is_false) != napi_ok ||
          is_false)
        stream_stop(s);
    } else {
      /* It threw: keep what it threw, in an object (a reference to a
       * primitive needs Node-API 10). */
      if (napi_get_and_clear_last_exception(env, &thrown) == napi_ok &&
          napi_create_object(env, &holder) == napi_ok &&
          napi_set_named_property(env, holder, "value", thrown) == napi_ok &&
          napi_create_reference(env, holder, 1, &ref) == napi_ok)
        s->error = ref;
      stream_stop(s);
    }
  }
  napi_close_callback_scope(env, scope);
  napi_close_handle_scope(env, handles);
}

/* UV_EOF: the thread has returned or is returning. Joins it, frees the
 * stream, then settles the promise: whoever awaits it finds the stream
 * gone (liveStreams() counts one less). If napi fails (a worker being
 * terminated), the promise stays pending: no JavaScript would see it. */
static void finish(stream_t* s) {
  napi_env env = s->e->env;
  napi_deferred deferred = s->deferred;
  napi_async_context async = s->async;
  napi_handle_scope handles;
  napi_callback_scope scope;
  napi_value resource, holder, delivered, stopped;
  napi_value result = NULL;
  int failed = s->error != NULL;
  int opened, ok;

  stream_join(s);
  ok = opened = napi_open_handle_scope(env, &handles) == napi_ok;
  if (ok && failed)
    ok = napi_get_reference_value(env, s->error, &holder) == napi_ok &&
         napi_get_named_property(env, holder, "value", &result) == napi_ok;
  else if (ok)
    ok = napi_create_object(env, &result) == napi_ok &&
         napi_create_double(env, s->delivered, &delivered) == napi_ok &&
         napi_get_boolean(env, s->stopped, &stopped) == napi_ok &&
         napi_set_named_property(env, result, "delivered", delivered) ==
             napi_ok &&
         napi_set_named_property(env, result, "stopped", stopped) == napi_ok;
  s->async = NULL;                  /* still needed, for the scope below */
  release_js(s);
  stream_free(s);

  if (ok && napi_create_object(env, &resource) == napi_ok &&
      napi_open_callback_scope(env, resource, async, &scope) == napi_ok) {
    if (failed)
      napi_reject_deferred(env, deferred, result);
    else
      napi_resolve_deferred(env, deferred, result);
    napi_close_callback_scope(env, scope);
  }
  napi_async_destroy(env, async);
  if (opened)
    napi_close_handle_scope(env, handles);
}

/* status: how many values the receive put in s->batch, or UV_EOF, or
 * UV_ECANCELED. */
static void on_recv(uvev_chan_op_t* op, int status) {
  stream_t* s = op->data;

  if (s->e->closing) {
    /* The waker is closing (UV_ECANCELED, or a status decided before):
     * teardown() has joined the thread and released the JavaScript. */
    stream_free(s);
    return;
  }
  if (status < 0) {
    finish(s);                      /* UV_EOF (only teardown cancels) */
    return;
  }
  /* One wake-up, one batch. */
  if (!s->stopped)
    deliver(s, (size_t) status);
  /* The waker is not closing (that happens in teardown, with no callback
   * of ours on the stack), so this cannot fail. */
  uvev_chan_recv_many(&s->e->waker, op, &s->chan, s->batch, BATCH, on_recv);
}


/* ---- JavaScript ---------------------------------------------------------- */

static napi_value throw_uv(napi_env env, const char* what, int err) {
  napi_throw_error(env, uv_err_name(err), what);
  return NULL;
}

/* Reads argv[i] as an integer in [min, max]; -1 after throwing. */
static int get_integer(napi_env env, napi_value v, const char* name,
                       double min, double max, double* out) {
  napi_valuetype type;

  if (napi_typeof(env, v, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, v, out) != napi_ok ||
      *out != (double) (int64_t) *out) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", name);
    return -1;
  }
  if (*out < min || *out > max) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", name);
    return -1;
  }
  return 0;
}

/* stream(count, capacity, onBatch) -> Promise<{ delivered, stopped }> */
static napi_value js_stream(napi_env env, napi_callback_info info) {
  napi_value argv[3], promise, name;
  napi_valuetype type;
  size_t argc = 3;
  double count, capacity;
  void* data;
  stream_t* s;
  env_t* e;
  int err;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok)
    return NULL;
  e = data;
  if (argc < 3 || napi_typeof(env, argv[2], &type) != napi_ok ||
      type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "stream(count, capacity, onBatch): onBatch must be "
                          "a function");
    return NULL;
  }
  if (get_integer(env, argv[0], "count must be an integer from 0 to 2^53",
                  0, MAX_COUNT, &count) ||
      get_integer(env, argv[1], "capacity must be an integer from 1 to 2^20",
                  1, MAX_CAPACITY, &capacity))
    return NULL;

  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return throw_uv(env, "stream", UV_ENOMEM);
  err = uvev_chan_init(&s->chan, (size_t) capacity, sizeof(double));
  if (err != 0) {
    free(s);
    return throw_uv(env, "uvev_chan_init", err);
  }
  if (napi_create_promise(env, &s->deferred, &promise) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &s->on_batch) != napi_ok ||
      napi_create_string_utf8(env, "uvev.stream", NAPI_AUTO_LENGTH, &name) !=
          napi_ok ||
      napi_async_init(env, NULL, name, &s->async) != napi_ok) {
    /* (A half-made promise or reference leaks, on a failure that leaves an
     * exception pending.) */
    uvev_chan_destroy(&s->chan);
    free(s);
    return NULL;
  }
  s->e = e;
  s->count = count;
  s->op.data = s;
  err = uv_thread_create(&s->thread, produce, s);
  if (err != 0) {
    uvev_chan_destroy(&s->chan);
    napi_delete_reference(env, s->on_batch);
    napi_async_destroy(env, s->async);
    free(s);
    return throw_uv(env, "uv_thread_create", err);
  }
  s->next = e->streams;
  s->link = &e->streams;
  if (s->next != NULL)
    s->next->link = &s->next;
  e->streams = s;
  e->live++;
  /* A pending receive keeps the loop alive, and the waker holds no
   * reference otherwise: the process stays up while a stream runs, and
   * exits by itself once they are all done. */
  uvev_chan_recv_many(&e->waker, &s->op, &s->chan, s->batch, BATCH, on_recv);
  return promise;
}

/* liveStreams(): streams not yet freed, for the tests. */
static napi_value js_live_streams(napi_env env, napi_callback_info info) {
  napi_value v;
  void* data;

  if (napi_get_cb_info(env, info, NULL, NULL, NULL, &data) != napi_ok ||
      napi_create_uint32(env, ((env_t*) data)->live, &v) != napi_ok)
    return NULL;
  return v;
}


/* ---- the environment ----------------------------------------------------- */

static void on_waker_closed(uvev_waker_t* w) {
  env_t* e = container_of(w, env_t, waker);

  napi_remove_async_cleanup_hook(e->hook);
  free(e);
}

/* The environment goes away (the process exits, a worker is terminated).
 * Node keeps its loop running until the hook is removed, in
 * on_waker_closed. Every stream has a receive pending: close the channels
 * (the threads' sends return UV_EPIPE), join the threads, release the
 * JavaScript now (the napi_env may be gone once the handles have closed),
 * then close the waker, whose pending receives complete (on_recv frees the
 * streams) before on_waker_closed runs. */
static void teardown(napi_async_cleanup_hook_handle hook, void* arg) {
  env_t* e = arg;
  stream_t* s;

  e->closing = 1;
  e->hook = hook;
  for (s = e->streams; s != NULL; s = s->next)
    uvev_chan_close(&s->chan);
  for (s = e->streams; s != NULL; s = s->next) {
    stream_join(s);
    release_js(s);
  }
  uvev_waker_close(&e->waker, on_waker_closed);
}

/* node_api.h defines this one without a prototype. */
NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void);

NAPI_MODULE_INIT() {
  uv_loop_t* loop;
  env_t* e;
  int err;

  e = calloc(1, sizeof(*e));
  if (e == NULL)
    return throw_uv(env, "uvev example", UV_ENOMEM);
  e->env = env;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    free(e);
    return NULL;
  }
  err = uvev_waker_init(loop, &e->waker);
  if (err != 0) {
    free(e);
    return throw_uv(env, "uvev_waker_init", err);
  }
  if (napi_add_async_cleanup_hook(env, teardown, e, &e->hook) != napi_ok) {
    uvev_waker_close(&e->waker, NULL);  /* `e` stays: the waker is in it */
    return NULL;
  }

  napi_property_descriptor props[] = {
    { "stream", NULL, js_stream, NULL, NULL, NULL, napi_enumerable, e },
    { "liveStreams", NULL, js_live_streams, NULL, NULL, NULL,
      napi_enumerable, e },
  };
  if (napi_define_properties(env, exports, 2, props) != napi_ok)
    return NULL;
  return exports;
}
