//! Reading a key from the Secret Service in one pass (Linux; issue 15).
//!
//! The `keyring` crate reads an entry through `dbus-secret-service`, which opens a Diffie–Hellman
//! session first (so the secret never crosses the bus in clear) and then searches, one step after
//! the other: two 1024-bit exponentiations here, each with its own square-and-multiply over
//! `num-bigint` (a division per step, 2.6 ms each on this machine), two more in gnome-keyring, and
//! four D-Bus round trips — ~10 ms of every `parley ask` with a stored key. This reads the same
//! item with the same session algorithm (`dh-ietf1024-sha256-aes128-cbc-pkcs7`), but:
//! - the session is opened on a connection and a thread of its own (our key pair made while that
//!   connection is set up), while another connection searches for the item; `parley ask` makes
//!   both connections and the key pair first thing ([`warm_up`]) and opens the session as soon
//!   as the profile's row says a key was stored ([`open_session_ahead`]), while the database opens;
//! - the exponentiations are `num-bigint`'s own `modpow` (Montgomery) with a 256-bit private
//!   exponent (0.16 ms each here, warm; 1,024 bits took 0.62, ~1.4 on a cold first run);
//! - gnome-keyring answers one call at a time and its side of `OpenSession` takes ~3–4 ms, so
//!   with a session opened ahead one search is made, not two (the exact one), and the session's
//!   `Close` is sent without waiting for its answer;
//! - the shared key is derived while the secret is being fetched (only its decryption needs it);
//! - the private key comes from the OS's random source (the crate's from `fastrand`).
//!
//! Measured (release, 31 alternated rounds against `curl -N`, 200-token streams): first token
//! with the key in the keyring +11.5 → +9.3 ms over curl (2026-12-06), then +7.7 → +4.8 with the
//! short exponent, the earlier hint, the second connection, one search and the unawaited `Close`
//! (2026-12-07); without a stored key +5.5 → +3.9 → +2.7 (the crate's whole read no longer runs
//! beside a miss). Opening the session at start without waiting for the row gave +8.1 and +4.5
//! (before the later changes): a miss then pays gnome-keyring's side of a session it does not
//! need (~4 ms of CPU, on a two-core machine beside the database's opening).
//!
//! Only the plain case is read here: exactly one unlocked item with the crate's own attributes
//! (`target` `default`, `service`, `username`). Anything else — no such item but another with the
//! service and user (an older keyring version, another tool), several, a locked one (the crate
//! asks the service to unlock it), a secret that is not UTF-8, any failure — is left to the crate,
//! so what a read answers is the crate's answer. A search without the `target` that finds nothing
//! is a miss the crate would report too (its search is narrower): answered at once, no session.

use std::collections::HashMap;
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use dbus::arg::{cast, RefArg, Variant};
use dbus::blocking::{Connection, Proxy};
use dbus::{Message, Path};
use num_bigint::BigUint;
use zeroize::Zeroize;

const DESTINATION: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";
const SESSION: &str = "org.freedesktop.Secret.Session";
const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";
const TIMEOUT: Duration = Duration::from_secs(5);

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Read {
    /// The one unlocked item's secret.
    Secret(String),
    /// No item of any collection, locked or not, with this service and user.
    Nothing,
    /// Something this path does not handle: ask the crate.
    Ask,
}

/// A session prepared for the next read before it knows which item it wants: `parley ask`
/// connects and makes a key pair at start ([`warm_up`]), and opens the session once the profile's
/// row says a key was stored ([`open_session_ahead`]), while the database is opened.
struct Ahead {
    /// Tells a warmed-up session to open; `None` once told (or opened without warming up).
    go: Option<mpsc::SyncSender<()>>,
    opened: mpsc::Receiver<Option<Opened>>,
    /// A second connection, made at warm-up beside the session's, for the read's searches (a
    /// connection made when the read begins took 0.5–3 ms, beside the database's opening).
    searcher: Option<mpsc::Receiver<Connection>>,
}

static AHEAD: Mutex<Option<Ahead>> = Mutex::new(None);

