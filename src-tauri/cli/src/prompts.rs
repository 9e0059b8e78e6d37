//! `parley prompts list|show|rename|export|import`: the saved prompt library.

use std::io::Write;

use clap::Subcommand;

use parley_core::error::Result;

use crate::service;

#[derive(Subcommand, Debug)]
pub enum Action {
    /// List prompts (favourites first, then most used); QUERY searches name, title, text and tags.
    List { query: Option<String> },
    /// Show a prompt's newest version and its variables (--versions: every version), with each
    /// version's evaluation-suite pass rate when a suite ran it (parley://NAME@VERSION).
    Show {
        name: String,
        #[arg(long)]
        versions: bool,
    },
    /// Rename a prompt (its versions, uses and favourite go with it).
    Rename { old: String, new: String },
    /// Write the whole library (every version) as Parley JSON to stdout.
    Export,
    /// Import Parley JSON or an act,prompt CSV (awesome-chatgpt-prompts); all or nothing.
    Import { file: std::path::PathBuf },
}

pub async fn run(action: Action) -> Result<i32> {
    use parley_core::prompts::library;
    let service = service()?;
    let mut out = std::io::stdout().lock();
    match action {
        Action::List { query } => {
            let list = service.prompts(query.as_deref().unwrap_or(""), library::Sort::Uses)?;
            for p in list {
                let star = if p.favourite { "★ " } else { "" };
                let vars: Vec<&str> = p
                    .variables
                    .variables
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect();
                let _ = woutln!(
                    out,
                    "{star}{}\tv{}\t{} uses\t{}{}",
                    p.name,
                    p.latest.version,
                    p.use_count,
                    p.latest.draft.title,
                    if vars.is_empty() {
                        String::new()
                    } else {
                        format!("\t{{{{{}}}}}", vars.join("}}, {{"))
                    }
                );
            }
        }
        Action::Show { name, versions } => {
            let p = service.prompt(&name)?;
            let list = if versions {
                service.prompt_versions(&name)?
            } else {
                vec![p.latest.clone()]
            };
            let scores = service.prompt_scores(&name)?;
            for v in list {
                // The version's evaluation-suite pass rate, when a suite ran it.
                let suite = scores
                    .iter()
                    .find(|s| s.version == v.version && s.suite_cells > 0)
                    .map(|s| {
                        format!(
                            " · suite {:.0}% ({}/{} in run {}; {} run{})",
                            100.0 * s.suite_passed as f64 / s.suite_cells as f64,
                            s.suite_passed,
                            s.suite_cells,
                            s.suite_latest_run.unwrap_or_default(),
                            s.suite_runs,
                            if s.suite_runs == 1 { "" } else { "s" }
                        )
                    })
                    .unwrap_or_default();
                let _ = woutln!(
                    out,
                    "=== {} v{} — {} {}{suite}",
                    p.name,
                    v.version,
                    v.draft.title,
                    v.message
                );
                if !v.draft.system_prompt.is_empty() {
                    let _ = woutln!(out, "[system] {}", v.draft.system_prompt);
                }
                let _ = woutln!(out, "{}", v.draft.body);
            }
        }
        Action::Rename { old, new } => {
            let p = service.rename_prompt(&old, &new)?;
            errln!("parley: prompt {old} is now {}", p.name);
        }
        Action::Export => {
            let json = service.prompts_json().await?;
            let _ = woutln!(out, "{json}");
        }
        Action::Import { file } => {
            let text = std::fs::read_to_string(&file)?;
            let report = service.import_prompts(&text)?;
            errln!(
                "parley: imported {} prompt(s); {} duplicate(s) left as they were{}",
                report.imported.len(),
                report.duplicates.len(),
                if report.duplicates.is_empty() {
                    String::new()
                } else {
                    format!(": {}", report.duplicates.join(", "))
                }
            );
        }
    }
    Ok(0)
}
