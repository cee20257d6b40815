/* amcctl_schedules.c — the schedule commands: create, get, list, update and
 * delete, through amc_schedule_* (AMC's createSchedule … deleteSchedule).
 * A schedule is AMC's Schedule object; the options name its fields
 * (--workflow-id workflowId, --period aggregationPeriod, --hour
 * aggregationHourUtc, --day aggregationStartDay, --enabled/--disabled
 * scheduleEnabled) and win over a --definition file's. */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *schedule_argument(const context *ctx) {
  return ctx->argument != NULL ? ctx->argument : ctx->o->schedule_id;
}

/* Whether an option (or the id) sets this field of the Schedule. */
static int option_sets(const options *o, const char *key) {
  return strcmp(key, "scheduleId") == 0 || (strcmp(key, "workflowId") == 0 && o->workflow_id != NULL) ||
         (strcmp(key, "aggregationPeriod") == 0 && o->period != NULL) ||
         (strcmp(key, "aggregationHourUtc") == 0 && o->hour >= 0) ||
         (strcmp(key, "aggregationStartDay") == 0 && o->day != NULL) ||
         (strcmp(key, "scheduleEnabled") == 0 && o->schedule_enabled != 0);
}

/* Appends "schedule": {...}: the fields of `base` (AMC's copy, for update;
 * may be NULL), then those of `definition` (may be NULL), then the options,
 * each source winning over the ones before it. */
static void append_schedule(text_buffer *request, const context *ctx, const char *id, const json_value *base,
                            const json_value *definition) {
  const options *o = ctx->o;
  text_append(request, ",\"schedule\":{");
  text_append_member(request, "scheduleId", id);
  const json_value *sources[2] = {base, definition};
  for (int s = 0; s < 2; ++s) {
    for (size_t i = 0; sources[s] != NULL && i < sources[s]->count; ++i) {
      const char *key = sources[s]->keys[i];
      if (option_sets(o, key)) continue;
      if (s == 0 && definition != NULL && json_get(definition, key) != NULL) continue;
      text_append(request, ",");
      text_append_json_string(request, key);
      text_append(request, ":");
      json_write(request, &sources[s]->items[i], NULL);
    }
  }
  if (o->workflow_id != NULL) text_append_member(request, "workflowId", o->workflow_id);
  if (o->period != NULL) text_append_member(request, "aggregationPeriod", o->period);
  if (o->hour >= 0) text_appendf(request, ",\"aggregationHourUtc\":%ld", o->hour);
  if (o->day != NULL) text_append_member(request, "aggregationStartDay", o->day);
  if (o->schedule_enabled != 0)
    text_appendf(request, ",\"scheduleEnabled\":%s", o->schedule_enabled > 0 ? "true" : "false");
  text_append(request, "}");
}

static void print_changed(const char *what, const json_value *schedule) {
  printf("%s ", what);
  print_schedule(schedule);
}

static void print_created(const json_value *schedule) { print_changed("created", schedule); }

static void print_updated(const json_value *schedule) { print_changed("updated", schedule); }

int cmd_schedule_create(context *ctx) {
  REQUIRE(schedule_create);
  const options *o = ctx->o;
  json_value *definition = NULL;
  if (o->schedule_definition_file != NULL &&
      (definition = read_amc_object_file(o->schedule_definition_file, "Schedule", "schedule")) == NULL)
    return EXIT_USAGE;
  const char *id = schedule_argument(ctx);
  if (id == NULL) id = json_get_text(definition, "scheduleId");
  if (id == NULL) {
    json_free(definition);
    return usage_error("%s has no \"scheduleId\": add it, or give the id (ID or --schedule-id)",
                       o->schedule_definition_file);
  }
  text_buffer request;
  request_begin(ctx, &request, 1);
  append_schedule(&request, ctx, id, NULL, definition);
  const int rc = call_and_finish(ctx, lib.schedule_create, &request, print_created);
  json_free(definition);
  return rc;
}

int cmd_schedule_get(context *ctx) {
  REQUIRE(schedule_get);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "schedule_id", schedule_argument(ctx));
  return call_and_finish(ctx, lib.schedule_get, &request, print_schedule);
}

int cmd_schedule_list(context *ctx) {
  REQUIRE(schedule_list);
  text_buffer request;
  request_begin(ctx, &request, 1);
  return call_and_finish(ctx, lib.schedule_list, &request, print_schedules);
}

/* AMC's update replaces the whole schedule: AMC's copy is read first, so an
 * option changes only its own field. */
int cmd_schedule_update(context *ctx) {
  REQUIRE(schedule_get);
  REQUIRE(schedule_update);
  const options *o = ctx->o;
  const char *id = schedule_argument(ctx);
  json_value *definition = NULL;
  if (o->schedule_definition_file != NULL &&
      (definition = read_amc_object_file(o->schedule_definition_file, "Schedule", "schedule")) == NULL)
    return EXIT_USAGE;
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "schedule_id", id);
  char *current_text = NULL;
  amc_status status = send_request(ctx, lib.schedule_get, &request, &current_text);
  if (status != AMC_OK) {
    json_free(definition);
    return finish(ctx, status, current_text, NULL);
  }
  char error[256] = "";
  json_value *current = json_parse(current_text, error, sizeof error);
  lib.free(current_text);
  request_begin(ctx, &request, 1);
  append_schedule(&request, ctx, id, current, definition);
  const int rc = call_and_finish(ctx, lib.schedule_update, &request, print_updated);
  json_free(current);
  json_free(definition);
  return rc;
}

int cmd_schedule_delete(context *ctx) {
  REQUIRE(schedule_delete);
  text_buffer request;
  request_begin(ctx, &request, 1);
  text_append_member(&request, "schedule_id", schedule_argument(ctx));
  char *result = NULL;
  amc_status status = send_request(ctx, lib.schedule_delete, &request, &result);
  if (status == AMC_OK && !ctx->o->json) {
    printf("deleted schedule %s\n", schedule_argument(ctx));
    lib.free(result);
    return EXIT_OK;
  }
  return finish(ctx, status, result, NULL);
}