fn ahead() -> std::sync::MutexGuard<'static, Option<Ahead>> {
    AHEAD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Connects and makes a key pair for the next read; the session itself waits for
/// [`open_session_ahead`] (opened beside a read that finds nothing, it would only take CPU: the
/// service's side of it is ~4 ms).
pub(super) fn warm_up() {
    let (go, told) = mpsc::sync_channel(1);
    let Some(opened) = spawn_open(Some(told)) else {
        return;
    };
    let (connected, searcher) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("keyring-connect".into())
        .spawn(move || {
            if let Ok(bus) = Connection::new_session() {
                let _ = connected.send(bus);
            }
        });
    *ahead() = Some(Ahead {
        go: Some(go),
        opened,
        searcher: spawned.ok().map(|_| searcher),
    });
}

/// A key is likely stored: opens the session for the next read now (on the warmed-up connection
/// if there is one).
pub(super) fn open_session_ahead() {
    let mut slot = ahead();
    match slot.as_mut() {
        Some(Ahead { go, .. }) => {
            if let Some(go) = go.take() {
                let _ = go.send(());
            }
        }
        None => {
            if let Some(opened) = spawn_open(None) {
                *slot = Some(Ahead {
                    go: None,
                    opened,
                    searcher: None,
                });
            }
        }
    }
}

/// [`Opened::open`] on a thread of its own.
fn spawn_open(told: Option<mpsc::Receiver<()>>) -> Option<mpsc::Receiver<Option<Opened>>> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("keyring-session".into())
        .spawn(move || {
            let _ = tx.send(Opened::open(told));
        })
        .ok()?;
    Some(rx)
}

/// Reads the item the `keyring` crate would read for `(service, user)` with target `default`.
pub(super) fn read(service: &str, user: &str) -> Read {
    // A session opened ahead is used (this thread searches meanwhile, on the connection made at
    // warm-up if there is one); one warmed up but never told to open is dropped, which ends its
    // thread. Without one, the session is opened once the search has found the item. A read that
    // ends without the session (nothing stored, something for the crate) does not wait for it;
    // its connection closes it when it goes.
    let (searcher, ahead) = match ahead().take() {
        Some(a) => (
            a.searcher,
            Some((a.opened, a.go)).filter(|(_, go)| go.is_none()),
        ),
        None => (None, None),
    };
    let bus = searcher
        .and_then(|c| c.recv().ok())
        .or_else(|| Connection::new_session().ok());
    let likely = ahead.is_some();
    let session = move || match ahead {
        Some((opened, _)) => opened.recv().ok().flatten(),
        None => Opened::open(None),
    };
    match bus {
        Some(bus) => read_with(&bus, service, user, likely, session).unwrap_or(Read::Ask),
        None => Read::Ask,
    }
}

/// A Diffie–Hellman session with the Secret Service: the connection it belongs to (the service
/// answers only its owner), its path, our key pair and the service's public key.
struct Opened {
    bus: Connection,
    session: Path<'static>,
    pair: KeyPair,
    theirs: Vec<u8>,
}

