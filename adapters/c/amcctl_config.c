/* amcctl_config.c — where a run gets its settings: --config / $AMC_CONFIG
 * or the sandbox (--sandbox), the command defaults, and the client. */
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

static const char *first_set(const char *a, const char *b, const char *c, const char *d) {
  if (a != NULL && a[0] != '\0') return a;
  if (b != NULL && b[0] != '\0') return b;
  if (c != NULL && c[0] != '\0') return c;
  return d;
}

/* Reads --config / $AMC_CONFIG or sets up the sandbox; fills the defaults
 * and the config texts. Returns EXIT_OK or an exit code after a message. */
int load_configuration(context *ctx) {
  options *o = ctx->o;
  text_init(&ctx->client_config);
  text_init(&ctx->store_config);
  const json_value *defaults = NULL;
  const char *sandbox_instance = NULL, *sandbox_advertiser = NULL, *sandbox_marketplace = NULL;

  if (ctx->using_sandbox) {
    if (!sandbox_prepare_directory(&ctx->sandbox, o->sandbox_dir)) return EXIT_CONFIG;
    if (ctx->cmd == CMD_SANDBOX_STOP) return EXIT_OK;
    if (!sandbox_load_fernet_key(&ctx->sandbox)) return EXIT_CONFIG;
    sandbox_store_config(&ctx->sandbox, &ctx->store_config);
    const int needs_server = ctx->cmd != CMD_STORE_LIST && ctx->cmd != CMD_STORE_ROTATE && ctx->cmd != CMD_SANDBOX_STOP;
    if (needs_server) {
      if (!o->keep_sandbox) interrupts_stop_sandbox(&ctx->sandbox);
      if (!sandbox_attach_or_start(&ctx->sandbox, o->sandbox_time_scale)) return EXIT_CONFIG;
      if (ctx->sandbox.started_here && !ctx->o->json && ctx->cmd != CMD_SANDBOX_START)
        fprintf(stderr, "amcctl: started amc-sandbox (pid %ld) at %s, state in %s\n", (long)ctx->sandbox.pid,
                json_get_text(ctx->sandbox.summary, "url"), ctx->sandbox.directory);
      if (!sandbox_client_config(&ctx->sandbox, &ctx->client_config)) return EXIT_CONFIG;
      sandbox_instance = json_get_text(ctx->sandbox.summary, "instance_id");
      sandbox_advertiser = json_get_text(ctx->sandbox.summary, "advertiser_id");
      sandbox_marketplace = json_get_text(ctx->sandbox.summary, "marketplace_id");
    }
  } else {
    const char *path = o->config_file != NULL ? o->config_file : getenv("AMC_CONFIG");
    if (path != NULL && path[0] != '\0') {
      char *text = read_text_file(path);
      if (text == NULL) {
        fprintf(stderr, "amcctl: cannot read the config file %s: %s\n", path, strerror(errno));
        return EXIT_CONFIG;
      }
      char error[256];
      ctx->config = json_parse(text, error, sizeof error);
      free(text);
      if (ctx->config == NULL || ctx->config->type != JSON_OBJECT) {
        fprintf(stderr, "amcctl: the config file %s is not a JSON object: %s\n", path,
                ctx->config == NULL ? error : "wrong type");
        return EXIT_CONFIG;
      }
      defaults = json_get(ctx->config, "defaults");
      if (defaults != NULL && defaults->type != JSON_OBJECT) {
        fprintf(stderr, "amcctl: \"defaults\" in %s must be an object\n", path);
        return EXIT_CONFIG;
      }
      json_write(&ctx->client_config, ctx->config, "defaults");
      const json_value *store = json_get(ctx->config, "store");
      if (store != NULL)
        json_write(&ctx->store_config, store, NULL);
      else
        text_append(&ctx->store_config, "{}");
    } else {
      text_append(&ctx->client_config, "{}");
      text_append(&ctx->store_config, "{}");
    }
  }
  ctx->credential = first_set(o->credential, getenv("AMC_CREDENTIAL"), json_get_text(defaults, "credential_id"),
                              ctx->using_sandbox ? "sandbox" : "default");
  ctx->instance_id = first_set(o->instance_id, getenv("AMC_INSTANCE_ID"), json_get_text(defaults, "instance_id"),
                               sandbox_instance);
  ctx->advertiser_id = first_set(o->advertiser_id, getenv("AMC_ADVERTISER_ID"),
                                 json_get_text(defaults, "advertiser_id"), sandbox_advertiser);
  ctx->marketplace_id = first_set(o->marketplace_id, getenv("AMC_MARKETPLACE_ID"),
                                  json_get_text(defaults, "marketplace_id"), sandbox_marketplace);
  ctx->redirect_uri = first_set(o->redirect_uri, json_get_text(defaults, "redirect_uri"), NULL,
                                ctx->using_sandbox ? "https://127.0.0.1/amcctl/callback" : NULL);
  return EXIT_OK;
}

static void log_to_stderr(int level, const char *message, void *user) {
  (void)user;
  const char *name = level >= AMC_LOG_ERROR     ? "error"
                     : level >= AMC_LOG_WARNING ? "warning"
                     : level >= AMC_LOG_INFO    ? "info"
                                                : "debug";
  fprintf(stderr, "libamc %s: %s\n", name, message);
}

int open_client(context *ctx) {
  if (!amc_library_require(&lib, lib.client_new != NULL && lib.client_free != NULL, "client_new")) return EXIT_CONFIG;
  amc_status status = lib.client_new(ctx->client_config.data, &ctx->client);
  /* The config may hold the LwA client secret: drop it now. */
  memset(ctx->client_config.data, 0, ctx->client_config.length);
  if (status != AMC_OK) return report(status);
  if (ctx->o->verbose && lib.client_set_log != NULL) {
    status = lib.client_set_log(ctx->client, log_to_stderr, NULL, AMC_LOG_INFO);
    if (status != AMC_OK) return report(status);
  }
  return EXIT_OK;
}
