//! Embeds an rpath to libtorch's `lib/` folder so that `genrec` runs without
//! `LD_LIBRARY_PATH`. The folder is found the same way torch-sys finds it:
//! `LIBTORCH`, else the python named by `PYTHON_SYS_EXECUTABLE` (set in
//! `.cargo/config.toml` to the project's `.venv`).
use std::path::{Path, PathBuf};
use std::process::Command;

fn torch_lib_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("LIBTORCH") {
        return Some(PathBuf::from(dir).join("lib"));
    }
    let python = std::env::var("PYTHON_SYS_EXECUTABLE").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .args([
            "-c",
            "import os, torch; print(os.path.dirname(torch.__file__))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(dir.trim()).join("lib"))
}

/// The folder of a header, if `dir/rel` exists.
fn has(dir: &Path, rel: &str) -> bool {
    dir.join(rel).exists()
}

/// Compiles the c10d shim (`src/dist/*.cpp`) against libtorch's headers: Gloo
/// always (its own headers come from Debian's libgloo-dev, the Gloo code from
/// libtorch_cpu), NCCL when libtorch has CUDA and CUDA's build headers are in
/// `.venv/cuda-build-headers` (scripts/setup.sh). Without Gloo's headers the
/// crate builds without the shim and `genrec::dist` says so when asked to join
/// a job.
fn build_shim(lib: &Path) {
    println!("cargo::rustc-check-cfg=cfg(genrec_c10d)");
    println!("cargo:rerun-if-changed=src/dist/c10d_shim.cpp");
    println!("cargo:rerun-if-changed=src/dist/nccl_shim.cpp");
    println!("cargo:rerun-if-env-changed=GLOO_INCLUDE");
    let torch = lib.parent().unwrap_or(lib).to_path_buf();
    let gloo = std::env::var("GLOO_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/include"));
    if !has(&gloo, "gloo/algorithm.h")
        || !has(
            &torch,
            "include/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp",
        )
    {
        println!("cargo:warning=no Gloo headers (apt install libgloo-dev, or scripts/setup.sh): genrec is built without distributed training");
        return;
    }
    let cuda = cuda_includes(lib);
    let nccl = cuda
        .as_ref()
        .and_then(|_| nvidia_dir(lib))
        .map(|n| n.join("nccl/include"))
        .filter(|n| has(n, "nccl.h"));
    let mut b = shim_build(lib);
    b.define("USE_C10D_GLOO", None)
        .include(&gloo)
        .file("src/dist/c10d_shim.cpp");
    if let (Some(c), Some(n)) = (&cuda, &nccl) {
        for dir in c {
            b.include(dir);
        }
        b.define("GENREC_WITH_NCCL", None)
            .define("USE_C10D_NCCL", None)
            .define("USE_CUDA", None)
            .include(n)
            .file("src/dist/nccl_shim.cpp");
    }
    b.compile("genrec_c10d");
    println!("cargo:rustc-cfg=genrec_c10d");
}

/// A C++17 build against libtorch's headers (and `src/util/guarded.hpp`).
fn shim_build(lib: &Path) -> cc::Build {
    let torch = lib.parent().unwrap_or(lib).to_path_buf();
    let mut b = cc::Build::new();
    b.cpp(true)
        .std("c++17")
        .warnings(false)
        .flag("-w")
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .include(torch.join("include"))
        .include(torch.join("include/torch/csrc/api/include"))
        .include("src/util");
    b
}

/// The NVIDIA wheels torch depends on, beside it in site-packages.
fn nvidia_dir(lib: &Path) -> Option<PathBuf> {
    let torch = lib.parent()?.canonicalize().ok()?;
    Some(torch.parent()?.join("nvidia"))
}

/// CUDA's include folders when libtorch has CUDA: the runtime's headers from
/// NVIDIA's wheel beside torch, and the build headers the wheels lack
/// (`crt/`, `nv/target`) from `.venv/cuda-build-headers` (scripts/setup.sh).
fn cuda_includes(lib: &Path) -> Option<Vec<PathBuf>> {
    let build_headers = PathBuf::from(".venv/cuda-build-headers");
    let runtime = nvidia_dir(lib)?.join("cu13/include");
    (lib.join("libtorch_cuda.so").exists()
        && has(&build_headers, "crt/host_config.h")
        && has(&runtime, "cuda_runtime_api.h"))
    .then(|| vec![runtime, build_headers])
}

/// Compiles the CUDA-graph shim (`src/cuda/shim.cpp`) when libtorch
/// has CUDA and CUDA's headers are there (cfg `genrec_cuda`);
/// otherwise `genrec::cuda` says graphs are not built in.
fn build_graph_shim(lib: &Path) {
    println!("cargo::rustc-check-cfg=cfg(genrec_cuda)");
    println!("cargo:rerun-if-changed=src/cuda/shim.cpp");
    println!("cargo:rerun-if-changed=src/cuda/trace.cpp");
    println!("cargo:rerun-if-changed=src/util/guarded.hpp");
    let Some(cuda) = cuda_includes(lib) else {
        return;
    };
    let mut b = shim_build(lib);
    for dir in &cuda {
        b.include(dir);
    }
    b.define("USE_CUDA", None)
        .file("src/cuda/shim.cpp")
        .file("src/cuda/trace.cpp")
        .compile("genrec_cuda");
    println!("cargo:rustc-link-lib=dylib=c10_cuda");
    println!("cargo:rustc-cfg=genrec_cuda");
}

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=PYTHON_SYS_EXECUTABLE");
    match torch_lib_dir() {
        Some(lib) => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
            // libtorch_cpu first among the needed libraries: it carries MKL and
            // exports the BLAS symbols (sgemm_, …). If the system BLAS that faiss
            // links (OpenBLAS) came first, libtorch's own matrix products would
            // bind to it and its spinning threads would fight libtorch's OpenMP
            // threads (measured: 2× slower training). This crate's native libs
            // precede its dependencies' on the link line.
            println!("cargo:rustc-link-search=native={}", lib.display());
            build_shim(&lib);
            build_graph_shim(&lib);
            println!("cargo:rustc-link-lib=dylib=torch_cpu");
            // Keep libtorch_cuda linked even though no symbol of it is referenced
            // directly (the linker's --as-needed would drop it), so that CUDA is
            // usable when the machine has a GPU.
            if lib.join("libtorch_cuda.so").exists() {
                println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
                println!("cargo:rustc-link-arg=-ltorch_cuda");
                println!("cargo:rustc-link-arg=-Wl,--as-needed");
            }
        }
        None => println!(
            "cargo:warning=could not locate libtorch; run scripts/setup.sh (the binary will need LD_LIBRARY_PATH)"
        ),
    }
}
