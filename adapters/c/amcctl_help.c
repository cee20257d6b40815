/* amcctl_help.c — every option and command of amcctl with its help text,
 * and the three renderings of those tables: --help (the overview, or one
 * command's page), the man page (amcctl man, installed as amcctl.1) and
 * the bash/zsh completion scripts (amcctl completion bash|zsh). One source,
 * so the help, the man page and the completion never disagree; the parser
 * (amcctl_args.c) builds its getopt_long tables from the same rows. */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * The tables
 * --------------------------------------------------------------------- */

const option_spec option_specs[] = {
    /* global */
    {OPT_CONFIG, "config", 1, "FILE",
     "client config as JSON (see amc_client_new in amc.h),\n"
     "or a file of named profiles; default $AMC_CONFIG,\n"
     "else $XDG_CONFIG_HOME/amcctl/config.json (or\n"
     "~/.config/amcctl/config.json) when it exists. An\n"
     "extra \"defaults\" object holds command defaults and\n"
     "is removed before the rest goes to the library:\n"
     "{\"credential_id\", \"instance_id\", \"advertiser_id\",\n"
     "\"marketplace_id\", \"redirect_uri\", \"fernet_key_file\"}",
     0},
    {OPT_PROFILE, "profile", 1, "NAME",
     "the profile of the config file to use (default\n"
     "$AMCCTL_PROFILE, else the file's \"default_profile\",\n"
     "else \"default\")",
     0},
    {OPT_FERNET_KEY_FILE, "fernet-key-file", 1, "FILE",
     "the credential store's Fernet keys from a file only\n"
     "you can read (one key a line, or comma-separated;\n"
     "the first encrypts); default $AMC_FERNET_KEY_FILE,\n"
     "the profile's defaults, else $AMC_FERNET_KEYS",
     0},
    {OPT_CREDENTIAL, "credential", 1, "ID",
     "credential to act as (default $AMC_CREDENTIAL, the\n"
     "config's defaults, else \"default\"; \"sandbox\" with\n"
     "--sandbox)",
     0},
    {OPT_INSTANCE, "instance", 1, "ID", "AMC instance id ($AMC_INSTANCE_ID)", 0},
    {OPT_ADVERTISER, "advertiser", 1, "ENTITY",
     "the account's entity id, not a numeric profile id\n"
     "($AMC_ADVERTISER_ID)",
     0},
    {OPT_MARKETPLACE, "marketplace", 1, "ID", "marketplace id ($AMC_MARKETPLACE_ID)", 0},
    {OPT_JSON, "json", 2, "FIELDS",
     "machine output: the library's JSON document on\n"
     "stdout (for run: the download manifest).\n"
     "--json=FIELD,FIELD (or --json FIELD,FIELD) keeps\n"
     "only those fields (of each item of a list)",
     0},
    {OPT_TIMEOUT, "timeout", 1, "SECONDS", "deadline of each call; for run, of the whole wait", 0},
    {OPT_PROGRESS, "progress", 0, NULL, "progress lines on stderr even when it is not a terminal", 0},
    {OPT_VERBOSE, "verbose", 0, NULL, "library log lines (INFO and up) on stderr", 0},
    {OPT_SANDBOX, "sandbox", 0, NULL,
     "use the bundled amc-sandbox over HTTPS: reuse the one\n"
     "running for --sandbox-dir or start one (stopped on\n"
     "exit unless --keep-sandbox). Its endpoints, CA, LwA\n"
     "client and instance/advertiser/marketplace become the\n"
     "defaults; the credential store lives in the sandbox\n"
     "directory. auth login follows the consent URL itself\n"
     "(with curl; without curl it imports the sandbox's\n"
     "seeded refresh token)",
     0},
    {OPT_KEEP_SANDBOX, "keep-sandbox", 0, NULL, "leave a sandbox started by this command running", 0},
    {OPT_SANDBOX_DIR, "sandbox-dir", 1, "DIR",
     "sandbox state ($AMC_SANDBOX_DIR, else\n"
     "$XDG_RUNTIME_DIR/amcctl-sandbox or\n"
     "/tmp/amcctl-sandbox-UID)",
     0},
    {OPT_SANDBOX_TIME_SCALE, "sandbox-time-scale", 1, "X",
     "simulated seconds per second for a sandbox started\n"
     "here (default 100: a 15-minute run takes about 10 s)",
     0},
    {OPT_VERSION, "version", 0, NULL, "versions of amcctl and of the loaded libamc", 0},
    {OPT_HELP, "help", 0, NULL, "this text (-h); COMMAND --help: that command's", 0},
    {OPT_REFRESH_TOKEN, "refresh-token", 1, "TOKEN", "refused: use --refresh-token-file", 1},
    /* commands */
    {OPT_FILE, "file", 1, "QUERY.sql", "the workflow's sqlQuery", 0},
    {OPT_DEFINITION, "definition", 1, "WORKFLOW.json",
     "AMC's Workflow as a JSON object (what\n"
     "'amcctl --json workflow get ID' prints)",
     0},
    {OPT_ID, "id", 1, "ID", "the workflow id", 0},
    {OPT_NAME, "name", 1, "NAME", "a human name the workflow id is derived from", 0},
    {OPT_WORKFLOW_ID, "workflow-id", 1, "ID", "a saved workflow's id", 0},
    {OPT_SQL, "sql", 1, "FILE", "an ad-hoc query from FILE (UTF-8)", 0},
    {OPT_FILTER, "filter", 1, "TEXT", "only tables whose name contains TEXT (any case)", 0},
    {OPT_EXECUTION_ID, "execution-id", 1, "KEY",
     "our execution id (exec_...); for run the idempotency\n"
     "key: running again with the same key re-attaches to\n"
     "the same AMC execution",
     0},
    {OPT_AMC_EXECUTION_ID, "amc-execution-id", 1, "UUID", "AMC's execution id", 0},
    {OPT_WINDOW, "window", 1, "TYPE",
     "timeWindowType: MOST_RECENT_DAY, MOST_RECENT_WEEK,\n"
     "CURRENT_MONTH, PREVIOUS_MONTH or EXPLICIT",
     0},
    {OPT_START, "start", 1, "T", "timeWindowStart, e.g. 2026-11-01T00:00:00 (implies\nEXPLICIT; needs --end)", 0},
    {OPT_END_TIME, "end", 1, "T", "timeWindowEnd", 0},
    {OPT_TIME_ZONE, "time-zone", 1, "TZ", "time zone, e.g. America/New_York", 0},
    {OPT_PARAM, "param", 1, "NAME=VALUE", "a parameterValues entry (repeatable)", 0},
    {OPT_OUT, "out", 1, "DIR", "download folder (default amc-results/EXECUTION_ID)", 0},
    {OPT_HEAD, "head", 1, "N", "print the first N rows of the first part (default 5)", 0},
    {OPT_POLL_MS, "poll-ms", 1, "N",
     "first poll interval in ms (doubles up to\n"
     "--max-poll-ms; defaults 5000 and 60000, 1000 and\n"
     "2000 with --sandbox)",
     0},
    {OPT_MAX_POLL_MS, "max-poll-ms", 1, "N", "longest poll interval in ms", 0},
    {OPT_DRY_RUN, "dry-run", 0, NULL,
     "dryRun: AMC validates the query without running it\n"
     "or using quota; nothing is downloaded (--json prints\n"
     "the final execution)",
     0},
    {OPT_NO_WAIT, "no-wait", 0, NULL,
     "submit and return at once with the execution's ids\n"
     "(follow it with status, results)",
     0},
    {OPT_CODE, "code", 1, "CODE", "the authorization code, instead of reading it", 0},
    {OPT_REDIRECT_URI, "redirect-uri", 1, "URI", "one of the LwA client's Allowed Return URLs", 0},
    {OPT_REFRESH_TOKEN_FILE, "refresh-token-file", 1, "FILE",
     "a file holding the refresh token alone on one line;\n"
     "\"-\" reads it from stdin",
     0},
    {OPT_SINCE, "since", 1, "T",
     "minCreationTime, e.g. 2026-11-01T00:00:00 (default:\n"
     "7 days ago, unless --workflow-id)",
     0},
    {OPT_UNTIL, "until", 1, "T", "maxCreationTime", 0},
    {OPT_INCLUDE_CANCELLED, "include-cancelled", 0, NULL, "list cancelled executions too", 0},
    {OPT_ASCENDING, "ascending", 0, NULL, "oldest first (default: newest first)", 0},
    {OPT_LIMIT, "limit", 1, "N", "show at most N executions", 0},
    {OPT_PAGE_SIZE, "page-size", 1, "N", "executions per request to AMC (1-1000)", 0},
    {OPT_REGION, "region", 1, "na|eu|fe", "the AMC region", 0},
    {OPT_CLIENT_ID_ENV, "client-id-env", 1, "VAR",
     "the variable holding the LwA client id (default\n"
     "AMC_CLIENT_ID)",
     0},
    {OPT_CLIENT_SECRET_ENV, "client-secret-env", 1, "VAR",
     "the variable holding the LwA client secret (default\n"
     "AMC_CLIENT_SECRET); the secret never goes in the file",
     0},
    {OPT_STORE_PATH, "store-path", 1, "FILE", "the credential store file (default: libamc's)", 0},
    {OPT_SCHEDULE_DEFINITION, "definition", 1, "SCHEDULE.json",
     "AMC's Schedule as a JSON object (what\n"
     "'amcctl --json schedule get ID' prints); the options\n"
     "below win over its fields",
     0},
    {OPT_SCHEDULE_ID, "schedule-id", 1, "ID", "the schedule's id (scheduleId), instead of ID", 0},
    {OPT_PERIOD, "period", 1, "Daily|Weekly", "aggregationPeriod: run every day or every week", 0},
    {OPT_HOUR, "hour", 1, "H", "aggregationHourUtc: the hour of the runs, 0-23 UTC", 0},
    {OPT_DAY, "day", 1, "DAY",
     "aggregationStartDay: the day of a Weekly run\n"
     "(Monday ... Sunday; AMC's default: today)",
     0},
    {OPT_ENABLED, "enabled", 0, NULL, "scheduleEnabled true: AMC runs it (the default)", 0},
    {OPT_DISABLED, "disabled", 0, NULL, "scheduleEnabled false: AMC runs nothing", 0},
};

