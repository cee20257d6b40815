/* amcctl_login.c — the auth commands: login (the Login-with-Amazon consent
 * flow, or with --sandbox the sandbox's consent page followed with curl),
 * import (a refresh token obtained elsewhere, from a file or stdin), status
 * and refresh. */
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

static int random_hex(char *out, size_t bytes) {
  FILE *random = fopen("/dev/urandom", "rb");
  unsigned char raw[32];
  if (random == NULL || bytes > sizeof raw || fread(raw, 1, bytes, random) != bytes) {
    if (random) fclose(random);
    return 0;
  }
  fclose(random);
  for (size_t i = 0; i < bytes; ++i) sprintf(out + 2 * i, "%02x", raw[i]);
  return 1;
}

/* The percent-decoded value of a query parameter of url (malloc'd) or NULL. */
static char *query_parameter(const char *url, const char *name) {
  const char *query = strchr(url, '?');
  if (query == NULL) return NULL;
  size_t name_length = strlen(name);
  for (const char *p = query + 1; *p != '\0' && *p != '#';) {
    const char *end = p + strcspn(p, "&#");
    if ((size_t)(end - p) > name_length && strncmp(p, name, name_length) == 0 && p[name_length] == '=') {
      const char *value = p + name_length + 1;
      char *out = malloc((size_t)(end - value) + 1);
      size_t o = 0;
      for (const char *v = value; v < end; ++v) {
        if (*v == '%' && v + 2 < end + 0 + 1 && hex_digit_value(v[1]) >= 0 && hex_digit_value(v[2]) >= 0) {
          out[o++] = (char)(hex_digit_value(v[1]) * 16 + hex_digit_value(v[2]));
          v += 2;
        } else {
          out[o++] = *v == '+' ? ' ' : *v;
        }
      }
      out[o] = '\0';
      return out;
    }
    p = *end == '&' ? end + 1 : end;
  }
  return NULL;
}

/* Follows the sandbox's auto-approving consent page with curl and returns
 * the Location it redirects to (malloc'd), or NULL when curl is missing or
 * fails. The URL carries no secret; the code comes back through a pipe. */
static char *follow_consent_with_curl(const char *url, const char *ca_file) {
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) return NULL;
  pid_t child = fork();
  if (child < 0) {
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    return NULL;
  }
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    dup2(pipe_ends[1], STDOUT_FILENO);
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    if (ca_file != NULL) {
      char *const arguments[] = {"curl", "-sS", "--max-time", "20", "--cacert", (char *)ca_file, "-o", "/dev/null",
                                 "-w", "%{redirect_url}", (char *)url, NULL};
      execvp("curl", arguments);
    } else {
      char *const arguments[] = {"curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{redirect_url}",
                                 (char *)url, NULL};
      execvp("curl", arguments);
    }
    _exit(127);
  }
  close(pipe_ends[1]);
  text_buffer location;
  text_init(&location);
  char chunk[1024];
  ssize_t got;
  while ((got = read(pipe_ends[0], chunk, sizeof chunk)) > 0 || (got < 0 && errno == EINTR))
    if (got > 0) text_append_bytes(&location, chunk, (size_t)got);
  close(pipe_ends[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || location.length == 0) {
    text_free(&location);
    return NULL;
  }
  return location.data;
}

/* Stores a refresh token under --credential through amc_auth_import; the
 * token (malloc'd, freed here) and the request are wiped once sent. */
static amc_status import_refresh_token(const context *ctx, char *token) {
  text_buffer request;
  text_init(&request);
  text_append(&request, "{");
  text_append_member(&request, "credential_id", ctx->credential);
  text_append_member(&request, "refresh_token", token);
  text_append(&request, "}");
  memset(token, 0, strlen(token));
  free(token);
  amc_status status = lib.auth_import(ctx->client, request.data);
  memset(request.data, 0, request.length);
  text_free(&request);
  return status;
}

static int import_seeded_grant(context *ctx) {
  REQUIRE(auth_import);
  const char *path = json_get_text(ctx->sandbox.summary, "refresh_token_file");
  char *token = path ? read_secret_file(path) : NULL;
  if (token == NULL) {
    fprintf(stderr, "amcctl: the sandbox has no seeded refresh token file (started with --no-seed-grant?)\n");
    return EXIT_AUTH;
  }
  amc_status status = import_refresh_token(ctx, token);
  return status == AMC_OK ? EXIT_OK : report(status);
}

