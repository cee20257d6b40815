/* A C99 host of libamc: loads libamc.so.1 with dlopen, resolves every entry
 * point it uses with dlsym, and checks versions, status names, an error path,
 * a store round trip and amc_free. With --firewall (run with AMC_FAILPOINTS
 * set, see tests/capi/CMakeLists.txt) it checks that exceptions thrown inside
 * the library come back as status codes.
 *
 * Usage: amc_c_dlopen_test /path/to/libamc.so.1 [--firewall] */
#include "amc/amc.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*version_number_fn)(void);
typedef const char *(*version_string_fn)(void);
typedef const char *(*status_name_fn)(amc_status);
typedef const char *(*last_error_fn)(void);
typedef void (*free_fn)(void *);
typedef amc_status (*store_new_fn)(const char *, amc_store **);
typedef void (*store_free_fn)(amc_store *);
typedef amc_status (*store_put_fn)(amc_store *, const char *);
typedef amc_status (*store_get_fn)(amc_store *, const char *, const char *, char **);
typedef amc_status (*store_list_fn)(amc_store *, char **);
typedef amc_status (*store_delete_fn)(amc_store *, const char *);
typedef amc_status (*store_rotate_fn)(amc_store *, char **);

static int failures = 0;

#define CHECK(condition)                                                   \
  do {                                                                     \
    if (!(condition)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,     \
              #condition);                                                 \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

static void *resolve(void *library, const char *name) {
  void *symbol = dlsym(library, name);
  if (symbol == NULL) {
    fprintf(stderr, "missing symbol %s: %s\n", name, dlerror());
    exit(2);
  }
  return symbol;
}

/* ISO C forbids converting void* to a function pointer directly; copy the
 * bits, as POSIX guarantees they are compatible. */
#define RESOLVE(type, name, library)                  \
  type name;                                          \
  do {                                                \
    void *raw_##name = resolve(library, "amc_" #name); \
    memcpy(&name, &raw_##name, sizeof name);          \
  } while (0)

/* The Fernet key used here is the public key of the Fernet specification's
 * test vectors: never a real key. */
static const char *store_config =
    "{\"kind\": \"memory\", "
    "\"fernet_keys\": \"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\"}";

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s /path/to/libamc.so.1 [--firewall]\n", argv[0]);
    return 2;
  }
  const int firewall_mode = argc > 2 && strcmp(argv[2], "--firewall") == 0;
  void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "dlopen failed: %s\n", dlerror());
    return 2;
  }
  {
    RESOLVE(version_number_fn, version_number, library);
    RESOLVE(version_string_fn, version_string, library);
    RESOLVE(status_name_fn, status_name, library);
    RESOLVE(last_error_fn, last_error, library);
    RESOLVE(last_error_fn, last_error_json, library);
    RESOLVE(free_fn, free, library);
    RESOLVE(store_new_fn, store_new, library);
    RESOLVE(store_free_fn, store_free, library);
    RESOLVE(store_put_fn, store_put_credential, library);
    RESOLVE(store_get_fn, store_get_credential, library);
    RESOLVE(store_list_fn, store_list_credentials, library);
    RESOLVE(store_delete_fn, store_delete_credential, library);
    RESOLVE(store_rotate_fn, store_rotate_keys, library);
    amc_store *store = NULL;
    char *json = NULL;

    /* The ABI major this host was written for. */
    CHECK(version_number() / 10000 == AMC_VERSION_MAJOR);
    CHECK(strcmp(version_string(), AMC_VERSION_STRING) == 0);
    CHECK(strcmp(status_name(AMC_OK), "AMC_OK") == 0);
    CHECK(strcmp(status_name(AMC_E_OUT_OF_MEMORY), "AMC_E_OUT_OF_MEMORY") == 0);
    CHECK(strcmp(status_name((amc_status)12345), "AMC_E_UNKNOWN") == 0);

    CHECK(store_new(store_config, &store) == AMC_OK);
    CHECK(store != NULL);
    if (store == NULL) return 1;

    if (firewall_mode) {
      /* Each of these entry points throws inside (std::exception,
       * std::bad_alloc, a non-std type, amc::error): we must get a status
       * and a message back, and keep running. */
      CHECK(store_get_credential(store, "x", NULL, &json) == AMC_E_INTERNAL);
      CHECK(strstr(last_error(), "amc_store_get_credential") != NULL);
      CHECK(store_list_credentials(store, &json) == AMC_E_OUT_OF_MEMORY);
      CHECK(store_delete_credential(store, "x") == AMC_E_INTERNAL);
      CHECK(strstr(last_error(), "unknown exception") != NULL);
      CHECK(store_rotate_keys(store, &json) == AMC_E_INTERNAL);
      CHECK(strstr(last_error_json(), "\"AMC_E_INTERNAL\"") != NULL);
      CHECK(json == NULL);
      /* Entry points without a fail point still work. */
      CHECK(store_put_credential(store, "{\"credential_id\":\"c\",\"client_id\":\"x\","
                                        "\"refresh_token\":\"Atzr|c\"}") == AMC_OK);
    } else {
      /* An error path: bad JSON gives a status and a message. */
      CHECK(store_put_credential(store, "{not json") == AMC_E_INVALID_ARGUMENT);
      CHECK(strlen(last_error()) > 0);
      CHECK(strstr(last_error_json(), "AMC_E_INVALID_ARGUMENT") != NULL);
      CHECK(store_get_credential(store, "nobody", NULL, &json) == AMC_E_NOT_FOUND);
      CHECK(json == NULL);

      CHECK(store_put_credential(store, "{\"credential_id\":\"c\",\"client_id\":\"x\","
                                        "\"refresh_token\":\"Atzr|c\"}") == AMC_OK);
      CHECK(strcmp(last_error(), "") == 0);
      CHECK(store_get_credential(store, "c", NULL, &json) == AMC_OK);
      CHECK(json != NULL && strstr(json, "\"state\":\"active\"") != NULL);
      CHECK(json != NULL && strstr(json, "Atzr|c") == NULL);
      free(NULL); /* amc_free, not free, releases library strings: */
      (*free)(json);
      json = NULL;
      CHECK(store_list_credentials(store, &json) == AMC_OK);
      (*free)(json);
      json = NULL;
      CHECK(store_rotate_keys(store, &json) == AMC_OK);
      CHECK(json != NULL && strstr(json, "\"rotated\":1") != NULL);
      (*free)(json);
      (*free)(NULL);
      CHECK(store_delete_credential(store, "c") == AMC_OK);
    }
    store_free(store);
    store_free(NULL);
  }
  dlclose(library);
  if (failures == 0) printf("libamc C host checks passed\n");
  return failures == 0 ? 0 : 1;
}