impl Opened {
    /// Connects (our key pair made meanwhile) and, once `told` (if given), opens the session.
    fn open(told: Option<mpsc::Receiver<()>>) -> Option<Opened> {
        let (pair, bus) = std::thread::scope(|s| {
            let pair = s.spawn(KeyPair::generate);
            let bus = Connection::new_session().ok();
            (pair.join().ok().flatten(), bus)
        });
        let (pair, bus) = (pair?, bus?);
        if let Some(told) = told {
            told.recv_timeout(Duration::from_secs(30)).ok()?;
        }
        let secrets = bus.with_proxy(DESTINATION, SERVICE_PATH, TIMEOUT);
        let (output, session): (Variant<Box<dyn RefArg>>, Path<'static>) = secrets
            .method_call(
                SERVICE,
                "OpenSession",
                (ALGORITHM, Variant(pair.public_bytes())),
            )
            .ok()?;
        let theirs = cast::<Vec<u8>>(&output.0)?.clone();
        crate::trace("keyring: session open");
        Some(Opened {
            bus,
            session,
            pair,
            theirs,
        })
    }
}

/// Searches and reads on `bus`. With `likely` (a session was opened ahead: a key was stored
/// through Parley), the exact search comes first and, finding the one unlocked item, is the only
/// one: gnome-keyring answers one call at a time, and each search waits behind the session's ~4 ms.
fn read_with(
    bus: &Connection,
    service: &str,
    user: &str,
    likely: bool,
    session: impl FnOnce() -> Option<Opened>,
) -> Option<Read> {
    let secrets = bus.with_proxy(DESTINATION, SERVICE_PATH, TIMEOUT);
    let everywhere = HashMap::from([("service", service), ("username", user)]);
    let mut exact = everywhere.clone();
    exact.insert("target", "default");
    let mut found = if likely {
        Some(search_split(&secrets, &exact)?)
    } else {
        None
    };
    if !matches!(&found, Some((unlocked, locked)) if unlocked.len() == 1 && locked.is_empty()) {
        if search(&secrets, &everywhere)?.is_empty() {
            crate::trace("keyring: nothing stored (answered by a search, no session)");
            return Some(Read::Nothing);
        }
        if found.is_none() {
            found = Some(search_split(&secrets, &exact)?);
        }
    }
    let (unlocked, locked) = found?;
    crate::trace("keyring: searched");
    let [item] = unlocked.as_slice() else {
        return Some(Read::Ask);
    };
    if !locked.is_empty() {
        return Some(Read::Ask);
    }
    let Opened {
        bus,
        session,
        pair,
        theirs,
    } = session()?;
    // The shared key is derived while the secret is fetched.
    let text = std::thread::scope(|s| {
        let shared = s.spawn(|| pair.shared_key(&theirs));
        let item = bus.with_proxy(DESTINATION, item.clone(), TIMEOUT);
        let fetched: Option<(Secret,)> =
            item.method_call(ITEM, "GetSecret", (session.clone(),)).ok();
        let mut key = shared.join().ok()??;
        let text = fetched.and_then(|((_, iv, mut value, _),)| {
            let text = decrypt(&key, &iv, &mut value);
            value.zeroize();
            text
        });
        key.zeroize();
        text
    });
    // Closed without waiting for the answer (a round trip): the bytes are on their way when the
    // connection goes, and the service would end the session with its connection anyway.
    if let Ok(mut close) = Message::new_method_call(DESTINATION, &session, SESSION, "Close") {
        close.set_no_reply(true);
        let _ = bus.channel().send(close);
        bus.channel().flush();
    }
    crate::trace("keyring: read through one session");
    Some(text.map_or(Read::Ask, Read::Secret))
}

/// The Secret Service's `Secret` struct: session, parameters (the IV), value, content type.
type Secret = (Path<'static>, Vec<u8>, Vec<u8>, String);

/// Every item, locked or not, with these attributes.
fn search(
    secrets: &Proxy<'_, &Connection>,
    attributes: &HashMap<&str, &str>,
) -> Option<Vec<Path<'static>>> {
    let (mut unlocked, locked) = search_split(secrets, attributes)?;
    unlocked.extend(locked);
    Some(unlocked)
}

fn search_split(
    secrets: &Proxy<'_, &Connection>,
    attributes: &HashMap<&str, &str>,
) -> Option<(Vec<Path<'static>>, Vec<Path<'static>>)> {
    secrets
        .method_call(SERVICE, "SearchItems", (attributes.clone(),))
        .ok()
}

/// AES-128-CBC with PKCS#7 padding, as the session algorithm says; `None` if it does not decrypt
/// or is not UTF-8 (then the crate reads it and says why).
fn decrypt(key: &[u8; 16], iv: &[u8], value: &mut [u8]) -> Option<String> {
    use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
    let decryptor = cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv).ok()?;
    let plain = decryptor.decrypt_padded_mut::<Pkcs7>(value).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

/// RFC 2409's Second Oakley Group (1024 bits), generator 2: the group the session algorithm names.
const PRIME: [u8; 128] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
    0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
    0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// The private exponent's length (see [`KeyPair::generate`]).
const PRIVATE_BYTES: usize = 32;

pub(super) struct KeyPair {
    private: BigUint,
    public: BigUint,
}

impl KeyPair {
    /// A fresh private key from the OS's random source; `None` if it has none.
    ///
    /// 256 bits, not the group's 1,024: the prime is a safe prime (p = 2q + 1), so an exponent
    /// of twice the security strength is enough (RFC 7919 §5.2, NIST SP 800-56A), and this
    /// group offers ~80 bits. Each exponentiation costs a quarter (0.62 → 0.16 ms warm here, more
    /// on the first, cold run), and two of them are on a keyed read's path.
    pub(super) fn generate() -> Option<KeyPair> {
        let mut bytes = [0u8; PRIVATE_BYTES];
        getrandom::getrandom(&mut bytes).ok()?;
        let private = BigUint::from_bytes_be(&bytes);
        bytes.zeroize();
        let public = BigUint::from(2u32).modpow(&private, &prime());
        Some(KeyPair { private, public })
    }

