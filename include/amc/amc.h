/*
 * amc.h — the public C ABI of libamc (libamc.so.1).
 *
 * libamc runs Amazon Marketing Cloud (AMC) SQL workflows for orchestrators:
 * it keeps Login-with-Amazon tokens safe at rest and alive, talks HTTPS to
 * AMC, and exposes everything through this header only. It is C99-clean and
 * usable from C, C++, and any FFI (ctypes, cffi, dlopen).
 *
 * Conventions (they hold for every function below):
 *  - Every fallible function returns amc_status; AMC_OK (0) means success.
 *    On failure, amc_last_error() gives a message that says what happened and
 *    what to do, and amc_last_error_json() gives the same as JSON with extra
 *    detail. The status alone is always enough to decide what to do.
 *  - Arguments: the handle first, then inputs (UTF-8 JSON text or C strings),
 *    then out-parameters. Out-parameters are written only on success.
 *  - Strings the library returns through out-parameters (char **) belong to
 *    the caller and must be released with amc_free(), never with free().
 *  - Handles are opaque; each *_new has a *_free, and *_free(NULL) does
 *    nothing.
 *  - JSON requests are strict: unknown fields are rejected with
 *    AMC_E_INVALID_ARGUMENT so that typos surface. Responses may gain fields
 *    in later minor versions without an ABI change.
 *  - Secrets (tokens, client secrets, Fernet keys) never appear in messages.
 *  - Input text must be UTF-8: JSON or a C string that is not gives
 *    AMC_E_INVALID_ARGUMENT "… is not valid UTF-8 at byte N". Every message
 *    and JSON document the library returns is valid UTF-8; outside text
 *    (ids, AMC's own error text) is quoted whole in single quotes, with the
 *    code points of non-ASCII characters after it ('wf_é' (U+00E9)) and
 *    bytes that are not UTF-8 written as \xNN.
 *  - JSON nests at most 128 levels of arrays and objects, wherever it comes
 *    from: deeper input is refused without being walked, as
 *    AMC_E_INVALID_ARGUMENT (a request), AMC_E_CONFIG (a client or store
 *    config), AMC_E_PROTOCOL (a reply of AMC or Login with Amazon) or
 *    AMC_E_STORE (a store file, left untouched).
 *  - Threads: a client may be used from many threads at once; a blocking
 *    call blocks only its caller. Callbacks run on a library thread (see
 *    amc_client_set_log and amc_progress_callback for when they may run).
 *  - Deadlines: a blocking call's "timeout_ms" is one deadline for the whole
 *    call, counted from when the call starts. It travels with the call to
 *    every HTTP request the call makes: each phase (connect, TLS handshake,
 *    write, read) ends by the smaller of its own timeout and what is left,
 *    retries and Retry-After waits never go past it, and no request is
 *    started after it. A call that reaches its deadline fails with
 *    AMC_E_TIMEOUT and a message giving the timeout_ms it was given.
 *  - Servers' answers: a redirect (HTTP 3xx) from AMC, Login with Amazon or
 *    a result URL is never followed (the request carried a token) and fails
 *    with AMC_E_PROTOCOL naming the Location's host. libamc asks for bodies
 *    unencoded (Accept-Encoding: identity); a reply with another
 *    Content-Encoding is AMC_E_PROTOCOL naming it, and a result part in one
 *    is never kept. A server's error text is quoted only after every secret
 *    the request carried (access token, refresh token or code, client
 *    secret) is replaced by "[redacted]".
 *  - Ids that go into a URL or header (instance, advertiser, marketplace,
 *    AMC execution ids) are at most 128 bytes, like workflow ids (AMC's spec
 *    gives no maximum; its own ids are 36 bytes or less): a longer one is
 *    AMC_E_INVALID_ARGUMENT before any request, its message quoting 32
 *    bytes of it.
 *    Every other wait inside the call ends by the deadline too: the host
 *    store's "document" lock (amc_store_callbacks), and the wait for a
 *    token refresh, which is shared by all calls of a credential, may wait
 *    for another process's refresh, and keeps its own limits (it goes on
 *    for the next call when one caller's deadline passes).
 *
 * See docs/c-abi.md ("ABI policy") for what changes the SONAME.
 */
#ifndef AMC_AMC_H
#define AMC_AMC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(AMC_BUILDING_LIBRARY)
#define AMC_API __attribute__((visibility("default")))
#else
#define AMC_API
#endif

/* ---------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------ */

/* The major version is the ABI major: it is the N of libamc.so.N. */
#define AMC_VERSION_MAJOR 1
#define AMC_VERSION_MINOR 2
#define AMC_VERSION_PATCH 0
#define AMC_VERSION_NUMBER \
  (AMC_VERSION_MAJOR * 10000 + AMC_VERSION_MINOR * 100 + AMC_VERSION_PATCH)
#define AMC_VERSION_STRING "1.2.0"

/* The version of the library actually loaded, as AMC_VERSION_NUMBER.
 * Adapters compare amc_version_number() / 10000 with the ABI major they
 * were written for and refuse to run on a mismatch. The minor version says
 * which entry points exist: a host that calls one added after 1.0 (the
 * poller and amc_client_new_with_store came in 1.1; tests/abi/symbols.txt
 * lists each function's version) checks amc_version_number() >= 10100, or
 * resolves the function with dlsym, before it calls it. */
AMC_API int amc_version_number(void);

/* The loaded library's version as static text, e.g. "1.2.0". */
AMC_API const char *amc_version_string(void);

/* ---------------------------------------------------------------------------
 * Status codes
 *
 * APPEND-ONLY: codes are never renumbered or reused. New codes are added at
 * the end; hosts must treat an unknown code as a failure.
 * ------------------------------------------------------------------------ */
typedef enum amc_status {
  /* Success. */
  AMC_OK = 0,
  /* An argument or JSON request is malformed: NULL where a value is needed,
   * invalid JSON, an unknown field, a bad id. Fix the call. */
  AMC_E_INVALID_ARGUMENT = 1,
  /* The configuration is incomplete or inconsistent (missing Fernet key,
   * unknown region, LwA client rejected as invalid_client). Fix the config. */
  AMC_E_CONFIG = 2,
  /* The credential cannot be used until the user authenticates again
   * (LwA invalid_grant, revoked grant, no refresh token). */
  AMC_E_AUTH_REQUIRED = 3,
  /* AMC refused access (HTTP 403) even after a token refresh: the advertiser
   * id is wrong or the credential has no access to the instance. */
  AMC_E_FORBIDDEN = 4,
  /* The named object (credential, workflow, execution) does not exist. */
  AMC_E_NOT_FOUND = 5,
  /* The object exists already or is in a state that forbids the operation
   * (duplicate workflow id, cancel of a finished execution). */
  AMC_E_CONFLICT = 6,
  /* Rate-limited (HTTP 429) beyond the retry policy; retry later. */
  AMC_E_THROTTLED = 7,
  /* The remote service failed (HTTP 5xx or an unexpected 4xx) beyond the
   * retry policy. */
  AMC_E_REMOTE = 8,
  /* Network failure: DNS, connect, reset, unexpected end of stream. */
  AMC_E_NETWORK = 9,
  /* TLS failure: handshake, untrusted or expired certificate, wrong host. */
  AMC_E_TLS = 10,
  /* A deadline passed before the operation finished. */
  AMC_E_TIMEOUT = 11,
  /* The operation was cancelled by the caller. */
  AMC_E_CANCELLED = 12,
  /* The AMC execution ended FAILED, CANCELLED or REJECTED; the message
   * carries AMC's reason. */
  AMC_E_EXECUTION_FAILED = 13,
  /* Encrypted data could not be decrypted with any configured Fernet key
   * (the record is quarantined: restore the previous key or
   * re-authenticate), or a cryptographic primitive failed. */
  AMC_E_CRYPTO = 14,
  /* The credential store could not be read or written (I/O error, lock,
   * corrupt file). Stored data is left as it was. */
  AMC_E_STORE = 15,
  /* The server's reply did not follow the protocol (malformed JSON, missing
   * fields, truncated body). */
  AMC_E_PROTOCOL = 16,
  /* The handle was created in another process (used after fork()); create
   * a new one in this process. */
  AMC_E_FORKED = 17,
  /* A bug in libamc: an unexpected internal failure. Please report it. */
  AMC_E_INTERNAL = 18,
  /* Memory could not be allocated. */
  AMC_E_OUT_OF_MEMORY = 19,
  /* AMC refused an ad-hoc run (an inline "workflow": {"sqlQuery"}) because
   * the instance has used its ad-hoc runs of the day (AMC allows 30 per
   * instance per UTC day, across all workflows). The message names the
   * instance, says the count resets at 00:00 UTC and that a saved workflow
   * (amc_workflow_sync, then "workflowId") avoids the limit; the last-error
   * JSON has "instance_id", "adhoc_executions_today", "adhoc_limit" and
   * "resets_at". Since 1.2. */
  AMC_E_ADHOC_QUOTA = 20
  /* Append new codes here. */
} amc_status;

