//! Small shared helpers: hashing, atomic writes of files and directories,
//! safetensors reading, memory figures, parts of work among workers.
pub mod fsx;
pub mod hash;
pub mod log;
pub mod mem;
pub mod part;
pub mod st;
