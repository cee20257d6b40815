/* amcctl.h — what the parts of amcctl share: exit codes, the parsed command
 * line, the command table, the context of one run, and the functions each
 * file offers the others.
 *
 *   amcctl.c           main, interrupts (SIGINT/SIGTERM), the loaded library
 *   amcctl_args.c      command line (getopt_long with each command's own
 *                      option table), argument checks, usage checks
 *   amcctl_help.c      the option and command tables with their help text,
 *                      rendered as --help, the man page and bash/zsh
 *                      completion (one source for all three)
 *   amcctl_config.c    --config / the default config file, profiles, key
 *                      files, --sandbox, defaults, the client; configure
 *   amcctl_output.c    status -> exit code, errors, human and --json output,
 *                      progress lines, the first rows of a result
 *   amcctl_login.c     auth commands: login (consent flow), import (a refresh
 *                      token from a file or stdin), status, refresh, logout
 *   amcctl_commands.c  every other command, and the command table
 *   amcctl_schedules.c the schedule commands (create, get, list, update,
 *                      delete)
 */
#ifndef AMCCTL_H
#define AMCCTL_H

#include "amc/amc.h"
#include "amc_library.h"
#include "json_text.h"
#include "sandbox.h"

#include <stddef.h>
#include <time.h>

/* Exit codes (the list is in --help and at the top of amcctl.c). */
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
  EXIT_QUOTA = 10, /* AMC_E_ADHOC_QUOTA: the instance's ad-hoc runs of the day are used up */
  EXIT_INTERRUPTED = 130
};

/* The command line, as parsed by parse_command_line. */
enum { max_positional = 8, max_params = 64 };

typedef struct options {
  /* global */
  const char *config_file;
  const char *profile;
  const char *fernet_key_file;
  const char *credential;
  const char *instance_id;
  const char *advertiser_id;
  const char *marketplace_id;
  int json;
  const char *json_fields; /* --json=FIELD,FIELD: only these fields */
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
  const char *refresh_token_file;
  int no_wait;
  /* executions list */
  const char *since;
  const char *until;
  int include_cancelled;
  int ascending;
  long limit;
  long page_size;
  /* configure */
  const char *region;
  const char *client_id_env;
  const char *client_secret_env;
  const char *store_path;
  /* tables */
  const char *filter;
  /* schedule create/update */
  const char *schedule_definition_file;
  const char *schedule_id;
  const char *period;
  long hour; /* -1: not given */
  const char *day;
  int schedule_enabled; /* 1 --enabled, -1 --disabled, 0 neither */
  const char *positional[max_positional];
  int positional_count;
} options;

/* The commands, for validation before anything is loaded. */
typedef enum command {
  CMD_NONE,
  CMD_AUTH_LOGIN,
  CMD_AUTH_STATUS,
  CMD_AUTH_REFRESH,
  CMD_AUTH_IMPORT,
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
  CMD_SANDBOX_STOP,
  CMD_AUTH_LOGOUT,
  CMD_EXECUTIONS_LIST,
  CMD_CONFIGURE,
  CMD_HELP,
  CMD_MAN,
  CMD_COMPLETION,
  CMD_TABLES,
  CMD_COLUMNS,
  CMD_WORKFLOW_CHECK,
  CMD_QUOTA,
  CMD_SCHEDULE_CREATE,
  CMD_SCHEDULE_GET,
  CMD_SCHEDULE_LIST,
  CMD_SCHEDULE_UPDATE,
  CMD_SCHEDULE_DELETE
} command;