/* Static, never-NULL name of a status, e.g. "AMC_E_CONFIG". Unknown codes
 * give "AMC_E_UNKNOWN". */
AMC_API const char *amc_status_name(amc_status status);

/* ---------------------------------------------------------------------------
 * Error detail (thread-local)
 * ------------------------------------------------------------------------ */

/* Message of the last failed call on this thread, or "" if the last call
 * succeeded. The pointer stays valid until the next libamc call on this
 * thread; do not free it. */
AMC_API const char *amc_last_error(void);

/* The same detail as JSON: {"status": "AMC_E_…", "code": N, "message": "…"}
 * plus, where known:
 *   "http_status": N        the HTTP status of AMC's (or LwA's) last answer
 *   "amc_code": "…"         AMC's own error code, as text
 *   "retry_after_ms": N     whole milliseconds AMC asked to wait (its
 *                           Retry-After header, delta-seconds or HTTP-date,
 *                           RFC 9110 10.2.3); present after a throttled
 *                           (AMC_E_THROTTLED) or failed answer that had one
 *   "phase": "…"            where a request failed on its way to an answer
 *                           (AMC_E_TIMEOUT, AMC_E_NETWORK, AMC_E_TLS,
 *                           AMC_E_PROTOCOL): "before_send", "rate_limit"
 *                           (the client-side rate limit would wait past the
 *                           deadline), "pool_wait", "resolve", "connect",
 *                           "proxy", "handshake", "write", "read_headers",
 *                           "read_body"
 *   "credential_id": "…"
 *   "status": "…", "execution": {...}   for AMC_E_EXECUTION_FAILED (and
 *                           "status" for AMC_E_TIMEOUT of a wait)
 * "{}" if the last call succeeded. Same lifetime as amc_last_error(). */
AMC_API const char *amc_last_error_json(void);

/* ---------------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------------ */

/* Releases a string returned by libamc. amc_free(NULL) does nothing. */
AMC_API void amc_free(void *pointer);

/* ---------------------------------------------------------------------------
 * Credential store
 *
 * Holds, per credential id, the LwA client id, the refresh token, the cached
 * access token and its expiry, a state ("active", "needs-reauth";
 * "quarantined" and "damaged" as a handle sees a record, never stored) and
 * timestamps. Every secret is Fernet-encrypted at rest
 * with the configured keys (MultiFernet: the first key encrypts, all keys
 * decrypt), compatible with Python's cryptography and Airflow's fernet_key.
 *
 * A record that none of this store's keys decrypts is quarantined for this
 * handle: get and list show it with "state": "quarantined", and every use of
 * its secrets fails with AMC_E_CRYPTO naming the credential id. Quarantine
 * is never written to the store: reading (amc_store_new, get, list) never
 * writes, and a handle never changes a record it cannot decrypt (except a
 * put that brings a new refresh_token), so processes with different key
 * lists can share one file during a rolling key change, and adding the old
 * key back shows the record as it always was.
 *
 * A record that cannot be read at all (a field of the wrong type, a time
 * out of range, e.g. after a hand edit) is set aside on its own: get and
 * list show it with "state": "damaged" and "last_error" naming the field,
 * a use of its secrets fails with AMC_E_STORE naming the credential id, the
 * other credentials keep working, and a put with client_id and
 * refresh_token replaces it. The store never writes what it cannot read
 * back: every record and the whole file are read back before the file is
 * replaced.
 * ------------------------------------------------------------------------ */
typedef struct amc_store amc_store;

/* Opens a store. config_json (may be NULL or "{}" for all defaults):
 *   {
 *     "kind": "file" | "memory",       default "file"
 *     "path": "/var/lib/x/amc.json",   file store only; default
 *                                      $XDG_STATE_HOME/amc/credentials.json or
 *                                      ~/.local/state/amc/credentials.json
 *     "fernet_keys": "k1,k2",          comma-separated, first = primary;
 *                                      default: the environment variable
 *                                      named by fernet_keys_env
 *     "fernet_keys_env": "AMC_FERNET_KEYS"   default "AMC_FERNET_KEYS"
 *   }
 * With no key configured the call fails with AMC_E_CONFIG: libamc never
 * generates a key and never stores plaintext.
 *
 * Example:
 *   amc_store *store = NULL;
 *   if (amc_store_new("{\"path\":\"/tmp/creds.json\"}", &store) != AMC_OK)
 *     fprintf(stderr, "%s\n", amc_last_error());
 *   ...
 *   amc_store_free(store);
 */
AMC_API amc_status amc_store_new(const char *config_json, amc_store **out_store);

/* Closes a store. amc_store_free(NULL) does nothing. */
AMC_API void amc_store_free(amc_store *store);

/* Creates or updates one credential. credential_json:
 *   {
 *     "credential_id": "airflow_conn_1",   required; 1-256 printable chars
 *     "client_id": "amzn1.application-oa2-client.…",  required when new
 *     "refresh_token": "Atzr|…",            required when new
 *     "access_token": "Atza|…",             optional
 *     "access_token_expires_at": "2026-11-28T16:00:00Z" (or Unix seconds),
 *                                            1970-01-01T00:00:00Z to
 *                                            9999-12-31T23:59:59Z, else
 *                                            AMC_E_INVALID_ARGUMENT
 *     "state": "active" | "needs-reauth"    optional, default "active"
 *   }
 * Fields left out keep their stored values; a missing refresh_token never
 * blanks the stored one. Putting a refresh_token into a quarantined record
 * re-authenticates it.
 *
 * Example:
 *   amc_store_put_credential(store,
 *     "{\"credential_id\":\"c1\",\"client_id\":\"amzn1.app\","
 *     "\"refresh_token\":\"Atzr|...\"}");
 */
AMC_API amc_status amc_store_put_credential(amc_store *store, const char *credential_json);

/* Reads one credential as JSON into *out_json (free with amc_free):
 *   {"credential_id", "client_id", "state", "has_refresh_token",
 *    "has_access_token", "access_token_expires_at", "created_at",
 *    "updated_at", "last_error"}
 * Secrets are left out unless options_json is {"include_secrets": true},
 * which adds "refresh_token" and "access_token". options_json may be NULL.
 * Fails with AMC_E_NOT_FOUND for an unknown id and, when secrets are asked
 * for, with AMC_E_CRYPTO for a quarantined record.
 *
 * Example:
 *   char *json = NULL;
 *   if (amc_store_get_credential(store, "c1", NULL, &json) == AMC_OK) {
 *     puts(json);
 *     amc_free(json);
 *   }
 */
AMC_API amc_status amc_store_get_credential(amc_store *store, const char *credential_id,
                                            const char *options_json, char **out_json);

/* Lists every credential, without secrets, as
 * {"credentials": [ <same objects as amc_store_get_credential> … ]}
 * sorted by credential id. */
AMC_API amc_status amc_store_list_credentials(amc_store *store, char **out_json);

/* Deletes one credential. AMC_E_NOT_FOUND if it does not exist. */
AMC_API amc_status amc_store_delete_credential(amc_store *store, const char *credential_id);

/* Re-encrypts every record with the first (primary) key, keeping each
 * token's original Fernet timestamp, like Airflow's rotate-fernet-key.
 * Records that no key decrypts are reported in "failed" and left exactly as
 * they are (another process may hold their key).
 * *out_report_json (free with amc_free):
 *   {"total": N, "rotated": N, "failed": [{"credential_id", "reason"}]}
 * Readers see either the old or the new file, never a mix: records stay
 * readable throughout as long as both keys are configured. */
AMC_API amc_status amc_store_rotate_keys(amc_store *store, char **out_report_json);

/* ---------------------------------------------------------------------------
 * Client
 *
 * A client holds a configuration, its own I/O thread(s), an HTTPS connection
 * pool, the credential store and the token cache. It is safe to use from
 * many threads at once; blocking calls block only the caller. A client
 * belongs to the process that created it: used in a forked child every call
 * fails with AMC_E_FORKED (create a new client there).
 * ------------------------------------------------------------------------ */
typedef struct amc_client amc_client;

