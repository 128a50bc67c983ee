//! The admin's end of the control channel: one connection to the data plane's socket, opened
//! on demand and reopened after an error (the data plane may restart at any time). Calls are
//! blocking (the `control` crate's client) and run on tokio's blocking pool.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use control::wire::{Client, Request, Response};

/// How long one call may take before the connection is given up.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Link {
    socket: PathBuf,
    client: Mutex<Option<Client>>,
}

impl Link {
    pub fn new(socket: PathBuf) -> Self {
        Self {
            socket,
            client: Mutex::new(None),
        }
    }

    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    /// One request and its answer. A call on a connection that turns out dead is retried once
    /// on a new connection (the data plane restarted since the last call).
    pub fn call(&self, request: &Request) -> io::Result<Response> {
        let mut slot = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let reused = slot.is_some();
        for attempt in 0..2 {
            if slot.is_none() {
                *slot = Some(Client::connect(&self.socket, CALL_TIMEOUT)?);
            }
            let Some(client) = slot.as_mut() else {
                continue;
            };
            match client.call(request) {
                Ok(response) => return Ok(response),
                Err(error) => {
                    *slot = None;
                    if attempt == 1 || !reused {
                        return Err(error);
                    }
                }
            }
        }
        Err(io::Error::other("control channel: no connection"))
    }

    /// The partition count the data plane announced, connecting if needed.
    pub fn partitions(&self) -> io::Result<u32> {
        let mut slot = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(Client::connect(&self.socket, CALL_TIMEOUT)?);
        }
        Ok(slot.as_ref().map_or(0, |client| client.partitions))
    }
}

/// `Link::call` off the async executor.
pub async fn call(link: &Arc<Link>, request: Request) -> io::Result<Response> {
    let link = Arc::clone(link);
    tokio::task::spawn_blocking(move || link.call(&request))
        .await
        .map_err(io::Error::other)?
}
