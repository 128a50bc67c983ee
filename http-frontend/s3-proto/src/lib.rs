//! placeholder

pub mod aws_chunked;
pub mod error;
pub mod http_field;
pub mod post_policy;
pub mod router;
pub mod sigv2;
pub mod sigv4;
pub mod sse;
pub mod time_format;
pub mod xml;
