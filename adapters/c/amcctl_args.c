/* amcctl_args.c — the command line: every argument checked (UTF-8, size),
 * the command found, getopt_long over the global options and the command's
 * own (tables in amcctl_help.c), inapplicable and mistyped options refused
 * with a "did you mean", and the checks that need nothing loaded. */
#define _POSIX_C_SOURCE 200809L

#include "amcctl.h"

#include <errno.h>
#include <getopt.h>
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

/* The longest argument taken: a workflow id, a path, a parameter value.
 * SQL and definitions come from files. */
enum { max_argument_bytes = 65536 };

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

size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return (size_t)-1;
  size_t row[65];
  for (size_t j = 0; j <= lb; ++j) row[j] = j;
  for (size_t i = 1; i <= la; ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; ++j) {
      size_t above = row[j];
      size_t best = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      if (above + 1 < best) best = above + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diagonal = above;
    }
  }
  return row[lb];
}

const char *utf8_check(const char *text, size_t length, long *line, long *column) {
  const unsigned char *p = (const unsigned char *)text, *end = p + length;
  *line = 1;
  *column = 1;
  while (p < end) {
    size_t extra = 0;
    unsigned minimum = 0, code = *p;
    if (code < 0x80) extra = 0;
    else if ((code & 0xe0) == 0xc0) { extra = 1; code &= 0x1f; minimum = 0x80; }
    else if ((code & 0xf0) == 0xe0) { extra = 2; code &= 0x0f; minimum = 0x800; }
    else if ((code & 0xf8) == 0xf0) { extra = 3; code &= 0x07; minimum = 0x10000; }
    else return (const char *)p;
    if ((size_t)(end - p) <= extra) return (const char *)p;
    for (size_t k = 1; k <= extra; ++k) {
      if ((p[k] & 0xc0) != 0x80) return (const char *)p;
      code = (code << 6) | (p[k] & 0x3f);
    }
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return (const char *)p;
    if (*p == '\n') {
      ++*line;
      *column = 1;
    } else {
      ++*column;
    }
    p += extra + 1;
  }
  return NULL;
}

char *read_user_file(const char *path, const char *what) {
  const int from_stdin = strcmp(path, "-") == 0;
  const char *shown = from_stdin ? "stdin" : path;
  FILE *file = from_stdin ? stdin : fopen(path, "rb");
  if (file == NULL) {
    fprintf(stderr, "amcctl: cannot read %s%s: %s\n", what, shown, strerror(errno));
    return NULL;
  }
  text_buffer text;
  text_init(&text);
  char chunk[8192];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) text_append_bytes(&text, chunk, got);
  const int failed = ferror(file);
  const int saved_errno = errno;
  if (!from_stdin) fclose(file);
  if (failed) {
    fprintf(stderr, "amcctl: cannot read %s%s: %s\n", what, shown, strerror(saved_errno));
    memset(text.data, 0, text.length);
    text_free(&text);
    return NULL;
  }
  /* A NUL byte would cut the text short where C strings end: refused, not
   * silently truncated. Position: line and column (characters, from 1). */
  const char *nul = memchr(text.data, '\0', text.length);
  const size_t checked = nul != NULL ? (size_t)(nul - text.data) : text.length;
  long line = 0, column = 0;
  const char *bad = utf8_check(text.data, checked, &line, &column);
  if (bad != NULL || nul != NULL) {
    fprintf(stderr, "amcctl: %s: line %ld, column %ld %s\n", shown, line, column,
            bad != NULL ? "is not UTF-8: save it as UTF-8 text" : "is a NUL byte: the file is not text");
    memset(text.data, 0, text.length);
    text_free(&text);
    return NULL;
  }
  return text.data;
}

/* Every argument, before anything reads it: valid UTF-8 (what every
 * request is) and of a sane size. The text itself is never echoed: it may
 * be a secret put in the wrong place. */
