// The C side of `genrec::cuda::trace`: libtorch's Kineto profiler (what
// torch.profiler wraps), which tch does not bind. Between start and stop
// every libtorch operation is recorded with its CPU time and, with `cuda`
// set, every CUDA kernel it launched with its device time (through CUPTI);
// stop writes the record as a Chrome trace (JSON, chrome://tracing or
// benches/trace_summary.py).
#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>
#include <stdexcept>
#include <string>

#include "../util/guarded.hpp"

namespace {

using genrec_shim::guarded;
namespace prof = torch::profiler::impl;

std::set<prof::ActivityType> activities(int cuda) {
  std::set<prof::ActivityType> a{prof::ActivityType::CPU};
  if (cuda != 0) a.insert(prof::ActivityType::CUDA);
  return a;
}

prof::ProfilerConfig config() {
  return prof::ProfilerConfig(prof::ProfilerState::KINETO, /*report_input_shapes=*/true,
                              /*profile_memory=*/false);
}

}  // namespace

extern "C" {

int genrec_trace_start(int cuda, char** err) {
  return guarded(err, [&] {
    if (prof::profilerEnabled())
      throw std::runtime_error("a trace is already being recorded");
    torch::autograd::profiler::prepareProfiler(config(), activities(cuda));
    torch::autograd::profiler::enableProfiler(config(), activities(cuda));
  });
}

int genrec_trace_stop(const char* path, char** err) {
  return guarded(err, [&] {
    auto result = torch::autograd::profiler::disableProfiler();
    if (!result) throw std::runtime_error("no trace was being recorded");
    result->save(std::string(path));
  });
}

}  // extern "C"