/* Creates a client. config_json (every key optional):
 *   {
 *     "region": "na" | "eu" | "fe",                 default "na"
 *     "endpoints": {"amc": URL, "lwa_token": URL, "lwa_consent": URL},
 *                                                   defaults: the region's
 *            A plain http:// URL whose host is not loopback (127.0.0.0/8,
 *            ::1, localhost) sends tokens unencrypted: accepted, but never
 *            silently, like verify_peer false below (a WARNING at creation).
 *     "lwa": {"client_id": "...", "client_secret": "..."}
 *            or {"client_id_env": "VAR", "client_secret_env": "VAR"},
 *     "store": { see amc_store_new },
 *     "tls": {"verify_peer": true, "ca_file": PATH, "ca_directory": PATH},
 *                                                   see (1)
 *     "timeouts": {"connect_ms", "handshake_ms", "read_headers_ms", ...},
 *     "retry": {"max_attempts": 5, "base_delay_ms": 500, "max_total_ms": 180000},
 *                                                   see (2)
 *     "rate_limit": {"requests_per_second": 10, "burst": 10},
 *     "proxy": {"https_proxy": "http://host:port", "no_proxy": "..."},
 *     "tokens": {"advisory_window_s": 300, "mandatory_window_s": 60,
 *                "store_recheck_ms": 1000},         see (3)
 *     "refresh_service": {"enabled": false, "lead_time_s": 600, "interval_s": 60},
 *                                                   see (3)
 *     "io_threads": 1,
 *     "journal_retention_days": 30   how long amc_execution_submit remembers
 *                                    an execution_id (see there)
 *   }
 * Durations (*_ms, *_s) are at most one year; a number past its field's
 * range is AMC_E_INVALID_ARGUMENT naming the field.
 *
 * (1) tls.verify_peer false turns off certificate and host-name checks:
 * any server is trusted, so anyone on the network path can read and change
 * the traffic, tokens included. For local test servers only (trust a
 * private CA with ca_file instead). It is never silent: the client logs a
 * WARNING when it is created (delivered to the first log callback set with
 * amc_client_set_log, at AMC_LOG_WARNING or below), and amc_client_metrics
 * shows "http": {"tls": {"verify_peer": false}}.
 *
 * (2) retry.max_total_ms bounds the retries of one HTTP request: no
 * backoff, Retry-After wait, or rate-limiter wait before the retry of a 429
 * or 5xx answer, is started that would end past it (from the request's
 * start), even within a longer call timeout; the last answer then comes
 * back (a 429: AMC_E_THROTTLED) or the last failure, its message naming
 * "retry.max_total_ms (N ms) reached". Not bounded by it (the call's
 * timeout bounds those): an attempt under way, the rate-limiter wait before
 * a first attempt, and result downloads.
 * retry.max_retry_after_ms (default 60000, at least 1) caps what any
 * Retry-After can impose (issue 23 kind 2): a 429 or 5xx whose Retry-After
 * asks for longer (a day, an HTTP-date decades away) is taken as asking for
 * this long, with a WARNING log line naming the operation, the wait asked
 * for and the cap, and amc_client_metrics' "http": {"retry_after_capped"}
 * counts it. The cap applies once, where every reply arrives, so all that
 * honours Retry-After sees the capped wait: the retries of a request, the
 * "retry_after_ms" of an AMC_E_THROTTLED error, amc_execution_wait's next
 * read and the poller's pause of its reads (see amc_poller_new). No wait
 * passes the call's timeout either. The client-side rate limiter, which
 * halves its rate on a 429, is back to "rate_limit"'s requests_per_second
 * at the latest retry.max_retry_after_ms after the last 429.
 *
 * (3) tokens: the windows are seconds before expiry; for a token whose
 * lifetime (LwA's expires_in) is shorter, the advisory window shrinks to
 * half and the mandatory one to a quarter of that lifetime, so a
 * short-lived token is not refreshed before every call; refresh_service's
 * lead_time_s shrinks to half a shorter token lifetime too.
 * store_recheck_ms (0 to 60000): an access token read from the store
 * outside its advisory window is reused from memory for this long before
 * the store is read again (0: read it for every request). Writes through
 * this client's store are seen at once. Writes by anyone else (another
 * process, or another client or amc_store handle in this process: a
 * refresh, a removal, a re-authorisation, possibly by another Amazon user)
 * are seen within this time; until then the old token, still valid at LwA,
 * is used.
 * Token lifetimes: LwA's expires_in is read as whole seconds (a JSON number
 * or a string of digits); missing means 3600. Above one day (86400 s) it is
 * cut to one day with a WARNING log line naming the credential (AMC
 * answering 401 earlier still gets its one refresh); below 1 s, or of any
 * other type, the refresh fails with AMC_E_PROTOCOL and nothing is stored.
 *
 * Example:
 *   amc_client *client = NULL;
 *   const char *config = "{\"lwa\": {\"client_id_env\": \"AMC_CLIENT_ID\","
 *                        " \"client_secret_env\": \"AMC_CLIENT_SECRET\"}}";
 *   if (amc_client_new(config, &client) != AMC_OK)
 *     fprintf(stderr, "%s\n", amc_last_error());
 */
AMC_API amc_status amc_client_new(const char *config_json, amc_client **out_client);

/* Stops the client's threads and frees it. amc_client_free(NULL) does
 * nothing. When it returns, no callback of the client (log or progress) is
 * running or can run again. Call it only when no other call on the client
 * is in progress. */
AMC_API void amc_client_free(amc_client *client);

/* ---------------------------------------------------------------------------
 * Host store: the credential store's document kept by the host
 *
 * Instead of a file, the host keeps the store's one JSON document and its
 * locks, e.g. in a key-value service that all its processes share (the
 * Airflow provider uses an Airflow Variable), so that processes on several
 * machines share one access token per credential and refresh it once
 * between them. The document is the same sealed JSON a file store holds
 * (credentials and the execution journal, secrets encrypted with the
 * store's Fernet keys): the host never sees a token in clear.
 *
 * Versioned by its size: set `size` to sizeof(amc_store_callbacks); later
 * versions only add members at the end, and a library older than the header
 * refuses (AMC_E_INVALID_ARGUMENT) a larger struct whose unknown members are
 * not all zero. The library reads `size` bytes: a `size` larger than the
 * struct the caller really has cannot be detected (the bytes after it are
 * read as they are, and may make the call fail or not), so always set it
 * with sizeof.
 *
 * Each callback gets `user`, may run on any thread, several at once (host
 * threads inside blocking calls and the client's I/O threads), and blocks
 * the thread it runs on: keep it short. It must not call the same client.
 * A callback's failure (a non-zero return) fails the operation that needed
 * the store with AMC_E_STORE and changes nothing stored.
 * ------------------------------------------------------------------------ */
/* Hands the document's text to libamc inside a read callback. */
typedef void (*amc_store_put_text)(void *sink, const char *text);

typedef struct amc_store_callbacks {
  size_t size;
  void *user;
  /* Reads the document: calls put(sink, text) once with its JSON text (UTF-8,
   * NUL-terminated; copied during the call), or not at all when nothing is
   * stored yet. Returns 0, or non-zero on failure. The text gets a store
   * file's limits: a JSON object nested at most 128 levels, at most 64 MiB;
   * anything else fails the operation with AMC_E_STORE and is not written
   * over. */
  int (*read)(void *user, amc_store_put_text put, void *sink);
  /* Replaces the whole document with document_json. Returns 0, or non-zero
   * on failure (then the stored document must be the old one). */
  int (*write)(void *user, const char *document_json);
  /* Takes the named lock, shared by every process using the document,
   * without waiting: 1 taken, 0 held by someone else, negative on failure.
   * Names: "document" (held around every read-modify-write: libamc retries
   * every 10 ms for up to 10 s, then fails with AMC_E_STORE; inside a call
   * with a timeout_ms, at most until its deadline: AMC_E_TIMEOUT) and
   * "refresh:<credential id>" (held while one process refreshes that
   * credential's access token; the others wait, then read its token). A
   * lock should expire on its own after some seconds, so that a process
   * that died holding it does not block the others for ever. */
  int (*try_lock)(void *user, const char *name);
  /* Releases a lock try_lock took. */
  void (*unlock)(void *user, const char *name);
  /* May be NULL. Runs exactly once: when amc_client_free frees the client,
   * or before amc_client_new_with_store returns an error (except when
   * callbacks is NULL or `size` is too small to hold this member). */
  void (*destroy_user)(void *user);
} amc_store_callbacks;

/* Creates a client like amc_client_new whose credential store lives in the
 * host (see above). The config's "store" may give "fernet_keys" or
 * "fernet_keys_env" (needed as for any store) and "kind": "host" or nothing;
 * a "path" or another kind is AMC_E_CONFIG. read, write, try_lock and unlock
 * must not be NULL (AMC_E_INVALID_ARGUMENT). libamc keeps the callbacks'
 * values (not the struct) until the client is freed.
 * Errors: those of amc_client_new; AMC_E_STORE when the first read fails.
 * Example:
 *   amc_store_callbacks host = {sizeof host, &my_kv, kv_read, kv_write,
 *                               kv_try_lock, kv_unlock, NULL};
 *   amc_client *client = NULL;
 *   amc_client_new_with_store("{\"lwa\": ..., \"store\": {\"fernet_keys_env\": \"K\"}}",
 *                             &host, &client);
 */
