/* amcctl — run Amazon Marketing Cloud workflows from the command line.
 *
 * A C99 host of libamc: it dlopens libamc.so.1 (see amc_library.h for
 * where it looks) and uses only the public header amc/amc.h, every request
 * and response being the JSON documented there. --sandbox points it at the
 * bundled amc-sandbox (see sandbox.h).
 *
 * Exit codes (also in --help; scripts may rely on them):
 *   0  success
 *   1  anything else (AMC_E_CONFLICT, AMC_E_INTERNAL, AMC_E_FORKED,
 *      AMC_E_OUT_OF_MEMORY, an unknown status)
 *   2  usage error: bad command line, unreadable --file/--sql/--definition,
 *      or a request the library rejected (AMC_E_INVALID_ARGUMENT, e.g. a
 *      numeric profile id given as --advertiser)
 *   3  authentication required (AMC_E_AUTH_REQUIRED): run amcctl auth login
 *   4  forbidden (AMC_E_FORBIDDEN)
 *   5  not found (AMC_E_NOT_FOUND)
 *   6  the execution ended FAILED, CANCELLED or REJECTED
 *      (AMC_E_EXECUTION_FAILED)
 *   7  timeout (AMC_E_TIMEOUT)
 *   8  network, TLS, remote or throttled (AMC_E_NETWORK, AMC_E_TLS,
 *      AMC_E_REMOTE, AMC_E_THROTTLED, AMC_E_PROTOCOL)
 *   9  configuration, crypto or store (AMC_E_CONFIG, AMC_E_CRYPTO,
 *      AMC_E_STORE), a bad config file, a libamc.so.1 that cannot be loaded
 *      or lacks a function, a sandbox that does not start
 *   130 interrupted (SIGINT/SIGTERM; AMC_E_CANCELLED)
 */
#define _POSIX_C_SOURCE 200809L

#include "amc/amc.h"
#include "amc_library.h"
#include "json_text.h"
#include "sandbox.h"

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

enum exit_code {
  EXIT_OK = 0,
  EXIT_OTHER = 1,
  EXIT_USAGE = 2,
  EXIT_AUTH = 3,
  EXIT_FORBIDDEN = 4,
  EXIT_NOT_FOUND = 5,
  EXIT_EXECUTION = 6,
  EXIT_TIMEOUT = 7,
  EXIT_NETWORK = 8,
  EXIT_CONFIG = 9,
  EXIT_INTERRUPTED = 130
};

static const char help_text[] =
    "amcctl: run Amazon Marketing Cloud (AMC) workflows through libamc\n"
    "\n"
    "Usage: amcctl [options] COMMAND [arguments]\n"
    "\n"
    "Commands\n"
    "  auth login [--code CODE] [--redirect-uri URI]\n"
    "                          consent flow: prints the Login-with-Amazon URL, then\n"
    "                          reads the URL you were sent back to (or the code) from\n"
    "                          stdin and stores the tokens under --credential\n"
    "  auth status | auth refresh\n"
    "  accounts                AMC accounts (their accountId is the --advertiser)\n"
    "  instances               AMC instances of --advertiser/--marketplace\n"
    "  workflow sync [--file QUERY.sql] [--definition WORKFLOW.json]\n"
    "                [--id ID | --name NAME]\n"
    "                          create a saved workflow, or update it when AMC's copy\n"
    "                          differs (else \"unchanged\"). QUERY.sql: its sqlQuery.\n"
    "                          WORKFLOW.json: AMC's Workflow as a JSON object (what\n"
    "                          'amcctl --json workflow get ID' prints), for the other\n"
    "                          fields: inputParameters, outputColumns, outputFormat,\n"
    "                          privacyFilteringBehavior, filteredReasonColumn,\n"
    "                          filteredMetricsDiscriminatorColumn,\n"
    "                          distinctUserCountColumn. The command line wins: --file\n"
    "                          replaces its sqlQuery, --id/--name its workflowId.\n"
    "                          The id: --id, else from --name, else its workflowId,\n"
    "                          else from the file's name (QUERY, else WORKFLOW)\n"
    "  workflow get ID | workflow list | workflow delete ID\n"
    "  run (--workflow-id ID | --sql FILE) [--execution-id KEY] [window] [--param N=V]...\n"
    "      [--out DIR] [--head N] [--dry-run]\n"
    "                          submit, wait (live progress), download every result part\n"
    "                          to DIR (default amc-results/EXECUTION_ID), print the first\n"
    "                          N rows (default 5) of the first part. --execution-id is\n"
    "                          the idempotency key: running again with the same key\n"
    "                          re-attaches to the same AMC execution\n"
    "  status ID | cancel ID | results ID [--out DIR] [--head N]\n"
    "                          ID: our execution id (exec_...) or AMC's (a UUID); or\n"
    "                          say which with --execution-id / --amc-execution-id\n"
    "  store list | store rotate-keys\n"
    "                          the credential store of the config (\"store\" section);\n"
    "                          rotate-keys re-encrypts every record with the first key\n"
    "  sandbox start | sandbox stop\n"
    "                          start the sandbox and leave it running / stop it\n"
    "\n";

