//! genrec: a generative recommender with semantic ID indexing, on libtorch
//! (TIGER, Rajput et al. 2023; P5, Geng et al. 2022; TALLRec-style reranking).
//!
//! Modules by layer, each using only those before it:
//! - [`error`], [`util`], [`progress`], [`runtime`], [`dist`], [`cuda`]:
//!   errors naming their file and line, hashing and atomic writes, progress
//!   reporting, device and threads, data-parallel jobs on PyTorch's c10d,
//!   CUDA graphs;
//! - [`data`]: raw formats → canonical dataset and leave-one-out split;
//!   [`embed`]: MiniLM text embeddings; [`semantic_id`]: residual k-means IDs,
//!   collaborative vectors, the prefix trie; [`model`]: T5 and its Hugging Face
//!   I/O; [`prompt`], [`batch`]: model inputs;
//! - [`decode`]: constrained beam search and the generator;
//! - [`config`]: the training recipe (stored in every model card);
//!   [`artifact`]: the checkpoint format and model card;
//! - [`eval`]: metrics, intervals, paired differences, most-popular and
//!   text-kNN, the text fusion; [`verify`]: the yes/no verifier's scoring;
//!   [`infer`]: a loaded recommender and reranker; [`baseline`]: SASRec;
//! - [`trainer`]: training (generator and verifier), which nothing above
//!   depends on (`tests/layers.rs`).
pub mod artifact;
pub mod baseline;
pub mod batch;
pub mod config;
pub mod cuda;
pub mod data;
pub mod decode;
pub mod dist;
pub mod embed;
pub mod error;
pub mod eval;
pub mod infer;
pub mod model;
pub mod progress;
pub mod prompt;
pub mod runtime;
pub mod semantic_id;
pub mod trainer;
pub mod util;
pub mod verify;

pub use error::{Error, Result};
