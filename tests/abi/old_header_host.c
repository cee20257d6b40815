/* A C99 host compiled against libamc 1.0.0's header (tests/abi/amc_1_0.h)
 * and linked against today's libamc.so.1: what a 1.0 program does must keep
 * working without a rebuild (docs/c-abi.md#abi-policy). It calls only 1.0's
 * entry points with 1.0's requests and needs no network: versions, every
 * 1.0 status code by number, the last error, a store round trip, a client
 * with a memory store, credentials through auth, a consent URL, workflow ids,
 * cancel tokens and a request refused before any connection.
 *
 * Usage: amc_abi_old_header_host (exit 0 when every check passed). */
#include "amc_1_0.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(condition)                                                   \
  do {                                                                     \
    if (!(condition)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n",        \
              __FILE__, __LINE__, #condition, amc_last_error());           \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

/* 1.0's codes by the numbers a 1.0 host compiled in: a renumbered or
 * renamed code shows here. */
#define CODE(name) {name, #name}
static const struct {
  amc_status code;
  const char *name;
} codes_1_0[] = {
    CODE(AMC_OK),           CODE(AMC_E_INVALID_ARGUMENT), CODE(AMC_E_CONFIG),
    CODE(AMC_E_AUTH_REQUIRED), CODE(AMC_E_FORBIDDEN),     CODE(AMC_E_NOT_FOUND),
    CODE(AMC_E_CONFLICT),   CODE(AMC_E_THROTTLED),        CODE(AMC_E_REMOTE),
    CODE(AMC_E_NETWORK),    CODE(AMC_E_TLS),              CODE(AMC_E_TIMEOUT),
    CODE(AMC_E_CANCELLED),  CODE(AMC_E_EXECUTION_FAILED), CODE(AMC_E_CRYPTO),
    CODE(AMC_E_STORE),      CODE(AMC_E_PROTOCOL),         CODE(AMC_E_FORKED),
    CODE(AMC_E_INTERNAL),   CODE(AMC_E_OUT_OF_MEMORY),
};

/* The public key of the Fernet specification's test vectors: never a real key. */
#define TEST_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

static int log_lines = 0;
static void count_log(int level, const char *message, void *user) {
  (void)level;
  (void)message;
  (void)user;
  ++log_lines;
}

static void check_versions_and_codes(void) {
  /* Same ABI major, and at least the version this host was built against. */
  CHECK(amc_version_number() / 10000 == AMC_VERSION_MAJOR);
  CHECK(amc_version_number() >= AMC_VERSION_NUMBER);
  CHECK(strncmp(amc_version_string(), "1.", 2) == 0);
  for (size_t i = 0; i < sizeof codes_1_0 / sizeof codes_1_0[0]; ++i) {
    CHECK((int)codes_1_0[i].code == (int)i);
    CHECK(strcmp(amc_status_name(codes_1_0[i].code), codes_1_0[i].name) == 0);
  }
}

static void check_store(void) {
  amc_store *store = NULL;
  char *json = NULL;
  CHECK(amc_store_new("{\"kind\": \"memory\", \"fernet_keys\": \"" TEST_KEY "\"}", &store) == AMC_OK);
  if (store == NULL) return;
  CHECK(amc_store_put_credential(store, "{not json") == AMC_E_INVALID_ARGUMENT);
  CHECK(strstr(amc_last_error_json(), "AMC_E_INVALID_ARGUMENT") != NULL);
  CHECK(amc_store_get_credential(store, "nobody", NULL, &json) == AMC_E_NOT_FOUND);
  CHECK(json == NULL);
  CHECK(amc_store_put_credential(store, "{\"credential_id\": \"c1\", \"client_id\": \"amzn1.app\","
                                        " \"refresh_token\": \"Atzr|old-host\"}") == AMC_OK);
  CHECK(amc_store_get_credential(store, "c1", "{\"include_secrets\": true}", &json) == AMC_OK);
  CHECK(json != NULL && strstr(json, "\"refresh_token\":\"Atzr|old-host\"") != NULL);
  amc_free(json);
  json = NULL;
  CHECK(amc_store_list_credentials(store, &json) == AMC_OK);
  CHECK(json != NULL && strstr(json, "\"credential_id\":\"c1\"") != NULL);
  amc_free(json);
  json = NULL;
  CHECK(amc_store_rotate_keys(store, &json) == AMC_OK);
  CHECK(json != NULL && strstr(json, "\"rotated\":1") != NULL);
  amc_free(json);
  CHECK(amc_store_delete_credential(store, "c1") == AMC_OK);
  CHECK(amc_store_delete_credential(store, "c1") == AMC_E_NOT_FOUND);
  amc_store_free(store);
  amc_store_free(NULL);
}

static void check_client(void) {
  /* Endpoints on a loopback port nobody answers: nothing here may connect. */
  const char *config =
      "{\"lwa\": {\"client_id\": \"amzn1.application-oa2-client.old\", \"client_secret\": \"s\"},"
      " \"endpoints\": {\"amc\": \"https://127.0.0.1:9/amc\", \"lwa_token\": \"https://127.0.0.1:9/token\","
      " \"lwa_consent\": \"https://127.0.0.1:9/consent\"},"
      " \"store\": {\"kind\": \"memory\", \"fernet_keys\": \"" TEST_KEY "\"}}";
  amc_client *client = NULL;
  char *json = NULL;
  /* 1.0: "unknown fields are rejected with AMC_E_INVALID_ARGUMENT". */
  CHECK(amc_client_new("{\"no_such_field\": 1}", &client) == AMC_E_INVALID_ARGUMENT);
  CHECK(client == NULL && strstr(amc_last_error(), "no_such_field") != NULL);
  CHECK(amc_client_new(config, &client) == AMC_OK);
  if (client == NULL) return;
  CHECK(amc_client_set_log(client, count_log, NULL, AMC_LOG_DEBUG) == AMC_OK);
  CHECK(amc_auth_import(client, "{\"credential_id\": \"c\", \"refresh_token\": \"Atzr|old-host\"}") == AMC_OK);
  CHECK(amc_auth_status(client, "c", &json) == AMC_OK);
  CHECK(json != NULL && strstr(json, "\"state\":\"active\"") != NULL);
  CHECK(json != NULL && strstr(json, "Atzr|old-host") == NULL);
  amc_free(json);
  json = NULL;
  CHECK(amc_auth_consent_url(client, "{\"redirect_uri\": \"https://example.com/cb\"}", &json) == AMC_OK);
  CHECK(json != NULL && strstr(json, "https://127.0.0.1:9/consent") != NULL);
  amc_free(json);
  json = NULL;
  /* A request refused at the door, before any connection. */
  CHECK(amc_execution_get(client, "{\"credential_id\": \"c\"}", &json) == AMC_E_INVALID_ARGUMENT);
  CHECK(json == NULL);
  CHECK(amc_client_metrics(client, &json) == AMC_OK);
  CHECK(json != NULL && json[0] == '{');
  amc_free(json);
  amc_client_free(client);
  amc_client_free(NULL);
}

static void check_helpers(void) {
  char *id = NULL;
  amc_cancel_token *token = NULL;
  CHECK(amc_workflow_id_from_name("daily_sales", &id) == AMC_OK);
  CHECK(id != NULL && strcmp(id, "wf_daily_sales") == 0);
  amc_free(id);
  CHECK(amc_cancel_token_new(&token) == AMC_OK);
  amc_cancel_token_cancel(token);
  amc_cancel_token_free(token);
  amc_cancel_token_free(NULL);
  amc_free(NULL);
}

int main(void) {
  check_versions_and_codes();
  check_store();
  check_client();
  check_helpers();
  if (failures == 0)
    printf("a host built against libamc 1.0.0's amc.h runs against libamc %s\n", amc_version_string());
  return failures == 0 ? 0 : 1;
}
