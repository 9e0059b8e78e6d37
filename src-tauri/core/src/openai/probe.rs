//! Finds OpenAI-compatible servers on this machine: asks each candidate's `GET /v1/models` at once,
//! with a short timeout, and keeps the ones that answer with a model list.

use std::time::Duration;

use serde::Serialize;

use super::types::ModelList;
use crate::error::{Error, Result};

/// A place where a local server usually listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    pub port: u16,
}

impl Candidate {
    pub fn new(name: &str, port: u16) -> Candidate {
        Candidate {
            name: name.to_string(),
            port,
        }
    }
}

/// Ollama, LM Studio, llama.cpp's server and vLLM on their default ports; `PARLEY_PROBE_PORTS`
/// (`Name=port,…`, tests and unusual setups) replaces them. Always 127.0.0.1.
pub(crate) fn default_candidates() -> Vec<Candidate> {
    if let Ok(raw) = std::env::var("PARLEY_PROBE_PORTS") {
        let parsed: Vec<Candidate> = raw
            .split(',')
            .filter_map(|item| {
                let (name, port) = item.split_once('=')?;
                Some(Candidate::new(name.trim(), port.trim().parse().ok()?))
            })
            .collect();
        if !parsed.is_empty() {
            return parsed;
        }
    }
    vec![
        Candidate::new("Ollama", 11434),
        Candidate::new("LM Studio", 1234),
        Candidate::new("llama.cpp", 8080),
        Candidate::new("vLLM", 8000),
    ]
}

pub const PROBE_TIMEOUT: Duration = Duration::from_millis(800);
/// A model list is small; anything bigger is not what we are looking for.
const PROBE_BODY_LIMIT: usize = 1024 * 1024;

/// A server that answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalServer {
    pub name: String,
    /// `http://127.0.0.1:PORT/v1`, ready to be a profile's base URL.
    pub base_url: String,
    pub models: Vec<String>,
}

async fn probe_one(http: &reqwest::Client, c: &Candidate) -> Option<LocalServer> {
    let base_url = format!("http://127.0.0.1:{}/v1", c.port);
    let resp = http.get(format!("{base_url}/models")).send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    // Read piece by piece and given up past the limit: a process on this machine could send
    // gigabytes within the probe's timeout.
    let mut bytes = Vec::new();
    let mut body = resp.bytes_stream();
    while let Some(piece) = futures_util::StreamExt::next(&mut body).await {
        bytes.extend_from_slice(&piece.ok()?);
        if bytes.len() > PROBE_BODY_LIMIT {
            return None;
        }
    }
    let list: ModelList = serde_json::from_slice(&bytes).ok()?;
    // In the server's own order: its first model is the one it offers first (the default).
    let mut seen = std::collections::HashSet::new();
    let models: Vec<String> = list
        .data
        .into_iter()
        .map(|m| m.id)
        .filter(|id| seen.insert(id.clone()))
        .collect();
    Some(LocalServer {
        name: c.name.clone(),
        base_url,
        models,
    })
}

/// Probes every candidate concurrently; the whole call takes at most about `timeout`.
/// Never goes through a proxy and never sends a key. Results keep the candidates' order.
pub async fn probe(candidates: &[Candidate], timeout: Duration) -> Result<Vec<LocalServer>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Network {
            message: e.to_string(),
        })?;
    let found =
        futures_util::future::join_all(candidates.iter().map(|c| probe_one(&http, c))).await;
    Ok(found.into_iter().flatten().collect())
}
