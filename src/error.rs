//! Library errors: one `thiserror` enum for the whole crate. Every variant that
//! comes from a user's file names the file and, where there is one, the line.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem in an input file, at a line (1-based) where one applies.
    #[error("{}{}: {msg}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        path: PathBuf,
        line: Option<usize>,
        msg: String,
    },

    /// An I/O failure on a named path.
    /// (The I/O error is part of the message, not a `source`, so error
    /// chains do not print it twice.)
    #[error("{}: {err}", path.display())]
    Io { path: PathBuf, err: std::io::Error },

    /// An invalid option or parameter, found before any work starts.
    #[error("invalid setting: {0}")]
    Config(String),

    /// An artifact does not match what it claims to be built from.
    #[error("artifact mismatch: {0}")]
    Mismatch(String),

    /// A data-parallel job could not form, or lost a rank (`dist`).
    #[error("distributed training: {0}")]
    Distributed(String),

    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),

    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn input(path: impl Into<PathBuf>, line: Option<usize>, msg: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            line,
            msg: msg.into(),
        }
    }
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err: source,
        }
    }
}

/// Attaches a path to `std::io::Result`s.
pub trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
