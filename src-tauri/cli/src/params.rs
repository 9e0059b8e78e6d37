//! The request parameters as command-line flags, generated from core's table
//! (`parley_core::params::SPEC`): one flag per parameter, named, typed, documented and ranged
//! there. `ParamArgs<false>` is every parameter (`parley ask`); `ParamArgs<true>` only those a
//! profile can default (`parley profiles add`). Parameters with their own editor (`tools`,
//! `response_format`) are not flags; `parley ask --json-schema FILE` sets the response format.

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use parley_core::params::{Kind, Params, Spec, SPEC};

/// The parsed flags. Types are checked by clap (exit 2); ranges by the core when the values are
/// saved, so a value out of range is the same clear error (exit 1) as everywhere else.
#[derive(Debug, Clone, Default)]
pub struct ParamArgs<const DEFAULTS_ONLY: bool> {
    pub params: Params,
}

fn specs(defaults_only: bool) -> impl Iterator<Item = &'static Spec> {
    SPEC.iter()
        .filter(move |s| (!defaults_only || s.profile_default) && !s.kind.own_editor())
}

fn help(spec: &Spec) -> String {
    let range = match (spec.kind, spec.min, spec.max) {
        (Kind::Strings, _, Some(max)) => format!(" Repeat for up to {max}."),
        (_, Some(min), Some(max)) => format!(" {min} to {max}."),
        (_, Some(min), None) => format!(" At least {min}."),
        _ => String::new(),
    };
    format!("{}{range}", spec.doc)
}

impl<const D: bool> Args for ParamArgs<D> {
    fn augment_args(mut cmd: Command) -> Command {
        for spec in specs(D) {
            // clap keeps flag names for the life of the process; there are a handful.
            let long: &'static str = Box::leak(spec.flag().into_boxed_str());
            let mut arg = Arg::new(spec.name)
                .long(long)
                .help(help(spec))
                .value_parser(clap::value_parser!(String));
            arg = match spec.kind {
                Kind::Strings => arg.action(ArgAction::Append).allow_hyphen_values(true),
                Kind::Choice => arg
                    .action(ArgAction::Set)
                    .value_parser(clap::builder::PossibleValuesParser::new(spec.choices)),
                _ => arg.action(ArgAction::Set).allow_negative_numbers(true),
            };
            if let Some(c) = spec.short {
                arg = arg.short(c);
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<const D: bool> FromArgMatches for ParamArgs<D> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut out = Self::default();
        out.update_from_arg_matches(m)?;
        Ok(out)
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        for spec in specs(D) {
            let Some(values) = m.get_many::<String>(spec.name) else {
                continue;
            };
            let raw: Vec<String> = values.cloned().collect();
            self.params
                .set_from_args(spec.name, &raw)
                .map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Ask {
        #[command(flatten)]
        p: ParamArgs<false>,
    }
    #[derive(Parser)]
    struct Profile {
        #[command(flatten)]
        p: ParamArgs<true>,
    }

    #[test]
    fn every_parameter_of_the_table_is_a_flag() {
        let a = Ask::try_parse_from([
            "x", "-t", "0.5", "--top-p", "0.9", "--stop", "-END-", "--stop", "###", "--seed", "-3",
            "--n", "2",
        ])
        .unwrap();
        let p = a.p.params;
        assert_eq!(
            (p.temperature, p.top_p, p.seed, p.n),
            (Some(0.5), Some(0.9), Some(-3), Some(2))
        );
        assert_eq!(p.stop, Some(vec!["-END-".into(), "###".into()]));
        // A type error is clap's; ranges are the core's (checked when saved).
        assert!(Ask::try_parse_from(["x", "--max-tokens", "1.5"]).is_err());
        assert!(Ask::try_parse_from(["x", "--temperature", "7"]).is_ok());
        // A profile has no per-conversation parameters.
        assert!(Profile::try_parse_from(["x", "--n", "2"]).is_err());
        assert!(Profile::try_parse_from(["x", "--frequency-penalty", "-1"]).is_ok());
        // A choice is one of the table's values; token probabilities are a number.
        let r = Profile::try_parse_from(["x", "--reasoning-effort", "low"]).unwrap();
        assert_eq!(
            r.p.params.reasoning_effort,
            Some(parley_core::params::ReasoningEffort::Low)
        );
        assert!(Ask::try_parse_from(["x", "--reasoning-effort", "loud"]).is_err());
        let a = Ask::try_parse_from(["x", "--logprobs", "3"]).unwrap();
        assert_eq!(a.p.params.logprobs, Some(parley_core::params::Logprobs(3)));
        // Tools and the response format have their own editors, not generic flags.
        assert!(Ask::try_parse_from(["x", "--tools", "[]"]).is_err());
        assert!(Ask::try_parse_from(["x", "--response-format", "{}"]).is_err());
    }
}