static int check_arguments(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    size_t length = strlen(argv[i]);
    if (length > max_argument_bytes)
      return usage_error("argument %d is %zu bytes long; the limit is %d (put long text in a file)", i, length,
                         max_argument_bytes);
    long line = 0, column = 0;
    if (utf8_check(argv[i], length, &line, &column) != NULL)
      return usage_error("argument %d is not valid UTF-8 (at character %ld): amcctl takes UTF-8 text only", i,
                         column);
  }
  /* The variables that stand in for arguments, checked the same way. */
  static const char *const variables[] = {"AMC_CONFIG",        "AMCCTL_PROFILE",    "AMC_CREDENTIAL",
                                          "AMC_INSTANCE_ID",   "AMC_ADVERTISER_ID", "AMC_MARKETPLACE_ID",
                                          "AMC_FERNET_KEY_FILE", "AMC_SANDBOX_DIR"};
  for (size_t i = 0; i < sizeof variables / sizeof variables[0]; ++i) {
    const char *value = getenv(variables[i]);
    if (value == NULL) continue;
    size_t length = strlen(value);
    long line = 0, column = 0;
    if (length > max_argument_bytes)
      return usage_error("the environment variable %s is %zu bytes long; the limit is %d", variables[i], length,
                         max_argument_bytes);
    if (utf8_check(value, length, &line, &column) != NULL)
      return usage_error("the environment variable %s is not valid UTF-8 (at character %ld)", variables[i], column);
  }
  return EXIT_OK;
}

static int takes_value(const char *name, size_t length) {
  for (size_t i = 0; i < option_spec_count; ++i)
    if (option_specs[i].has_value == 1 && strlen(option_specs[i].name) == length &&
        strncmp(option_specs[i].name, name, length) == 0)
      return 1;
  return 0;
}

/* The words that are not options nor option values, in order: the command
 * and its arguments, found before getopt_long so that it can get the
 * command's own table. */
static int find_words(int argc, char **argv, const char **words, int *count) {
  *count = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      for (++i; i < argc; ++i) {
        if (*count == max_positional) return usage_error("too many arguments");
        words[(*count)++] = argv[i];
      }
      break;
    }
    if (a[0] == '-' && a[1] == '-' && strchr(a, '=') == NULL && takes_value(a + 2, strlen(a + 2))) {
      ++i;
      continue;
    }
    if (a[0] == '-' && a[1] != '\0') continue;
    if (*count == max_positional) return usage_error("too many arguments");
    words[(*count)++] = a;
  }
  return EXIT_OK;
}

/* The row of the command named by words, with *used words; NULL with an
 * error (after a message) in *rc when there is none. */
static const command_entry *match_command(const char *const *words, int count, int *used, int *rc) {
  *rc = EXIT_OK;
  *used = 0;
  if (count == 0) return NULL;
  const char *first = words[0];
  const command_entry *found = command_named(first, count >= 2 ? words[1] : NULL, used);
  if (found != NULL) return found;
  int first_known = 0;
  for (size_t i = 0; i < command_count; ++i)
    if (strcmp(commands[i].first, first) == 0) first_known = 1;
  /* Suggestions: the closest command (or subcommand) by edit distance. */
  const char *best = NULL;
  size_t best_distance = 3;
  char buffer[128];
  if (first_known) {
    if (count < 2) {
      *rc = usage_error("'%s' needs a subcommand", first);
      return NULL;
    }
    for (size_t i = 0; i < command_count; ++i)
      if (commands[i].second != NULL && strcmp(commands[i].first, first) == 0) {
        size_t d = edit_distance(words[1], commands[i].second);
        if (d < best_distance) best_distance = d, best = commands[i].second;
      }
    if (best != NULL)
      *rc = usage_error("unknown subcommand '%s %s'; did you mean '%s %s'?", first, words[1], first, best);
    else
      *rc = usage_error("unknown subcommand '%s %s'", first, words[1]);
    return NULL;
  }
  for (size_t i = 0; i < command_count; ++i) {
    size_t d = edit_distance(first, commands[i].first);
    if (d < best_distance) best_distance = d, best = commands[i].first;
  }
  snprintf(buffer, sizeof buffer, "%s", best ? best : "");
  if (best != NULL) *rc = usage_error("unknown command '%s'; did you mean '%s'?", first, buffer);
  else *rc = usage_error("unknown command '%s'", first);
  return NULL;
}

