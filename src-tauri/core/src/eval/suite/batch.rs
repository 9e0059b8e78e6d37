//! The OpenAI Batch API for large suites (not yet).
