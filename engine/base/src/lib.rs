//! `base`: the vocabulary every other crate shares: validated names and the limits of the
//! system, each limit a unit-suffixed constant that says where its number comes from.
//!
//! Architecture invariant: `base` does no IO and depends on nothing but `std`; it knows
//! nothing about HTTP, XML, S3 error codes or storage. Callers map its errors to their own.

pub mod limits;
pub mod names;
