//! What a stream tells its consumer, how it ended, and the client's options.

use super::*;

/// What a stream tells its consumer, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Retrying {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// New answer text of choice `index` (always 0 unless `n` > 1).
    Delta { index: u32, text: String },
    /// New reasoning text of choice `index` (`reasoning_content` deltas or a leading `<think>`).
    Reasoning { index: u32, text: String },
    /// Token probabilities of choice `index`'s newest tokens.
    Logprobs {
        index: u32,
        tokens: Vec<crate::openai::logprobs::TokenLogprob>,
    },
    /// The tool calls accumulated when a stream failed or was stopped (a finished stream has
    /// them in [`Finished::tool_calls`]).
    ToolCalls {
        calls: BTreeMap<u32, Vec<crate::openai::types::ToolCall>>,
    },
}

/// How a stream ended when it ended well.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finished {
    pub model: Option<String>,
    /// Usage of the whole request (all choices together when `n` > 1).
    pub usage: Option<Usage>,
    /// Why each choice ended (`stop`, `length`, `tool_calls`…), by choice index.
    pub finish_reasons: BTreeMap<u32, String>,
    /// The tool calls of each choice that made any, accumulated from their pieces.
    pub tool_calls: BTreeMap<u32, Vec<crate::openai::types::ToolCall>>,
}

impl Finished {
    pub fn finish_reason(&self, index: u32) -> Option<String> {
        self.finish_reasons
            .get(&index)
            .filter(|r| !r.is_empty())
            .cloned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for headers or between two stream chunks.
    pub idle_timeout: Duration,
    pub proxy: Proxy,
    /// Whether servers on this machine (127.0.0.0/8, ::1, localhost) go through the proxy too. Off
    /// by default: loopback bypasses any proxy, as curl's `NO_PROXY` convention has it.
    pub proxy_local: bool,
}

pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for ClientOptions {
    fn default() -> Self {
        let idle = std::env::var("PARLEY_IDLE_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
            .unwrap_or(120.0);
        ClientOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: Duration::from_secs_f64(idle),
            proxy: Proxy::System,
            proxy_local: false,
        }
    }
}
