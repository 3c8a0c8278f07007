//! Key globs: `*` and `?` within one path segment, `**` across segments, `[...]` classes.

/// Whether a key pattern holds glob characters.
pub fn is_glob(key: &str) -> bool {
    key.contains(['*', '?', '['])
}

/// The literal prefix to list under: everything before the segment holding the first glob
/// character (without the trailing `/`).
pub fn list_prefix(pattern: &str) -> &str {
    let first = pattern.find(['*', '?', '[']).unwrap_or(pattern.len());
    match pattern[..first].rfind('/') {
        Some(i) => &pattern[..i],
        None => "",
    }
}

/// Compiles a key pattern into an anchored regular expression.
pub fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => match chars[i..].iter().position(|c| *c == ']') {
                Some(end) if end > 1 => {
                    let class: String = chars[i + 1..i + end].iter().collect();
                    let class = class.strip_prefix('!').map_or(class.clone(), |c| format!("^{c}"));
                    re.push('[');
                    re.push_str(&class.replace('\\', "\\\\"));
                    re.push(']');
                    i += end + 1;
                    continue;
                }
                _ => re.push_str("\\["),
            },
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    regex::Regex::new(&re)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shells() {
        let g = compile("**/*.tfstate").unwrap();
        assert!(g.is_match("terraform.tfstate"));
        assert!(g.is_match("env:/dev/net/terraform.tfstate"));
        assert!(!g.is_match("net/terraform.tfstate.backup"));
        let g = compile("envs/*/terraform.tfstate").unwrap();
        assert!(g.is_match("envs/prod/terraform.tfstate"));
        assert!(!g.is_match("envs/prod/x/terraform.tfstate"));
        let g = compile("s[0-9]?.tfstate").unwrap();
        assert!(g.is_match("s1a.tfstate"));
        assert!(!g.is_match("sxa.tfstate"));
        let g = compile("a.b+c").unwrap();
        assert!(g.is_match("a.b+c") && !g.is_match("aXb+c"));
    }

    #[test]
    fn prefix_stops_before_the_glob_segment() {
        assert_eq!(list_prefix("envs/*/terraform.tfstate"), "envs");
        assert_eq!(list_prefix("**/*.tfstate"), "");
        assert_eq!(list_prefix("a/b/c*.tfstate"), "a/b");
        assert!(is_glob("a/*") && !is_glob("env:/dev/k"));
    }
}