AMC_API amc_status amc_client_new_with_store(const char *config_json,
                                             const amc_store_callbacks *callbacks,
                                             amc_client **out_client);

/* Log levels for amc_log_callback. */
#define AMC_LOG_DEBUG 10
#define AMC_LOG_INFO 20
#define AMC_LOG_WARNING 30
#define AMC_LOG_ERROR 40

/* Receives log lines (secrets already redacted) on a library thread, or on
 * the thread of a blocking call; must return quickly and must not call
 * blocking functions of the same client. Calls may overlap when several
 * threads log at once. Among them: each HTTP retry, backoff and throttle
 * wait (AMC_LOG_INFO) and rate-limit wait or reconnect (AMC_LOG_DEBUG),
 * each starting with the request's operation ("get_execution: ...");
 * docs/python.md#logging lists the lines by level. */
typedef void (*amc_log_callback)(int level, const char *message, void *user);

/* Sets (or, with NULL, removes) the log callback; lines below min_level are
 * not produced. Lifetime: when this returns, the callback it replaced (or
 * removed) is not running and will never be called again, so `user` of the
 * old callback may be freed at once. It waits for calls of the old callback
 * in progress to return; called from inside the log callback itself, it
 * waits for all but that one. */
AMC_API amc_status amc_client_set_log(amc_client *client, amc_log_callback callback, void *user,
                                      int min_level);

/* Counters as JSON: {"http": {...requests, retries by cause, throttles...,
 * "tls": {"verify_peer": true|false}}, "tokens": {"refreshes",
 * "refresh_failures", ...}}. "verify_peer" false means the client was made
 * with TLS verification off (see amc_client_new). No secrets. */
AMC_API amc_status amc_client_metrics(amc_client *client, char **out_json);

/* ---------------------------------------------------------------------------
 * Authentication (Login with Amazon)
 * ------------------------------------------------------------------------ */

/* The consent page URL to open in a browser. request_json:
 *   {"redirect_uri": "https://example.com/cb", "state": "opaque",
 *    "scope": "advertising::campaign_management"}   (scope: default shown)
 * Example:
 *   char *url = NULL;
 *   amc_auth_consent_url(client, "{\"redirect_uri\": \"https://example.com/cb\"}", &url);
 */
AMC_API amc_status amc_auth_consent_url(amc_client *client, const char *request_json,
                                        char **out_url);

/* Exchanges the code from the consent redirect for tokens and stores them.
 * Example:
 *   amc_auth_exchange_code(client, "{\"credential_id\": \"c\", \"code\": \"ANxyz\","
 *                          " \"redirect_uri\": \"https://example.com/cb\"}", &status);
 * request_json: {"credential_id": "...", "code": "...", "redirect_uri": "...",
 *                "timeout_ms": 60000}
 * timeout_ms: optional, the call's deadline as for the AMC calls below
 * (default 120000, 1 to 2592000000). *out_status_json: as amc_auth_status. */
AMC_API amc_status amc_auth_exchange_code(amc_client *client, const char *request_json,
                                          char **out_status_json);

/* Example: amc_auth_import(client, "{\"credential_id\": \"c\", \"refresh_token\": \"Atzr|...\"}");
 * Adds or replaces a credential from a refresh token obtained elsewhere.
 * credential_json: {"credential_id": "...", "refresh_token": "..."}; the
 * client's LwA client id is recorded with it. */
AMC_API amc_status amc_auth_import(amc_client *client, const char *credential_json);

/* Example: amc_auth_refresh(client, "c", NULL, &status);
 * Refreshes the credential's access token now (one request even when many
 * threads or processes ask at once). request_json may be NULL or
 * {"timeout_ms": N} (as for amc_auth_exchange_code). *out_status_json: as
 * amc_auth_status.
 * AMC_E_AUTH_REQUIRED when LwA refuses the grant (the credential is then
 * "needs-reauth"), AMC_E_CONFIG when it refuses the client. */
AMC_API amc_status amc_auth_refresh(amc_client *client, const char *credential_id,
                                    const char *request_json, char **out_status_json);

/* Example: amc_auth_status(client, "c", &status);
 * The credential's state without secrets:
 *   {"credential_id", "client_id", "state", "has_refresh_token",
 *    "has_access_token", "access_token_expires_at", "last_error", ...} */
AMC_API amc_status amc_auth_status(amc_client *client, const char *credential_id,
                                   char **out_status_json);

/* ---------------------------------------------------------------------------
 * AMC: discovery, workflows, executions, results
 *
 * Every request below is a JSON object with the credential to act as and,
 * for instance-level calls, the instance:
 *   {
 *     "credential_id": "airflow_amc_default",
 *     "instance": {"instance_id": "amcXXXXXXXX",
 *                  "advertiser_id": "ENTITY…",      the AMC account's entity id
 *                  "marketplace_id": "ATVPDKIKX0DER"},
 *     "timeout_ms": 120000                          optional: the call's deadline
 *                                                   (see "Deadlines" at the top),
 *                                                   1 to 2592000000 (30 days)
 *   }
 * Requests are decoded strictly and checked once, before any HTTP request:
 * an unknown field, a field of the wrong JSON type, a number out of its
 * range or a required field left out fails with AMC_E_INVALID_ARGUMENT and
 * a message naming the field by its path ("instance.advertiser_id",
 * "request.timeWindowType") and what it must be. Inside AMC's own objects
 * ("workflow", "request", "filters") the fields named here are type-checked
 * and the others passed to AMC as they are ("filters" takes only the fields
 * listed at amc_execution_list).
 * The advertiser id is checked before any request: a numeric Ads profile id
 * is refused with AMC_E_INVALID_ARGUMENT and a pointer to amc_accounts_list.
 * AMC objects keep AMC's field names (workflowId, sqlQuery,
 * timeWindowType, …) and are returned flat, whichever shape AMC used.
 * ------------------------------------------------------------------------ */

/* {"accounts": [{"accountId", "accountName", "marketplaceId"}, …]}, all
 * pages. Request: {"credential_id"}. */
/* Example:
 *   char *json = NULL;
 *   if (amc_accounts_list(client, "{\"credential_id\": \"c\"}", &json) == AMC_OK) {
 *     puts(json);   (use an accountId as advertiser_id below)
 *     amc_free(json);
 *   }
 */
AMC_API amc_status amc_accounts_list(amc_client *client, const char *request_json, char **out_json);

/* {"instances": [...]}, all pages. Request: {"credential_id",
 * "advertiser_id", "marketplace_id"}. */
/* Example:
 *   amc_instances_list(client, "{\"credential_id\": \"c\", \"advertiser_id\": \"ENTITY1AA1\","
 *                      " \"marketplace_id\": \"ATVPDKIKX0DER\"}", &json);
 */
AMC_API amc_status amc_instances_list(amc_client *client, const char *request_json, char **out_json);

/* Workflows. Requests carry "workflow" (AMC's Workflow object) for
 * create/update/sync, or "workflow_id" for get/delete. Its "outputFormat"
 * is AMC's CSV dialect object {"separatorCharacter", "quoteCharacter",
 * "escapeCharacter"} (a string there is AMC_E_INVALID_ARGUMENT).
 *
 * Workflow ids are checked before any request (AMC_E_INVALID_ARGUMENT) and
 * never truncated: AMC's charset (letters, digits, '.', '-', '_'), at most
 * 128 characters, and not ending in a UUID cut short, such as
 * "wf_e27c2385_b1ed_4bcf_a". Cut short means the id ends with a strict
 * prefix of 8-4-4-4-12 hex digits joined by '-' or '_', starting at the
 * id's start or after '_', '-' or '.', reaching at least two digits into
 * the second group, with a letter a-f in the first group. So
 * "wf_e27c2385_b1ed_4b" and "wf_e27c2385_b1ed_4bcf_a1b2" are refused, while
 * a whole UUID, "sales_20240131_2024_0131" (no letter: a date) and
 * "wf_daily_3f0c1a2b_2" (one digit: too little to tell) are accepted.
 *
 * Example (sync: create, or update when it differs, or leave it):
 *   {"credential_id": "c", "instance": {...},
 *    "workflow": {"workflowId": "wf_daily", "sqlQuery": "SELECT …"}}
 *   → {"action": "created" | "updated" | "unchanged", "workflow": {...}}
 * Sync compares only the fields the given workflow sets (sqlQuery,
 * inputParameters, outputColumns, outputFormat,
 * filteredMetricsDiscriminatorColumn, distinctUserCountColumn,
 * filteredReasonColumn, privacyFilteringBehavior), and within objects only
 * the keys it sets, so defaults AMC fills in do not count as a difference.
 * The update it sends is the whole given workflow (AMC's PUT): to remove a
 * field AMC holds, set it to its empty or default value, or call
 * amc_workflow_update.
 */

