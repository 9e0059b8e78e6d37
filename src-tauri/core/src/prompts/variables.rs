//! `{{variables}}` in saved prompts: parsing and filling (no tauri here).
//!
//! Syntax, inside `{{` … `}}` (spaces around parts are ignored):
//! - `{{topic}}`: a line of text;
//! - `{{notes:long}}`: long text; `{{count:number}}`: a number;
//!   `{{tone:choice(formal, casual)}}`: one of a list;
//! - `=default` after any of them: `{{count:number=3}}`, `{{tone:choice(formal, casual)=casual}}`;
//! - built-ins, filled by Parley: `{{date}}`, `{{time}}`, and `{{clipboard}}` (read only when a prompt
//!   uses it, and only when the user inserts it);
//! - `\{{` writes a literal `{{`.
//!
//! Values are inserted as they are: a value that contains `{{x}}` is not expanded again.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) const MAX_VARIABLES: usize = 50;
const MAX_NAME_CHARS: usize = 40;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "options")]
pub enum VarKind {
    Text,
    LongText,
    Number,
    Choice(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub kind: VarKind,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Builtin {
    Date,
    Time,
    Clipboard,
}

/// What a prompt asks for: its variables in order of first use, and the built-ins it uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub variables: Vec<Variable>,
    pub builtins: Vec<Builtin>,
}

/// Values of the built-ins at the moment of insertion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Builtins {
    pub date: String,
    pub time: String,
    /// `None` when the clipboard was not read (it is read only for prompts that use it).
    pub clipboard: Option<String>,
}

