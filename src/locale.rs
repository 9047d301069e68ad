//! The bot's own words (buttons, prompts, notices) in each language it speaks, from the TOML files
//! in `src/locales/`, embedded at build time. A missing key falls back to English.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::OnceLock;

static EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every other locale falls back to.
pub const FALLBACK: &str = "en";

/// Every language's words, by language code and then by dotted key (`answer.solved`).
#[derive(Debug)]
pub struct Locales {
    langs: BTreeMap<String, HashMap<String, String>>,
}

impl Locales {
    /// The locales built into the binary. They are checked by the test suite, so a broken file
    /// never ships; should one slip through anyway, its language is left out and English serves.
    pub fn embedded() -> &'static Locales {
        static LOCALES: OnceLock<Locales> = OnceLock::new();
        LOCALES.get_or_init(|| {
            let mut langs = BTreeMap::new();
            for (lang, text) in EMBEDDED {
                match parse(text) {
                    Ok(words) => {
                        langs.insert(lang.to_string(), words);
                    }
                    Err(e) => tracing::error!(lang, error = %e, "locale file is broken"),
                }
            }
            Locales { langs }
        })
    }

    /// Locales from `(language, TOML text)` pairs; the first error names the language.
    pub fn parse_all(files: &[(&str, &str)]) -> Result<Locales, String> {
        let mut langs = BTreeMap::new();
        for (lang, text) in files {
            langs.insert(
                lang.to_string(),
                parse(text).map_err(|e| format!("{lang}: {e}"))?,
            );
        }
        Ok(Locales { langs })
    }

    /// The embedded files as they are, for checks.
    pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
        EMBEDDED
    }

    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.langs.keys().map(String::as_str)
    }

    /// The keys of one language.
    pub fn keys(&self, lang: &str) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .langs
            .get(lang)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    /// The words for `key` in `lang`, else in English, else the key itself (so a missing entry
    /// shows up as text instead of failing a reply).
    pub fn get<'a>(&'a self, lang: &str, key: &'a str) -> &'a str {
        self.langs
            .get(lang)
            .and_then(|m| m.get(key))
            .or_else(|| self.langs.get(FALLBACK).and_then(|m| m.get(key)))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// [`Locales::get`] with `{name}` placeholders filled in.
    pub fn fill(&self, lang: &str, key: &str, args: &[(&str, &(dyn Display + Sync))]) -> String {
        let mut text = self.get(lang, key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }
}

/// The `{placeholders}` a text uses, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut HashMap<String, String>,
) -> Result<(), String> {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(format!("`{key}` must be text or a table of texts")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_exactly_the_english_keys_and_placeholders() {
        let locales = Locales::parse_all(Locales::embedded_files()).expect("locale files parse");
        let english = locales.keys(FALLBACK);
        assert!(english.len() > 20, "English has {} keys", english.len());
        let langs: Vec<&str> = locales.languages().collect();
        for lang in ["en", "fa", "ar", "hy"] {
            assert!(langs.contains(&lang), "no locale file for {lang}");
        }
        for lang in langs {
            assert_eq!(locales.keys(lang), english, "{lang} keys differ from en");
            for key in &english {
                let (ours, theirs) = (locales.get(FALLBACK, key), locales.get(lang, key));
                assert_eq!(placeholders(ours), placeholders(theirs), "{lang} {key}");
                assert!(!theirs.trim().is_empty(), "{lang} {key} is empty");
            }
        }
    }

    #[test]
    fn missing_words_fall_back_to_english_then_to_the_key() {
        let l = Locales::parse_all(&[
            ("en", "[a]\nhello = \"Hello {name}\"\nbye = \"Bye\""),
            ("fa", "[a]\nhello = \"سلام {name}\""),
        ])
        .unwrap();
        assert_eq!(l.fill("fa", "a.hello", &[("name", &"Ani")]), "سلام Ani");
        assert_eq!(l.get("fa", "a.bye"), "Bye");
        assert_eq!(l.get("xx", "a.bye"), "Bye");
        assert_eq!(l.get("fa", "a.nothing"), "a.nothing");
        assert!(
            Locales::parse_all(&[("en", "a = 1")])
                .unwrap_err()
                .contains("en:")
        );
    }
}
