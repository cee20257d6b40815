/* program_files.c — see program_files.h. */
#define _POSIX_C_SOURCE 200809L /* readlink */

#include "program_files.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int find_next_to_program(const char *const *relative, size_t count, int (*accept)(const char *path, void *context),
                         void *context, char *out, size_t out_size) {
  char directory[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", directory, sizeof directory - 1);
  if (length <= 0) return -1;
  directory[length] = '\0';
  char *slash = strrchr(directory, '/');
  if (slash != NULL) *slash = '\0';
  for (size_t i = 0; i < count; ++i) {
    snprintf(out, out_size, "%s/%s", directory, relative[i]);
    if (accept(out, context)) return 1;
  }
  return 0;
}
