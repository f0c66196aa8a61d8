/*
 * apiproxy/abi.h — the whole contract between the APIProxy host and a plugin.
 *
 * A plugin is a shared library that exports one C function,
 *
 *     const apx_plugin_descriptor* apiproxy_plugin_entry(void);
 *
 * returning a descriptor that lives as long as the library is loaded. Everything that
 * crosses the boundary is declared here: plain C structs, (ptr,len) strings, C function
 * pointers. No STL type and no exception ever crosses it, so a plugin built with another
 * compiler or standard library still loads.
 *
 * Naming: types `apx_*`, constants `APX_*`, the entry symbol `apiproxy_plugin_entry`.
 *
 * Versioning: APX_ABI_MAJOR changes only when an existing field, function or meaning
 * changes; the host refuses a plugin with another major. APX_ABI_MINOR grows when fields
 * or functions are appended to the end of a struct; the host refuses a plugin built
 * against a newer minor than its own. Every struct that may grow starts with
 * `struct_size`, so each side reads only the fields the other side knows about.
 *
 * Ownership: every pointer passed into a plugin function is borrowed for the duration of
 * that call unless stated otherwise. Variable-sized output goes through host-provided
 * writer callbacks, which copy what they are given; memory never changes owner.
 *
 * Threading: the host may call `score` / `build_request` / `parse_models` /
 * `classify_status` / `transform_answer` / `stream_open` on one plugin object from several
 * threads at once; `create` and `destroy` are never concurrent with other calls on the
 * same object. One stream's state is used by one thread at a time.
 */
#ifndef APIPROXY_ABI_H
#define APIPROXY_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define APX_ABI_MAJOR 1
#define APX_ABI_MINOR 3

/* Name of the one exported symbol, for hosts that look it up by string. */
#define APX_ENTRY_SYMBOL "apiproxy_plugin_entry"

#if defined(_WIN32)
#define APX_EXPORT __declspec(dllexport)
#else
#define APX_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct received from the other side is large enough to hold `field`:
 * check it before reading any field added after APX_ABI_MINOR 0. */
#define APX_HAS_FIELD(type, ptr, field) \
  (offsetof(type, field) + sizeof(((type*)0)->field) <= (ptr)->struct_size)

/* A borrowed string: not NUL-terminated, owned by whoever passed it. */
typedef struct apx_str {
  const char* ptr;
  size_t len;
} apx_str;

/* A borrowed key/value pair (configuration). */
typedef struct apx_kv {
  apx_str key;
  apx_str value;
} apx_kv;

typedef enum apx_status {
  APX_OK = 0,
  APX_ERR_INVALID = 1,     /* the input (configuration, request) is unusable */
  APX_ERR_UNSUPPORTED = 2, /* the plugin does not implement this operation */
  APX_ERR_INTERNAL = 3     /* anything else, including a caught exception */
} apx_status;

typedef enum apx_plugin_kind {
  APX_KIND_STRATEGY = 1,
  APX_KIND_PROVIDER = 2
} apx_plugin_kind;

typedef enum apx_log_level {
  APX_LOG_DEBUG = 1,
  APX_LOG_INFO = 2,
  APX_LOG_WARN = 3,
  APX_LOG_ERROR = 4
} apx_log_level;

/* Services the host offers a plugin. Owned by the host; valid until the plugin object
 * created with it is destroyed. Safe to call from any thread. */
typedef struct apx_host {
  uint32_t struct_size;
  void* ctx; /* opaque, pass back to the callbacks */
  void (*log)(void* ctx, apx_log_level level, apx_str message);
} apx_host;

/* ---------------------------------------------------------------- strategies ---- */

/* What the client asked for. Borrowed for one `score` call. */
typedef struct apx_route_ctx {
  uint32_t struct_size;
  apx_str logical_model;
  apx_str strategy;
  apx_str preferred_region; /* empty when none */
  uint64_t estimated_input_tokens;
  uint64_t estimated_output_tokens;
  uint32_t stream; /* 1 when the client asked for a stream */
} apx_route_ctx;

typedef enum apx_health {
  APX_HEALTH_UNKNOWN = 0, /* no samples yet */
  APX_HEALTH_HEALTHY = 1,
  APX_HEALTH_DEGRADED = 2, /* recent errors above 10 %, or very slow */
  APX_HEALTH_DOWN = 3      /* ejected after failures: the host sends it one half-open probe
                              once its ejection time is over, and readmits it on success */
} apx_health;

