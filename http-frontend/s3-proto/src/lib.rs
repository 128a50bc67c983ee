//! placeholder

pub mod aws_chunked;
pub mod sigv4;