static const char help_text_options[] =
    "Options\n"
    "  --config FILE           client config as JSON (see amc_client_new in amc.h);\n"
    "                          default $AMC_CONFIG. An extra \"defaults\" object holds\n"
    "                          command defaults and is removed before the rest goes to\n"
    "                          the library: {\"credential_id\", \"instance_id\",\n"
    "                          \"advertiser_id\", \"marketplace_id\", \"redirect_uri\"}\n"
    "  --credential ID         credential to act as (default $AMC_CREDENTIAL, the\n"
    "                          config's defaults, else \"default\"; \"sandbox\" with\n"
    "                          --sandbox)\n"
    "  --instance ID           AMC instance id        ($AMC_INSTANCE_ID)\n"
    "  --advertiser ENTITY     the account's entity id, not a numeric profile id\n"
    "                          ($AMC_ADVERTISER_ID)\n"
    "  --marketplace ID        marketplace id         ($AMC_MARKETPLACE_ID)\n"
    "  --json                  machine output: the library's JSON document on stdout\n"
    "                          (for run: the download manifest)\n"
    "  --timeout SECONDS       deadline of each call; for run/wait, of the whole wait\n"
    "  --progress              progress lines on stderr even when it is not a terminal\n"
    "  --verbose               library log lines (INFO and up) on stderr\n"
    "  --sandbox               use the bundled amc-sandbox over HTTPS: reuse the one\n"
    "                          running for --sandbox-dir or start one (stopped on exit\n"
    "                          unless --keep-sandbox). Its endpoints, CA, LwA client and\n"
    "                          instance/advertiser/marketplace become the defaults; the\n"
    "                          credential store lives in the sandbox directory. With\n"
    "                          --sandbox, auth login follows the consent URL itself\n"
    "                          (with curl) and exchanges the code; without curl it\n"
    "                          imports the sandbox's seeded refresh token instead\n"
    "  --keep-sandbox          leave a sandbox started by this command running\n"
    "  --sandbox-dir DIR       sandbox state ($AMC_SANDBOX_DIR, else\n"
    "                          $XDG_RUNTIME_DIR/amcctl-sandbox or /tmp/amcctl-sandbox-UID)\n"
    "  --sandbox-time-scale X  simulated seconds per second for a sandbox started here\n"
    "                          (default 100: a 15-minute run takes about 10 s)\n"
    "  --version               versions of amcctl and of the loaded libamc\n"
    "  -h, --help              this text\n"
    "\n";

static const char help_text_run[] =
    "Run options\n"
    "  --window TYPE           timeWindowType: MOST_RECENT_DAY, MOST_RECENT_WEEK,\n"
    "                          CURRENT_MONTH, PREVIOUS_MONTH or EXPLICIT\n"
    "  --start T --end T       timeWindowStart/End (e.g. 2026-11-01T00:00:00; imply\n"
    "                          EXPLICIT)\n"
    "  --time-zone TZ          timeWindowTimeZone, e.g. America/New_York\n"
    "  --param NAME=VALUE      a parameterValues entry (repeatable)\n"
    "  --poll-ms N             first poll interval in ms (doubles up to --max-poll-ms;\n"
    "                          defaults 5000 and 60000, 1000 and 2000 with --sandbox)\n"
    "  --max-poll-ms N         longest poll interval in ms\n"
    "  --dry-run               dryRun: AMC validates the query without running it or\n"
    "                          using quota; nothing is downloaded (--json prints the\n"
    "                          final execution instead of the download manifest)\n"
    "\n"
    "Environment: AMC_LIBRARY (path of libamc.so.1 or its directory), AMC_SANDBOX\n"
    "(the amc-sandbox program), AMC_FERNET_KEYS (store keys, as in amc_store_new).\n"
    "\n"
    "Exit codes\n"
    "  0 ok, 1 other error, 2 usage error or invalid argument, 3 authentication\n"
    "  required, 4 forbidden, 5 not found, 6 execution failed/cancelled/rejected,\n"
    "  7 timeout, 8 network/TLS/remote/throttled, 9 config/crypto/store (and a\n"
    "  library that cannot be loaded), 130 interrupted. Errors print\n"
    "  \"amcctl: STATUS_NAME: message\" on stderr, never a token or secret.\n";

/* ------------------------------------------------------------------------
 * Command line
 * --------------------------------------------------------------------- */

enum { max_positional = 8, max_params = 64 };

typedef struct options {
  /* global */
  const char *config_file;
  const char *credential;
  const char *instance_id;
  const char *advertiser_id;
  const char *marketplace_id;
  int json;
  long timeout_seconds; /* 0: library defaults */
  int progress;
  int verbose;
  int sandbox;
  int keep_sandbox;
  const char *sandbox_dir;
  double sandbox_time_scale;
  int help;
  int version;
  /* commands */
  const char *file;
  const char *definition_file;
  const char *id;
  const char *name;
  const char *workflow_id;
  const char *sql_file;
  const char *execution_id;
  const char *amc_execution_id;
  const char *window;
  const char *start;
  const char *end;
  const char *time_zone;
  const char *params[max_params];
  int param_count;
  const char *out_dir;
  long head;
  long poll_ms;
  long max_poll_ms;
  int dry_run;
  const char *code;
  const char *redirect_uri;
  const char *positional[max_positional];
  int positional_count;
} options;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  fputs("amcctl: ", stderr);
  vfprintf(stderr, format, arguments);
  fputs(" (see amcctl --help)\n", stderr);
  va_end(arguments);
  return EXIT_USAGE;
}

