/* amc_library.h — libamc.so.1 loaded at run time with dlopen, every entry
 * point amcctl uses resolved with dlsym into one table. Only amc/amc.h is
 * used: amcctl never links against the library, so it proves the header is
 * enough for a C host.
 *
 * Where the library is looked for, in order:
 *   1. $AMC_LIBRARY (a file, or a directory holding libamc.so.1); when it
 *      is set nothing else is tried, so a wrong value is never hidden;
 *   2. the directory of the running executable (/proc/self/exe);
 *   3. ../capi/ and ../../capi/ relative to it (the build tree:
 *      build/X/adapters/c/amcctl with build/X/capi/libamc.so.1), then
 *      ../lib/ (an installed tree);
 *   4. plain "libamc.so.1" through the dynamic loader's search path
 *      (LD_LIBRARY_PATH, the ld.so cache).
 * On failure the message lists every path tried with dlerror()'s reason. */
#ifndef AMCCTL_AMC_LIBRARY_H
#define AMCCTL_AMC_LIBRARY_H

#include "amc/amc.h"

#include <stddef.h>

typedef struct amc_library {
  void *handle;
  char path[4352]; /* what was loaded */

  /* Always present (the load fails otherwise). */
  int (*version_number)(void);
  const char *(*version_string)(void);
  const char *(*status_name)(amc_status);
  const char *(*last_error)(void);
  const char *(*last_error_json)(void);
  void (*free)(void *);
  amc_status (*store_new)(const char *, amc_store **);
  void (*store_free)(amc_store *);
  amc_status (*store_list_credentials)(amc_store *, char **);
  amc_status (*store_rotate_keys)(amc_store *, char **);

  /* Resolved when present; a command that needs a missing one fails with
   * a message naming it (see amc_library_require). */
  amc_status (*client_new)(const char *, amc_client **);
  void (*client_free)(amc_client *);
  amc_status (*client_set_log)(amc_client *, amc_log_callback, void *, int);
  amc_status (*auth_consent_url)(amc_client *, const char *, char **);
  amc_status (*auth_exchange_code)(amc_client *, const char *, char **);
  amc_status (*auth_import)(amc_client *, const char *);
  amc_status (*auth_refresh)(amc_client *, const char *, const char *, char **);
  amc_status (*auth_status)(amc_client *, const char *, char **);
  amc_status (*accounts_list)(amc_client *, const char *, char **);
  amc_status (*instances_list)(amc_client *, const char *, char **);
  amc_status (*workflow_get)(amc_client *, const char *, char **);
  amc_status (*workflow_list)(amc_client *, const char *, char **);
  amc_status (*workflow_delete)(amc_client *, const char *, char **);
  amc_status (*workflow_sync)(amc_client *, const char *, char **);
  amc_status (*workflow_id_from_name)(const char *, char **);
  amc_status (*execution_submit)(amc_client *, const char *, char **);
  amc_status (*execution_get)(amc_client *, const char *, char **);
  amc_status (*execution_cancel)(amc_client *, const char *, char **);
  amc_status (*execution_list)(amc_client *, const char *, char **);
  amc_status (*store_delete_credential)(amc_store *, const char *);
  amc_status (*execution_wait)(amc_client *, const char *, amc_cancel_token *, amc_progress_callback, void *,
                               char **);
  amc_status (*cancel_token_new)(amc_cancel_token **);
  void (*cancel_token_cancel)(amc_cancel_token *);
  void (*cancel_token_free)(amc_cancel_token *);
  amc_status (*results_download)(amc_client *, const char *, amc_progress_callback, void *, char **);
  /* 1.2 */
  amc_status (*data_source_list)(amc_client *, const char *, char **);
  amc_status (*data_source_get)(amc_client *, const char *, char **);
  amc_status (*workflow_validate)(amc_client *, const char *, char **);
  amc_status (*adhoc_quota)(amc_client *, const char *, char **);
  /* 1.2: schedules. */
  amc_status (*schedule_create)(amc_client *, const char *, char **);
  amc_status (*schedule_get)(amc_client *, const char *, char **);
  amc_status (*schedule_list)(amc_client *, const char *, char **);
  amc_status (*schedule_update)(amc_client *, const char *, char **);
  amc_status (*schedule_delete)(amc_client *, const char *, char **);
} amc_library;

/* Finds, loads and checks the library (symbols, ABI major). Returns 1 on
 * success; 0 with a message (several lines) in error otherwise. */
int amc_library_load(amc_library *library, char *error, size_t error_size);

/* Returns present; when 0, first prints "amcctl: libamc at PATH lacks
 * amc_NAME". Use as amc_library_require(lib, lib->x != NULL, "x"). */
int amc_library_require(const amc_library *library, int present, const char *name);

void amc_library_unload(amc_library *library);

#endif /* AMCCTL_AMC_LIBRARY_H */
