//! Reading a key from the Secret Service in one pass (Linux; issue 15).
//!
//! The `keyring` crate reads an entry through `dbus-secret-service`, which opens a Diffie–Hellman
//! session first (so the secret never crosses the bus in clear) and then searches, one step after
//! the other: two 1024-bit exponentiations here, each with its own square-and-multiply over
//! `num-bigint` (a division per step, 2.6 ms each on this machine), two more in gnome-keyring, and
//! four D-Bus round trips — ~10 ms of every `parley ask` with a stored key. This reads the same
//! item with the same session algorithm (`dh-ietf1024-sha256-aes128-cbc-pkcs7`), but:
//! - the session is opened on a connection and a thread of its own (our key pair made while that
//!   connection is set up), while another connection searches for the item; `parley ask` starts
//!   it first thing ([`open_session_ahead`]), while the database is opened;
//! - the exponentiations are `num-bigint`'s own `modpow` (Montgomery: ~1.4 ms each here);
//! - the shared key is derived while the secret is being fetched (only its decryption needs it);
//! - the private key comes from the OS's random source (the crate's from `fastrand`).
//!
//! Measured (release, 21 alternated rounds against `curl -N` on the bench's stream, 2026-12-06): first token
//! with the key in the keyring +10.5 → +7.0 ms over curl; without a stored key +5.7 → +2.4 (the
//! crate's whole read no longer runs beside a miss). What is left is gnome-keyring's own side of
//! the session (~4 ms between our `OpenSession` and its answer).
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
use dbus::Path;
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

/// A session asked for before the first read knows which item it wants (`parley ask`: at start,
/// while the database is opened): taken by the next read.
static AHEAD: Mutex<Option<mpsc::Receiver<Option<Opened>>>> = Mutex::new(None);

/// Starts opening a session for the next read (see [`AHEAD`]).
pub(super) fn open_session_ahead() {
    if let Some(opening) = opening() {
        *AHEAD.lock().unwrap_or_else(|e| e.into_inner()) = Some(opening);
    }
}

/// The session opened on a connection and a thread of its own.
fn opening() -> Option<mpsc::Receiver<Option<Opened>>> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("keyring-session".into())
        .spawn(move || {
            let _ = tx.send(Opened::open());
        })
        .ok()?;
    Some(rx)
}

/// Reads the item the `keyring` crate would read for `(service, user)` with target `default`.
pub(super) fn read(service: &str, user: &str) -> Read {
    // The session is opened (or was, ahead) on a connection and a thread of its own while this
    // one connects and searches; a read that ends without it (nothing stored, something for the
    // crate) does not wait for it, and its connection closes the session when it goes.
    let ahead = AHEAD.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(session) = ahead.or_else(opening) else {
        return Read::Ask;
    };
    read_with(service, user, move || session.recv().ok().flatten()).unwrap_or(Read::Ask)
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
    fn open() -> Option<Opened> {
        // The key pair is made while the bus is connected.
        let (pair, bus) = std::thread::scope(|s| {
            let pair = s.spawn(KeyPair::generate);
            let bus = Connection::new_session().ok();
            (pair.join().ok().flatten(), bus)
        });
        let (pair, bus) = (pair?, bus?);
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

fn read_with(service: &str, user: &str, session: impl FnOnce() -> Option<Opened>) -> Option<Read> {
    let bus = Connection::new_session().ok()?;
    let secrets = bus.with_proxy(DESTINATION, SERVICE_PATH, TIMEOUT);
    let mut attributes = HashMap::from([("service", service), ("username", user)]);
    let everywhere = search(&secrets, &attributes)?;
    if everywhere.is_empty() {
        crate::trace("keyring: nothing stored (answered by a search, no session)");
        return Some(Read::Nothing);
    }
    attributes.insert("target", "default");
    let (unlocked, locked) = search_split(&secrets, &attributes)?;
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
        let key = shared.join().ok()??;
        let ((_, iv, mut value, _),) = fetched?;
        let text = decrypt(&key, &iv, &mut value);
        value.zeroize();
        text
    });
    let closed: Result<(), _> =
        bus.with_proxy(DESTINATION, session, TIMEOUT)
            .method_call(SESSION, "Close", ());
    drop(closed);
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

pub(super) struct KeyPair {
    private: BigUint,
    public: BigUint,
}

impl KeyPair {
    /// A fresh private key of 1024 bits from the OS's random source; `None` if it has none.
    pub(super) fn generate() -> Option<KeyPair> {
        let mut bytes = [0u8; 128];
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
