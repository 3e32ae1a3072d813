//! genrec: a generative recommender with semantic ID indexing, on libtorch.
//!
//! Stages (each a module): [`data`] (prepare), `embed`, `semantic_id`, `model`,
//! `decode`, `trainer`, `eval`.
pub mod artifact;
pub mod baseline;
pub mod batch;
pub mod config;
pub mod data;
pub mod error;
pub mod util;

pub use error::{Error, Result};
pub mod decode;
pub mod embed;
pub mod eval;
pub mod infer;
pub mod model;
pub mod progress;
pub mod prompt;
pub mod runtime;
pub mod semantic_id;
pub mod trainer;
pub mod verify;