static int parse_long(const char *text, long minimum, long *out) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < minimum) return 0;
  *out = value;
  return 1;
}

/* Returns EXIT_OK or EXIT_USAGE (after a message). */
static int parse_command_line(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  o->head = 5;
  o->sandbox_time_scale = 100;
  for (int i = 1; i < argc; ++i) {
    const char *argument = argv[i];
    if (strcmp(argument, "--") == 0) {
      for (++i; i < argc; ++i) {
        if (o->positional_count == max_positional) return usage_error("too many arguments");
        o->positional[o->positional_count++] = argv[i];
      }
      break;
    }
    if (argument[0] != '-' || argument[1] == '\0') {
      if (o->positional_count == max_positional) return usage_error("too many arguments");
      o->positional[o->positional_count++] = argument;
      continue;
    }
    /* Switches. */
    if (strcmp(argument, "-h") == 0 || strcmp(argument, "--help") == 0) { o->help = 1; continue; }
    if (strcmp(argument, "--version") == 0) { o->version = 1; continue; }
    if (strcmp(argument, "--json") == 0) { o->json = 1; continue; }
    if (strcmp(argument, "--progress") == 0) { o->progress = 1; continue; }
    if (strcmp(argument, "--verbose") == 0) { o->verbose = 1; continue; }
    if (strcmp(argument, "--sandbox") == 0) { o->sandbox = 1; continue; }
    if (strcmp(argument, "--keep-sandbox") == 0) { o->keep_sandbox = 1; continue; }
    if (strcmp(argument, "--dry-run") == 0) { o->dry_run = 1; continue; }

    /* Options with a value: --name VALUE or --name=VALUE. */
    char name[64];
    const char *value = NULL;
    const char *equals = strchr(argument, '=');
    if (equals != NULL) {
      size_t length = (size_t)(equals - argument);
      if (length >= sizeof name) return usage_error("unknown option '%s'", argument);
      memcpy(name, argument, length);
      name[length] = '\0';
      value = equals + 1;
    } else {
      if (strlen(argument) >= sizeof name) return usage_error("unknown option '%s'", argument);
      strcpy(name, argument);
    }
    static const char *const with_value[] = {
        "--config", "--credential", "--instance", "--advertiser", "--marketplace", "--timeout", "--sandbox-dir",
        "--sandbox-time-scale", "--file", "--definition", "--id", "--name", "--workflow-id", "--sql", "--execution-id",
        "--amc-execution-id", "--window", "--start", "--end", "--time-zone", "--param", "--out", "--head",
        "--poll-ms", "--max-poll-ms", "--code", "--redirect-uri"};
    int known = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; ++k)
      if (strcmp(name, with_value[k]) == 0) known = 1;
    if (!known) return usage_error("unknown option '%s'", name);
    if (value == NULL) {
      if (i + 1 >= argc) return usage_error("%s needs a value", name);
      value = argv[++i];
    }
    if (strcmp(name, "--config") == 0) o->config_file = value;
    else if (strcmp(name, "--credential") == 0) o->credential = value;
    else if (strcmp(name, "--instance") == 0) o->instance_id = value;
    else if (strcmp(name, "--advertiser") == 0) o->advertiser_id = value;
    else if (strcmp(name, "--marketplace") == 0) o->marketplace_id = value;
    else if (strcmp(name, "--timeout") == 0) {
      if (!parse_long(value, 1, &o->timeout_seconds))
        return usage_error("--timeout needs a positive number of seconds, got '%s'", value);
    } else if (strcmp(name, "--sandbox-dir") == 0) o->sandbox_dir = value;
    else if (strcmp(name, "--sandbox-time-scale") == 0) {
      char *end = NULL;
      o->sandbox_time_scale = strtod(value, &end);
      if (end == value || *end != '\0' || !(o->sandbox_time_scale > 0))
        return usage_error("--sandbox-time-scale needs a positive number, got '%s'", value);
    } else if (strcmp(name, "--file") == 0) o->file = value;
    else if (strcmp(name, "--definition") == 0) o->definition_file = value;
    else if (strcmp(name, "--id") == 0) o->id = value;
    else if (strcmp(name, "--name") == 0) o->name = value;
    else if (strcmp(name, "--workflow-id") == 0) o->workflow_id = value;
    else if (strcmp(name, "--sql") == 0) o->sql_file = value;
    else if (strcmp(name, "--execution-id") == 0) o->execution_id = value;
    else if (strcmp(name, "--amc-execution-id") == 0) o->amc_execution_id = value;
    else if (strcmp(name, "--window") == 0) o->window = value;
    else if (strcmp(name, "--start") == 0) o->start = value;
    else if (strcmp(name, "--end") == 0) o->end = value;
    else if (strcmp(name, "--time-zone") == 0) o->time_zone = value;
    else if (strcmp(name, "--param") == 0) {
      if (strchr(value, '=') == NULL || value[0] == '=')
        return usage_error("--param needs NAME=VALUE, got '%s'", value);
      if (o->param_count == max_params) return usage_error("too many --param options");
      o->params[o->param_count++] = value;
    } else if (strcmp(name, "--out") == 0) o->out_dir = value;
    else if (strcmp(name, "--head") == 0) {
      if (!parse_long(value, 0, &o->head)) return usage_error("--head needs a number of rows, got '%s'", value);
    } else if (strcmp(name, "--poll-ms") == 0) {
      if (!parse_long(value, 1, &o->poll_ms)) return usage_error("--poll-ms needs a positive number, got '%s'", value);
    } else if (strcmp(name, "--max-poll-ms") == 0) {
      if (!parse_long(value, 1, &o->max_poll_ms))
        return usage_error("--max-poll-ms needs a positive number, got '%s'", value);
    } else if (strcmp(name, "--code") == 0) o->code = value;
    else if (strcmp(name, "--redirect-uri") == 0) o->redirect_uri = value;
  }
  return EXIT_OK;
}

