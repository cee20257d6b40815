/* amcctl_config.c — where a run gets its settings: --config, $AMC_CONFIG
 * or the default config file ($XDG_CONFIG_HOME/amcctl/config.json), one of
 * its profiles, the store's keys (a key file or the environment), or the
 * sandbox (--sandbox); the command defaults; the client; and configure,
 * which writes a profile. */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
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

int default_config_path(char *out, size_t size) {
  const char *xdg = getenv("XDG_CONFIG_HOME");
  const char *home = getenv("HOME");
  if (xdg != NULL && xdg[0] == '/') snprintf(out, size, "%s/amcctl/config.json", xdg);
  else if (home != NULL && home[0] != '\0') snprintf(out, size, "%s/.config/amcctl/config.json", home);
  else return 0;
  return 1;
}

/* Appends object's members except skip_a and skip_b (may be NULL), each
 * preceded by a comma unless text ends in '{'. */
static void append_members(text_buffer *text, const json_value *object, const char *skip_a, const char *skip_b) {
  for (size_t i = 0; object != NULL && i < object->count; ++i) {
    if ((skip_a != NULL && strcmp(object->keys[i], skip_a) == 0) ||
        (skip_b != NULL && strcmp(object->keys[i], skip_b) == 0))
      continue;
    if (text->length > 0 && text->data[text->length - 1] != '{') text_append(text, ",");
    text_append_json_string(text, object->keys[i]);
    text_append(text, ":");
    json_write(text, &object->items[i], NULL);
  }
}

/* The Fernet keys of a key file, comma-joined (one key a line, or
 * comma-separated; blanks ignored), appended to out as the store's
 * "fernet_keys" member. The file must be private: like ssh with its keys,
 * amcctl refuses one that others can read. Never echoes its text. */
static int append_key_file(text_buffer *out, const char *path) {
  struct stat info;
  if (stat(path, &info) != 0) {
    fprintf(stderr, "amcctl: cannot read the Fernet key file %s: %s\n", path, strerror(errno));
    return 0;
  }
  if (!S_ISREG(info.st_mode)) {
    fprintf(stderr, "amcctl: the Fernet key file %s is not a regular file\n", path);
    return 0;
  }
  if ((info.st_mode & 077) != 0) {
    fprintf(stderr, "amcctl: the Fernet key file %s can be read by others (mode %04o); make it private: chmod 600 %s\n",
            path, (unsigned)(info.st_mode & 07777), path);
    return 0;
  }
  char *text = read_user_file(path, "the Fernet key file ");
  if (text == NULL) return 0;
  text_buffer keys;
  text_init(&keys);
  for (char *p = text; *p != '\0';) {
    size_t length = strcspn(p, ",\n\r \t");
    if (length > 0) {
      if (keys.length > 0) text_append(&keys, ",");
      text_append_bytes(&keys, p, length);
    }
    p += length;
    if (*p != '\0') ++p;
  }
  memset(text, 0, strlen(text));
  free(text);
  if (keys.length == 0) {
    fprintf(stderr, "amcctl: the Fernet key file %s holds no key\n", path);
    text_free(&keys);
    return 0;
  }
  text_append_member(out, "fernet_keys", keys.data);
  memset(keys.data, 0, keys.length);
  text_free(&keys);
  return 1;
}

/* Picks the profile of a config file: the file itself, or with "profiles"
 * the one named by --profile, $AMCCTL_PROFILE, "default_profile" or
 * "default". NULL after a message. */
static const json_value *select_profile(const context *ctx, const char *path) {
  const char *wanted = first_set(ctx->o->profile, getenv("AMCCTL_PROFILE"), NULL, NULL);
  const json_value *profiles = json_get(ctx->config, "profiles");
  if (profiles == NULL) {
    if (wanted != NULL) {
      fprintf(stderr, "amcctl: the config file %s has no \"profiles\", so there is no profile '%s' "
                      "(write one with: amcctl --profile %s configure)\n", path, wanted, wanted);
      return NULL;
    }
    return ctx->config;
  }
  if (profiles->type != JSON_OBJECT) {
    fprintf(stderr, "amcctl: \"profiles\" in %s must be an object of named configs\n", path);
    return NULL;
  }
  for (size_t i = 0; i < ctx->config->count; ++i)
    if (strcmp(ctx->config->keys[i], "profiles") != 0 && strcmp(ctx->config->keys[i], "default_profile") != 0) {
      fprintf(stderr, "amcctl: %s has \"profiles\", so its only other key is \"default_profile\"; move \"%s\" "
                      "into a profile\n", path, ctx->config->keys[i]);
      return NULL;
    }
  const char *name = first_set(wanted, json_get_text(ctx->config, "default_profile"), NULL, "default");
  const json_value *profile = json_get(profiles, name);
  if (profile == NULL || profile->type != JSON_OBJECT) {
    text_buffer names;
    text_init(&names);
    for (size_t i = 0; i < profiles->count; ++i) text_appendf(&names, "%s%s", i ? ", " : "", profiles->keys[i]);
    fprintf(stderr, "amcctl: %s %s profile '%s' (its profiles: %s)\n", path,
            profile == NULL ? "has no" : "has a non-object", name, names.length ? names.data : "none");
    text_free(&names);
    return NULL;
  }
  return profile;
}

