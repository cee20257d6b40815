/* amcctl_output.c — what amcctl prints: a status as an exit code and an
 * error line, the library's JSON (--json) or a human rendering of it,
 * progress lines, and the first rows of a downloaded result. */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <cjson/cJSON.h>
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
 * Status → exit code, error printing
 * --------------------------------------------------------------------- */


static int exit_code_for(amc_status status) {
  switch (status) {
    case AMC_OK: return EXIT_OK;
    case AMC_E_INVALID_ARGUMENT: return EXIT_USAGE;
    case AMC_E_AUTH_REQUIRED: return EXIT_AUTH;
    case AMC_E_FORBIDDEN: return EXIT_FORBIDDEN;
    case AMC_E_NOT_FOUND: return EXIT_NOT_FOUND;
    case AMC_E_EXECUTION_FAILED: return EXIT_EXECUTION;
    case AMC_E_TIMEOUT: return EXIT_TIMEOUT;
    case AMC_E_NETWORK:
    case AMC_E_TLS:
    case AMC_E_REMOTE:
    case AMC_E_THROTTLED:
    case AMC_E_PROTOCOL: return EXIT_NETWORK;
    case AMC_E_CONFIG:
    case AMC_E_CRYPTO:
    case AMC_E_STORE: return EXIT_CONFIG;
    case AMC_E_CANCELLED: return EXIT_INTERRUPTED;
    case AMC_E_ADHOC_QUOTA: return EXIT_QUOTA;
    default: return EXIT_OTHER;
  }
}

/* Prints "amcctl: STATUS_NAME: message" (the library never puts a secret
 * in a message) and returns the exit code. Call right after the failing
 * call: the message is thread-local and replaced by the next call. */
int report(amc_status status) {
  fprintf(stderr, "amcctl: %s: %s\n", lib.status_name(status), lib.last_error());
  /* A credential the store does not have is "not logged in": the
   * authentication exit code. Told apart by the error's typed detail (never
   * its message): the store's not-found names the credential and has no
   * "http_status"; AMC's (a workflow, an execution) has one. */
  if (status == AMC_E_NOT_FOUND && lib.last_error_json != NULL) {
    json_value *detail = json_parse(lib.last_error_json(), NULL, 0);
    const int no_credential = json_get_text(detail, "credential_id") != NULL && json_get(detail, "http_status") == NULL;
    json_free(detail);
    if (no_credential) {
      fputs("amcctl: hint: not logged in: run 'amcctl auth login' (or 'amcctl auth import')\n", stderr);
      return EXIT_AUTH;
    }
  }
  if (status == AMC_E_AUTH_REQUIRED) fputs("amcctl: hint: run 'amcctl auth login'\n", stderr);
  else if (status == AMC_E_NETWORK)
    fputs("amcctl: hint: check that the endpoints are reachable from here (network, proxy, firewall; \"endpoints\" "
          "in the config; with --sandbox, that the sandbox still runs), then run the command again\n",
          stderr);
  else if (status == AMC_E_TLS)
    fputs("amcctl: hint: the server's certificate was not accepted: check the system clock, a TLS-intercepting "
          "proxy and \"tls\" (ca_file) in the config\n",
          stderr);
  else if (status == AMC_E_THROTTLED)
    fputs("amcctl: hint: AMC is throttling these requests; wait a few minutes and run the command again\n", stderr);
  return exit_code_for(status);
}

/* ------------------------------------------------------------------------
 * Requests and output
 * --------------------------------------------------------------------- */

/* Opens a request object with the credential, the instance (when asked)
 * and the timeout; the caller appends members and the closing brace. */