const size_t option_spec_count = sizeof option_specs / sizeof option_specs[0];

const int global_options[] = {OPT_CONFIG,  OPT_PROFILE,  OPT_FERNET_KEY_FILE, OPT_CREDENTIAL,  OPT_INSTANCE,
                              OPT_ADVERTISER, OPT_MARKETPLACE, OPT_JSON, OPT_TIMEOUT, OPT_PROGRESS,
                              OPT_VERBOSE, OPT_SANDBOX, OPT_KEEP_SANDBOX, OPT_SANDBOX_DIR,
                              OPT_SANDBOX_TIME_SCALE, OPT_VERSION, OPT_HELP, OPT_REFRESH_TOKEN, OPT_END};

const command_doc command_docs[] = {
    {CMD_AUTH_LOGIN, "", "log in: the Login-with-Amazon consent flow",
     "Prints the Login-with-Amazon URL, then reads the address you were sent\n"
     "back to (or just the code) from stdin, and stores the tokens under\n"
     "--credential.",
     {OPT_CODE, OPT_REDIRECT_URI, OPT_END}},
    {CMD_AUTH_IMPORT, "", "store a refresh token obtained elsewhere",
     "Stores a refresh token under --credential, with the config's LwA\n"
     "client id. Never give a token on the command line: any user can read\n"
     "it there (ps, /proc).",
     {OPT_REFRESH_TOKEN_FILE, OPT_END}},
    {CMD_AUTH_STATUS, "", "the credential's state (exit 3 when it needs a login)",
     "Shows the credential's state without secrets. Exits 3 when there is\n"
     "no such credential or it needs re-authentication, 9 when no key\n"
     "decrypts it or it is damaged.",
     {OPT_END}},
    {CMD_AUTH_REFRESH, "", "refresh the access token now", "Asks LwA for a new access token.", {OPT_END}},
    {CMD_AUTH_LOGOUT, "", "forget the credential's tokens",
     "Deletes the credential (its refresh and access tokens) from the\n"
     "store. Exits 3 when there is no such credential.",
     {OPT_END}},
    {CMD_ACCOUNTS, "", "AMC accounts (their accountId is the --advertiser)", "Lists the AMC accounts.", {OPT_END}},
    {CMD_INSTANCES, "", "AMC instances of --advertiser/--marketplace", "Lists the AMC instances.", {OPT_END}},
    {CMD_WORKFLOW_SYNC, "", "create or update a saved workflow",
     "Creates a saved workflow, or updates it when AMC's copy differs (else\n"
     "\"unchanged\"). QUERY.sql: its sqlQuery. WORKFLOW.json: AMC's Workflow,\n"
     "for the other fields: inputParameters, outputColumns, outputFormat,\n"
     "privacyFilteringBehavior, filteredReasonColumn,\n"
     "filteredMetricsDiscriminatorColumn, distinctUserCountColumn. The\n"
     "command line wins: --file replaces its sqlQuery, --id/--name its\n"
     "workflowId. The id: --id, else from --name, else its workflowId, else\n"
     "from the file's name (QUERY, else WORKFLOW).",
     {OPT_FILE, OPT_DEFINITION, OPT_ID, OPT_NAME, OPT_END}},
    {CMD_WORKFLOW_GET, "ID", "a saved workflow", "Prints a saved workflow.", {OPT_ID, OPT_WORKFLOW_ID, OPT_END}},
    {CMD_WORKFLOW_LIST, "", "the saved workflows", "Lists the instance's saved workflows.", {OPT_END}},
    {CMD_WORKFLOW_DELETE, "ID", "delete a saved workflow", "Deletes a saved workflow.",
     {OPT_ID, OPT_WORKFLOW_ID, OPT_END}},
    {CMD_WORKFLOW_CHECK, "FILE", "pre-flight check of a SQL file, no quota used",
     "Checks FILE's SQL before any quota is spent: every table it reads\n"
     "(after FROM and JOIN, without its own WITH names) must be one of the\n"
     "instance's data sources (an unknown one is named with the closest\n"
     "existing name), and AMC must compile it in a dry run (dryRun, which\n"
     "AMC's spec says uses no quota; its error is shown with its line).\n"
     "Exits 2 when the check fails (--json: the report on stdout).",
     {OPT_END}},
    {CMD_TABLES, "", "the instance's tables (data sources)",
     "Lists the instance's data sources, the tables its SQL can read, with\n"
     "their number of columns and description (all of AMC's pages).",
     {OPT_FILTER, OPT_END}},
    {CMD_COLUMNS, "TABLE", "the columns of a table",
     "Lists the columns of one data source: name, DIMENSION or METRIC, and\n"
     "description (every column, however many pages AMC uses).",
     {OPT_END}},
    {CMD_QUOTA, "", "today's ad-hoc runs of the instance",
     "Counts today's ad-hoc runs of the instance from AMC's own list of\n"
     "executions (since 00:00 UTC, all pages) against AMC's limit of 30\n"
     "per instance per day. A saved workflow does not use this quota.",
     {OPT_END}},
    {CMD_RUN, "(--workflow-id ID | --sql FILE)", "run a workflow: submit, wait, download",
     "Submits, waits (live progress), downloads every result part to --out\n"
     "and prints the first --head rows of the first part. With --no-wait it\n"
     "returns once AMC has the execution.",
     {OPT_WORKFLOW_ID, OPT_SQL, OPT_EXECUTION_ID, OPT_WINDOW, OPT_START, OPT_END_TIME, OPT_TIME_ZONE, OPT_PARAM,
      OPT_OUT, OPT_HEAD, OPT_POLL_MS, OPT_MAX_POLL_MS, OPT_DRY_RUN, OPT_NO_WAIT, OPT_END}},
    {CMD_STATUS, "ID", "an execution's status",
     "ID: our execution id (exec_...) or AMC's (a UUID); or say which with\n"
     "--execution-id / --amc-execution-id.",
     {OPT_EXECUTION_ID, OPT_AMC_EXECUTION_ID, OPT_END}},
    {CMD_CANCEL, "ID", "cancel an execution", "Cancels a PENDING or RUNNING execution (ID as for status).",
     {OPT_EXECUTION_ID, OPT_AMC_EXECUTION_ID, OPT_END}},
    {CMD_RESULTS, "ID", "download a finished execution's results",
     "Downloads every result part of a SUCCEEDED execution (ID as for\n"
     "status) and prints the first rows. An execution that is not (yet)\n"
     "SUCCEEDED is refused before anything is written.",
     {OPT_EXECUTION_ID, OPT_AMC_EXECUTION_ID, OPT_OUT, OPT_HEAD, OPT_END}},
    {CMD_EXECUTIONS_LIST, "", "the instance's executions",
     "Lists executions, newest first, from AMC's list of executions (all\n"
     "pages): of one workflow (--workflow-id) or created since --since.",
     {OPT_WORKFLOW_ID, OPT_SINCE, OPT_UNTIL, OPT_INCLUDE_CANCELLED, OPT_ASCENDING, OPT_TIME_ZONE, OPT_LIMIT,
      OPT_PAGE_SIZE, OPT_END}},
    {CMD_SCHEDULE_CREATE, "[ID]", "make AMC run a saved workflow daily or weekly",
     "Creates a schedule: AMC then runs --workflow-id on its own, every day\n"
     "(--period Daily) or every week (--period Weekly, on --day) at --hour\n"
     "UTC. Its runs are executions of the workflow ('amcctl executions list\n"
     "--workflow-id ID'). --definition gives AMC's whole Schedule instead.",
     {OPT_SCHEDULE_ID, OPT_WORKFLOW_ID, OPT_PERIOD, OPT_HOUR, OPT_DAY, OPT_ENABLED, OPT_DISABLED,
      OPT_SCHEDULE_DEFINITION, OPT_END}},
    {CMD_SCHEDULE_GET, "ID", "a schedule", "Prints a schedule.", {OPT_SCHEDULE_ID, OPT_END}},
    {CMD_SCHEDULE_LIST, "", "the instance's schedules", "Lists the instance's schedules (all pages).", {OPT_END}},
    {CMD_SCHEDULE_UPDATE, "ID", "change a schedule",
     "Changes a schedule: reads AMC's copy, applies --definition's fields and\n"
     "the options given, and sends the whole schedule back (AMC's update\n"
     "replaces it). --disabled stops its runs, --enabled starts them again.",
     {OPT_SCHEDULE_ID, OPT_WORKFLOW_ID, OPT_PERIOD, OPT_HOUR, OPT_DAY, OPT_ENABLED, OPT_DISABLED,
      OPT_SCHEDULE_DEFINITION, OPT_END}},
    {CMD_SCHEDULE_DELETE, "ID", "delete a schedule",
     "Deletes a schedule; AMC starts no more runs of it. A workflow a\n"
     "schedule runs cannot be deleted before the schedule.",
     {OPT_SCHEDULE_ID, OPT_END}},
    {CMD_STORE_LIST, "", "the credentials of the config's store", "Lists the store's credentials, no secrets.",
     {OPT_END}},
    {CMD_STORE_ROTATE, "", "re-encrypt every credential with the first key",
     "Re-encrypts every record of the store with the first Fernet key.", {OPT_END}},
    {CMD_SANDBOX_START, "", "start the sandbox and leave it running", "Starts amc-sandbox (or finds it running).",
     {OPT_END}},
    {CMD_SANDBOX_STOP, "", "stop the sandbox", "Stops the amc-sandbox of --sandbox-dir.", {OPT_END}},
    {CMD_CONFIGURE, "", "write a profile to the config file",
     "Writes (or updates) the profile --profile (default \"default\") in the\n"
     "config file (--config, else the default config file), made private\n"
     "(0600). The global --credential, --instance, --advertiser,\n"
     "--marketplace and --fernet-key-file become the profile's defaults.\n"
     "Secrets never go in the file: the LwA client id and secret are read\n"
     "from the variables named, the store's keys from the key file or\n"
     "$AMC_FERNET_KEYS.",
     {OPT_REGION, OPT_CLIENT_ID_ENV, OPT_CLIENT_SECRET_ENV, OPT_STORE_PATH, OPT_REDIRECT_URI, OPT_END}},
    {CMD_HELP, "[COMMAND]", "help on amcctl or one command", "Prints the help of a command.", {OPT_END}},
    {CMD_MAN, "", "print the man page (roff)", "Prints amcctl(1) in roff: amcctl man | man -l -", {OPT_END}},
    {CMD_COMPLETION, "bash|zsh", "print a shell completion script",
     "Prints the completion script for bash or zsh, e.g.\n"
     "source <(amcctl completion bash).",
     {OPT_END}},
};