/* The commands, for validation before anything is loaded. */
typedef enum command {
  CMD_NONE,
  CMD_AUTH_LOGIN,
  CMD_AUTH_STATUS,
  CMD_AUTH_REFRESH,
  CMD_ACCOUNTS,
  CMD_INSTANCES,
  CMD_WORKFLOW_SYNC,
  CMD_WORKFLOW_GET,
  CMD_WORKFLOW_LIST,
  CMD_WORKFLOW_DELETE,
  CMD_RUN,
  CMD_STATUS,
  CMD_CANCEL,
  CMD_RESULTS,
  CMD_STORE_LIST,
  CMD_STORE_ROTATE,
  CMD_SANDBOX_START,
  CMD_SANDBOX_STOP
} command;

typedef struct command_name {
  const char *first;
  const char *second; /* NULL: a one-word command */
  command id;
  int max_arguments;  /* positional arguments after the command words */
} command_name;

static const command_name commands[] = {
    {"auth", "login", CMD_AUTH_LOGIN, 0},       {"auth", "status", CMD_AUTH_STATUS, 0},
    {"auth", "refresh", CMD_AUTH_REFRESH, 0},   {"accounts", NULL, CMD_ACCOUNTS, 0},
    {"instances", NULL, CMD_INSTANCES, 0},      {"workflow", "sync", CMD_WORKFLOW_SYNC, 0},
    {"workflow", "get", CMD_WORKFLOW_GET, 1},   {"workflow", "list", CMD_WORKFLOW_LIST, 0},
    {"workflow", "delete", CMD_WORKFLOW_DELETE, 1}, {"run", NULL, CMD_RUN, 0},
    {"status", NULL, CMD_STATUS, 1},            {"cancel", NULL, CMD_CANCEL, 1},
    {"results", NULL, CMD_RESULTS, 1},          {"store", "list", CMD_STORE_LIST, 0},
    {"store", "rotate-keys", CMD_STORE_ROTATE, 0}, {"sandbox", "start", CMD_SANDBOX_START, 0},
    {"sandbox", "stop", CMD_SANDBOX_STOP, 0}};

/* Finds the command and checks its arguments; EXIT_USAGE after a message. */
static int resolve_command(const options *o, command *out, const char **argument) {
  *out = CMD_NONE;
  *argument = NULL;
  if (o->positional_count == 0) return usage_error("no command given");
  const char *first = o->positional[0];
  int first_known = 0;
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i) {
    const command_name *c = &commands[i];
    if (strcmp(c->first, first) != 0) continue;
    first_known = 1;
    int words = c->second ? 2 : 1;
    if (c->second && (o->positional_count < 2 || strcmp(c->second, o->positional[1]) != 0)) continue;
    int extra = o->positional_count - words;
    if (extra > c->max_arguments)
      return usage_error("unexpected argument '%s'", o->positional[words + c->max_arguments]);
    if (extra == 1) *argument = o->positional[words];
    *out = c->id;
    return EXIT_OK;
  }
  if (first_known) {
    if (o->positional_count < 2) return usage_error("'%s' needs a subcommand", first);
    char words[256];
    snprintf(words, sizeof words, "%s %s", first, o->positional[1]);
    return usage_error("unknown subcommand '%s'", words);
  }
  return usage_error("unknown command '%s'", first);
}

/* Checks that need nothing loaded. */
static int validate_command(const options *o, command cmd, const char *argument) {
  switch (cmd) {
    case CMD_WORKFLOW_SYNC:
      if (o->file == NULL && o->definition_file == NULL)
        return usage_error("workflow sync needs --file QUERY.sql and/or --definition WORKFLOW.json");
      if (o->id != NULL && o->name != NULL) return usage_error("give --id or --name, not both");
      break;
    case CMD_WORKFLOW_GET:
    case CMD_WORKFLOW_DELETE:
      if (argument == NULL && o->id == NULL && o->workflow_id == NULL)
        return usage_error("this command needs a workflow id");
      break;
    case CMD_RUN:
      if ((o->workflow_id == NULL) == (o->sql_file == NULL))
        return usage_error("run needs exactly one of --workflow-id ID and --sql FILE");
      if ((o->window != NULL && strcmp(o->window, "EXPLICIT") == 0) && (o->start == NULL || o->end == NULL))
        return usage_error("--window EXPLICIT needs --start and --end");
      if ((o->start == NULL) != (o->end == NULL)) return usage_error("give both --start and --end");
      if (o->start != NULL && o->window != NULL && strcmp(o->window, "EXPLICIT") != 0)
        return usage_error("--start/--end need --window EXPLICIT, not %s", o->window);
      break;
    case CMD_STATUS:
    case CMD_CANCEL:
    case CMD_RESULTS:
      if (argument == NULL && o->execution_id == NULL && o->amc_execution_id == NULL)
        return usage_error("this command needs an execution id");
      break;
    default: break;
  }
  if (o->sandbox && o->config_file != NULL) return usage_error("--sandbox and --config cannot be combined");
  return EXIT_OK;
}

