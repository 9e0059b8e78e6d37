//! The OpenAI wire format and HTTP client (no tauri here).

pub mod client;
pub mod errors;
pub mod logprobs;
pub mod probe;
pub mod responses;
pub mod sse;
pub mod think;
mod tls;
pub mod tool_calls;
pub mod types;

pub use client::{
    Client, ClientOptions, Endpoint, Finished, Flavor, Proxy, StreamEvent, DEFAULT_BASE_URL,
};