const size_t command_doc_count = sizeof command_docs / sizeof command_docs[0];

const option_spec *find_option_spec(int key) {
  for (size_t i = 0; i < option_spec_count; ++i)
    if (option_specs[i].key == key) return &option_specs[i];
  return NULL;
}

const command_doc *find_command_doc(command id) {
  for (size_t i = 0; i < command_doc_count; ++i)
    if (command_docs[i].id == id) return &command_docs[i];
  return NULL;
}

const command_entry *find_command_entry(command id) {
  for (size_t i = 0; i < command_count; ++i)
    if (commands[i].id == id) return &commands[i];
  return NULL;
}

/* ------------------------------------------------------------------------
 * --help
 * --------------------------------------------------------------------- */

static const char environment_text[] =
    "Environment: AMC_CONFIG, AMCCTL_PROFILE, AMC_CREDENTIAL, AMC_INSTANCE_ID,\n"
    "AMC_ADVERTISER_ID, AMC_MARKETPLACE_ID (as the options above);\n"
    "AMC_FERNET_KEY_FILE, AMC_FERNET_KEYS (store keys, as in amc_store_new);\n"
    "AMC_LIBRARY (path of libamc.so.1 or its directory); AMC_SANDBOX (the\n"
    "amc-sandbox program).\n";

