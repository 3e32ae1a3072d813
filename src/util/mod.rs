//! Small shared helpers: hashing, atomic writes of files and directories,
//! safetensors reading, memory figures.
pub mod fsx;
pub mod hash;
pub mod mem;
pub mod st;
