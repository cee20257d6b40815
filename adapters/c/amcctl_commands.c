/* amcctl_commands.c — the commands other than auth (accounts, instances,
 * workflows, run/status/cancel/results, store, sandbox) and the command
 * table that names and dispatches every command. */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Commands
 * --------------------------------------------------------------------- */

static int looks_like_uuid(const char *text) {
  if (strlen(text) != 36) return 0;
  for (int i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return 0;
    } else if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f') ||
                 (text[i] >= 'A' && text[i] <= 'F'))) {
      return 0;
    }
  }
  return 1;
}

/* The execution a status/cancel/results/wait request names. */
static void append_execution_name(const context *ctx, text_buffer *request) {
  if (ctx->o->amc_execution_id != NULL) text_append_member(request, "amc_execution_id", ctx->o->amc_execution_id);
  else if (ctx->o->execution_id != NULL) text_append_member(request, "execution_id", ctx->o->execution_id);
  else if (looks_like_uuid(ctx->argument)) text_append_member(request, "amc_execution_id", ctx->argument);
  else text_append_member(request, "execution_id", ctx->argument);
}

/* A SQL file, checked before any request is built: the library takes
 * UTF-8 only, and the message names the user's file, line and column. NULL
 * after a message. */
static char *read_query_file(const char *path) { return read_user_file(path, ""); }

static int cmd_accounts(context *ctx) {
  REQUIRE(accounts_list);
  text_buffer request;
  request_begin(ctx, &request, 0);
  return call_and_finish(ctx, lib.accounts_list, &request, print_accounts);
}

static int cmd_instances(context *ctx) {
  REQUIRE(instances_list);
  text_buffer request;
  request_begin(ctx, &request, 0);
  if (ctx->advertiser_id != NULL) text_append_member(&request, "advertiser_id", ctx->advertiser_id);
  if (ctx->marketplace_id != NULL) text_append_member(&request, "marketplace_id", ctx->marketplace_id);
  return call_and_finish(ctx, lib.instances_list, &request, print_instances);
}

static char *derive_workflow_id(const char *name, amc_status *status) {
  char *id = NULL;
  *status = lib.workflow_id_from_name(name, &id);
  return *status == AMC_OK ? id : NULL;
}

static void print_sync(const json_value *result) {
  const json_value *workflow = json_get(result, "workflow");
  printf("%s workflow %s\n", text_or(json_get_text(result, "action"), "synced"),
         text_or(json_get_text(workflow, "workflowId"), "?"));
}

json_value *read_amc_object_file(const char *path, const char *object_name, const char *command_word) {
  char *text = read_user_file(path, "");
  if (text == NULL) return NULL;
  char error[256] = "";
  json_value *definition = json_parse(text, error, sizeof error);
  free(text);
  if (definition == NULL || definition->type != JSON_OBJECT) {
    fprintf(stderr,
            "amcctl: %s must hold one JSON object, AMC's %s (e.g. what 'amcctl --json %s get ID' "
            "prints): %s\n",
            path, object_name, command_word, definition == NULL ? error : "it holds another kind of JSON value");
    json_free(definition);
    return NULL;
  }
  return definition;
}

/* Reads a --definition file: one JSON object, AMC's Workflow. NULL after a
 * message. */
static json_value *read_definition(const char *path) {
  json_value *definition = read_amc_object_file(path, "Workflow", "workflow");
  if (definition == NULL) return NULL;
  static const char *const text_fields[] = {"workflowId", "sqlQuery"};
  for (size_t i = 0; i < sizeof text_fields / sizeof text_fields[0]; ++i) {
    const json_value *field = json_get(definition, text_fields[i]);
    if (field != NULL && field->type != JSON_STRING) {
      fprintf(stderr, "amcctl: \"%s\" in %s must be text\n", text_fields[i], path);
      json_free(definition);
      return NULL;
    }
  }
  return definition;
}

