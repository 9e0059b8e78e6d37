//! Summaries, JSON and JUnit XML of a run (not yet).