int cmd_auth_login(context *ctx) {
  REQUIRE(auth_consent_url);
  REQUIRE(auth_exchange_code);
  REQUIRE(auth_status);
  if (ctx->redirect_uri == NULL)
    return usage_error("auth login needs --redirect-uri URI (one of the LwA client's Allowed Return URLs) "
                       "or \"redirect_uri\" in the config\'s defaults");
  char state[33] = "";
  if (!random_hex(state, 16))
    snprintf(state, sizeof state, "%lx%lx", (unsigned long)time(NULL), (unsigned long)getpid());
  text_buffer request;
  text_init(&request);
  text_append(&request, "{");
  text_append_member(&request, "redirect_uri", ctx->redirect_uri);
  text_append_member(&request, "state", state);
  text_append(&request, "}");
  char *url = NULL;
  amc_status status = lib.auth_consent_url(ctx->client, request.data, &url);
  text_free(&request);
  if (status != AMC_OK) return report(status);

  char *answer = NULL; /* a redirect URL or a bare code */
  int imported = 0;
  if (ctx->o->code != NULL) {
    answer = strdup(ctx->o->code);
  } else if (ctx->using_sandbox) {
    if (!ctx->o->json) fprintf(stderr, "amcctl: consent page: %s\n", url);
    answer = follow_consent_with_curl(url, json_get_text(ctx->sandbox.summary, "ca_file"));
    if (answer == NULL) {
      fprintf(stderr, "amcctl: could not follow the consent page with curl; importing the sandbox's seeded "
                      "grant instead\n");
      int rc = import_seeded_grant(ctx);
      if (rc != EXIT_OK) {
        lib.free(url);
        return rc;
      }
      imported = 1;
    }
  } else {
    /* With --json, stdout carries only the library's JSON. */
    FILE *prompt = ctx->o->json ? stderr : stdout;
    fprintf(prompt, "Open this URL in a browser and allow access:\n\n  %s\n\n", url);
    fflush(prompt);
    fputs("Then paste the address you were sent back to (or just the code): ", stderr);
    fflush(stderr);
    char *line = NULL;
    size_t capacity = 0;
    if (getline(&line, &capacity, stdin) < 0) {
      free(line);
      lib.free(url);
      return usage_error("no code given on stdin (or use --code CODE)");
    }
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r' || line[length - 1] == ' '))
      line[--length] = '\0';
    answer = line;
  }
  lib.free(url);

  if (!imported) {
    char *code = NULL;
    if (strstr(answer, "://") != NULL || strchr(answer, '?') != NULL) {
      char *error = query_parameter(answer, "error");
      if (error != NULL) {
        fprintf(stderr, "amcctl: the consent page answered error=%s\n", error);
        free(error);
        free(answer);
        return EXIT_AUTH;
      }
      char *returned_state = query_parameter(answer, "state");
      if (returned_state != NULL && strcmp(returned_state, state) != 0 && ctx->o->code == NULL) {
        fprintf(stderr, "amcctl: the redirect's state does not match this login; start again\n");
        free(returned_state);
        free(answer);
        return EXIT_AUTH;
      }
      free(returned_state);
      code = query_parameter(answer, "code");
      if (code == NULL) {
        free(answer);
        return usage_error("the address has no code parameter");
      }
    } else {
      code = strdup(answer);
    }
    free(answer);
    text_buffer exchange;
    text_init(&exchange);
    text_append(&exchange, "{");
    text_append_member(&exchange, "credential_id", ctx->credential);
    text_append_member(&exchange, "code", code);
    text_append_member(&exchange, "redirect_uri", ctx->redirect_uri);
    if (ctx->o->timeout_seconds > 0) text_appendf(&exchange, ",\"timeout_ms\":%ld", ctx->o->timeout_seconds * 1000L);
    text_append(&exchange, "}");
    memset(code, 0, strlen(code));
    free(code);
    char *result = NULL;
    status = lib.auth_exchange_code(ctx->client, exchange.data, &result);
    memset(exchange.data, 0, exchange.length);
    text_free(&exchange);
    return finish(ctx, status, result, print_credential_status);
  }
  /* The imported grant is proven by one refresh. */
  REQUIRE(auth_refresh);
  char *result = NULL;
  status = lib.auth_refresh(ctx->client, ctx->credential, NULL, &result);
  return finish(ctx, status, result, print_credential_status);
}

/* auth status: the credential's state, and an exit code scripts can test:
 * 0 usable, 3 not logged in or needing a new login (needs-reauth), 9 a
 * record no key decrypts (quarantined) or that cannot be read (damaged). */
