/* sandbox.c — see sandbox.h. */
#define _POSIX_C_SOURCE 200809L

#include "sandbox.h"

#include "program_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long milliseconds) {
  struct timespec pause = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

char *read_secret_file(const char *path) {
  char *text = read_text_file(path);
  if (text == NULL) return NULL;
  size_t length = strlen(text);
  while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r')) text[--length] = '\0';
  return text;
}

int sandbox_prepare_directory(sandbox_info *sandbox, const char *requested) {
  memset(sandbox, 0, sizeof *sandbox);
  if (requested == NULL || requested[0] == '\0') requested = getenv("AMC_SANDBOX_DIR");
  if (requested != NULL && requested[0] != '\0') {
    snprintf(sandbox->directory, sizeof sandbox->directory, "%s", requested);
  } else if (getenv("XDG_RUNTIME_DIR") != NULL && getenv("XDG_RUNTIME_DIR")[0] != '\0') {
    snprintf(sandbox->directory, sizeof sandbox->directory, "%s/amcctl-sandbox", getenv("XDG_RUNTIME_DIR"));
  } else {
    snprintf(sandbox->directory, sizeof sandbox->directory, "/tmp/amcctl-sandbox-%lu", (unsigned long)getuid());
  }
  if (mkdir(sandbox->directory, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "amcctl: cannot create the sandbox directory %s: %s\n", sandbox->directory, strerror(errno));
    return 0;
  }
  /* In a shared /tmp, someone else could have made the directory first. */
  struct stat info;
  if (lstat(sandbox->directory, &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != getuid() ||
      (info.st_mode & 077) != 0) {
    fprintf(stderr,
            "amcctl: the sandbox directory %s must be a directory owned by you with mode 0700 "
            "(not a symlink); choose another with --sandbox-dir\n",
            sandbox->directory);
    return 0;
  }
  return 1;
}

static void directory_file(const sandbox_info *sandbox, const char *name, char *out, size_t out_size) {
  snprintf(out, out_size, "%s/%s", sandbox->directory, name);
}

/* 32 random bytes as URL-safe base64 with padding: a Fernet key. */
static int make_fernet_key(char *out, size_t out_size) {
  unsigned char raw[33] = {0};
  int random = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (random < 0) return 0;
  ssize_t got = read(random, raw, 32);
  close(random);
  if (got != 32 || out_size < 45) return 0;
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i < 33; i += 3) {
    unsigned value = ((unsigned)raw[i] << 16) | ((unsigned)raw[i + 1] << 8) | raw[i + 2];
    out[o++] = alphabet[(value >> 18) & 63];
    out[o++] = alphabet[(value >> 12) & 63];
    out[o++] = alphabet[(value >> 6) & 63];
    out[o++] = alphabet[value & 63];
  }
  out[43] = '=';
  out[44] = '\0';
  return 1;
}

int sandbox_load_fernet_key(sandbox_info *sandbox) {
  char path[2200];
  directory_file(sandbox, "fernet.key", path, sizeof path);
  char *existing = read_secret_file(path);
  if (existing != NULL && strlen(existing) == 44) {
    snprintf(sandbox->fernet_key, sizeof sandbox->fernet_key, "%s", existing);
    free(existing);
    return 1;
  }
  free(existing);
  if (!make_fernet_key(sandbox->fernet_key, sizeof sandbox->fernet_key)) {
    fprintf(stderr, "amcctl: cannot read /dev/urandom to make the sandbox store key\n");
    return 0;
  }
  int file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (file < 0 || write(file, sandbox->fernet_key, 44) != 44) {
    fprintf(stderr, "amcctl: cannot write %s: %s\n", path, strerror(errno));
    if (file >= 0) close(file);
    return 0;
  }
  close(file);
  return 1;
}

/* Is pid a live amc-sandbox process? */
static int is_running_sandbox(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
  FILE *file = fopen(path, "rb");
  if (file == NULL) return 1; /* no /proc: trust the pid */
  char command[512] = {0};
  size_t got = fread(command, 1, sizeof command - 1, file);
  fclose(file);
  command[got] = '\0'; /* argv[0] only: it ends at the first NUL */
  return strstr(command, "amc-sandbox") != NULL;
}

static json_value *read_summary(const sandbox_info *sandbox) {
  char path[2200];
  directory_file(sandbox, "sandbox.json", path, sizeof path);
  char *text = read_text_file(path);
  if (text == NULL) return NULL;
  json_value *summary = json_parse(text, NULL, 0);
  free(text);
  return summary;
}

