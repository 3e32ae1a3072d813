//! A progress sink: library code reports work done through this trait; the CLI
//! plugs in indicatif bars, tests plug in nothing.
pub trait Progress: Sync {
    /// A new phase of `total` units (0 = unknown).
    fn start(&self, _total: u64, _message: &str) {}
    fn inc(&self, _n: u64) {}
    /// Free-form status shown beside the bar (loss, learning rate, …).
    fn set_message(&self, _message: String) {}
    /// A line for the log: a validation result, a decision taken.
    fn note(&self, _line: &str) {}
    fn finish(&self) {}
}

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}