/* One run: the command line, the command, the config and the client. */
typedef struct context {
  options *o;
  command cmd;
  const char *argument;
  json_value *config;      /* the config file, or NULL */
  const json_value *profile; /* the profile used (the file itself without "profiles") */
  const char *config_path; /* where the config came from, or NULL */
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

/* One row of the command table (amcctl_commands.c): the words that name
 * the command, how many positional arguments may follow, whether it needs
 * a client, and what runs it. */
typedef struct command_entry {
  const char *first;
  const char *second; /* NULL: a one-word command */
  command id;
  int max_arguments;  /* positional arguments after the command words */
  int needs_client;
  int (*run)(context *ctx);
} command_entry;

extern const command_entry commands[];
extern const size_t command_count;

/* The options (amcctl_help.c): getopt_long's val for each. */
enum option_key {
  OPT_END = 0,
  OPT_HELP = 'h',
  OPT_CONFIG = 256,
  OPT_PROFILE,
  OPT_FERNET_KEY_FILE,
  OPT_CREDENTIAL,
  OPT_INSTANCE,
  OPT_ADVERTISER,
  OPT_MARKETPLACE,
  OPT_JSON,
  OPT_TIMEOUT,
  OPT_PROGRESS,
  OPT_VERBOSE,
  OPT_SANDBOX,
  OPT_KEEP_SANDBOX,
  OPT_SANDBOX_DIR,
  OPT_SANDBOX_TIME_SCALE,
  OPT_VERSION,
  OPT_FILE,
  OPT_DEFINITION,
  OPT_ID,
  OPT_NAME,
  OPT_WORKFLOW_ID,
  OPT_SQL,
  OPT_EXECUTION_ID,
  OPT_AMC_EXECUTION_ID,
  OPT_WINDOW,
  OPT_START,
  OPT_END_TIME,
  OPT_TIME_ZONE,
  OPT_PARAM,
  OPT_OUT,
  OPT_HEAD,
  OPT_POLL_MS,
  OPT_MAX_POLL_MS,
  OPT_DRY_RUN,
  OPT_NO_WAIT,
  OPT_CODE,
  OPT_REDIRECT_URI,
  OPT_REFRESH_TOKEN_FILE,
  OPT_REFRESH_TOKEN,
  OPT_SINCE,
  OPT_UNTIL,
  OPT_INCLUDE_CANCELLED,
  OPT_ASCENDING,
  OPT_LIMIT,
  OPT_PAGE_SIZE,
  OPT_REGION,
  OPT_CLIENT_ID_ENV,
  OPT_CLIENT_SECRET_ENV,
  OPT_STORE_PATH,
  OPT_FILTER,
  OPT_SCHEDULE_DEFINITION,
  OPT_SCHEDULE_ID,
  OPT_PERIOD,
  OPT_HOUR,
  OPT_DAY,
  OPT_ENABLED,
  OPT_DISABLED
};

/* One option: its name (without "--"), whether it takes a value (0 no, 1
 * yes, 2 optional and only as --name=VALUE), the value's name, and help
 * text (lines of at most 54 characters, joined with '\n'). hidden: parsed
 * but not shown (--refresh-token, kept only to be refused). */
typedef struct option_spec {
  int key;
  const char *name;
  int has_value;
  const char *value_name;
  const char *help;
  int hidden;
} option_spec;

/* A command's documentation: its arguments after the words, a one-line
 * summary, a description (lines of at most 72 characters) and the keys of
 * its own options (OPT_END-terminated; the global options apply to all). */
typedef struct command_doc {
  command id;
  const char *arguments;
  const char *summary;
  const char *description;
  int options[16];
} command_doc;

extern const option_spec option_specs[];
extern const size_t option_spec_count;
extern const int global_options[];
extern const command_doc command_docs[];
extern const size_t command_doc_count;
const option_spec *find_option_spec(int key);
const command_doc *find_command_doc(command id);
const command_entry *find_command_entry(command id);
/* Prints the overview (cmd NULL) or one command's help on stdout. */
void print_command_help(const command_entry *cmd);
/* amcctl man: the man page in roff; amcctl completion bash|zsh. */
void print_man_page(void);
int print_completion(const char *shell);

/* The loaded libamc (amcctl.c). */
extern amc_library lib;

/* Fails the command with EXIT_CONFIG when the loaded library lacks a
 * function (see amc_library_require). */
#define REQUIRE(field) \
  if (!amc_library_require(&lib, lib.field != NULL, #field)) return EXIT_CONFIG

/* amcctl.c: what SIGINT/SIGTERM act on. A wait being cancelled (NULL: none),
 * and a sandbox to stop before exiting (NULL: none). */
void interrupts_cancel_wait(amc_cancel_token *token);
void interrupts_stop_sandbox(sandbox_info *sandbox);

/* amcctl_args.c */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
int usage_error(const char *format, ...);
int parse_command_line(int argc, char **argv, options *o, command *cmd, const char **argument);
int validate_command(const options *o, command cmd, const char *argument);
/* The command named by first (and second): NULL when none; *used words. */
const command_entry *command_named(const char *first, const char *second, int *used);
/* Levenshtein distance, for "did you mean". */
size_t edit_distance(const char *a, const char *b);
/* NULL when text is valid UTF-8; else where the first bad byte is (for
 * messages: line and column from 1, in characters). */
const char *utf8_check(const char *text, size_t length, long *line, long *column);
/* A file the user named ("-": stdin), as text (malloc'd). NULL after a
 * message naming the file, and the line and column of a byte that is not
 * UTF-8 or a NUL byte (which would cut the text short), or "cannot read
 * WHAT PATH: reason" (what: e.g. "the config file ", may be ""). */
char *read_user_file(const char *path, const char *what);

/* amcctl_config.c */
int load_configuration(context *ctx);
int open_client(context *ctx);
int cmd_configure(context *ctx);
/* The default config file: $XDG_CONFIG_HOME/amcctl/config.json, else
 * ~/.config/amcctl/config.json. 0 when neither variable is set. */
int default_config_path(char *out, size_t size);

/* amcctl_output.c */
int report(amc_status status);
typedef void (*human_printer)(const json_value *document);
/* The library's request/response calls (amc_workflow_get and the like). */
typedef amc_status (*json_call)(amc_client *client, const char *request_json, char **out_json);
void request_begin(const context *ctx, text_buffer *request, int with_instance);
int finish(const context *ctx, amc_status status, char *json, human_printer human);
/* Prints a JSON document for --json, keeping only --json=FIELDS when
 * given. EXIT_OK, or EXIT_USAGE when a field is in no object. */
int print_json(const context *ctx, const char *json);
amc_status send_request(const context *ctx, json_call call, text_buffer *request, char **result);
int call_and_finish(const context *ctx, json_call call, text_buffer *request, human_printer human);
const char *text_or(const char *value, const char *fallback);
void print_credential_status(const json_value *status);
void print_execution(const json_value *execution);
void print_dry_run(const json_value *execution);
void print_accounts(const json_value *document);
void print_instances(const json_value *document);
void print_workflow(const json_value *workflow);
void print_workflows(const json_value *document);
void print_schedule(const json_value *schedule);
void print_schedules(const json_value *document);
void print_credentials(const json_value *document);
void print_rotation(const json_value *report_json);
void print_manifest(const json_value *manifest);
void set_manifest_head(long rows);

typedef struct progress_state {
  int enabled;
  int terminal;
  int line_open;
  struct timespec started;
  const char *label;
} progress_state;
void progress_begin(progress_state *state, const context *ctx, const char *label);
void progress_end(progress_state *state);
void on_progress(const char *event_json, void *user);

/* amcctl_login.c */
int cmd_auth_login(context *ctx);
int cmd_auth_status(context *ctx);
int cmd_auth_refresh(context *ctx);
int cmd_auth_import(context *ctx);
int cmd_auth_logout(context *ctx);

/* amcctl_commands.c */
int dispatch(context *ctx);
/* A --definition file: one JSON object, AMC's `object_name` ("Workflow"),
 * as 'amcctl --json COMMAND_WORD get ID' prints it. NULL after a message. */
json_value *read_amc_object_file(const char *path, const char *object_name, const char *command_word);

/* amcctl_schedules.c */
int cmd_schedule_create(context *ctx);
int cmd_schedule_get(context *ctx);
int cmd_schedule_list(context *ctx);
int cmd_schedule_update(context *ctx);
int cmd_schedule_delete(context *ctx);

/* amcctl_tables.c: tables, columns, workflow check, quota */
int cmd_tables(context *ctx);
int cmd_columns(context *ctx);
int cmd_workflow_check(context *ctx);
int cmd_quota(context *ctx);

#endif /* AMCCTL_H */
