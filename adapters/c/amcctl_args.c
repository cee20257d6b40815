/* amcctl_args.c — the command line: --help, parsing, and the checks that
 * need nothing loaded. */
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
    "  auth import --refresh-token-file FILE\n"
    "                          store a refresh token obtained elsewhere under\n"
    "                          --credential, with the config's LwA client id. FILE\n"
    "                          holds the token alone on one line; \"-\" reads it from\n"
    "                          stdin. Never give a token on the command line: any\n"
    "                          user can read it there (ps, /proc)\n"
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

void print_help(void) {
  fputs(help_text, stdout);
  fputs(help_text_options, stdout);
  fputs(help_text_run, stdout);
}

int usage_error(const char *format, ...) {
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
int parse_command_line(int argc, char **argv, options *o) {
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
        "--poll-ms", "--max-poll-ms", "--code", "--redirect-uri", "--refresh-token-file", "--refresh-token"};
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
    else if (strcmp(name, "--refresh-token-file") == 0) o->refresh_token_file = value;
    else if (strcmp(name, "--refresh-token") == 0)
      /* Known only to be refused: a token on the command line is readable
       * by every user of the machine. The value is never printed. */
      return usage_error("a refresh token is never taken from the command line, where any user can read it "
                         "(ps, /proc): put it alone in a file only you can read and give --refresh-token-file "
                         "FILE, or pipe it in with --refresh-token-file -");
  }
  return EXIT_OK;
}

/* Finds the command and checks its arguments; EXIT_USAGE after a message. */
int resolve_command(const options *o, command *out, const char **argument) {
  *out = CMD_NONE;
  *argument = NULL;
  if (o->positional_count == 0) return usage_error("no command given");
  const char *first = o->positional[0];
  int first_known = 0;
  for (size_t i = 0; i < command_count; ++i) {
    const command_entry *c = &commands[i];
    if (strcmp(c->first, first) != 0) continue;
    first_known = 1;
    int words = c->second ? 2 : 1;
    if (c->second && (o->positional_count < 2 || strcmp(c->second, o->positional[1]) != 0)) continue;
    int extra = o->positional_count - words;
    if (extra > c->max_arguments && c->id == CMD_AUTH_IMPORT)
      /* Most likely the token itself: not echoed. */
      return usage_error("auth import takes no argument: it reads the refresh token from --refresh-token-file "
                         "FILE (or - for stdin), never from the command line");
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
int validate_command(const options *o, command cmd, const char *argument) {
  switch (cmd) {
    case CMD_AUTH_IMPORT:
      if (o->refresh_token_file == NULL)
        return usage_error("auth import needs --refresh-token-file FILE (or - to read the token from stdin)");
      break;
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
