//! The checked values of the native format: names, bounded sizes, state words, the platform.
//!
//! Each rejects a bad value while serde reads it, so the error points at the value itself.
//! Strings that are only looked at are borrowed from the input, never copied.

use crate::diag::did_you_mean;
use crate::model::{CompactString, HostState, Platform, VmState};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// A non-empty name.
pub(super) struct Name(pub(super) CompactString);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Checked while borrowed, then kept inline (no allocation) when it fits.
        with_str(d, |s| {
            if s.trim().is_empty() {
                return Err("a name must not be empty".to_string());
            }
            Ok(Name(CompactString::from(s)))
        })
    }
}

/// Hands a string value to `f` as `&str`, borrowed from the input when it has no escapes, so
/// that values only looked at (state words, platform) are never copied into a `String`.
fn with_str<'de, D, T>(d: D, f: impl FnOnce(&str) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    struct Visit<F>(F);
    impl<'de, T, F: FnOnce(&str) -> Result<T, String>> de::Visitor<'de> for Visit<F> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
            (self.0)(s).map_err(E::custom)
        }
    }
    d.deserialize_str(Visit(f))
}

/// A whole number from 0 to `MAX`; negative and absurd values are rejected where they stand.
pub(super) struct Bounded<const MAX: u64>(pub(super) u64);

impl<'de, const MAX: u64> Deserialize<'de> for Bounded<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i128::deserialize(d)?;
        if n < 0 {
            return Err(de::Error::custom(format!(
                "{n} is negative; sizes are whole numbers from 0"
            )));
        }
        if n > MAX as i128 {
            return Err(de::Error::custom(format!(
                "{n} is more than any real machine has (at most {MAX})"
            )));
        }
        Ok(Bounded(n as u64))
    }
}

/// One of the contract's state words, with a did-you-mean when misspelled.
pub(super) struct Word<T>(pub(super) T);

pub(super) trait StateWord: Sized + Copy + 'static {
    const WORDS: &'static [&'static str];
    fn parse(s: &str) -> Option<Self>;
}

impl StateWord for VmState {
    const WORDS: &'static [&'static str] = &[
        "running",
        "off",
        "saved",
        "paused",
        "starting",
        "stopping",
        "migrating",
        "unknown",
    ];
    fn parse(s: &str) -> Option<Self> {
        VmState::parse(s)
    }
}

impl StateWord for HostState {
    const WORDS: &'static [&'static str] = &["up", "maintenance", "paused", "down"];
    fn parse(s: &str) -> Option<Self> {
        HostState::parse(s)
    }
}

impl<'de, T: StateWord> Deserialize<'de> for Word<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        with_str(d, |s| match T::parse(s) {
            Some(v) => Ok(Word(v)),
            None => {
                let hint = did_you_mean(s, T::WORDS.iter().copied())
                    .map(|b| format!(" (did you mean `{b}`?)"))
                    .unwrap_or_default();
                Err(format!(
                    "unknown state `{s}`{hint}; expected one of {}",
                    T::WORDS.join(", ")
                ))
            }
        })
    }
}

pub(super) struct RawPlatform(pub(super) Platform);

impl<'de> Deserialize<'de> for RawPlatform {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        with_str(d, |s| {
            let words: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
            Platform::parse(s).map(RawPlatform).ok_or_else(|| {
                format!(
                    "unknown platform `{s}`; expected one of {}",
                    words.join(", ")
                )
            })
        })
    }
}

/// A list read to its exact length. serde grows a list to room for four elements as soon as
/// it holds one; a VM's one or two disks, networks or tags would keep the room for four (at a
/// million VMs, a tenth of the memory a run needs).
pub(super) struct List<T>(pub(super) Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Visit<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                // Up to four on the stack, then one allocation of the exact size.
                let mut list = smallvec::SmallVec::<[T; 4]>::new();
                while let Some(item) = seq.next_element()? {
                    list.push(item);
                }
                let mut list = list.into_vec();
                list.shrink_to_fit();
                Ok(List(list))
            }
        }
        d.deserialize_seq(Visit(std::marker::PhantomData))
    }
}
