//! placeholder

pub mod aws_chunked;
pub mod error;
pub mod router;
pub mod sigv4;
pub mod time_format;
pub mod xml;
