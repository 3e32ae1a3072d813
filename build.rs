//! Embeds an rpath to libtorch's `lib/` folder so that `genrec` runs without
//! `LD_LIBRARY_PATH`. The folder is found the same way torch-sys finds it:
//! `LIBTORCH`, else the python named by `PYTHON_SYS_EXECUTABLE` (set in
//! `.cargo/config.toml` to the project's `.venv`).
use std::path::PathBuf;
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
