/* amc_library.c — see amc_library.h. */
#define _XOPEN_SOURCE 700 /* realpath */

#include "amc_library.h"

#include "program_files.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ISO C forbids converting void* to a function pointer; POSIX guarantees
 * the representations match, so copy the bits (as tests/capi/dlopen_test.c
 * does). slot is the address of a function pointer of size slot_size. */
static int resolve_into(void *handle, const char *name, void *slot, size_t slot_size) {
  void *symbol = dlsym(handle, name);
  if (symbol == NULL) return 0;
  memcpy(slot, &symbol, slot_size);
  return 1;
}

#define RESOLVE(library, field) \
  resolve_into((library)->handle, "amc_" #field, &(library)->field, sizeof (library)->field)

static void append_line(char *error, size_t error_size, const char *line) {
  size_t used = strlen(error);
  if (used + 1 < error_size) snprintf(error + used, error_size - used, "%s\n", line);
}

/* Tries one candidate; records the outcome in error. */
static int try_open(amc_library *library, const char *candidate, char *error, size_t error_size) {
  char line[8192];
  dlerror();
  void *handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *reason = dlerror();
    snprintf(line, sizeof line, "  %s: %s", candidate, reason ? reason : "cannot be loaded");
    append_line(error, error_size, line);
    return 0;
  }
  library->handle = handle;
  char canonical[PATH_MAX];
  snprintf(library->path, sizeof library->path, "%s",
           strchr(candidate, '/') != NULL && realpath(candidate, canonical) != NULL ? canonical : candidate);
  return 1;
}

/* try_open for find_next_to_program. */
typedef struct open_attempt {
  amc_library *library;
  char *error;
  size_t error_size;
} open_attempt;

static int try_open_candidate(const char *candidate, void *context) {
  open_attempt *attempt = context;
  return try_open(attempt->library, candidate, attempt->error, attempt->error_size);
}

int amc_library_load(amc_library *library, char *error, size_t error_size) {
  char candidate[PATH_MAX + 64];
  memset(library, 0, sizeof *library);
  error[0] = '\0';
  append_line(error, error_size, "cannot load libamc.so.1; tried:");

  const char *from_env = getenv("AMC_LIBRARY");
  int loaded = 0;
  if (from_env != NULL && from_env[0] != '\0') {
    struct stat info;
    if (stat(from_env, &info) == 0 && S_ISDIR(info.st_mode))
      snprintf(candidate, sizeof candidate, "%s/libamc.so.1", from_env);
    else
      snprintf(candidate, sizeof candidate, "%s", from_env);
    loaded = try_open(library, candidate, error, error_size);
    if (!loaded) append_line(error, error_size, "(AMC_LIBRARY is set, so no other place was tried)");
  } else {
    static const char *const relative[] = {"libamc.so.1", "../capi/libamc.so.1", "../../capi/libamc.so.1",
                                           "../lib/libamc.so.1"};
    open_attempt attempt = {library, error, error_size};
    int found = find_next_to_program(relative, sizeof relative / sizeof relative[0], try_open_candidate, &attempt,
                                     candidate, sizeof candidate);
    loaded = found == 1;
    if (found < 0)
      append_line(error, error_size, "  (/proc/self/exe unreadable: the executable's directory was skipped)");
    if (!loaded) loaded = try_open(library, "libamc.so.1", error, error_size);
    if (!loaded) append_line(error, error_size, "Set AMC_LIBRARY to the path of libamc.so.1.");
  }
  if (!loaded) return 0;

  int complete = RESOLVE(library, version_number) && RESOLVE(library, version_string) &&
                 RESOLVE(library, status_name) && RESOLVE(library, last_error) &&
                 RESOLVE(library, last_error_json) && RESOLVE(library, free) && RESOLVE(library, store_new) &&
                 RESOLVE(library, store_free) && RESOLVE(library, store_list_credentials) &&
                 RESOLVE(library, store_rotate_keys);
  if (!complete) {
    snprintf(error, error_size, "%s is not a usable libamc: it lacks basic entry points (%s)\n", library->path,
             dlerror());
    dlclose(library->handle);
    library->handle = NULL;
    return 0;
  }
  const int loaded_major = library->version_number() / 10000;
  if (loaded_major != AMC_VERSION_MAJOR) {
    snprintf(error, error_size,
             "%s has ABI major %d (version %s), but amcctl was built for ABI major %d; "
             "use a matching libamc.so.%d\n",
             library->path, loaded_major, library->version_string(), AMC_VERSION_MAJOR, AMC_VERSION_MAJOR);
    dlclose(library->handle);
    library->handle = NULL;
    return 0;
  }

  /* Optional until a command needs them. */
  RESOLVE(library, client_new);
  RESOLVE(library, client_free);
  RESOLVE(library, client_set_log);
  RESOLVE(library, auth_consent_url);
  RESOLVE(library, auth_exchange_code);
  RESOLVE(library, auth_import);
  RESOLVE(library, auth_refresh);
  RESOLVE(library, auth_status);
  RESOLVE(library, accounts_list);
  RESOLVE(library, instances_list);
  RESOLVE(library, workflow_get);
  RESOLVE(library, workflow_list);
  RESOLVE(library, workflow_delete);
  RESOLVE(library, workflow_sync);
  RESOLVE(library, workflow_id_from_name);
  RESOLVE(library, execution_submit);
  RESOLVE(library, execution_get);
  RESOLVE(library, execution_cancel);
  RESOLVE(library, execution_list);
  RESOLVE(library, store_delete_credential);
  RESOLVE(library, execution_wait);
  RESOLVE(library, cancel_token_new);
  RESOLVE(library, cancel_token_cancel);
  RESOLVE(library, cancel_token_free);
  RESOLVE(library, results_download);
  /* 1.2: data sources, the pre-flight check, the ad-hoc quota. */
  RESOLVE(library, data_source_list);
  RESOLVE(library, data_source_get);
  RESOLVE(library, workflow_validate);
  RESOLVE(library, adhoc_quota);
  RESOLVE(library, schedule_create);
  RESOLVE(library, schedule_get);
  RESOLVE(library, schedule_list);
  RESOLVE(library, schedule_update);
  RESOLVE(library, schedule_delete);
  return 1;
}

int amc_library_require(const amc_library *library, int present, const char *name) {
  if (!present)
    fprintf(stderr, "amcctl: libamc at %s lacks amc_%s (version %s): use a newer libamc.so.1\n", library->path,
            name, library->version_string());
  return present;
}

void amc_library_unload(amc_library *library) {
  /* The library's threads are gone once every client is freed; dlclose is
   * still skipped: some C++ runtimes keep thread-local destructors in it. */
  library->handle = NULL;
}