static int executable(const char *path, void *unused) {
  (void)unused;
  return access(path, X_OK) == 0;
}

/* The amc-sandbox program: $AMC_SANDBOX, then next to amcctl in a build
 * tree or an installed tree, then PATH (execvp resolves a bare name). */
static void find_sandbox_program(char *out, size_t out_size) {
  const char *from_env = getenv("AMC_SANDBOX");
  if (from_env != NULL && from_env[0] != '\0') {
    snprintf(out, out_size, "%s", from_env);
    return;
  }
  static const char *const relative[] = {"../../src/sandbox/amc-sandbox", "../src/sandbox/amc-sandbox",
                                         "amc-sandbox"};
  if (find_next_to_program(relative, sizeof relative / sizeof relative[0], executable, NULL, out, out_size) == 1)
    return;
  snprintf(out, out_size, "amc-sandbox");
}

static void print_log_tail(const sandbox_info *sandbox) {
  char path[2200];
  directory_file(sandbox, "sandbox.log", path, sizeof path);
  char *log = read_text_file(path);
  if (log == NULL) return;
  size_t length = strlen(log);
  const char *start = length > 2000 ? log + length - 2000 : log;
  fprintf(stderr, "--- %s (end) ---\n%s", path, start);
  if (length > 0 && log[length - 1] != '\n') fputc('\n', stderr);
  free(log);
}

/* Two amcctl processes on one directory must not both start a sandbox:
 * the check-then-start below runs under a lock on DIR/amcctl.lock. */
static int lock_directory(const sandbox_info *sandbox) {
  char path[2200];
  directory_file(sandbox, "amcctl.lock", path, sizeof path);
  int file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (file < 0) return -1;
  struct flock whole = {0};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  while (fcntl(file, F_SETLKW, &whole) != 0) {
    if (errno != EINTR) {
      close(file);
      return -1;
    }
  }
  return file; /* closing it releases the lock */
}

static int attach_or_start(sandbox_info *sandbox, double time_scale);

int sandbox_attach_or_start(sandbox_info *sandbox, double time_scale) {
  int lock = lock_directory(sandbox);
  int ok = attach_or_start(sandbox, time_scale);
  if (lock >= 0) close(lock);
  return ok;
}

static int attach_or_start(sandbox_info *sandbox, double time_scale) {
  json_value *summary = read_summary(sandbox);
  if (summary != NULL) {
    pid_t pid = (pid_t)json_number_or(json_get(summary, "pid"), 0);
    if (is_running_sandbox(pid) && json_get_text(summary, "url") != NULL) {
      sandbox->summary = summary;
      sandbox->pid = pid;
      sandbox->started_here = 0;
      return 1;
    }
    json_free(summary);
  }

  char path[2200];
  /* Whatever a previous sandbox left is stale: its grants died with it. */
  static const char *const stale[] = {"sandbox.json", "port", "credentials.json", "refresh_token"};
  for (size_t i = 0; i < sizeof stale / sizeof stale[0]; ++i) {
    directory_file(sandbox, stale[i], path, sizeof path);
    unlink(path);
  }

  char program[PATH_MAX + 64];
  find_sandbox_program(program, sizeof program);
  char port_file[2200], log_file[2200], scale[64];
  directory_file(sandbox, "port", port_file, sizeof port_file);
  directory_file(sandbox, "sandbox.log", log_file, sizeof log_file);
  snprintf(scale, sizeof scale, "%g", time_scale);
  char *const arguments[] = {program,     "--tls",   "--state-dir", sandbox->directory, "--port-file",
                             port_file,   "--time-scale", scale,    NULL};

  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "amcctl: cannot start amc-sandbox: fork: %s\n", strerror(errno));
    return 0;
  }
  if (child == 0) {
    /* Its own session: a Ctrl-C meant for amcctl must not stop it. The
     * signal mask amcctl set for its signal thread is not inherited. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    int log = open(log_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null_input = open("/dev/null", O_RDONLY);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    if (null_input >= 0) dup2(null_input, STDIN_FILENO);
    execvp(program, arguments);
    fprintf(stderr, "cannot run %s: %s (set AMC_SANDBOX to the amc-sandbox program)\n", program,
            strerror(errno));
    _exit(127);
  }

  sandbox->pid = child;
  sandbox->started_here = 1;
  /* Ready when sandbox.json names our child: it is written after the port
   * is bound and the certificates exist. */
  for (int waited = 0; waited < 30000; waited += 50) {
    int status = 0;
    if (waitpid(child, &status, WNOHANG) == child) {
      sandbox->pid = 0;
      sandbox->started_here = 0;
      fprintf(stderr, "amcctl: amc-sandbox (%s) exited during start-up\n", program);
      print_log_tail(sandbox);
      return 0;
    }
    summary = read_summary(sandbox);
    if (summary != NULL) {
      if ((pid_t)json_number_or(json_get(summary, "pid"), 0) == child && json_get_text(summary, "url") != NULL) {
        sandbox->summary = summary;
        return 1;
      }
      json_free(summary);
    }
    sleep_ms(50);
  }
  fprintf(stderr, "amcctl: amc-sandbox did not become ready within 30 s\n");
  print_log_tail(sandbox);
  sandbox_stop_if_started(sandbox);
  return 0;
}

