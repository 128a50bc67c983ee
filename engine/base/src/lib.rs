//! `base`: the vocabulary every other crate shares: validated names and the limits of the
//! system, each limit a unit-suffixed constant that says where its number comes from; and the
//! pure S3 rule types that the engine and the protocol layer both speak: lifecycle rules
//! (`lifecycle`) and Object Lock (`object_lock`).
//!
//! Architecture invariant: `base` does no IO and depends on nothing but `std`; it knows
//! nothing about HTTP, XML, S3 error codes or storage. Callers map its errors to their own.

pub mod acl;
pub mod lifecycle;
pub mod limits;
pub mod names;
pub mod object_lock;
pub mod public_access;
