//! The `{{var}}` subset of nunjucks (promptfoo's template language): `{{ name }}` is replaced by
//! the test's value of `name`. Filters (`{{ x | upper }}`), tags (`{% if %}`), comments (`{# #}`)
//! and expressions are not supported and are named in an error, as is a variable the test lacks
//! (nunjucks would print nothing; a silent empty prompt is worse than an error).

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>> {
    for tag in ["{%", "{#"] {
        if template.contains(tag) {
            return Err(Error::invalid(format!(
                "a template uses `{tag} … ` (nunjucks tags and comments); Parley supports only \
                 {{{{var}}}} substitution"
            )));
        }
    }
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(Error::invalid(format!(
                "a template has `{{{{` without `}}}}`: {}",
                one_line(rest, 60)
            )));
        };
        let name = after[..end].trim();
        if !is_name(name) {
            return Err(Error::invalid(format!(
                "`{{{{{}}}}}` is not a plain variable; Parley supports only {{{{var}}}} \
                 substitution (no filters or expressions)",
                after[..end].trim()
            )));
        }
        out.push(Piece::Var(name));
        rest = &after[end + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks a template's syntax; returns the variables it uses.
pub fn variables(template: &str) -> Result<Vec<String>> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(v) => Some(v.to_string()),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Fills a template with a test's variables.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String> {
    if !template.contains("{{") && !template.contains("{%") && !template.contains("{#") {
        return Ok(template.to_string());
    }
    let mut out = String::with_capacity(template.len());
    for piece in parse(template)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(v) => match vars.get(v) {
                Some(value) => out.push_str(value),
                None => {
                    return Err(Error::invalid(format!(
                        "the template uses {{{{{v}}}}} but the test has no variable `{v}`"
                    )))
                }
            },
        }
    }
    Ok(out)
}

/// Shortens a text to one line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", flat.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn variables_are_replaced_with_or_without_spaces() {
        let v = vars(&[("a", "x"), ("b_2", "y")]);
        assert_eq!(render("{{a}} and {{ b_2 }}!", &v).unwrap(), "x and y!");
        assert_eq!(render("no vars", &v).unwrap(), "no vars");
    }

    #[test]
    fn a_missing_variable_filters_and_tags_are_named_errors() {
        let v = vars(&[]);
        assert!(render("{{nope}}", &v)
            .unwrap_err()
            .to_string()
            .contains("nope"));
        assert!(variables("{{ x | upper }}")
            .unwrap_err()
            .to_string()
            .contains("x | upper"));
        assert!(variables("{% if x %}y{% endif %}").is_err());
        assert!(variables("{{ open").is_err());
        assert_eq!(variables("{{a}}{{b}}").unwrap(), vec!["a", "b"]);
    }
}
