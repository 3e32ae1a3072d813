// The C side of `genrec::dist`: PyTorch's own distributed engine (c10d),
// reached through a handful of extern "C" functions, because tch does not
// bind it. A process group is a TCPStore rendezvous (rank 0 hosts it) plus a
// Gloo (CPU) or NCCL (GPU) backend, exactly the objects
// torch.distributed.init_process_group builds. Tensors arrive as tch's
// `at::Tensor*`. Every function catches C++ exceptions and hands their
// message back as a malloc'ed string (freed by genrec_c10d_free_str).
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <c10/util/Logging.h>

#include "guarded.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifdef GENREC_WITH_NCCL
// nccl_shim.cpp: the NCCL backend, compiled only when CUDA and NCCL headers were found.
c10::intrusive_ptr<c10d::Backend> genrec_make_nccl(
    const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
    std::chrono::milliseconds timeout);
#endif

namespace {

using genrec_shim::dup;
using genrec_shim::guarded;

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  std::chrono::milliseconds timeout;
};

struct StoreClient {
  c10::intrusive_ptr<c10d::Store> store;
};

// The job's store: hosted here when `server`, else a client of it; keys
// under `prefix` (one namespace per launch attempt).
// With `world` > 0 every rank registers and the host waits for all of them
// (not with a launcher's agent store, which other processes share).
c10::intrusive_ptr<c10d::Store> connect(const char* host, int port, bool server,
                                        int world, const char* prefix,
                                        int64_t timeout_ms) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = server;
  if (world > 0) o.numWorkers = world;
  o.waitWorkers = world > 0;
  o.timeout = std::chrono::milliseconds(timeout_ms);
  auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
  return c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), store);
}

}  // namespace

extern "C" {

int genrec_c10d_has_nccl() {
#ifdef GENREC_WITH_NCCL
  return 1;
#else
  return 0;
#endif
}

void genrec_c10d_free_str(char* s) { std::free(s); }

// How to join a job (mirrored by `ffi::JoinSpec` on the Rust side).
struct GenrecJoin {
  const char* backend;  // "gloo" or "nccl"
  const char* host;     // the store's host
  const char* prefix;   // the store's key namespace
  int32_t port;
  int32_t rank;
  int32_t world;
  int32_t host_store;   // 1: this rank hosts the store (rank 0, unless a launcher's agent does)
  int32_t agent_store;  // 1: a launcher's agent hosts it
  int64_t timeout_ms;
};

// Joins the job: connects to (or hosts) the store, then the backend connects
// the ranks to each other.
void* genrec_c10d_new(const GenrecJoin* j, char** err) {
  const char* backend = j->backend;
  const char* host = j->host;
  const int rank = j->rank, world = j->world;
  const int64_t timeout_ms = j->timeout_ms;
  Group* g = nullptr;
  // c10d's own warnings and errors (a peer's closed socket, with a C++ stack
  // trace) repeat what the error genrec reports says: keep only fatal ones,
  // unless the user chose a level (TORCH_CPP_LOG_LEVEL, as for PyTorch).
  if (std::getenv("TORCH_CPP_LOG_LEVEL") == nullptr) FLAGS_caffe2_log_level = 3;
  guarded(err, [&] {
    auto timeout = std::chrono::milliseconds(timeout_ms);
    auto store = connect(host, j->port, j->host_store != 0,
                         j->agent_store != 0 ? 0 : world, j->prefix, timeout_ms);
    c10::intrusive_ptr<c10d::Backend> b;
    if (std::strcmp(backend, "gloo") == 0) {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      // The interface that reaches the rendezvous host (what torchrun's
      // GLOO_SOCKET_IFNAME would otherwise choose), else this host's name.
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname != nullptr && *ifname != '\0') {
        opts->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      } else if (std::strcmp(host, "127.0.0.1") == 0 ||
                 std::strcmp(host, "localhost") == 0) {
        opts->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      b = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
    } else if (std::strcmp(backend, "nccl") == 0) {
#ifdef GENREC_WITH_NCCL
      b = genrec_make_nccl(store, rank, world, timeout);
#else
      throw std::runtime_error(
          "this genrec was built without NCCL (no CUDA/NCCL headers at build "
          "time); use --dist-backend gloo");
#endif
    } else {
      throw std::runtime_error(std::string("unknown backend ") + backend);
    }
    g = new Group{store, b, timeout};
  });
  return g;
}

void genrec_c10d_free(void* g) { delete static_cast<Group*>(g); }

// Sums `t` over all ranks, in place; waits for the result.
int genrec_c10d_allreduce_sum(void* g, at::Tensor* t, char** err) {
  return guarded(err, [&] {
    auto* grp = static_cast<Group*>(g);
    std::vector<at::Tensor> v{*t};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = grp->timeout;
    grp->backend->allreduce(v, o)->wait(grp->timeout);
  });
}

// Copies `t` of rank `root` into `t` of every rank; waits up to `timeout_ms`
// (0: the group's timeout) for the result.
int genrec_c10d_broadcast(void* g, at::Tensor* t, int root, int64_t timeout_ms,
                          char** err) {
  return guarded(err, [&] {
    auto* grp = static_cast<Group*>(g);
    auto timeout =
        timeout_ms > 0 ? std::chrono::milliseconds(timeout_ms) : grp->timeout;
    std::vector<at::Tensor> v{*t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.rootTensor = 0;
    o.timeout = timeout;
    grp->backend->broadcast(v, o)->wait(timeout);
  });
}

// A second connection to the job's store (for the liveness counters, which a
// background thread bumps while the main thread runs collectives).
void* genrec_c10d_store_connect(const char* host, int port, const char* prefix,
                                int64_t timeout_ms, char** err) {
  StoreClient* s = nullptr;
  guarded(err, [&] {
    s = new StoreClient{connect(host, port, false, 0, prefix, timeout_ms)};
  });
  return s;
}

void genrec_c10d_store_free(void* s) { delete static_cast<StoreClient*>(s); }

// Adds `delta` to the counter `key` and returns its new value in *out.
int genrec_c10d_store_add(void* s, const char* key, int64_t delta, int64_t* out,
                          char** err) {
  return guarded(err, [&] {
    *out = static_cast<StoreClient*>(s)->store->add(std::string(key), delta);
  });
}

}  // extern "C"
