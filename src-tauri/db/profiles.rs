//! Provider profiles (base URL, default model). The key is not here: it lives in the keyring.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_ms;
use crate::error::{Error, Result};

pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    pub id: i64,
    pub name: String,
    /// `None`: not set by the user (then `OPENAI_BASE_URL`, then the OpenAI default apply).
    pub base_url: Option<String>,
    pub default_model: Option<String>,
    /// The origin the keyring key was saved for (`None`: saved before Parley recorded it).
    pub key_origin: Option<String>,
}

pub fn get_or_create(conn: &Connection, name: &str) -> Result<ProfileRow> {
    conn.execute(
        "INSERT INTO profiles(name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        params![name, now_ms()],
    )?;
    conn.query_row(
        "SELECT id, name, base_url, default_model, key_origin FROM profiles WHERE name = ?1",
        [name],
        |r| {
            Ok(ProfileRow {
                id: r.get(0)?,
                name: r.get(1)?,
                base_url: r.get(2)?,
                default_model: r.get(3)?,
                key_origin: r.get(4)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("profile {name}")))
}

pub fn update(
    conn: &Connection,
    name: &str,
    base_url: Option<&str>,
    default_model: Option<&str>,
) -> Result<ProfileRow> {
    get_or_create(conn, name)?;
    conn.execute(
        "UPDATE profiles SET base_url = ?2, default_model = ?3 WHERE name = ?1",
        params![name, base_url, default_model],
    )?;
    get_or_create(conn, name)
}

/// Records (or forgets, with `None`) the origin the stored key belongs to.
pub fn set_key_origin(conn: &Connection, name: &str, origin: Option<&str>) -> Result<()> {
    get_or_create(conn, name)?;
    conn.execute(
        "UPDATE profiles SET key_origin = ?2 WHERE name = ?1",
        params![name, origin],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn default_profile_is_created_once_and_updated() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let a = get_or_create(c, DEFAULT_PROFILE)?;
            let b = get_or_create(c, DEFAULT_PROFILE)?;
            assert_eq!(a.id, b.id);
            assert_eq!(a.base_url, None);
            let u = update(
                c,
                DEFAULT_PROFILE,
                Some("http://127.0.0.1:8080/v1"),
                Some("smollm2"),
            )?;
            assert_eq!(u.base_url.as_deref(), Some("http://127.0.0.1:8080/v1"));
            assert_eq!(u.default_model.as_deref(), Some("smollm2"));
            Ok(())
        })
        .unwrap();
    }
}
