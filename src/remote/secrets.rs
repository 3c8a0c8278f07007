//! Secrets met while fetching (keys, tokens, passwords, SAS signatures) are registered here,
//! and every message this module emits is passed through [`redact`]: a cloud's error text
//! may echo a request, and it must never carry a credential out.

use std::sync::{Mutex, PoisonError};

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a secret so that [`redact`] hides it. Very short values are ignored (they
/// would mangle ordinary words and are not credentials).
pub fn register(secret: &str) {
    let s = secret.trim();
    if s.len() < 4 {
        return;
    }
    let mut all = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    if !all.iter().any(|x| x == s) {
        all.push(s.to_owned());
        // Longest first, so a secret that contains another is hidden whole.
        all.sort_by_key(|x| std::cmp::Reverse(x.len()));
    }
}

/// The text with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let all = SECRETS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for s in all.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_hidden() {
        register("AKIAEXAMPLEKEY123");
        register("ab");
        assert_eq!(redact("key AKIAEXAMPLEKEY123 denied ab"), "key *** denied ab");
    }
}