/* workflow sync: the SQL comes from --file or the definition's sqlQuery,
 * the id from --id, --name, the definition's workflowId or the file's name
 * (in that order); every other field of the definition is sent as it is,
 * so the library compares all of them with AMC's copy. */
static int cmd_workflow_sync(context *ctx) {
  REQUIRE(workflow_sync);
  const options *o = ctx->o;
  json_value *definition = NULL;
  char *sql = NULL;
  char *derived = NULL;
  const char *workflow_id = o->id;
  int rc = EXIT_OK;
  if (o->definition_file != NULL && (definition = read_definition(o->definition_file)) == NULL) return EXIT_USAGE;
  if (o->file != NULL) {
    sql = read_query_file(o->file);
    if (sql == NULL) {
      rc = EXIT_USAGE;
      goto done;
    }
  } else if (json_get_text(definition, "sqlQuery") == NULL) {
    rc = usage_error("%s has no \"sqlQuery\": add it, or give the SQL with --file QUERY.sql", o->definition_file);
    goto done;
  }
  if (workflow_id == NULL && o->name == NULL) workflow_id = json_get_text(definition, "workflowId");
  if (workflow_id == NULL) {
    if (!amc_library_require(&lib, lib.workflow_id_from_name != NULL, "workflow_id_from_name")) {
      rc = EXIT_CONFIG;
      goto done;
    }
    char name[1024];
    if (o->name != NULL) {
      snprintf(name, sizeof name, "%s", o->name);
    } else {
      /* The file's name without its folder and extension. */
      const char *path = o->file != NULL ? o->file : o->definition_file;
      const char *base = strrchr(path, '/');
      snprintf(name, sizeof name, "%s", base ? base + 1 : path);
      char *dot = strrchr(name, '.');
      if (dot != NULL && dot != name) *dot = '\0';
    }
    amc_status status = AMC_OK;
    derived = derive_workflow_id(name, &status);
    if (derived == NULL) {
      rc = report(status);
      goto done;
    }
    workflow_id = derived;
  }
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append(&request, ",\"workflow\":{");
  text_append_member(&request, "workflowId", workflow_id);
  text_append_member(&request, "sqlQuery", sql != NULL ? sql : json_get_text(definition, "sqlQuery"));
  for (size_t i = 0; definition != NULL && i < definition->count; ++i) {
    if (strcmp(definition->keys[i], "workflowId") == 0 || strcmp(definition->keys[i], "sqlQuery") == 0) continue;
    text_append(&request, ",");
    text_append_json_string(&request, definition->keys[i]);
    text_append(&request, ":");
    json_write(&request, &definition->items[i], NULL);
  }
  text_append(&request, "}");
  rc = call_and_finish(ctx, lib.workflow_sync, &request, print_sync);
done:
  free(sql);
  if (derived != NULL) lib.free(derived);
  json_free(definition);
  return rc;
}

static const char *workflow_argument(const context *ctx) {
  if (ctx->argument != NULL) return ctx->argument;
  return ctx->o->id != NULL ? ctx->o->id : ctx->o->workflow_id;
}

static int cmd_workflow_get(context *ctx) {
  REQUIRE(workflow_get);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "workflow_id", workflow_argument(ctx));
  return call_and_finish(ctx, lib.workflow_get, &request, print_workflow);
}

static int cmd_workflow_list(context *ctx) {
  REQUIRE(workflow_list);
  text_buffer request;
  request_begin(ctx, &request, 1);
  return call_and_finish(ctx, lib.workflow_list, &request, print_workflows);
}

static int cmd_workflow_delete(context *ctx) {
  REQUIRE(workflow_delete);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "workflow_id", workflow_argument(ctx));
  char *result = NULL;
  amc_status status = send_request(ctx, lib.workflow_delete, &request, &result);
  if (status == AMC_OK && !ctx->o->json) {
    printf("deleted workflow %s\n", workflow_argument(ctx));
    lib.free(result);
    return EXIT_OK;
  }
  return finish(ctx, status, result, NULL);
}