enum Piece<'a> {
    Text(&'a str),
    Literal,
    Slot(&'a str),
}

/// Splits a body into text, escaped `{{` and `{{ … }}` slots.
fn pieces(body: &str) -> Result<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        if rest[..i].ends_with('\\') {
            out.push(Piece::Text(&rest[..i - 1]));
            out.push(Piece::Literal);
            rest = &rest[i + 2..];
            continue;
        }
        out.push(Piece::Text(&rest[..i]));
        let after = &rest[i + 2..];
        let Some(end) = after.find("}}") else {
            return Err(Error::invalid(
                "A {{ is never closed with }} (write \\{{ for a literal {{).",
            ));
        };
        out.push(Piece::Slot(&after[..end]));
        rest = &after[end + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn builtin(name: &str) -> Option<Builtin> {
    match name {
        "date" => Some(Builtin::Date),
        "time" => Some(Builtin::Time),
        "clipboard" => Some(Builtin::Clipboard),
        _ => None,
    }
}

/// One slot's declaration: `name[:type][=default]`.
fn declaration(slot: &str) -> Result<Variable> {
    let slot = slot.trim();
    // The default is everything after the first '=' that is not inside choice(…).
    let mut depth = 0;
    let mut split = None;
    for (i, c) in slot.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '=' if depth == 0 => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    let (head, default) = match split {
        Some(i) => (&slot[..i], Some(slot[i + 1..].trim().to_string())),
        None => (slot, None),
    };
    let (name, kind) = match head.split_once(':') {
        Some((n, k)) => (n.trim(), k.trim()),
        None => (head.trim(), ""),
    };
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(Error::invalid(format!(
            "{{{{{slot}}}}} is not a variable: a name is letters, digits, _ or - (at most {MAX_NAME_CHARS})."
        )));
    }
    let kind = match kind {
        "" | "text" => VarKind::Text,
        "long" => VarKind::LongText,
        "number" => VarKind::Number,
        k if k.starts_with("choice(") && k.ends_with(')') => {
            let options: Vec<String> = k["choice(".len()..k.len() - 1]
                .split(',')
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .collect();
            if options.len() < 2 {
                return Err(Error::invalid(format!(
                    "The choice of {name} needs at least two options."
                )));
            }
            VarKind::Choice(options)
        }
        other => {
            return Err(Error::invalid(format!(
                "{name} has an unknown type {other:?}: use long, number or choice(a, b)."
            )))
        }
    };
    let var = Variable {
        name: name.to_string(),
        kind,
        default,
    };
    if let Some(d) = &var.default {
        check_value(&var, d)?;
    }
    Ok(var)
}

fn check_value(var: &Variable, value: &str) -> Result<()> {
    match &var.kind {
        VarKind::Number if !value.trim().parse::<f64>().is_ok_and(f64::is_finite) => Err(
            Error::invalid(format!("{} must be a number (got {value:?}).", var.name)),
        ),
        VarKind::Choice(options) if !options.iter().any(|o| o == value) => {
            Err(Error::invalid(format!(
                "{} must be one of {} (got {value:?}).",
                var.name,
                options.join(", ")
            )))
        }
        _ => Ok(()),
    }
}

/// What a prompt body asks for. A variable used twice must be declared the same way (or plainly,
/// `{{name}}`, after its first full declaration).
pub fn parse(body: &str) -> Result<Template> {
    let mut t = Template::default();
    for piece in pieces(body)? {
        let Piece::Slot(slot) = piece else { continue };
        if let Some(b) = builtin(slot.trim()) {
            if !t.builtins.contains(&b) {
                t.builtins.push(b);
            }
            continue;
        }
        let var = declaration(slot)?;
        match t.variables.iter().find(|v| v.name == var.name) {
            None => {
                if t.variables.len() == MAX_VARIABLES {
                    return Err(Error::invalid(format!(
                        "A prompt can have at most {MAX_VARIABLES} variables."
                    )));
                }
                t.variables.push(var);
            }
            Some(first) => {
                let plain_reuse = var.kind == VarKind::Text && var.default.is_none();
                if !plain_reuse && *first != var {
                    return Err(Error::invalid(format!(
                        "{} is declared twice in different ways.",
                        var.name
                    )));
                }
            }
        }
    }
    Ok(t)
}

/// The body with every variable and built-in replaced. Missing values take their default; the
/// ones with none are listed in one error.
pub fn fill(body: &str, values: &HashMap<String, String>, builtins: &Builtins) -> Result<String> {
    let template = parse(body)?;
    let mut resolved: HashMap<&str, String> = HashMap::new();
    let mut missing = Vec::new();
    for var in &template.variables {
        // A field left empty takes the default (the form allows it because there is one).
        let given = values
            .get(&var.name)
            .filter(|v| !v.is_empty() || var.default.is_none());
        match given.or(var.default.as_ref()) {
            Some(v) => {
                check_value(var, v)?;
                resolved.insert(&var.name, v.clone());
            }
            None => missing.push(var.name.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "Fill in {} first.",
            missing.join(", ")
        )));
    }
    if template.builtins.contains(&Builtin::Clipboard) && builtins.clipboard.is_none() {
        return Err(Error::invalid(
            "This prompt uses {{clipboard}}, but the clipboard was not read.",
        ));
    }
    let mut out = String::with_capacity(body.len());
    for piece in pieces(body)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Literal => out.push_str("{{"),
            Piece::Slot(slot) => match builtin(slot.trim()) {
                Some(Builtin::Date) => out.push_str(&builtins.date),
                Some(Builtin::Time) => out.push_str(&builtins.time),
                Some(Builtin::Clipboard) => {
                    out.push_str(builtins.clipboard.as_deref().unwrap_or(""))
                }
                None => {
                    let name = declaration(slot)?.name;
                    out.push_str(&resolved[name.as_str()]);
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn now() -> Builtins {
        Builtins {
            date: "2026-11-26".into(),
            time: "18:20".into(),
            clipboard: None,
        }
    }

    #[test]
    fn declarations_with_types_options_and_defaults() {
        let t = parse(
            "Write {{count:number=3}} {{ tone : choice(formal, casual) = casual }} lines about {{topic}}.\n\
             Notes: {{notes:long}} ({{topic}}, {{date}})",
        )
        .unwrap();
        assert_eq!(
            t.variables,
            [
                Variable {
                    name: "count".into(),
                    kind: VarKind::Number,
                    default: Some("3".into())
                },
                Variable {
                    name: "tone".into(),
                    kind: VarKind::Choice(vec!["formal".into(), "casual".into()]),
                    default: Some("casual".into()),
                },
                Variable {
                    name: "topic".into(),
                    kind: VarKind::Text,
                    default: None
                },
                Variable {
                    name: "notes".into(),
                    kind: VarKind::LongText,
                    default: None
                },
            ]
        );
        assert_eq!(t.builtins, [Builtin::Date]);
        // Chinese names work; bad ones are refused with a reason.
        assert_eq!(parse("{{主题}}").unwrap().variables[0].name, "主题");
        for bad in [
            "{{}}",
            "{{a b}}",
            "{{x:colour}}",
            "{{x:choice(one)}}",
            "{{n:number=many}}",
            "{{t:choice(a, b)=c}}",
            "{{open",
            "{{x:number}} and {{x:long}}",
        ] {
            assert_eq!(parse(bad).unwrap_err().kind(), "invalid", "{bad}");
        }
    }

    #[test]
    fn filling_checks_types_uses_defaults_and_never_expands_values() {
        let body = "{{count:number=3}} {{tone:choice(formal, casual)}} notes on {{topic}} at {{time}} — \\{{literal}}";
        let out = fill(
            body,
            &vals(&[("tone", "formal"), ("topic", "{{count}} & <b>")]),
            &now(),
        )
        .unwrap();
        assert_eq!(
            out,
            "3 formal notes on {{count}} & <b> at 18:20 — {{literal}}"
        );
        let err = fill(body, &vals(&[]), &now()).unwrap_err();
        assert!(err.to_string().contains("tone, topic"), "{err}");
        // A field left empty takes its default; one without a default stays empty.
        let out = fill(
            "{{count:number=3}}/{{topic}}/",
            &vals(&[("count", ""), ("topic", "")]),
            &now(),
        )
        .unwrap();
        assert_eq!(out, "3//");
        let err = fill(body, &vals(&[("tone", "rude"), ("topic", "x")]), &now()).unwrap_err();
        assert!(err.to_string().contains("formal, casual"), "{err}");
        let err = fill(
            body,
            &vals(&[("count", "NaN"), ("tone", "formal"), ("topic", "x")]),
            &now(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), "invalid");
        // The clipboard is read only for prompts that use it, and must have been read.
        assert!(fill("{{clipboard}}", &vals(&[]), &now()).is_err());
        let with = Builtins {
            clipboard: Some("copied".into()),
            ..now()
        };
        assert_eq!(
            fill("Fix: {{clipboard}}", &vals(&[]), &with).unwrap(),
            "Fix: copied"
        );
        assert_eq!(
            fill("no variables", &vals(&[]), &now()).unwrap(),
            "no variables"
        );
    }
}