void request_begin(const context *ctx, text_buffer *request, int with_instance) {
  text_init(request);
  text_append(request, "{");
  text_append_member(request, "credential_id", ctx->credential);
  if (with_instance) {
    text_append(request, ",\"instance\":{");
    if (ctx->instance_id != NULL) text_append_member(request, "instance_id", ctx->instance_id);
    if (ctx->advertiser_id != NULL) text_append_member(request, "advertiser_id", ctx->advertiser_id);
    if (ctx->marketplace_id != NULL) text_append_member(request, "marketplace_id", ctx->marketplace_id);
    text_append(request, "}");
  }
  if (ctx->o->timeout_seconds > 0) text_appendf(request, ",\"timeout_ms\":%ld", ctx->o->timeout_seconds * 1000L);
}

enum { max_fields = 32 };

/* Keeps only the named members of object; counts in found[] the fields it
 * had. */
static void keep_fields(cJSON *object, char **fields, int count, int *found) {
  cJSON *child = object->child;
  while (child != NULL) {
    cJSON *next = child->next;
    int wanted = 0;
    for (int i = 0; i < count; ++i)
      if (strcmp(child->string, fields[i]) == 0) {
        wanted = 1;
        ++found[i];
      }
    if (!wanted) cJSON_Delete(cJSON_DetachItemViaPointer(object, child));
    child = next;
  }
}

/* --json=FIELDS: the fields of the document itself when it has any of
 * them, else of every object in its lists ({"executions": [...]} keeps its
 * shape, each execution cut to the fields). */
static int print_selected(const char *json, const char *selection) {
  char list[1024];
  snprintf(list, sizeof list, "%s", selection);
  char *fields[max_fields];
  int count = 0;
  for (char *field = strtok(list, ","); field != NULL && count < max_fields; field = strtok(NULL, ","))
    if (field[0] != '\0') fields[count++] = field;
  cJSON *document = cJSON_Parse(json);
  if (!cJSON_IsObject(document)) {
    cJSON_Delete(document);
    puts(json);
    return EXIT_OK;
  }
  int found[max_fields] = {0};
  int direct = 0, items = 0;
  for (int i = 0; i < count; ++i)
    if (cJSON_HasObjectItem(document, fields[i])) direct = 1;
  text_buffer known;
  text_init(&known);
  for (const cJSON *child = document->child; child != NULL; child = child->next)
    text_appendf(&known, "%s%s", known.length ? ", " : "", child->string);
  if (direct) {
    keep_fields(document, fields, count, found);
  } else {
    for (cJSON *child = document->child; child != NULL; child = child->next) {
      if (!cJSON_IsArray(child)) continue;
      for (cJSON *item = child->child; item != NULL; item = item->next)
        if (cJSON_IsObject(item)) {
          if (items++ == 0) {
            text_free(&known);
            text_init(&known);
            for (const cJSON *field = item->child; field != NULL; field = field->next)
              text_appendf(&known, "%s%s", known.length ? ", " : "", field->string);
          }
          keep_fields(item, fields, count, found);
        }
    }
  }
  int rc = EXIT_OK;
  for (int i = 0; i < count && rc == EXIT_OK; ++i)
    if (found[i] == 0 && (direct || items > 0))
      rc = usage_error("--json: the output has no field '%s'; its fields: %s", fields[i], known.data);
  int has_list = 0;
  for (const cJSON *child = document->child; child != NULL; child = child->next)
    if (cJSON_IsArray(child)) has_list = 1;
  /* Lists that are all empty: nothing to check the fields against. */
  if (!direct && items == 0 && !has_list && count > 0)
    rc = usage_error("--json: the output has no field '%s'; its fields: %s", fields[0], known.data);
  if (rc == EXIT_OK) {
    char *printed = cJSON_PrintUnformatted(document);
    puts(printed != NULL ? printed : "{}");
    cJSON_free(printed);
  }
  text_free(&known);
  cJSON_Delete(document);
  return rc;
}

int print_json(const context *ctx, const char *json) {
  if (json == NULL) json = "{}";
  if (ctx->o->json_fields == NULL) {
    puts(json);
    return EXIT_OK;
  }
  return print_selected(json, ctx->o->json_fields);
}