/* One upstream the request could go to, with its runtime metrics. Borrowed. */
typedef struct apx_candidate {
  uint32_t struct_size;
  apx_str provider_id;
  apx_str model_id;
  apx_str region;
  /* Weights and prices come from configuration; the metrics from this gateway's outcomes.
   * Two horizons: the metrics window (60 s, all instances sharing a store) for the
   * latency_* fields, error_rate and samples; and "recent" (ABI 1.1: seconds, this
   * instance's own attempts, decayed exponentially by time) — what a strategy should react
   * to when an upstream slows down, fails or recovers. */
  double base_weight;    /* > 0, from configuration */
  double dynamic_weight; /* multiplier learned from outcomes, 1.0 when unknown */
  double cost_input;     /* per 1k input tokens, 0 when unknown */
  double cost_output;    /* per 1k output tokens, 0 when unknown */
  double latency_ewma_ms;
  double latency_p95_ms;
  double latency_p99_ms;
  double error_rate; /* 0..1 over the metrics window */
  uint32_t in_flight;
  uint32_t samples; /* requests in the metrics window */
  uint32_t status;  /* apx_health */
  double max_qps;   /* 0 = unlimited */
  double current_qps;
  /* ---- ABI 1.1: check with APX_HAS_FIELD(apx_candidate, c, field) before reading. ---- */
  double recent_latency_ms; /* mean latency of recent attempts (time constant 0.5 s, at most
                               about the last 20): successes, and failures slower than that
                               mean; 0 = none yet */
  double recent_error_rate; /* 0..1, recent attempts that failed (time constant 2 s) */
  double recent_samples;    /* decayed count behind recent_error_rate (~ attempts in the last
                               2 s); near 0: the recent figures are stale or empty */
} apx_candidate;

typedef struct apx_strategy_vtable {
  uint32_t struct_size;
  /* Required. Builds a strategy object from its configuration (APIPROXY_STRATEGY_{NAME}_{PARAM}
   * variables, keys without the prefix). Writes the object to *self_out. */
  apx_status (*create)(const apx_host* host, const apx_kv* config, size_t config_len,
                       void** self_out);
  /* Required. Writes one score per candidate to scores_out[0..n): >= 0, 0 = do not use. Higher is
   * better; the host picks by weighted chance over the scores. `candidates` is an array
   * of n pointers (not of structs), so a host with a larger apx_candidate stays
   * compatible. Scores that are NaN, infinite or negative are treated as 0. */
  apx_status (*score)(void* self, const apx_route_ctx* ctx,
                      const apx_candidate* const* candidates, size_t n, double* scores_out);
  /* Required. Frees an object `create` made. */
  void (*destroy)(void* self);
} apx_strategy_vtable;

/* ----------------------------------------------------------- provider adapters ---- */

typedef enum apx_operation {
  APX_OP_LIST_MODELS = 1,
  APX_OP_CHAT_COMPLETIONS = 2,
  APX_OP_COMPLETIONS = 3,
  APX_OP_EMBEDDINGS = 4,
  APX_OP_HEALTH = 5,
  /* ABI 1.3: an adapter built against 1.0-1.2 is never asked for these; the host
   * translates such a request to APX_OP_CHAT_COMPLETIONS for it instead. An adapter that
   * does not speak one natively answers build_request with APX_ERR_UNSUPPORTED, and the
   * host translates likewise. */
  APX_OP_MESSAGES = 6, /* Anthropic Messages (POST /v1/messages): body in that format */
  APX_OP_RESPONSES = 7 /* OpenAI Responses (POST /v1/responses): body in that format */
} apx_operation;

/* One configured provider (LLM_PROVIDER_{id}_*). Borrowed during `create` only: an
 * adapter copies what it needs. `settings` holds every LLM_PROVIDER_{id}_{KEY} variable,
 * keyed by KEY, so adapters can read their own options (e.g. API_VERSION). */
typedef struct apx_provider_config {
  uint32_t struct_size;
  apx_str id;
  apx_str name;
  apx_str base_url; /* no trailing slash */
  apx_str api_key;  /* secret: never log it */
  apx_str models_path;
  apx_str region;
  const apx_kv* settings;
  size_t settings_len;
} apx_provider_config;

/* One upstream call to shape. Borrowed for one `build_request` call. */
typedef struct apx_upstream_call {
  uint32_t struct_size;
  uint32_t operation; /* apx_operation */
  apx_str model_id;   /* physical model (Azure: deployment name); empty for list/health */
  apx_str body;       /* client JSON with `model` already rewritten; empty for GETs */
  uint32_t stream;
  /* Since 1.2: the API key this call must use, chosen by the host from the provider's
   * pool (LLM_PROVIDER_{id}_API_KEYS / _API_KEYS_JSON; a one-key provider's API_KEY).
   * Secret: never log it. Header-safe (the host checked it). Check APX_HAS_FIELD before
   * reading it. A plugin built against 1.0 or 1.1 never sees it: the host makes one adapter
   * object per key instead, each created with that key as config->api_key. */
  apx_str api_key;
} apx_upstream_call;

/* Host-owned sink for the request an adapter builds. Defaults before the call: method
 * GET (POST when body is non-empty), no URL, no headers, body = call->body. */
typedef struct apx_request_writer {
  uint32_t struct_size;
  void* ctx;
  void (*set_method)(void* ctx, apx_str method);
  void (*set_url)(void* ctx, apx_str absolute_url);
  void (*add_header)(void* ctx, apx_str name, apx_str value);
  void (*set_body)(void* ctx, apx_str body);
} apx_request_writer;