/* Waits for an execution with a progress line; Ctrl-C cancels the wait
 * (not the execution). Returns the exit code; the final execution JSON in
 * *out when asked and successful. */
static int wait_for(context *ctx, const char *amc_execution_id, const char *label, char **out) {
  REQUIRE(execution_wait);
  REQUIRE(cancel_token_new);
  REQUIRE(cancel_token_cancel);
  REQUIRE(cancel_token_free);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "amc_execution_id", amc_execution_id);
  long first_poll = ctx->o->poll_ms > 0 ? ctx->o->poll_ms : ctx->using_sandbox ? 1000 : 0;
  long max_poll = ctx->o->max_poll_ms > 0 ? ctx->o->max_poll_ms : ctx->using_sandbox ? 2000 : 0;
  if (first_poll > 0 && max_poll == 0) max_poll = first_poll > 60000 ? first_poll : 60000;
  if (first_poll == 0 && max_poll > 0) first_poll = max_poll < 5000 ? max_poll : 5000;
  if (first_poll > 0) text_appendf(&request, ",\"first_poll_ms\":%ld,\"max_poll_ms\":%ld", first_poll, max_poll);
  text_append(&request, "}");

  amc_cancel_token *token = NULL;
  amc_status status = lib.cancel_token_new(&token);
  if (status != AMC_OK) {
    text_free(&request);
    return report(status);
  }
  interrupts_cancel_wait(token);
  progress_state progress;
  progress_begin(&progress, ctx, label);
  char *result = NULL;
  status = lib.execution_wait(ctx->client, request.data, token, on_progress, &progress, &result);
  progress_end(&progress);
  interrupts_cancel_wait(NULL);
  text_free(&request);
  if (status != AMC_OK) {
    int rc = report(status);
    lib.cancel_token_free(token);
    if (status == AMC_E_CANCELLED || status == AMC_E_TIMEOUT)
      fprintf(stderr, "amcctl: the execution keeps running in AMC; stop it with: amcctl cancel %s\n",
              amc_execution_id);
    return rc;
  }
  lib.cancel_token_free(token);
  if (out != NULL) *out = result;
  else lib.free(result);
  return EXIT_OK;
}

static int download(context *ctx, const char *amc_execution_id, const char *directory, const char *label) {
  REQUIRE(results_download);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "amc_execution_id", amc_execution_id);
  text_append_member(&request, "directory", directory);
  text_append(&request, "}");
  /* Folders the download creates are removed again when it fails empty
   * (rmdir removes only empty ones): a refused download leaves nothing. */
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", directory);
  char *slash = strrchr(parent, '/');
  if (slash != NULL) *slash = '\0';
  struct stat info;
  const int directory_existed = stat(directory, &info) == 0;
  const int parent_existed = slash == NULL || stat(parent, &info) == 0;
  progress_state progress;
  progress_begin(&progress, ctx, label);
  char *manifest = NULL;
  amc_status status = lib.results_download(ctx->client, request.data, on_progress, &progress, &manifest);
  progress_end(&progress);
  text_free(&request);
  if (status != AMC_OK) {
    int rc = report(status);
    if (!directory_existed) rmdir(directory);
    if (!parent_existed) rmdir(parent);
    return rc;
  }
  set_manifest_head(ctx->o->head);
  return finish(ctx, status, manifest, print_manifest);
}