/* Ends a call: reports a failure, or prints the library's JSON (--json) or
 * a human rendering of it. Frees json. */
int finish(const context *ctx, amc_status status, char *json, human_printer human) {
  if (status != AMC_OK) return report(status);
  if (ctx->o->json || human == NULL) {
    int rc = print_json(ctx, json);
    lib.free(json);
    return rc;
  } else {
    json_value *document = json_parse(json, NULL, 0);
    if (document != NULL) human(document);
    else puts(json);
    json_free(document);
  }
  lib.free(json);
  return EXIT_OK;
}

/* Closes a request opened by request_begin, sends it and frees it. */
amc_status send_request(const context *ctx, json_call call, text_buffer *request, char **result) {
  text_append(request, "}");
  *result = NULL;
  amc_status status = call(ctx->client, request->data, result);
  text_free(request);
  return status;
}

/* send_request, then finish. */
int call_and_finish(const context *ctx, json_call call, text_buffer *request, human_printer human) {
  char *result = NULL;
  amc_status status = send_request(ctx, call, request, &result);
  return finish(ctx, status, result, human);
}

const char *text_or(const char *value, const char *fallback) { return value != NULL ? value : fallback; }

static const char *yes_no(const json_value *value) {
  return value != NULL && value->type == JSON_TRUE ? "yes" : "no";
}

void print_credential_status(const json_value *status) {
  printf("credential %s: %s\n", text_or(json_get_text(status, "credential_id"), "?"),
         text_or(json_get_text(status, "state"), "unknown"));
  printf("  client id:     %s\n", text_or(json_get_text(status, "client_id"), "-"));
  printf("  refresh token: %s\n", yes_no(json_get(status, "has_refresh_token")));
  printf("  access token:  %s", yes_no(json_get(status, "has_access_token")));
  if (json_get_text(status, "access_token_expires_at") != NULL)
    printf(" (expires %s)", json_get_text(status, "access_token_expires_at"));
  putchar('\n');
  const char *last_error = json_get_text(status, "last_error");
  if (last_error != NULL && last_error[0] != '\0') printf("  last error:    %s\n", last_error);
}

/* Every top-level scalar of an object, one "key: value" per line. */
static void print_scalars(const json_value *object, const char *indent) {
  if (object == NULL || object->type != JSON_OBJECT) return;
  for (size_t i = 0; i < object->count; ++i) {
    const json_value *item = &object->items[i];
    if (item->type == JSON_STRING || item->type == JSON_NUMBER)
      printf("%s%s: %s\n", indent, object->keys[i], item->text);
    else if (item->type == JSON_TRUE || item->type == JSON_FALSE)
      printf("%s%s: %s\n", indent, object->keys[i], item->type == JSON_TRUE ? "true" : "false");
  }
}

void print_execution(const json_value *execution) { print_scalars(execution, ""); }

void print_dry_run(const json_value *execution) {
  printf("dry run %s %s: AMC validated the query; a dry run has no results to download\n",
         text_or(json_get_text(execution, "workflowExecutionId"), "?"),
         text_or(json_get_text(execution, "status"), "?"));
}

void print_accounts(const json_value *document) {
  const json_value *accounts = json_get(document, "accounts");
  for (size_t i = 0; accounts != NULL && i < accounts->count; ++i) {
    const json_value *account = json_at(accounts, i);
    printf("%s\t%s\t%s\n", text_or(json_get_text(account, "accountId"), "?"),
           text_or(json_get_text(account, "marketplaceId"), "-"), text_or(json_get_text(account, "accountName"), ""));
  }
  if (accounts == NULL || accounts->count == 0) puts("(no accounts)");
}

void print_instances(const json_value *document) {
  const json_value *instances = json_get(document, "instances");
  for (size_t i = 0; instances != NULL && i < instances->count; ++i) {
    print_scalars(json_at(instances, i), "");
    if (i + 1 < instances->count) putchar('\n');
  }
  if (instances == NULL || instances->count == 0) puts("(no instances)");
}