/* One model as the gateway describes it. Borrowed for one `add_model` call. */
typedef struct apx_model {
  uint32_t struct_size;
  apx_str model_id;
  apx_str family;        /* e.g. "gpt-4o"; empty = host derives it */
  apx_str display_name;  /* empty = model_id */
  uint64_t context_length; /* 0 = unknown */
  apx_str capabilities;  /* comma-separated: chat,completion,embedding,vision,audio,function_calling */
  apx_str pricing_json;  /* JSON object or empty */
  apx_str metadata_json; /* the raw upstream entry, JSON, or empty */
} apx_model;

typedef struct apx_model_writer {
  uint32_t struct_size;
  void* ctx;
  void (*add_model)(void* ctx, const apx_model* model);
} apx_model_writer;

typedef enum apx_outcome {
  APX_OUTCOME_SUCCESS = 0,
  APX_OUTCOME_RETRYABLE = 1, /* try another upstream */
  APX_OUTCOME_FATAL = 2,     /* pass the answer to the client as it is */
  APX_OUTCOME_HOST_RULE = 3  /* no opinion: apply RETRYABLE_STATUS_CODES */
} apx_outcome;

/* ABI 1.3. Host-owned sink for the bytes an answer or stream transform produces. Both
 * callbacks copy what they are given. */
typedef struct apx_transform_writer {
  uint32_t struct_size;
  void* ctx;
  void (*write)(void* ctx, apx_str bytes);
  /* Reports why the transform failed, for the client's error and the log (no secrets).
   * Call it before returning APX_ERR_INVALID or APX_ERR_INTERNAL. */
  void (*fail)(void* ctx, apx_str message);
} apx_transform_writer;

typedef struct apx_provider_vtable {
  uint32_t struct_size;
  /* Required. One adapter object per configured provider. */
  apx_status (*create)(const apx_host* host, const apx_provider_config* config,
                       void** self_out);
  /* Required. Shapes the HTTP request for `call` into `out`. APX_ERR_UNSUPPORTED when the
   * provider has no such operation. */
  apx_status (*build_request)(void* self, const apx_upstream_call* call,
                              const apx_request_writer* out);
  /* Required. Turns a successful list-models response body into models, one add_model each. */
  apx_status (*parse_models)(void* self, apx_str response_body, const apx_model_writer* out);
  /* Optional (may be NULL): overrides the host's RETRYABLE_STATUS_CODES rule. */
  apx_outcome (*classify_status)(void* self, int http_status, apx_str response_body);
  /* Required. Frees an object `create` made. */
  void (*destroy)(void* self);
  /* ---- ABI 1.3, all Optional (NULL, or a vtable from an older plugin: the host checks
   * struct_size). Answer and stream transforms: for an adapter whose upstream speaks
   * another format than the call's operation promises its client (e.g. an Anthropic
   * upstream serving APX_OP_CHAT_COMPLETIONS), they turn the upstream's answer into the
   * operation's format. `call` is the one build_request shaped, borrowed for the call. A
   * plugin that leaves them NULL, or answers APX_ERR_UNSUPPORTED for a call, has its
   * upstream's bytes relayed as they are, at no cost. ---- */
  /* Required with the stream hooks, else Optional. Transforms a whole answer (any HTTP
   * status: an error body becomes the operation's error format). Writes the new body
   * through `out`. */
  apx_status (*transform_answer)(void* self, const apx_upstream_call* call, int http_status,
                                 apx_str body, const apx_transform_writer* out);
  /* Optional. Starts transforming a successful stream of `call`: writes a per-call state
   * object to *state_out, which the plugin owns until stream_close. The host feeds it
   * from one thread at a time. */
  apx_status (*stream_open)(void* self, const apx_upstream_call* call, void** state_out);
  /* Required with stream_open. Bytes as they arrive, split anywhere; writes whole
   * server-sent events of the operation's format through `out`, as soon as it can (the
   * client sees them at once). */
  apx_status (*stream_feed)(void* self, void* state, apx_str bytes, const apx_transform_writer* out);
  /* Required with stream_open. The upstream's stream ended: write what is still owed
   * (e.g. the final events). Not called when the stream broke. */
  apx_status (*stream_finish)(void* self, void* state, const apx_transform_writer* out);
  /* Required with stream_open. Frees the state; called exactly once per stream_open that
   * returned APX_OK, also when the stream broke. */
  void (*stream_close)(void* self, void* state);
} apx_provider_vtable;

/* ------------------------------------------------------------------ descriptor ---- */

typedef struct apx_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_major; /* APX_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor; /* APX_ABI_MINOR the plugin was built against */
  uint32_t kind;      /* apx_plugin_kind */
  apx_str name;       /* unique per kind: [a-z0-9_-]+ */
  apx_str version;    /* the plugin's own semantic version */
  apx_str description;
  const void* vtable; /* apx_strategy_vtable* or apx_provider_vtable*, by kind */
} apx_plugin_descriptor;

typedef const apx_plugin_descriptor* (*apx_plugin_entry_fn)(void);

/* The one function a plugin exports (the C++ export macros define it for you). */
APX_EXPORT const apx_plugin_descriptor* apiproxy_plugin_entry(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* APIPROXY_ABI_H */