static int cmd_run(context *ctx) {
  REQUIRE(execution_submit);
  const options *o = ctx->o;
  text_buffer request;
  request_begin(ctx, &request, 1);
  if (o->execution_id != NULL) text_append_member(&request, "execution_id", o->execution_id);
  text_append(&request, ",\"request\":{");
  if (o->workflow_id != NULL) {
    text_append_member(&request, "workflowId", o->workflow_id);
  } else {
    char *sql = read_query_file(o->sql_file);
    if (sql == NULL) {
      text_free(&request);
      return EXIT_USAGE;
    }
    text_append(&request, "\"workflow\":{");
    text_append_member(&request, "sqlQuery", sql);
    text_append(&request, "}");
    free(sql);
  }
  const char *window = o->window != NULL ? o->window : (o->start != NULL ? "EXPLICIT" : NULL);
  if (window != NULL) text_append_member(&request, "timeWindowType", window);
  if (o->start != NULL) text_append_member(&request, "timeWindowStart", o->start);
  if (o->end != NULL) text_append_member(&request, "timeWindowEnd", o->end);
  if (o->time_zone != NULL) text_append_member(&request, "timeWindowTimeZone", o->time_zone);
  if (o->param_count > 0) {
    text_append(&request, ",\"parameterValues\":{");
    for (int i = 0; i < o->param_count; ++i) {
      /* NAME=VALUE: the name ends at the first '=', the value may hold more. */
      const char *equals = strchr(o->params[i], '=');
      char *name = strndup(o->params[i], (size_t)(equals - o->params[i]));
      if (name == NULL) {
        fputs("amcctl: out of memory\n", stderr);
        abort();
      }
      text_append_member(&request, name, equals + 1);
      free(name);
    }
    text_append(&request, "}");
  }
  if (o->dry_run) text_append(&request, ",\"dryRun\":true");
  text_append(&request, "}}");

  char *submitted_json = NULL;
  amc_status status = lib.execution_submit(ctx->client, request.data, &submitted_json);
  text_free(&request);
  if (status != AMC_OK) return report(status);
  json_value *submitted = json_parse(submitted_json, NULL, 0);
  lib.free(submitted_json);
  const char *execution_id = json_get_text(submitted, "execution_id");
  const char *amc_execution_id = json_get_text(submitted, "amc_execution_id");
  if (amc_execution_id == NULL) {
    fprintf(stderr, "amcctl: the submit response has no amc_execution_id\n");
    json_free(submitted);
    return EXIT_OTHER;
  }
  if (!o->json)
    fprintf(stderr, "amcctl: %s %s (AMC execution %s)\n",
            json_get(submitted, "reattached") && json_get(submitted, "reattached")->type == JSON_TRUE
                ? "re-attached to"
                : "submitted",
            text_or(execution_id, "?"), amc_execution_id);

  const char *label = execution_id != NULL ? execution_id : amc_execution_id;
  if (o->no_wait) {
    /* The submit answer as it is: ids, reattached, the execution. */
    int rc = EXIT_OK;
    if (o->json) {
      text_buffer out;
      text_init(&out);
      json_write(&out, submitted, NULL);
      rc = print_json(ctx, out.data);
      text_free(&out);
    } else {
      printf("%s\t%s\n", text_or(execution_id, "-"), amc_execution_id);
      fprintf(stderr, "amcctl: not waiting; follow it with: amcctl status %s, then amcctl results %s\n", label,
              label);
    }
    json_free(submitted);
    return rc;
  }
  char *final = NULL;
  int rc = wait_for(ctx, amc_execution_id, label, o->dry_run ? &final : NULL);
  if (rc == EXIT_OK && o->dry_run) {
    /* AMC only validated the query: there is nothing to download. */
    rc = finish(ctx, AMC_OK, final, print_dry_run);
  } else if (rc == EXIT_OK) {
    char directory[4096];
    if (o->out_dir != NULL) snprintf(directory, sizeof directory, "%s", o->out_dir);
    else snprintf(directory, sizeof directory, "amc-results/%s", label);
    rc = download(ctx, amc_execution_id, directory, label);
  }
  json_free(submitted);
  return rc;
}

/* Sends a request for the execution the command line names through call. */
static amc_status call_for_execution(const context *ctx, json_call call, char **result) {
  text_buffer request;
  request_begin(ctx, &request, 1);
  append_execution_name(ctx, &request);
  return send_request(ctx, call, &request, result);
}

static int cmd_status(context *ctx) {
  REQUIRE(execution_get);
  char *result = NULL;
  amc_status status = call_for_execution(ctx, lib.execution_get, &result);
  return finish(ctx, status, result, print_execution);
}

