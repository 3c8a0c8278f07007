//! Terraform resource addresses: `module.net["a"].aws_subnet.app[0]`, `data.aws_iam_policy_document.x`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Managed resources are owned infrastructure; data sources are reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Managed,
    Data,
}

/// An instance key: an integer for `count`, a string for `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndexKey {
    Int(i64),
    Str(String),
}

impl fmt::Display for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexKey::Int(i) => write!(f, "[{i}]"),
            IndexKey::Str(s) => {
                f.write_str("[\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"]")
            }
        }
    }
}

/// A resource instance address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// Module instance path (`module.a[0].module.b`), empty for the root module.
    pub module: std::sync::Arc<str>,
    pub mode: Mode,
    pub type_: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
    pub index: Option<IndexKey>,
}

impl Address {
    /// The address without module, as a module-relative resource address.
    pub fn resource(&self) -> String {
        let mut s = String::new();
        if self.mode == Mode::Data {
            s.push_str("data.");
        }
        s.push_str(&self.type_);
        s.push('.');
        s.push_str(&self.name);
        if let Some(k) = &self.index {
            s.push_str(&k.to_string());
        }
        s
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_empty() {
            write!(f, "{}.", self.module)?;
        }
        f.write_str(&self.resource())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_terraform() {
        let a = Address {
            module: "module.each[\"a\"]".into(),
            mode: Mode::Managed,
            type_: "aws_s3_bucket".into(),
            name: "data".into(),
            index: Some(IndexKey::Str("raw".into())),
        };
        assert_eq!(a.to_string(), "module.each[\"a\"].aws_s3_bucket.data[\"raw\"]");
        let d = Address {
            module: "".into(),
            mode: Mode::Data,
            type_: "aws_vpc".into(),
            name: "x".into(),
            index: Some(IndexKey::Int(0)),
        };
        assert_eq!(d.to_string(), "data.aws_vpc.x[0]");
    }
}
