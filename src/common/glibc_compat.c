/* arc4random for the portable (manylinux) build, where libstdc++ is linked
 * in statically (CMake option AMC_STATIC_DEPS). Debian 12's libstdc++.a was
 * built against glibc 2.36 and calls arc4random (GLIBC_2.36) from
 * std::random_device; resolved to glibc's, it would make libamc.so.1 need
 * glibc 2.36 and miss manylinux_2_34 (RHEL 9, Amazon Linux 2023 have 2.34).
 * This definition, hidden and linked into libamc.so.1 and amc-sandbox only,
 * is taken instead: the same contract (uniform 32 bits from the kernel's
 * generator, abort when it cannot be had) on getrandom (GLIBC_2.25). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/types.h>

__attribute__((visibility("hidden"))) uint32_t arc4random(void);

uint32_t arc4random(void) {
  uint32_t value = 0;
  size_t filled = 0;
  while (filled < sizeof value) {
    ssize_t got = getrandom((unsigned char *)&value + filled, sizeof value - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      __builtin_trap(); /* as glibc's arc4random: no randomness, no result */
    }
    filled += (size_t)got;
  }
  return value;
}