static const char exit_codes_text[] =
    "Exit codes\n"
    "  0 ok, 1 other error, 2 usage error or invalid argument, 3 authentication\n"
    "  required (not logged in, or the credential needs a new login), 4\n"
    "  forbidden, 5 not found, 6 execution failed/cancelled/rejected, 7 timeout,\n"
    "  8 network/TLS/remote/throttled, 9 config/crypto/store (and a library\n"
    "  that cannot be loaded), 10 the instance's ad-hoc runs of the day are\n"
    "  used up, 130 interrupted. Errors print\n"
    "  \"amcctl: STATUS_NAME: message\" or \"amcctl: message\" on stderr, never\n"
    "  a token or secret.\n";

static void command_words(const command_entry *c, char *out, size_t size) {
  snprintf(out, size, "%s%s%s", c->first, c->second ? " " : "", c->second ? c->second : "");
}

/* "--name VALUE" as shown in help. */
static void option_label(const option_spec *spec, char *out, size_t size) {
  if (spec->has_value == 2)
    snprintf(out, size, "--%s[=%s]", spec->name, spec->value_name);
  else if (spec->has_value)
    snprintf(out, size, "--%s %s", spec->name, spec->value_name);
  else if (spec->key == OPT_HELP)
    snprintf(out, size, "-h, --help");
  else
    snprintf(out, size, "--%s", spec->name);
}

