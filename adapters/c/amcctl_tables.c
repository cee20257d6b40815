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

/* The cells of one row of a three-column table; `scratch` (32 bytes) may
 * hold a cell's text. */
typedef void (*row_cells)(const json_value *item, const char *cells[3], char *scratch);

/* A header and one row per item, the first two columns padded to their
 * widest cell. */
static void print_rows(const json_value *items, const char *const header[3], row_cells cells) {
  const size_t rows = (items != NULL ? items->count : 0) + 1;
  const char **table = calloc(rows * 3, sizeof *table);
  char(*scratch)[32] = calloc(rows, sizeof *scratch);
  if (table == NULL || scratch == NULL) abort();
  for (size_t column = 0; column < 3; ++column) table[column] = header[column];
  for (size_t row = 1; row < rows; ++row) cells(json_at(items, row - 1), &table[row * 3], scratch[row]);
  size_t width[2] = {0, 0};
  for (size_t row = 0; row < rows; ++row)
    for (size_t column = 0; column < 2; ++column)
      if (display_width(table[row * 3 + column]) > width[column]) width[column] = display_width(table[row * 3 + column]);
  for (size_t row = 0; row < rows; ++row) {
    print_padded(table[row * 3], width[0] + 2);
    print_padded(table[row * 3 + 1], width[1] + 2);
    puts(table[row * 3 + 2]);
  }
  free(table);
  free(scratch);
}

static void table_cells(const json_value *source, const char *cells[3], char *scratch) {
  const json_value *columns = json_get(source, "columns");
  snprintf(scratch, 32, "%zu", columns != NULL ? columns->count : (size_t)0);
  cells[0] = text_or(json_get_text(source, "dataSourceId"), "?");
  cells[1] = scratch;
  cells[2] = text_or(json_get_text(source, "description"), "");
}

static void column_cells(const json_value *column, const char *cells[3], char *scratch) {
  (void)scratch;
  cells[0] = text_or(json_get_text(column, "name"), "?");
  cells[1] = text_or(json_get_text(column, "columnType"), "-");
  cells[2] = text_or(json_get_text(column, "description"), "");
}

static void print_tables(const json_value *document) {
  const json_value *sources = json_get(document, "dataSources");
  if (sources == NULL || sources->count == 0) {
    puts("(no tables)");
    return;
  }
  static const char *const header[3] = {"TABLE", "COLUMNS", "DESCRIPTION"};
  print_rows(sources, header, table_cells);
}

static void print_columns(const json_value *source) {
  const json_value *list = json_get(source, "columns");
  const size_t count = list != NULL ? list->count : 0;
  printf("%s: %zu column%s\n", text_or(json_get_text(source, "dataSourceId"), "?"), count, count == 1 ? "" : "s");
  if (count == 0) return;
  static const char *const header[3] = {"COLUMN", "TYPE", "DESCRIPTION"};
  print_rows(list, header, column_cells);
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
