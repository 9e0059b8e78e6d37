//! The prompt library: every save of a changed prompt is a new version (with an optional
//! message); rolling back saves an old version again as the newest. Nothing is overwritten.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::preset::Preset;
use super::variables;
use crate::db::now_ms;
use crate::error::{Error, Result};

pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the user edits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub system_prompt: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Profile, model and parameters a conversation started from this prompt gets.
    #[serde(default)]
    pub preset: Option<Preset>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub id: i64,
    pub version: i64,
    #[serde(flatten)]
    pub draft: Draft,
    pub message: String,
    pub created_at: i64,
}

/// A prompt with its newest version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    pub id: i64,
    pub name: String,
    pub favourite: bool,
    pub use_count: i64,
    pub last_used_at: Option<i64>,
    pub latest: Version,
    pub variables: variables::Template,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Sort {
    /// Most used first.
    #[default]
    Uses,
    /// Most recently used (or saved) first.
    Recent,
    Name,
}

pub(crate) fn clean_name(name: &str) -> Result<String> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    let ok = !name.is_empty()
        && name.chars().count() <= 60
        && !name.contains(char::is_whitespace)
        && !name.starts_with('/');
    if !ok {
        return Err(Error::invalid(
            "A prompt's name is one word (no spaces, not starting with /), at most 60 characters: it is what you type after /.",
        ));
    }
    Ok(name)
}

impl Draft {
    pub(crate) fn validate(mut self) -> Result<Draft> {
        if self.body.trim().is_empty() {
            return Err(Error::invalid("The prompt is empty."));
        }
        if self.body.len() > MAX_BODY_BYTES || self.system_prompt.len() > MAX_BODY_BYTES {
            return Err(Error::invalid("A prompt is at most 1 MB."));
        }
        variables::parse(&self.body)?;
        self.preset = self.preset.map(Preset::validate).transpose()?;
        self.title = self
            .title
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        let mut tags: Vec<String> = Vec::new();
        for t in self.tags {
            let t = t.trim().to_string();
            if !t.is_empty() && !tags.contains(&t) {
                tags.push(t);
            }
        }
        self.tags = tags;
        Ok(self)
    }
}

const VERSION_COLUMNS: &str =
    "v.id, v.version, v.title, v.body, v.system_prompt, v.tags, v.preset, v.message, v.created_at";

fn version_from(r: &Row, at: usize) -> rusqlite::Result<Version> {
    let tags: String = r.get(at + 5)?;
    let preset: Option<String> = r.get(at + 6)?;
    Ok(Version {
        id: r.get(at)?,
        version: r.get(at + 1)?,
        draft: Draft {
            title: r.get(at + 2)?,
            body: r.get(at + 3)?,
            system_prompt: r.get(at + 4)?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            preset: preset.and_then(|p| Preset::from_stored(&p)),
        },
        message: r.get(at + 7)?,
        created_at: r.get(at + 8)?,
    })
}

fn prompt_from(r: &Row) -> rusqlite::Result<Prompt> {
    let latest = version_from(r, 6)?;
    let variables = variables::parse(&latest.draft.body).unwrap_or_default();
    Ok(Prompt {
        id: r.get(0)?,
        name: r.get(1)?,
        favourite: r.get::<_, i64>(2)? != 0,
        use_count: r.get(3)?,
        last_used_at: r.get(4)?,
        latest,
        variables,
    })
}

fn select_prompts(filter: &str, order: &str) -> String {
    format!(
        "SELECT p.id, p.name, p.favourite, p.use_count, p.last_used_at, p.updated_at, {VERSION_COLUMNS}
         FROM prompts p JOIN prompt_versions v ON v.prompt_id = p.id
          AND v.version = (SELECT max(version) FROM prompt_versions WHERE prompt_id = p.id)
         WHERE {filter} ORDER BY {order}"
    )
}

/// The prompt named `name` (any case), with its newest version.
pub fn get(conn: &Connection, name: &str) -> Result<Prompt> {
    conn.query_row(
        &select_prompts("p.name = ?1", "p.id"),
        [name.trim()],
        prompt_from,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("prompt {name}")))
}

/// Saves `draft` under `name`: a new prompt, or a new version when anything changed (an
/// unchanged save adds nothing). Returns the prompt as saved.
pub fn save(conn: &mut Connection, name: &str, draft: Draft, message: &str) -> Result<Prompt> {
    let tx = conn.transaction()?;
    let saved = save_in(&tx, name, draft, message)?;
    tx.commit()?;
    Ok(saved)
}