static int in_keys(const int *keys, int key) {
  for (; *keys != OPT_END; ++keys)
    if (*keys == key) return 1;
  return 0;
}

/* An option getopt_long did not take: inapplicable (another command's),
 * mistyped (did you mean), or unknown. */
static int reject_option(const char *argument, const command_doc *doc, const char *words) {
  char name[64];
  const char *start = argument + (argument[0] == '-' && argument[1] == '-' ? 2 : 1);
  size_t length = strcspn(start, "=");
  if (length >= sizeof name) length = sizeof name - 1;
  memcpy(name, start, length);
  name[length] = '\0';
  /* Another command's option? */
  char owners[512] = "";
  for (size_t i = 0; i < option_spec_count; ++i) {
    if (strcmp(option_specs[i].name, name) != 0) continue;
    for (size_t c = 0; c < command_doc_count; ++c) {
      if (!in_keys(command_docs[c].options, option_specs[i].key)) continue;
      const command_entry *entry = find_command_entry(command_docs[c].id);
      size_t used = strlen(owners);
      snprintf(owners + used, sizeof owners - used, "%s'%s%s%s'", used ? ", " : "", entry->first,
               entry->second ? " " : "", entry->second ? entry->second : "");
    }
  }
  if (owners[0] != '\0') {
    if (words == NULL) return usage_error("--%s needs a command: it is an option of %s", name, owners);
    return usage_error("--%s is not an option of '%s'; it is one of %s", name, words, owners);
  }
  /* The closest option this command takes. */
  const char *best = NULL;
  size_t best_distance = 3;
  for (size_t i = 0; i < option_spec_count; ++i) {
    const option_spec *spec = &option_specs[i];
    if (spec->hidden) continue;
    if (!in_keys(global_options, spec->key) && (doc == NULL || !in_keys(doc->options, spec->key))) continue;
    size_t d = edit_distance(name, spec->name);
    if (d < best_distance) best_distance = d, best = spec->name;
  }
  if (best != NULL) return usage_error("unknown option '%s'; did you mean --%s?", argument, best);
  return usage_error("unknown option '%s'", argument);
}

static struct option long_option(const option_spec *spec) {
  struct option o;
  o.name = spec->name;
  o.has_arg = spec->has_value == 2 ? optional_argument : spec->has_value ? required_argument : no_argument;
  o.flag = NULL;
  o.val = spec->key;
  return o;
}

