/* tests/abi/amc_1_0.h: include/amc/amc.h as libamc 1.0.0 shipped it (git
 * show 0059a54:include/amc/amc.h, unchanged below this comment), the header
 * old_header_host.c is compiled against: a 1.0 host must keep working with
 * today's libamc.so.1. Never edit it; see docs/c-abi.md#abi-policy. */
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
 *
 * See README.md ("ABI policy") for what changes the SONAME.
 */
#ifndef AMC_AMC_H
#define AMC_AMC_H

#include <stddef.h>

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
#define AMC_VERSION_MINOR 0
#define AMC_VERSION_PATCH 0
#define AMC_VERSION_NUMBER \
  (AMC_VERSION_MAJOR * 10000 + AMC_VERSION_MINOR * 100 + AMC_VERSION_PATCH)
#define AMC_VERSION_STRING "1.0.0"

/* The version of the library actually loaded, as AMC_VERSION_NUMBER.
 * Adapters compare amc_version_number() / 10000 with the ABI major they
 * were written for and refuse to run on a mismatch. */
AMC_API int amc_version_number(void);

/* The loaded library's version as static text, e.g. "1.0.0". */
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
  AMC_E_OUT_OF_MEMORY = 19
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
 * plus, where known, "http_status", "amc_code", "retry_after_ms",
 * "credential_id". "{}" if the last call succeeded. Same lifetime as
 * amc_last_error(). */
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
 * access token and its expiry, a state ("active", "needs-reauth",
 * "quarantined") and timestamps. Every secret is Fernet-encrypted at rest
 * with the configured keys (MultiFernet: the first key encrypts, all keys
 * decrypt), compatible with Python's cryptography and Airflow's fernet_key.
 *
 * A record that no configured key decrypts is quarantined: it is kept as it
 * is (so adding the old key back recovers it), excluded from use, and every
 * use of it fails with AMC_E_CRYPTO naming the credential id.
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
 * Records that no key decrypts are quarantined and reported, not changed.
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

/* Creates a client. config_json:
 *   {
 *     "region": "na" | "eu" | "fe",                 default "na"
 *     "endpoints": {"amc": URL, "lwa_token": URL, "lwa_consent": URL},
 *                                                   defaults: the region's
 *     "lwa": {"client_id": "...", "client_secret": "..."}
 *            or {"client_id_env": "VAR", "client_secret_env": "VAR"},
 *     "store": { see amc_store_new },
 *     "tls": {"verify_peer": true, "ca_file": PATH, "ca_directory": PATH},
 *     "timeouts": {"connect_ms", "handshake_ms", "read_headers_ms", ...},
 *     "retry": {"max_attempts": 5, "base_delay_ms": 500, "max_total_ms": 180000},
 *     "rate_limit": {"requests_per_second": 10, "burst": 10},
 *     "proxy": {"https_proxy": "http://host:port", "no_proxy": "..."},
 *     "tokens": {"advisory_window_s": 300, "mandatory_window_s": 60},
 *     "refresh_service": {"enabled": false, "lead_time_s": 600, "interval_s": 60},
 *     "io_threads": 1,
 *     "journal_retention_days": 30   how long amc_execution_submit remembers
 *                                    an execution_id (see there)
 *   }
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
 * nothing. */
AMC_API void amc_client_free(amc_client *client);

/* Log levels for amc_log_callback. */
#define AMC_LOG_DEBUG 10
#define AMC_LOG_INFO 20
#define AMC_LOG_WARNING 30
#define AMC_LOG_ERROR 40

/* Receives log lines (secrets already redacted) on a library thread; must
 * return quickly and must not call blocking functions of the same client. */
typedef void (*amc_log_callback)(int level, const char *message, void *user);

/* Sets (or, with NULL, removes) the log callback; lines below min_level are
 * not produced. */
AMC_API amc_status amc_client_set_log(amc_client *client, amc_log_callback callback, void *user,
                                      int min_level);

/* Counters as JSON: {"http": {...requests, retries by cause, throttles...},
 * "tokens": {"refreshes", "refresh_failures", ...}}. No secrets. */
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
 * *out_status_json: as amc_auth_status. */
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
 * {"timeout_ms": N}. *out_status_json: as amc_auth_status.
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
 *     "timeout_ms": 120000                          optional, whole call
 *   }
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
 * create/update/sync, or "workflow_id" for get/delete.
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

/* → {}. AMC refuses while a schedule uses the workflow.
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
 * execution ("reattached": true) instead of starting a second run; if the
 * create request's answer was lost, AMC's list is searched before anything
 * is sent again. The journal remembers an execution_id for the client's
 * "journal_retention_days" (default 30) after its last create request;
 * older entries are dropped at the next submit, and an id reused after
 * that starts a new run. */
/* Example:
 *   amc_execution_submit(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"execution_id\": \"exec_8698d9a2\", \"request\": {\"workflowId\": \"wf_daily\","
 *       " \"timeWindowType\": \"MOST_RECENT_WEEK\"}}", &json);
 */
AMC_API amc_status amc_execution_submit(amc_client *client, const char *request_json, char **out_json);

/* Requests name the execution by "amc_execution_id" or by the journaled
 * "execution_id". → the flat execution. */
/* Example: amc_execution_get(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *                                    " \"execution_id\": \"exec_8698d9a2\"}", &json); */
AMC_API amc_status amc_execution_get(amc_client *client, const char *request_json, char **out_json);

/* Request: {"credential_id", "instance", "filters": {"minCreationTime" or
 * "workflowId" (one is required), "maxCreationTime", "includeCancelled",
 * "sortAscending", "timeZone"}} → {"executions": [...]}, all pages. */
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
 * must not call blocking functions of the same client. Events:
 *   {"event": "status", "execution": {...}, "next_poll_ms": N}
 *   {"event": "download", "part": i, "parts": n, "bytes": b, "total_bytes": t}
 */
typedef void (*amc_progress_callback)(const char *event_json, void *user);

/* Waits until the execution is SUCCEEDED, FAILED, CANCELLED or REJECTED.
 * Request: as amc_execution_get plus "timeout_ms" (default 24 h),
 * "first_poll_ms" (5000, doubling up to) "max_poll_ms" (60000).
 * cancel, progress and user may be NULL.
 * → the final execution for SUCCEEDED. For FAILED, CANCELLED and REJECTED
 * the call fails with AMC_E_EXECUTION_FAILED, AMC's reason in the message
 * and the execution in amc_last_error_json() under "execution".
 * AMC_E_TIMEOUT when the timeout passes first (the execution keeps running). */
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
 *   "parallelism": 4              parts downloaded at once
 * → manifest {"amc_execution_id", "directory",
 *             "files": [{"part", "path", "bytes", "rows", "columns": [...]}],
 *             "total_bytes", "total_rows"}
 * progress (may be NULL) receives "download" events. */
/* Example:
 *   amc_results_download(client, "{\"credential_id\": \"c\", \"instance\": INSTANCE,"
 *       " \"execution_id\": \"exec_8698d9a2\", \"directory\": \"/data/out\"}",
 *       on_progress, NULL, &manifest);
 */
AMC_API amc_status amc_results_download(amc_client *client, const char *request_json,
                                        amc_progress_callback progress, void *user,
                                        char **out_manifest_json);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* AMC_AMC_H */