static void stop_pid(pid_t pid, int is_child) {
  kill(pid, SIGTERM);
  for (int waited = 0; waited < 5000; waited += 20) {
    if (is_child) {
      if (waitpid(pid, NULL, WNOHANG) == pid) return;
    } else if (kill(pid, 0) != 0) {
      return;
    }
    sleep_ms(20);
  }
  kill(pid, SIGKILL);
  if (is_child) waitpid(pid, NULL, 0);
}

void sandbox_stop_if_started(sandbox_info *sandbox) {
  if (!sandbox->started_here || sandbox->pid <= 0) return;
  stop_pid(sandbox->pid, 1);
  sandbox->pid = 0;
  sandbox->started_here = 0;
}

int sandbox_stop_running(sandbox_info *sandbox) {
  json_value *summary = read_summary(sandbox);
  pid_t pid = summary ? (pid_t)json_number_or(json_get(summary, "pid"), 0) : 0;
  json_free(summary);
  if (!is_running_sandbox(pid)) return 0;
  stop_pid(pid, 0);
  return 1;
}

int sandbox_client_config(const sandbox_info *sandbox, text_buffer *out) {
  const json_value *summary = sandbox->summary;
  const char *url = json_get_text(summary, "url");
  const char *secret_file = json_get_text(summary, "client_secret_file");
  const char *client_id = json_get_text(summary, "client_id");
  if (url == NULL || secret_file == NULL || client_id == NULL) {
    fprintf(stderr, "amcctl: %s/sandbox.json lacks url, client_id or client_secret_file\n", sandbox->directory);
    return 0;
  }
  char *secret = read_secret_file(secret_file);
  if (secret == NULL) {
    fprintf(stderr, "amcctl: cannot read the sandbox's client secret file %s\n", secret_file);
    return 0;
  }
  text_buffer endpoint;
  text_init(&endpoint);
  text_append(out, "{\"endpoints\":{");
  text_append_member(out, "amc", url);
  text_appendf(&endpoint, "%s/auth/o2/token", url);
  text_append_member(out, "lwa_token", json_get_text(summary, "token_url") ? json_get_text(summary, "token_url")
                                                                          : endpoint.data);
  endpoint.length = 0;
  text_appendf(&endpoint, "%s/ap/oa", url);
  text_append_member(out, "lwa_consent", json_get_text(summary, "consent_url")
                                             ? json_get_text(summary, "consent_url")
                                             : endpoint.data);
  text_free(&endpoint);
  text_append(out, "},\"lwa\":{");
  text_append_member(out, "client_id", client_id);
  text_append_member(out, "client_secret", secret);
  text_append(out, "}");
  /* Wipe our copy: the config text is the only other place it lives. */
  memset(secret, 0, strlen(secret));
  free(secret);
  if (json_get_text(summary, "ca_file") != NULL) {
    text_append(out, ",\"tls\":{");
    text_append_member(out, "ca_file", json_get_text(summary, "ca_file"));
    text_append(out, "}");
  }
  text_append(out, ",\"store\":");
  sandbox_store_config(sandbox, out);
  text_append(out, "}");
  return 1;
}

void sandbox_store_config(const sandbox_info *sandbox, text_buffer *out) {
  char path[2200];
  directory_file(sandbox, "credentials.json", path, sizeof path);
  text_append(out, "{");
  text_append_member(out, "kind", "file");
  text_append_member(out, "path", path);
  text_append_member(out, "fernet_keys", sandbox->fernet_key);
  text_append(out, "}");
}

void sandbox_release(sandbox_info *sandbox) {
  json_free(sandbox->summary);
  sandbox->summary = NULL;
  memset(sandbox->fernet_key, 0, sizeof sandbox->fernet_key);
}
