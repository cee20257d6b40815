// ThreadSanitizer suppressions built into the net test binaries, so that
// `ctest` in a -DAMC_SANITIZE=thread build passes without extra options.
//
// Only one, and a false positive: std::exception_ptr counts its references
// with atomics inside libstdc++.so, which is not instrumented, so TSan does
// not see the synchronisation when an exception thrown on the client's
// strand is rethrown on the caller's thread (co_spawn, std::future) and the
// last reference is dropped on another thread.
extern "C" __attribute__((visibility("default"))) const char* __tsan_default_suppressions() {
  return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
