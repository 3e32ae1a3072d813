//! Small shared helpers: hashing, atomic writes of files and directories.
pub mod fsx;
pub mod hash;
pub mod st;
