//! Host names as the platforms compare them: ASCII case does not matter (`HV01` is `hv01`).
//!
//! [`HostKey`] hashes and compares a borrowed name case-insensitively, so maps of hosts are
//! built and searched without a lowercase copy of every name looked up; [`HostMap`] is such a
//! map with a hasher cheap for short names.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// A host name borrowed, hashed and compared without regard to ASCII case.
#[derive(Debug, Clone, Copy)]
pub struct HostKey<'a>(pub &'a str);

impl PartialEq for HostKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for HostKey<'_> {}

impl Hash for HostKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
        // As `str` does: "ab" + "c" and "a" + "bc" must differ inside a tuple.
        state.write_u8(0xff);
    }
}

/// FNV-1a: a few cycles a byte for names of a dozen bytes, where SipHash's setup dominates.
/// Host names come from the operator's own export, so flooding the map is not a threat here.
#[derive(Debug, Clone, Copy)]
pub struct NameHasher(u64);

impl Default for NameHasher {
    fn default() -> Self {
        NameHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by host name, case-insensitively.
pub type HostMap<'a, V> = HashMap<HostKey<'a>, V, BuildHasherDefault<NameHasher>>;

/// Host positions by name, case-insensitively, for joining a million VMs to their hosts.
///
/// A [`HostMap`] keeps borrowed names, so every lookup follows a pointer to the host's name
/// to compare it: a cache miss per VM once the hosts outgrow the cache (25,000 hosts at a
/// million VMs). Names of up to 31 bytes (nearly all, FQDNs included) are kept here inline
/// and folded to lowercase, so a lookup compares within the table; longer ones go to a
/// [`HostMap`].
#[derive(Default, Clone)]
pub(crate) struct HostPositions<'a> {
    short: HashMap<Folded, u32, BuildHasherDefault<NameHasher>>,
    long: HostMap<'a, u32>,
}

/// A name of up to 31 bytes, lowercased, zero-padded.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Folded([u8; 32]);

impl Folded {
    fn of(name: &str) -> Option<Folded> {
        let bytes = name.as_bytes();
        if bytes.len() > 31 {
            return None;
        }
        let mut key = [0u8; 32];
        // The length goes in too: "a" and "a\0" stay apart.
        key[0] = bytes.len() as u8;
        for (k, b) in key[1..].iter_mut().zip(bytes) {
            *k = b.to_ascii_lowercase();
        }
        Some(Folded(key))
    }
}

impl<'a> HostPositions<'a> {
    /// Adds `name` at `pos` unless a name equal but for case is there already.
    pub(crate) fn insert(&mut self, name: &'a str, pos: u32) {
        match Folded::of(name) {
            Some(key) => self.short.entry(key).or_insert(pos),
            None => self.long.entry(HostKey(name)).or_insert(pos),
        };
    }

    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        match Folded::of(name) {
            Some(key) => self.short.get(&key).copied(),
            None => self.long.get(&HostKey(name)).copied(),
        }
    }
}

/// Orders names as their lowercase forms would order, without making them.
pub fn cmp_folded(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|b| b.to_ascii_lowercase())
        .cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_ascii_case_only() {
        let mut map = HostMap::default();
        map.insert(HostKey("HV01.Contoso.local"), 1);
        assert_eq!(map.get(&HostKey("hv01.contoso.LOCAL")), Some(&1));
        assert_eq!(map.get(&HostKey("hv01.contoso.loca")), None);
        assert_eq!(map.get(&HostKey("HV0l.contoso.local")), None);
    }

    #[test]
    fn positions_ignore_ascii_case_only_at_any_length() {
        let long = "a-host-name-that-is-longer-than-thirty-one-bytes.example";
        let mut map = HostPositions::default();
        map.insert("HV01.Contoso.local", 1);
        map.insert("hv01.contoso.LOCAL", 2);
        map.insert(long, 3);
        map.insert("a", 4);
        assert_eq!(map.get("hv01.CONTOSO.local"), Some(1), "the first stays");
        assert_eq!(map.get(&long.to_uppercase()), Some(3));
        assert_eq!(map.get("a"), Some(4));
        assert_eq!(map.get("a\0"), None);
        assert_eq!(map.get("A"), Some(4));
        assert_eq!(map.get("HV0l.contoso.local"), None);
        assert_eq!(map.get(&"x".repeat(31)), None);
    }

    #[test]
    fn folded_order_is_the_lowercase_order() {
        let names = ["b", "A", "a", "B1", "b0", "Zed", "_x", "ä"];
        for a in names {
            for b in names {
                let expected = a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase());
                assert_eq!(cmp_folded(a, b), expected, "{a} vs {b}");
            }
        }
    }
}
