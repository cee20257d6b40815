/* amcctl_tables.c — the commands for people writing AMC SQL: tables (the
 * instance's data sources), columns TABLE, workflow check FILE (the
 * pre-flight check: every table the SQL reads exists, and AMC compiles it
 * in a dry run, without spending an ad-hoc run) and quota (today's ad-hoc
 * runs of the instance). Human output is aligned text tables; --json gives
 * the library's documents (amc_data_source_list, amc_data_source_get,
 * amc_workflow_validate, amc_adhoc_quota in amc.h). */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Width of a cell in characters (UTF-8 continuation bytes do not count). */
static size_t display_width(const char *text) {
  size_t width = 0;
  for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; ++c)
    if ((*c & 0xC0) != 0x80) ++width;
  return width;
}

static void print_padded(const char *text, size_t width) {
  fputs(text, stdout);
  for (size_t pad = display_width(text); pad < width; ++pad) putchar(' ');
}

/* Rows of three columns, the first two padded to their widest cell. */
static void print_three_columns(const char *const *first, const char *const *second, const char *const *third,
                                size_t rows) {
  size_t width_first = 0, width_second = 0;
  for (size_t i = 0; i < rows; ++i) {
    if (display_width(first[i]) > width_first) width_first = display_width(first[i]);
    if (display_width(second[i]) > width_second) width_second = display_width(second[i]);
  }
  for (size_t i = 0; i < rows; ++i) {
    print_padded(first[i], width_first + 2);
    print_padded(second[i], width_second + 2);
    puts(third[i]);
  }
}

static void print_tables(const json_value *document) {
  const json_value *sources = json_get(document, "dataSources");
  const size_t count = sources != NULL ? sources->count : 0;
  if (count == 0) {
    puts("(no tables)");
    return;
  }
  const char **names = calloc(count + 1, sizeof *names);
  const char **columns = calloc(count + 1, sizeof *columns);
  const char **descriptions = calloc(count + 1, sizeof *descriptions);
  char(*counts)[32] = calloc(count + 1, sizeof *counts);
  if (names == NULL || columns == NULL || descriptions == NULL || counts == NULL) abort();
  names[0] = "TABLE";
  columns[0] = "COLUMNS";
  descriptions[0] = "DESCRIPTION";
  for (size_t i = 0; i < count; ++i) {
    const json_value *source = json_at(sources, i);
    names[i + 1] = text_or(json_get_text(source, "dataSourceId"), "?");
    const json_value *list = json_get(source, "columns");
    snprintf(counts[i + 1], sizeof counts[i + 1], "%zu", list != NULL ? list->count : (size_t)0);
    columns[i + 1] = counts[i + 1];
    descriptions[i + 1] = text_or(json_get_text(source, "description"), "");
  }
  print_three_columns(names, columns, descriptions, count + 1);
  free(names);
  free(columns);
  free(descriptions);
  free(counts);
}

static void print_columns(const json_value *source) {
  const json_value *list = json_get(source, "columns");
  const size_t count = list != NULL ? list->count : 0;
  printf("%s: %zu column%s\n", text_or(json_get_text(source, "dataSourceId"), "?"), count, count == 1 ? "" : "s");
  if (count == 0) return;
  const char **names = calloc(count + 1, sizeof *names);
  const char **types = calloc(count + 1, sizeof *types);
  const char **descriptions = calloc(count + 1, sizeof *descriptions);
  if (names == NULL || types == NULL || descriptions == NULL) abort();
  names[0] = "COLUMN";
  types[0] = "TYPE";
  descriptions[0] = "DESCRIPTION";
  for (size_t i = 0; i < count; ++i) {
    const json_value *column = json_at(list, i);
    names[i + 1] = text_or(json_get_text(column, "name"), "?");
    types[i + 1] = text_or(json_get_text(column, "columnType"), "-");
    descriptions[i + 1] = text_or(json_get_text(column, "description"), "");
  }
  print_three_columns(names, types, descriptions, count + 1);
  free(names);
  free(types);
  free(descriptions);
}

static void print_check(const json_value *report) {
  const json_value *tables = json_get(report, "tables");
  printf("OK: AMC compiled the SQL in a dry run (no ad-hoc run used)");
  if (tables != NULL && tables->count > 0) {
    printf("; it reads ");
    for (size_t i = 0; i < tables->count; ++i)
      printf("%s%s", i == 0 ? "" : ", ", text_or(json_text_of(json_at(tables, i)), "?"));
  }
  putchar('\n');
}

static void print_quota(const json_value *quota) {
  const double used = json_number_or(json_get(quota, "adhoc_executions_today"), 0);
  const double limit = json_number_or(json_get(quota, "adhoc_limit"), 30);
  printf("instance %s: %.0f of %.0f ad-hoc runs used today (UTC day from %s); %.0f left; resets at %s\n",
         text_or(json_get_text(quota, "instance_id"), "?"), used, limit,
         text_or(json_get_text(quota, "day_start"), "?"), json_number_or(json_get(quota, "adhoc_remaining"), 0),
         text_or(json_get_text(quota, "resets_at"), "00:00 UTC"));
}

int cmd_tables(context *ctx) {
  REQUIRE(data_source_list);
  text_buffer request;
  request_begin(ctx, &request, 1);
  if (ctx->o->filter != NULL) text_append_member(&request, "filter", ctx->o->filter);
  return call_and_finish(ctx, lib.data_source_list, &request, print_tables);
}

int cmd_columns(context *ctx) {
  REQUIRE(data_source_get);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "data_source_id", ctx->argument);
  return call_and_finish(ctx, lib.data_source_get, &request, print_columns);
}

int cmd_workflow_check(context *ctx) {
  REQUIRE(workflow_validate);
  char *sql = read_user_file(ctx->argument, "");
  if (sql == NULL) return EXIT_USAGE;
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append(&request, ",\"request\":{\"workflow\":{");
  text_append_member(&request, "sqlQuery", sql);
  text_append(&request, "}}");
  free(sql);
  char *result = NULL;
  const amc_status status = send_request(ctx, lib.workflow_validate, &request, &result);
  if (status == AMC_E_INVALID_ARGUMENT && ctx->o->json) {
    /* The failed check's report is the document a script reads. */
    json_value *detail = json_parse(lib.last_error_json(), NULL, 0);
    const json_value *preflight = json_get(detail, "preflight");
    if (preflight != NULL) {
      text_buffer out;
      text_init(&out);
      json_write(&out, preflight, NULL);
      puts(out.data);
      text_free(&out);
    }
    json_free(detail);
  }
  return finish(ctx, status, result, print_check);
}

int cmd_quota(context *ctx) {
  REQUIRE(adhoc_quota);
  text_buffer request;
  request_begin(ctx, &request, 1);
  return call_and_finish(ctx, lib.adhoc_quota, &request, print_quota);
}