/* Creates a workflow; AMC_E_CONFLICT when the id exists. → the workflow.
 * Example:
 *   amc_workflow_create(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"workflow\": {\"workflowId\": \"wf_daily\", \"sqlQuery\": \"SELECT 1\"}}", &json);
 * (INSTANCE stands for {\"instance_id\": \"amc123\", \"advertiser_id\": \"ENTITY1AA1\", \"marketplace_id\": \"ATVPDKIKX0DER\"}) */
AMC_API amc_status amc_workflow_create(amc_client *client, const char *request_json, char **out_json);

/* Example: amc_workflow_get(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                   " \"workflow_id\": \"wf_daily\"}", &json); */
AMC_API amc_status amc_workflow_get(amc_client *client, const char *request_json, char **out_json);

/* → {"workflows": [...]}, all pages.
 * Example: amc_workflow_list(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE}", &json); */
AMC_API amc_status amc_workflow_list(amc_client *client, const char *request_json, char **out_json);

/* Replaces the whole definition (AMC's PUT); AMC_E_NOT_FOUND when no
 * workflow has the id. → the workflow.
 * Example: as amc_workflow_create, with the changed "workflow". */
AMC_API amc_status amc_workflow_update(amc_client *client, const char *request_json, char **out_json);

/* → {}. AMC refuses while a schedule uses the workflow: AMC_E_CONFLICT,
 * naming the schedule (see "Schedules" below).
 * Example: amc_workflow_delete(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                      " \"workflow_id\": \"wf_daily\"}", &json); */
AMC_API amc_status amc_workflow_delete(amc_client *client, const char *request_json, char **out_json);

/* Example: see the top of this section. */
AMC_API amc_status amc_workflow_sync(amc_client *client, const char *request_json, char **out_json);

/* A valid AMC workflow id derived from a human name, deterministically:
 * "wf_" + the name's letters and digits in lower case with other runs
 * folded to "_", plus "_" and 8 hex characters of the name's SHA-256
 * unless the name was kept exactly as it is. It is kept only when folding
 * changed nothing, "wf_" + name fits 128 characters, and it neither ends
 * in "_" + 8 hex (the look of a hash suffix) nor in a UUID cut short; a
 * longer name is shortened before the hash is added (the hash covers the
 * whole name), and a name ending in four whole UUID groups gets "_x"
 * before the hash. So two names never give one id (unless their SHA-256
 * share the first 32 bits), and "foo_<hash of Foo>" does not take Foo's id.
 * Examples: "daily_sales" → "wf_daily_sales";
 * "Daily Sales (EU)" → "wf_daily_sales_eu_3f0c…". */
/* Example:
 *   char *id = NULL;
 *   amc_workflow_id_from_name("Daily Sales (EU)", &id);  ...  amc_free(id);
 */
AMC_API amc_status amc_workflow_id_from_name(const char *name, char **out_workflow_id);

/* Schedules (since 1.2): AMC runs a saved workflow on its own, daily or
 * weekly. They follow the createSchedule, getSchedule, listSchedules,
 * updateSchedule and deleteSchedule operations of Amazon's
 * workflow-management spec (tests/data/specs/amc-workflow-management.openapi.json).
 * Requests carry "schedule" (AMC's Schedule object) for create/update, or
 * "schedule_id" for get/delete; every answer is AMC's Schedule, flat
 * (AMC's {"schedule": {...}} is unwrapped), with AMC's own field names:
 *   {"scheduleId": "daily_sales",         required: the schedule's id, chosen
 *                                         by you (no '/', space, '?', '#';
 *                                         at most 128 bytes)
 *    "workflowId": "wf_daily",            required: the saved workflow it runs
 *    "aggregationPeriod": "Daily",        "Daily" or "Weekly" (a string)
 *    "aggregationHourUtc": 6,             the hour (UTC) of the runs: a whole
 *                                         number of hours, 0 to 23
 *    "aggregationStartDay": "Monday",     Weekly: the day of the runs (AMC's
 *                                         default: the day the schedule was made)
 *    "scheduleEnabled": true,             false: AMC runs nothing
 *    "requireSyntheticData": false, "disableAggregationControls": false}
 * Those fields are type-checked before any request (AMC_E_INVALID_ARGUMENT
 * naming "schedule.FIELD"); other fields go to AMC as they are. A run AMC
 * starts this way is an execution of the workflow in amc_execution_list
 * (filters {"workflowId"}), like one you submitted.
 * Errors: AMC_E_NOT_FOUND (no such schedule; for create, AMC's 422 for a
 * workflow it does not have is AMC_E_INVALID_ARGUMENT), AMC_E_CONFLICT (create:
 * the id exists), and the network, auth and throttling codes of every call.
 *
 * A workflow that a schedule still runs cannot be deleted: amc_workflow_delete
 * then fails with AMC_E_CONFLICT and a message naming each such schedule and
 * what to do (delete it, or update it to another workflow, first). */

/* Creates a schedule (AMC's POST, then a read). → the schedule.
 * Example:
 *   amc_schedule_create(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"schedule\": {\"scheduleId\": \"daily_sales\", \"workflowId\": \"wf_daily\","
 *       " \"aggregationPeriod\": \"Daily\", \"aggregationHourUtc\": 6}}", &json); */
AMC_API amc_status amc_schedule_create(amc_client *client, const char *request_json, char **out_json);

/* → the schedule. Example: amc_schedule_get(client, "{\"credential_id\": \"c\","
 *                           " \"instance\": INSTANCE, \"schedule_id\": \"daily_sales\"}", &json); */
AMC_API amc_status amc_schedule_get(amc_client *client, const char *request_json, char **out_json);

/* → {"schedules": [...]}, all pages (AMC's nextToken followed to the end,
 * at most 100 a page).
 * Example: amc_schedule_list(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE}", &json); */
AMC_API amc_status amc_schedule_list(amc_client *client, const char *request_json, char **out_json);

/* Replaces the whole schedule (AMC's PUT to its scheduleId): give every
 * field you want it to keep. AMC_E_NOT_FOUND when no schedule has the id.
 * → the schedule. Example: as amc_schedule_create, with the changed "schedule". */
AMC_API amc_status amc_schedule_update(amc_client *client, const char *request_json, char **out_json);

/* → {}. Runs AMC started before stay. AMC_E_NOT_FOUND when no schedule has
 * the id. Example: amc_schedule_delete(client, "{\"credential_id\": \"c\","
 *                  " \"instance\": INSTANCE, \"schedule_id\": \"daily_sales\"}", &json); */
AMC_API amc_status amc_schedule_delete(amc_client *client, const char *request_json, char **out_json);

/* Executions. Every execution object libamc hands out (amc_execution_get,
 * amc_execution_cancel, amc_execution_wait and its "status" progress events,
 * each of amc_execution_list's "executions", amc_execution_submit's
 * "execution", the poller's events, and "execution" in
 * amc_last_error_json()) is AMC's flat execution plus two fields of libamc's:
 *   "terminal": true   SUCCEEDED, FAILED, CANCELLED, REJECTED: it is over
 *   "terminal": false  PENDING, RUNNING, PUBLISHING, no status yet, or a
 *                      status AMC may add one day (never ends a wait early)
 *   "phase": "pending" | "running" | "publishing" | "succeeded" | "failed" |
 *            "cancelled" | "rejected" | "unknown"   AMC's "status" typed by
 *            libamc; "unknown": no status, or one this libamc does not know
 *            (AMC's own text stays in "status")
 * Hosts read "terminal" and "phase" instead of keeping their own list of
 * statuses. The statuses are those of the workflow execution's "status" in
 * AMC's workflow-management spec, plus REJECTED and PUBLISHING, which AMC
 * also answers (seen in Amazon's own AMC tooling). */

/* Submits an execution, idempotently. Request:
 *   {"credential_id", "instance",
 *    "execution_id": "exec_1a2b3c4d",   optional: the idempotency key; default
 *                                       a new "exec_" + 8 hex
 *    "request": {AMC's CreateWorkflowExecutionRequest: "workflowId" or
 *                "workflow": {"sqlQuery"}, "timeWindowType",
 *                "timeWindowStart", "timeWindowEnd", "timeWindowTimeZone",
 *                "parameterValues", "workflowExecutionTimeoutSeconds",
 *                "dryRun", …}}
 * → {"execution_id", "amc_execution_id", "reattached": bool,
 *    "execution": {...}}
 * The execution id is journaled in the store with AMC's id before this
 * returns. Submitting the same execution_id again returns the same AMC
 * execution ("reattached": true) instead of starting a second run.
 * A create request whose outcome is unknown (its answer was lost, or the
 * process sending it was killed) is resolved by the next submit of the same
 * execution_id, at once and by itself: AMC's list of the workflow's
 * executions is searched now and again every 5 s (the list may lag); the
 * call re-attaches as soon as the execution shows up, and sends the create
 * again only when a search that started 30 s after the creation window
 * closed still does not show it (the window closes when the lost request
 * failed, or, for an attempt of another process, 300 s after it was sent:
 * longer than any create request can be in flight). If "timeout_ms" ends
 * first: AMC_E_TIMEOUT, nothing sent, and the message says from when a
 * submit can decide. Two processes never send the create for one
 * execution_id at the same time. The journal remembers an execution_id for the client's
 * "journal_retention_days" (default 30) after its last create request;
 * older entries are dropped at the next submit, and an id reused after
 * that starts a new run.
 * An ad-hoc run AMC refuses (HTTP 400/422, or an execution it creates
 * REJECTED) when the instance's ad-hoc runs of the UTC day have reached
 * AMC's 30 (counted as amc_adhoc_quota counts them) fails with
 * AMC_E_ADHOC_QUOTA (since 1.2); nothing is journaled for it. */