/* Reads the config (--config, $AMC_CONFIG, else the default config file
 * when it exists) or sets up the sandbox; fills the defaults and the config
 * texts. Returns EXIT_OK or an exit code after a message. */
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
    const int needs_server = ctx->cmd != CMD_STORE_LIST && ctx->cmd != CMD_STORE_ROTATE &&
                             ctx->cmd != CMD_SANDBOX_STOP && ctx->cmd != CMD_AUTH_LOGOUT;
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
    static char default_path[4096];
    const char *path = o->config_file != NULL ? o->config_file : getenv("AMC_CONFIG");
    if ((path == NULL || path[0] == '\0') && default_config_path(default_path, sizeof default_path) &&
        access(default_path, F_OK) == 0)
      path = default_path;
    const json_value *profile = NULL;
    if (path != NULL && path[0] != '\0') {
      ctx->config_path = path;
      char *text = read_user_file(path, "the config file ");
      if (text == NULL) return EXIT_CONFIG;
      char error[256];
      ctx->config = json_parse(text, error, sizeof error);
      free(text);
      if (ctx->config == NULL || ctx->config->type != JSON_OBJECT) {
        fprintf(stderr, "amcctl: the config file %s is not a JSON object: %s\n", path,
                ctx->config == NULL ? error : "wrong type");
        return EXIT_CONFIG;
      }
      profile = select_profile(ctx, path);
      if (profile == NULL) return EXIT_CONFIG;
      ctx->profile = profile;
      defaults = json_get(profile, "defaults");
      if (defaults != NULL && defaults->type != JSON_OBJECT) {
        fprintf(stderr, "amcctl: \"defaults\" in %s must be an object\n", path);
        return EXIT_CONFIG;
      }
    } else if (first_set(o->profile, getenv("AMCCTL_PROFILE"), NULL, NULL) != NULL) {
      char shown[4096] = "$XDG_CONFIG_HOME/amcctl/config.json";
      default_config_path(shown, sizeof shown);
      fprintf(stderr, "amcctl: profile '%s' asked for, but there is no config file (%s); write one with: amcctl "
                      "--profile %s configure\n", first_set(o->profile, getenv("AMCCTL_PROFILE"), NULL, NULL),
              shown, first_set(o->profile, getenv("AMCCTL_PROFILE"), NULL, NULL));
      return EXIT_CONFIG;
    }
    const json_value *store = json_get(profile, "store");
    if (store != NULL && store->type != JSON_OBJECT) {
      fprintf(stderr, "amcctl: \"store\" in %s must be an object (see amc_store_new)\n", path);
      return EXIT_CONFIG;
    }
    const char *key_file =
        first_set(o->fernet_key_file, getenv("AMC_FERNET_KEY_FILE"), json_get_text(defaults, "fernet_key_file"), NULL);
    if (key_file != NULL && json_get(store, "fernet_keys") != NULL) {
      fprintf(stderr, "amcctl: the store's keys come from \"fernet_keys\" in %s and from the key file %s: keep "
                      "one\n", path, key_file);
      return EXIT_CONFIG;
    }
    text_append(&ctx->store_config, "{");
    append_members(&ctx->store_config, store, NULL, NULL);
    if (key_file != NULL && !append_key_file(&ctx->store_config, key_file)) return EXIT_CONFIG;
    text_append(&ctx->store_config, "}");
    text_append(&ctx->client_config, "{");
    append_members(&ctx->client_config, profile, "defaults", "store");
    if (store != NULL || key_file != NULL) {
      if (ctx->client_config.length > 1) text_append(&ctx->client_config, ",");
      text_append(&ctx->client_config, "\"store\":");
      text_append(&ctx->client_config, ctx->store_config.data);
    }
    text_append(&ctx->client_config, "}");
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

/* ------------------------------------------------------------------------
 * configure: writes one profile of the config file (cJSON builds it)
 * --------------------------------------------------------------------- */

static cJSON *object_member(cJSON *parent, const char *key) {
  cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, key);
  if (cJSON_IsObject(child)) return child;
  child = cJSON_CreateObject();
  if (cJSON_HasObjectItem(parent, key)) cJSON_ReplaceItemInObjectCaseSensitive(parent, key, child);
  else cJSON_AddItemToObject(parent, key, child);
  return child;
}

static void set_text(cJSON *object, const char *key, const char *value) {
  if (value == NULL) return;
  cJSON *item = cJSON_CreateString(value);
  if (cJSON_HasObjectItem(object, key)) cJSON_ReplaceItemInObjectCaseSensitive(object, key, item);
  else cJSON_AddItemToObject(object, key, item);
}

/* mkdir -p of path's folder, new folders private (0700). */
static int make_parent_directories(const char *path) {
  char folder[4096];
  snprintf(folder, sizeof folder, "%s", path);
  char *slash = strrchr(folder, '/');
  if (slash == NULL || slash == folder) return 1;
  *slash = '\0';
  for (char *p = folder + 1; *p != '\0'; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(folder, 0700) != 0 && errno != EEXIST) return 0;
    *p = '/';
  }
  return mkdir(folder, 0700) == 0 || errno == EEXIST;
}

