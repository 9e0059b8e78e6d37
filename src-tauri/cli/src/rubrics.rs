//! `parley rubrics list|show|add`: the judge's versioned rubrics.

use clap::Subcommand;

use parley_core::api::JudgeKind;
use parley_core::error::Result;

use crate::{one_line, read_stdin, service};

#[derive(Subcommand, Debug)]
pub enum Action {
    /// The latest version of every rubric.
    List,
    /// Print a rubric's text (its latest version, or --version N).
    Show {
        name: String,
        #[arg(long)]
        version: Option<i64>,
    },
    /// Save a rubric from a file ("-": stdin) as a new version of NAME (version 1 if new).
    Add {
        name: String,
        /// single (a 1–10 grade) or pairwise (which of two is better).
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

/// `--kind`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Kind {
    Single,
    Pairwise,
}

impl From<Kind> for JudgeKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Single => JudgeKind::Single,
            Kind::Pairwise => JudgeKind::Pairwise,
        }
    }
}

pub fn run(action: Action) -> Result<i32> {
    let service = service()?;
    match action {
        Action::List => {
            outln!("NAME\tVERSION\tKIND\tTEXT");
            for r in service.rubrics()? {
                outln!(
                    "{}\t{}\t{}\t{}",
                    r.name,
                    r.version,
                    r.kind.as_str(),
                    one_line(&r.body, 60)
                );
            }
        }
        Action::Show { name, version } => {
            let rubric = match version {
                None => service.rubric_by_name(&name)?,
                Some(v) => service
                    .rubric_versions(&name)?
                    .into_iter()
                    .find(|r| r.version == v)
                    .ok_or_else(|| {
                        parley_core::error::Error::not_found(format!(
                            "version {v} of rubric \"{}\"",
                            name.trim()
                        ))
                    })?,
            };
            errln!(
                "parley: {} version {} ({})",
                rubric.name,
                rubric.version,
                rubric.kind.as_str()
            );
            outln!("{}", rubric.body);
        }
        Action::Add { name, kind, file } => {
            let body = if file.as_os_str() == "-" {
                read_stdin()?
            } else {
                std::fs::read_to_string(&file).map_err(|e| parley_core::error::Error::Io {
                    message: format!("{}: {e}", file.display()),
                })?
            };
            let rubric = service.save_rubric(&name, kind.into(), &body)?;
            errln!(
                "parley: saved rubric \"{}\" version {}",
                rubric.name,
                rubric.version
            );
        }
    }
    Ok(0)
}
