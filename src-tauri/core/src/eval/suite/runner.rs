//! Runs a suite's grid (not yet).
