//! The S3 HTTP front end: a thin HTTP/1.1 server on httparse that runs on every shard,
//! classifies each request, moves it to the shard that owns its key, authenticates it and runs
//! the S3 operation against that shard's partitions.
//!
//! Architecture invariant: this is the only crate that knows both HTTP and shard types; S3
//! error codes for engine errors are decided only in `s3_error.rs`.

pub mod auth;
pub mod body;
pub mod checksum;
pub mod connection;
pub mod cors;
pub mod dispatch;
pub mod exchange;
pub mod form_data;
pub mod handlers;
pub mod http_chunked;
pub mod request;
pub mod response;
pub mod s3_error;
pub mod serve;

use std::pin::Pin;
use std::rc::Rc;

use runtime::{ConnectionHandler, ShardContext};

/// The front end as the runtime sees it.
pub struct S3Frontend;

impl ConnectionHandler for S3Frontend {
    fn serve(
        &self,
        context: Rc<ShardContext>,
        stream: monoio::net::TcpStream,
        buffered: Vec<u8>,
        tls: Option<Box<tls::Session>>,
    ) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(serve::serve(context, stream, buffered, tls))
    }
}