    fn public_bytes(&self) -> Vec<u8> {
        self.public.to_bytes_be()
    }

    /// The AES key both sides derive: HKDF-SHA256 (no salt, no info) of the shared secret as 128
    /// big-endian bytes. `None` for a public key outside 2..p-2 (a hostile or broken peer).
    pub(super) fn shared_key(&self, theirs: &[u8]) -> Option<[u8; 16]> {
        let p = prime();
        let theirs = BigUint::from_bytes_be(theirs);
        let one = BigUint::from(1u32);
        if theirs <= one || theirs >= &p - &one {
            return None;
        }
        let shared = theirs.modpow(&self.private, &p).to_bytes_be();
        let mut padded = [0u8; 128];
        padded[128 - shared.len()..].copy_from_slice(&shared);
        let mut key = [0u8; 16];
        let expanded = hkdf::Hkdf::<sha2::Sha256>::new(None, &padded).expand(&[], &mut key);
        padded.zeroize();
        expanded.ok()?;
        Some(key)
    }
}

fn prime() -> BigUint {
    BigUint::from_bytes_be(&PRIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_derive_the_same_key_and_it_decrypts_what_the_other_encrypted() {
        use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
        let ours = KeyPair::generate().unwrap();
        let theirs = KeyPair::generate().unwrap();
        let key = ours.shared_key(&theirs.public_bytes()).unwrap();
        assert_eq!(Some(key), theirs.shared_key(&ours.public_bytes()));
        assert_ne!(ours.public_bytes(), theirs.public_bytes());
        // A short private exponent, a full-size public key.
        assert!(ours.private.bits() <= 8 * PRIVATE_BYTES as u64);
        assert!(ours.public.bits() > 1000);
        // What the service does with the secret: AES-128-CBC, PKCS#7, a random IV.
        let iv = [7u8; 16];
        let secret = "{\"parley\":1,\"key\":\"sk-密钥\"}";
        let mut encrypted = cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .unwrap()
            .encrypt_padded_vec_mut::<Pkcs7>(secret.as_bytes());
        assert_eq!(
            decrypt(&key, &iv, &mut encrypted.clone()).as_deref(),
            Some(secret)
        );
        // A wrong key or a damaged text is not a secret (the crate then reads and says why).
        let other = KeyPair::generate()
            .unwrap()
            .shared_key(&theirs.public_bytes())
            .unwrap();
        assert_ne!(
            decrypt(&other, &iv, &mut encrypted.clone()).as_deref(),
            Some(secret)
        );
        encrypted.truncate(5);
        assert_eq!(decrypt(&key, &iv, &mut encrypted), None);
    }

    #[test]
    fn a_public_key_outside_the_group_is_refused() {
        let ours = KeyPair::generate().unwrap();
        let p = prime();
        for bad in [
            BigUint::from(0u32),
            BigUint::from(1u32),
            &p - 1u32,
            p.clone(),
            &p + 5u32,
        ] {
            assert_eq!(ours.shared_key(&bad.to_bytes_be()), None);
        }
        assert!(ours.shared_key(&[2]).is_some());
    }
}
