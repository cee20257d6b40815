/* A minimal C host of libamc: load the library with dlopen, create a
 * client, sync a workflow from a SQL file, submit it, wait, download the
 * results and print the manifest. Only amc/amc.h is used.
 *
 * Usage: amc_host_example CONFIG.json REQUEST.json QUERY.sql OUT_DIR
 *   CONFIG.json   the client config (amc_client_new)
 *   REQUEST.json  {"credential_id": "...", "instance": {...}}: who and where
 *   QUERY.sql     the workflow's SQL; the workflow id is wf_host_example
 * Library: $AMC_LIBRARY, else "libamc.so.1" through the loader's path. */
#define _POSIX_C_SOURCE 200809L
#include "amc/amc.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ISO C has no void* → function pointer conversion; POSIX makes the bits
 * compatible, so copy them. */
#define LOAD(type, name)                                                          \
  type fn_##name;                                                                 \
  do {                                                                            \
    void *symbol = dlsym(library, "amc_" #name);                                  \
    if (symbol == NULL) { fprintf(stderr, "missing amc_%s\n", #name); return 1; } \
    memcpy(&fn_##name, &symbol, sizeof fn_##name);                                \
  } while (0)

typedef int (*version_fn)(void);
typedef const char *(*status_name_fn)(amc_status);
typedef const char *(*text_fn)(void);
typedef void (*free_fn)(void *);
typedef amc_status (*client_new_fn)(const char *, amc_client **);
typedef void (*client_free_fn)(amc_client *);
typedef amc_status (*call_fn)(amc_client *, const char *, char **);
typedef amc_status (*wait_fn)(amc_client *, const char *, amc_cancel_token *, amc_progress_callback, void *,
                              char **);
typedef amc_status (*download_fn)(amc_client *, const char *, amc_progress_callback, void *, char **);

static char *slurp(const char *path) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) return NULL;
  char *text = NULL;
  size_t size = 0, used = 0, got;
  do {
    if (used + 4096 + 1 > size) text = realloc(text, size = 2 * size + 4097);
    got = fread(text + used, 1, 4096, file);
    used += got;
  } while (got > 0);
  fclose(file);
  text[used] = '\0';
  return text;
}

/* Appends text as the inside of a JSON string (needs 6 bytes per byte). */
static void escape(char *out, const char *text) {
  out += strlen(out);
  for (; *text; ++text) {
    if ((unsigned char)*text < 0x20) out += sprintf(out, "\\u%04x", (unsigned)*text);
    else if (*text == '"' || *text == '\\') *out++ = '\\', *out++ = *text;
    else *out++ = *text;
  }
  *out = '\0';
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s CONFIG.json REQUEST.json QUERY.sql OUT_DIR\n", argv[0]);
    return 2;
  }
  const char *path = getenv("AMC_LIBRARY") ? getenv("AMC_LIBRARY") : "libamc.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) { fprintf(stderr, "cannot load %s: %s\n", path, dlerror()); return 1; }
  LOAD(version_fn, version_number);
  LOAD(status_name_fn, status_name);
  LOAD(text_fn, last_error);
  LOAD(free_fn, free); /* fn_free: amc_free, for the library's strings */
  LOAD(client_new_fn, client_new);
  LOAD(client_free_fn, client_free);
  LOAD(call_fn, workflow_sync);
  LOAD(call_fn, execution_submit);
  LOAD(wait_fn, execution_wait);
  LOAD(download_fn, results_download);
  if (fn_version_number() / 10000 != AMC_VERSION_MAJOR) { fprintf(stderr, "wrong libamc ABI\n"); return 1; }

  char *config = slurp(argv[1]), *who = slurp(argv[2]), *sql = slurp(argv[3]);
  if (config == NULL || who == NULL || sql == NULL) { fprintf(stderr, "cannot read the input files\n"); return 2; }
  char *end = strrchr(who, '}'); /* REQUEST.json is extended with each call's fields */
  if (end == NULL) { fprintf(stderr, "REQUEST.json is not an object\n"); return 2; }
  *end = '\0';
  size_t size = strlen(who) + 6 * (strlen(sql) + strlen(argv[4])) + 512;
  char *request = malloc(size), *out = NULL, id[128] = "";
  amc_client *client = NULL;
  amc_status status = fn_client_new(config, &client);
  const char *step = "client_new";

  if (status == AMC_OK) { /* sync: create or update wf_host_example */
    snprintf(request, size, "%s, \"workflow\": {\"workflowId\": \"wf_host_example\", \"sqlQuery\": \"", who);
    escape(request, sql);
    strcat(request, "\"}}");
    step = "workflow_sync";
    if ((status = fn_workflow_sync(client, request, &out)) == AMC_OK) printf("sync: %s\n", out);
    fn_free(out), out = NULL;
  }
  if (status == AMC_OK) { /* submit; the response holds AMC's execution id */
    snprintf(request, size, "%s, \"request\": {\"workflowId\": \"wf_host_example\"}}", who);
    step = "execution_submit";
    if ((status = fn_execution_submit(client, request, &out)) == AMC_OK) {
      const char *found = strstr(out, "\"amc_execution_id\":\"");
      if (found != NULL) sscanf(found + 20, "%127[^\"]", id);
      printf("submitted: %s\n", id);
      fn_free(out), out = NULL;
    }
  }
  if (status == AMC_OK) { /* wait until SUCCEEDED (or a failure status) */
    snprintf(request, size, "%s, \"amc_execution_id\": \"%s\", \"first_poll_ms\": 500}", who, id);
    step = "execution_wait";
    if ((status = fn_execution_wait(client, request, NULL, NULL, NULL, &out)) == AMC_OK) printf("finished: %s\n", out);
    fn_free(out), out = NULL;
  }
  if (status == AMC_OK) { /* download every part and print the manifest */
    snprintf(request, size, "%s, \"amc_execution_id\": \"%s\", \"directory\": \"", who, id);
    escape(request, argv[4]);
    strcat(request, "\"}");
    step = "results_download";
    if ((status = fn_results_download(client, request, NULL, NULL, &out)) == AMC_OK) printf("manifest: %s\n", out);
    fn_free(out), out = NULL;
  }
  if (status != AMC_OK) fprintf(stderr, "amc_%s: %s: %s\n", step, fn_status_name(status), fn_last_error());
  fn_client_free(client);
  free(request), free(config), free(who), free(sql);
  return status == AMC_OK ? 0 : 1;
}
