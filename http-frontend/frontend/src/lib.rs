//! placeholder

pub mod http_chunked;