static int cmd_cancel(context *ctx) {
  REQUIRE(execution_cancel);
  char *result = NULL;
  amc_status status = call_for_execution(ctx, lib.execution_cancel, &result);
  return finish(ctx, status, result, print_execution);
}

static int cmd_results(context *ctx) {
  REQUIRE(execution_get);
  /* Resolve a journaled execution_id to AMC's id first, so the download
   * directory and messages name the execution the same way run does. */
  char *result = NULL;
  amc_status status = call_for_execution(ctx, lib.execution_get, &result);
  if (status != AMC_OK) return report(status);
  json_value *execution = json_parse(result, NULL, 0);
  lib.free(result);
  const char *amc_id = json_get_text(execution, "workflowExecutionId");
  if (amc_id == NULL) amc_id = ctx->o->amc_execution_id != NULL ? ctx->o->amc_execution_id : ctx->argument;
  const char *label = ctx->o->execution_id != NULL ? ctx->o->execution_id : ctx->argument ? ctx->argument : amc_id;
  /* Only a SUCCEEDED execution has results: say what it is instead,
   * before any folder is made (libamc's "terminal" and "phase"). */
  const char *phase = json_get_text(execution, "phase");
  if (phase != NULL && strcmp(phase, "succeeded") != 0) {
    const json_value *terminal = json_get(execution, "terminal");
    const char *shown = text_or(json_get_text(execution, "status"), phase);
    int rc;
    if (terminal != NULL && terminal->type == JSON_TRUE) {
      fprintf(stderr, "amcctl: execution %s was %s: it has no results to download%s\n", label,
              strcmp(phase, "cancelled") == 0 ? "cancelled" : shown,
              strcmp(phase, "cancelled") == 0 ? " (run it again to get them)" : "");
      rc = EXIT_EXECUTION;
    } else {
      fprintf(stderr, "amcctl: execution %s is %s: its results can be downloaded once it has SUCCEEDED; follow it "
                      "with: amcctl status %s\n", label, shown, label);
      rc = EXIT_OTHER;
    }
    json_free(execution);
    return rc;
  }
  char directory[4096];
  if (ctx->o->out_dir != NULL) snprintf(directory, sizeof directory, "%s", ctx->o->out_dir);
  else snprintf(directory, sizeof directory, "amc-results/%s", label);
  int rc = download(ctx, amc_id, directory, label);
  json_free(execution);
  return rc;
}

static void print_executions(const json_value *document) {
  const json_value *executions = json_get(document, "executions");
  for (size_t i = 0; executions != NULL && i < executions->count; ++i) {
    const json_value *execution = json_at(executions, i);
    printf("%s\t%s\t%s\t%s\n", text_or(json_get_text(execution, "workflowExecutionId"), "?"),
           text_or(json_get_text(execution, "status"), "?"), text_or(json_get_text(execution, "workflowId"), "-"),
           text_or(json_get_text(execution, "createTime"), text_or(json_get_text(execution, "creationTime"), "")));
  }
  if (executions == NULL || executions->count == 0) puts("(no executions)");
}

/* executions list: amc_execution_list (every page of AMC's list) with the
 * filters of the command line; --limit cuts what is shown. Without
 * --workflow-id or --since, the last 7 days (AMC needs one of them). */