/// [`save`] inside a transaction the caller holds (an import: all or nothing).
pub(crate) fn save_in(
    conn: &Connection,
    name: &str,
    draft: Draft,
    message: &str,
) -> Result<Prompt> {
    let name = clean_name(name)?;
    let draft = draft.validate()?;
    let now = now_ms();
    let existing: Option<(i64, i64)> = conn
        .query_row(
            "SELECT p.id, coalesce(max(v.version), 0) FROM prompts p
             LEFT JOIN prompt_versions v ON v.prompt_id = p.id WHERE p.name = ?1 GROUP BY p.id",
            [&name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (id, last) = match existing {
        Some(found) => found,
        None => {
            conn.execute(
                "INSERT INTO prompts(name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                params![name, now],
            )?;
            (conn.last_insert_rowid(), 0)
        }
    };
    if last > 0 {
        let current = get(conn, &name)?;
        if current.latest.draft == draft {
            return Ok(current);
        }
    }
    conn.execute(
        "INSERT INTO prompt_versions(prompt_id, version, title, body, system_prompt, tags, preset, message,
                                     created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            last + 1,
            draft.title,
            draft.body,
            draft.system_prompt,
            serde_json::to_string(&draft.tags).unwrap_or_else(|_| "[]".into()),
            draft.preset.as_ref().map(|p| serde_json::to_string(p).unwrap_or_default()),
            message.trim(),
            now
        ],
    )?;
    conn.execute(
        "UPDATE prompts SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    get(conn, &name)
}

/// Every version, newest first.
pub fn versions(conn: &Connection, name: &str) -> Result<Vec<Version>> {
    let p = get(conn, name)?;
    let mut st = conn.prepare_cached(&format!(
        "SELECT {VERSION_COLUMNS} FROM prompt_versions v WHERE v.prompt_id = ?1 ORDER BY v.version DESC"
    ))?;
    let rows = st
        .query_map([p.id], |r| version_from(r, 0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Saves version `version` again as the newest (the versions in between stay).
pub(crate) fn rollback(conn: &mut Connection, name: &str, version: i64) -> Result<Prompt> {
    let old = versions(conn, name)?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or_else(|| Error::not_found(format!("version {version} of prompt {name}")))?;
    let current = get(conn, name)?;
    if current.latest.draft == old.draft {
        return Ok(current);
    }
    save(
        conn,
        name,
        old.draft,
        &format!("rolled back to version {version}"),
    )
}

/// Search by name, title, body and tag (newest versions); favourites first, then by `sort`.
pub fn list(conn: &Connection, query: &str, sort: Sort) -> Result<Vec<Prompt>> {
    let order = match sort {
        Sort::Uses => {
            "p.favourite DESC, p.use_count DESC, coalesce(p.last_used_at, p.updated_at) DESC"
        }
        Sort::Recent => "p.favourite DESC, coalesce(p.last_used_at, p.updated_at) DESC",
        Sort::Name => "p.favourite DESC, p.name COLLATE NOCASE",
    };
    let filter = "(?1 = '' OR instr(lower(p.name), lower(?1)) > 0 OR instr(lower(v.title), lower(?1)) > 0
                   OR instr(lower(v.body), lower(?1)) > 0
                   OR EXISTS (SELECT 1 FROM json_each(v.tags) t WHERE instr(lower(t.value), lower(?1)) > 0))";
    let mut st = conn.prepare_cached(&select_prompts(filter, order))?;
    let rows = st
        .query_map([query.trim()], prompt_from)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn set_favourite(conn: &Connection, name: &str, favourite: bool) -> Result<Prompt> {
    let n = conn.execute(
        "UPDATE prompts SET favourite = ?2 WHERE name = ?1",
        params![name.trim(), favourite as i64],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("prompt {name}")));
    }
    get(conn, name)
}

/// Counts a use of a version (inserting it into a message).
pub(crate) fn mark_used(conn: &Connection, version_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE prompts SET use_count = use_count + 1, last_used_at = ?2
         WHERE id = (SELECT prompt_id FROM prompt_versions WHERE id = ?1)",
        params![version_id, now_ms()],
    )?;
    Ok(())
}

/// Gives prompt `old` the name `new` (its versions, uses and favourite go with it). A change of
/// case only is a rename too; a name another prompt has is refused.
pub fn rename(conn: &Connection, old: &str, new: &str) -> Result<Prompt> {
    let current = get(conn, old)?;
    let new = clean_name(new)?;
    let taken: Option<i64> = conn
        .query_row("SELECT id FROM prompts WHERE name = ?1", [&new], |r| {
            r.get(0)
        })
        .optional()?;
    if taken.is_some_and(|id| id != current.id) {
        return Err(Error::invalid(format!(
            "A prompt named {new} exists already: choose another name."
        )));
    }
    conn.execute(
        "UPDATE prompts SET name = ?2, updated_at = ?3 WHERE id = ?1",
        params![current.id, new, now_ms()],
    )?;
    get(conn, &new)
}

pub fn delete(conn: &Connection, name: &str) -> Result<()> {
    if conn.execute("DELETE FROM prompts WHERE name = ?1", [name.trim()])? == 0 {
        return Err(Error::not_found(format!("prompt {name}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn draft(body: &str) -> Draft {
        Draft {
            title: "Summarise".into(),
            body: body.into(),
            tags: vec![" work ".into(), "work".into(), "".into()],
            ..Default::default()
        }
    }

    #[test]
    fn saves_make_versions_and_rollback_is_a_new_version() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let p = save(c, "sum", draft("Summarise {{text:long}}"), "first")?;
            assert_eq!(
                (p.latest.version, p.latest.draft.tags.clone()),
                (1, vec!["work".to_string()])
            );
            assert_eq!(p.variables.variables[0].name, "text");
            // Unchanged: no new version.
            assert_eq!(
                save(c, "SUM", draft("Summarise {{text:long}}"), "again")?
                    .latest
                    .version,
                1
            );
            let p = save(
                c,
                "sum",
                draft("Summarise in {{n:number=3}} points: {{text:long}}"),
                "shorter",
            )?;
            assert_eq!(p.latest.version, 2);
            assert_eq!(p.latest.message, "shorter");
            let p = rollback(c, "sum", 1)?;
            assert_eq!(p.latest.version, 3);
            assert_eq!(p.latest.draft.body, "Summarise {{text:long}}");
            assert_eq!(p.latest.message, "rolled back to version 1");
            let all = versions(c, "sum")?;
            assert_eq!(all.iter().map(|v| v.version).collect::<Vec<_>>(), [3, 2, 1]);
            for bad in ["", "two words", "/slash"] {
                assert_eq!(save(c, bad, draft("x"), "").unwrap_err().kind(), "invalid");
            }
            assert_eq!(save(c, "x", draft("  "), "").unwrap_err().kind(), "invalid");
            assert_eq!(
                save(c, "x", draft("{{a:colour}}"), "").unwrap_err().kind(),
                "invalid"
            );
            assert_eq!(rollback(c, "sum", 9).unwrap_err().kind(), "not_found");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn search_by_name_title_body_and_tag_sorted_by_use() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            save(
                c,
                "translate",
                Draft {
                    title: "Translate".into(),
                    body: "Into {{lang}}".into(),
                    tags: vec!["language".into()],
                    ..Default::default()
                },
                "",
            )?;
            let fix = save(
                c,
                "fix",
                Draft {
                    title: "Fix code".into(),
                    body: "Fix this bug".into(),
                    tags: vec!["code".into()],
                    ..Default::default()
                },
                "",
            )?;
            save(
                c,
                "poem",
                Draft {
                    title: "Poem".into(),
                    body: "A poem about {{topic}}".into(),
                    ..Default::default()
                },
                "",
            )?;
            let names = |v: Vec<Prompt>| v.into_iter().map(|p| p.name).collect::<Vec<_>>();
            assert_eq!(names(list(c, "CODE", Sort::Name)?), ["fix"]);
            assert_eq!(names(list(c, "poem", Sort::Name)?), ["poem"]);
            assert_eq!(names(list(c, "lang", Sort::Name)?), ["translate"]);
            mark_used(c, fix.latest.id)?;
            mark_used(c, fix.latest.id)?;
            assert_eq!(list(c, "", Sort::Uses)?[0].name, "fix");
            assert_eq!(get(c, "fix")?.use_count, 2);
            set_favourite(c, "poem", true)?;
            assert_eq!(list(c, "", Sort::Uses)?[0].name, "poem");
            delete(c, "poem")?;
            assert_eq!(get(c, "poem").unwrap_err().kind(), "not_found");
            Ok(())
        })
        .unwrap();
    }
}