void print_workflow(const json_value *workflow) {
  const json_value *inner = json_get(workflow, "workflow");
  if (inner != NULL) workflow = inner;
  print_scalars(workflow, "");
}

void print_workflows(const json_value *document) {
  const json_value *workflows = json_get(document, "workflows");
  for (size_t i = 0; workflows != NULL && i < workflows->count; ++i) {
    const json_value *workflow = json_at(workflows, i);
    const char *updated = json_get_text(workflow, "updatedTime");
    printf("%s%s%s\n", text_or(json_get_text(workflow, "workflowId"), "?"), updated ? "\t" : "",
           updated ? updated : "");
  }
  if (workflows == NULL || workflows->count == 0) puts("(no workflows)");
}

/* "ID: runs WORKFLOW Daily at 06:00 UTC" (Weekly: "on Monday"), and
 * "(disabled)" when AMC runs nothing. */
void print_schedule(const json_value *schedule) {
  const json_value *inner = json_get(schedule, "schedule");
  if (inner != NULL) schedule = inner;
  const json_value *enabled = json_get(schedule, "scheduleEnabled");
  const char *day = json_get_text(schedule, "aggregationStartDay");
  const char *period = text_or(json_get_text(schedule, "aggregationPeriod"), "?");
  printf("schedule %s: runs %s %s%s%s at %02d:00 UTC%s\n", text_or(json_get_text(schedule, "scheduleId"), "?"),
         text_or(json_get_text(schedule, "workflowId"), "?"), period,
         day != NULL && strcmp(period, "Weekly") == 0 ? " on " : "",
         day != NULL && strcmp(period, "Weekly") == 0 ? day : "",
         (int)json_number_or(json_get(schedule, "aggregationHourUtc"), 0),
         enabled != NULL && enabled->type == JSON_FALSE ? " (disabled)" : "");
}

void print_schedules(const json_value *document) {
  const json_value *schedules = json_get(document, "schedules");
  for (size_t i = 0; schedules != NULL && i < schedules->count; ++i) print_schedule(json_at(schedules, i));
  if (schedules == NULL || schedules->count == 0) puts("(no schedules)");
}

void print_credentials(const json_value *document) {
  const json_value *credentials = json_get(document, "credentials");
  for (size_t i = 0; credentials != NULL && i < credentials->count; ++i) {
    const json_value *credential = json_at(credentials, i);
    printf("%s\t%s\trefresh token: %s\tupdated %s\n", text_or(json_get_text(credential, "credential_id"), "?"),
           text_or(json_get_text(credential, "state"), "?"), yes_no(json_get(credential, "has_refresh_token")),
           text_or(json_get_text(credential, "updated_at"), "-"));
  }
  if (credentials == NULL || credentials->count == 0) puts("(no credentials)");
}

void print_rotation(const json_value *report_json) {
  printf("re-encrypted %s of %s credential(s) with the first key\n",
         text_or(json_get_text(report_json, "rotated"), "0"), text_or(json_get_text(report_json, "total"), "0"));
  const json_value *failed = json_get(report_json, "failed");
  for (size_t i = 0; failed != NULL && i < failed->count; ++i)
    printf("  not rotated: %s: %s\n", text_or(json_get_text(json_at(failed, i), "credential_id"), "?"),
           text_or(json_get_text(json_at(failed, i), "reason"), ""));
}

/* ------------------------------------------------------------------------
 * First rows of a CSV file, as an aligned table
 * --------------------------------------------------------------------- */

enum { max_columns = 32, max_cell = 28 };

/* The result's CSV dialect, as the library reports it in the manifest's
 * "output_format" (the workflow's outputFormat; AMC's defaults otherwise).
 * quote/escape: -1 for none. */
