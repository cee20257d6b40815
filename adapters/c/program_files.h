/* program_files.h — files found relative to the running program
 * (/proc/self/exe): libamc.so.1 and amc-sandbox next to amcctl, in a build
 * tree or an installed tree. */
#ifndef AMCCTL_PROGRAM_FILES_H
#define AMCCTL_PROGRAM_FILES_H

#include <stddef.h>

/* Tries DIR/relative[0], DIR/relative[1], ... in order, DIR being the
 * running program's directory, and stops at the first path that
 * accept(path, context) takes (returns non-zero): 1 with that path in out.
 * 0 when none is taken (out holds the last path tried); -1 when
 * /proc/self/exe cannot be read (nothing was tried). */
int find_next_to_program(const char *const *relative, size_t count, int (*accept)(const char *path, void *context),
                         void *context, char *out, size_t out_size);

#endif /* AMCCTL_PROGRAM_FILES_H */
