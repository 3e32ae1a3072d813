//! Data preparation: raw datasets in, canonical time-ordered sequences and the
//! leave-one-out split out.
pub mod dataset;
pub mod encoding;
pub mod file_order;
pub mod lines;
pub mod markup;
pub mod missing;
pub mod prepare;
pub mod source;
pub mod template;

pub use dataset::{Dataset, HeldOut, Item, Known, Split, Stats};
