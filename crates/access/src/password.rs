//! Passwords: the policy a new password must meet, and argon2id hashing.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// Passwords that lists of leaked passwords put at the top, in their common variants; a
/// password equal to one (ignoring case) or made of one plus digits is refused.
const COMMON: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "admin",
    "welcome",
    "passw0rd",
    "p@ssw0rd",
    "password1",
    "qwerty123",
    "qwe123",
    "1q2w3e4r",
    "1q2w3e",
    "a123456",
    "a123456789",
    "aa123456",
    "abc123456",
    "woaini",
    "woaini1314",
    "5201314",
    "1314520",
    "520520",
    "88888888",
    "888888",
    "66666666",
    "qq123456",
    "iloveyou1",
    "administrator",
    "root",
    "changeme",
    "default",
    "guest",
    "healthplan",
    "demo",
    "test",
    "test123",
    "secret",
    "letmein1",
    "welcome1",
    "admin123",
    "admin888",
    "abcdefg",
    "abcdef",
    "abcd1234",
    "asdf1234",
    "asdfghjkl",
    "qwertyui",
    "1qazxsw2",
    "zaq12wsx",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "147258369",
    "123654",
    "123abc",
    "aini1314",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("密码至少需要{MIN_LENGTH}个字符 / a password needs at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("密码过于常见，请换一个 / this password is too common; choose another")]
    Common,
    #[error("密码不能包含用户名 / the password must not contain the user name")]
    ContainsUsername,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Checks a new password against the policy.
pub fn check_policy(password: &str, username: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let lower = password.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#.".contains(c));
    if COMMON.iter().any(|c| lower == *c || stem == *c)
        || lower
            .chars()
            .all(|c| c == lower.chars().next().unwrap_or(' '))
    {
        return Err(PasswordError::Common);
    }
    let user = username.trim().to_lowercase();
    if user.len() >= 3 && lower.contains(&user) {
        return Err(PasswordError::ContainsUsername);
    }
    Ok(())
}

/// Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash (an unreadable hash matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_policy("short", "bob"), Err(PasswordError::TooShort));
        for common in [
            "password123",
            "Qwerty123456",
            "woaini1314",
            "1234567890",
            "aaaaaaaaaaaa",
        ] {
            assert_eq!(
                check_policy(common, "bob"),
                Err(PasswordError::Common),
                "{common}"
            );
        }
        assert_eq!(
            check_policy("alice-is-great", "alice"),
            Err(PasswordError::ContainsUsername)
        );
        assert!(check_policy("健康深圳行动2030年", "alice").is_ok());
        assert!(check_policy("correct horse battery", "alice").is_ok());
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("x", "not a hash"));
    }
}