/* Example:
 *   amc_execution_submit(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"execution_id\": \"exec_8698d9a2\", \"request\": {\"workflowId\": \"wf_daily\","
 *       " \"timeWindowType\": \"MOST_RECENT_WEEK\"}}", &json);
 */
AMC_API amc_status amc_execution_submit(amc_client *client, const char *request_json, char **out_json);

/* Requests name the execution by "amc_execution_id" or by the journaled
 * "execution_id" (exactly one of them). → the flat execution. */
/* Example: amc_execution_get(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                    " \"execution_id\": \"exec_8698d9a2\"}", &json); */
AMC_API amc_status amc_execution_get(amc_client *client, const char *request_json, char **out_json);

/* Request: {"credential_id", "instance", "filters": {"minCreationTime" or
 * "workflowId" (one is required), "maxCreationTime", "includeCancelled",
 * "sortAscending", "timeZone" (strings and booleans), "limit" (page size,
 * 1-1000)}} → {"executions": [...]}, all pages. */
/* Example: amc_execution_list(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                     " \"filters\": {\"workflowId\": \"wf_daily\"}}", &json); */
AMC_API amc_status amc_execution_list(amc_client *client, const char *request_json, char **out_json);

/* Cancels a PENDING or RUNNING execution; AMC_E_CONFLICT when it has
 * already finished. → the execution as AMC reports it afterwards. */
/* Example: amc_execution_cancel(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                       " \"execution_id\": \"exec_8698d9a2\"}", &json); */
AMC_API amc_status amc_execution_cancel(amc_client *client, const char *request_json, char **out_json);

/* A handle another thread uses to stop a wait. */
typedef struct amc_cancel_token amc_cancel_token;
AMC_API amc_status amc_cancel_token_new(amc_cancel_token **out_token);
/* Makes the wait using this token return AMC_E_CANCELLED soon. Safe from any
 * thread, any number of times. */
AMC_API void amc_cancel_token_cancel(amc_cancel_token *token);
/* amc_cancel_token_free(NULL) does nothing. Free only after the wait that
 * uses it has returned. */
AMC_API void amc_cancel_token_free(amc_cancel_token *token);

/* Progress events as JSON, on a library thread; must return quickly and
 * must not call blocking functions of the same client. Lifetime: a progress
 * callback runs only while the call it was given to (amc_execution_wait,
 * amc_results_download) is running; it is not running when that call
 * returns, whatever the outcome (success, failure, timeout, cancel), and is
 * never called afterwards, so `user` may be freed at once. Calls of one
 * callback never overlap. Events:
 *   {"event": "status", "execution": {...}, "next_poll_ms": N}
 *   {"event": "download", "part": i, "parts": n, "bytes": b, "total_bytes": t}
 */
typedef void (*amc_progress_callback)(const char *event_json, void *user);

/* Waits until the execution is SUCCEEDED, FAILED, CANCELLED or REJECTED.
 * Request: as amc_execution_get plus "timeout_ms" (default 24 h),
 * "first_poll_ms" (5000, doubling up to) "max_poll_ms" (60000), both
 * 1 to 86400000 with max_poll_ms >= first_poll_ms.
 * cancel, progress and user may be NULL.
 * → the final execution for SUCCEEDED. For FAILED, CANCELLED and REJECTED
 * the call fails with AMC_E_EXECUTION_FAILED, AMC's reason in the message
 * and the execution in amc_last_error_json() under "execution".
 * AMC_E_TIMEOUT when the timeout passes first (the execution keeps running).
 * The timeout is a deadline for the whole wait: every status read gets only
 * what is left of it, and no sleep between reads goes past it. A read that
 * AMC throttles (HTTP 429) does not end the wait; it is read again after
 * AMC's Retry-After (or the poll interval, whichever is longer), but only
 * within the deadline. So with timeout_ms 8000 and every read throttled,
 * with or without Retry-After, the call returns AMC_E_TIMEOUT after about
 * 8 s, its message saying "8000 ms" and how many status reads AMC throttled
 * ("every one throttled, 3 of 3", "2 of the 5"); amc_last_error_json() has them as
 * "status_reads" and "throttled_reads".
 * AMC_E_CANCELLED soon after amc_cancel_token_cancel(cancel). */
/* Example (another thread may call amc_cancel_token_cancel(token)):
 *   amc_cancel_token *token = NULL;
 *   amc_cancel_token_new(&token);
 *   amc_status status = amc_execution_wait(client, "{\"credential_id\": \"c\", \"instance\":"
 *       " INSTANCE, \"execution_id\": \"exec_8698d9a2\", \"timeout_ms\": 3600000}",
 *       token, on_progress, NULL, &json);
 *   amc_cancel_token_free(token);
 */
AMC_API amc_status amc_execution_wait(amc_client *client, const char *request_json,
                                      amc_cancel_token *cancel, amc_progress_callback progress,
                                      void *user, char **out_json);

/* Downloads every result part of a SUCCEEDED execution into a directory,
 * in parallel, streamed to files (memory stays bounded whatever the size),
 * each checked complete (length and CSV header); URLs that have expired
 * are requested again. Request: as amc_execution_get plus
 *   "directory": "/path/to/dir"   created if missing; files are
 *                                 part-1.csv, part-2.csv, …
 *   "parallelism": 4              parts downloaded at once (1-16)
 *   "timeout_ms": 7200000         default 2 h for the whole download
 * → manifest {"amc_execution_id", "directory",
 *             "files": [{"part", "path", "bytes", "rows", "columns": [...]}],
 *             "total_bytes", "total_rows", "warnings": ["…"],
 *             "output_format": {"separatorCharacter", "quoteCharacter",
 *                               "escapeCharacter"}}
 * Each file is checked and its "columns" and "rows" counted in the CSV
 * dialect of the workflow that produced it (Workflow.outputFormat, shown
 * in "output_format"): an ad-hoc run's own (journaled by
 * amc_execution_submit), an outputFormat AMC reports with the execution,
 * else the saved workflow's (fetched), else AMC's defaults ',', '"', '\'.
 * Quoted fields may hold separators and line breaks.
 * A manifest never holds one result file twice: when AMC's downloadUrls
 * lists the same file more than once (URLs compared without their query
 * string, which only carries the signature), it is downloaded once and
 * each duplicate is dropped with a line in "warnings" (empty otherwise).
 * progress (may be NULL) receives "download" events. */
/* Example:
 *   amc_results_download(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"execution_id\": \"exec_8698d9a2\", \"directory\": \"/data/out\"}",
 *       on_progress, NULL, &manifest);
 */
AMC_API amc_status amc_results_download(amc_client *client, const char *request_json,
                                        amc_progress_callback progress, void *user,
                                        char **out_manifest_json);

/* ---------------------------------------------------------------------------
 * AMC: data sources (the tables SQL can read), the pre-flight check and the
 * ad-hoc quota (since 1.2: check amc_version_number() >= 10200)
 *
 * Requests are instance-level, as above. Data sources keep AMC's DataSource
 * fields (Amazon's workflow-management spec, operations listDataSources and
 * getDataSource): "dataSourceId" (the table name SQL uses), "description",
 * "owner", "provider", "tags", "outputChannels" and "columns"
 * ([{"name", "columnType": "DIMENSION" | "METRIC", "description"}, …]).
 * ------------------------------------------------------------------------ */

/* Every data source of the instance, all pages (AMC pages the list 100 at
 * a time and gives "nextToken" until the last page). Request:
 *   {"credential_id", "instance", "timeout_ms",
 *    "filter": "dsp_"      optional: keep the sources whose dataSourceId
 *                          contains this text, ignoring case (AMC has no
 *                          filter: the whole list is read)}
 * → {"dataSources": [{AMC's DataSource}, …]} in AMC's order.
 * Example:
 *   amc_data_source_list(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE}", &json);
 */