/* Stores one parsed option. EXIT_OK or EXIT_USAGE after a message. */
static int take_option(options *o, int key, const char *value) {
  switch (key) {
    case OPT_HELP: o->help = 1; break;
    case OPT_VERSION: o->version = 1; break;
    case OPT_JSON:
      o->json = 1;
      if (value != NULL) {
        if (value[0] == '\0') return usage_error("--json= needs field names, e.g. --json=status,workflowId");
        o->json_fields = value;
      }
      break;
    case OPT_PROGRESS: o->progress = 1; break;
    case OPT_VERBOSE: o->verbose = 1; break;
    case OPT_SANDBOX: o->sandbox = 1; break;
    case OPT_KEEP_SANDBOX: o->keep_sandbox = 1; break;
    case OPT_DRY_RUN: o->dry_run = 1; break;
    case OPT_NO_WAIT: o->no_wait = 1; break;
    case OPT_INCLUDE_CANCELLED: o->include_cancelled = 1; break;
    case OPT_ASCENDING: o->ascending = 1; break;
    case OPT_CONFIG: o->config_file = value; break;
    case OPT_PROFILE: o->profile = value; break;
    case OPT_FERNET_KEY_FILE: o->fernet_key_file = value; break;
    case OPT_CREDENTIAL: o->credential = value; break;
    case OPT_INSTANCE: o->instance_id = value; break;
    case OPT_ADVERTISER: o->advertiser_id = value; break;
    case OPT_MARKETPLACE: o->marketplace_id = value; break;
    case OPT_TIMEOUT:
      if (!parse_long(value, 1, &o->timeout_seconds))
        return usage_error("--timeout needs a positive number of seconds, got '%s'", value);
      break;
    case OPT_SANDBOX_DIR: o->sandbox_dir = value; break;
    case OPT_SANDBOX_TIME_SCALE: {
      char *end = NULL;
      o->sandbox_time_scale = strtod(value, &end);
      if (end == value || *end != '\0' || !(o->sandbox_time_scale > 0))
        return usage_error("--sandbox-time-scale needs a positive number, got '%s'", value);
      break;
    }
    case OPT_FILE: o->file = value; break;
    case OPT_DEFINITION: o->definition_file = value; break;
    case OPT_ID: o->id = value; break;
    case OPT_NAME: o->name = value; break;
    case OPT_WORKFLOW_ID: o->workflow_id = value; break;
    case OPT_SQL: o->sql_file = value; break;
    case OPT_EXECUTION_ID: o->execution_id = value; break;
    case OPT_AMC_EXECUTION_ID: o->amc_execution_id = value; break;
    case OPT_WINDOW: o->window = value; break;
    case OPT_START: o->start = value; break;
    case OPT_END_TIME: o->end = value; break;
    case OPT_TIME_ZONE: o->time_zone = value; break;
    case OPT_PARAM:
      if (strchr(value, '=') == NULL || value[0] == '=')
        return usage_error("--param needs NAME=VALUE, got '%s'", value);
      if (o->param_count == max_params) return usage_error("too many --param options");
      o->params[o->param_count++] = value;
      break;
    case OPT_OUT: o->out_dir = value; break;
    case OPT_HEAD:
      if (!parse_long(value, 0, &o->head)) return usage_error("--head needs a number of rows, got '%s'", value);
      break;
    case OPT_POLL_MS:
      if (!parse_long(value, 1, &o->poll_ms)) return usage_error("--poll-ms needs a positive number, got '%s'", value);
      break;
    case OPT_MAX_POLL_MS:
      if (!parse_long(value, 1, &o->max_poll_ms))
        return usage_error("--max-poll-ms needs a positive number, got '%s'", value);
      break;
    case OPT_CODE: o->code = value; break;
    case OPT_REDIRECT_URI: o->redirect_uri = value; break;
    case OPT_REFRESH_TOKEN_FILE: o->refresh_token_file = value; break;
    case OPT_REFRESH_TOKEN:
      /* Known only to be refused: a token on the command line is readable
       * by every user of the machine. The value is never printed. */
      return usage_error("a refresh token is never taken from the command line, where any user can read it "
                         "(ps, /proc): put it alone in a file only you can read and give --refresh-token-file "
                         "FILE, or pipe it in with --refresh-token-file -");
    case OPT_SINCE: o->since = value; break;
    case OPT_FILTER: o->filter = value; break;
    case OPT_UNTIL: o->until = value; break;
    case OPT_LIMIT:
      if (!parse_long(value, 1, &o->limit)) return usage_error("--limit needs a positive number, got '%s'", value);
      break;
    case OPT_PAGE_SIZE:
      if (!parse_long(value, 1, &o->page_size) || o->page_size > 1000)
        return usage_error("--page-size needs a number from 1 to 1000, got '%s'", value);
      break;
    case OPT_REGION:
      if (strcmp(value, "na") != 0 && strcmp(value, "eu") != 0 && strcmp(value, "fe") != 0)
        return usage_error("--region is one of na, eu, fe, got '%s'", value);
      o->region = value;
      break;
    case OPT_CLIENT_ID_ENV: o->client_id_env = value; break;
    case OPT_CLIENT_SECRET_ENV: o->client_secret_env = value; break;
    case OPT_STORE_PATH: o->store_path = value; break;
    case OPT_SCHEDULE_DEFINITION: o->schedule_definition_file = value; break;
    case OPT_SCHEDULE_ID: o->schedule_id = value; break;
    case OPT_PERIOD:
      if (strcmp(value, "Daily") != 0 && strcmp(value, "Weekly") != 0)
        return usage_error("--period is Daily or Weekly (AMC's aggregationPeriod), not '%s'", value);
      o->period = value;
      break;
    case OPT_HOUR:
      if (!parse_long(value, 0, &o->hour) || o->hour > 23)
        return usage_error("--hour needs an hour of the day, 0 to 23 (UTC), got '%s'", value);
      break;
    case OPT_DAY: o->day = value; break;
    case OPT_ENABLED: o->schedule_enabled = 1; break;
    case OPT_DISABLED: o->schedule_enabled = -1; break;
    default: return usage_error("internal: option %d has no handler", key);
  }
  return EXIT_OK;
}

