//! Password hashing with Argon2id at OWASP's parameters (19 MiB of memory, 2 passes, 1 lane),
//! stored as PHC strings; random passwords and session tokens.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted (hashing cost grows with it; no one types more).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Too long.
    #[error("a password may have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// Hashing failed (never for valid parameters).
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new password's length.
///
/// # Errors
/// [`PasswordError::TooShort`] or [`PasswordError::TooLong`].
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordError::TooLong)
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(PasswordError::TooShort)
    } else {
        Ok(())
    }
}

/// Hashes a new password (after [`check_new`]) with a random salt: a PHC string
/// `$argon2id$v=19$m=19456,t=2,p=1$…`. Takes tens of milliseconds: call it off the async
/// workers.
///
/// # Errors
/// [`PasswordError`] when the password is unusable.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_new(password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches a stored PHC hash. Unreadable hashes and over-long passwords
/// match nothing. Costs the same as a real check either way when `stored` is `None` (an
/// unknown user): the password is checked against a hash of a random password, so that
/// unknown names and wrong passwords take the same time.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash(&generate()).unwrap_or_default());
    let candidate = if password.len() > MAX_PASSWORD_BYTES {
        ""
    } else {
        password
    };
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        // Spend the time anyway.
        if let Ok(d) = PasswordHash::new(dummy) {
            let _ = argon2().verify_password(candidate.as_bytes(), &d);
        }
        return false;
    };
    let ok = argon2()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    ok && real && password.len() <= MAX_PASSWORD_BYTES
}

/// A random password of 20 characters from letters and digits that cannot be mistaken for
/// each other (no 0/O, 1/l/I), from the operating system's random source.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = OsRng;
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A new session token (256 random bits, URL-safe base64 without padding) and its SHA-256,
/// which is all the store keeps.
pub fn new_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill(&mut bytes);
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 of a token, as the store keys sessions.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_at_owasp_parameters_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Some(&h), "correct horse battery"));
        assert!(!verify(Some(&h), "correct horse batterY"));
        assert!(!verify(None, "correct horse battery"));
        assert!(!verify(Some("not a hash"), "correct horse battery"));
        // Two hashes of one password differ (random salt).
        assert_ne!(h, hash("correct horse battery").unwrap());
    }

    #[test]
    fn weak_and_huge_passwords_are_refused() {
        assert_eq!(hash("short"), Err(PasswordError::TooShort));
        assert_eq!(hash(&"x".repeat(2000)), Err(PasswordError::TooLong));
    }

    #[test]
    fn generated_passwords_and_tokens_are_random() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
        assert!(check_new(&a).is_ok());
        let (t, h) = new_token();
        assert_eq!(t.len(), 43);
        assert_eq!(token_hash(&t), h);
        assert_ne!(new_token().0, t);
    }
}