/* ------------------------------------------------------------------------
 * Status → exit code, error printing
 * --------------------------------------------------------------------- */

static amc_library lib;

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
    default: return EXIT_OTHER;
  }
}

/* Prints "amcctl: STATUS_NAME: message" (the library never puts a secret
 * in a message) and returns the exit code. Call right after the failing
 * call: the message is thread-local and replaced by the next call. */
static int report(amc_status status) {
  fprintf(stderr, "amcctl: %s: %s\n", lib.status_name(status), lib.last_error());
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
 * Interrupts: SIGINT/SIGTERM go to one thread (blocked everywhere else,
 * including the library's threads), which cancels a running wait or, with
 * nothing to cancel, stops a sandbox we started and exits.
 * --------------------------------------------------------------------- */

static pthread_mutex_t interrupt_lock = PTHREAD_MUTEX_INITIALIZER;
static amc_cancel_token *active_wait;
static sandbox_info *sandbox_to_stop;
static int interrupt_count;

static void *interrupt_thread(void *argument) {
  const sigset_t *signals = argument;
  for (;;) {
    int received = 0;
    if (sigwait(signals, &received) != 0) continue;
    pthread_mutex_lock(&interrupt_lock);
    ++interrupt_count;
    if (active_wait != NULL && interrupt_count == 1) {
      lib.cancel_token_cancel(active_wait);
      pthread_mutex_unlock(&interrupt_lock);
      continue;
    }
    if (sandbox_to_stop != NULL) sandbox_stop_if_started(sandbox_to_stop);
    pthread_mutex_unlock(&interrupt_lock);
    fputs("\namcctl: interrupted\n", stderr);
    _exit(EXIT_INTERRUPTED);
  }
  return NULL;
}

static void start_interrupt_thread(void) {
  static sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  pthread_t thread;
  if (pthread_create(&thread, NULL, interrupt_thread, &signals) == 0) pthread_detach(thread);
}

/* ------------------------------------------------------------------------
 * Context: config, defaults, client
 * --------------------------------------------------------------------- */

typedef struct context {
  options *o;
  command cmd;
  const char *argument;
  json_value *config;      /* the --config file, or NULL */
  text_buffer client_config;
  text_buffer store_config;
  const char *credential;
  const char *instance_id;
  const char *advertiser_id;
  const char *marketplace_id;
  const char *redirect_uri;
  sandbox_info sandbox;
  int using_sandbox;
  amc_client *client;
} context;

static char *read_text_file(const char *path) {
  FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (file == NULL) return NULL;
  text_buffer text;
  text_init(&text);
  char chunk[8192];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) text_append_bytes(&text, chunk, got);
  int failed = ferror(file);
  if (file != stdin) fclose(file);
  if (failed) {
    text_free(&text);
    return NULL;
  }
  return text.data;
}

static const char *first_set(const char *a, const char *b, const char *c, const char *d) {
  if (a != NULL && a[0] != '\0') return a;
  if (b != NULL && b[0] != '\0') return b;
  if (c != NULL && c[0] != '\0') return c;
  return d;
}

/* Reads --config / $AMC_CONFIG or sets up the sandbox; fills the defaults
 * and the config texts. Returns EXIT_OK or an exit code after a message. */
static int load_configuration(context *ctx) {
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
      if (!o->keep_sandbox) {
        pthread_mutex_lock(&interrupt_lock);
        sandbox_to_stop = &ctx->sandbox;
        pthread_mutex_unlock(&interrupt_lock);
      }
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

static int open_client(context *ctx) {
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
 * Requests and output
 * --------------------------------------------------------------------- */

/* Opens a request object with the credential, the instance (when asked)
 * and the timeout; the caller appends members and the closing brace. */
static void request_begin(const context *ctx, text_buffer *request, int with_instance) {
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

typedef void (*human_printer)(const json_value *document);

/* Ends a call: reports a failure, or prints the library's JSON (--json) or
 * a human rendering of it. Frees json. */
static int finish(const context *ctx, amc_status status, char *json, human_printer human) {
  if (status != AMC_OK) return report(status);
  if (ctx->o->json || human == NULL) {
    puts(json != NULL ? json : "{}");
  } else {
    json_value *document = json_parse(json, NULL, 0);
    if (document != NULL) human(document);
    else puts(json);
    json_free(document);
  }
  lib.free(json);
  return EXIT_OK;
}

/* The library's request/response calls (amc_workflow_get and the like). */
typedef amc_status (*json_call)(amc_client *client, const char *request_json, char **out_json);

/* Closes a request opened by request_begin, sends it and frees it. */
static amc_status send_request(const context *ctx, json_call call, text_buffer *request, char **result) {
  text_append(request, "}");
  *result = NULL;
  amc_status status = call(ctx->client, request->data, result);
  text_free(request);
  return status;
}

/* send_request, then finish. */
static int call_and_finish(const context *ctx, json_call call, text_buffer *request, human_printer human) {
  char *result = NULL;
  amc_status status = send_request(ctx, call, request, &result);
  return finish(ctx, status, result, human);
}

static const char *text_or(const char *value, const char *fallback) { return value != NULL ? value : fallback; }

static const char *yes_no(const json_value *value) {
  return value != NULL && value->type == JSON_TRUE ? "yes" : "no";
}

static void print_credential_status(const json_value *status) {
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

static void print_execution(const json_value *execution) { print_scalars(execution, ""); }

static void print_dry_run(const json_value *execution) {
  printf("dry run %s %s: AMC validated the query; a dry run has no results to download\n",
         text_or(json_get_text(execution, "workflowExecutionId"), "?"),
         text_or(json_get_text(execution, "status"), "?"));
}

static void print_accounts(const json_value *document) {
  const json_value *accounts = json_get(document, "accounts");
  for (size_t i = 0; accounts != NULL && i < accounts->count; ++i) {
    const json_value *account = json_at(accounts, i);
    printf("%s\t%s\t%s\n", text_or(json_get_text(account, "accountId"), "?"),
           text_or(json_get_text(account, "marketplaceId"), "-"), text_or(json_get_text(account, "accountName"), ""));
  }
  if (accounts == NULL || accounts->count == 0) puts("(no accounts)");
}

static void print_instances(const json_value *document) {
  const json_value *instances = json_get(document, "instances");
  for (size_t i = 0; instances != NULL && i < instances->count; ++i) {
    print_scalars(json_at(instances, i), "");
    if (i + 1 < instances->count) putchar('\n');
  }
  if (instances == NULL || instances->count == 0) puts("(no instances)");
}

static void print_workflow(const json_value *workflow) {
  const json_value *inner = json_get(workflow, "workflow");
  if (inner != NULL) workflow = inner;
  print_scalars(workflow, "");
}

static void print_workflows(const json_value *document) {
  const json_value *workflows = json_get(document, "workflows");
  for (size_t i = 0; workflows != NULL && i < workflows->count; ++i) {
    const json_value *workflow = json_at(workflows, i);
    const char *updated = json_get_text(workflow, "updatedTime");
    printf("%s%s%s\n", text_or(json_get_text(workflow, "workflowId"), "?"), updated ? "\t" : "",
           updated ? updated : "");
  }
  if (workflows == NULL || workflows->count == 0) puts("(no workflows)");
}

static void print_credentials(const json_value *document) {
  const json_value *credentials = json_get(document, "credentials");
  for (size_t i = 0; credentials != NULL && i < credentials->count; ++i) {
    const json_value *credential = json_at(credentials, i);
    printf("%s\t%s\trefresh token: %s\tupdated %s\n", text_or(json_get_text(credential, "credential_id"), "?"),
           text_or(json_get_text(credential, "state"), "?"), yes_no(json_get(credential, "has_refresh_token")),
           text_or(json_get_text(credential, "updated_at"), "-"));
  }
  if (credentials == NULL || credentials->count == 0) puts("(no credentials)");
}

static void print_rotation(const json_value *report_json) {
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

/* Splits one CSV line (RFC 4180 quoting, no embedded newlines) in place. */
static int split_csv(char *line, char **cells) {
  int count = 0;
  char *read = line;
  while (count < max_columns) {
    char *cell = read, *write = read;
    if (*read == '"') {
      ++read;
      for (;;) {
        if (*read == '\0') break;
        if (*read == '"' && read[1] == '"') { *write++ = '"'; read += 2; continue; }
        if (*read == '"') { ++read; break; }
        *write++ = *read++;
      }
      while (*read != ',' && *read != '\0') ++read;
    } else {
      while (*read != ',' && *read != '\0') *write++ = *read++;
    }
    const int more = *read == ',';
    if (more) ++read;
    *write = '\0';
    cells[count++] = cell;
    if (!more) break;
  }
  return count;
}

static void print_head(const char *path, long rows) {
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    fprintf(stderr, "amcctl: cannot read %s: %s\n", path, strerror(errno));
    return;
  }
  char **lines = calloc((size_t)rows + 1, sizeof *lines);
  char *line = NULL;
  size_t capacity = 0;
  long count = 0;
  while (lines != NULL && count <= rows && getline(&line, &capacity, file) >= 0) {
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = '\0';
    lines[count++] = strdup(line);
  }
  free(line);
  fclose(file);
  char *cells[max_columns];
  size_t widths[max_columns] = {0};
  int columns = 0;
  for (long i = 0; i < count; ++i) {
    char *copy = strdup(lines[i]);
    int n = split_csv(copy, cells);
    if (n > columns) columns = n;
    for (int c = 0; c < n; ++c) {
      size_t width = strlen(cells[c]);
      if (width > max_cell) width = max_cell;
      if (width > widths[c]) widths[c] = width;
    }
    free(copy);
  }
  for (long i = 0; i < count; ++i) {
    int n = split_csv(lines[i], cells);
    for (int c = 0; c < n; ++c) {
      size_t length = strlen(cells[c]);
      if (length > max_cell) printf("%.*s...", (int)max_cell - 3, cells[c]);
      else printf("%s", cells[c]);
      if (c + 1 < n) printf("%*s  ", (int)(widths[c] - (length > max_cell ? max_cell : length)), "");
    }
    putchar('\n');
    free(lines[i]);
  }
  free(lines);
}

static long manifest_head = 5;

static void print_manifest(const json_value *manifest) {
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
    print_head(first, manifest_head);
  }
}

/* ------------------------------------------------------------------------
 * Progress (status, elapsed, next poll), on stderr
 * --------------------------------------------------------------------- */

typedef struct progress_state {
  int enabled;
  int terminal;
  int line_open;
  struct timespec started;
  const char *label;
} progress_state;

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

static void progress_end(progress_state *state) {
  if (state->line_open) fputc('\n', stderr);
  state->line_open = 0;
}

/* Runs on a library thread: format and print only, never call libamc. */
static void on_progress(const char *event_json, void *user) {
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
    if (next > 0 && written > 0 && (size_t)written < sizeof line)
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

static void progress_begin(progress_state *state, const context *ctx, const char *label) {
  memset(state, 0, sizeof *state);
  state->terminal = isatty(STDERR_FILENO);
  state->enabled = ctx->o->progress || state->terminal;
  state->label = label;
  clock_gettime(CLOCK_MONOTONIC, &state->started);
}

/* ------------------------------------------------------------------------
 * Commands
 * --------------------------------------------------------------------- */

#define REQUIRE(field) \
  if (!amc_library_require(&lib, lib.field != NULL, #field)) return EXIT_CONFIG

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

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
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
        if (*v == '%' && v + 2 < end + 0 + 1 && hex_digit(v[1]) >= 0 && hex_digit(v[2]) >= 0) {
          out[o++] = (char)(hex_digit(v[1]) * 16 + hex_digit(v[2]));
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

static int import_seeded_grant(context *ctx) {
  REQUIRE(auth_import);
  const char *path = json_get_text(ctx->sandbox.summary, "refresh_token_file");
  char *token = path ? read_secret_file(path) : NULL;
  if (token == NULL) {
    fprintf(stderr, "amcctl: the sandbox has no seeded refresh token file (started with --no-seed-grant?)\n");
    return EXIT_AUTH;
  }
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
  return status == AMC_OK ? EXIT_OK : report(status);
}

static int cmd_auth_login(context *ctx) {
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

static int cmd_auth_status(context *ctx) {
  REQUIRE(auth_status);
  char *result = NULL;
  amc_status status = lib.auth_status(ctx->client, ctx->credential, &result);
  return finish(ctx, status, result, print_credential_status);
}

static int cmd_auth_refresh(context *ctx) {
  REQUIRE(auth_refresh);
  char request[64] = "{}";
  if (ctx->o->timeout_seconds > 0)
    snprintf(request, sizeof request, "{\"timeout_ms\":%ld}", ctx->o->timeout_seconds * 1000L);
  char *result = NULL;
  amc_status status = lib.auth_refresh(ctx->client, ctx->credential, request, &result);
  return finish(ctx, status, result, print_credential_status);
}

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

/* Reads a --definition file: one JSON object, AMC's Workflow. NULL after a
 * message. */
static json_value *read_definition(const char *path) {
  char *text = read_text_file(path);
  if (text == NULL) {
    fprintf(stderr, "amcctl: cannot read %s: %s\n", path, strerror(errno));
    return NULL;
  }
  char error[256] = "";
  json_value *definition = json_parse(text, error, sizeof error);
  free(text);
  if (definition == NULL || definition->type != JSON_OBJECT) {
    fprintf(stderr,
            "amcctl: %s must hold one JSON object, AMC's Workflow (e.g. what 'amcctl --json workflow get ID' "
            "prints): %s\n",
            path, definition == NULL ? error : "it holds another kind of JSON value");
    json_free(definition);
    return NULL;
  }
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
    sql = read_text_file(o->file);
    if (sql == NULL) {
      fprintf(stderr, "amcctl: cannot read %s: %s\n", o->file, strerror(errno));
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
  pthread_mutex_lock(&interrupt_lock);
  active_wait = token;
  pthread_mutex_unlock(&interrupt_lock);
  progress_state progress;
  progress_begin(&progress, ctx, label);
  char *result = NULL;
  status = lib.execution_wait(ctx->client, request.data, token, on_progress, &progress, &result);
  progress_end(&progress);
  pthread_mutex_lock(&interrupt_lock);
  active_wait = NULL;
  pthread_mutex_unlock(&interrupt_lock);
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
  progress_state progress;
  progress_begin(&progress, ctx, label);
  char *manifest = NULL;
  amc_status status = lib.results_download(ctx->client, request.data, on_progress, &progress, &manifest);
  progress_end(&progress);
  text_free(&request);
  manifest_head = ctx->o->head;
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
    char *sql = read_text_file(o->sql_file);
    if (sql == NULL) {
      fprintf(stderr, "amcctl: cannot read %s: %s\n", o->sql_file, strerror(errno));
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
  char directory[4096];
  if (ctx->o->out_dir != NULL) snprintf(directory, sizeof directory, "%s", ctx->o->out_dir);
  else snprintf(directory, sizeof directory, "amc-results/%s", label);
  int rc = download(ctx, amc_id, directory, label);
  json_free(execution);
  return rc;
}

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

static int cmd_sandbox_start(context *ctx) {
  if (ctx->o->json) {
    text_buffer out;
    text_init(&out);
    json_write(&out, ctx->sandbox.summary, NULL);
    puts(out.data);
    text_free(&out);
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
  if (sandbox_stop_running(&ctx->sandbox)) {
    if (!ctx->o->json) printf("stopped the amc-sandbox of %s\n", ctx->sandbox.directory);
  } else if (!ctx->o->json) {
    printf("no amc-sandbox running for %s\n", ctx->sandbox.directory);
  }
  return EXIT_OK;
}

static int dispatch(context *ctx) {
  switch (ctx->cmd) {
    case CMD_STORE_LIST: return with_store(ctx, 0);
    case CMD_STORE_ROTATE: return with_store(ctx, 1);
    case CMD_SANDBOX_START: return cmd_sandbox_start(ctx);
    case CMD_SANDBOX_STOP: return cmd_sandbox_stop(ctx);
    default: break;
  }
  int rc = open_client(ctx);
  if (rc != EXIT_OK) return rc;
  switch (ctx->cmd) {
    case CMD_AUTH_LOGIN: return cmd_auth_login(ctx);
    case CMD_AUTH_STATUS: return cmd_auth_status(ctx);
    case CMD_AUTH_REFRESH: return cmd_auth_refresh(ctx);
    case CMD_ACCOUNTS: return cmd_accounts(ctx);
    case CMD_INSTANCES: return cmd_instances(ctx);
    case CMD_WORKFLOW_SYNC: return cmd_workflow_sync(ctx);
    case CMD_WORKFLOW_GET: return cmd_workflow_get(ctx);
    case CMD_WORKFLOW_LIST: return cmd_workflow_list(ctx);
    case CMD_WORKFLOW_DELETE: return cmd_workflow_delete(ctx);
    case CMD_RUN: return cmd_run(ctx);
    case CMD_STATUS: return cmd_status(ctx);
    case CMD_CANCEL: return cmd_cancel(ctx);
    case CMD_RESULTS: return cmd_results(ctx);
    default: return EXIT_OTHER;
  }
}

int main(int argc, char **argv) {
  options o;
  int rc = parse_command_line(argc, argv, &o);
  if (rc != EXIT_OK) return rc;
  if (o.help || (o.positional_count > 0 && strcmp(o.positional[0], "help") == 0)) {
    fputs(help_text, stdout);
    fputs(help_text_options, stdout);
    fputs(help_text_run, stdout);
    return EXIT_OK;
  }
  char load_error[16384];
  if (o.version && o.positional_count == 0) {
    printf("amcctl %s (built against amc.h %s)\n", AMC_VERSION_STRING, AMC_VERSION_STRING);
    if (!amc_library_load(&lib, load_error, sizeof load_error)) {
      fprintf(stderr, "amcctl: %s", load_error);
      return EXIT_CONFIG;
    }
    printf("libamc %s loaded from %s\n", lib.version_string(), lib.path);
    return EXIT_OK;
  }
  context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.o = &o;
  rc = resolve_command(&o, &ctx.cmd, &ctx.argument);
  if (rc == EXIT_OK) rc = validate_command(&o, ctx.cmd, ctx.argument);
  if (rc != EXIT_OK) return rc;

  /* Before any thread exists, so that every thread inherits the mask. */
  start_interrupt_thread();
  signal(SIGPIPE, SIG_IGN);

  if (!amc_library_load(&lib, load_error, sizeof load_error)) {
    fprintf(stderr, "amcctl: %s", load_error);
    return EXIT_CONFIG;
  }
  ctx.using_sandbox = o.sandbox || ctx.cmd == CMD_SANDBOX_START || ctx.cmd == CMD_SANDBOX_STOP;
  if (ctx.cmd == CMD_SANDBOX_START) o.keep_sandbox = 1;
  rc = load_configuration(&ctx);
  if (rc == EXIT_OK) rc = dispatch(&ctx);
  fflush(stdout);

  if (ctx.client != NULL) lib.client_free(ctx.client);
  pthread_mutex_lock(&interrupt_lock);
  if (ctx.sandbox.started_here) {
    if (o.keep_sandbox) {
      if (!o.json && ctx.cmd != CMD_SANDBOX_START)
        fprintf(stderr, "amcctl: amc-sandbox left running (pid %ld); stop it with: amcctl sandbox stop%s%s\n",
                (long)ctx.sandbox.pid, o.sandbox_dir ? " --sandbox-dir " : "", o.sandbox_dir ? o.sandbox_dir : "");
    } else {
      sandbox_stop_if_started(&ctx.sandbox);
    }
  }
  sandbox_to_stop = NULL;
  pthread_mutex_unlock(&interrupt_lock);
  sandbox_release(&ctx.sandbox);
  json_free(ctx.config);
  text_free(&ctx.client_config);
  text_free(&ctx.store_config);
  amc_library_unload(&lib);
  return rc;
}
