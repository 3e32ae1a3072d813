// How genrec's C++ shims (src/dist/c10d_shim.cpp, src/cuda/shim.cpp)
// hand errors to Rust: every extern "C" function runs its body through
// `guarded`, which catches C++ exceptions and returns their message as a
// malloc'ed string (the Rust side frees it with the shim's free_str).
#pragma once
#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace genrec_shim {

inline char* dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p != nullptr) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// Runs `f`: 0 when it returns, -1 with `*err` set when it throws (a
// c10::Error without its C++ backtrace).
template <typename F>
int guarded(char** err, F&& f) {
  try {
    f();
    return 0;
  } catch (const c10::Error& e) {
    if (err != nullptr) *err = dup(e.what_without_backtrace());
  } catch (const std::exception& e) {
    if (err != nullptr) *err = dup(e.what());
  } catch (...) {
    if (err != nullptr) *err = dup("unknown C++ exception");
  }
  return -1;
}

}  // namespace genrec_shim