typedef struct csv_format {
  int separator;
  int quote;
  int escape;
} csv_format;

static int format_character(const json_value *format, const char *key, int fallback) {
  const json_value *value = json_get(format, key);
  if (value == NULL || value->type != JSON_STRING) return fallback;
  return value->text[0] != '\0' ? (unsigned char)value->text[0] : -1;
}

static csv_format manifest_format(const json_value *manifest) {
  const json_value *format = json_get(manifest, "output_format");
  csv_format f;
  f.separator = format_character(format, "separatorCharacter", ',');
  f.quote = format_character(format, "quoteCharacter", '"');
  f.escape = format_character(format, "escapeCharacter", '\\');
  return f;
}

static void append_char(text_buffer *text, int c) {
  const char one = (char)c;
  text_append_bytes(text, &one, 1);
}

/* Reads one record (quoted fields may hold separators and line breaks;
 * inside quotes a doubled quote is a quote and the escape character makes
 * a following quote or escape literal: the rules the library checks the
 * file with). The cells are malloc'd; returns their number, 0 at the end. */
static int read_record(FILE *file, const csv_format *format, char **cells) {
  text_buffer field;
  text_init(&field);
  int count = 0, in_quotes = 0, has_content = 0;
  for (;;) {
    int c = getc(file);
    if (c == EOF) {
      if (!has_content && count == 0) {
        text_free(&field);
        return 0;
      }
      break;
    }
    if (in_quotes) {
      if (c == format->escape && format->escape != format->quote) {
        int next = getc(file);
        if (next != EOF && (next == format->quote || next == format->escape)) {
          append_char(&field, next);
          continue;
        }
        if (next != EOF) ungetc(next, file);
        append_char(&field, c);
      } else if (c == format->quote) {
        int next = getc(file);
        if (next == format->quote) {
          append_char(&field, c);
        } else {
          if (next != EOF) ungetc(next, file);
          in_quotes = 0;
        }
      } else {
        append_char(&field, (c == '\n' || c == '\r' ? ' ' : c));
      }
      continue;
    }
    if (c == format->quote) {
      in_quotes = 1;
      has_content = 1;
    } else if (c == format->separator) {
      if (count < max_columns) cells[count] = strdup(field.data);
      ++count;
      field.length = 0;
      field.data[0] = '\0';
      has_content = 1;
    } else if (c == '\n') {
      if (has_content || count > 0) break;
    } else if (c != '\r') {
      append_char(&field, c);
      has_content = 1;
    }
  }
  if (count < max_columns) cells[count] = strdup(field.data);
  ++count;
  text_free(&field);
  return count < max_columns ? count : max_columns;
}

static void print_head(const char *path, long rows, const csv_format *format) {
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    fprintf(stderr, "amcctl: cannot read %s: %s\n", path, strerror(errno));
    return;
  }
  char *(*records)[max_columns] = calloc((size_t)rows + 1, sizeof *records);
  int *counts = calloc((size_t)rows + 1, sizeof *counts);
  long count = 0;
  while (records != NULL && counts != NULL && count <= rows &&
         (counts[count] = read_record(file, format, records[count])) > 0)
    ++count;
  fclose(file);
  size_t widths[max_columns] = {0};
  for (long i = 0; i < count; ++i)
    for (int c = 0; c < counts[i]; ++c) {
      size_t width = strlen(records[i][c]);
      if (width > max_cell) width = max_cell;
      if (width > widths[c]) widths[c] = width;
    }
  for (long i = 0; i < count; ++i) {
    for (int c = 0; c < counts[i]; ++c) {
      const char *cell = records[i][c];
      size_t length = strlen(cell);
      if (length > max_cell) printf("%.*s...", (int)max_cell - 3, cell);
      else printf("%s", cell);
      if (c + 1 < counts[i]) printf("%*s  ", (int)(widths[c] - (length > max_cell ? max_cell : length)), "");
      free(records[i][c]);
    }
    putchar('\n');
  }
  free(records);
  free(counts);
}