static int cmd_executions_list(context *ctx) {
  REQUIRE(execution_list);
  const options *o = ctx->o;
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append(&request, ",\"filters\":{");
  char since[32];
  if (o->since == NULL && o->workflow_id == NULL) {
    time_t week_ago = time(NULL) - 7 * 24 * 3600;
    struct tm utc;
    gmtime_r(&week_ago, &utc);
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S", &utc);
    text_append_member(&request, "minCreationTime", since);
  }
  if (o->since != NULL) text_append_member(&request, "minCreationTime", o->since);
  if (o->workflow_id != NULL) text_append_member(&request, "workflowId", o->workflow_id);
  if (o->until != NULL) text_append_member(&request, "maxCreationTime", o->until);
  if (o->time_zone != NULL) text_append_member(&request, "timeZone", o->time_zone);
  if (o->include_cancelled) text_append(&request, ",\"includeCancelled\":true");
  text_appendf(&request, ",\"sortAscending\":%s", o->ascending ? "true" : "false");
  if (o->page_size > 0) text_appendf(&request, ",\"limit\":%ld", o->page_size);
  text_append(&request, "}");
  char *result = NULL;
  amc_status status = send_request(ctx, lib.execution_list, &request, &result);
  if (status == AMC_OK && o->limit > 0) {
    /* Keep the first --limit executions, in the library's own JSON. */
    json_value *document = json_parse(result, NULL, 0);
    const json_value *executions = json_get(document, "executions");
    if (executions != NULL && executions->count > (size_t)o->limit) {
      text_buffer cut;
      text_init(&cut);
      text_append(&cut, "{\"executions\":[");
      for (long i = 0; i < o->limit; ++i) {
        if (i > 0) text_append(&cut, ",");
        json_write(&cut, json_at(executions, (size_t)i), NULL);
      }
      text_append(&cut, "]}");
      lib.free(result);
      json_free(document);
      int rc = EXIT_OK;
      if (o->json) rc = print_json(ctx, cut.data);
      else {
        json_value *shown = json_parse(cut.data, NULL, 0);
        print_executions(shown);
        json_free(shown);
      }
      text_free(&cut);
      return rc;
    }
    json_free(document);
  }
  return finish(ctx, status, result, print_executions);
}

/* store list / store rotate-keys: the store alone, no client. */
static int with_store(context *ctx, int rotate) {
  amc_store *store = NULL;
  amc_status status = lib.store_new(ctx->store_config.data, &store);
  if (status != AMC_OK) return report(status);
  char *result = NULL;
  status = rotate ? lib.store_rotate_keys(store, &result) : lib.store_list_credentials(store, &result);
  int rc = finish(ctx, status, result, rotate ? print_rotation : print_credentials);
  lib.store_free(store);
  return rc;
}

static int cmd_store_list(context *ctx) { return with_store(ctx, 0); }

static int cmd_store_rotate(context *ctx) { return with_store(ctx, 1); }

static int cmd_sandbox_start(context *ctx) {
  if (ctx->o->json) {
    text_buffer out;
    text_init(&out);
    json_write(&out, ctx->sandbox.summary, NULL);
    int rc = print_json(ctx, out.data);
    text_free(&out);
    return rc;
  } else {
    printf("amc-sandbox %s at %s (pid %ld), state in %s\n", ctx->sandbox.started_here ? "started" : "already running",
           text_or(json_get_text(ctx->sandbox.summary, "url"), "?"), (long)ctx->sandbox.pid, ctx->sandbox.directory);
    printf("instance %s, advertiser %s, marketplace %s\n",
           text_or(json_get_text(ctx->sandbox.summary, "instance_id"), "?"),
           text_or(json_get_text(ctx->sandbox.summary, "advertiser_id"), "?"),
           text_or(json_get_text(ctx->sandbox.summary, "marketplace_id"), "?"));
  }
  return EXIT_OK;
}

static int cmd_sandbox_stop(context *ctx) {
  const int stopped = sandbox_stop_running(&ctx->sandbox);
  if (ctx->o->json) {
    text_buffer out;
    text_init(&out);
    text_append(&out, "{");
    text_append_member(&out, "directory", ctx->sandbox.directory);
    text_appendf(&out, ",\"stopped\":%s}", stopped ? "true" : "false");
    int rc = print_json(ctx, out.data);
    text_free(&out);
    return rc;
  }
  if (stopped) printf("stopped the amc-sandbox of %s\n", ctx->sandbox.directory);
  else printf("no amc-sandbox running for %s\n", ctx->sandbox.directory);
  return EXIT_OK;
}