static void print_option_help(const option_spec *spec) {
  char label[64];
  option_label(spec, label, sizeof label);
  const char *help = spec->help;
  int first = 1;
  while (*help != '\0') {
    size_t length = strcspn(help, "\n");
    if (first && strlen(label) < 24)
      printf("  %-24s%.*s\n", label, (int)length, help);
    else if (first)
      printf("  %s\n  %-24s%.*s\n", label, "", (int)length, help);
    else
      printf("  %-24s%.*s\n", "", (int)length, help);
    first = 0;
    help += length;
    if (*help == '\n') ++help;
  }
}

static void print_options(const int *keys) {
  for (const int *key = keys; *key != OPT_END; ++key) {
    const option_spec *spec = find_option_spec(*key);
    if (spec != NULL && !spec->hidden) print_option_help(spec);
  }
}

void print_command_help(const command_entry *cmd) {
  if (cmd == NULL || cmd->id == CMD_HELP) {
    puts("amcctl: run Amazon Marketing Cloud (AMC) workflows through libamc\n");
    puts("Usage: amcctl [options] COMMAND [command options] [arguments]\n");
    puts("Commands");
    for (size_t i = 0; i < command_count; ++i) {
      const command_doc *doc = find_command_doc(commands[i].id);
      char words[64];
      command_words(&commands[i], words, sizeof words);
      printf("  %-22s%s\n", words, doc ? doc->summary : "");
    }
    puts("\nRun 'amcctl COMMAND --help' for a command's options.\n");
    puts("Options (of every command)");
    print_options(global_options);
    putchar('\n');
    fputs(environment_text, stdout);
    putchar('\n');
    fputs(exit_codes_text, stdout);
    return;
  }
  const command_doc *doc = find_command_doc(cmd->id);
  char words[64];
  command_words(cmd, words, sizeof words);
  printf("amcctl %s: %s\n\n", words, doc->summary);
  printf("Usage: amcctl [options] %s%s%s%s\n\n", words, doc->options[0] != OPT_END ? " [command options]" : "",
         doc->arguments[0] ? " " : "", doc->arguments);
  printf("%s\n", doc->description);
  if (doc->options[0] != OPT_END) {
    puts("\nCommand options");
    print_options(doc->options);
  }
  puts("\nOptions of every command: --config, --profile, --fernet-key-file,\n"
       "--credential, --instance, --advertiser, --marketplace, --json[=FIELDS],\n"
       "--timeout, --progress, --verbose, --sandbox, --keep-sandbox,\n"
       "--sandbox-dir, --sandbox-time-scale (see amcctl --help).\n");
  fputs(exit_codes_text, stdout);
}

