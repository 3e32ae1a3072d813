//! Baselines that need training, run in the evaluation harness beside the
//! generator (the ones that need none, most-popular and text-kNN, live in
//! `eval`). Each is trained on the same split, chosen on validation, and
//! cached in the dataset directory under a hash of its parameters and of the
//! dataset, so it is trained once.
pub mod sasrec;