AMC_API amc_status amc_data_source_list(amc_client *client, const char *request_json, char **out_json);

/* One data source with all of its columns. Request: {"credential_id",
 * "instance", "timeout_ms", "data_source_id": "dsp_impressions"} (the id is
 * checked as a URL path id). → AMC's DataSource, flat (AMC's
 * {"dataSource": {...}} is unwrapped). AMC's spec allows at most 500
 * columns in one reply; when a reply also carries "nextToken" (beside or
 * in the DataSource: a table with more columns), libamc asks for the next page
 * (?nextToken=…) and joins the "columns" of every page, in order (AMC does
 * not document how columns past 500 are paged: this is our reading,
 * docs/c-abi.md). AMC_E_NOT_FOUND for an id the instance does not have.
 * Example:
 *   amc_data_source_get(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                       " \"data_source_id\": \"dsp_impressions\"}", &json);
 */
AMC_API amc_status amc_data_source_get(amc_client *client, const char *request_json, char **out_json);

/* The pre-flight check: proves an execution request would compile, before
 * any quota is spent. Request: as amc_execution_submit without
 * "execution_id":
 *   {"credential_id", "instance", "timeout_ms",
 *    "request": {AMC's CreateWorkflowExecutionRequest: "workflowId" (a saved
 *                workflow, whose sqlQuery is read with getWorkflow) or
 *                "workflow": {"sqlQuery"}, plus the window and parameters}}
 * Two checks, both always made:
 *  1. the tables: every table the SQL reads (identifiers after FROM and
 *     JOIN, without the names of its own WITH queries; comments and string
 *     literals skipped) is looked up in the instance's data sources
 *     (amc_data_source_list); an unknown one is reported with the closest
 *     existing dataSourceId (fewest single-character edits, ignoring case);
 *  2. the compile: the request is sent to AMC with "dryRun": true, which
 *     AMC's spec says compiles the SQL "without consuming quotas or compute
 *     resources" and produces no output. AMC's refusal is reported with the
 *     line it names.
 * It never starts a run that counts toward the ad-hoc limit.
 * → {"valid": true, "tables": ["dsp_impressions", …], "unknown_tables": [],
 *    "compile_error": null, "dry_run": {the flat dry-run execution}}
 * A failed check is AMC_E_INVALID_ARGUMENT; its message names each unknown
 * table with the closest name ("table 'dsp_impresions' (line 3) is not a
 * data source of instance amc1; did you mean 'dsp_impressions'?") and AMC's
 * compile error with its line ("AMC could not compile the SQL at line 2:
 * …"), and amc_last_error_json() carries the same report under "preflight":
 *   {"valid": false, "tables": [...],
 *    "unknown_tables": [{"table", "line", "closest"}],   closest: null when
 *                                                        the instance has
 *                                                        no data sources
 *    "compile_error": {"message": "AMC's text", "line": 2} or null}
 * ("line" null when AMC names none). Other failures (network, auth, …) keep
 * their own codes.
 * Example:
 *   amc_workflow_validate(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"request\": {\"workflow\": {\"sqlQuery\": \"SELECT 1 FROM dsp_impressions\"}}}", &json);
 */
AMC_API amc_status amc_workflow_validate(amc_client *client, const char *request_json, char **out_json);

/* Today's ad-hoc runs of the instance, from AMC's own list
 * (listWorkflowExecutions with minCreationTime = today 00:00:00 UTC and
 * includeCancelled, every page). Request: {"credential_id", "instance",
 * "timeout_ms"}.
 * → {"instance_id", "adhoc_executions_today": 12, "adhoc_limit": 30,
 *    "adhoc_remaining": 18, "day_start": "2026-12-07T00:00:00Z",
 *    "resets_at": "2026-12-08T00:00:00Z"}
 * An execution counts when AMC lists it with "executionCategory": "AD_HOC"
 * (or, without that field, a "transient_…" workflowId: AMC's id for an
 * inline workflow) and it was not REJECTED. The limit of 30 per instance
 * per day is AMC's (workflow-management spec, createWorkflowExecution).
 * Example:
 *   amc_adhoc_quota(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE}", &json);
 */
AMC_API amc_status amc_adhoc_quota(amc_client *client, const char *request_json, char **out_json);

/* ---------------------------------------------------------------------------
 * Poller: many executions watched from one event loop
 *
 * A poller watches any number of executions (100,000 fit in a few tens of
 * megabytes) on its client's I/O thread(s): no thread, timer or request per
 * watch. It reads each execution on an adaptive schedule, refreshes several
 * executions of one instance with one paged list call (minCreationTime)
 * whenever that takes fewer requests than single reads, and reports every
 * status change, with exactly one final event per watch. There is no age
 * limit: a 30-hour run is watched to its end.
 *
 * The schedule (knobs of amc_poller_new, all optional; from src/poll/schedule.hpp):
 *   "first_interval_ms": 5000       first reads, and again after each change
 *   "max_interval_ms": 120000       an unchanged status makes the interval
 *   "growth": 1.5                   grow by this factor up to the maximum
 *   "jitter": 0.2                   each delay is interval x U(0.8, 1.2)
 *   "near_finish_interval_ms": 10000  used when the execution is about to
 *                                   finish: AMC says PUBLISHING, or it has run
 *                                   about as long as finished runs of the
 *                                   same workflow on the instance took
 *   "min_interval_ms": 1000         no execution is read more often
 *   "error_backoff_max_ms": 60000   after failed reads (network, 5xx, AMC
 *                                   down) the delay doubles up to this
 *   "max_in_flight": 32             reads at once (a GET or one paged list)
 *   "requests_per_second": 0        the poller's own ceiling; 0 = none. Every
 *                                   read also draws on the client's rate
 *                                   limiter ("rate_limit" of amc_client_new),
 *                                   the ceiling shared by all its requests
 *   "batching": true                allow list calls
 *   "list_page_size": 100           executions per list request (1-100)
 *   "batched_interval_ms": 5000     a watch refreshed by a list is read again
 *                                   within this (a list costs the same for 2
 *                                   executions or 100)
 *   "read_timeout_ms": 60000        deadline of one read (a GET, or a list
 *                                   with all its pages), retries and
 *                                   Retry-After waits included; reaching it
 *                                   is a failed read, and the watch goes on.
 *                                   A token refresh the read waits for is
 *                                   shared with other calls and keeps its
 *                                   own limits (the "retry" policy, and up
 *                                   to 30 s for another process's refresh)
 *   "list_max_pages": 10            a list read that needs more pages (AMC
 *                                   keeps handing out nextTokens: a new one
 *                                   each time; the same one again stops it
 *                                   at once) is given up ...
 *   "list_timeout_ms": 15000        ... as is one not done within this (or
 *                                   read_timeout_ms when shorter)
 *   "list_fallback_ms": 600000      after a list read was given up, its
 *                                   watches are read with single GETs at once
 *                                   and the instance's watches are not
 *                                   batched for this long; the poller logs
 *                                   why (WARNING, through amc_client_set_log)
 * At most one read of a watch is in flight. A 429 (after the client's own
 * retries) holds back every read of the poller for Retry-After (else
 * first_interval_ms), logged at INFO, and keeps the watch; no Retry-After
 * holds it longer than the client's retry.max_retry_after_ms (default 60 s,
 * see amc_client_new). Network failures, timeouts and 5xx keep the watch
 * too. A watch ends with an "error" event only when waiting cannot
 * help: 403, the credential needs re-authentication, an invalid request, or
 * three 404s in a row (the execution does not exist).
 *
 * Events (UTF-8 JSON):
 *   {"event": "status", "watch_id": N, "amc_execution_id": "...",
 *    "execution_id": "exec_..." (when the watch named one),
 *    "status": "RUNNING", "previous_status": "PENDING" (null at the first
 *    read), "terminal": false, "execution": {AMC's execution, flat}}
 *   {"event": "error", "watch_id", "amc_execution_id", "execution_id",
 *    "terminal": true, "error": {"code": amc_status value, "reason",
 *    "message"}}
 * An event comes on every status change (the first read counts as one).
 * Exactly one event per watch has "terminal": true (SUCCEEDED, FAILED,
 * CANCELLED, REJECTED, or a final error); it is the last one, and the watch
 * is over after it, unless the host unwatched first.
 *
 * Watching a workflow's runs (since 1.2): a watch request with "workflow_id"
 * instead of an execution watches a saved workflow, for the runs AMC starts
 * on its own (a schedule) and any other run of it. It reports every NEW
 * execution of the workflow, then each of that execution's status changes,
 * until amc_unwatch. It reads AMC's listWorkflowExecutions (workflowId and
 * minCreationTime, every page); when watches of single executions of the
 * same credential and instance are due too, one instance-wide list
 * (minCreationTime) refreshes them all together, so the workflow watch costs
 * no request of its own. It follows the schedule above (first_interval_ms
 * after a change, growing to max_interval_ms while nothing happens, so a new
 * run is seen within about max_interval_ms).
 *   New: an execution whose createTime (AMC's, UTC) is at or after "since";
 *   "since" left out is the time of amc_watch by this host's clock, so
 *   executions that existed before the watch started are NOT reported (nor
 *   their status changes). A host that restarts passes the createTime of
 *   the oldest run it had not finished with (or the time it stopped) as
 *   "since": every run from then on is reported again as new, finished ones
 *   included (with their final status), and the host skips those it handled.
 *   After that, new runs are looked for from up to an hour behind this
 *   host's clock: a run that AMC lists more than an hour after its
 *   createTime is not reported.
 *   Events, "terminal" being false unless the watch itself ends:
 *   {"event": "new_execution", "watch_id", "workflow_id", "amc_execution_id",
 *    "status", "previous_status": null, "terminal": false,
 *    "execution_terminal": true when the run has already ended,
 *    "execution": {AMC's execution, flat: executionCategory, createTime,
 *    timeWindowStart, timeWindowEnd, ...}}
 *   {"event": "status", the same fields, "previous_status": the last one
 *    reported}; "execution_terminal": true marks a run's last event.
 *   {"event": "error", "watch_id", "workflow_id", "terminal": true, "error"}
 *    ends the watch (403, re-authentication needed, an invalid request).
 *   A workflow that does not exist (yet) has no runs: the watch waits.
 *
 * Lifetime and threads:
 *  - Callbacks run on a client thread, one at a time for the whole poller,
 *    and must return quickly without blocking calls on the client (those
 *    fail with AMC_E_INVALID_ARGUMENT there). Calling amc_watch,
 *    amc_unwatch and amc_poller_stats from a callback is allowed.
 *  - A watch's callback may run as soon as amc_watch is called, even before
 *    it returns the watch id (the event carries "watch_id"), and until its
 *    final event's callback has returned, or until amc_unwatch returns.
 *  - amc_unwatch is safe from any thread and from inside any callback,
 *    its own watch's included. When it returns, no callback of that watch
 *    will start; called from another thread while that watch's callback
 *    runs, it waits for the callback to return first. destroy_user(user)
 *    has then run on the calling thread, except from inside the watch's own
 *    callback: then it runs right after that callback returns.
 *  - destroy_user (may be NULL) runs exactly once per successful amc_watch:
 *    after the final event's callback returns; for a watch without a
 *    callback, inside amc_poller_next_event just before it returns the
 *    final event; in amc_unwatch; or in amc_poller_free for watches still
 *    running. When amc_watch fails, it does not run: user is still yours.
 *  - amc_poller_free ends every watch and returns when no callback runs
 *    any more (none starts afterwards). Free every poller before its client,
 *    never from inside a callback, and not while another thread is inside a
 *    call on the same poller.
 * ------------------------------------------------------------------------ */