int cmd_configure(context *ctx) {
  const options *o = ctx->o;
  char path[4096];
  const char *given = first_set(o->config_file, getenv("AMC_CONFIG"), NULL, NULL);
  if (given != NULL) snprintf(path, sizeof path, "%s", given);
  else if (!default_config_path(path, sizeof path)) {
    fputs("amcctl: neither XDG_CONFIG_HOME nor HOME is set: say where with --config FILE\n", stderr);
    return EXIT_CONFIG;
  }
  const char *name = first_set(o->profile, getenv("AMCCTL_PROFILE"), NULL, "default");
  cJSON *root = NULL;
  char *text = read_text_file(path);
  if (text != NULL) {
    root = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(root)) {
      fprintf(stderr, "amcctl: the config file %s is not a JSON object; fix or move it first\n", path);
      cJSON_Delete(root);
      return EXIT_CONFIG;
    }
  } else if (errno != ENOENT) {
    fprintf(stderr, "amcctl: cannot read the config file %s: %s\n", path, strerror(errno));
    return EXIT_CONFIG;
  } else {
    root = cJSON_CreateObject();
  }
  if (root->child != NULL && !cJSON_HasObjectItem(root, "profiles")) {
    /* A single config (the format before profiles): it becomes the
     * profile "default", unchanged. */
    cJSON *single = root;
    root = cJSON_CreateObject();
    cJSON_AddItemToObject(object_member(root, "profiles"), "default", single);
    cJSON_AddStringToObject(root, "default_profile", "default");
    fprintf(stderr, "amcctl: the config of %s is now its profile 'default'\n", path);
  }
  cJSON *profile = object_member(object_member(root, "profiles"), name);
  if (!cJSON_HasObjectItem(root, "default_profile")) cJSON_AddStringToObject(root, "default_profile", name);
  set_text(profile, "region", o->region);
  cJSON *lwa = cJSON_GetObjectItemCaseSensitive(profile, "lwa");
  if (lwa == NULL || o->client_id_env != NULL || o->client_secret_env != NULL) {
    lwa = object_member(profile, "lwa");
    cJSON_DeleteItemFromObjectCaseSensitive(lwa, "client_id");
    cJSON_DeleteItemFromObjectCaseSensitive(lwa, "client_secret");
    if (o->client_id_env != NULL || !cJSON_HasObjectItem(lwa, "client_id_env"))
      set_text(lwa, "client_id_env", first_set(o->client_id_env, NULL, NULL, "AMC_CLIENT_ID"));
    if (o->client_secret_env != NULL || !cJSON_HasObjectItem(lwa, "client_secret_env"))
      set_text(lwa, "client_secret_env", first_set(o->client_secret_env, NULL, NULL, "AMC_CLIENT_SECRET"));
  }
  if (o->store_path != NULL) set_text(object_member(profile, "store"), "path", o->store_path);
  if (o->credential || o->instance_id || o->advertiser_id || o->marketplace_id || o->redirect_uri ||
      o->fernet_key_file) {
    cJSON *defaults = object_member(profile, "defaults");
    set_text(defaults, "credential_id", o->credential);
    set_text(defaults, "instance_id", o->instance_id);
    set_text(defaults, "advertiser_id", o->advertiser_id);
    set_text(defaults, "marketplace_id", o->marketplace_id);
    set_text(defaults, "redirect_uri", o->redirect_uri);
    set_text(defaults, "fernet_key_file", o->fernet_key_file);
  }
  char *document = cJSON_Print(root);
  cJSON_Delete(root);
  char temporary[4160];
  snprintf(temporary, sizeof temporary, "%s.tmp%ld", path, (long)getpid());
  /* Written private (0600) to a new file, then renamed over the old one:
   * a reader sees the old file or the new, never half of one. */
  int rc = EXIT_OK;
  int fd = -1;
  int written = make_parent_directories(path) && (fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0;
  if (written) {
    FILE *file = fdopen(fd, "w");
    if (file == NULL) {
      close(fd);
      written = 0;
    } else {
      written = fputs(document, file) >= 0 && fputc('\n', file) != EOF;
      written = fclose(file) == 0 && written;
    }
    written = written && rename(temporary, path) == 0;
  }
  if (!written) {
    fprintf(stderr, "amcctl: cannot write the config file %s: %s\n", path, strerror(errno));
    if (fd >= 0) unlink(temporary);
    rc = EXIT_CONFIG;
  }
  cJSON_free(document);
  if (rc != EXIT_OK) return rc;
  if (o->json) {
    text_buffer out;
    text_init(&out);
    text_append(&out, "{");
    text_append_member(&out, "config_file", path);
    text_append_member(&out, "profile", name);
    text_append(&out, "}");
    rc = print_json(ctx, out.data);
    text_free(&out);
    return rc;
  }
  printf("wrote profile '%s' to %s\n", name, path);
  return EXIT_OK;
}