/* Parses the command line with getopt_long: the global options and the
 * command's own (amcctl_help.c), anywhere on the line. Fills o, the
 * command (CMD_NONE: none given, then only --help/--version make sense)
 * and its one argument. Returns EXIT_OK or EXIT_USAGE after a message. */
int parse_command_line(int argc, char **argv, options *o, command *cmd, const char **argument) {
  memset(o, 0, sizeof *o);
  o->head = 5;
  o->hour = -1;
  o->sandbox_time_scale = 100;
  *cmd = CMD_NONE;
  *argument = NULL;
  int rc = check_arguments(argc, argv);
  if (rc != EXIT_OK) return rc;

  /* A copy getopt_long may permute, without the FIELDS of "--json a,b"
   * (getopt takes an optional value only after '='; a word with a comma is
   * never a command). */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  if (args == NULL) {
    fputs("amcctl: out of memory\n", stderr);
    abort();
  }
  const char *json_fields = NULL;
  int n = 0;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) {
      while (i < argc) args[n++] = argv[i++];
      break;
    }
    args[n++] = argv[i];
    if (strcmp(argv[i], "--json") == 0 && i + 1 < argc && argv[i + 1][0] != '-' && strchr(argv[i + 1], ','))
      json_fields = argv[++i];
  }
  const char *words[max_positional];
  int word_count = 0, used = 0;
  const command_entry *entry = NULL;
  rc = find_words(n, args, words, &word_count);
  if (rc == EXIT_OK && word_count > 0 && strcmp(words[0], "help") != 0) {
    entry = match_command(words, word_count, &used, &rc);
  } else if (rc == EXIT_OK && word_count > 0) {
    entry = find_command_entry(CMD_HELP);
    used = 1;
  }
  const command_doc *doc = entry != NULL ? find_command_doc(entry->id) : NULL;
  char words_text[64] = "";
  if (entry != NULL)
    snprintf(words_text, sizeof words_text, "%s%s%s", entry->first, entry->second ? " " : "",
             entry->second ? entry->second : "");

  /* getopt_long's table: the global options, then the command's. */
  struct option table[96];
  size_t count = 0;
  for (const int *key = global_options; *key != OPT_END; ++key) table[count++] = long_option(find_option_spec(*key));
  if (doc != NULL)
    for (const int *key = doc->options; *key != OPT_END; ++key) table[count++] = long_option(find_option_spec(*key));
  memset(&table[count], 0, sizeof table[count]);

  opterr = 0;
  optind = 1;
  int key;
  while (rc == EXIT_OK && (key = getopt_long(n, args, ":h", table, NULL)) != -1) {
    if (key == '?') {
      rc = reject_option(args[optind - 1], doc, entry ? words_text : NULL);
    } else if (key == ':') {
      const char *name = args[optind - 1];
      char clean[64];
      snprintf(clean, sizeof clean, "%.*s", (int)strcspn(name, "="), name);
      rc = usage_error("%s needs a value", clean);
    } else {
      rc = take_option(o, key, optarg);
    }
  }
  if (rc == EXIT_OK) {
    for (int i = optind; i < n; ++i) {
      if (o->positional_count == max_positional) {
        rc = usage_error("too many arguments");
        break;
      }
      o->positional[o->positional_count++] = args[i];
    }
  }
  free(args);
  if (json_fields != NULL && o->json_fields == NULL) o->json_fields = json_fields;
  if (rc != EXIT_OK) return rc;
  if (entry == NULL) return EXIT_OK;

  *cmd = entry->id;
  int extra = o->positional_count - used;
  if (extra > entry->max_arguments && entry->id == CMD_AUTH_IMPORT)
    /* Most likely the token itself: not echoed. */
    return usage_error("auth import takes no argument: it reads the refresh token from --refresh-token-file "
                       "FILE (or - for stdin), never from the command line");
  if (extra > entry->max_arguments)
    return usage_error("unexpected argument '%s'", o->positional[used + entry->max_arguments]);
  if (extra >= 1) *argument = o->positional[used];
  return EXIT_OK;
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
    case CMD_COLUMNS:
      if (argument == NULL) return usage_error("columns needs a table name (see 'amcctl tables')");
      break;
    case CMD_WORKFLOW_CHECK:
      if (argument == NULL) return usage_error("workflow check needs the SQL file to check");
      break;
    case CMD_SCHEDULE_CREATE:
      if (argument == NULL && o->schedule_id == NULL && o->schedule_definition_file == NULL)
        return usage_error("schedule create needs the schedule's id (ID or --schedule-id) or --definition FILE");
      if (o->schedule_definition_file == NULL && (o->workflow_id == NULL || o->period == NULL))
        return usage_error("schedule create needs --workflow-id ID and --period Daily|Weekly (or --definition FILE)");
      break;
    case CMD_SCHEDULE_GET:
    case CMD_SCHEDULE_UPDATE:
    case CMD_SCHEDULE_DELETE:
      if (argument == NULL && o->schedule_id == NULL) return usage_error("this command needs a schedule id");
      break;
    default: break;
  }
  if (cmd == CMD_RUN && o->no_wait && (o->out_dir != NULL || o->head != 5 || o->poll_ms || o->max_poll_ms))
    return usage_error("--out, --head, --poll-ms and --max-poll-ms have no use with --no-wait (nothing is "
                       "waited for or downloaded): follow the run with 'amcctl results ID'");
  /* The files the command reads as text, checked now: a usage error needs
   * no library, client or sandbox. They are read again when used. */
  const char *text_files[] = {cmd == CMD_RUN ? o->sql_file : NULL, cmd == CMD_WORKFLOW_SYNC ? o->file : NULL,
                              cmd == CMD_WORKFLOW_SYNC ? o->definition_file : NULL,
                              cmd == CMD_WORKFLOW_CHECK ? argument : NULL, o->schedule_definition_file};
  for (size_t i = 0; i < sizeof text_files / sizeof text_files[0]; ++i) {
    if (text_files[i] == NULL || strcmp(text_files[i], "-") == 0) continue;
    char *text = read_user_file(text_files[i], "");
    if (text == NULL) return EXIT_USAGE;
    free(text);
  }
  if (o->sandbox && o->config_file != NULL) return usage_error("--sandbox and --config cannot be combined");
  if (o->sandbox && o->profile != NULL) return usage_error("--sandbox and --profile cannot be combined");
  return EXIT_OK;
}

const command_entry *command_named(const char *first, const char *second, int *used) {
  for (size_t i = 0; i < command_count; ++i) {
    const command_entry *c = &commands[i];
    if (strcmp(c->first, first) != 0) continue;
    if (c->second == NULL) {
      *used = 1;
      return c;
    }
    if (second != NULL && strcmp(c->second, second) == 0) {
      *used = 2;
      return c;
    }
  }
  return NULL;
}