static long manifest_head = 5;

void set_manifest_head(long rows) { manifest_head = rows; }

void print_manifest(const json_value *manifest) {
  const json_value *files = json_get(manifest, "files");
  printf("downloaded %lu part(s), %s rows, %s bytes into %s\n", (unsigned long)(files ? files->count : 0),
         text_or(json_get_text(manifest, "total_rows"), "?"), text_or(json_get_text(manifest, "total_bytes"), "?"),
         text_or(json_get_text(manifest, "directory"), "?"));
  for (size_t i = 0; files != NULL && i < files->count; ++i) {
    const json_value *file = json_at(files, i);
    printf("  %s\t%s rows\t%s bytes\n", text_or(json_get_text(file, "path"), "?"),
           text_or(json_get_text(file, "rows"), "?"), text_or(json_get_text(file, "bytes"), "?"));
  }
  const char *first = json_get_text(json_at(files, 0), "path");
  if (first != NULL && manifest_head > 0) {
    printf("\nfirst rows of %s:\n", first);
    fflush(stdout);
    const csv_format format = manifest_format(manifest);
    print_head(first, manifest_head, &format);
  }
}

/* ------------------------------------------------------------------------
 * Progress (status, elapsed, next poll), on stderr
 * --------------------------------------------------------------------- */

static double seconds_since(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void progress_line(progress_state *state, const char *line) {
  if (state->terminal) {
    fprintf(stderr, "\r\033[K%s", line);
    state->line_open = 1;
  } else {
    fprintf(stderr, "%s\n", line);
  }
  fflush(stderr);
}

void progress_end(progress_state *state) {
  if (state->line_open) fputc('\n', stderr);
  state->line_open = 0;
}

/* Runs on a library thread: format and print only, never call libamc. */
void on_progress(const char *event_json, void *user) {
  progress_state *state = user;
  if (!state->enabled) return;
  json_value *event = json_parse(event_json, NULL, 0);
  if (event == NULL) return;
  char line[512];
  const char *kind = json_get_text(event, "event");
  const long elapsed = (long)seconds_since(&state->started);
  if (kind != NULL && strcmp(kind, "status") == 0) {
    const json_value *execution = json_get(event, "execution");
    const double next = json_number_or(json_get(event, "next_poll_ms"), 0) / 1000.0;
    int written = snprintf(line, sizeof line, "%s  %-10s  elapsed %ld:%02ld", state->label,
                           text_or(json_get_text(execution, "status"), "?"), elapsed / 60, elapsed % 60);
    /* libamc says when the execution is over ("terminal"): no next poll then. */
    const json_value *terminal = json_get(execution, "terminal");
    const int over = terminal != NULL && terminal->type == JSON_TRUE;
    if (!over && next > 0 && written > 0 && (size_t)written < sizeof line)
      snprintf(line + written, sizeof line - (size_t)written, "  next poll in %.1fs", next);
    progress_line(state, line);
  } else if (kind != NULL && strcmp(kind, "download") == 0) {
    snprintf(line, sizeof line, "%s  downloading part %s/%s  %s of %s bytes  elapsed %ld:%02ld", state->label,
             text_or(json_get_text(event, "part"), "?"), text_or(json_get_text(event, "parts"), "?"),
             text_or(json_get_text(event, "bytes"), "?"), text_or(json_get_text(event, "total_bytes"), "?"),
             elapsed / 60, elapsed % 60);
    progress_line(state, line);
  }
  json_free(event);
}

void progress_begin(progress_state *state, const context *ctx, const char *label) {
  memset(state, 0, sizeof *state);
  state->terminal = isatty(STDERR_FILENO);
  state->enabled = ctx->o->progress || state->terminal;
  state->label = label;
  clock_gettime(CLOCK_MONOTONIC, &state->started);
}
