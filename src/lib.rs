//! genrec: a generative recommender with semantic ID indexing, on libtorch.
//!
//! Stages (each a module): [`data`] (prepare), `embed`, `semantic_id`, `model`,
//! `decode`, `trainer`, `eval`.
pub mod data;
pub mod error;
pub mod util;

pub use error::{Error, Result};
pub mod embed;
pub mod progress;
pub mod semantic_id;
pub mod runtime;
pub mod decode;
pub mod model;
pub mod prompt;
pub mod eval;
pub mod trainer;
pub mod verify;