/* ------------------------------------------------------------------------
 * The man page (roff)
 * --------------------------------------------------------------------- */

/* Text with roff's special characters escaped; newlines become spaces
 * (roff fills paragraphs). */
static void roff_text(const char *text) {
  int line_start = 1; /* skip a help text's indent */
  for (const char *p = text; *p != '\0'; ++p) {
    if (*p == ' ' && line_start) continue;
    line_start = *p == '\n';
    if (*p == '\\') fputs("\\e", stdout);
    else if (*p == '-') fputs("\\-", stdout);
    else if (*p == '\n') putchar(' ');
    else if (*p == '.' && (p == text || p[-1] == '\n')) fputs("\\&.", stdout);
    else if (*p == '\'' && (p == text || p[-1] == '\n')) fputs("\\&'", stdout);
    else putchar(*p);
  }
}

static void man_options(const int *keys) {
  for (const int *key = keys; *key != OPT_END; ++key) {
    const option_spec *spec = find_option_spec(*key);
    if (spec == NULL || spec->hidden) continue;
    char label[64];
    option_label(spec, label, sizeof label);
    fputs(".TP\n.B ", stdout);
    roff_text(label);
    putchar('\n');
    roff_text(spec->help);
    putchar('\n');
  }
}

void print_man_page(void) {
  printf(".TH AMCCTL 1 \"\" \"libamc %s\" \"User Commands\"\n", AMC_VERSION_STRING);
  puts(".SH NAME\namcctl \\- run Amazon Marketing Cloud (AMC) workflows through libamc");
  puts(".SH SYNOPSIS\n.B amcctl\n[\\fIoptions\\fR] \\fICOMMAND\\fR [\\fIcommand options\\fR] [\\fIarguments\\fR]");
  puts(".SH DESCRIPTION\n"
       "amcctl is a command line host of libamc: it logs in with Login with Amazon, syncs saved workflows,\n"
       "runs executions with live progress, and downloads their results.\n"
       "Every command has its own options; \\fBamcctl\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR lists them.");
  puts(".SH COMMANDS");
  for (size_t i = 0; i < command_count; ++i) {
    const command_doc *doc = find_command_doc(commands[i].id);
    char words[64];
    command_words(&commands[i], words, sizeof words);
    fputs(".SS ", stdout);
    roff_text(words);
    if (doc->arguments[0]) {
      putchar(' ');
      roff_text(doc->arguments);
    }
    putchar('\n');
    roff_text(doc->description);
    putchar('\n');
    if (doc->options[0] != OPT_END) {
      puts(".RS");
      man_options(doc->options);
      puts(".RE");
    }
  }
  puts(".SH OPTIONS\nThese apply to every command.");
  man_options(global_options);
  puts(".SH ENVIRONMENT");
  roff_text(environment_text);
  puts("\n.SH FILES\n.TP\n.I $XDG_CONFIG_HOME/amcctl/config.json\n"
       "the default config file (\\fI~/.config/amcctl/config.json\\fR without XDG_CONFIG_HOME), written by\n"
       "\\fBamcctl configure\\fR: {\"default_profile\": NAME, \"profiles\": {NAME: CONFIG}}.");
  puts(".SH EXIT STATUS");
  roff_text(exit_codes_text + strlen("Exit codes\n"));
  puts("\n.SH SEE ALSO\nThe amcctl reference: docs/amcctl.md of libamc.");
}

