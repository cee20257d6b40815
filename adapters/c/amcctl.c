/* amcctl — run Amazon Marketing Cloud workflows from the command line.
 *
 * A C99 host of libamc: it dlopens libamc.so.1 (see amc_library.h for
 * where it looks) and uses only the public header amc/amc.h, every request
 * and response being the JSON documented there. --sandbox points it at the
 * bundled amc-sandbox (see sandbox.h). The parts are listed in amcctl.h.
 *
 * Exit codes (also in --help; scripts may rely on them):
 *   0  success
 *   1  anything else (AMC_E_CONFLICT, AMC_E_INTERNAL, AMC_E_FORKED,
 *      AMC_E_OUT_OF_MEMORY, an unknown status)
 *   2  usage error: bad command line (an option of another command, an
 *      argument that is not UTF-8), unreadable or non-UTF-8
 *      --file/--sql/--definition, or a request the library rejected
 *      (AMC_E_INVALID_ARGUMENT, e.g. a numeric profile id as --advertiser)
 *   3  authentication required (AMC_E_AUTH_REQUIRED), not logged in (the
 *      store has no such credential), or auth status of a credential that
 *      needs re-authentication: run amcctl auth login
 *   4  forbidden (AMC_E_FORBIDDEN)
 *   5  not found (AMC_E_NOT_FOUND: a workflow or execution)
 *   6  the execution ended FAILED, CANCELLED or REJECTED
 *      (AMC_E_EXECUTION_FAILED), or results of such an execution
 *   7  timeout (AMC_E_TIMEOUT)
 *   8  network, TLS, remote or throttled (AMC_E_NETWORK, AMC_E_TLS,
 *      AMC_E_REMOTE, AMC_E_THROTTLED, AMC_E_PROTOCOL)
 *   9  configuration, crypto or store (AMC_E_CONFIG, AMC_E_CRYPTO,
 *      AMC_E_STORE), a bad config file or profile, a key file others can read, a libamc.so.1 that cannot be loaded
 *      or lacks a function, a sandbox that does not start
 *   10 the instance's ad-hoc runs of the UTC day are used up
 *      (AMC_E_ADHOC_QUOTA): run a saved workflow, or wait for 00:00 UTC
 *   130 interrupted (SIGINT/SIGTERM; AMC_E_CANCELLED)
 */
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

amc_library lib;

/* ------------------------------------------------------------------------
 * Interrupts: SIGINT/SIGTERM go to one thread (blocked everywhere else,
 * including the library's threads), which cancels a running wait or, with
 * nothing to cancel, stops a sandbox we started and exits.
 * --------------------------------------------------------------------- */

static pthread_mutex_t interrupt_lock = PTHREAD_MUTEX_INITIALIZER;
static amc_cancel_token *active_wait;
static sandbox_info *sandbox_to_stop;
static int interrupt_count;

void interrupts_cancel_wait(amc_cancel_token *token) {
  pthread_mutex_lock(&interrupt_lock);
  active_wait = token;
  pthread_mutex_unlock(&interrupt_lock);
}

void interrupts_stop_sandbox(sandbox_info *sandbox) {
  pthread_mutex_lock(&interrupt_lock);
  sandbox_to_stop = sandbox;
  pthread_mutex_unlock(&interrupt_lock);
}

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

int main(int argc, char **argv) {
  options o;
  context ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.o = &o;
  int rc = parse_command_line(argc, argv, &o, &ctx.cmd, &ctx.argument);
  if (rc != EXIT_OK) return rc;
  /* Help, the man page and completion need nothing loaded. */
  if (o.help || ctx.cmd == CMD_HELP) {
    const command_entry *topic = NULL;
    if (ctx.cmd == CMD_HELP && o.positional_count > 1) {
      int used = 0;
      topic = command_named(o.positional[1], o.positional_count > 2 ? o.positional[2] : NULL, &used);
      if (topic == NULL) return usage_error("no command '%s' to help with", o.positional[1]);
    } else if (ctx.cmd != CMD_NONE && ctx.cmd != CMD_HELP) {
      topic = find_command_entry(ctx.cmd);
    }
    print_command_help(topic);
    return EXIT_OK;
  }
  char load_error[16384];
  if (o.version && ctx.cmd == CMD_NONE) {
    printf("amcctl %s (built against amc.h %s)\n", AMC_VERSION_STRING, AMC_VERSION_STRING);
    if (!amc_library_load(&lib, load_error, sizeof load_error)) {
      fprintf(stderr, "amcctl: %s", load_error);
      return EXIT_CONFIG;
    }
    printf("libamc %s loaded from %s\n", lib.version_string(), lib.path);
    return EXIT_OK;
  }
  if (ctx.cmd == CMD_NONE) return usage_error("no command given");
  if (ctx.cmd == CMD_MAN) {
    print_man_page();
    return EXIT_OK;
  }
  if (ctx.cmd == CMD_COMPLETION) return print_completion(ctx.argument);
  rc = validate_command(&o, ctx.cmd, ctx.argument);
  if (rc != EXIT_OK) return rc;
  if (ctx.cmd == CMD_CONFIGURE) return cmd_configure(&ctx);

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
  /* The store config may hold keys read from a key file. */
  if (ctx.store_config.data != NULL) memset(ctx.store_config.data, 0, ctx.store_config.length);
  text_free(&ctx.store_config);
  amc_library_unload(&lib);
  return rc;
}