int cmd_auth_status(context *ctx) {
  REQUIRE(auth_status);
  char *result = NULL;
  amc_status status = lib.auth_status(ctx->client, ctx->credential, &result);
  if (status != AMC_OK) return report(status);
  json_value *document = json_parse(result, NULL, 0);
  const char *state = json_get_text(document, "state");
  int rc = EXIT_OK;
  if (state != NULL && strcmp(state, "needs-reauth") == 0) rc = EXIT_AUTH;
  else if (state != NULL && (strcmp(state, "quarantined") == 0 || strcmp(state, "damaged") == 0)) rc = EXIT_CONFIG;
  json_free(document);
  int printed = finish(ctx, status, result, print_credential_status);
  if (rc == EXIT_AUTH)
    fprintf(stderr, "amcctl: credential %s needs re-authentication: run 'amcctl auth login'\n", ctx->credential);
  else if (rc == EXIT_CONFIG)
    fprintf(stderr, "amcctl: credential %s is %s: restore the Fernet key that encrypted it, or log in again\n",
            ctx->credential, state);
  return rc != EXIT_OK ? rc : printed;
}

int cmd_auth_refresh(context *ctx) {
  REQUIRE(auth_refresh);
  char request[64] = "{}";
  if (ctx->o->timeout_seconds > 0)
    snprintf(request, sizeof request, "{\"timeout_ms\":%ld}", ctx->o->timeout_seconds * 1000L);
  char *result = NULL;
  amc_status status = lib.auth_refresh(ctx->client, ctx->credential, request, &result);
  return finish(ctx, status, result, print_credential_status);
}

/* auth import: a refresh token obtained elsewhere (another tool, another
 * machine's consent flow) stored under --credential through
 * amc_auth_import. The token comes from a file or stdin only: on the command
 * line every user could read it (ps, /proc/PID/cmdline). It is wiped from
 * memory once sent and never printed; the output is the credential's status,
 * without secrets. No request is sent: 'amcctl auth refresh' checks the
 * token with LwA. */
int cmd_auth_import(context *ctx) {
  REQUIRE(auth_import);
  REQUIRE(auth_status);
  const char *path = ctx->o->refresh_token_file;
  const char *source = strcmp(path, "-") == 0 ? "stdin" : path;
  char *token = read_user_file(path, "the refresh token from ");
  if (token == NULL) return EXIT_USAGE;
  /* One line: trailing line ends and blanks (an editor's, echo's) go. */
  size_t length = strlen(token);
  while (length > 0 && (token[length - 1] == '\n' || token[length - 1] == '\r' || token[length - 1] == ' ' ||
                        token[length - 1] == '\t'))
    token[--length] = '\0';
  int well_formed = length > 0;
  for (size_t i = 0; i < length; ++i)
    if ((unsigned char)token[i] <= ' ' || token[i] == 0x7f) well_formed = 0;
  if (!well_formed) {
    memset(token, 0, length);
    free(token);
    return usage_error("%s must hold the refresh token alone on one line (no spaces or other lines)", source);
  }
  amc_status status = import_refresh_token(ctx, token);
  if (status != AMC_OK) return report(status);
  char *result = NULL;
  status = lib.auth_status(ctx->client, ctx->credential, &result);
  return finish(ctx, status, result, print_credential_status);
}

/* auth logout: the credential's record (refresh and access tokens) is
 * deleted from the store; no client is opened. Login with Amazon keeps
 * the grant itself until the user removes it in their Amazon account. */
int cmd_auth_logout(context *ctx) {
  REQUIRE(store_delete_credential);
  amc_store *store = NULL;
  amc_status status = lib.store_new(ctx->store_config.data, &store);
  if (status != AMC_OK) return report(status);
  status = lib.store_delete_credential(store, ctx->credential);
  lib.store_free(store);
  if (status == AMC_E_NOT_FOUND) {
    fprintf(stderr, "amcctl: credential %s is not logged in: the store has no such credential\n", ctx->credential);
    return EXIT_AUTH;
  }
  if (status != AMC_OK) return report(status);
  if (ctx->o->json) {
    text_buffer out;
    text_init(&out);
    text_append(&out, "{");
    text_append_member(&out, "credential_id", ctx->credential);
    text_append(&out, ",\"logged_out\":true}");
    int rc = print_json(ctx, out.data);
    text_free(&out);
    return rc;
  }
  printf("logged out: credential %s and its tokens are deleted from the store\n", ctx->credential);
  return EXIT_OK;
}