/* ------------------------------------------------------------------------
 * Completion scripts
 * --------------------------------------------------------------------- */

static void print_option_words(const int *keys) {
  for (const int *key = keys; *key != OPT_END; ++key) {
    const option_spec *spec = find_option_spec(*key);
    if (spec != NULL && !spec->hidden) printf(" --%s", spec->name);
  }
}

/* The first words, each once, space-separated. */
static void print_first_words(void) {
  for (size_t i = 0; i < command_count; ++i) {
    int seen = 0;
    for (size_t j = 0; j < i; ++j)
      if (strcmp(commands[j].first, commands[i].first) == 0) seen = 1;
    if (!seen) printf("%s%s", i ? " " : "", commands[i].first);
  }
}

static void print_second_words(const char *first) {
  int any = 0;
  for (size_t i = 0; i < command_count; ++i)
    if (commands[i].second != NULL && strcmp(commands[i].first, first) == 0) {
      printf("%s%s", any ? " " : "", commands[i].second);
      any = 1;
    }
}

/* The completion function, for bash (compgen, COMP_WORDS from 0) or zsh
 * (compadd, words from 1): the command words typed so far pick the
 * options offered. */
static void offer_begin(int zsh) { fputs(zsh ? "compadd -- " : "COMPREPLY=($(compgen -W \"", stdout); }
static void offer_end(int zsh) { fputs(zsh ? "" : "\" -- \"$cur\"))", stdout); }