/* ------------------------------------------------------------------------
 * The command table: resolve_command finds a row by its words, dispatch
 * runs it.
 * --------------------------------------------------------------------- */

const command_entry commands[] = {
    {"auth", "login", CMD_AUTH_LOGIN, 0, 1, cmd_auth_login},
    {"auth", "status", CMD_AUTH_STATUS, 0, 1, cmd_auth_status},
    {"auth", "refresh", CMD_AUTH_REFRESH, 0, 1, cmd_auth_refresh},
    {"auth", "import", CMD_AUTH_IMPORT, 0, 1, cmd_auth_import},
    {"auth", "logout", CMD_AUTH_LOGOUT, 0, 0, cmd_auth_logout},
    {"accounts", NULL, CMD_ACCOUNTS, 0, 1, cmd_accounts},
    {"instances", NULL, CMD_INSTANCES, 0, 1, cmd_instances},
    {"workflow", "sync", CMD_WORKFLOW_SYNC, 0, 1, cmd_workflow_sync},
    {"workflow", "get", CMD_WORKFLOW_GET, 1, 1, cmd_workflow_get},
    {"workflow", "list", CMD_WORKFLOW_LIST, 0, 1, cmd_workflow_list},
    {"workflow", "delete", CMD_WORKFLOW_DELETE, 1, 1, cmd_workflow_delete},
    {"workflow", "check", CMD_WORKFLOW_CHECK, 1, 1, cmd_workflow_check},
    {"tables", NULL, CMD_TABLES, 0, 1, cmd_tables},
    {"columns", NULL, CMD_COLUMNS, 1, 1, cmd_columns},
    {"quota", NULL, CMD_QUOTA, 0, 1, cmd_quota},
    {"run", NULL, CMD_RUN, 0, 1, cmd_run},
    {"status", NULL, CMD_STATUS, 1, 1, cmd_status},
    {"cancel", NULL, CMD_CANCEL, 1, 1, cmd_cancel},
    {"results", NULL, CMD_RESULTS, 1, 1, cmd_results},
    {"executions", "list", CMD_EXECUTIONS_LIST, 0, 1, cmd_executions_list},
    {"store", "list", CMD_STORE_LIST, 0, 0, cmd_store_list},
    {"store", "rotate-keys", CMD_STORE_ROTATE, 0, 0, cmd_store_rotate},
    {"schedule", "create", CMD_SCHEDULE_CREATE, 1, 1, cmd_schedule_create},
    {"schedule", "get", CMD_SCHEDULE_GET, 1, 1, cmd_schedule_get},
    {"schedule", "list", CMD_SCHEDULE_LIST, 0, 1, cmd_schedule_list},
    {"schedule", "update", CMD_SCHEDULE_UPDATE, 1, 1, cmd_schedule_update},
    {"schedule", "delete", CMD_SCHEDULE_DELETE, 1, 1, cmd_schedule_delete},
    {"sandbox", "start", CMD_SANDBOX_START, 0, 0, cmd_sandbox_start},
    {"sandbox", "stop", CMD_SANDBOX_STOP, 0, 0, cmd_sandbox_stop},
    /* Run by main before anything is loaded (run is NULL). */
    {"configure", NULL, CMD_CONFIGURE, 0, 0, NULL},
    {"help", NULL, CMD_HELP, 2, 0, NULL},
    {"man", NULL, CMD_MAN, 0, 0, NULL},
    {"completion", NULL, CMD_COMPLETION, 1, 0, NULL}};

const size_t command_count = sizeof commands / sizeof commands[0];

/* Opens the client when the command needs one, then runs it. */
int dispatch(context *ctx) {
  for (size_t i = 0; i < command_count; ++i) {
    if (commands[i].id != ctx->cmd || commands[i].run == NULL) continue;
    if (commands[i].needs_client) {
      int rc = open_client(ctx);
      if (rc != EXIT_OK) return rc;
    }
    return commands[i].run(ctx);
  }
  return EXIT_OTHER;
}
