// The C side of `genrec::cuda`: libtorch's CUDA graphs
// (at::cuda::CUDAGraph, what torch.cuda.graph wraps) and the caching
// allocator's peak-memory statistics, which tch does not bind. A graph owns
// a side stream: work queued while it is current is what gets captured
// (CUDA captures only on a non-default stream); a replay runs on the
// caller's current stream. Every function catches C++ exceptions and
// hands their message back as a malloc'ed string (freed by
// genrec_graph_free_str).
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "guarded.hpp"

namespace {

using genrec_shim::guarded;

struct Graph {
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream side;
  std::optional<c10::cuda::CUDAStream> outer;
  explicit Graph(c10::DeviceIndex device)
      : side(c10::cuda::getStreamFromPool(false, device)) {}
};

}  // namespace

extern "C" {

void genrec_graph_free_str(char* s) { std::free(s); }

void* genrec_graph_new(int device, char** err) {
  Graph* g = nullptr;
  guarded(err, [&] { g = new Graph(static_cast<c10::DeviceIndex>(device)); });
  return g;
}

void genrec_graph_free(void* g) { delete static_cast<Graph*>(g); }

// Makes the graph's side stream current (after the device has finished
// everything queued before, so the side stream sees it).
int genrec_graph_enter(void* p, char** err) {
  return guarded(err, [&] {
    auto* g = static_cast<Graph*>(p);
    if (g->outer) throw std::runtime_error("the side stream is already current");
    c10::cuda::device_synchronize();
    g->outer = c10::cuda::getCurrentCUDAStream(g->side.device_index());
    c10::cuda::setCurrentCUDAStream(g->side);
  });
}

// Back to the stream that was current before, once the side stream's work is done.
int genrec_graph_leave(void* p, char** err) {
  return guarded(err, [&] {
    auto* g = static_cast<Graph*>(p);
    if (!g->outer) throw std::runtime_error("the side stream is not current");
    c10::cuda::device_synchronize();
    c10::cuda::setCurrentCUDAStream(*g->outer);
    g->outer.reset();
  });
}

// Thread-local capture mode: only this thread is barred from calls that are
// unsafe during a capture; the batch thread may go on page-locking memory
// (which queries CUDA events), and autograd's device thread still records
// its kernels, since capture belongs to the stream.
int genrec_graph_capture_begin(void* p, char** err) {
  return guarded(err, [&] {
    static_cast<Graph*>(p)->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
  });
}

int genrec_graph_capture_end(void* p, char** err) {
  return guarded(err, [&] { static_cast<Graph*>(p)->graph.capture_end(); });
}

int genrec_graph_replay(void* p, char** err) {
  return guarded(err, [&] { static_cast<Graph*>(p)->graph.replay(); });
}

// The most bytes the caching allocator has had allocated on `device`
// (torch.cuda.max_memory_allocated).
int genrec_cuda_peak_allocated(int device, int64_t* out, char** err) {
  return guarded(err, [&] {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    *out = stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  });
}

}  // extern "C"
