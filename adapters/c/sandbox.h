/* sandbox.h — amcctl's --sandbox: find or start the bundled amc-sandbox
 * (a local AMC + Login-with-Amazon server over HTTPS) and describe how to
 * reach it.
 *
 * State directory (--sandbox-dir, else $AMC_SANDBOX_DIR, else
 * $XDG_RUNTIME_DIR/amcctl-sandbox, else /tmp/amcctl-sandbox-<uid>), private
 * to the user (0700, owned by us, not a symlink). The sandbox writes there:
 *   sandbox.json   URL, port, pid, LwA client id, the ids to use
 *                  (instance_id, advertiser_id, marketplace_id), file names
 *   client_secret  the LwA client secret (0600)
 *   refresh_token  the seeded grant's refresh token (0600)
 *   ca.pem         the test CA that signed its certificate
 * and amcctl adds:
 *   sandbox.log    the sandbox's stdout and stderr
 *   fernet.key     a Fernet key for the sandbox credential store (0600),
 *                  made from /dev/urandom on first use. It protects only
 *                  tokens of this local sandbox; real stores take their keys
 *                  from the config (libamc itself never makes a key)
 *   credentials.json  the sandbox credential store (removed when a new
 *                  sandbox starts: its tokens would be unknown to it)
 *
 * A sandbox already running for the directory (sandbox.json's pid alive and
 * an amc-sandbox) is reused and left running. Otherwise one is started in
 * its own session (Ctrl-C in the terminal does not reach it) and stopped
 * when amcctl exits, unless --keep-sandbox. */
#ifndef AMCCTL_SANDBOX_H
#define AMCCTL_SANDBOX_H

#include "json_text.h"

#include <sys/types.h>

typedef struct sandbox_info {
  char directory[2048];
  pid_t pid;
  int started_here; /* 1 when this amcctl started it (so it stops it) */
  json_value *summary; /* sandbox.json */
  char fernet_key[64];
} sandbox_info;

/* Fills directory and makes it (0700) if needed. 0 after printing an
 * error. */
int sandbox_prepare_directory(sandbox_info *sandbox, const char *requested_directory);

/* Reads (or makes) the sandbox store's Fernet key. 0 after an error. */
int sandbox_load_fernet_key(sandbox_info *sandbox);

/* Reuses a running sandbox or starts one (time_scale: simulated seconds per
 * second for executions). 0 after printing an error. */
int sandbox_attach_or_start(sandbox_info *sandbox, double time_scale);

/* Stops the sandbox if this process started it. */
void sandbox_stop_if_started(sandbox_info *sandbox);

/* Stops whichever sandbox runs for the directory (amcctl sandbox stop). */
int sandbox_stop_running(sandbox_info *sandbox);

/* Appends the client config for the sandbox (a JSON object) to out. 0
 * after printing an error (unreadable client secret). */
int sandbox_client_config(const sandbox_info *sandbox, text_buffer *out);

/* Appends the store config ({"path", "fernet_keys"}) to out. */
void sandbox_store_config(const sandbox_info *sandbox, text_buffer *out);

/* Reads a small file that holds one secret line (trailing newline cut).
 * malloc'd; NULL on error. */
char *read_secret_file(const char *path);

void sandbox_release(sandbox_info *sandbox);

#endif /* AMCCTL_SANDBOX_H */