static void print_completion_function(int zsh) {
  puts("_amcctl() {");
  if (zsh)
    puts("  local cur=${words[CURRENT]} prev=${words[CURRENT-1]} first=\"\" second=\"\" i w\n"
         "  for ((i = 2; i < CURRENT; i++)); do\n"
         "    w=${words[i]}\n"
         "    [[ $w == -* ]] && continue\n"
         "    case ${words[i-1]} in");
  else
    puts("  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} first=\"\" second=\"\" i w\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    w=${COMP_WORDS[i]}\n"
         "    [[ $w == -* ]] && continue\n"
         "    case ${COMP_WORDS[i-1]} in");
  fputs("      ", stdout);
  int first_value = 1;
  for (size_t i = 0; i < option_spec_count; ++i)
    if (option_specs[i].has_value == 1) {
      printf("%s--%s", first_value ? "" : "|", option_specs[i].name);
      first_value = 0;
    }
  puts(") continue ;;\n"
       "    esac\n"
       "    if [[ -z $first ]]; then first=$w; elif [[ -z $second ]]; then second=$w; fi\n"
       "  done");
  fputs("  local global=\"", stdout);
  print_option_words(global_options);
  puts("\"");
  puts("  case $prev in\n"
       "    --config|--fernet-key-file|--file|--definition|--sql|--refresh-token-file|--store-path)");
  puts(zsh ? "      _files; return ;;" : "      COMPREPLY=($(compgen -f -- \"$cur\")); return ;;");
  puts(zsh ? "    --out|--sandbox-dir) _files -/; return ;;"
           : "    --out|--sandbox-dir) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;");
  fputs("    --window) ", stdout);
  offer_begin(zsh);
  fputs("MOST_RECENT_DAY MOST_RECENT_WEEK CURRENT_MONTH PREVIOUS_MONTH EXPLICIT", stdout);
  offer_end(zsh);
  fputs("; return ;;\n    --period) ", stdout);
  offer_begin(zsh);
  fputs("Daily Weekly", stdout);
  offer_end(zsh);
  fputs("; return ;;\n    --day) ", stdout);
  offer_begin(zsh);
  fputs("Monday Tuesday Wednesday Thursday Friday Saturday Sunday", stdout);
  offer_end(zsh);
  fputs("; return ;;\n    --region) ", stdout);
  offer_begin(zsh);
  fputs("na eu fe", stdout);
  offer_end(zsh);
  puts("; return ;;\n  esac");
  fputs("  if [[ -z $first ]]; then\n    if [[ $cur == -* ]]; then ", stdout);
  offer_begin(zsh);
  fputs(zsh ? "${=global}" : "$global", stdout);
  offer_end(zsh);
  fputs("\n    else ", stdout);
  offer_begin(zsh);
  print_first_words();
  offer_end(zsh);
  puts("\n    fi\n    return\n  fi");
  puts("  local options=\"\"\n  case \"$first $second\" in");
  for (size_t i = 0; i < command_count; ++i) {
    const command_doc *doc = find_command_doc(commands[i].id);
    if (commands[i].second != NULL)
      printf("    \"%s %s\") options=\"", commands[i].first, commands[i].second);
    else
      printf("    \"%s \"*) options=\"", commands[i].first);
    print_option_words(doc->options);
    puts("\" ;;");
  }
  for (size_t i = 0; i < command_count; ++i) {
    if (commands[i].second == NULL) continue;
    int seen = 0;
    for (size_t j = 0; j < i; ++j)
      if (strcmp(commands[j].first, commands[i].first) == 0) seen = 1;
    if (seen) continue;
    printf("    \"%s \"*) if [[ $cur != -* ]]; then ", commands[i].first);
    offer_begin(zsh);
    print_second_words(commands[i].first);
    offer_end(zsh);
    puts("; return; fi ;;");
  }
  puts("  esac");
  puts("  case $first in");
  fputs("    help) ", stdout);
  offer_begin(zsh);
  print_first_words();
  offer_end(zsh);
  fputs("; return ;;\n    completion) ", stdout);
  offer_begin(zsh);
  fputs("bash zsh", stdout);
  offer_end(zsh);
  puts("; return ;;\n  esac");
  fputs("  ", stdout);
  offer_begin(zsh);
  fputs(zsh ? "${=options} ${=global}" : "$options $global", stdout);
  offer_end(zsh);
  puts("\n}");
}

int print_completion(const char *shell) {
  if (shell != NULL && strcmp(shell, "bash") == 0) {
    puts("# bash completion for amcctl (generated by: amcctl completion bash)");
    print_completion_function(0);
    puts("complete -o default -F _amcctl amcctl");
    return EXIT_OK;
  }
  if (shell != NULL && strcmp(shell, "zsh") == 0) {
    /* As a file _amcctl on $fpath, zsh runs this body as the completion
     * function: it defines _amcctl, then calls it; source it to use it
     * directly (compdef then registers it). */
    puts("#compdef amcctl\n# zsh completion for amcctl (generated by: amcctl completion zsh)");
    print_completion_function(1);
    puts("if [[ $funcstack[1] == _amcctl ]]; then _amcctl \"$@\"; else compdef _amcctl amcctl; fi");
    return EXIT_OK;
  }
  return usage_error("completion needs a shell: bash or zsh");
}