typedef struct amc_poller amc_poller;

/* Creates a poller on the client's I/O thread(s). config_json may be NULL
 * or "{}" for the defaults above; an unknown field or a value out of range is
 * AMC_E_INVALID_ARGUMENT naming it.
 * Example:
 *   amc_poller *poller = NULL;
 *   if (amc_poller_new(client, "{\"max_interval_ms\": 60000}", &poller) != AMC_OK)
 *     fprintf(stderr, "%s\n", amc_last_error());
 */
AMC_API amc_status amc_poller_new(amc_client *client, const char *config_json, amc_poller **out_poller);

/* Ends every watch (running their destroy_user) and frees the poller; see
 * "Lifetime and threads" above. amc_poller_free(NULL) does nothing. */
AMC_API void amc_poller_free(amc_poller *poller);

/* Receives one event (JSON text, valid only during the call). */
typedef void (*amc_watch_callback)(const char *event_json, void *user);
/* Releases a watch's user data; called exactly once (see above). */
typedef void (*amc_user_destructor)(void *user);

/* What to watch and whom to tell. Versioned by its size: set `size` to
 * sizeof(amc_watch_options); later versions only add members at the end,
 * and a library older than the header refuses (AMC_E_INVALID_ARGUMENT) a
 * larger struct whose unknown members are not all zero. A `size` larger
 * than the struct the caller really has cannot be detected (the library
 * reads `size` bytes): always set it with sizeof. */
typedef struct amc_watch_options {
  size_t size;
  /* {"credential_id": "c", "instance": {"instance_id", "advertiser_id",
   *  "marketplace_id"},
   *  "amc_execution_id": "..." or "execution_id": "exec_..." (journaled by
   *  amc_execution_submit; an unknown one is AMC_E_NOT_FOUND),
   *  "create_time": "2026-11-28T15:26:01Z"   optional: AMC's createTime,
   *                                          lets the first read be batched}
   * or, to watch a workflow's runs (see "Watching a workflow's runs"):
   * {"credential_id", "instance", "workflow_id": "wf_daily" (AMC's
   *  workflowId: letters, digits, '.', '-', '_'),
   *  "since": "2026-11-28T15:26:01Z"   optional: runs created from then on
   *                                    are new (UTC); default: now}
   * "workflow_id" with "amc_execution_id", "execution_id" or "create_time",
   * and "since" without "workflow_id", are AMC_E_INVALID_ARGUMENT. */
  const char *request_json;
  /* NULL: the events wait for amc_poller_next_event. */
  amc_watch_callback callback;
  void *user;
  amc_user_destructor destroy_user; /* may be NULL */
} amc_watch_options;

/* Starts watching; the first read is due at once. *out_watch_id (never 0)
 * names the watch until its final event. Errors: AMC_E_INVALID_ARGUMENT
 * (NULL or wrong-sized options, bad JSON, ids, instance, workflow_id or
 * since),
 * AMC_E_NOT_FOUND (unknown journaled execution_id), AMC_E_FORKED.
 * Example:
 *   static void on_event(const char *event_json, void *user) { puts(event_json); }
 *   amc_watch_options options = {sizeof options, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                " \"execution_id\": \"exec_8698d9a2\"}", on_event, NULL, NULL};
 *   uint64_t watch_id = 0;
 *   amc_watch(poller, &options, &watch_id);
 */
AMC_API amc_status amc_watch(amc_poller *poller, const amc_watch_options *options, uint64_t *out_watch_id);

/* Stops a watch; see "Lifetime and threads" for what holds when it returns.
 * AMC_E_NOT_FOUND when the watch is over (its final event was delivered) or
 * never existed.
 * Example: amc_unwatch(poller, watch_id); */
AMC_API amc_status amc_unwatch(amc_poller *poller, uint64_t watch_id);

/* For hosts without callbacks: the next event of a watch made with a NULL
 * callback, waiting at most timeout_ms (0: do not wait). Events come in the
 * order they happened. AMC_E_TIMEOUT when none came in time (then
 * *out_event_json is untouched); AMC_E_INVALID_ARGUMENT from a client
 * thread (a callback), where waiting would stall the client.
 * Example:
 *   char *event = NULL;
 *   while (amc_poller_next_event(poller, 1000, &event) == AMC_OK) {
 *     handle(event);
 *     amc_free(event);
 *   }
 */
AMC_API amc_status amc_poller_next_event(amc_poller *poller, int timeout_ms, char **out_event_json);

/* Counters as JSON (integers; latency in ms):
 *   {"watched", "requests_sent" (= get_requests + list_requests),
 *    "get_requests", "list_requests" (list pages),
 *    "workflow_list_requests" (the list pages of workflow watches' own
 *      reads; part of list_requests), "new_executions" (reported by
 *      workflow watches),
 *    "unchanged_reads" (GETs whose reply was byte for byte the last one,
 *      so it was not parsed again; part of get_requests),
 *    "batched_reads" (list refreshes), "executions_refreshed_by_lists",
 *    "throttles" (reads that ended in 429), "failed_reads" (any failure),
 *    "throttle_pauses" (times a 429 held back every read),
 *    "list_fallbacks" (list reads given up for single reads: list_max_pages,
 *      list_timeout_ms),
 *    "status_events", "final_events", "in_flight", "queued_events",
 *    "detection_latency_ms": {"count", "p50_le", "p99_le",
 *      "buckets": [{"le_ms": 1000, "count"}, ..., {"le_ms": null, "count"}]}}
 * Detection latency is from AMC's lastUpdatedTime of a new status to the
 * read that saw it (only changes seen after the first read; clocks of AMC
 * and this host are compared, at AMC's 1 s resolution); p50_le/p99_le are
 * the bucket bounds that hold the median and the 99th percentile ("more"
 * beyond the last bound).
 * Example: amc_poller_stats(poller, &json); ... amc_free(json); */
AMC_API amc_status amc_poller_stats(amc_poller *poller, char **out_json);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* AMC_AMC_H */
